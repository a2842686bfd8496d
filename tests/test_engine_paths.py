"""The engine's fast paths give the numbers of its reference paths to the bit: the blocked
gather against the step-by-step loop, sparse inputs against dense ones."""

import numba
import numpy as np
import pytest

from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.engine.kernel import BLOCK
from multiscale.regions import JansenRit, WilsonCowan
from multiscale.sparse import DenseOnDemand, SparseMatrix


def _network(n: int, seed: int = 0):
    """Random weights (30 % of pairs, self-edges included) and delays from 0 to 60 steps,
    so that rows mix edges the blocked gather takes ahead (delay >= BLOCK - 1) with
    edges it must add step by step (self-edges at delay 0, short delays), and a third of
    the regions have only long edges (the blocked loop runs those a block at a time)."""
    rng = np.random.default_rng(seed)
    W = np.where(rng.uniform(size=(n, n)) < 0.3, rng.uniform(0.0, 0.05, (n, n)), 0.0)
    D = rng.integers(BLOCK - 1, 60, (n, n))
    D[np.diag_indices(n)] = 0
    D[rng.uniform(size=(n, n)) < 0.1] = 3  # short delays in the middle of rows
    D[:, :3] = 40  # rows whose leading edges are all long
    D[: n // 3] = rng.integers(BLOCK - 1, 60, (n // 3, n))  # regions with long edges only
    return W, D


def _engine(model, coupling_name, W, D, **kw):
    cpl = COUPLINGS[coupling_name]
    n = W.shape[0]
    rng = np.random.default_rng(3)
    x0 = model.initial_state() * (1 + 0.1 * rng.uniform(-1, 1, (n, len(model.STATE_VARIABLES))))
    return Engine(
        model,
        model.parameter_matrix(n),
        cpl,
        cpl.parameter_vector({}),
        W,
        D,
        0.1,
        initial=x0,
        **kw,
    )


def _run(eng: Engine, windows, stimulus_at=None) -> tuple[np.ndarray, np.ndarray]:
    """Observable and states over consecutive advances of the given lengths."""
    obs, states = [], []
    for k, n in enumerate(windows):
        st = np.empty((n, *eng.X.shape))
        stim = None
        if k == stimulus_at:
            stim = np.zeros((n, *eng.X.shape))
            stim[:, 1, 0] = 5.0
        obs.append(eng.advance(n, states=st, stimulus=stim))
        states.append(st)
    return np.concatenate(obs), np.concatenate(states)


@pytest.mark.parametrize(
    "model, coupling, method",
    [
        (JansenRit, "sigmoidal_jansen_rit", "heun"),
        (JansenRit, "sigmoidal_jansen_rit", "euler"),
        (WilsonCowan, "linear", "heun"),
    ],
)
@pytest.mark.parametrize("threads", [1, 2])
def test_blocked_gather_is_the_step_by_step_loop_to_the_bit(model, coupling, method, threads):
    """Whatever the thread count (regions on numba's threads: the parallel loop), and with
    the longest delays at the horizon (min_horizon 0: their sources' blocks must not be
    run ahead)."""
    W, D = _network(23)
    noise = np.full(len(model.STATE_VARIABLES), 1e-6)
    kw = dict(method=method, noise=noise, min_horizon=70 if threads == 1 else 0)
    kw["threads"] = min(threads, numba.config.NUMBA_NUM_THREADS)
    blocked = _engine(model, coupling, W, D, rng=np.random.default_rng(5), blocked=True, **kw)
    step = _engine(model, coupling, W, D, rng=np.random.default_rng(5), blocked=False, **kw)
    assert blocked.blocked and not step.blocked and blocked.threads == kw["threads"]
    leading = (blocked._split.astype(np.int64) - blocked.row_ptr[:-1]).sum()
    assert 0 < leading < blocked.w.size  # both kinds of edges are exercised
    assert len(blocked._whole) and len(blocked._stepped)  # and both kinds of regions
    windows = [1, BLOCK - 1, 3 * BLOCK + 5, 70, 70, 2]  # blocks cut at every window end
    a_obs, a_states = _run(blocked, windows, stimulus_at=2)
    b_obs, b_states = _run(step, windows, stimulus_at=2)
    assert np.isfinite(a_obs).all() and a_states.std(axis=0).min() > 0
    np.testing.assert_array_equal(a_obs, b_obs)
    np.testing.assert_array_equal(a_states, b_states)
    np.testing.assert_array_equal(blocked.Hp, step.Hp)


def test_blocked_gather_reads_a_proxys_written_history():
    """A proxy's history, written a window late, reaches its targets as in the step loop."""
    W, D = _network(12, seed=1)
    D[W > 0] = np.maximum(D[W > 0], 20)  # every edge at least one window of 20 steps
    runs = []
    for blocked in (True, False):
        eng = _engine(
            JansenRit, "sigmoidal_jansen_rit", W, D, proxies=[4], min_horizon=20, blocked=blocked
        )
        obs = [eng.advance(20)]
        for k in range(1, 5):
            eng.write_history(4, 20 * (k - 1) + 1, np.full((20, 2), [0.5 * k, 0.1]))
            obs.append(eng.advance(20))
        runs.append(np.concatenate(obs))
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.ptp(runs[0][:, 0]) > 0


@pytest.mark.parametrize(
    "model, coupling, tvb_compat",
    # TVB's sigmoidal JR coupling sums over every pair (tvb_dense): not a sparse case
    [(JansenRit, "sigmoidal_jansen_rit", False), (WilsonCowan, "linear", True)],
)
def test_sparse_inputs_build_the_engine_of_the_dense_ones(model, coupling, tvb_compat, monkeypatch):
    W, D = _network(30, seed=2)
    W[5, 5] = 0.02  # a proxy's self-edge: dropped either way
    W[7, 2] = 1e-50  # zero in float32: TVB's weights drop it
    dense = _engine(model, coupling, W, D, proxies=[5], tvb_compat=tvb_compat)

    def no_dense(*args, **kwargs):
        raise AssertionError("an (n, n) array was made")

    Ws = SparseMatrix.from_dense(W)
    Ds = SparseMatrix.from_dense(np.where(W > 0, D, 0))  # the pattern of the weights
    monkeypatch.setattr(SparseMatrix, "toarray", no_dense)
    monkeypatch.setattr(SparseMatrix, "dense_rows", no_dense)
    sparse = _engine(
        model,
        coupling,
        DenseOnDemand(Ws, np.float64),
        DenseOnDemand(Ds, np.int64),
        proxies=[5],
        tvb_compat=tvb_compat,
    )
    for name in ("row_ptr", "col", "w", "d"):
        np.testing.assert_array_equal(getattr(sparse, name), getattr(dense, name))
    assert 5 not in sparse.col[sparse.row_ptr[5] : sparse.row_ptr[6]]
    assert (2 in sparse.col[sparse.row_ptr[7] : sparse.row_ptr[8]]) != tvb_compat
    np.testing.assert_array_equal(sparse.advance(200), dense.advance(200))


def test_the_loop_is_chosen_by_what_blocks_save():
    """Default (blocked=None): blocked when blocks take at least half of the edge reads
    away, with the block size that leaves fewest; not when zero-delay self-edges keep
    half of every row per step (TVB's 76-region connectome's case)."""
    rng = np.random.default_rng(4)
    n = 30
    W = np.where(rng.uniform(size=(n, n)) < 0.5, 0.01, 0.0)
    np.fill_diagonal(W, 0.0)
    D = rng.integers(3, 40, (n, n))  # every delay >= 3: blocks of 4 take every edge
    eng = _engine(JansenRit, "sigmoidal_jansen_rit", W, D)
    assert eng.blocked and eng.block == 4
    assert (eng._split == eng._row_ptr_u[1:]).all()  # no edge left for the steps
    D2 = np.zeros_like(D)
    D2[:, : 3 * n // 4] = 60  # rows start with long edges, end with zero delays:
    # any block takes the first three quarters, and 16 steps leave the fewest reads
    eng = _engine(JansenRit, "sigmoidal_jansen_rit", W, D2)
    assert eng.blocked and eng.block == 16
    W3 = W.copy()
    np.fill_diagonal(W3, 0.01)
    D3 = np.full((n, n), 40)
    D3[np.diag_indices(n)] = 0  # zero-delay self-edges in the middle of every row
    eng = _engine(JansenRit, "sigmoidal_jansen_rit", W3, D3)
    assert not eng.blocked
    with pytest.raises(ValueError, match="threads"):
        _engine(JansenRit, "sigmoidal_jansen_rit", W, D, threads=0)


def test_advance_writes_the_observable_into_a_given_array():
    W, D = _network(12, seed=5)
    a = _engine(JansenRit, "sigmoidal_jansen_rit", W, D)
    b = _engine(JansenRit, "sigmoidal_jansen_rit", W, D)
    out = np.full((50, 12), np.nan)
    got = b.advance(50, out=out)
    assert got is out
    np.testing.assert_array_equal(out, a.advance(50))
    with pytest.raises(ValueError, match="out must be"):
        b.advance(5, out=np.zeros((4, 12)))
