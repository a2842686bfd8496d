"""QIFPopulation (circuits/qif_population.py): the circuit contract, the exact QIF step, and
the behaviour the co-simulation relies on (drive, knobs, electrodes, reproducibility).

Numpy target, N = 2000 (the comparison with the MPR time course at N = 10000 is in
tests/validation/test_qif_mpr.py); run window by window as the co-simulation does.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from circuit_harness import RES_MS, WINDOW_MS, build, run_windows

from multiscale.circuits.qif_population import QIFPopulation, lorentzian_quantiles

N = 2000
TAU_MS = 10.0

pytestmark = pytest.mark.usefixtures("numpy_target")


def simulate(duration_ms, *, seed=1, params=None, input_hz=0.0, knobs=None, pulse=None):
    """Run as the co-simulation does (circuit_harness.run_windows), the population's
    spikes under "spikes"; pulse: add_pulse_train keywords."""
    circuit = build(QIFPopulation, "qif", {"n": N, **(params or {})}, seed=seed)
    if pulse:
        circuit.add_pulse_train("QIF", **pulse)
    run = run_windows(circuit, duration_ms, input_hz=input_hz, knobs=knobs)
    run["spikes"] = run.pop("QIF")
    return run


def mpr_fixed_points_hz(eta, J=15.0, Delta=1.0, I=0.0, tau=TAU_MS):
    """Stationary rates (Hz) of the MPR equations: with V = -Delta / (2 pi tau r),
    -pi^2 tau^2 r^4 + J tau r^3 + (eta + I) r^2 + Delta^2 / (4 pi^2 tau^2) = 0 (r in kHz).
    Ascending; with three roots the middle one is unstable."""
    roots = np.roots(
        [-(np.pi**2) * tau**2, J * tau, eta + I, 0.0, Delta**2 / (4 * np.pi**2 * tau**2)]
    )
    real = roots[(np.abs(roots.imag) < 1e-9) & (roots.real > 0)].real
    return np.sort(real) * 1000.0


def mean_rate(run, start, stop):
    return float(np.mean(run["rate"][int(start / RES_MS) : int(stop / RES_MS)]))


@pytest.fixture(scope="module")
def baseline():
    return simulate(300.0)


@pytest.fixture(scope="module")
def driven():
    return simulate(300.0, input_hz=300.0)  # I = J_ext tau nu = 1 * 0.01 s * 300 Hz = 3


def test_declarations_follow_the_contract():
    assert QIFPopulation.NAME == "qif_population"
    assert QIFPopulation.POPULATIONS == ("QIF",)
    assert QIFPopulation.OUTPUT_POPULATION == "QIF"
    assert QIFPopulation.FIELD == {}
    assert set(QIFPopulation.KNOBS) == {"eta_bar", "Delta", "J", "J_ext", "nu_bg"}
    assert set(QIFPopulation.DRIVE) == {"QIF"}
    assert QIFPopulation.n_neurons() == 10000
    assert "Montbrio" in QIFPopulation.CITATION


def test_excitabilities_are_the_deterministic_lorentzian_quantiles():
    q = lorentzian_quantiles(10001)
    np.testing.assert_array_equal(q, lorentzian_quantiles(10001))
    np.testing.assert_allclose(q, -q[::-1], atol=1e-9)
    assert q[5000] == pytest.approx(0.0, abs=1e-12)
    # half of a Lorentzian of half-width 1 lies within +-1
    assert np.mean(np.abs(q) < 1.0) == pytest.approx(0.5, abs=1e-3)


def test_uncoupled_neurons_fire_at_the_exact_qif_period():
    """tau dv/dt = v^2 + eta fires every pi tau / sqrt(eta) for eta > 0 and never for
    eta < 0: the exact step keeps this at dt = 0.1 ms (spike times on the step grid)."""
    b2.start_scope()
    b2.seed(3)
    params = {"n": 3, "J": 0.0, "Delta": 2.0, "eta_bar": 1.0}
    eta = 1.0 + 2.0 * lorentzian_quantiles(3)  # 1 - 2 sqrt(3), 1, 1 + 2 sqrt(3)
    assert eta[0] < 0 < eta[1] < eta[2]
    circuit = QIFPopulation("q3", params, resolution_ms=RES_MS, window_ms=WINDOW_MS)
    b2.Network(*circuit.network_objects()).run(400 * b2.ms)
    t, i = (np.asarray(x) for x in circuit.collect_window(0.0, 400).spikes["QIF"])
    assert not np.any(i == 0)
    for k in (1, 2):
        period = np.pi * TAU_MS / np.sqrt(eta[k])
        isi = np.diff(t[i == k])
        assert len(isi) >= 10
        assert np.mean(isi) == pytest.approx(period, rel=0.01)
        assert np.all(np.abs(isi - period) <= 0.1 + 1e-9)


def test_rest_and_driven_rates_are_the_mean_field_fixed_points(baseline, driven):
    """At rest (eta_bar = -5, J = 15, Delta = 1) the MPR model is bistable; the population
    starts near rest and stays on the low branch. I = 3 leaves only the high one.
    Tolerances for N = 2000 cells in 200 ms (count fluctuations), not for a bias: the
    excitabilities' tail rule gives the mean field's stationary rates
    (tests/validation/test_qif_convergence.py)."""
    low = mpr_fixed_points_hz(-5.0)[0]
    high = mpr_fixed_points_hz(-5.0, I=3.0)[-1]
    assert mean_rate(baseline, 100.0, 300.0) == pytest.approx(low, rel=0.15)
    assert mean_rate(driven, 150.0, 300.0) == pytest.approx(high, rel=0.05)


def test_same_seed_same_spikes_other_seed_other_spikes(driven):
    again = simulate(100.0, input_hz=300.0, seed=1)
    other = simulate(100.0, input_hz=300.0, seed=2)
    t, i = driven["spikes"]
    first = t < 100.0
    np.testing.assert_array_equal(again["spikes"][0], t[first])
    np.testing.assert_array_equal(again["spikes"][1], i[first])
    assert not np.array_equal(other["spikes"][1], again["spikes"][1])


def test_monitor_is_drained_and_no_field_is_produced(baseline):
    assert baseline["left"] == 0
    assert len(baseline["spikes"][0]) > 0
    np.testing.assert_array_equal(baseline["field"], 0.0)
    t = baseline["spikes"][0]
    assert np.mean(baseline["rate"][100:]) == pytest.approx(
        np.count_nonzero(t >= 100.0) / N / 0.2, rel=1e-9
    )


def test_knobs_change_the_running_population():
    knobs = {100.0: ("eta_bar", -2.0), 200.0: ("J", 0.0), 250.0: ("J_ext", 0.0)}
    run = simulate(300.0, knobs=knobs, input_hz=50.0)  # I = 0.5 until J_ext = 0
    circuit = run["circuit"]
    assert circuit.knobs["eta_bar"] == -2.0 and circuit.knobs["J"] == 0.0
    rest = mean_rate(run, 50.0, 100.0)
    excited = mean_rate(run, 150.0, 200.0)
    uncoupled = mean_rate(run, 220.0, 250.0)
    undriven = mean_rate(run, 270.0, 300.0)
    assert rest == pytest.approx(mpr_fixed_points_hz(-5.0, I=0.5)[0], rel=0.15)
    assert excited == pytest.approx(mpr_fixed_points_hz(-2.0, I=0.5)[-1], rel=0.05)
    assert uncoupled == pytest.approx(mpr_fixed_points_hz(-2.0, J=0.0, I=0.5)[-1], rel=0.1)
    assert undriven < uncoupled
    for name, value in (("Delta", -1.0), ("nu_bg", -5.0)):
        with pytest.raises(ValueError):
            circuit.set_knob(name, value)
    with pytest.raises(KeyError):
        circuit.set_knob("tau", 20.0)


def test_electrode_pulses_raise_and_lock_the_rate(baseline):
    period = 1000.0 / 40.0
    pulse = dict(frequency_hz=40.0, amplitude_na=5.0, width_ms=1.0, start_ms=100.0, stop_ms=1e4)
    run = simulate(300.0, pulse=pulse)
    t = run["spikes"][0]
    np.testing.assert_array_equal(t[t < 100.0], baseline["spikes"][0][baseline["spikes"][0] < 100])
    assert mean_rate(run, 150.0, 300.0) > 2 * mean_rate(baseline, 150.0, 300.0)
    late = t[t >= 150.0]
    phase = 2 * np.pi * ((late - 100.0) % period) / period
    assert np.abs(np.mean(np.exp(1j * phase))) > 0.5


def test_unknown_parameter_is_refused():
    with pytest.raises(ValueError):
        QIFPopulation("bad", {"N": 100})
