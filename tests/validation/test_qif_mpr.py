"""docs/science.md, Montbrio-Pazo-Roxin 2015 (Phys Rev X 5:021028): a Brian2 population of
N = 10 000 QIF neurons (circuits/qif_population.py) and one MPR node of the framework's
own engine (multiscale.engine.Engine with regions.MontbrioPazoRoxin, no connections),
driven by the same input, agree on the firing rate r(t).

Protocol, after Fig. 2 of the paper (eta_bar = -5, J = 15, Delta = 1, tau = 10 ms, the
paper's time unit): input current I(t) = 0 until 200 ms, a step to 3 for 300 ms (the
paper's 30 tau), 0 for 100 ms, then 3 sin(2 pi (t - 600 ms) / 400 ms) (the paper's
omega = pi / 20 per tau) for two periods; 1400 ms in all. At I = 0 the model is bistable:
both start on the low branch, the step moves them to the high focus (damped oscillations
at ~90 Hz), where they stay after the step, and the sine's troughs bring them back down.

The circuit receives I(t) as the co-simulation delivers input: a rate per afferent fibre
(Hz) per 1 ms exchange bin, turned into spikes on n_ext = 1000 fibres, each a jump
J_ext / n_ext of V, whose mean current is J_ext tau nu. Rates cannot be negative, so the
input carries an offset: nu = (3 + I(t)) / (J_ext tau), and eta_bar = -8 in both models.
The MPR node gets the same per-bin mean current, integrated by the engine (Heun,
dt = 0.01 ms; at 0.05 ms the node's rate moves by < 0.2 Hz). It starts at the MPR
low-state fixed point; the QIF cells start at rest (eta_i < 0) or at a random phase.

Errors, over t >= 100 ms, 1 ms bins (measured on this machine, cython target, seed 1, the
spike drive drawn in generated code, multiscale/poisson_drive.py):
- overall mean absolute error / mean rate: 0.016 (asserted < 0.05; 0.016 with the previous
  drive, drawn in Python, too). Before the circuit's excitabilities and recurrent coupling
  were corrected (circuits/qif_population.py, "Excitabilities" and "Recurrent coupling";
  tests/validation/test_qif_convergence.py) it was 0.051, asserted < 0.1.
- plateau means (low state before the step, high state during it, low state at the end):
  QIF 8.12, 137.38, 6.49 Hz against MPR 8.11, 137.38, 6.50 Hz (asserted within 5 %; with
  the previous drive 0.2 %, 0.01 %, 0.2 %; before the correction: 3.7 %, 0.4 %, 4.3 %, the
  low states ~0.3 Hz short through the quantile deficit).
- the shot noise of the spike drive is most of what remains: with n_ext = 100 000 (10x
  less noise) the overall error was 0.010 (previous drive).
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest

from multiscale.circuits.qif_population import QIFPopulation
from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.regions.montbrio_pazo_roxin import MontbrioPazoRoxin

pytestmark = pytest.mark.validation

N = 10_000
TAU_MS = 10.0
ETA_BAR = -5.0
J_REC = 15.0  # (not J: Brian2 would also see it in the run namespace)
DELTA = 1.0
OFFSET = 3.0  # current carried by the input so that I(t) >= -3 is a rate >= 0
RES_MS = 1.0
WINDOW_MS = 10.0
DURATION_MS = 1400.0
TRANSIENT_MS = 100.0
ENGINE_DT_MS = 0.01


def input_current(t_ms: np.ndarray) -> np.ndarray:
    """I(t) of the protocol (module docstring), at times t_ms."""
    t = np.asarray(t_ms, dtype=float)
    current = np.where((t >= 200.0) & (t < 500.0), 3.0, 0.0)
    sine = t >= 600.0
    current[sine] = 3.0 * np.sin(2 * np.pi * (t[sine] - 600.0) / 400.0)
    return current


BIN_CENTRES = (np.arange(int(DURATION_MS / RES_MS)) + 0.5) * RES_MS
CURRENT = OFFSET + input_current(BIN_CENTRES)  # per bin, what both models receive


def run_qif() -> tuple[np.ndarray, np.ndarray]:
    """Rate (Hz) per bin of the QIF population and the mean current it was given."""
    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1)
    circuit = QIFPopulation(
        "qif",
        {"n": N, "tau": TAU_MS, "eta_bar": ETA_BAR - OFFSET, "J": J_REC, "Delta": DELTA},
        resolution_ms=RES_MS,
        window_ms=WINDOW_MS,
        rng=np.random.default_rng(1),
    )
    per_hz = circuit.input_current(1.0) - circuit.input_current(0.0)  # J_ext tau
    nu = CURRENT / per_hz
    bins = int(WINDOW_MS / RES_MS)
    rates = []
    window = [0]

    @b2.network_operation(dt=WINDOW_MS * b2.ms, when="start")
    def exchange():
        k = window[0]
        if k:
            rates.append(circuit.collect_window((k - 1) * WINDOW_MS, bins).rate)
        circuit.set_input_window(nu[k * bins : (k + 1) * bins], k * WINDOW_MS)
        window[0] += 1

    b2.Network(*circuit.network_objects(), exchange).run(DURATION_MS * b2.ms)
    rates.append(circuit.collect_window((window[0] - 1) * WINDOW_MS, bins).rate)
    return np.concatenate(rates), circuit.input_current(nu)


def mpr_low_state(eta: float) -> tuple[float, float]:
    """(r in kHz, V) of the MPR low-rate fixed point: V = -Delta / (2 pi tau r) and
    -pi^2 tau^2 r^4 + J tau r^3 + eta r^2 + Delta^2 / (4 pi^2 tau^2) = 0."""
    tau = TAU_MS
    roots = np.roots(
        [-(np.pi**2) * tau**2, J_REC * tau, eta, 0.0, DELTA**2 / (4 * np.pi**2 * tau**2)]
    )
    r = np.sort(roots[(np.abs(roots.imag) < 1e-9) & (roots.real > 0)].real)[0]
    return r, -DELTA / (2 * np.pi * tau * r)


def run_mpr(current: np.ndarray) -> np.ndarray:
    """Rate (Hz) per bin, the bin mean, of one uncoupled MPR node of the engine."""
    model = MontbrioPazoRoxin
    eta = ETA_BAR - OFFSET
    params = model.parameter_matrix(1, {"tau": TAU_MS, "eta": eta, "J": J_REC, "Delta": DELTA})
    coupling = COUPLINGS["linear"]
    engine = Engine(
        model,
        params,
        coupling,
        coupling.parameter_vector(),
        np.zeros((1, 1)),
        np.zeros((1, 1), dtype=int),
        ENGINE_DT_MS,
        initial=np.array(mpr_low_state(eta + OFFSET)),
    )
    steps = int(round(RES_MS / ENGINE_DT_MS))
    node = np.array([0])
    out = np.empty(len(current))
    for b, value in enumerate(current):
        engine.set_parameter("I", node, value)
        r = np.empty(steps + 1)
        r[0] = engine.X[0, 0]
        for s in range(steps):  # advance() returns the observable V; r is the state
            engine.advance(1)
            r[s + 1] = engine.X[0, 0]
        out[b] = 0.5 * (r[:-1] + r[1:]).mean() * 1000.0  # kHz -> Hz
    return out


@pytest.fixture(scope="module")
def rates():
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "cython"
    try:
        qif, current = run_qif()
    finally:
        b2.prefs.codegen.target = old
    np.testing.assert_allclose(current, CURRENT, rtol=1e-12)  # the same input, as claimed
    return qif, run_mpr(CURRENT)


def test_qif_population_follows_the_mpr_rate(rates):
    qif, mpr = rates
    keep = slice(int(TRANSIENT_MS / RES_MS), None)
    error = np.mean(np.abs(qif[keep] - mpr[keep])) / np.mean(mpr[keep])
    print(f"mean absolute error / mean rate = {error:.3f}")
    assert error < 0.05


@pytest.mark.parametrize(
    ("start", "stop"), [(100.0, 200.0), (350.0, 500.0), (1300.0, 1400.0)], ids=str
)
def test_plateaus_agree(rates, start, stop):
    """Low state before the step, high state during it, low state after the last trough."""
    qif, mpr = rates
    part = slice(int(start / RES_MS), int(stop / RES_MS))
    q, m = qif[part].mean(), mpr[part].mean()
    print(f"{start:g}-{stop:g} ms: QIF {q:.2f} Hz, MPR {m:.2f} Hz")
    assert q == pytest.approx(m, rel=0.05)
