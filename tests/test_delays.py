"""Synaptic delays in NEST's convention (multiscale/circuit.py, "Delays"): in every circuit,
a presynaptic spike acts exactly the declared delay after the spike's time, the end of the
step whose integration crossed the threshold (t_pre + h, t_pre being the step's start, as
Brian2's SpikeMonitor records it, and h the cells' step).

Measured on the circuits themselves (their classes, Synapses, schedule and clocks), tiny and
without external drive, numpy target. Each case builds the circuit twice with the same seed;
in one build a presynaptic cell's potential is put above threshold at t = 0, so that it
spikes in the first step, at t_pre. A StateMonitor in the ``before_groups`` slot, on the
cells' own clock, records the variables the synapse increments: the state at time t, before
the step's integration. The latency is the first recorded time at which a postsynaptic
cell's variable differs between the two builds, minus t_pre. Runs are deterministic, so
before the effect the two builds agree to the bit. Latencies are whole steps and are
asserted equal to h + the declared delay within TOL = dt / 10 of the synapses' clock. For
Brunel's delta synapses NEST's threshold test sees a jump in the update it arrives, so the
jump is in the state at t_pre + D and a jump that crosses the threshold makes the target
spike exactly D after t_pre (spike to spike, as in NEST). The Potjans-Diesmann cells'
response to one spike is also checked against NEST's update order, step by step.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from circuit_harness import build

from multiscale.circuits import potjans_diesmann
from multiscale.circuits.basal_ganglia import BasalGanglia
from multiscale.circuits.brunel2000 import Brunel2000
from multiscale.circuits.ei_network import EINetwork
from multiscale.circuits.hh_ei_network import HHEINetwork
from multiscale.circuits.potjans_diesmann import PotjansDiesmann
from multiscale.circuits.qif_population import V_INF, QIFPopulation

pytestmark = pytest.mark.usefixtures("numpy_target")

DT_MS = 0.1  # brian.dt of every case


def forced_runs(make, pre, force_v, posts, duration_ms):
    """Build with ``make()`` twice, the first time with cell ``pre`` = (population, index)
    set to ``force_v`` at t = 0, and run ``duration_ms``. posts: population -> variables to
    record. Returns the circuit, t_pre (ms), and per population (record times in ms,
    variable -> (forced, control) arrays of shape (cells, times)), and the forced run's
    spikes (population -> (times ms, indices))."""
    runs = []
    for forced in (True, False):
        circuit = make()
        if forced:
            circuit.populations[pre[0]].v[pre[1]] = force_v
        monitors = {
            pop: b2.StateMonitor(
                circuit.populations[pop],
                variables,
                record=True,
                when="before_groups",
                clock=circuit.populations[pop].clock,
            )
            for pop, variables in posts.items()
        }
        spikes = {pop: b2.SpikeMonitor(g) for pop, g in circuit.populations.items()}
        objects = [*circuit.network_objects(), *monitors.values(), *spikes.values()]
        b2.Network(*objects).run(duration_ms * b2.ms)
        runs.append(
            (
                circuit,
                {
                    pop: (
                        np.asarray(m.t_) * 1e3,
                        {v: np.asarray(getattr(m, v + "_")) for v in posts[pop]},
                    )
                    for pop, m in monitors.items()
                },
                {pop: (np.asarray(s.t_) * 1e3, np.asarray(s.i[:])) for pop, s in spikes.items()},
            )
        )
    (circuit, forced, spikes), (_, control, control_spikes) = runs
    t, i = spikes[pre[0]]
    tc, ic = control_spikes[pre[0]]
    t_pre = t[i == pre[1]]
    assert len(t_pre) and t_pre[0] < 2 * DT_MS, "the forced cell did not spike at once"
    assert not np.any(np.isclose(tc[ic == pre[1]], t_pre[0])), "it spikes then anyway"
    records = {
        pop: (forced[pop][0], {v: (forced[pop][1][v], control[pop][1][v]) for v in posts[pop]})
        for pop in posts
    }
    return circuit, t_pre[0], records, spikes


def latency(records, t_pre, pop, cell, variable):
    """First time (ms) after t_pre at which ``variable`` of ``cell`` in ``pop`` differs
    between the two runs, minus t_pre (inf if never)."""
    t, pairs = records[pop]
    forced, control = pairs[variable]
    differ = np.flatnonzero(forced[cell] != control[cell])
    return t[differ[0]] - t_pre if len(differ) else np.inf


# --- Brunel 2000: delta synapses on v ---------------------------------------------------------
BRUNEL = {"n_E": 4, "n_I": 2, "C_E": 3}  # C_I = 1; every E cell reaches the other three


def brunel(D, J=0.1):
    return lambda: build(Brunel2000, "brunel", BRUNEL | {"D": D, "J": J}, brian_dt_ms=DT_MS)


@pytest.mark.parametrize("D", [1.5, 0.5])
@pytest.mark.parametrize("pre", ["E", "I"])
def test_brunel_delta_synapses_move_v_exactly_d_after_the_spike(D, pre):
    posts = {"E": ["v"], "I": ["v"]}
    circuit, t_pre, records, _ = forced_runs(brunel(D), (pre, 0), 40 * b2.mV, posts, D + 1)
    measured = {}
    for post in ("E", "I"):
        syn = circuit._synapses[(pre, post)]
        for j in np.asarray(syn.j[:])[np.asarray(syn.i[:]) == 0]:
            measured[(post, int(j))] = latency(records, t_pre, post, j, "v")
    assert {post for post, _ in measured} == {"E", "I"}, measured  # both synapse types
    for key, value in measured.items():
        assert value == pytest.approx(D, abs=DT_MS / 10), (pre, key, value)


@pytest.mark.parametrize("D", [1.5, 0.0, 0.04])
def test_brunel_suprathreshold_jump_fires_the_target_exactly_d_after_the_spike(D):
    """J = 30 mV > theta - V: the target spikes at t_pre + D; a delay below one step
    (0, 0.04 ms) acts as one step, the minimum."""
    _, t_pre, _, spikes = forced_runs(brunel(D, J=30.0), ("E", 0), 40 * b2.mV, {}, 3)
    t, i = spikes["E"]
    t_post = t[i == 1]  # E cell 1 receives from E cell 0 (C_E = n_E - 1)
    assert t_post[0] - t_pre == pytest.approx(max(D, DT_MS), abs=DT_MS / 10)


# --- EI network: AMPA and GABA_A conductances, difference of exponentials ---------------------
def ei():
    return build(EINetwork, "ei", {"n_E": 3, "n_I": 2, "p_conn": 1.0}, brian_dt_ms=DT_MS)


@pytest.mark.parametrize("pre", ["E", "I"])
def test_ei_network_conductances_jump_exactly_tau_l_after_the_spike(pre):
    variables = ["d_ampa", "r_ampa"] if pre == "E" else ["d_gaba", "r_gaba"]
    posts = {"E": variables, "I": variables}
    _, t_pre, records, _ = forced_runs(ei, (pre, 0), 0 * b2.mV, posts, 2.0)
    for post in ("E", "I"):
        for var in variables:
            value = latency(records, t_pre, post, 1, var)  # cell 1: never the forced one
            assert value == pytest.approx(DT_MS + 1.0, abs=DT_MS / 10), (pre, post, var, value)


# --- HH E/I network: AMPA, NMDA, GABA_A on the cells' own 0.05 ms clock -----------------------
def hh():
    return build(HHEINetwork, "hh", {"n_E": 3, "n_I": 2, "p_conn": 1.0}, brian_dt_ms=DT_MS)


@pytest.mark.parametrize("pre", ["E", "I"])
def test_hh_synaptic_conductances_start_exactly_the_latency_after_the_spike(pre):
    variables = ["g_ampa", "d_nmda"] if pre == "E" else ["g_gaba"]
    posts = {"E": variables, "I": variables}
    circuit, t_pre, records, _ = forced_runs(hh, (pre, 0), 30 * b2.mV, posts, 1.5)
    h = float(circuit.dt_cell / b2.ms)
    for post in ("E", "I"):
        for var in variables:
            value = latency(records, t_pre, post, 1, var)
            assert value == pytest.approx(h + 1.0, abs=h / 10), (pre, post, var, value)


# --- Potjans-Diesmann: exponential currents, per-synapse delays (fixed here) ----------------
PD_DELAY_MS = {True: 1.5, False: 0.8}  # by presynaptic type (True: excitatory)


def pd_case(pre, monkeypatch):
    """A tiny Potjans-Diesmann column with fixed delays (PD_DELAY_MS): its builder, one
    build, the Synapses object of ``pre``'s type, and the cell of ``pre`` (among its first
    ten) with the most synapses, with their (pre, post) indices."""
    monkeypatch.setattr(
        potjans_diesmann,
        "_delays",
        lambda rng, n, mean_ms, dt_ms: np.full(n, PD_DELAY_MS[mean_ms == 1.5]),
    )
    params = {"scale_N": 0.002, "scale_K": 0.02}
    make = lambda: build(PotjansDiesmann, "pd", params, brian_dt_ms=DT_MS)  # noqa: E731
    circuit = make()
    syn = next(o for o in circuit.objects if o.name == f"{circuit.tag}_syn_{pre[-1]}")
    start = circuit.populations[pre].start
    pre_i, post_j = np.asarray(syn.i[:]), np.asarray(syn.j[:])
    cell = int(np.bincount(pre_i[(pre_i >= start) & (pre_i < start + 10)]).argmax()) - start
    return make, circuit, syn, start, cell, pre_i, post_j


@pytest.mark.parametrize("pre", ["L4e", "L4i"])
def test_potjans_diesmann_currents_jump_exactly_the_delay_after_the_spike(pre, monkeypatch):
    make, circuit, _, start, cell, pre_i, post_j = pd_case(pre, monkeypatch)
    exc = pre.endswith("e")
    targets = np.unique(post_j[pre_i == start + cell])
    variable = "I_syn_e" if exc else "I_syn_i"
    posts = {pop: [variable] for pop in potjans_diesmann.POPULATIONS}
    _, t_pre, records, _ = forced_runs(make, (pre, cell), 0 * b2.mV, posts, 2.5)
    offsets = {pop: circuit.populations[pop].start for pop in potjans_diesmann.POPULATIONS}
    assert len(targets)
    for j in targets:
        pop = max((p for p in offsets if offsets[p] <= j), key=lambda p: offsets[p])
        value = latency(records, t_pre, pop, j - offsets[pop], variable)
        expected = DT_MS + PD_DELAY_MS[exc]
        assert value == pytest.approx(expected, abs=DT_MS / 10), (pre, pop, j, value)


def nest_iaf_psc_exp_response(weight_pa: float, delay_steps: int, steps: int):
    """The change of a postsynaptic iaf_psc_exp cell's state (I_syn in pA, V in mV, at
    states 0..steps) caused by one presynaptic spike, in NEST's update order, for a source
    put above threshold in state 0. NEST's update from step k to k + 1 (iaf_psc_exp):
    V <- P22 V + P21 I (the current of state k); I <- P11 I; I += what arrives in slot k;
    then the threshold test on V, a spike being stamped k + 1. A spike stamped S with delay
    d arrives in slot S + d - 1. The response is linear, so only the difference is followed
    (the target stays below threshold)."""
    pd = potjans_diesmann
    tau_m, tau_s, c_m = pd.TAU_M, pd.TAU_SYN, pd.C_M  # ms, ms, pF
    p11, p22 = np.exp(-DT_MS / tau_s), np.exp(-DT_MS / tau_m)
    p21 = tau_s * tau_m / (c_m * (tau_m - tau_s)) * (p22 - p11)  # mV per pA
    arrivals = {}
    stamp = None
    current, v = np.zeros(steps + 1), np.zeros(steps + 1)
    for k in range(steps):
        if stamp is None:  # the source: above threshold from state 0, stamped k + 1 = 1
            stamp = k + 1
            arrivals[stamp + delay_steps - 1] = weight_pa
        v[k + 1] = p22 * v[k] + p21 * current[k]
        current[k + 1] = p11 * current[k] + arrivals.get(k, 0.0)
    return current, v


@pytest.mark.parametrize("pre", ["L4e", "L4i"])
def test_potjans_diesmann_response_to_one_spike_follows_nests_update_order(pre, monkeypatch):
    """The difference between the forced and the control build, in a target's synaptic
    current and membrane potential, step by step against :func:`nest_iaf_psc_exp_response`
    for the same weight and delay: the delivery step and the exact integration are NEST's."""
    make, circuit, syn, start, cell, pre_i, post_j = pd_case(pre, monkeypatch)
    exc = pre.endswith("e")
    weights = np.asarray(syn.w[:] / b2.pA)
    variable = "I_syn_e" if exc else "I_syn_i"
    posts = {pop: [variable, "v"] for pop in potjans_diesmann.POPULATIONS}
    delay_steps = int(round(PD_DELAY_MS[exc] / DT_MS))
    steps = delay_steps + 10  # before any cell the source excites can act in turn
    _, t_pre, records, spikes = forced_runs(make, (pre, cell), 0 * b2.mV, posts, steps * DT_MS)
    assert t_pre == 0.0
    offsets = {pop: circuit.populations[pop].start for pop in potjans_diesmann.POPULATIONS}
    fired = {(pop, int(i)) for pop, (_, idx) in spikes.items() for i in idx}
    checked = 0
    for j in np.unique(post_j[pre_i == start + cell]):
        pop = max((p for p in offsets if offsets[p] <= j), key=lambda p: offsets[p])
        if (pop, int(j - offsets[pop])) in fired:
            continue  # a reset is not linear
        w = weights[(pre_i == start + cell) & (post_j == j)].sum()  # multapses add
        ref_i, ref_v = nest_iaf_psc_exp_response(w, delay_steps, steps)
        _, pairs = records[pop]
        k = j - offsets[pop]
        d_i = (pairs[variable][0][k] - pairs[variable][1][k]) / 1e-12  # forced - control, pA
        d_v = (pairs["v"][0][k] - pairs["v"][1][k]) / 1e-3  # mV
        n = min(len(d_i), steps + 1)
        np.testing.assert_allclose(d_i[:n], ref_i[:n], rtol=1e-9, atol=1e-9 * abs(w))
        np.testing.assert_allclose(d_v[:n], ref_v[:n], rtol=1e-7, atol=1e-9)
        checked += 1
    assert checked >= 3, checked


# --- Basal ganglia: one Synapses object, KBG's per-connection delays --------------------------
#: (presynaptic population, postsynaptic population, declared delay ms, kernel variables)
BG_CASES = [
    ("GPe", "GPe", 1.0, ["z_a5g"]),
    ("GPe", "GPi", 3.0, ["z_a5i"]),
    ("GPe", "STN", 4.0, ["d_bg", "r_bg"]),
    ("CTX", "STN", 5.9, ["d_ba", "r_ba", "d_bn", "r_bn"]),
    ("CTX", "D1", 5.1, ["z_a5e"]),
    ("CTX", "CTXI", 0.0, ["z_a5e"]),  # no delay: the minimum, one cell step
]


@pytest.mark.parametrize("pre", ["GPe", "CTX"])
def test_basal_ganglia_kernels_start_exactly_the_connection_delay_after_the_spike(pre):
    cases = [c for c in BG_CASES if c[0] == pre]
    posts = {}
    for _, post, _, variables in cases:
        posts.setdefault(post, []).extend(variables)
    make = lambda: build(BasalGanglia, "bg", {"n": 3}, brian_dt_ms=DT_MS)  # noqa: E731
    force = (40 if pre == "CTX" else 20) * b2.mV
    circuit, t_pre, records, _ = forced_runs(make, (pre, 0), force, posts, 6.5)
    h = float(circuit.populations[pre].clock.dt / b2.ms)
    syn = next(o for o in circuit.objects if o.name == f"{circuit.tag}_synapses")
    pre_i, post_j = np.asarray(syn.i[:]), np.asarray(syn.j[:])
    first = circuit.populations[pre].start
    for _, post, delay, variables in cases:
        start = circuit.populations[post].start
        mask = (pre_i == first) & (post_j >= start) & (post_j < start + 3)
        for j in np.unique(post_j[mask]) - start:
            values = [latency(records, t_pre, post, j, v) for v in variables]
            value = min(values)  # a kernel whose kick is zero at this synapse never moves
            assert value == pytest.approx(h + max(delay, h), abs=h / 10), (pre, post, j, values)


# --- QIF population: all-to-all through the rate, no delay (as the mean field) ----------------
def test_qif_recurrent_input_acts_in_the_step_of_the_spike():
    """The spikes of a step set the input current of that same step (predictor-corrector,
    circuits/qif_population.py, "Recurrent coupling"; the mean field has no delay): v first
    differs at t_pre + dt, the state after the spike's step."""
    make = lambda: build(QIFPopulation, "qif", {"n": 3}, brian_dt_ms=DT_MS)  # noqa: E731
    _, t_pre, records, _ = forced_runs(make, ("QIF", 0), V_INF, {"QIF": ["v"]}, 1.0)
    for cell in (1, 2):
        value = latency(records, t_pre, "QIF", cell, "v")
        assert value == pytest.approx(DT_MS, abs=DT_MS / 10), (cell, value)
