"""The external drive drawn in generated code (multiscale/poisson_drive.py): its counts are
Poisson with the rate asked for, independent between cells and steps, the same on every
code-generation target, a function of (key, step, cell) only, and what the cells receive.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest
from circuit_harness import build
from scipy import stats

from multiscale.circuits.ei_network import EINetwork
from multiscale.poisson_drive import KEY_LIMIT, events_numpy, stream_numpy


def counts(lam: float, steps: int = 400, cells: int = 500, key: float = 12345.0) -> np.ndarray:
    words = stream_numpy(key, np.arange(steps))
    return events_numpy(words[:, None], np.arange(cells)[None, :], np.exp(-lam), lam)


@pytest.mark.parametrize("lam", [0.02, 0.2, 1.7, 12.0, 45.0, 130.0])
def test_counts_are_poisson_with_the_rate_asked_for(lam):
    """Mean, variance and the whole distribution (chi-square over the bins holding at least
    5 expected counts), for rates from far below one event per step to the chunked draw
    above 30. 200 000 draws: the mean is checked to 5 standard errors."""
    x = counts(lam).ravel()
    n = len(x)
    assert abs(x.mean() - lam) < 5 * np.sqrt(lam / n)
    assert x.var() == pytest.approx(lam, rel=10 * np.sqrt(2 / n) + 5 / np.sqrt(n * lam))
    k = np.arange(int(x.max()) + 2)
    expected = n * stats.poisson.pmf(k, lam)
    observed = np.bincount(x.astype(int), minlength=len(k))[: len(k)]
    keep = expected >= 5
    # lump the tails into the bins at the edges of the kept range
    exp_kept, obs_kept = expected[keep].copy(), observed[keep].astype(float)
    exp_kept[0] += expected[: np.argmax(keep)].sum()
    obs_kept[0] += observed[: np.argmax(keep)].sum()
    last = len(k) - np.argmax(keep[::-1])
    exp_kept[-1] += n - expected[:last].sum()
    obs_kept[-1] += n - observed[:last].sum()
    if len(exp_kept) > 1:
        p = stats.chisquare(obs_kept, exp_kept * obs_kept.sum() / exp_kept.sum()).pvalue
        assert p > 1e-4


def test_counts_are_independent_between_cells_steps_and_keys():
    x = counts(1.0, steps=300, cells=600)
    z = (x - 1.0) / 1.0
    # neighbouring cells, neighbouring steps: correlations within 5 standard errors of 0
    se = 1 / np.sqrt(z.size)
    assert abs(np.mean(z[:, 1:] * z[:, :-1])) < 5 * se
    assert abs(np.mean(z[1:] * z[:-1])) < 5 * se
    other = counts(1.0, steps=300, cells=600, key=12346.0)
    assert abs(np.mean(z * (other - 1.0))) < 5 * se
    assert not np.array_equal(x, other)


def test_words_and_counts_depend_only_on_key_step_and_cell():
    steps = np.array([0, 1, 7, 10**9])
    words = stream_numpy(99.0, steps)
    assert np.all(words < KEY_LIMIT) and np.all(words == np.floor(words))
    np.testing.assert_array_equal(stream_numpy(99.0, steps[::-1]), words[::-1])
    a = events_numpy(words[:, None], np.arange(50)[None, :], np.exp(-0.7), 0.7)
    b = events_numpy(words[2], np.arange(50), np.exp(-0.7), 0.7)
    np.testing.assert_array_equal(a[2], b)
    assert np.all(events_numpy(words[0], np.arange(50), 1.0, 0.0) == 0)


@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_generated_code_draws_the_same_counts_as_numpy(target, request):
    """A group that adds the drive's counts to a variable: every target's generated code
    gives exactly the counts of the numpy functions (rates below and above the chunk)."""
    if target == "cython":
        pytest.importorskip("Cython")
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = target
    request.addfinalizer(lambda: setattr(b2.prefs.codegen, "target", old))
    from multiscale.poisson_drive import drive_events, drive_stream

    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    g = b2.NeuronGroup(
        64,
        "n : 1\nlam : 1 (constant)",
        namespace={"key": 777.0, "drive_stream": drive_stream, "drive_events": drive_events},
    )
    g.lam = np.linspace(0.0, 70.0, 64)
    g.run_regularly("n += drive_events(drive_stream(key, timestep(t, dt)), i, exp(-lam), lam)")
    b2.run(2 * b2.ms)
    words = stream_numpy(777.0, np.arange(20))
    lam = np.linspace(0.0, 70.0, 64)
    expected = events_numpy(words[:, None], np.arange(64)[None, :], np.exp(-lam), lam).sum(0)
    np.testing.assert_array_equal(g.n[:], expected)


@pytest.mark.usefixtures("numpy_target")
def test_cells_receive_exactly_the_counts_external_events_gives():
    """ei_network (E and I folded into one group's update): with the AMPA kernels' decay
    switched off and the threshold out of reach, d_ampa / w_ext counts every external event
    of a window, cell by cell, as Circuit.external_events computes them."""
    circuit = build(EINetwork, "x", {"n_E": 40, "n_I": 10})
    cells = circuit.cells
    cells.decay_d_ampa = 1.0
    cells.namespace["V_thr"] = 1 * b2.volt  # no spike: no recurrent kick
    net = b2.Network(*circuit.network_objects())
    circuit.set_input_window(np.full(10, 30.0), 0.0)
    net.run(10 * b2.ms)
    for pop in ("E", "I"):
        got = circuit.populations[pop].d_ampa[:] / circuit.populations[pop].w_ext[:]
        want = circuit.external_events(pop, 0, 100).sum(axis=0)
        assert want.sum() > 100
        np.testing.assert_allclose(got, want, rtol=1e-9)


@pytest.mark.usefixtures("numpy_target")
def test_a_circuits_drive_does_not_depend_on_what_else_is_built():
    """The drive comes from the circuit's own stream: built alone or after another circuit
    in the same process (as on a shared MPI rank), its counts are the same."""
    size = {"n_E": 40, "n_I": 10}

    def events(circuit):
        circuit.set_input_window(np.full(10, 5.0), 0.0)
        return circuit.external_events("E", 0, 100)

    alone = events(build(EINetwork, "a", size, seed=5))
    build(EINetwork, "b", size, seed=6)
    shared = EINetwork("a", size, resolution_ms=1.0, window_ms=10.0, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(events(shared), alone)
    assert alone.sum() > 0
