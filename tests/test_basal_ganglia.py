"""BasalGanglia (circuits/basal_ganglia.py): the contract of multiscale.circuit.Circuit and
what the co-simulation relies on (build, reproducibility, external drive on a finer cell
clock, knobs, DBS electrode into STN).

Numpy target, and the cells at cell_dt = brian.dt = 0.1 ms unless a test needs otherwise:
the default 0.025 ms is four times slower and only matters for the science (the validation
tests). Runs go through the window protocol of the co-simulation, inside one net.run().
"""

from __future__ import annotations

import contextlib

import brian2 as b2
import numpy as np
import pytest
from circuit_harness import RES_MS, WINDOW_MS, build, run_windows
from circuit_harness import population_rate as rate

from multiscale.circuits.basal_ganglia import GATES_INF, STEP_CODE, BasalGanglia, _exprel

FAST = {"cell_dt": 0.1}

pytestmark = pytest.mark.usefixtures("numpy_target")


def make(seed=1, params=None, brian_dt_ms=0.1):
    return build(BasalGanglia, "bg", {**FAST, **(params or {})}, seed=seed, brian_dt_ms=brian_dt_ms)


def simulate(duration_ms, *, seed=1, params=None, input_hz=0.0, knobs=None, pulse=None):
    """Run as the co-simulation does (circuit_harness.run_windows); pulse: add_pulse_train
    keywords for STN."""
    circuit = make(seed, params)
    if pulse:
        circuit.add_pulse_train("STN", **pulse)
    return run_windows(circuit, duration_ms, input_hz=input_hz, knobs=knobs)


@pytest.fixture(scope="module")
def baseline():
    return simulate(300.0)


def test_declarations_follow_the_contract():
    c = BasalGanglia
    assert c.NAME == "basal_ganglia"
    assert {"STN", "GPe", "GPi", "TC"} <= set(c.POPULATIONS)
    assert c.OUTPUT_POPULATION == "TC"
    assert c.FIELD == {}
    assert set(c.DRIVE) <= set(c.POPULATIONS)
    assert c.KNOBS["parkinsonian"].default == 0.0
    assert "Kumaravelu" in c.CITATION
    assert c.n_neurons() == 10 * len(c.POPULATIONS)
    assert c.n_neurons({"n": 20}) == 20 * len(c.POPULATIONS)


def test_build_gives_every_population_its_cells_and_stimulation_current():
    circuit = make()
    for pop in circuit.POPULATIONS:
        group = circuit.populations[pop]
        assert len(group) == 10
        assert group.variables["I_stim"].dim == b2.amp.dim
    with pytest.raises(ValueError):
        make(params={"n_cells": 5})
    with pytest.raises(ValueError):
        make(params={"n": 2})
    with pytest.raises(ValueError):  # brian.dt must be a multiple of the cell step
        make(params={"cell_dt": 0.03})


def test_same_seed_same_spikes_other_seed_other_spikes(baseline):
    again = simulate(150.0, seed=1)
    other = simulate(150.0, seed=2)
    for pop in ("STN", "GPi", "TC", "CTX"):
        t, i = baseline[pop]
        first = t < 150.0
        np.testing.assert_array_equal(again[pop][0], t[first])
        np.testing.assert_array_equal(again[pop][1], i[first])
    assert not np.array_equal(other["STN"][0], again["STN"][0])


def test_spontaneous_activity_and_output_rate(baseline):
    # healthy state: STN, GPe, GPi, TC and cortex fire spontaneously (KBG Fig. 3 ranges)
    rates = {pop: rate(baseline, pop, 100.0, 300.0) for pop in ("STN", "GPe", "GPi", "TC", "CTX")}
    assert all(2.0 < r < 100.0 for r in rates.values()), rates
    assert rates["GPe"] > rates["STN"]
    # the rate handed to the connectome is TC's
    assert np.mean(baseline["rate"][100:300]) == pytest.approx(rates["TC"], rel=1e-9)


@pytest.mark.parametrize("cell_dt", [0.05, 0.1])
def test_external_spikes_are_delivered_once_whatever_the_cell_step(cell_dt):
    """Every external event drawn for a window reaches its CTX cell exactly once, also when
    the cells run on a clock finer than brian.dt (one draw per brian.dt step)."""
    circuit = make(params={"cell_dt": cell_dt, "nu_bg": 200.0})
    group = circuit.populations["CTX"].source
    group.namespace["decay_alpha"] = 1.0  # kicks accumulate in z without decay
    for obj in circuit.objects:
        if isinstance(obj, b2.Synapses):
            obj.w_a5e[:] = 0.0  # only external events reach z_a5e
            obj.w_a5e_pd[:] = 0.0
    net = b2.Network(*circuit.network_objects())
    circuit.set_input_window(np.full(int(WINDOW_MS / RES_MS), 50.0), 0.0)
    events = circuit.external_events("CTX", 0, round(WINDOW_MS / 0.1)).sum(axis=0)
    assert events.sum() > 100
    net.run(WINDOW_MS * b2.ms)
    kicks = circuit.populations["CTX"].z_a5e[:] / group.namespace["kick_ext"]
    np.testing.assert_allclose(kicks, events, rtol=1e-9)


def test_afferent_input_raises_cortical_firing():
    quiet = simulate(200.0, params={"nu_bg": 0.0})
    driven = simulate(200.0, params={"nu_bg": 0.0}, input_hz=20.0)
    assert rate(driven, "CTX", 50.0, 200.0) > rate(quiet, "CTX", 50.0, 200.0) + 5.0


def test_knobs_change_during_the_run_and_are_checked():
    run = simulate(50.0, knobs={20.0: ("parkinsonian", 1.0), 30.0: ("nu_bg", 2.0)})
    circuit = run["circuit"]
    assert circuit.knobs == {"parkinsonian": 1.0, "nu_bg": 2.0}
    assert circuit.populations["STN"].source.pd[:] == 1.0
    with pytest.raises(ValueError):
        circuit.set_knob("parkinsonian", 1.5)
    with pytest.raises(ValueError):
        circuit.set_knob("nu_bg", -1.0)
    with pytest.raises(KeyError):
        circuit.set_knob("dopamine", 0.0)


def test_dbs_pulses_reach_stn_and_lock_its_firing(baseline):
    # KBG's DBS: 300 uA/cm2, 0.3 ms = 3 nA at the default 1000 um2
    period = 1000.0 / 130.0
    pulse = dict(frequency_hz=130.0, amplitude_na=3.0, width_ms=0.3, start_ms=150.0, stop_ms=1000.0)
    run = simulate(300.0, pulse=pulse)
    t, i = run["STN"]
    assert rate(run, "STN", 175.0, 300.0) == pytest.approx(130.0, rel=0.1)
    late = t >= 175.0
    phase = 2 * np.pi * ((t[late] - 150.0) % period) / period
    assert np.abs(np.mean(np.exp(1j * phase))) > 0.9  # every cell fires with each pulse
    # before the train starts nothing differs from the baseline (same seed)
    before = baseline["STN"][0] < 150.0
    np.testing.assert_array_equal(t[t < 150.0], baseline["STN"][0][before])
    # and the pulses act on STN only through its cells: GPi, driven by STN, speeds up
    assert rate(run, "GPi", 175.0, 300.0) > rate(baseline, "GPi", 175.0, 300.0)


@pytest.mark.parametrize("kind", sorted(GATES_INF))
def test_initial_gates_are_the_steady_states_of_the_step_code(kind):
    """The named steady-state functions that set the initial gates give, to the bit, the
    inf_x of the integration step (the two are written separately)."""
    vm = np.linspace(-100.0, 40.0, 2801)
    env = {"vm": vm, "exp": np.exp, "clip": np.clip, "exprel": _exprel}
    for line in filter(None, STEP_CODE[kind].splitlines()):
        name, expr = line.split(" = ", 1)
        if name.startswith("x_"):
            continue
        with contextlib.suppress(NameError):  # values of vm alone (not of other state)
            env[name] = eval(expr, {}, env)  # noqa: S307 (the circuit's own formulas)
    inf = GATES_INF[kind](vm)
    assert sorted(inf) == sorted(k[4:] for k in env if k.startswith("inf_"))
    for gate, value in inf.items():
        assert value.tobytes() == env[f"inf_{gate}"].tobytes(), gate
