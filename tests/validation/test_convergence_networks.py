"""Convergence of the spiking networks in time step: the quantities the shipped experiments
rely on, at the default step, against the same network at a quarter of it.

A network is chaotic: at another step the same network (same seed: same connections, same
initial state) follows another trajectory, so only its statistics can agree. Each quantity
is therefore pooled over seeds and long enough runs that its sampling error (printed, the
standard error over 500 ms blocks and seeds) is well below the 5 % asked; the assertion is
|default - quarter| <= 5 % of the quarter-step value.

Which quantities, for which experiment:
- ei_network (resting_state, gaba_loss: 800/200 cells): the E rate (what the connectome
  hears), the I rate, the field proxy's SD, the share of its 2-200 Hz power in the gamma
  band and the centroid of its 20-120 Hz spectrum (what the EEG sees; Welch, 1 s
  segments). Seeds 1-3, 6 s each, the first 200 ms left out.
- potjans_diesmann (cortical_column: scale 0.1, 7717 cells): the eight population rates,
  seed 1, 2 s after a 300 ms transient.
- brunel2000 (validation only, tests/validation/test_brunel2000.py): the AI regime's rate
  and the SI-fast regime's population frequency (N_E = 5000; 600 ms after 100 ms).
- basal_ganglia (parkinson_dbs; its cells' own step, 0.025 ms, against 0.00625 ms): every
  nucleus's rate in the parkinsonian state, seeds 1-2, 3 s after 0.5 s.

Measured when written (seeds and durations as above; value at the default step, at a
quarter of it, difference; +- the sampling errors):
    ei_network        E rate 2.074 / 2.141 Hz (-3.1 %, +-2.5 % / 3.6 %); I rate 7.007 /
                      7.128 Hz (-1.7 %); field SD 39.5 / 39.7 mV (-0.5 %); gamma share
                      0.560 / 0.541 (+3.5 %); 20-120 Hz centroid 57.3 / 57.5 Hz (-0.3 %)
    potjans_diesmann  within 3.1 % for every population (L5e +3.1 %, L6e -2.4 %); with
                      1 s scored, L23e's sampling error (6 %) alone exceeded 5 %
    brunel2000        AI rate 38.28 / 38.78 Hz (-1.3 %); SI fast rate 61.2 / 63.5 Hz
                      (-3.6 %), frequency 180 / 175 Hz (+2.9 %, 5 Hz resolution)
    basal_ganglia     NOT converged at 0.025 ms: STN 21.5 / 23.0 Hz (-6.5 %), GPi 41.0 /
                      43.2 Hz (-5.1 %), TC 18.1 / 17.2 Hz (+5.2 %), CTXI 15.9 / 15.0 Hz
                      (+6.0 %); GPe, CTX, D2 within 3 %; D1 silent at both. Marked as an
                      expected failure (strict) until the cells' step is fixed.
                      With the cells' exponential midpoint step (circuits/basal_ganglia.py,
                      "Integration"; single cells within 1.1 % of solve_ivp,
                      test_basal_ganglia_cells_convergence.py): STN -4.4 %, GPe -2.3 %,
                      GPi -0.6 %, TC -2.8 %, CTX +3.0 %, D2 0.0 %, CTXI 15.85 / 14.72 Hz
                      (+7.7 %, +-0.57 / 0.47), still failing on CTXI alone; with seeds 3-6
                      instead: STN 0.0 %, GPe +3.4 %, GPi -1.9 %, TC +2.0 %, CTX -2.0 %,
                      D2 +0.4 %, CTXI 14.00 / 15.08 Hz (-7.2 %): CTXI's sign flips with
                      the seeds (seed-to-seed spread beyond the block errors), over seeds
                      1-6 -2.3 %. Left marked: two seeds do not resolve CTXI.
The sampling errors of ei_network's rates (2-4 %) are close to the tolerance: this check
resolves a step error of about 5-10 %, not less.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from circuit_harness import build, run_windows

from multiscale.circuits.basal_ganglia import ORDER as BG_POPULATIONS
from multiscale.circuits.basal_ganglia import BasalGanglia
from multiscale.circuits.brunel2000 import Brunel2000
from multiscale.circuits.ei_network import EINetwork
from multiscale.circuits.potjans_diesmann import POPULATIONS as PD_POPULATIONS
from multiscale.circuits.potjans_diesmann import PotjansDiesmann

pytestmark = pytest.mark.validation

TOLERANCE = 0.05  # of the quarter-step value
BLOCK_MS = 500.0


@pytest.fixture(autouse=True)
def cython_target():
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "cython"
    yield
    b2.prefs.codegen.target = old


def pooled_rate(runs, pop: str, n_cells: int, start_ms: float, stop_ms: float,
                block_ms: float = BLOCK_MS):  # fmt: skip
    """Rate (Hz) of ``pop`` over [start, stop) pooled over runs, and its standard error
    from blocks of ``block_ms`` (Hz)."""
    edges = np.arange(start_ms, stop_ms + 1e-9, block_ms)
    blocks = np.concatenate(
        [np.histogram(r[pop][0], bins=edges)[0] / n_cells / (block_ms / 1000) for r in runs]
    )
    return blocks.mean(), blocks.std(ddof=1) / np.sqrt(len(blocks))


def report(name: str, default: dict, quarter: dict) -> list[str]:
    """Print each quantity at both steps; the ones off by more than the tolerance."""
    bad = []
    for key, (value, se) in default.items():
        ref, ref_se = quarter[key]
        if value == ref == 0:
            print(f"{name} {key}: 0 at both steps")
            continue
        error = (value - ref) / ref
        print(f"{name} {key}: {value:.4g} +- {se:.2g} at the default step, {ref:.4g} +- "
              f"{ref_se:.2g} at a quarter: {100 * error:+.1f} %")  # fmt: skip
        if abs(error) > TOLERANCE:
            bad.append(f"{key} {100 * error:+.1f} %")
    return bad


# --- ei_network ---------------------------------------------------------------------------
EI_SEEDS, EI_MS, EI_SKIP_MS = (1, 2, 3), 6000.0, 200.0


def ei_quantities(dt_ms: float) -> dict:
    runs = [
        run_windows(build(EINetwork, "ei", {"n_E": 800, "n_I": 200}, seed=s, brian_dt_ms=dt_ms),
                    EI_MS)
        for s in EI_SEEDS
    ]  # fmt: skip
    out = {
        f"{pop} rate (Hz)": pooled_rate(runs, pop, n, EI_SKIP_MS + 300, EI_MS)
        for pop, n in (("E", 800), ("I", 200))
    }
    sd, gamma, centre = [], [], []
    for r in runs:
        f = r["field"][int(EI_SKIP_MS) :]
        x, n = f - f.mean(), 1000  # Welch: 1 s Hann segments, half overlap
        power = np.mean([np.abs(np.fft.rfft(x[s : s + n] * np.hanning(n))) ** 2
                         for s in range(0, len(x) - n + 1, n // 2)], axis=0)  # fmt: skip
        freq = np.fft.rfftfreq(n, 1e-3)
        sd.append(f.std())
        gamma.append(
            power[(freq >= 30) & (freq < 80)].sum() / power[(freq >= 2) & (freq < 200)].sum()
        )
        band = (freq >= 20) & (freq <= 120)
        centre.append((power[band] * freq[band]).sum() / power[band].sum())
    n = len(runs)
    out["field SD (mV)"] = (np.mean(sd), np.std(sd, ddof=1) / np.sqrt(n))
    out["field gamma share"] = (np.mean(gamma), np.std(gamma, ddof=1) / np.sqrt(n))
    out["field 20-120 Hz centroid (Hz)"] = (np.mean(centre), np.std(centre, ddof=1) / np.sqrt(n))
    return out


def test_ei_network_rates_and_field_converge():
    bad = report("ei_network", ei_quantities(0.1), ei_quantities(0.025))
    assert not bad, bad


# --- potjans_diesmann -----------------------------------------------------------------------
PD_MS, PD_SKIP_MS = 2300.0, 300.0


def pd_rates(dt_ms: float) -> dict:
    circuit = build(PotjansDiesmann, "pd", {"scale_N": 0.1, "scale_K": 0.1}, seed=1,
                    brian_dt_ms=dt_ms)  # fmt: skip
    sizes = {p: len(circuit.populations[p]) for p in PD_POPULATIONS}
    run = run_windows(circuit, PD_MS)
    return {f"{p} rate (Hz)": pooled_rate([run], p, sizes[p], PD_SKIP_MS, PD_MS)
            for p in PD_POPULATIONS}  # fmt: skip


def test_potjans_diesmann_rates_converge():
    bad = report("potjans_diesmann", pd_rates(0.1), pd_rates(0.025))
    assert not bad, bad


# --- brunel2000 ---------------------------------------------------------------------------
BRUNEL_MS, BRUNEL_SKIP_MS = 700.0, 100.0


def brunel_quantities(dt_ms: float) -> dict:
    out = {}
    for regime, knobs in (("AI", {"g": 5.0, "eta": 2.0}), ("SI fast", {"g": 6.0, "eta": 4.0})):
        circuit = build(Brunel2000, "brunel", {"n_E": 5000, "n_I": 1250, **knobs}, seed=1,
                        brian_dt_ms=dt_ms)  # fmt: skip
        run = run_windows(circuit, BRUNEL_MS)
        rate, se = pooled_rate([run], "E", 5000, BRUNEL_SKIP_MS, BRUNEL_MS, block_ms=100.0)
        out[f"{regime} E rate (Hz)"] = (rate, se)
        if regime == "SI fast":
            t = np.concatenate([run["E"][0], run["I"][0]])
            counts = np.histogram(t, bins=np.arange(BRUNEL_SKIP_MS, BRUNEL_MS + 1e-9, 0.5))[0]
            x = counts - counts.mean()
            n = 400  # 200 ms segments: 5 Hz resolution
            segs = [x[s : s + n] * np.hanning(n) for s in range(0, len(x) - n + 1, n // 2)]
            power = np.mean([np.abs(np.fft.rfft(s)) ** 2 for s in segs], axis=0)
            freq = np.fft.rfftfreq(n, 0.5e-3)
            band = (freq >= 20) & (freq <= 500)
            out["SI fast peak (Hz)"] = (freq[band][np.argmax(power[band])], freq[1] / 2)
    return out


def test_brunel2000_rate_and_oscillation_converge():
    bad = report("brunel2000", brunel_quantities(0.1), brunel_quantities(0.025))
    assert not bad, bad


# --- basal_ganglia ------------------------------------------------------------------------
BG_SEEDS, BG_MS, BG_SKIP_MS = (1, 2), 3500.0, 500.0


def bg_rates(cell_dt_ms: float) -> dict:
    runs, sizes = [], {}
    for seed in BG_SEEDS:
        circuit = build(BasalGanglia, "bg", {"parkinsonian": 1.0, "cell_dt": cell_dt_ms},
                        seed=seed, brian_dt_ms=0.1)  # fmt: skip
        sizes = {p: len(circuit.populations[p]) for p in BG_POPULATIONS}
        runs.append(run_windows(circuit, BG_MS))
    return {f"{p} rate (Hz)": pooled_rate(runs, p, sizes[p], BG_SKIP_MS, BG_MS)
            for p in BG_POPULATIONS}  # fmt: skip


@pytest.mark.xfail(
    strict=True,
    reason="CTXI's rate at seeds 1-2 differs by +7.7 % between 0.025 and 0.00625 ms "
    "(-7.2 % at seeds 3-6: sampling); before the cells' exponential midpoint step also STN "
    "-6.5 %, GPi -5.1 %, TC +5.2 %; strict, so a fix makes this fail until the mark is "
    "removed",
)
def test_basal_ganglia_rates_converge():
    bad = report("basal_ganglia", bg_rates(0.025), bg_rates(0.00625))
    assert not bad, bad
