"""One circuit driven alone: an afferent input series of your choice in, its rate, field
proxy and spikes out (f-I curves, pharmacology), with no connectome around it.

The circuit runs exactly as inside a co-simulation: one Brian2 ``Network.run`` over the
whole duration, and at every window start one network operation that collects the
previous window (``collect_window``), applies the knob changes due then (``set_knob``)
and draws the window's external spikes from the input (``set_input_window``). Same calls,
same windows: what a circuit does here is what it does in an experiment given that input.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from multiscale.config import ConfigError
from multiscale.result import Spikes

if TYPE_CHECKING:
    from multiscale.circuit import Circuit, WindowOutput

#: what the input may be: Hz per afferent fibre, constant, per bin, or a function of time
InputHz = float | Sequence[float] | np.ndarray | Callable[[np.ndarray], float | np.ndarray]
#: knob changes due at a window start (window index -> [(knob, value)])
KnobChanges = Mapping[int, Sequence[tuple[str, float]]]


@dataclass
class CircuitRun:
    """What a driven circuit did, per exchange bin and per spike.

    input_hz: the afferent input of every bin (Hz per fibre).
    rate: rate of the output population per bin (Hz); ``binned_rate`` for the others.
    field: field-potential proxy per bin (mV).
    spikes: population -> (times in ms, cell indices).
    cells: population -> number of cells.
    resolution: width of a bin (s).
    """

    model: str
    output_population: str
    input_hz: np.ndarray
    rate: np.ndarray
    field: np.ndarray
    spikes: dict[str, Spikes]
    cells: dict[str, int]
    resolution: float
    #: the built circuit (its Brian2 groups, parameters and knobs as they ended)
    circuit: Circuit = field(repr=False)

    def __repr__(self) -> str:
        rates = ", ".join(f"{p} {self.population_rate(p):.1f} Hz" for p in self.spikes)
        return (
            f"<CircuitRun {self.model}: {self.duration:g} s in {len(self.rate)} bins of "
            f"{self.resolution * 1e3:g} ms; {rates}>"
        )

    @property
    def times(self) -> np.ndarray:
        """Start of every bin (s)."""
        return np.arange(len(self.rate)) * self.resolution

    @property
    def duration(self) -> float:
        """Simulated time (s)."""
        return len(self.rate) * self.resolution

    def population_rate(
        self, population: str, start: float = 0.0, stop: float | None = None
    ) -> float:
        """Mean rate (Hz per cell) of ``population`` over [start, stop) (s; stop None: the
        end)."""
        stop = self.duration if stop is None else stop
        t = self.spikes[population].times_ms
        n = np.count_nonzero((t >= start * 1e3) & (t < stop * 1e3))
        return n / self.cells[population] / (stop - start)

    def binned_rate(self, population: str) -> np.ndarray:
        """Rate (Hz per cell) of ``population`` in every bin."""
        edges = np.arange(len(self.rate) + 1) * self.resolution * 1e3
        counts, _ = np.histogram(self.spikes[population].times_ms, bins=edges)
        return counts / self.cells[population] / self.resolution


def drive_circuit(
    model: str | type[Circuit],
    parameters: Mapping[str, float] | None = None,
    *,
    input_hz: InputHz = 0.0,
    duration: str = "1 s",
    resolution: str = "1 ms",
    window: str = "10 ms",
    dt: str = "0.1 ms",
    knobs: Mapping[str, Mapping[str, float]] | None = None,
    seed: int = 0,
    target: str = "auto",
    name: str = "c",
) -> CircuitRun:
    """Build circuit ``model`` and drive it with ``input_hz`` for ``duration``.

    model: a circuit name (``multiscale info``), ``file.py:Class``/``module:Class``, or a
        Circuit subclass.
    parameters: its parameters and initial knobs, in their declared units.
    input_hz: afferent input in Hz per fibre (what ``input_gain`` x coupling is in an
        experiment): a constant, one value per bin, or a function of the bins' start times
        (s, an array) returning Hz.
    duration: simulated time, with its unit ("1 s"), as every time here.
    resolution: exchange bin ("1 ms"): input is held for a bin, rate and field are per bin.
    window: exchange window: external spikes are drawn a window at a time.
    dt: Brian2's time step.
    knobs: time -> {knob: value}, e.g. ``{"500 ms": {"g_GABA": 0.3}}``; a time must be a
        window start.
    seed: seeds Brian2 and the circuit's stream of external spikes.
    target: Brian2 code generation: "auto", "cython" or "numpy" (restored afterwards).
    name: the instance name (prefix of its Brian2 objects).
    """
    import brian2 as b2

    plan = _plan(model, parameters, input_hz, duration, resolution, window, dt, knobs, target)
    hook, old_target, old_dt = sys.excepthook, b2.prefs.codegen.target, b2.defaultclock.dt
    try:
        b2.prefs.codegen.target = target
        b2.defaultclock.dt = plan.dt_ms * b2.ms
        b2.seed(seed)
        circuit = plan.cls(
            name,
            plan.parameters,
            resolution_ms=plan.resolution_ms,
            window_ms=plan.window_ms,
            rng=np.random.default_rng(seed),
        )
        rates = plan.input_hz
        return run_circuit(
            circuit, plan.duration_ms, lambda k, bins: _slice(rates, k, bins), plan.knobs
        )
    finally:
        b2.prefs.codegen.target, b2.defaultclock.dt = old_target, old_dt
        sys.excepthook = hook  # Brian2 installs one that calls every error a Brian2 bug


@dataclass(frozen=True)
class _Plan:
    """drive_circuit's arguments, checked and in the units the circuit works in."""

    cls: type[Circuit]
    parameters: dict[str, float]
    input_hz: np.ndarray  # per bin, Hz per fibre
    duration_ms: float
    resolution_ms: float
    window_ms: float
    dt_ms: float
    knobs: dict[int, list[tuple[str, float]]]  # window index -> changes


def _plan(model, parameters, input_hz, duration, resolution, window, dt, knobs, target) -> _Plan:
    """Check every argument of drive_circuit; one ConfigError listing every problem, each
    naming its argument, as experiment files are checked."""
    from multiscale.circuits import resolve_circuit
    from multiscale.quantities import QuantityError, to_float

    problems: list[str] = []

    def ms_of(what: str, value: str, positive: bool = True) -> float | None:
        try:
            x = to_float(value, "ms", bare=False)
        except QuantityError as err:
            problems.append(f"{what}: got {value!r}; {err}")
            return None
        if positive and not x > 0:
            problems.append(f"{what}: got {value!r}; expected a positive time")
            return None
        return x

    if target not in ("auto", "cython", "numpy"):
        problems.append(f"target: got {target!r}; expected 'auto', 'cython' or 'numpy'")
    duration_ms, res_ms = ms_of("duration", duration), ms_of("resolution", resolution)
    window_ms, dt_ms = ms_of("window", window), ms_of("dt", dt)
    n_bins = 0
    if res_ms is not None:
        for what, value, x in (("window", window, window_ms), ("duration", duration, duration_ms)):
            if x is not None and not np.isclose(round(x / res_ms) * res_ms, x):
                problems.append(
                    f"{what}: got {value!r}; expected a multiple of the resolution ({resolution})"
                )
        if duration_ms is not None:
            n_bins = round(duration_ms / res_ms)
    cls = model
    if isinstance(model, str):
        try:
            cls = resolve_circuit(model, Path.cwd())
        except ValueError as err:
            problems.append(f"model: got {model!r}; {err}")
            cls = None
    given = dict(parameters or {})
    if cls is not None:
        declared = {k: p.default for k, p in {**cls.PARAMETERS, **cls.KNOBS}.items()}
        problems += [
            f"parameters.{k}: not a parameter or knob of {cls.NAME}; they are {sorted(declared)}"
            for k in sorted(set(given) - set(declared))
        ]
        known = {k: v for k, v in given.items() if k in declared}
        problems += [f"parameters.{p}" for p in cls.check_parameters(declared | known)]
    rates = _input_per_bin(input_hz, n_bins, res_ms, problems) if n_bins else np.zeros(0)
    changes: dict[int, list[tuple[str, float]]] = {}
    for when, values in (knobs or {}).items():
        at_ms = ms_of(f"knobs[{when!r}]", when, positive=False)
        if at_ms is None or window_ms is None or duration_ms is None:
            continue
        k = round(at_ms / window_ms)
        if not (np.isclose(k * window_ms, at_ms) and 0 <= at_ms < duration_ms):
            problems.append(
                f"knobs[{when!r}]: expected a window start (every {window}) within the "
                f"duration ({duration})"
            )
        for knob, value in values.items():
            if cls is not None and knob not in cls.KNOBS:
                problems.append(
                    f"knobs[{when!r}].{knob}: not a knob of {cls.NAME}; knobs: {sorted(cls.KNOBS)}"
                )
            changes.setdefault(k, []).append((knob, float(value)))
    if problems:
        lines = "\n".join(f"  drive_circuit: {p}" for p in problems)
        raise ConfigError(f"drive_circuit: {len(problems)} problem(s):\n{lines}")
    return _Plan(cls, given, rates, duration_ms, res_ms, window_ms, dt_ms, changes)


def run_circuit(
    circuit: Circuit,
    duration_ms: float,
    input_for_window: Callable[[int, int], float | np.ndarray],
    knobs: KnobChanges | None = None,
    on_window: Callable[[int, WindowOutput], None] | None = None,
) -> CircuitRun:
    """Run a built circuit (pulse trains added) for ``duration_ms`` in its windows.

    input_for_window: (window index, bins in a window) -> the window's input, Hz per
        fibre: one value or one per bin; called at the window's start.
    knobs: window index -> [(knob, value)], set before that window's input is drawn.
    on_window: called with the window index and its output right after each collect.
    """
    import brian2 as b2

    window_ms, res_ms = circuit.window_ms, circuit.resolution_ms
    bins = round(window_ms / res_ms)
    n_bins = round(duration_ms / res_ms)
    knobs = knobs or {}
    inputs: list[np.ndarray] = []
    outputs: list[WindowOutput] = []
    state = {"k": 0}

    def collect(k: int) -> None:
        w = circuit.collect_window(k * window_ms, bins)
        outputs.append(w)
        if on_window is not None:
            on_window(k, w)

    @b2.network_operation(dt=window_ms * b2.ms, when="start")
    def exchange() -> None:
        k = state["k"]
        if k:
            collect(k - 1)
        for knob, value in knobs.get(k, ()):
            circuit.set_knob(knob, value)
        rates = np.broadcast_to(np.asarray(input_for_window(k, bins), dtype=float), (bins,))
        inputs.append(rates)
        circuit.set_input_window(rates, k * window_ms)
        state["k"] += 1

    b2.Network(*circuit.network_objects(), exchange).run(duration_ms * b2.ms)
    collect(state["k"] - 1)
    spikes = {}
    for pop in circuit.populations:
        parts = [w.spikes[pop] for w in outputs if pop in w.spikes]
        t = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
        i = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int32)
        spikes[pop] = Spikes(t, i)
    return CircuitRun(
        model=circuit.NAME,
        output_population=circuit.OUTPUT_POPULATION,
        input_hz=np.concatenate(inputs)[:n_bins],
        rate=np.concatenate([w.rate for w in outputs])[:n_bins],
        field=np.concatenate([w.field for w in outputs])[:n_bins],
        spikes=spikes,
        cells={pop: len(g) for pop, g in circuit.populations.items()},
        resolution=res_ms / 1000,
        circuit=circuit,
    )


def _input_per_bin(value: InputHz, n_bins: int, res_ms: float, problems: list[str]) -> np.ndarray:
    """The input as one value per bin (Hz per fibre), or a problem noted."""
    if callable(value):
        value = value(np.arange(n_bins) * res_ms / 1000)
    rates = np.asarray(value, dtype=float)
    if rates.ndim == 0:
        rates = np.full(n_bins, float(rates))
    if rates.shape != (n_bins,):
        problems.append(
            f"input_hz: got {rates.shape[0] if rates.ndim == 1 else rates.shape} values; "
            f"expected one, or one per bin ({n_bins})"
        )
    elif not np.all(np.isfinite(rates)) or np.any(rates < 0):
        problems.append("input_hz: expected finite rates >= 0 Hz")
    return rates


def _slice(rates: np.ndarray, k: int, bins: int) -> np.ndarray:
    """Window k's bins of ``rates``, padded with zeros past the end (a last short window)."""
    part = rates[k * bins : (k + 1) * bins]
    return np.pad(part, (0, bins - len(part)))
