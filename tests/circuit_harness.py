"""Build a circuit and run it window by window the way the co-simulation does, for the tests.

At every window start, one network operation collects the previous window
(``collect_window``), applies the knob changes due then (``set_knob``) and draws the
window's external spikes (``set_input_window``), all inside one ``Network.run()``; the last
window is collected after the run. The loop is ``multiscale.drive.run_circuit``, the one
``multiscale.drive_circuit`` uses; this module keeps the tests' seeding and result dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import brian2 as b2
import numpy as np

from multiscale.circuit import Circuit, WindowOutput
from multiscale.drive import run_circuit

RES_MS = 1.0  # exchange bin
WINDOW_MS = 10.0  # exchange window

Knob = tuple[str, float]


def build(
    circuit_class: type[Circuit],
    name: str,
    params: dict | None = None,
    *,
    seed: int = 1,
    brian_dt_ms: float | None = None,
    tag: str | None = None,
) -> Circuit:
    """A new circuit in a fresh Brian2 scope, with exchange bins of RES_MS and windows of
    WINDOW_MS; Brian2 and the circuit's random stream are seeded with ``seed``, and
    defaultclock.dt is set first if ``brian_dt_ms`` is given; ``tag``: the circuit's Brian2
    name prefix (default: its class's)."""
    b2.start_scope()
    if brian_dt_ms is not None:
        b2.defaultclock.dt = brian_dt_ms * b2.ms
    b2.seed(seed)
    return circuit_class(
        name,
        params,
        resolution_ms=RES_MS,
        window_ms=WINDOW_MS,
        rng=np.random.default_rng(seed),
        **({"tag": tag} if tag else {}),
    )


def run_windows(
    circuit: Circuit,
    duration_ms: float,
    *,
    input_hz: float | Callable[[int], float | np.ndarray] = 0.0,
    knobs: Mapping[float, Knob | list[Knob]] | None = None,
    on_window: Callable[[int, WindowOutput], None] | None = None,
) -> dict:
    """Run ``circuit`` (built, pulse trains added) for ``duration_ms`` in windows of its
    ``window_ms``, with bins of its ``resolution_ms``, through ``multiscale.drive``'s
    window protocol (the one ``multiscale.drive_circuit`` uses).

    input_hz: afferent input (Hz per fibre), a constant or a function of the window index
        giving a value or one value per bin.
    knobs: window start (ms) -> (name, value), or a list of them, set before that
        window's input is drawn.
    on_window: called with the window index and its output right after each collect.

    Returns "rate" and "field" per bin, each population's spikes (times ms, indices) under
    its name, "left": the largest number of spikes found in any SpikeMonitor of the
    network right after a collect_window, and "circuit".
    """
    monitors = [o for o in circuit.network_objects() if isinstance(o, b2.SpikeMonitor)]
    left = [0]

    def after_collect(k: int, w: WindowOutput) -> None:
        left[0] = max([left[0], *(len(m.t) for m in monitors)])
        if on_window is not None:
            on_window(k, w)

    changes = {}
    for at_ms, due in (knobs or {}).items():
        changes[round(at_ms / circuit.window_ms)] = [due] if isinstance(due, tuple) else due
    run = run_circuit(
        circuit,
        duration_ms,
        lambda k, _bins: input_hz(k) if callable(input_hz) else input_hz,
        changes,
        after_collect,
    )
    result = {"rate": run.rate, "field": run.field, "left": left[0], "circuit": circuit}
    for pop, spikes in run.spikes.items():
        result[pop] = tuple(spikes)
    return result


def population_rate(run: dict, pop: str, start: float, stop: float | None = None) -> float:
    """Mean rate (Hz) of population ``pop`` in a run_windows result over [start, stop) ms,
    by default up to the end of the run."""
    t = run[pop][0]
    circuit = run["circuit"]
    stop = stop if stop is not None else len(run["rate"]) * circuit.resolution_ms
    n = len(circuit.populations[pop])
    return np.count_nonzero((t >= start) & (t < stop)) / n / ((stop - start) * 1e-3)


def synchrony_chi(
    t: np.ndarray, i: np.ndarray, n: int, start: float, stop: float, bin_ms: float = 20.0
) -> float:
    """Golomb's synchrony measure on spike counts (times t in ms, cell indices i, n cells)
    in [start, stop) ms: sqrt(variance over time of the population-mean count per bin /
    mean over cells of each cell's count variance). About 1/sqrt(n) (0.05 for 400 cells)
    when cells are independent, 1 when they fire in lockstep."""
    n_bins = int((stop - start) // bin_ms)
    m = (t >= start) & (t < start + n_bins * bin_ms)
    counts = np.zeros((n, n_bins))
    np.add.at(counts, (i[m], ((t[m] - start) // bin_ms).astype(int)), 1)
    return float(np.sqrt(np.var(counts.mean(axis=0)) / np.mean(np.var(counts, axis=1))))
