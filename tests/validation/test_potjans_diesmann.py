"""SCIENCE.md, Potjans & Diesmann 2014 microcircuit at scale_N = scale_K = 0.1.

Targets: per-population mean rates within about 25% of the full-scale rates of the
reference implementation (0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851 Hz), the
order L5 > L4 > L6e, L23e, and every inhibitory population faster than its excitatory
partner.

One run of the default network (7717 cells, 3.0 M synapses), cython target, through the
co-simulation's window protocol (10 ms windows, 1 ms bins): 300 ms start-up transient,
then 1 s scored. About 2 s to build and 15-25 s to run on a shared 2-core machine once
compiled; the first run compiles for several minutes.

Known deviations, measured here and kept visible (xfail, not a looser band): L23e fires at
0.43-0.44 Hz (-54%) and L23i at 2.0-2.1 Hz (-31%) at scale_K = 0.1 (seeds 1 and 2). They
are down-scaling effects, not the implementation: the same code at scale_K = 0.25 gives
0.69 Hz and 2.75 Hz, and the other six populations within 8% of the targets. The DC
compensation restores the mean input and the weights / sqrt(scale_K) its variance, but the
3.2x larger PSPs (IPSPs of -1.9 mV) skew the input distribution, and the two lowest-rate
populations, driven by its tail, lose most.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest

from circuits.potjans_diesmann import FULL_MEAN_RATES, POPULATIONS, PotjansDiesmann

pytestmark = pytest.mark.validation

RES_MS = 1.0
WINDOW_MS = 10.0
TRANSIENT_MS = 300.0
SCORED_MS = 1000.0
TOLERANCE = 0.25
#: populations outside the band at scale 0.1, with the deviation measured (seeds 1, 2)
KNOWN_LOW = {"L23e": "0.43-0.44 Hz, -54%", "L23i": "2.0-2.1 Hz, -31%"}


@pytest.fixture(scope="module")
def rates():
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "cython"
    try:
        b2.start_scope()
        b2.seed(1)
        circuit = PotjansDiesmann(
            "pd", resolution_ms=RES_MS, window_ms=WINDOW_MS, rng=np.random.default_rng(1)
        )
        bins = int(WINDOW_MS / RES_MS)
        counts = dict.fromkeys(POPULATIONS, 0)
        window = [0]

        def collect(k):
            w = circuit.collect_window(k * WINDOW_MS, bins)
            for pop, (t, _) in w.spikes.items():
                counts[pop] += np.count_nonzero(t >= TRANSIENT_MS)

        @b2.network_operation(dt=WINDOW_MS * b2.ms, when="start")
        def exchange():
            k = window[0]
            if k:
                collect(k - 1)
            circuit.set_input_window(np.zeros(bins), k * WINDOW_MS)
            window[0] += 1

        net = b2.Network(*circuit.network_objects(), exchange)
        net.run((TRANSIENT_MS + SCORED_MS) * b2.ms)
        collect(window[0] - 1)
    finally:
        b2.prefs.codegen.target = old
    result = {p: counts[p] / len(circuit.populations[p]) / (SCORED_MS * 1e-3) for p in POPULATIONS}
    print("rates (Hz):", {p: round(r, 3) for p, r in result.items()})
    return result


@pytest.mark.parametrize(
    "pop",
    [
        pytest.param(
            p,
            marks=pytest.mark.xfail(
                reason=f"{p} below the band at scale_K = 0.1: {KNOWN_LOW[p]}", strict=True
            ),
        )
        if p in KNOWN_LOW
        else p
        for p in POPULATIONS
    ],
)
def test_rate_within_25_percent_of_the_reference(rates, pop):
    target = FULL_MEAN_RATES[POPULATIONS.index(pop)]
    assert abs(rates[pop] - target) <= TOLERANCE * target, (pop, rates[pop], target)


def test_known_low_populations_stay_the_lowest_of_their_type(rates):
    # the deviations are bounded: L23e remains the slowest population and L23i the
    # slowest inhibitory one, as in the reference
    assert rates["L23e"] > 0.3
    assert rates["L23e"] == min(rates.values())
    assert rates["L23i"] == min(rates[p] for p in POPULATIONS if p.endswith("i"))


def test_layer_order_l5_above_l4_above_l6e_and_l23e(rates):
    assert rates["L5e"] > rates["L4e"] > max(rates["L6e"], rates["L23e"])
    assert rates["L5i"] > rates["L4i"]


@pytest.mark.parametrize("layer", ["L23", "L4", "L5", "L6"])
def test_inhibitory_faster_than_excitatory_partner(rates, layer):
    assert rates[f"{layer}i"] > rates[f"{layer}e"]
