"""Potjans & Diesmann 2014 at full scale against the down-scaled default, in one script.

docs/science.md's rate list (0.943 ... 7.851 Hz) is that of the reference implementation at
full scale. At the default scale_N = scale_K = 0.1, L23e, L23i and L6e fall below its 25%
band, as they do in the reference example's own data at that scale; at full scale (77169
cells, 299 M synapses) the same circuit code reproduces the list. This script runs both,
the down-scaled network first as the reference run of the same script, and prints what
tests/validation/test_potjans_diesmann.py asserts, with the costs:

    python bench/potjans_full_scale.py                 # scale 0.1, then 1.0
    python bench/potjans_full_scale.py 0.1 0.5 1.0     # any scales (scale_N = scale_K)

Needs 13 GB of memory at full scale (measured peak 13.3 GB); on one core of this project's
machine it took 73 s to build and 113 s per simulated second, about 4 minutes in all.
Prints per scale the cells, synapses, build time, wall seconds per simulated second (also
relative to the first scale run), peak memory, and each population's rate with its
deviation from the list; 300 ms start-up transient, then 1 s scored (the reference scores
1 s after 500 ms).
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TRANSIENT_MS = 300.0
SCORED_MS = 1000.0


def run(scale: float) -> dict:
    """Build and run the circuit at scale_N = scale_K = ``scale``; rates and costs."""
    from circuit_costs import measure

    from multiscale.circuits.potjans_diesmann import (
        POPULATIONS,
        PotjansDiesmann,
        population_sizes,
        synapse_counts,
    )

    counts = dict.fromkeys(POPULATIONS, 0)

    def count(_start_ms, window):
        for pop, (times, _) in window.spikes.items():
            counts[pop] += np.count_nonzero(times >= TRANSIENT_MS)

    duration = TRANSIENT_MS + SCORED_MS
    params = {"scale_N": scale, "scale_K": scale}
    cells, built, ran = measure(PotjansDiesmann, params, count, duration)
    sizes = dict(zip(POPULATIONS, population_sizes(scale), strict=True))
    return {
        "cells": cells,
        "synapses": int(synapse_counts(scale, scale).sum()),
        "build_s": built,
        "wall_per_sim_s": ran / (duration * 1e-3),
        "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "rates": {p: counts[p] / sizes[p] / (SCORED_MS * 1e-3) for p in POPULATIONS},
    }


def main() -> None:
    import brian2 as b2

    from multiscale.circuits.potjans_diesmann import FULL_MEAN_RATES, POPULATIONS

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
