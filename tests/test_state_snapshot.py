"""The mass engine's snapshot (Engine.get_state / set_state) continues a run to the bit,
also through HDF5 (multiscale.checkpoint_state), with noise, proxies and perturbations."""

from __future__ import annotations

import h5py
import numpy as np

from multiscale.checkpoint_state import load_state, save_state
from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.regions import JansenRit

WINDOW = 10  # steps
PROXY = 1


def make_engine(seed: int = 3) -> Engine:
    """A noisy 5-region Jansen-Rit network with one proxy node, as the co-simulation builds
    it (edges at least one window long, history deep enough for a window)."""
    rng = np.random.default_rng(0)
    n = 5
    sig = COUPLINGS["sigmoidal_jansen_rit"]
    return Engine(
        JansenRit,
        JansenRit.parameter_matrix(n),
        sig,
        sig.parameter_vector({"a": 0.5}),
        rng.uniform(0.0, 1.0, (n, n)),
        rng.integers(WINDOW, 4 * WINDOW, (n, n)),
        0.1,
        proxies=[PROXY],
        noise=np.array([0.0, 0.0, 0.0, 1e-2, 0.0, 0.0]),
        rng=np.random.default_rng(seed),
        min_horizon=WINDOW,
    )


def run_windows(eng: Engine, first: int, count: int) -> dict[str, np.ndarray]:
    """Windows first .. first + count - 1 of the co-simulation's engine side: the proxy's
    input, the window, then the proxy's activity written into the history."""
    afferent, obs = [], []
    n_cv = len(eng.cvar_idx)
    for k in range(first, first + count):
        afferent.append(eng.afferent(np.array([PROXY]), WINDOW))
        obs.append(eng.advance(WINDOW))
        proxy = np.sin(0.1 * (k * WINDOW + np.arange(WINDOW)))[:, None] * np.ones(n_cv)
        eng.write_history(PROXY, k * WINDOW + 1, proxy)
    return {"afferent": np.concatenate(afferent), "obs": np.concatenate(obs), "X": eng.X.copy()}


def test_engine_snapshot_continues_to_the_bit(tmp_path):
    k, m = 7, 9
    a = make_engine()
    run_windows(a, 0, k)
    a.set_parameter("A", np.array([0, 2]), 3.5)  # a perturbation before the snapshot
    a.w[:3] *= 0.5
    snapshot = a.get_state()
    with h5py.File(tmp_path / "engine.h5", "w") as f:
        save_state(f.create_group("engine"), snapshot)
    expected = run_windows(a, k, m)

    b = make_engine(seed=99)  # a different noise stream: the snapshot must replace it
    b.set_state(snapshot)
    got = run_windows(b, k, m)
    with h5py.File(tmp_path / "engine.h5", "r") as f:
        loaded = load_state(f["engine"])
    c = make_engine(seed=99)
    c.set_state(loaded)
    from_file = run_windows(c, k, m)
    for key in expected:
        assert np.array_equal(expected[key], got[key], equal_nan=True), key
        assert np.array_equal(expected[key], from_file[key], equal_nan=True), key
    assert b.step == a.step == (k + m) * WINDOW
    # the continuation is not trivially equal: without the snapshot it differs
    d = make_engine(seed=99)
    run_windows(d, 0, k)
    assert not np.array_equal(run_windows(d, k, m)["obs"], expected["obs"], equal_nan=True)


def test_engine_snapshot_keys_round_trip_through_hdf5(tmp_path):
    state = make_engine().get_state()
    with h5py.File(tmp_path / "s.h5", "w") as f:
        save_state(f, state)
    with h5py.File(tmp_path / "s.h5", "r") as f:
        back = load_state(f)
    assert set(back) == set(state)
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            assert back[key].dtype == value.dtype and np.array_equal(back[key], value), key
        else:
            assert back[key] == value and type(back[key]) is type(value), key
