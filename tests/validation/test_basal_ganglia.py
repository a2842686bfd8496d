"""BasalGanglia (circuits/basal_ganglia.py) against docs/science.md "Parkinsonian beta and DBS"
(Kumaravelu, Brocker & Grill 2016): parkinsonian / healthy GPi beta power > 1.5, 130 Hz
STN-DBS at least halves the parkinsonian beta power, 20 Hz DBS changes it by less than 20 %.

The isolated circuit at its defaults (10 cells per nucleus, cell_dt 0.025 ms, brian.dt
0.1 ms, 5 Hz cortical background, no connectome input), four conditions x 2 seeds
(Brian2 build seed and external-drive stream both from the seed), 3.5 s each, the first
0.5 s dropped: 3 s analysed per run, 24 s simulated in all (about 3 minutes here, compiled).
DBS: KBG's monophasic 300 uA/cm2, 0.3 ms pulses into every STN cell = 3 nA at the default
1000 um2 area, on from t = 0.

Beta power: ``gpi_beta_power``, the 7-35 Hz power (Hz^2) of the GPi population activity
(all GPi spikes in 1 ms bins as a rate per cell, Welch PSD, 1 s Hann segments). The ratios
are of the condition means over the seeds; KBG's own per-cell measure
(``per_cell_beta_power``) is printed alongside (run pytest with -s).

Measured when written (population measure, ratio of seed means, per-seed ratios in
brackets), seeds 1, 2 as run here: parkinsonian / healthy 8.7 (8.4, 9.0); 130 Hz DBS /
parkinsonian 0.32 (0.36, 0.28); 20 Hz DBS / parkinsonian 0.86 (0.81, 0.91). Seeds 3, 4 at
6 s (5.5 s analysed), run apart: 10.7 (10.6, 10.9); 0.37 (0.37, 0.37); 1.06 (1.13, 0.99).
The 20 Hz ratio is the least certain: 0.81-1.13 over the four seeds, mean 0.96.
With exact delays (multiscale/circuit.py, "Delays"; each connection had acted one 0.025 ms
step late), seeds 1, 2: 8.75 (8.53, 8.96); 0.31 (0.40, 0.23); 0.91 (0.85, 0.95); per cell
1.44, 0.37, 1.00.
With the exponential midpoint integrator (circuits/basal_ganglia.py, "Integration"; it
replaced a Rush-Larsen Euler step that left the STN cell's f-I curve 17 % low,
tests/validation/test_basal_ganglia_cells_convergence.py), seeds 1, 2: 7.22 (6.44, 8.18);
0.35 (0.40, 0.29); 0.82 (0.90, 0.76); per cell 1.43, 0.38, 1.01.
With synaptic delays in NEST's convention (multiscale/circuit.py "Delays": each connection
acts one 0.025 ms step later than in the line above), seeds 1, 2: 10.4 (9.35, 11.6); 0.30
(0.37, 0.23); 0.87 (0.84, 0.89); per cell 1.48 (1.73, 1.28), 0.36, 1.00.
This version (the external drive drawn in generated code, multiscale/poisson_drive.py: the
same statistics, other realisations), seeds 1, 2: 9.03 (10.9, 7.82); 0.30 (0.38, 0.22);
0.85 (0.90, 0.81). The 20 Hz ratio remains the least certain (0.15 from 1, the bound 0.2).
KBG's per-cell measure, seeds 1, 2: parkinsonian / healthy 1.50 (1.82, 1.28) - at the 1.5
target (1.48, below it, with the previous drive), not asserted -, 130 Hz 0.36, 20 Hz 0.99.
The parkinsonian synchrony is clear (GPi population spectrum peaks at 20 Hz, flat in the
healthy state), but with 10 cells each train's own rate-dependent floor dominates the
per-cell spectra, and GPi fires faster in the parkinsonian state (about 43 Hz against
24 Hz), which raises that floor in both.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest

from multiscale.analysis import gpi_beta_power, per_cell_beta_power
from multiscale.circuits.basal_ganglia import BasalGanglia

pytestmark = pytest.mark.validation

SEEDS = (1, 2)
DURATION_MS = 3500.0
SKIP_MS = 500.0
RES_MS, WINDOW_MS = 1.0, 10.0
DBS = {"amplitude_na": 3.0, "width_ms": 0.3, "start_ms": 0.0, "stop_ms": DURATION_MS}
CONDITIONS = {  # parkinsonian knob, DBS frequency (Hz) or None
    "healthy": (0.0, None),
    "parkinsonian": (1.0, None),
    "dbs130": (1.0, 130.0),
    "dbs20": (1.0, 20.0),
}


def gpi_spikes(seed: int, parkinsonian: float, dbs_hz: float | None):
    """GPi spike times (ms) and indices of one run, through the co-simulation's window
    protocol (external drive drawn a window at a time), one net.run()."""
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(seed)
    circuit = BasalGanglia(
        "bg",
        {"parkinsonian": parkinsonian},
        resolution_ms=RES_MS,
        window_ms=WINDOW_MS,
        rng=np.random.default_rng(seed),
    )
    if dbs_hz is not None:
        circuit.add_pulse_train("STN", frequency_hz=dbs_hz, **DBS)
    objects = circuit.network_objects()
    bins = int(WINDOW_MS / RES_MS)
    parts, k = [], [0]

    @b2.network_operation(dt=WINDOW_MS * b2.ms, when="start")
    def exchange():
        if k[0]:
            parts.append(circuit.collect_window((k[0] - 1) * WINDOW_MS, bins).spikes["GPi"])
        circuit.set_input_window(np.zeros(bins), k[0] * WINDOW_MS)
        k[0] += 1

    b2.Network(*objects, exchange).run(DURATION_MS * b2.ms)
    parts.append(circuit.collect_window((k[0] - 1) * WINDOW_MS, bins).spikes["GPi"])
    t, i = (np.concatenate(x) for x in zip(*parts, strict=True))
    return t, i, len(circuit.populations["GPi"])


@pytest.fixture(scope="module")
def beta():
    """(population, per-cell) 7-35 Hz GPi power (Hz^2) per condition and seed."""
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "auto"
    out = {}
    try:
        for name, (pd, dbs_hz) in CONDITIONS.items():
            for seed in SEEDS:
                t, i, n = gpi_spikes(seed, pd, dbs_hz)
                out[name, seed] = (
                    gpi_beta_power(t, n, SKIP_MS, DURATION_MS),
                    per_cell_beta_power(t, i, n, SKIP_MS, DURATION_MS),
                )
    finally:
        b2.prefs.codegen.target = old
    for name in CONDITIONS:
        print(name, {seed: tuple(round(v, 1) for v in out[name, seed]) for seed in SEEDS})
    return out


def ratio(beta, a: str, b: str, which: int = 0) -> tuple[float, list[float]]:
    """Ratio of the seed means of conditions a and b, and the per-seed ratios."""
    mean = {c: np.mean([beta[c, s][which] for s in SEEDS]) for c in (a, b)}
    return mean[a] / mean[b], [beta[a, s][which] / beta[b, s][which] for s in SEEDS]


def test_parkinsonian_state_exaggerates_gpi_beta(beta):
    r, per_seed = ratio(beta, "parkinsonian", "healthy")
    print(
        "parkinsonian / healthy",
        r,
        per_seed,
        "per cell (KBG)",
        ratio(beta, "parkinsonian", "healthy", 1),
    )
    assert r > 1.5, per_seed


def test_130_hz_dbs_halves_parkinsonian_beta(beta):
    r, per_seed = ratio(beta, "dbs130", "parkinsonian")
    print(
        "130 Hz DBS / parkinsonian",
        r,
        per_seed,
        "per cell (KBG)",
        ratio(beta, "dbs130", "parkinsonian", 1),
    )
    assert r <= 0.5, per_seed


def test_20_hz_dbs_leaves_parkinsonian_beta_within_20_percent(beta):
    r, per_seed = ratio(beta, "dbs20", "parkinsonian")
    print(
        "20 Hz DBS / parkinsonian",
        r,
        per_seed,
        "per cell (KBG)",
        ratio(beta, "dbs20", "parkinsonian", 1),
    )
    assert abs(r - 1.0) < 0.2, per_seed
