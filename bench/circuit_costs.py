"""What each built-in circuit costs at its default size: build time and the wall time of
1 s of simulated time, run as the co-simulation runs it (one Brian2 run, the drive table
refilled and the outputs collected every 10 ms window), cython target, compiled beforehand.

    python bench/circuit_costs.py            # a few minutes the first time (compiling)

Prints, per circuit, the neurons, build time, run time and the real-time factor (wall
seconds per simulated second), and the run time relative to the first circuit measured in
the same script (the conductance-based E/I network), so that the load of a shared machine
cancels out of the comparison.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WINDOW_MS = 10.0
DURATION_MS = 1000.0


def measure(
    cls, params: dict | None = None, on_window=None, duration_ms: float = DURATION_MS
) -> tuple[int, float, float]:
    """(neurons, build s, run s for ``duration_ms``) of one circuit, at its defaults unless
    ``params`` are given; ``on_window(window_start_ms, output)`` gets each window's output."""
    import brian2 as b2

    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1)
    t0 = time.perf_counter()
    c = cls("bench", params, resolution_ms=1.0, window_ms=WINDOW_MS, rng=np.random.default_rng(1))
    built = time.perf_counter() - t0
    bins = int(WINDOW_MS)
    started = []

    def collect(k):
        w = c.collect_window(k * WINDOW_MS, bins)
        if on_window is not None:
            on_window(k * WINDOW_MS, w)

    @b2.network_operation(dt=WINDOW_MS * b2.ms, when="start")
    def exchange(t):
        if not started:
            started.append(time.perf_counter())
        k = int(round(float(t / b2.ms) / WINDOW_MS))
        if k:
            collect(k - 1)
        c.set_input_window(np.zeros(bins), k * WINDOW_MS)

    net = b2.Network(*c.network_objects(), exchange)
    net.run(duration_ms * b2.ms)
    collect(int(round(duration_ms / WINDOW_MS)) - 1)
    return cls.n_neurons(params), built, time.perf_counter() - started[0]


def main() -> None:
    import brian2 as b2

    from multiscale.circuits import CIRCUITS

    b2.prefs.codegen.target = "cython"
    b2.prefs.logging.console_log_level = "WARNING"
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for cls in CIRCUITS.values():  # warm-up: compile everything once
        measure(cls)
    print(f"{'circuit':20s} {'neurons':>8s} {'build s':>8s} {'run s':>7s} {'x real time':>11s}")
    ref = None
    for name, cls in CIRCUITS.items():
        n, built, ran = min((measure(cls) for _ in range(2)), key=lambda m: m[2])
        ref = ref or ran
        print(
            f"{name:20s} {n:8d} {built:8.2f} {ran:7.2f} {ran / (DURATION_MS / 1000):11.2f}"
            f"   (run / {next(iter(CIRCUITS))}: {ran / ref:.2f})"
        )


if __name__ == "__main__":
    main()
