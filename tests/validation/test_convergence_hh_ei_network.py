"""Convergence in time step of hh_ei_network (dravet, epilepsy_focal): the design and the
measured numbers are in tests/validation/test_convergence_networks.py's docstring; this
check has a file of its own so that the test workers can run it beside the others."""

from __future__ import annotations

import numpy as np
import pytest
from circuit_harness import build, run_windows
from convergence_harness import (  # noqa: F401 (fixture)
    cython_target,
    paired_check,
    population_rates,
    welch,
)

from multiscale.circuits.hh_ei_network import HHEINetwork

pytestmark = pytest.mark.validation

HH_SEEDS, HH_MS, HH_SKIP_MS = (1, 2, 3, 4), 1800.0, 300.0
HH_BAND_HZ = (15.0, 50.0)  # around the field's spectral peak (~30 Hz)


def hh_quantities(dt_cell_ms: float) -> dict[str, np.ndarray]:
    """Per seed: E and I rates (Hz) over [HH_SKIP_MS, HH_MS), the field proxy's dominant
    frequency (centroid of its 15-50 Hz Welch spectrum, 1 s Hann segments, half overlap)
    and its SD."""
    out: dict[str, list[float]] = {}
    for seed in HH_SEEDS:
        circuit = build(HHEINetwork, "hh", {"dt_cell": dt_cell_ms}, seed=seed, brian_dt_ms=0.1)
        run = run_windows(circuit, HH_MS)
        for key, value in population_rates(circuit, run, HH_SKIP_MS, HH_MS).items():
            out.setdefault(key, []).append(value)
        f = run["field"][int(HH_SKIP_MS) :]
        freq, power = welch(f)
        band = (freq >= HH_BAND_HZ[0]) & (freq <= HH_BAND_HZ[1])
        out.setdefault("field dominant frequency (Hz)", []).append(
            (power[band] * freq[band]).sum() / power[band].sum()
        )
        out.setdefault("field SD (mV)", []).append(f.std())
    return {key: np.asarray(values) for key, values in out.items()}


def test_hh_ei_network_rates_and_field_converge():
    """The E and I rates and the field proxy's dominant frequency of the circuit as
    dravet.yaml and epilepsy_focal.yaml use it (400 E / 100 I cells), at the cells' default
    step ('rk4', dt_cell 0.05 ms) against 0.0125 ms, within 5 %, each with a standard error
    under 2 %; the field's SD is printed, not asserted (below).

    Design. brian.dt stays 0.1 ms at both steps, so a seed gives the same network, initial
    state and external spikes at both (``HHEINetwork``: only the cells' clock changes);
    each seed's two runs are paired, the error is the mean paired difference relative to
    the quarter-step mean, and its standard error the spread of the paired differences
    over seeds / sqrt(seeds). The dominant frequency is the centroid of the field's
    15-50 Hz spectrum, around its ~30 Hz peak: the peak bin itself (1 Hz resolution)
    moves by +-2 Hz between runs (per-seed argmax 27-31 Hz).

    Measured (1.8 s runs, the first 300 ms left out; default / quarter, error +- standard
    error), seeds 1-4 (the test's): E 1.947 / 1.956 Hz (-0.45 +- 0.93 %), I 10.83 / 10.83 Hz
    (+0.02 +- 0.60 %), dominant frequency 31.25 / 31.26 Hz (-0.02 +- 1.27 %); field SD 13.83 /
    14.00 mV (-1.2 +- 4.6 %: not resolved). With 2.3 s runs (2 s scored; the test's length until
    the suite had to fit 40 minutes on 2 cores): E +0.38 +- 0.65 %, I +0.09 +- 0.45 %, frequency
    -0.23 +- 1.20 %, field SD -1.2 +- 3.8 %: the shorter runs keep every standard error under
    the 2 % the check asks (the largest, 1.27 %). Over seeds 1-14 (run outside the suite with
    this function, ~13 minutes; 3.3 s runs): E 1.954 / 1.949 Hz (+0.23 +- 0.32 %), I 10.82 /
    10.80 Hz (+0.17 +- 0.18 %), frequency 31.37 / 31.41 Hz (-0.11 +- 0.97 %), field SD 14.08 /
    13.85 mV (+1.67 +- 1.87 %): the field's amplitude converges too, resolved to 5 % only with
    ~14 seeds. With the previous drive (drawn in Python), over seeds 1-14 with 3 s scored: E
    +0.05 +- 0.45 %, I -0.09 +- 0.24 %, frequency +0.04 +- 0.52 %, field SD 14.08 / 13.91 mV
    (+1.2 +- 1.7 %), its median absolute deviation +1.4 +- 1.9 %: the default step holds every
    quantity within 5 %, the field's amplitude too, but that needs ~14 seeds: its SD varies by
    ~6 % between 3 s runs (500 ms blocks 10-18 mV; rare large GABA_A deflections) and the two
    steps' runs are uncorrelated in it. Cost: ~17 s (default) and ~62 s (quarter) per 3.3 s run;
    the test took 218 s on one core (cython, compiled code cached), 265 s in the cold suite
    beside the other worker.
    """
    seeds = f"seeds {HH_SEEDS[0]}-{HH_SEEDS[-1]}"
    default, quarter = hh_quantities(0.05), hh_quantities(0.0125)
    paired_check("hh_ei_network", default, quarter, seeds, unresolved=("field SD (mV)",))
