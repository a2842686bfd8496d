"""Potjans & Diesmann 2014 at full scale against the down-scaled default, in one script.

SCIENCE.md's rate list (0.943 ... 7.851 Hz) is that of the reference implementation at
full scale. The validation test runs the default down-scaled network (scale_N = scale_K =
0.1), where L23e, L23i and L6e fall below the 25% band, as they do in the reference
example's own data at that scale. This script runs the same circuit code at full scale
(77169 cells, about 300 M synapses), so that the port itself is checked against the
list, and the down-scaled network first as the reference run of the same script:

    python bench/potjans_full_scale.py                 # scale 0.1, then 1.0
    python bench/potjans_full_scale.py 0.1 0.5 1.0     # any scales (scale_N = scale_K)

Needs about 12 GB of memory at full scale and, on one core, a few minutes to build and
several minutes per simulated second. Prints per scale the cells, synapses, build time,
wall seconds per simulated second (also relative to the first scale run), peak memory, and
each population's rate with its deviation from the list; 300 ms start-up transient, then
1 s scored (the reference scores 1 s after 500 ms).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WINDOW_MS = 10.0
TRANSIENT_MS = 300.0
SCORED_MS = 1000.0
SEED = 1


def run(scale: float) -> dict:
    """Build and run the circuit at scale_N = scale_K = ``scale``; rates and costs."""
    import brian2 as b2

    from circuits.potjans_diesmann import POPULATIONS, PotjansDiesmann

    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(SEED)
    t0 = time.perf_counter()
    c = PotjansDiesmann(
        "pd",
        {"scale_N": scale, "scale_K": scale},
        resolution_ms=1.0,
        window_ms=WINDOW_MS,
        rng=np.random.default_rng(SEED),
    )
    built = time.perf_counter() - t0
    bins = int(WINDOW_MS)
    counts = dict.fromkeys(POPULATIONS, 0)
    started = []

    @b2.network_operation(dt=WINDOW_MS * b2.ms, when="start")
    def exchange(t):
        if not started:
            started.append(time.perf_counter())
        k = int(round(float(t / b2.ms) / WINDOW_MS))
        if k:
            collect(k - 1)
        c.set_input_window(np.zeros(bins), k * WINDOW_MS)

    def collect(k):
        for pop, (times, _) in c.collect_window(k * WINDOW_MS, bins).spikes.items():
            counts[pop] += np.count_nonzero(times >= TRANSIENT_MS)

    net = b2.Network(*c.network_objects(), exchange)
    duration = TRANSIENT_MS + SCORED_MS
    net.run(duration * b2.ms)
    collect(int(round(duration / WINDOW_MS)) - 1)
    ran = time.perf_counter() - started[0]
    rates = {p: counts[p] / c.sizes[p] / (SCORED_MS * 1e-3) for p in POPULATIONS}
    return {
        "cells": sum(c.sizes.values()),
        "synapses": int(c.synapse_counts.sum()),
        "build_s": built,
        "wall_per_sim_s": ran / (duration * 1e-3),
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "rates": rates,
    }


def main() -> None:
    import brian2 as b2

    from circuits.potjans_diesmann import FULL_MEAN_RATES, POPULATIONS

    b2.prefs.codegen.target = "cython"
    scales = [float(a) for a in sys.argv[1:]] or [0.1, 1.0]
    first = None
    for scale in scales:
        r = run(scale)
        first = first or r
        print(
            f"\nscale {scale:g}: {r['cells']} cells, {r['synapses'] / 1e6:.1f} M synapses; "
            f"build {r['build_s']:.1f} s; {r['wall_per_sim_s']:.1f} s per simulated s "
            f"({r['wall_per_sim_s'] / first['wall_per_sim_s']:.1f}x scale {scales[0]:g}); "
            f"peak memory of this process so far {r['peak_gb']:.1f} GB"
        )
        print(f"  {'pop':5s} {'rate Hz':>8s} {'target':>7s} {'dev':>6s}")
        inside = 0
        for k, pop in enumerate(POPULATIONS):
            dev = r["rates"][pop] / FULL_MEAN_RATES[k] - 1.0
            inside += abs(dev) <= 0.25
            print(f"  {pop:5s} {r['rates'][pop]:8.3f} {FULL_MEAN_RATES[k]:7.3f} {dev:+6.0%}")
        print(f"  {inside} of 8 populations within 25% of the list", flush=True)


if __name__ == "__main__":
    main()
