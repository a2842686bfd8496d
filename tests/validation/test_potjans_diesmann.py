"""docs/science.md, Potjans & Diesmann 2014 microcircuit: the rates of the reference
implementation, at full scale and at the default scale_N = scale_K = 0.1.

Targets (docs/science.md): at full scale, every population's mean rate within 10% of the
full-scale rates of the reference implementation (0.943, 3.026, 4.368, 5.882, 7.733, 8.664,
1.096, 7.851 Hz); at scale 0.1, within 25% of that implementation's own scale-0.1 rates
(down-scaling itself lowers L2/3 and L6e); at both, the order L5 > L4 > L6e, L23e, and
every inhibitory population faster than its excitatory partner.

Both networks run through the co-simulation's window protocol (10 ms windows, 1 ms bins),
cython target, seed 1: 300 ms start-up transient, then the scored time.

Full scale (77169 cells, 298.9 M synapses; about 75 s to build, 110 s per simulated second
and 13 GB on a shared 2-core machine; 500 ms scored). Measured with the external drive
drawn in generated code (multiscale/poisson_drive.py; the test's 500 ms, seed 1, Hz,
deviation from the list): L23e 0.873 (-7.4 %), L23i 2.957 (-2.3 %), L4e 4.408 (+0.9 %),
L4i 5.906 (+0.4 %), L5e 7.817 (+1.1 %), L5i 8.659 (-0.1 %), L6e 1.158 (+5.7 %), L6i 7.847
(-0.1 %): the circuit reproduces the list, L23e with the least margin. With the previous
drive (drawn in Python; other realisations; 1 s scored, seeds 1 / 2): L23e 0.886 / 0.913
(-6 / -3 %), L23i 2.948 / 3.001, L4e 4.384 / 4.376, L4i 5.863 / 5.884, L5e 7.635 / 7.729,
L5i 8.617 / 8.658, L6e 1.110 / 1.098, L6i 7.831 / 7.834 (all others within 2.6 %); with
the test's 500 ms, L23e 0.907 / 0.904 (-4 %) and the others within 2.1 % (2.6 min for the
module). L23e, the slowest population, is the one sensitive to the delays' timing: with
every current jumping one step (0.1 ms) earlier than NEST's convention it measured 0.835 Hz
(-11.5 %). Needs 20 GB of physical memory; skipped, with that reason, on a smaller machine
(CI has 24 GB and runs it).

Scale 0.1 (7717 cells, 3.0 M synapses, 1 s scored). Down-scaling with the DC compensation
keeps the mean and variance of each cell's input, not its shape: the PSPs are 3.2x larger
(IPSPs of -1.9 mV) and only sqrt(0.1) of the recurrent mean input follows the rates. The
lowest-rate populations, driven by the tail of the input distribution, lose most. The
reference implementation itself (PyNEST example Potjans_2014, its reference_data/rate*.dat
of one run at its default N_scaling = K_scaling = 0.1, NEST 3, rates over [500, 1500] ms,
all cells) has 0.439, 1.889, 3.886, 4.891, 5.728, 7.811, 0.776, 6.898 Hz: L23e -54%, L23i
-38%, L5e -26%, L6e -29% from the list. Measured here (seed 1, Hz): L23e 0.393, L23i
2.017, L4e 4.004, L4i 4.911, L5e 6.800, L5i 7.717, L6e 0.806, L6i 7.017: within 19% of
the reference's own scale-0.1 rates (L5e +19%, L23e -10%, the others within 7%); against
the full-scale list L23e is -58%, L23i -33% and L6e -26%, as in the reference at this
scale. With the previous drive (seeds 1 / 2): L23e 0.417 / 0.432, L23i 2.005 / 1.921, L4e
3.988 / 3.947, L4i 4.903 / 4.936, L5e 6.449 / 6.148, L5i 7.660 / 7.840, L6e 0.788 / 0.820,
L6i 6.973 / 6.966 (within 13%, L5e +13%); over seeds 1-8 L23e was 0.36-0.46 Hz, L23i
1.92-2.06 Hz and L6e 0.76-0.84 Hz.
"""

from __future__ import annotations

import gc
import os

import brian2 as b2
import numpy as np
import pytest
from circuit_harness import build, population_rate, run_windows

from multiscale.circuits.potjans_diesmann import FULL_MEAN_RATES, POPULATIONS, PotjansDiesmann

pytestmark = pytest.mark.validation

TRANSIENT_MS = 300.0
FULL_SCALE_TOLERANCE = 0.10  # of the full-scale list
SCALE_01_TOLERANCE = 0.25  # of the reference's own scale-0.1 rates
#: rates (Hz) of the reference implementation's own run at N_scaling = K_scaling = 0.1
REFERENCE_SCALE_01 = np.array([0.439, 1.889, 3.886, 4.891, 5.728, 7.811, 0.776, 6.898])
FULL_SCALE_MEMORY_GB = 20.0


def physical_memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def rates_at(scale: float, scored_ms: float) -> dict[str, float]:
    """Mean rate (Hz) per population of the network at scale_N = scale_K = ``scale``."""
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "cython"
    try:
        circuit = build(PotjansDiesmann, "pd", {"scale_N": scale, "scale_K": scale}, seed=1)
        run = run_windows(circuit, TRANSIENT_MS + scored_ms)
    finally:
        b2.prefs.codegen.target = old
    rates = {p: population_rate(run, p, TRANSIENT_MS) for p in POPULATIONS}
    del circuit, run
    gc.collect()  # the full-scale network holds 13 GB
    print(f"scale {scale}: rates (Hz):", {p: round(r, 3) for p, r in rates.items()})
    return rates


@pytest.fixture(scope="module")
def scale_01():
    return rates_at(0.1, 1000.0)


@pytest.fixture(scope="module")
def full_scale():
    if physical_memory_gb() < FULL_SCALE_MEMORY_GB:
        pytest.skip(
            f"the full-scale network needs {FULL_SCALE_MEMORY_GB:.0f} GB of memory; this "
            f"machine has {physical_memory_gb():.1f} GB"
        )
    return rates_at(1.0, 500.0)


@pytest.fixture(params=["scale_01", "full_scale"])
def rates(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("pop", POPULATIONS)
def test_full_scale_rate_within_10_percent_of_the_reference(full_scale, pop):
    target = FULL_MEAN_RATES[POPULATIONS.index(pop)]
    assert abs(full_scale[pop] - target) <= FULL_SCALE_TOLERANCE * target, (
        pop,
        full_scale[pop],
        target,
    )


@pytest.mark.parametrize("pop", POPULATIONS)
def test_scale_01_rate_within_25_percent_of_the_reference_at_scale_01(scale_01, pop):
    target = REFERENCE_SCALE_01[POPULATIONS.index(pop)]
    assert abs(scale_01[pop] - target) <= SCALE_01_TOLERANCE * target, (pop, scale_01[pop], target)


def test_scale_01_known_low_populations_stay_the_lowest_of_their_type(scale_01):
    # as in the reference at this scale: L23e the slowest population, L23i the slowest
    # inhibitory one
    assert scale_01["L23e"] > 0.3
    assert scale_01["L23e"] == min(scale_01.values())
    assert scale_01["L23i"] == min(scale_01[p] for p in POPULATIONS if p.endswith("i"))


def test_layer_order_l5_above_l4_above_l6e_and_l23e(rates):
    assert rates["L5e"] > rates["L4e"] > max(rates["L6e"], rates["L23e"])
    assert rates["L5i"] > rates["L4i"]


@pytest.mark.parametrize("layer", ["L23", "L4", "L5", "L6"])
def test_inhibitory_faster_than_excitatory_partner(rates, layer):
    assert rates[f"{layer}i"] > rates[f"{layer}e"]
