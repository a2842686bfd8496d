"""Convergence of the spiking networks in time step: the quantities the shipped experiments
rely on, at the default step, against the same network at a quarter of it.

A network is chaotic: at another step the same network (same seed: same connections, same
initial state) follows another trajectory, so only its statistics can agree. Each quantity
is therefore pooled over seeds and long enough runs that its sampling error (printed) is
well below the 5 % asked; the assertion is |default - quarter| <= 5 % of the quarter-step
value.

Two designs. For ei_network, basal_ganglia and hh_ei_network, whose cells can run on a
clock of their own, brian.dt (the framework's step, hence the external spikes' time grid)
stays 0.1 ms and only the cells' step changes: a seed gives the same network, initial
state and external spikes at both steps, each run at one step is paired with the same
seed's run at the other, and the standard error is that of the mean paired difference over
independent networks (40 seeds of the E/I network, 16 copies of the 10-cell basal ganglia
circuit, four seeds of the HH network); the test also asserts that it is under 2 %, so a
pass resolves the 5 %. For potjans_diesmann and brunel2000 brian.dt itself changes and the
error printed is the standard error over 500 ms (brunel: 100 ms) blocks. Block errors miss
the variation between networks and slow fluctuations: basal_ganglia's CTXI varies by 6-7 %
between 3 s runs of different seeds against a block error of 3.8 %; ei_network's E rate by
~7 % between 2 s runs.

Which quantities, for which experiment (ei_network's and hh_ei_network's checks are in
test_convergence_ei_network.py and test_convergence_hh_ei_network.py, so that the test
workers can share the work):
- ei_network (resting_state, gaba_loss: 800/200 cells; exponential Euler, dt_cell 0.1 ms
  against 0.025 ms): the E rate (what the connectome hears), the I rate, the field proxy's
  SD, the share of its 2-200 Hz power in the gamma band and the centroid of its 20-120 Hz
  spectrum (what the EEG sees; Welch, 1 s segments). Seeds 1-40, 2 s after 500 ms.
- potjans_diesmann (cortical_column: scale 0.1, 7717 cells): the eight population rates,
  seed 1, 2 s after a 300 ms transient.
- brunel2000 (validation only, tests/validation/test_brunel2000.py): the AI regime's rate
  and the SI-fast regime's population frequency (N_E = 5000; 600 ms after 100 ms).
- basal_ganglia (parkinson_dbs; its cells' own step, 0.025 ms, against 0.00625 ms): every
  nucleus's rate in the parkinsonian state, 16 independent copies of the 10-cell circuit
  built at seed 1, 3 s after 0.5 s.
- hh_ei_network (dravet, epilepsy_focal: 400/100 cells; its cells' own step, 'rk4' at
  0.05 ms, against 0.0125 ms): the E and I rates and the field proxy's dominant frequency
  (centroid of its 15-50 Hz spectrum); its SD printed. Seeds 1-4, 1.5 s after 300 ms.

Measured (this version: the external spikes drawn in generated code,
multiscale/poisson_drive.py; delays in NEST's convention; seeds and durations as above;
value at the default step, at a quarter of it, difference +- the standard error):
    ei_network        (paired over seeds 1-40) E rate 1.980 / 1.989 Hz (-0.45 +- 1.11 %),
                      I rate 6.921 / 6.928 Hz (-0.09 +- 0.51 %), field SD 40.08 / 38.43 mV
                      (+4.30 +- 1.36 %: inside 5 %, not by much), gamma share 0.5645 /
                      0.5622 (+0.42 +- 1.71 %), 20-120 Hz centroid 56.87 / 56.92 Hz (-0.09
                      +- 0.45 %). Seeds 1-4 alone read -3.6 +- 6.4 % (E) and -1.5 +- 1.4 %
                      (SD): why 40. With brian.dt itself at a quarter (the external spikes
                      on a finer grid too, independent realisations; the previous design,
                      seeds 1-3, 6 s, block errors): E -0.6 %, I -0.0 %, gamma share
                      -0.6 %, centroid -0.6 %, field SD +8.1 % (+-2.5 %); a probe of the
                      previous drive over 24 seeds: SD +4.1 +- 1.8 %. The two agree on the
                      field's SD (~+4 %): the cells' step, not the input's grid, sets it.
    potjans_diesmann  within 3.1 % for every population (L6e -3.1 %, L5i +1.1 %, L23e +0.7 %
                      +- 3 %)
    brunel2000        AI rate 37.94 / 37.95 Hz (-0.0 %); SI fast rate 60.69 / 62.17 Hz
                      (-2.4 %), frequency 175 / 175 Hz (5 Hz resolution)
    basal_ganglia     (paired over 16 copies) STN 23.47 / 23.29 Hz (+0.8 +- 1.0 %), GPe
                      -0.1 +- 0.8 %, GPi 44.24 / 44.78 (-1.2 +- 0.5 %), TC 16.97 / 16.79
                      (+1.0 +- 1.0 %), CTX +0.5 +- 0.5 %, CTXI 14.80 / 14.91 (-0.7 +- 1.5 %),
                      D2 -0.7 +- 0.8 %; D1 silent at both.
                      History: at 0.025 ms with the cells' former exponential Euler step,
                      STN -6.5 %, GPi -5.1 %, TC +5.2 %, CTXI +6.0 % (two seeds); after
                      the exponential midpoint step (circuits/basal_ganglia.py,
                      "Integration") only CTXI failed, +7.7 % at seeds 1-2 and -7.2 % at
                      seeds 3-6 (block errors at seeds 1-2 +-0.57 / 0.47 Hz): sampling, not
                      the step; a strict expected failure until the paired design.
    hh_ei_network     (paired over seeds 1-4) E 1.947 / 1.956 Hz (-0.45 +- 0.93 %), I 10.83 /
                      10.83 Hz (+0.02 +- 0.60 %), dominant frequency 31.25 / 31.26 Hz
                      (-0.02 +- 1.27 %); field SD 13.83 / 14.00 mV (-1.2 +- 4.6 %: printed,
                      not asserted; over seeds 1-14, outside the suite: +1.67 +- 1.87 %,
                      test_hh_ei_network_rates_and_field_converge).
"""

from __future__ import annotations

import numpy as np
import pytest
from circuit_harness import build, run_windows
from convergence_harness import (  # noqa: F401 (fixture)
    cython_target,
    paired_check,
    pooled_rate,
    population_rates,
    report,
    welch,
)

from multiscale.circuits.basal_ganglia import ORDER as BG_POPULATIONS
from multiscale.circuits.basal_ganglia import BasalGanglia
from multiscale.circuits.brunel2000 import Brunel2000
from multiscale.circuits.potjans_diesmann import POPULATIONS as PD_POPULATIONS
from multiscale.circuits.potjans_diesmann import PotjansDiesmann

pytestmark = pytest.mark.validation

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
BG_CELLS = 10  # cells per population: KBG's, the circuit's default, parkinson_dbs's
BG_COPIES, BG_SEED, BG_MS, BG_SKIP_MS = 16, 1, 3500.0, 500.0


class BasalGangliaCopies(BasalGanglia):
    """``n / 10`` independent copies of the 10-cell circuit side by side in its one group
    (n cells per population): each copy gets KBG's connectivity among its own cells only
    (its rings, all-to-all striatum -> pallidum and random permutations), drawn in turn from
    the circuit's random stream, so its own random conductances; the cells, their step
    code, kernels, delays and external drive are the circuit's. One copy is the circuit
    itself (same spikes as ``BasalGanglia`` at the same seed). On 80 cells Brian2's cost
    is the number of code objects run per step, not the arithmetic, so 16 copies cost
    ~3x one: the copies are independent samples of the network for little cost."""

    def _connections(self, n: int, offset: dict):
        parts = []
        for copy in range(n // BG_CELLS):
            shifted = {pop: first + copy * BG_CELLS for pop, first in offset.items()}
            parts.append(super()._connections(BG_CELLS, shifted))
        pre, post, delay = (np.concatenate([p[k] for p in parts]) for k in range(3))
        return pre, post, delay, {w: np.concatenate([p[3][w] for p in parts]) for w in parts[0][3]}


def bg_copy_rates(cell_dt_ms: float) -> dict[str, np.ndarray]:
    """Each population's rate (Hz) in each copy over [BG_SKIP_MS, BG_MS)."""
    circuit = build(BasalGangliaCopies, "bg",
                    {"parkinsonian": 1.0, "cell_dt": cell_dt_ms, "n": BG_CELLS * BG_COPIES},
                    seed=BG_SEED, brian_dt_ms=0.1)  # fmt: skip
    run = run_windows(circuit, BG_MS)
    seconds = (BG_MS - BG_SKIP_MS) / 1000
    out = {}
    for pop in BG_POPULATIONS:
        t, i = run[pop]
        late = t >= BG_SKIP_MS
        counts = np.bincount(i[late] // BG_CELLS, minlength=BG_COPIES)
        out[pop] = counts / BG_CELLS / seconds
    return out


def test_basal_ganglia_rates_converge():
    """Every nucleus's rate in the parkinsonian state (parkinson_dbs's), the cells' default
    step 0.025 ms against 0.00625 ms, within 5 %, with a standard error under 2 %.

    Design. Seed 1 builds 16 independent copies of the 10-cell circuit
    (``BasalGangliaCopies``); each copy at one step is paired with the same copy at the
    other (same connections, random conductances, initial state and external spikes: only
    the cells' step differs), and the error is the mean over copies of the paired
    difference, relative to the quarter-step mean; its standard error is the spread of the
    16 paired differences / 4. The copies are independent networks, so that spread holds
    every source of variation (the network drawn, slow fluctuations), which 500 ms blocks
    of two seeds did not: CTXI's rate (10 cells, ~15 Hz) varies by 6-7 % between 3 s runs
    of different seeds, against a block error of 3.8 %, which is why the check at seeds 1-2
    found +7.7 % and at seeds 3-6 -7.2 %. Over 8 single-circuit seeds, the same rates
    differed by -1.9 % +- 3.0 % (paired over seeds).

    Measured (3 s after 0.5 s, 16 copies; default / quarter, error +- standard error), at
    seed 1 (the test's): STN 23.47 / 23.29 Hz (+0.79 +- 0.98 %), GPe 20.42 / 20.43 (-0.06
    +- 0.82 %), GPi 44.24 / 44.78 (-1.21 +- 0.52 %), TC 16.97 / 16.79 (+1.04 +- 1.04 %),
    CTX 11.84 / 11.78 (+0.48 +- 0.50 %), CTXI 14.80 / 14.91 (-0.68 +- 1.46 %), D2 7.92 /
    7.98 (-0.65 +- 0.82 %); D1 silent at both. With the previous drive (drawn in Python),
    at seeds 2 and 3 (16 other copies each) every error was within 2 %.
    Cost: 46 s at the default step and 172 s at the quarter step (one copy: 16 s and
    70 s), cython, this project's 2-core machine with other work on it.
    """
    default, quarter = bg_copy_rates(0.025), bg_copy_rates(0.00625)
    paired_check("basal_ganglia", default, quarter, f"{BG_COPIES} copies")
