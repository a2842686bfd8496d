"""The interface every Brian2 microcircuit follows, and what the co-simulation needs from it.

A circuit file (``circuits/<name>.py``) defines one subclass of :class:`Circuit` that
declares, at class level, what a user can read in ``multiscale info``:

- ``NAME``, ``CITATION``, ``DESCRIPTION``;
- ``PARAMETERS``: structural parameters fixed at build time (size, connection
  probability...), each a :class:`Parameter` with default and unit;
- ``KNOBS``: factors a perturbation may change during a run (conductance scales, drive),
  each a :class:`Parameter`; a knob is a shared Brian2 variable, so changing it costs
  nothing and needs no rebuild;
- ``POPULATIONS``: names of its neuron groups; each group has an ``I_stim`` current
  (amp) that stimulation electrodes drive;
- ``OUTPUT_POPULATION``: the population whose rate the connectome sees;
- ``FIELD``: where the field-potential proxy comes from: the group, its per-cell AMPA and
  GABA current variables (amp), its leak conductance (nS) and ``fraction``, the share of a
  region's neurons the group stands for (0.8 for all excitatory cells), which scales the
  region's current dipole moment (:mod:`multiscale.sources`);

- ``DRIVE``: population -> Brian2 statement that delivers ``n_events`` external
  (Poisson) spikes to a cell in one time step, e.g. ``"x_ampa += w_ext * n_events"``;
- ``SIZE_PARAMETERS``: the parameters whose sum is the number of neurons (for placement);

and implements :meth:`Circuit.build`, which creates the Brian2 objects,
:meth:`Circuit.drive_rates`, which says at what total Poisson rate each cell of each
driven population receives external spikes given the afferent input from the connectome,
and :meth:`Circuit.apply_knob`.

External spikes are drawn by the framework, per window, from the circuit's own random
stream (derived from the experiment seed and the circuit's name), and handed to Brian2
as a table read every time step. So a circuit's input noise does not depend on which
other circuits share its process: runs give the same numbers on any number of MPI ranks.
Runtime randomness inside a circuit must come from ``DRIVE`` for the same reason
(``rand()`` at build time, e.g. for initial conditions, is fine: it is seeded per circuit).

The co-simulation talks to a circuit only through :meth:`Circuit.set_input_window`,
:meth:`Circuit.collect_window`, :meth:`Circuit.set_knob` and
:meth:`Circuit.add_pulse_train`; the circuit knows nothing of the connectome.

Delays. A presynaptic spike's time is the end of the step whose integration took the
membrane over threshold, t_spike = t_pre + h (h the cells' step): the threshold crossing
happened within (t_pre, t_pre + h], and t_pre is the time Brian2's SpikeMonitor records
(the start of that step). NEST stamps a spike the same way (the end of the update step).
A synapse declared with delay D acts exactly D after t_spike: the variable it increments
holds the increment in the state at t_spike + D and not before, the state at time t being
what Brian2 holds before the integration of the step starting at t (a StateMonitor in the
'start' or 'before_groups' slot). That is the first grid time not earlier than the
crossing plus D, so no effect ever comes sooner than D after the crossing; it is exactly
NEST's delivery (an event stamped S with delay d is added to the synaptic current in the
update that ends at S + d). A conductance or current that jumps at t_spike + D moves the
membrane from there, the first integration step to use it ending at t_spike + D + h.
Brian2 does this when handed D itself: it applies an arriving spike in the 'synapses' slot,
after that step's integration, so a spike found in the step starting at t_pre and delivered
round(D / h) steps later is in the state at t_pre + h + D.

Delta synapses (a jump of the membrane potential itself, brunel2000) differ in one point.
NEST adds the jump before the threshold test of the same update, so a jump that crosses the
threshold fires the target exactly D after the source (stamp to stamp). Brian2 tests the
threshold before it applies arriving spikes, so the same jump would fire the target one step
late. Delta synapses are therefore handed D - h (``brian_delay_ms(D, h, delta=True)``): the
jump is in the state at t_pre + D, and a jump that crosses the threshold makes the target
spike at t_pre + D, exactly D after the source as in NEST. :func:`brian_delay_ms` gives
both. Delays are whole steps of the synapses' clock (D is rounded to the nearest one); the
minimum is one step, as in NEST: a delay of 0 or below one step is legal and acts as one
step. tests/test_delays.py measures every circuit's synapse types, and checks the
Potjans-Diesmann cells' response to one spike against NEST's update order step by step.

Field proxy (Mazzoni et al. 2015, PLoS Comput Biol 11:e1004584): per excitatory cell
``|I_AMPA(t - 6 ms)| - 1.65 |I_GABA(t)|``, averaged over the cells, divided by the
cells' leak conductance. Dividing by g_L turns a current into the depolarisation it
would cause at rest, so the proxy is in mV, the unit of the Jansen-Rit EEG source
y1 - y2 (mean excitatory minus inhibitory PSP of the pyramidal population).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import ClassVar

import brian2 as b2
import numpy as np

from multiscale import brian_state
from multiscale.parameter import Parameter

__all__ = [
    "Circuit",
    "FieldGroup",
    "Parameter",
    "WindowOutput",
    "brian_delay_ms",
    "effective_delay_ms",
]

MAZZONI_AMPA_DELAY_MS = 6.0
MAZZONI_GABA_WEIGHT = 1.65


def effective_delay_ms(delay_ms, dt_ms: float):
    """The delay (ms) a synapse declared with ``delay_ms`` (ms, scalar or array) has on a
    clock of step ``dt_ms`` (ms): rounded to whole steps, at least one step."""
    steps = np.maximum(np.round(np.asarray(delay_ms, dtype=float) / dt_ms), 1.0)
    return steps * dt_ms


def brian_delay_ms(delay_ms, dt_ms: float, *, delta: bool = False):
    """The delay (ms) to give Brian2's ``Synapses`` on a clock of step ``dt_ms`` (ms) so
    that a spike acts exactly ``effective_delay_ms(delay_ms, dt_ms)`` after it, in NEST's
    convention (module docstring, "Delays"): that delay itself for a synapse onto a current,
    a conductance or a kernel variable; one step less for a delta synapse (``delta``: a jump
    of the membrane potential that the threshold test must see in the step it arrives, as
    NEST's does). Scalar or array, like ``delay_ms``."""
    steps = np.maximum(np.round(np.asarray(delay_ms, dtype=float) / dt_ms), 1.0)
    return (steps - 1.0) * dt_ms if delta else steps * dt_ms


@dataclass(frozen=True)
class FieldGroup:
    """The cells whose synaptic currents make a circuit's field proxy and dipole moment.

    name: the population. cells: how many the network has. g_leak_nS: their leak
    conductance (nS): field proxy (mV) x g_L = mean proxy current per cell. fraction: the
    share of a region's neurons they stand for."""

    name: str
    cells: int
    g_leak_nS: float  # noqa: N815 - the unit in the name, as FIELD["g_leak_nS"]
    fraction: float


@dataclass
class WindowOutput:
    """What a circuit hands back after one window.

    rate: rate of OUTPUT_POPULATION per exchange bin (Hz), shape (n_bins,).
    field: field-potential proxy per bin (mV), shape (n_bins,).
    spikes: population -> (times in ms, neuron indices).
    """

    rate: np.ndarray
    field: np.ndarray
    spikes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


class Circuit:
    """Base class of Brian2 microcircuits; see the module docstring for the contract."""

    NAME: ClassVar[str] = ""
    CITATION: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    PARAMETERS: ClassVar[dict[str, Parameter]] = {}
    KNOBS: ClassVar[dict[str, Parameter]] = {}
    POPULATIONS: ClassVar[tuple[str, ...]] = ()
    OUTPUT_POPULATION: ClassVar[str] = ""
    #: group name, per-cell AMPA and GABA current variables (amp), leak conductance (nS)
    FIELD: ClassVar[dict[str, object]] = {}
    #: what the input from the connectome means for this circuit
    INPUT_DESCRIPTION: ClassVar[str] = ""
    #: population -> statement delivering ``n_events`` external spikes in one step
    DRIVE: ClassVar[dict[str, str]] = {}
    SIZE_PARAMETERS: ClassVar[tuple[str, ...]] = ()
    #: memory of one synapse, built and running (measured: multiscale/resources.py)
    BYTES_PER_SYNAPSE: ClassVar[int] = 64

    @classmethod
    def n_neurons(cls, parameters: dict[str, float] | None = None) -> int:
        values = {k: p.default for k, p in cls.PARAMETERS.items()} | dict(parameters or {})
        return int(sum(values[k] for k in cls.SIZE_PARAMETERS))

    @classmethod
    def field_group(cls, values: dict[str, float]) -> FieldGroup | None:
        """The FIELD group with ``values`` (every parameter, defaults filled in), or None
        for a circuit without a field (closed-field structures). The base class reads the
        group's size from the parameter ``n_<group>``; circuits sized otherwise override."""
        if not cls.FIELD:
            return None
        group = str(cls.FIELD["group"])
        return FieldGroup(
            name=group,
            cells=int(values[f"n_{group}"]),
            g_leak_nS=float(cls.FIELD["g_leak_nS"]),
            fraction=float(cls.FIELD.get("fraction", 0.8)),
        )

    @classmethod
    def check_parameters(cls, params: dict[str, float]) -> list[str]:
        """Problems that would make build() fail or mean nothing, each
        ``"<name>: got <value>; expected ..."``; ``params`` holds every PARAMETER and KNOB
        (defaults filled in). The base class checks each declared range; circuits add
        constraints between parameters (call super())."""
        declared = {**cls.PARAMETERS, **cls.KNOBS}
        out = []
        for name, value in params.items():
            spec = declared.get(name)
            problem = spec.problem(value) if spec is not None else None
            if problem:
                out.append(f"{name}: got {value:g}; {problem}")
        return out

    @classmethod
    def estimate(cls, params: dict[str, float]) -> tuple[int, int]:
        """(neurons, synapses) that build() would create with ``params`` (defaults filled
        in), computed without building, so that a too large circuit is refused first."""
        return cls.n_neurons(params), 0

    def __init__(
        self,
        name: str,
        parameters: dict[str, float] | None = None,
        *,
        resolution_ms: float = 1.0,
        window_ms: float = 10.0,
        rng: np.random.Generator | None = None,
        field_cells: int = 200,
    ) -> None:
        """Build the circuit.

        name: instance name (from the experiment file).
        parameters: overrides of PARAMETERS and KNOBS defaults, in their declared units.
        resolution_ms: exchange bin (ms): input is held for one bin, rate and field are
            returned per bin.
        window_ms: exchange window (ms), a multiple of resolution_ms; external spikes are
            drawn a window at a time.
        rng: this circuit's random stream for external spikes.
        field_cells: number of excitatory cells summed for the field proxy (the first
            ones; cells are statistically equivalent).
        """
        parameters = dict(parameters or {})
        unknown = set(parameters) - set(self.PARAMETERS) - set(self.KNOBS)
        if unknown:
            raise ValueError(f"{self.NAME}: unknown parameter(s) {sorted(unknown)}")
        self.name = name
        self.params = {k: p.default for k, p in self.PARAMETERS.items()}
        self.params.update({k: v for k, v in parameters.items() if k in self.PARAMETERS})
        self.resolution_ms = resolution_ms
        self.window_ms = window_ms
        self.rng = rng if rng is not None else np.random.default_rng()
        self.objects: list = []
        self.populations: dict[str, b2.NeuronGroup] = {}
        self.build()
        missing = set(self.POPULATIONS) - set(self.populations)
        if missing:
            raise RuntimeError(f"{self.NAME}.build() did not create populations {sorted(missing)}")
        self.knobs = {k: p.default for k, p in self.KNOBS.items()}
        for k, v in parameters.items():
            if k in self.KNOBS:
                self.set_knob(k, v)
        self._build_recording(field_cells)
        self._build_drive()
        self._ampa_lag = int(round(MAZZONI_AMPA_DELAY_MS / resolution_ms))
        self._ampa_tail: np.ndarray | None = None
        self._pulse_trains: dict[str, list[tuple[str, dict]]] = {}
        self._stim_ops: list = []

    # --- to implement in each circuit -------------------------------------------------
    def build(self) -> None:
        """Create Brian2 objects; fill ``self.populations`` and ``self.objects``."""
        raise NotImplementedError

    def drive_rates(self, input_hz: np.ndarray) -> dict[str, np.ndarray]:
        """Total rate (Hz) of external spikes onto each cell of each DRIVE population, per
        exchange bin, given the afferent input from the connectome per bin (input_hz, Hz per
        afferent fibre, >= 0) and the current knobs."""
        raise NotImplementedError

    def apply_knob(self, name: str, value: float) -> None:
        """Set knob ``name`` (its declared unit) on the Brian2 objects."""
        raise NotImplementedError

    # --- used by the co-simulation ----------------------------------------------------
    def set_knob(self, name: str, value: float) -> None:
        """Set knob ``name`` (its declared unit) through :meth:`apply_knob` and remember the
        value in ``self.knobs``; a KeyError names the circuit's knobs if it has no such one."""
        if name not in self.KNOBS:
            raise KeyError(f"{self.NAME} has no knob {name!r}; knobs: {sorted(self.KNOBS)}")
        self.apply_knob(name, value)
        self.knobs[name] = value

    def set_input_window(self, rates_hz: np.ndarray, window_start_ms: float) -> None:
        """Afferent input for the window starting now, one value per exchange bin (Hz per
        afferent fibre): draws the window's external spikes into the drive tables."""
        rates = self.drive_rates(np.maximum(np.asarray(rates_hz, dtype=float), 0.0))
        steps_per_bin = self._steps_per_bin
        for pop, table in self._drive_tables.items():
            lam = np.repeat(rates[pop], steps_per_bin) * self._dt_s  # events per step
            n = len(lam)
            table[:n] = self.rng.poisson(np.broadcast_to(lam[:, None], (n, table.shape[1])))
            table[n:] = 0.0

    def collect_window(self, start_ms: float, n_bins: int) -> WindowOutput:
        """Rate, field proxy and spikes of the window [start, start + n_bins bins), then
        forget them so memory does not grow with simulated time."""
        res = self.resolution_ms
        spikes = {}
        rate = np.zeros(n_bins)
        edges = start_ms + res * np.arange(n_bins + 1)
        for pop, mon in self._spike_monitors.items():
            t = np.asarray(mon.t_[:]) * 1e3
            i = np.asarray(mon.i[:]).astype(np.int32)
            spikes[pop] = (t, i)
            if pop == self.OUTPUT_POPULATION:
                counts, _ = np.histogram(t, bins=edges)
                rate = counts / (len(self.populations[pop]) * res * 1e-3)
            mon.resize(0)
            mon.variables["N"].set_value(0)
        field = self._field_window(n_bins)
        return WindowOutput(rate=rate, field=field, spikes=spikes)

    def add_pulse_train(
        self,
        population: str,
        *,
        frequency_hz: float,
        amplitude_na: float,
        width_ms: float,
        start_ms: float,
        stop_ms: float,
        biphasic: bool = False,
    ) -> None:
        """Add a train of rectangular current pulses (DBS-like electrode) into every cell
        of ``population``. Biphasic pulses are a cathodic phase of ``width`` followed
        directly by an equal anodic phase (charge balanced)."""
        if population not in self.populations:
            raise KeyError(f"{self.NAME} has no population {population!r}: {self.POPULATIONS}")
        if self._stim_ops:
            raise RuntimeError("pulse trains must be added before the network is built")
        k = sum(len(v) for v in self._pulse_trains.values())
        period = 1000.0 / frequency_hz
        ns = {
            f"pt{k}_amp": amplitude_na * b2.nA,
            f"pt{k}_period": period * b2.ms,
            f"pt{k}_width": width_ms * b2.ms,
            f"pt{k}_start": start_ms * b2.ms,
            f"pt{k}_stop": stop_ms * b2.ms,
        }
        phase = f"((t - pt{k}_start) % pt{k}_period)"
        active = f"int(t >= pt{k}_start and t < pt{k}_stop)"
        if biphasic:
            shape = (
                f"(int({phase} < pt{k}_width)"
                f" - int({phase} >= pt{k}_width and {phase} < 2*pt{k}_width))"
            )
        else:
            shape = f"int({phase} < pt{k}_width)"
        self._pulse_trains.setdefault(population, []).append((f"pt{k}_amp*{active}*{shape}", ns))

    def network_objects(self) -> list:
        """All Brian2 objects of this circuit; call once, after every add_pulse_train."""
        if not self._stim_ops:
            for population, trains in self._pulse_trains.items():
                op = self.populations[population].run_regularly(
                    "I_stim = " + " + ".join(term for term, _ in trains),
                    when="start",
                    name=f"{self.name}_{population}_electrodes",
                )
                for _, ns in trains:
                    # a run_regularly resolves names in its group's namespace
                    self.populations[population].namespace.update(ns)
                self._stim_ops.append(op)
        return [
            *self.objects,
            *self._drive_ops,
            *self._stim_ops,
            *self._spike_monitors.values(),
            *self._field_objects,
        ]

    # --- checkpoints ------------------------------------------------------------------
    def get_state(self, *, constants: bool = True) -> dict[str, np.ndarray | str | float | int]:
        """Everything that determines this circuit's future, as a flat dict of copies
        (``multiscale.checkpoint_state`` writes it to HDF5): the run-time state of every
        Brian2 object and the spikes in flight (``multiscale.brian_state``), Brian2's
        random state, the tables the cells read their drive from, the drive's random
        stream, the knobs and the field proxy's delay line.

        constants=False leaves out what Brian2 declares constant (connectivity, fixed
        weights: most of a large circuit's snapshot) and keeps a digest of it, checked on
        restore: the circuit restored into must then be built with the same seed.

        Take it at a window boundary before that boundary's work: after a
        ``Network.run`` that stopped at the boundary time (its monitors then still hold
        the last window, which ``collect_window`` hands over as usual after a restore).
        """
        objects = self.network_objects()
        state: dict[str, np.ndarray | str | float | int] = {
            "meta/circuit": self.NAME,
            "meta/name": self.name,
            "meta/structure": self._structure(),
            "t": float(
                self.populations[self.OUTPUT_POPULATION].clock.variables["t"].get_value().item()
            ),
            "python/rng": json.dumps(self.rng.bit_generator.state),
            "python/knobs": json.dumps(self.knobs, default=_plain),
        }
        state |= brian_state.capture_objects(objects, constants=constants)
        state |= brian_state.capture_random()
        for name, array in self._state_arrays().items():
            state[f"arrays/{name}"] = array.copy()
        if self._ampa_tail is not None:
            state["python/ampa_tail"] = self._ampa_tail.copy()
        return state

    def set_state(self, state: dict, network: b2.Network | None = None) -> None:
        """Restore ``get_state`` into this circuit, built the same way (class, name,
        parameters, resolution, window, pulse trains) but not run, or run: every value is
        overwritten. With ``network`` (the new Network holding this circuit), set its time
        to the snapshot's, so that its next ``run`` continues from there; without it, the
        caller must (``brian_state.set_network_time``)."""
        for key, mine in (("meta/circuit", self.NAME), ("meta/name", self.name)):
            if _text(state[key]) != mine:
                raise ValueError(f"snapshot of {key} {_text(state[key])!r}, not {mine!r}")
        if _text(state["meta/structure"]) != self._structure():
            raise ValueError(
                f"{self.name}: snapshot of a circuit built differently:\n"
                f"{_text(state['meta/structure'])}\nnot\n{self._structure()}"
            )
        brian_state.restore_objects(self.network_objects(), state)
        brian_state.restore_random(state)
        for name, array in self._state_arrays().items():
            stored = np.asarray(state[f"arrays/{name}"])
            if stored.shape != array.shape:
                raise ValueError(f"{name}: snapshot shape {stored.shape}, not {array.shape}")
            array[...] = stored  # in place: generated code reads this very array
        self.rng.bit_generator.state = json.loads(_text(state["python/rng"]))
        self.knobs = json.loads(_text(state["python/knobs"]))
        tail = state.get("python/ampa_tail")
        self._ampa_tail = None if tail is None else np.array(tail, dtype=float)
        if network is not None:
            brian_state.set_network_time(network, float(state["t"]))

    def _state_arrays(self) -> dict[str, np.ndarray]:
        """Arrays outside Brian2's variables that generated code reads during a run and the
        circuit rewrites in place (the drive tables); a circuit with more adds them."""
        return {f"drive/{pop}": table for pop, table in self._drive_tables.items()}

    def _structure(self) -> str:
        """What must be equal between the circuit saved and the one restored into. Pulse
        trains hold no state: a branch may add one that starts after its checkpoint (the
        co-simulation checks that those before it are the same)."""
        return json.dumps(
            {
                "params": self.params,
                "resolution_ms": self.resolution_ms,
                "window_ms": self.window_ms,
                "dt_s": self._dt_s,
            },
            sort_keys=True,
            default=_plain,
        )

    # --- internals --------------------------------------------------------------------
    def _build_drive(self) -> None:
        """One table (steps of a window x cells) of external spike counts per driven
        population, rewritten in place every window and read cyclically by the cells."""
        dt = b2.defaultclock.dt
        self._dt_s = float(dt / b2.second)
        steps = int(round(self.window_ms * 1e-3 / self._dt_s))
        self._steps_per_bin = int(round(self.resolution_ms * 1e-3 / self._dt_s))
        self._drive_tables: dict[str, np.ndarray] = {}
        self._drive_ops = []
        for pop, statement in self.DRIVE.items():
            group = self.populations[pop]
            table = b2.TimedArray(
                np.zeros((steps, len(group))), dt=dt, name=f"{self.name}_{pop}_drive_table"
            )
            values = table.values  # written in place: the generated code reads this array
            assert values.flags.writeable and values.shape == (steps, len(group))
            self._drive_tables[pop] = values
            # (t + dt/2) mod T - dt/2: the step within the window, immune to rounding at
            # the window's first step
            when = f"((t + 0.5*{self.name}_dt) % {self.name}_T - 0.5*{self.name}_dt)"
            group.namespace.update(
                {
                    f"{self.name}_{pop}_drive": table,
                    f"{self.name}_dt": dt,
                    f"{self.name}_T": steps * dt,
                }
            )
            code = statement.replace("n_events", f"{self.name}_{pop}_drive({when}, i)")
            self._drive_ops.append(
                group.run_regularly(code, when="start", order=1, name=f"{self.name}_{pop}_drive")
            )

    def _build_recording(self, field_cells: int) -> None:
        self._spike_monitors = {
            pop: b2.SpikeMonitor(group, name=f"{self.name}_{pop}_spikes")
            for pop, group in self.populations.items()
        }
        self._field_objects = []
        if not self.FIELD:
            self._field_mon = None
            return
        group = self.populations[self.FIELD["group"]]
        n = min(field_cells, len(group))
        probe = b2.NeuronGroup(
            1,
            "ampa_sum : amp\ngaba_sum : amp",
            name=f"{self.name}_field_probe",
        )
        gather = b2.Synapses(
            group,
            probe,
            model=(
                f"ampa_sum_post = abs({self.FIELD['ampa']}_pre) : amp (summed)\n"
                f"gaba_sum_post = abs({self.FIELD['gaba']}_pre) : amp (summed)"
            ),
            namespace=dict(group.namespace or {}),
            dt=self.resolution_ms * b2.ms,  # only sampled once per bin
            name=f"{self.name}_field_gather",
        )
        gather.connect(i=np.arange(n), j=0)
        mon = b2.StateMonitor(
            probe,
            ["ampa_sum", "gaba_sum"],
            record=0,
            dt=self.resolution_ms * b2.ms,
            when="end",  # after the boundary work at the start of the step, whatever the names
            name=f"{self.name}_field_monitor",
        )
        self._field_n = n
        self._field_gl_ns = float(self.FIELD["g_leak_nS"])
        self._field_mon = mon
        self._field_objects = [probe, gather, mon]

    def _field_window(self, n_bins: int) -> np.ndarray:
        if self._field_mon is None:
            return np.zeros(n_bins)
        mon = self._field_mon
        scale = 1.0 / (self._field_n * self._field_gl_ns * 1e-9) * 1e3  # A / nS -> mV
        ampa = np.asarray(mon.ampa_sum_[0]) * scale
        gaba = np.asarray(mon.gaba_sum_[0]) * scale
        mon.resize(0)
        ampa = _fit(ampa, n_bins)
        gaba = _fit(gaba, n_bins)
        if self._ampa_tail is None:  # before the first 6 ms, hold the first value
            self._ampa_tail = np.full(self._ampa_lag, ampa[0] if n_bins else 0.0)
        delayed = np.concatenate([self._ampa_tail, ampa])
        self._ampa_tail = delayed[len(delayed) - self._ampa_lag :]
        return delayed[:n_bins] - MAZZONI_GABA_WEIGHT * gaba


def _plain(value: object) -> object:
    """numpy scalars as Python numbers, for JSON."""
    return value.item() if hasattr(value, "item") else str(value)


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """Trim or pad (with the last value) a per-bin trace to exactly n bins: the monitor
    may hold one sample more or less than a window, by float rounding of its clock."""
    if len(x) >= n:
        return x[:n]
    pad = x[-1] if len(x) else 0.0
    return np.concatenate([x, np.full(n - len(x), pad)])
