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

External spikes are drawn in Brian2's generated code, every step, as a function of a key,
the step and the cell (:mod:`multiscale.poisson_drive`); the key comes from the circuit's
own random stream (derived from the experiment seed and the circuit's name), and the
framework writes only the expected count per cell and step of each driven population into
a small table per window. So a circuit's input noise does not depend on which other
circuits share its process: runs give the same numbers on any number of MPI ranks.
Runtime randomness inside a circuit must come from ``DRIVE`` for the same reason
(``rand()`` at build time, e.g. for initial conditions, is fine: it is seeded per circuit).

``FOLD_DRIVE = True`` runs the DRIVE statements at the start of the population's state
update (its group's, for populations that are Subgroups of one group with one statement)
instead of in an operation of their own: one code object fewer per step and population,
the same numbers, if nothing else of the circuit runs between the 'start' and 'groups'
slots of the cells' clock and touches what DRIVE changes. Populations that are Subgroups
of one NeuronGroup share one spike monitor.

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
import math
from dataclasses import dataclass, field
from typing import ClassVar

import brian2 as b2
import numpy as np

from multiscale import brian_state
from multiscale.parameter import Parameter
from multiscale.poisson_drive import KEY_LIMIT, drive_events, drive_stream

__all__ = [
    "Circuit",
    "FieldGroup",
    "Parameter",
    "WindowOutput",
    "add_to_state_update",
    "brian_delay_ms",
    "cell_step",
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
    #: run DRIVE inside the population's state update (one code object fewer per step);
    #: only if nothing else of the circuit runs between the 'start' and 'groups' slots of
    #: its clock and touches what DRIVE changes
    FOLD_DRIVE: ClassVar[bool] = False
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
        tag: str | None = None,
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
        tag: the prefix of this circuit's Brian2 object names and namespace identifiers
            (default: the class's NAME). Brian2 caches compiled code by its text, which
            holds these names: with the class's name, every circuit of a class shares its
            compiled code whatever the experiment calls it (a name of its own cost ~30 s
            of compilation per new name). Circuits in one Network need distinct tags; the
            co-simulation numbers them. Snapshots name objects by ``name``, not tag.
        """
        parameters = dict(parameters or {})
        unknown = set(parameters) - set(self.PARAMETERS) - set(self.KNOBS)
        if unknown:
            raise ValueError(f"{self.NAME}: unknown parameter(s) {sorted(unknown)}")
        self.name = name
        # a class NAME that cannot start a Brian2 name falls back to the instance's name,
        # which validation holds to letters, digits and _
        self.tag = tag or (self.NAME if str(self.NAME).isidentifier() else name)
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
        afferent fibre): writes each driven population's expected external spikes per cell
        and step into its rate table; the counts are drawn in generated code
        (:mod:`multiscale.poisson_drive`)."""
        rates = self.drive_rates(np.maximum(np.asarray(rates_hz, dtype=float), 0.0))
        for pop, table in self._drive_tables.items():
            lam = np.repeat(rates[pop], self._steps_per_bin) * self._dt_s  # events per step
            n = len(lam)
            table[:n] = lam
            table[n:] = 0.0

    def collect_window(self, start_ms: float, n_bins: int) -> WindowOutput:
        """Rate, field proxy and spikes of the window [start, start + n_bins bins), then
        forget them so memory does not grow with simulated time."""
        res = self.resolution_ms
        spikes = {}
        rate = np.zeros(n_bins)
        edges = start_ms + res * np.arange(n_bins + 1)
        for mon, members in self._spike_monitors.values():
            t_all = np.asarray(mon.t_[:]) * 1e3
            i_all = np.asarray(mon.i[:]).astype(np.int32)
            for pop, start, stop in members:
                if len(members) == 1 and start == 0 and stop == len(mon.source):
                    t, i = t_all, i_all
                else:
                    mine = (i_all >= start) & (i_all < stop)
                    t, i = t_all[mine], i_all[mine] - np.int32(start)
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
                    name=f"{self.tag}_{population}_electrodes",
                )
                for _, ns in trains:
                    # a run_regularly resolves names in its group's namespace
                    self.populations[population].namespace.update(ns)
                self._stim_ops.append(op)
        return [
            *self.objects,
            *self._drive_ops,
            *self._stim_ops,
            *(mon for mon, _ in self._spike_monitors.values()),
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
            "python/drive_keys": json.dumps(
                {self._named(k): v[0] for k, v in self._drive_streams.items()}
            ),
            "python/knobs": json.dumps(self.knobs, default=_plain),
        }
        captured = brian_state.capture_objects(objects, constants=constants)
        state |= {self._named(key): value for key, value in captured.items()}
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
        objects = self.network_objects()
        known = brian_state.object_names(objects)
        brian_state.restore_objects(
            objects, {self._tagged(key, known): value for key, value in state.items()}
        )
        brian_state.restore_random(state)
        for name, array in self._state_arrays().items():
            stored = np.asarray(state[f"arrays/{name}"])
            if stored.shape != array.shape:
                raise ValueError(f"{name}: snapshot shape {stored.shape}, not {array.shape}")
            array[...] = stored  # in place: generated code reads this very array
        self.rng.bit_generator.state = json.loads(_text(state["python/rng"]))
        if "python/drive_keys" in state:  # the keys fix every external spike
            keys = json.loads(_text(state["python/drive_keys"]))
            known = set(self._drive_streams)
            self._set_drive_keys({self._tagged(k, known): v for k, v in keys.items()})
        self.knobs = json.loads(_text(state["python/knobs"]))
        tail = state.get("python/ampa_tail")
        self._ampa_tail = None if tail is None else np.array(tail, dtype=float)
        if network is not None:
            brian_state.set_network_time(network, float(state["t"]))

    def _named(self, key: str) -> str:
        """A snapshot key or identifier with this circuit's tag replaced by its name: what
        a snapshot stores, so that it does not depend on how the run numbered the tags
        (circuits of one class share a rank's Network on one rank count, not another)."""
        return _swap_prefix(key, self.tag, self.name)

    def _tagged(self, key: str, known: set[str]) -> str:
        """The inverse of ``_named``: a stored key back to this circuit's own name for it,
        where its object (or identifier) is not among ``known`` as it stands (a circuit
        that names its objects after ``name`` rather than ``tag`` keeps its keys)."""
        kind, sep, rest = key.partition("/")
        own = rest.partition("/")[0] if sep and kind in ("brian", "queue", "digest") else key
        return key if own in known else _swap_prefix(key, self.name, self.tag)

    def _set_drive_keys(self, keys: dict[str, float]) -> None:
        """Use ``keys`` (their names in the namespace -> key) for the drive from the next
        ``run`` on (Brian2 reads namespaces when a run starts)."""
        if set(keys) != set(self._drive_streams):
            raise ValueError(f"drive keys {sorted(keys)}, not {sorted(self._drive_streams)}")
        for name, key in keys.items():
            pops = self._drive_streams[name][1]
            self.populations[next(iter(pops))].namespace[name] = float(key)
            self._drive_streams[name] = (float(key), pops)

    def _state_arrays(self) -> dict[str, np.ndarray]:
        """Arrays outside Brian2's variables that generated code reads during a run and the
        circuit rewrites in place (the drive's rate tables; exp(-rate), where a table holds
        it, follows them); a circuit with more adds them."""
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
        """Per driven population, a table (one value per step of a window) of the expected
        external spikes per cell, rewritten in place every window and read cyclically; the
        counts are drawn in generated code (:mod:`multiscale.poisson_drive`) from a key
        drawn once from ``rng``: one key per population, or per group for populations that
        share one. With FOLD_DRIVE the statements run at the start of the group's state
        update, else in their own operation in the 'start' slot: the same step, before
        its integration, either way."""
        dt = b2.defaultclock.dt
        self._dt_s = float(dt / b2.second)
        self._window_steps = steps = int(round(self.window_ms * 1e-3 / self._dt_s))
        self._steps_per_bin = int(round(self.resolution_ms * 1e-3 / self._dt_s))
        self._drive_tables: dict[str, np.ndarray] = {}
        self._drive_ops = []
        #: key's name in the namespace -> (key, {population: its first cell in the counter})
        self._drive_streams: dict[str, tuple[float, dict[str, int]]] = {}
        keys = dict(zip(self.DRIVE, self.rng.integers(1, KEY_LIMIT, len(self.DRIVE)), strict=True))
        when = f"((t + 0.5*{self.tag}_dt) % {self.tag}_T - 0.5*{self.tag}_dt)"
        constants = {f"{self.tag}_dt": dt, f"{self.tag}_T": steps * dt}
        constants |= {"drive_stream": drive_stream, "drive_events": drive_events}
        shared: dict[str, list[str]] = {}  # group name -> its folded Subgroup populations
        for pop in self.DRIVE:
            parent, _ = _parent(self.populations[pop])
            if self.FOLD_DRIVE and parent is not self.populations[pop]:
                shared.setdefault(parent.name, []).append(pop)
        for pop, statement in self.DRIVE.items():
            if any(pop in pops for pops in shared.values()):
                continue
            group = self.populations[pop]
            key_name, key = f"{self.tag}_{pop}_key", float(keys[pop])
            self._drive_streams[key_name] = (key, {pop: 0})
            lam = self._drive_table(pop, group, when, constants | {key_name: key})
            events = (
                f"drive_events(drive_stream({key_name}, timestep(t, {self.tag}_dt)), i, "
                f"exp(-{lam}), {lam})"
            )
            code = statement.replace("n_events", events)
            if self.FOLD_DRIVE:
                add_to_state_update(group, before=code)
            else:
                name = f"{self.tag}_{pop}_drive"
                self._drive_ops.append(group.run_regularly(code, when="start", order=1, name=name))
        for parent_name, pops in shared.items():
            self._fold_shared_drive(parent_name, pops, float(keys[pops[0]]), when, constants)

    def _drive_table(self, pop: str, group, when: str, namespace: dict) -> str:
        """A population's rate table (expected events per cell and step, one value per step
        of a window) in ``group``'s namespace; returns the expression that reads it."""
        steps = self._window_steps
        table = b2.TimedArray(
            np.zeros(steps), dt=b2.defaultclock.dt, name=f"{self.tag}_{pop}_drive_rate"
        )
        self._drive_tables[pop] = table.values  # written in place: generated code reads it
        group.namespace.update({f"{self.tag}_{pop}_lam": table} | namespace)
        lam = f"{self.tag}_{pop}_lam({when})"
        if group.clock.dt < b2.defaultclock.dt:
            # cells on a finer clock draw a step's events on its first sub-step only, so
            # that every expected event counts once (and the counts are those of the same
            # key at brian.dt: a finer cell step changes the integration, not the input)
            lam += f" * int((t + 0.5*dt) % {self.tag}_dt < dt)"
        return lam

    def _fold_shared_drive(
        self, parent_name: str, pops: list[str], key: float, when: str, constants: dict
    ) -> None:
        """One drive, in the state update of the group that holds the Subgroup populations
        ``pops`` (one DRIVE statement for all), with one stream (the counter is the cell's
        index in the group): a cell's rate is its population's, picked by its index from
        the populations' rates of the step (computed once per step)."""
        statements = {self.DRIVE[p] for p in pops}
        if len(statements) != 1:
            raise ValueError(
                f"{self.NAME}: FOLD_DRIVE with populations {pops} of one group needs one "
                f"DRIVE statement for all of them"
            )
        parent, _ = _parent(self.populations[pops[0]])
        key_name = f"{parent_name}_key"
        starts = {p: _parent(self.populations[p])[1] for p in pops}
        self._drive_streams[key_name] = (key, starts)
        lam, p0, inside = [], [], []
        for p in pops:
            expr = self._drive_table(p, parent, when, constants | {key_name: key})
            inside.append(f"int(i >= {starts[p]} and i < {starts[p] + len(self.populations[p])})")
            lam.append(f"{expr} * {inside[-1]}")
            p0.append(f"exp(-{expr}) * {inside[-1]}")
        # a cell in no population gets rate 0, which draws nothing whatever its exp(-rate)
        events = (
            f"drive_events(drive_stream({key_name}, timestep(t, {self.tag}_dt)), i, "
            f"{' + '.join(p0)}, {' + '.join(lam)})"
        )
        add_to_state_update(parent, before=statements.pop().replace("n_events", events))

    def external_events(self, population: str, first_step: int, n_steps: int) -> np.ndarray:
        """The external spike counts the generated code draws for the cells of
        ``population`` in time steps first_step ... first_step + n_steps - 1 (absolute
        steps of brian.dt, all within the window the tables hold), shape (steps, cells):
        the same function of key, step and cell, computed with numpy."""
        from multiscale.poisson_drive import events_numpy, stream_numpy

        key, offset = next(
            (k, pops[population]) for k, pops in self._drive_streams.values() if population in pops
        )
        steps = np.arange(first_step, first_step + n_steps)
        lam = self._drive_tables[population][steps % self._window_steps]
        cells = offset + np.arange(len(self.populations[population]))
        words = stream_numpy(key, steps)
        return events_numpy(words[:, None], cells[None, :], np.exp(-lam)[:, None], lam[:, None])

    def _build_recording(self, field_cells: int) -> None:
        # one monitor per Brian2 group: populations that are Subgroups of one group share
        # it (one code object per step, not one per population) and are split at collect
        self._spike_monitors: dict[str, tuple[b2.SpikeMonitor, list[tuple[str, int, int]]]] = {}
        for pop, group in self.populations.items():
            parent, start = _parent(group)
            if parent.name not in self._spike_monitors:
                own = parent is group
                name = f"{self.tag}_{pop}_spikes" if own else f"{parent.name}_spikes"
                self._spike_monitors[parent.name] = (b2.SpikeMonitor(parent, name=name), [])
            self._spike_monitors[parent.name][1].append((pop, start, start + len(group)))
        self._field_objects = []
        if not self.FIELD:
            self._field_mon = None
            return
        group = self.populations[self.FIELD["group"]]
        n = min(field_cells, len(group))
        # the probe, its sums and its monitor on the bin's clock: they run once per bin,
        # not every step
        probe = b2.NeuronGroup(
            1,
            "ampa_sum : amp\ngaba_sum : amp",
            dt=self.resolution_ms * b2.ms,
            name=f"{self.tag}_field_probe",
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
            name=f"{self.tag}_field_gather",
        )
        gather.connect(i=np.arange(n), j=0)
        mon = b2.StateMonitor(
            probe,
            ["ampa_sum", "gaba_sum"],
            record=0,
            dt=self.resolution_ms * b2.ms,
            when="end",  # after the boundary work at the start of the step, whatever the names
            name=f"{self.tag}_field_monitor",
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


def cell_step(requested_ms: float, framework_dt: b2.Quantity) -> b2.Quantity:
    """The cells' own time step: the largest divisor of the framework's step (brian.dt)
    not above ``requested_ms`` (ms), so that exchange bins and drive steps fall on the
    cells' clock."""
    dt_ms = float(framework_dt / b2.ms)
    k = max(1, math.ceil(dt_ms / requested_ms - 1e-9))
    return framework_dt / k


def _parent(group) -> tuple[b2.NeuronGroup, int]:
    """The NeuronGroup that holds a population's cells, and where they start in it."""
    if isinstance(group, b2.Subgroup):
        return group.source, int(group.start)
    return group, 0


def add_to_state_update(group: b2.NeuronGroup, *, before: str = "", after: str = "") -> None:
    """Make ``group``'s state update run abstract code ``before`` the integration of the step
    (and its refractoriness update) and ``after`` it, for every cell, in the same code
    object: what would otherwise be an operation of its own every step. Brian2 writes the
    integration's code at the start of every run; this adds to it then."""
    updater = group.state_updater
    original = updater.update_abstract_code

    def update_abstract_code(run_namespace):
        original(run_namespace)
        updater.abstract_code = f"{before}\n{updater.abstract_code}\n{after}\n"

    updater.update_abstract_code = update_abstract_code


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


def _swap_prefix(key: str, old: str, new: str) -> str:
    """``key`` (a snapshot key "brian/<object>/<variable>", or an identifier) with its
    object name's prefix ``old`` + "_" replaced by ``new`` + "_"."""
    kind, sep, rest = key.partition("/")
    if sep and kind in ("brian", "queue", "digest"):
        return f"{kind}/{_swap_prefix(rest, old, new)}"
    if old != new and key.startswith(old + "_"):
        return new + key[len(old) :]
    return key
