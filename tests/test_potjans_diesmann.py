"""PotjansDiesmann (circuits/potjans_diesmann.py): contract, scaling rules, connectivity
and reproducibility, on a tiny network with the numpy target (no compiler).

The circuit runs through the same window protocol as the co-simulation (collect_window,
knobs, then set_input_window at every window start, all inside one net.run()). The rates
against the published targets are in tests/validation/test_potjans_diesmann.py.
"""

from __future__ import annotations

import math

import brian2 as b2
import numpy as np
import pytest
from circuit_harness import build, population_rate, run_windows

from multiscale.circuits.potjans_diesmann import (
    CONN_PROBS,
    FULL_MEAN_RATES,
    K_EXT,
    N_FULL,
    POPULATIONS,
    PSC_EXT,
    TAU_SYN,
    PotjansDiesmann,
    dc_compensation,
    full_synapse_counts,
    mean_psc_matrix,
    population_sizes,
    synapse_counts,
)

TINY = {"scale_N": 0.02, "scale_K": 0.1}  # 1544 cells, ~600k synapses


pytestmark = pytest.mark.usefixtures("numpy_target")


def make(params=None, seed=1):
    return build(PotjansDiesmann, "pd", {**TINY, **(params or {})}, seed=seed)


def simulate(duration_ms, *, seed=1, params=None, input_hz=0.0, knobs=None):
    """Run window by window as the co-simulation does (tests/circuit_harness.py)."""
    return run_windows(make(params, seed), duration_ms, input_hz=input_hz, knobs=knobs)


def rate(run, pop, start=100.0, stop=None):
    return population_rate(run, pop, start, stop)


@pytest.fixture(scope="module")
def baseline():
    return simulate(250.0)


def test_declarations_follow_the_contract():
    c = PotjansDiesmann
    assert c.NAME == "potjans_diesmann"
    assert c.POPULATIONS == ("L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i")
    assert c.OUTPUT_POPULATION in c.POPULATIONS
    assert c.FIELD["group"] in c.POPULATIONS and c.FIELD["g_leak_nS"] == 25.0
    assert set(c.DRIVE) == set(c.POPULATIONS)
    assert {"g_E", "g_I", "bg_rate"} <= set(c.KNOBS)
    assert c.KNOBS["bg_rate"].default == 8.0 and c.KNOBS["bg_rate"].unit == "Hz"
    assert "Potjans" in c.CITATION
    # size for placement follows scale_N
    assert c.n_neurons() == 7717
    assert c.n_neurons({"scale_N": 1.0}) == 77169


def test_published_numbers():
    assert abs(PSC_EXT - 87.8) < 0.05  # pA for a 0.15 mV PSP
    psc = mean_psc_matrix()
    assert psc[0, 2] == pytest.approx(2 * PSC_EXT)  # L4e -> L23e doubled
    assert psc[3, 1] == pytest.approx(-4 * PSC_EXT)
    assert N_FULL.sum() == 77169
    # full-scale synapse counts: K = log(1 - C) / log(1 - 1/(N_pre N_post)), not C N N
    k = full_synapse_counts()
    nn = np.outer(N_FULL, N_FULL)
    assert k[4, 5] == pytest.approx(np.log(1 - 0.3726) / np.log(1 - 1 / (4850 * 1065)))
    linear = CONN_PROBS * nn
    ratio = k[linear > 0] / linear[linear > 0]
    assert np.all(ratio >= 1.0) and ratio.max() > 1.2  # multapses: more than linear
    # total full-scale synapse count of the model, ~0.3e9
    assert 2.9e8 < k.sum() < 3.1e8


def test_dc_compensation_restores_the_full_scale_mean_input():
    scale_K = 0.1
    exc, inh, ext = dc_compensation(scale_K)
    indegree = full_synapse_counts() / N_FULL[:, None]
    full = 1e-3 * TAU_SYN * (mean_psc_matrix() * indegree * FULL_MEAN_RATES).sum(axis=1)
    full += 1e-3 * TAU_SYN * PSC_EXT * K_EXT * 8.0
    # scaled network: in-degrees x K, weights / sqrt(K)
    scaled = np.sqrt(scale_K) * full
    np.testing.assert_allclose(scaled + exc + inh + ext * 8.0, full, rtol=1e-12)
    assert np.all(exc > 0) and np.all(inh < 0)
    assert all(np.all(x == 0) for x in dc_compensation(1.0))


def test_population_sizes_synapse_counts_weights_and_delays_follow_the_scaling():
    circuit = make()
    sizes = population_sizes(TINY["scale_N"])
    np.testing.assert_array_equal(sizes, np.round(N_FULL * 0.02).astype(int))
    assert [len(circuit.populations[p]) for p in POPULATIONS] == sizes.tolist()
    assert len(circuit.group) == sizes.sum() == PotjansDiesmann.n_neurons(TINY)
    expected = synapse_counts(0.02, 0.1)
    np.testing.assert_array_equal(
        expected, np.round(full_synapse_counts() * 0.02 * 0.1).astype(int)
    )
    pop_of = np.repeat(np.arange(8), sizes)
    found = np.zeros((8, 8), int)
    dt = float(b2.defaultclock.dt / b2.ms)
    syns = {s.name: s for s in circuit.objects if isinstance(s, b2.Synapses)}
    assert len(syns) == 2
    for s in syns.values():
        i, j = np.asarray(s.i[:]), np.asarray(s.j[:])
        np.add.at(found, (pop_of[j], pop_of[i]), 1)
        w = np.asarray(s.w_[:]) * 1e12  # pA
        mean = mean_psc_matrix()[pop_of[j], pop_of[i]] / np.sqrt(0.1)
        assert np.all(np.sign(w) * np.sign(mean) >= 0)
        np.testing.assert_allclose(np.mean(w / mean), 1.0, atol=0.01)
        assert np.std(w / mean) == pytest.approx(0.1, abs=0.01)
        # the delays a spike takes to act, whole steps (circuit.py, "Delays": Brian2 holds
        # them as they are for current synapses)
        steps = np.asarray(s.delay_[:]) * 1e3 / dt
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-6)  # whole steps
        assert steps.min() >= 1.0 - 1e-6
        # normal(mu, mu / 2) redrawn below one step (as the reference), then rounded: the
        # mean of the normal truncated at dt, 1.50 ms (exc) and 0.78 ms (inh)
        mu = 1.5 if s.name.endswith("_e") else 0.75
        a = (dt - mu) / (0.5 * mu)
        tail = 0.5 * math.erfc(a / math.sqrt(2.0))
        truncated = mu + 0.5 * mu * math.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi) / tail
        assert np.mean(steps * dt) == pytest.approx(truncated, rel=0.01)
    np.testing.assert_array_equal(found, expected)
    # external fibres and their weight
    np.testing.assert_array_equal(circuit.k_ext, np.round(K_EXT * 0.1))
    assert circuit.w_ext_pa == pytest.approx(PSC_EXT / np.sqrt(0.1))


def test_drive_rates_and_afferent_targets():
    circuit = make()
    inp = np.array([0.0, 2.0, 5.0])
    rates = circuit.drive_rates(inp)
    assert set(rates) == set(POPULATIONS)
    for k, pop in enumerate(POPULATIONS):
        np.testing.assert_allclose(rates[pop], circuit.k_ext[k] * (8.0 + inp))
    thal = make({"afferent_all": 0.0}).drive_rates(inp)
    for k, pop in enumerate(POPULATIONS):
        expected = 8.0 + (inp if pop[:2] in ("L4", "L6") else 0.0)
        np.testing.assert_allclose(thal[pop], circuit.k_ext[k] * expected)


def test_unknown_knob_and_parameter_are_refused():
    circuit = make()
    with pytest.raises(KeyError):
        circuit.set_knob("g_NMDA", 1.0)
    with pytest.raises(ValueError):
        make({"n_E": 40})
    with pytest.raises(ValueError):
        circuit.set_knob("bg_rate", -1.0)


def test_baseline_fires_in_every_population_and_reports_l5e(baseline):
    rates = {p: rate(baseline, p) for p in POPULATIONS}
    assert all(0.05 < r < 50.0 for r in rates.values()), rates
    assert np.mean(baseline["rate"][100:]) == pytest.approx(rates["L5e"], rel=1e-9)
    field = baseline["field"]
    assert np.all(np.isfinite(field)) and np.std(field[100:]) > 0


def test_same_seed_same_spikes_other_seed_other_network(baseline):
    again = simulate(100.0, seed=1)
    for pop in POPULATIONS:
        t, i = baseline[pop]
        first = t < 100.0
        np.testing.assert_array_equal(again[pop][0], t[first])
        np.testing.assert_array_equal(again[pop][1], i[first])
    np.testing.assert_array_equal(again["field"][:90], baseline["field"][:90])
    one, two = make(seed=1), make(seed=2)
    assert not np.array_equal(one.group.v_[:], two.group.v_[:])
    syn = [[o for o in c.objects if isinstance(o, b2.Synapses)][0] for c in (one, two)]
    assert not np.array_equal(syn[0].j[:], syn[1].j[:])


def test_knobs_and_afferent_input_change_the_rates(baseline):
    # mid-run: halving inhibition raises L5e; without background it falls silent
    run = simulate(250.0, knobs={100.0: ("g_I", 0.5), 180.0: ("bg_rate", 0.0)})
    assert run["circuit"].knobs == {"g_E": 1.0, "g_I": 0.5, "bg_rate": 0.0}
    before = rate(baseline, "L5e", 100.0, 180.0)
    disinhibited = rate(run, "L5e", 110.0, 180.0)
    assert disinhibited > 1.5 * before
    assert rate(run, "L5e", 200.0, 250.0) < 0.2 * disinhibited
    # afferent input on all external fibres (+50% of bg_rate), compared over 150 ms
    # (80 ms of 97 L5e cells is too few spikes for a stable ratio)
    driven = simulate(250.0, input_hz=4.0)
    assert rate(driven, "L5e", 100.0, 250.0) > 1.5 * rate(baseline, "L5e", 100.0, 250.0)
