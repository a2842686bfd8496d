"""EINetwork (circuits/ei_network.py): the contract of multiscale.circuit.Circuit and the
behaviour the co-simulation relies on (rates, drive, knobs, electrodes, reproducibility).

Runs the default 800/200 network with the numpy target (no compiler), through the same
window protocol as the co-simulation: collect_window, knobs, then set_input_window at every
window start, all inside one net.run().
"""

from __future__ import annotations

import numpy as np
import pytest
from circuit_harness import RES_MS, build, population_rate, run_windows

from multiscale.circuits.ei_network import EINetwork

SKIP_MS = 100.0  # start-up transient left out of rate estimates

pytestmark = pytest.mark.usefixtures("numpy_target")


def simulate(duration_ms, *, seed=1, params=None, input_hz=0.0, knobs=None, pulse=None):
    """Run as the co-simulation does (circuit_harness.run_windows); pulse: add_pulse_train
    keywords for E."""
    circuit = build(EINetwork, "ei", params, seed=seed)
    if pulse:
        circuit.add_pulse_train("E", **pulse)
    return run_windows(circuit, duration_ms, input_hz=input_hz, knobs=knobs)


def rate(run, pop="E", start=SKIP_MS, stop=None):
    """Mean rate (Hz) of a population over [start, stop) ms."""
    return population_rate(run, pop, start, stop)


def spectrum(field):
    x = field[int(SKIP_MS / RES_MS) :]
    x = (x - x.mean()) * np.hanning(len(x))
    return np.fft.rfftfreq(len(x), RES_MS * 1e-3), np.abs(np.fft.rfft(x)) ** 2


@pytest.fixture(scope="module")
def baseline():
    return simulate(600.0)


def test_declarations_follow_the_contract():
    assert EINetwork.NAME == "ei_network"
    assert set(EINetwork.POPULATIONS) == {"E", "I"}
    assert EINetwork.OUTPUT_POPULATION == "E"
    assert EINetwork.FIELD["group"] == "E"
    assert EINetwork.KNOBS["nu_bg"].unit == "Hz"
    assert "Cavallari" in EINetwork.CITATION


def test_same_seed_same_spikes_other_seed_other_spikes(baseline):
    again = simulate(200.0, seed=1)
    other = simulate(200.0, seed=2)
    for pop in ("E", "I"):
        t, i = baseline[pop]
        first = t < 200.0
        np.testing.assert_array_equal(again[pop][0], t[first])
        np.testing.assert_array_equal(again[pop][1], i[first])
    # the last window of a run is left out: the field monitor samples in the "start" slot,
    # ahead of the exchange operation here (ties go by name), so a run's last window is
    # one sample short and padded by Circuit._fit, which depends on the run's length
    np.testing.assert_array_equal(again["field"][:190], baseline["field"][:190])
    assert not np.array_equal(other["E"][1], again["E"][1])


def test_baseline_is_irregular_low_rate_with_gamma_field(baseline):
    r_e, r_i = rate(baseline, "E"), rate(baseline, "I")
    assert 1.0 < r_e < 10.0
    assert r_i > 1.5 * r_e
    # the per-bin rate handed to the connectome is the E population's
    assert np.mean(baseline["rate"][int(SKIP_MS) :]) == pytest.approx(r_e, rel=1e-9)
    # irregular single cells: interspike-interval CV near 1 (AI-like, not clock-like)
    t, i = baseline["E"]
    cvs = [np.std(d) / np.mean(d) for k in np.unique(i) if len(d := np.diff(t[i == k])) >= 3]
    assert 0.6 < np.mean(cvs) < 1.5
    field = baseline["field"]
    assert np.all(np.isfinite(field))
    assert 1.0 < np.std(field) < 500.0  # mV
    freq, power = spectrum(field)
    gamma = power[(freq >= 30) & (freq <= 80)].sum()
    assert gamma > 0.35 * power[(freq >= 2) & (freq <= 200)].sum()


def test_spike_monitors_are_drained_every_window(baseline):
    assert baseline["left"] == 0
    assert len(baseline["E"][0]) > 0


def test_afferent_input_raises_the_excitatory_rate(baseline):
    rates = [rate(baseline, stop=500.0)]
    rates += [rate(simulate(500.0, input_hz=nu)) for nu in (2.0, 10.0)]
    # measured (seed 1): 1.9, 4.5, 8.5 Hz (2.2, 3.5, 11.6 with the previous drive)
    assert rates[0] < rates[1] < rates[2]
    assert rates[2] > 2 * rates[0]


def test_gaba_reduction_raises_rate_and_changes_field_without_locking(baseline):
    # At 30% GABA_A the balanced state is only metastable: the network escapes into
    # discharges of near-maximal firing that adaptation ends after ~200 ms (seizure-like).
    # When is a matter of the realisation (measured: mean E 51 Hz over 2 s, seed 1; 45 Hz
    # with the previous drive).
    weak = simulate(2000.0, params={"g_GABA": 0.3})
    r0, r1 = rate(baseline), rate(weak)
    assert 2 * r0 < r1 < 100.0
    per_50ms = weak["rate"][100:].reshape(-1, 50).mean(axis=1)
    assert np.mean(per_50ms > 200.0) < 0.5  # not locked at the refractory limit
    assert np.std(weak["field"][100:]) > 1.5 * np.std(baseline["field"][100:])


def test_knob_changes_take_effect_during_the_run():
    run = simulate(600.0, knobs={200.0: ("g_GABA", 0.3), 400.0: ("nu_bg", 0.0)})
    assert run["circuit"].knobs == {
        "g_AMPA": 1.0,
        "g_GABA": 0.3,
        "g_AMPA_E_to_I": 1.0,
        "nu_bg": 0.0,
    }
    before = rate(run, start=SKIP_MS, stop=200.0)
    disinhibited = rate(run, start=220.0, stop=400.0)
    undriven = rate(run, start=450.0, stop=600.0)
    # measured (seed 1): E 2.4 -> 322 Hz (an escape into a discharge), the field's SD 47 ->
    # 531 mV (its GABA term shrinks); with the previous drive E 1.6 -> 8.1 Hz, SD 34 -> 170 mV
    assert disinhibited > 1.5 * before
    field = run["field"]
    assert np.std(field[220:400]) > 2 * np.std(field[int(SKIP_MS) : 200])
    assert undriven < 0.1 * before


def test_dbs_pulses_raise_and_lock_excitatory_firing(baseline):
    period = 1000.0 / 130.0
    pulse = dict(
        frequency_hz=130.0, amplitude_na=20.0, width_ms=0.1, start_ms=200.0, stop_ms=1000.0
    )
    run = simulate(500.0, pulse=pulse)
    assert rate(run, start=250.0, stop=500.0) > 3 * rate(baseline, start=250.0, stop=500.0)
    t = run["E"][0]
    phase = 2 * np.pi * ((t[t >= 250.0] - 200.0) % period) / period
    vector_strength = np.abs(np.mean(np.exp(1j * phase)))
    assert vector_strength > 0.4
    # before the train starts nothing differs from the baseline (same seed)
    np.testing.assert_array_equal(
        run["E"][0][run["E"][0] < 200.0], baseline["E"][0][baseline["E"][0] < 200.0]
    )


def test_unknown_knob_and_parameter_are_refused(baseline):
    circuit = baseline["circuit"]
    with pytest.raises(KeyError):
        circuit.set_knob("g_NMDA", 1.0)
    assert "g_NMDA" not in circuit.knobs
    with pytest.raises(ValueError):
        EINetwork("ei2", {"n_exc": 40})
