"""Convergence of the QIF population (circuits/qif_population.py) to its exact mean field:
at the default step (brian.dt = 0.1 ms) and size (N = 10 000), the population's rate r(t)
and mean potential V(t) follow the Montbrio-Pazo-Roxin equations, integrated here by
scipy's solve_ivp at tight tolerance, within 5 %, on inputs that probe the bistable range
of the paper's Fig. 2 network (eta_bar = -5, J = 15, Delta = 1, tau = 10 ms). The MPR
equations (the paper's firing-rate equations for r and V) are written out below, not taken
from regions/montbrio_pazo_roxin.py.

Inputs I(t) (constant per 1 ms bin, the co-simulation's exchange bin). The folds of the
bistable range: the low state exists for I < I_up = 1.864, the high one for
I > I_down = -0.744.
- paper: tests/validation/test_qif_mpr.py's protocol (0, a step to 3 for 300 ms from 200 ms,
  0, then 3 sin(2 pi (t - 600 ms) / 400 ms)), 1400 ms.
- fold: a step from 0 to 2.0 at 100 ms, just past I_up: the low state is gone but its ghost
  holds the rate for ~90 ms before the jump, whose timing is sensitive to any error in the
  rate (a slow passage), 600 ms.
- hold: a ramp to 1.7 (inside the range, near I_up) held on the low branch, a kick to 3,
  a ramp down to -0.6 (near I_down) held on the high branch, 800 ms.
- sine: 0.6 + 2 sin(2 pi t / 200 ms), crossing both folds every period, 900 ms.
The current is given to every cell as I_stim (deterministic), so that the comparison is of
the integration alone; the shot noise of the co-simulation's spike drive is the subject of
test_qif_mpr.py.

Measures (t >= 100 ms; the first 100 ms are the population's start-up transient from
random phases; the MPR node starts at its low fixed point):
- rate: relative L2 error ||r - r_MPR|| / ||r_MPR|| of the rate in 1 ms bins;
- potential: relative L2 error of V sampled at every bin edge. The population's V is the
  median of the v_i: the potentials are Lorentzian-distributed around the MPR's V (half-
  width pi tau r), whose mean does not exist (a cell near its spike is near infinity);
- fold: the time from the step to the jump (r first above 60 Hz, between the ghost's
  ~20 Hz and the high state's 128 Hz), relative to the MPR's;
- hold: the mean rates of the last 100 ms of each hold, relative.
All asserted < 5 %.

Measured (cython target, seed 1; "before" = the circuit as it was: the paper's quantiles
tan(pi/2 (2i - N - 1)/(N + 1)) and the recurrent input one step late):

| input | quantity | now, default dt 0.1 ms | before | before, dt 0.025 ms | before, N 40 000 |
| --- | --- | --- | --- | --- | --- |
| paper | rate, rel. L2 | 0.008 | 0.107 | 0.092 | 0.086 |
| paper | V, rel. L2 | 0.005 | 0.155 | 0.139 | 0.124 |
| fold | rate, rel. L2 | 0.007 | 0.231 | 0.239 | 0.194 |
| fold | V, rel. L2 | 0.016 | 0.867 | 0.928 | 0.812 |
| fold | jump (MPR: 90 ms after the step) | 90 ms, 0 % | 111 ms, +23 % | 109 ms, +21 % | +11 % |
| hold | rate, rel. L2 | 0.011 | 0.122 | 0.100 | 0.101 |
| hold | V, rel. L2 | 0.008 | 0.201 | 0.173 | 0.164 |
| hold | low hold rate (MPR 12.84 Hz) | -0.01 % | -4.6 % | -4.6 % | -2.3 % |
| hold | high hold rate (MPR 87.57 Hz) | -0.02 % | -2.3 % | -2.3 % | -1.1 % |
| sine | rate, rel. L2 | 0.011 | 0.285 | 0.276 | 0.200 |
| sine | V, rel. L2 | 0.006 | 0.314 | 0.313 | 0.217 |

With the corrected circuit at dt 0.025 ms every number is the same to +-0.001 (the rest
is finite N). Runtime of this module: ~13 s (warm cython cache).

Why the circuit failed and what changed (circuits/qif_population.py, "Excitabilities" and
"Recurrent coupling"): two errors, each of which alone kept it above 5 %. (1) The paper's
quantiles give the population an O(N^-1/2) rate deficit (-3.8 % in the low state at
N = 10 000), which shifts the folds; 4x more cells only halve it, so "more neurons do not
help". (2) The one-step delay of the recurrent input: an exactly integrated MPR node with
the old scheme's delayed, step-held rate differs from the true one by 7-18 % on these
inputs; a quarter of the step halves that but leaves (1). Now the tail cells sit where the
slice's mean sqrt(eta) puts them and the recurrent input of a step is the rate of its own
spikes (a trial step, predictor-corrector). The default dt stays 0.1 ms. Cost of the
trial step: 1 s simulated of the default population, 1.86 -> 2.85 s and 2.72 -> 4.16 s
under two loads (cython, this project's 2-core machine).
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from multiscale.circuits.qif_population import QIFPopulation

pytestmark = pytest.mark.validation

N = 10_000
TAU_MS = 10.0
ETA_BAR = -5.0
J_REC = 15.0  # (not J: Brian2 would also see it in the run namespace)
DELTA = 1.0
BIN_MS = 1.0
SKIP_MS = 100.0
TOL = 0.05
JUMP_HZ = 60.0


def protocol(name: str) -> np.ndarray:
    """I(t) per 1 ms bin (module docstring)."""
    if name == "paper":
        t = np.arange(1400) + 0.5
        current = np.where((t >= 200.0) & (t < 500.0), 3.0, 0.0)
        sine = t >= 600.0
        current[sine] = 3.0 * np.sin(2 * np.pi * (t[sine] - 600.0) / 400.0)
        return current
    if name == "fold":
        t = np.arange(600) + 0.5
        return np.where(t >= 100.0, 2.0, 0.0)
    if name == "hold":
        t = np.arange(800) + 0.5
        return np.interp(
            t,
            [0, 100, 200, 400, 400.001, 450, 450.001, 550, 800],
            [0, 0, 1.7, 1.7, 3, 3, 3, -0.6, -0.6],
        )
    t = np.arange(900) + 0.5
    return 0.6 + 2.0 * np.sin(2 * np.pi * t / 200.0)


def mpr_rhs(_t, y, current):
    """MPR equations in ms, r in kHz; y = (r, V, integral of r)."""
    r, v, _ = y
    tau = TAU_MS
    return [
        (DELTA / (np.pi * tau) + 2 * v * r) / tau,
        (v * v - (np.pi * tau * r) ** 2 + ETA_BAR + J_REC * tau * r + current) / tau,
        r,
    ]


def mpr_low_state(current: float) -> tuple[float, float]:
    """(r kHz, V) of the low fixed point: V = -Delta / (2 pi tau r) and
    -pi^2 tau^2 r^4 + J tau r^3 + (eta + I) r^2 + Delta^2 / (4 pi^2 tau^2) = 0."""
    tau = TAU_MS
    roots = np.roots(
        [
            -(np.pi**2) * tau**2,
            J_REC * tau,
            ETA_BAR + current,
            0.0,
            DELTA**2 / (2 * np.pi * tau) ** 2,
        ]
    )
    r = np.sort(roots[(np.abs(roots.imag) < 1e-9) & (roots.real > 0)].real)[0]
    return r, -DELTA / (2 * np.pi * tau * r)


def run_mpr(current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bin-mean rate (Hz) and V at every bin edge, solve_ivp bin by bin (LSODA, rtol
    1e-10) from the low fixed point."""
    y = np.array([*mpr_low_state(current[0]), 0.0])
    integral, v = [0.0], [y[1]]
    for k, value in enumerate(current):
        sol = solve_ivp(
            mpr_rhs,
            (k * BIN_MS, (k + 1) * BIN_MS),
            y,
            method="LSODA",
            rtol=1e-10,
            atol=1e-12,
            args=(value,),
        )
        y = sol.y[:, -1]
        integral.append(y[2])
        v.append(y[1])
    return np.diff(integral) / BIN_MS * 1000.0, np.array(v)


def run_qif(current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate (Hz) per bin and the median potential at every bin edge of the circuit at its
    defaults (N, brian.dt 0.1 ms), I(t) as I_stim."""
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1)
    circuit = QIFPopulation(
        "qif",
        {"n": N, "tau": TAU_MS, "eta_bar": ETA_BAR, "J": J_REC, "Delta": DELTA},
        resolution_ms=BIN_MS,
        window_ms=10.0,
        rng=np.random.default_rng(1),
    )
    group = circuit.populations["QIF"]
    i_unit = circuit.params["I_unit"] * b2.nA
    medians = []

    @b2.network_operation(dt=BIN_MS * b2.ms, when="start")
    def apply(t):
        medians.append(float(np.median(group.v_[:])))
        k = int(round(float(t / b2.ms) / BIN_MS))
        if k < len(current):
            group.I_stim = current[k] * i_unit

    spikes = b2.SpikeMonitor(group)
    duration = len(current) * BIN_MS
    b2.Network(*circuit.network_objects(), apply, spikes).run(duration * b2.ms)
    medians.append(float(np.median(group.v_[:])))
    counts = np.histogram(np.asarray(spikes.t_) * 1e3, bins=np.arange(len(current) + 1) * BIN_MS)
    return counts[0] / N / (BIN_MS * 1e-3), np.array(medians)


def relative_l2(x: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(x - ref) / np.linalg.norm(ref))


@pytest.fixture(scope="module")
def results():
    """input name -> (current, (rate, V) of the circuit, (rate, V) of the MPR), computed
    on first use, cython target."""
    cache = {}

    def get(name):
        if name not in cache:
            current = protocol(name)
            old = b2.prefs.codegen.target
            b2.prefs.codegen.target = "cython"
            try:
                qif = run_qif(current)
            finally:
                b2.prefs.codegen.target = old
            cache[name] = current, qif, run_mpr(current)
        return cache[name]

    return get


@pytest.mark.parametrize("name", ["paper", "fold", "hold", "sine"])
def test_rate_and_potential_follow_the_mean_field(results, name):
    _, (rate, v), (rate_mpr, v_mpr) = results(name)
    keep = slice(int(SKIP_MS / BIN_MS), None)
    errors = relative_l2(rate[keep], rate_mpr[keep]), relative_l2(v[keep], v_mpr[keep])
    print(f"{name}: rate rel. L2 {errors[0]:.3f}, V rel. L2 {errors[1]:.3f}")
    assert errors[0] < TOL
    assert errors[1] < TOL


def test_jump_past_the_fold_comes_at_the_mean_field_time(results):
    current, (rate, _), (rate_mpr, _) = results("fold")
    onset = int(np.argmax(current > 0))
    jump = [int(np.argmax(r[onset:] > JUMP_HZ)) * BIN_MS for r in (rate, rate_mpr)]
    error = jump[0] / jump[1] - 1
    print(f"jump {jump[0]:g} ms after the step, MPR {jump[1]:g} ms ({error:+.1%})")
    assert abs(error) < TOL


def test_holds_inside_the_bistable_range_keep_the_mean_field_rate(results):
    _, (rate, _), (rate_mpr, _) = results("hold")
    for label, (start, stop) in (("low, I = 1.7", (300, 400)), ("high, I = -0.6", (700, 800))):
        q, m = rate[start:stop].mean(), rate_mpr[start:stop].mean()
        print(f"hold {label}: QIF {q:.2f} Hz, MPR {m:.2f} Hz ({q / m - 1:+.2%})")
        assert q == pytest.approx(m, rel=TOL)
