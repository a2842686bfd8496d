"""Brunel2000 (circuits/brunel2000.py): the circuit contract and the behaviour the
co-simulation relies on (drive, knobs, electrodes, field read-out, reproducibility).

A small network (200 E, 50 I cells, C_E = 50, so 25% connectivity) with the numpy target,
run window by window as the co-simulation does. The regimes of the paper need C_E = 1000:
they are checked in tests/validation/test_brunel2000.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from circuit_harness import build, population_rate, run_windows

from multiscale.circuits.brunel2000 import Brunel2000

SKIP_MS = 50.0
SMALL = {"n_E": 200, "n_I": 50, "C_E": 50}

pytestmark = pytest.mark.usefixtures("numpy_target")


def simulate(duration_ms, *, seed=1, params=None, input_hz=0.0, knobs=None, pulse=None):
    """Run as the co-simulation does (circuit_harness.run_windows); pulse: add_pulse_train
    keywords for E."""
    circuit = build(Brunel2000, "brunel", {**SMALL, **(params or {})}, seed=seed)
    if pulse:
        circuit.add_pulse_train("E", **pulse)
    return run_windows(circuit, duration_ms, input_hz=input_hz, knobs=knobs)


def rate(run, pop="E", start=SKIP_MS, stop=None):
    return population_rate(run, pop, start, stop)


@pytest.fixture(scope="module")
def baseline():
    return simulate(200.0)


def test_declarations_follow_the_contract():
    assert Brunel2000.NAME == "brunel2000"
    assert Brunel2000.POPULATIONS == ("E", "I")
    assert Brunel2000.OUTPUT_POPULATION == "E"
    assert set(Brunel2000.KNOBS) == {"g", "eta"}
    assert set(Brunel2000.DRIVE) == {"E", "I"}
    assert Brunel2000.FIELD == {"group": "E", "ampa": "I_exc", "gaba": "I_inh", "g_leak_nS": 12.5}
    assert Brunel2000.n_neurons() == 6250
    assert Brunel2000.n_neurons({"n_E": 2000, "n_I": 500}) == 2500
    assert "Brunel" in Brunel2000.CITATION


def test_connectivity_has_fixed_in_degree_without_autapses(baseline):
    circuit = baseline["circuit"]
    for (pre, post), syn in circuit._synapses.items():
        k = 50 if pre == "E" else 12  # C_E, C_I = C_E / 4 (rounded)
        i, j = np.asarray(syn.i[:]), np.asarray(syn.j[:])
        assert np.all(np.bincount(j, minlength=len(circuit.populations[post])) == k)
        pairs = i.astype(np.int64) * 10_000 + j
        assert len(np.unique(pairs)) == len(pairs)  # no multapses
        if pre == post:
            assert not np.any(i == j)
    # the default nu_thr: theta / (J C_E tau) = 20 / (0.1 * 50 * 0.02) Hz
    assert circuit.nu_thr_hz == pytest.approx(200.0)


def test_same_seed_same_spikes_other_seed_other_spikes(baseline):
    again = simulate(100.0, seed=1)
    other = simulate(100.0, seed=2)
    for pop in ("E", "I"):
        t, i = baseline[pop]
        first = t < 100.0
        np.testing.assert_array_equal(again[pop][0], t[first])
        np.testing.assert_array_equal(again[pop][1], i[first])
    np.testing.assert_array_equal(again["field"][:90], baseline["field"][:90])
    assert not np.array_equal(other["E"][1], again["E"][1])


def test_baseline_fires_and_monitors_are_drained(baseline):
    r_e = rate(baseline)
    assert 5.0 < r_e < 300.0
    assert baseline["left"] == 0
    # the per-bin rate handed to the connectome is the E population's
    assert np.mean(baseline["rate"][int(SKIP_MS) :]) == pytest.approx(r_e, rel=1e-9)


def test_field_proxy_is_the_documented_conversion_of_the_input_rates(baseline):
    """Excitatory part of the proxy ~ J tau x (excitatory events per cell per second):
    C_E (nu_ext + nu_E); the proxy subtracts 1.65 x the inhibitory part g J tau C_I nu_I."""
    circuit = baseline["circuit"]
    J, tau, c_e = 0.1, 0.020, 50
    nu_ext = circuit.knobs["eta"] * circuit.nu_thr_hz
    r_e, r_i = rate(baseline, "E"), rate(baseline, "I")
    expected = J * tau * c_e * (nu_ext + r_e) - 1.65 * 5.0 * J * tau * 12 * r_i
    field = baseline["field"][int(SKIP_MS) + 10 :]
    assert np.all(np.isfinite(field))
    assert np.mean(field) == pytest.approx(expected, rel=0.15)


def test_afferent_input_raises_the_rate(baseline):
    driven = simulate(200.0, input_hz=100.0)  # +0.5 nu_thr on every external fibre
    assert rate(driven) > 1.3 * rate(baseline)


def test_knobs_change_the_running_network():
    knobs = {100.0: ("eta", 0.5), 170.0: ("eta", 2.0), 180.0: ("g", 2.0)}
    run = simulate(250.0, knobs=knobs, params={"g": 6.0, "eta": 2.0})
    assert run["circuit"].knobs == {"g": 2.0, "eta": 2.0}
    before = rate(run, start=SKIP_MS, stop=100.0)
    undriven = rate(run, start=120.0, stop=170.0)
    disinhibited = rate(run, start=200.0, stop=250.0)
    assert undriven < 0.5 * before
    assert disinhibited > 1.2 * before  # small C_E: recurrent input is weak here
    with pytest.raises(ValueError):
        run["circuit"].set_knob("g", -1.0)


def test_electrode_pulses_lock_excitatory_firing(baseline):
    period = 1000.0 / 200.0
    pulse = dict(frequency_hz=200.0, amplitude_na=20.0, width_ms=0.2, start_ms=100.0, stop_ms=1e4)
    run = simulate(200.0, pulse=pulse)
    # before the train starts nothing differs from the baseline (same seed)
    t0 = run["E"][0]
    np.testing.assert_array_equal(t0[t0 < 100.0], baseline["E"][0][baseline["E"][0] < 100.0])
    t = t0[t0 >= 110.0]
    phase = 2 * np.pi * ((t - 100.0) % period) / period
    assert np.abs(np.mean(np.exp(1j * phase))) > 0.5
    assert rate(run, start=110.0, stop=200.0) > 1.5 * rate(baseline, start=110.0, stop=200.0)


def test_unknown_knob_and_impossible_sizes_are_refused(baseline):
    with pytest.raises(KeyError):
        baseline["circuit"].set_knob("J", 0.2)
    with pytest.raises(ValueError):
        Brunel2000("b2", {"n_exc": 40})
    with pytest.raises(ValueError, match="inputs per cell"):
        Brunel2000("b3", {"n_E": 100, "n_I": 25})  # C_E = 1000 needs more cells
