"""The engine and region models against The Virtual Brain (tvb-library 2.10).

The fixtures in tests/fixtures/tvb/ are TVB runs (4 regions of connectivity_76, dt 0.1 ms,
200 ms, Heun; conventions in tests/fixtures/tvb/CONVENTIONS.md). Each is redone here with
the same connectome, delays, parameters, coupling, initial history and dt (the stochastic
Jansen-Rit run with TVB's stored noise increments), without TVB:

* default float64 engine: max relative error <= 1e-6 (TVB's float32 history and weights
  alone make a difference of up to ~2e-7);
* ``tvb_compat=True`` (TVB's float32 arithmetic): identical to the bit.

Relative error, as in CONVENTIONS.md: per state variable, max_t,i |x - x_TVB| divided by
max_t,i |x_TVB|; the largest over state variables.

Time alignment (CONVENTIONS.md section 2): TVB's H-sample history holds its steps
0 .. H-1, the last being the initial state, and its first recorded sample is step H
(time H dt). The engine takes the same history as its steps -(H-1) .. 0, so TVB's k-th
recorded sample is the engine's step k + 1: the k-th row that ``advance`` returns.
"""

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from multiscale.connectome import Connectome
from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.regions import (
    Epileptor,
    Generic2dOscillator,
    JansenRit,
    Kuramoto,
    MontbrioPazoRoxin,
    ReducedWongWangExcInh,
    WilsonCowan,
)

FIXTURES = Path(__file__).parent / "fixtures" / "tvb"

# fixture: model, TVB model class, coupling, {our parameter: TVB's name}, TVB parameters
# that the TVB model declares but does not use
CASES = {
    "jansenrit": (JansenRit, "JansenRit", "sigmoidal_jansen_rit", {}, {"p_min", "p_max"}),
    "jansenrit_stochastic": (
        JansenRit,
        "JansenRit",
        "sigmoidal_jansen_rit",
        {},
        {"p_min", "p_max"},
    ),
    "wilsoncowan": (WilsonCowan, "WilsonCowan", "linear", {}, set()),
    "generic2doscillator": (
        Generic2dOscillator,
        "Generic2dOscillator",
        "linear",
        {"c_W": "c"},
        set(),
    ),
    "kuramoto": (Kuramoto, "Kuramoto", "kuramoto", {}, set()),
    "reducedwongwangexcinh": (ReducedWongWangExcInh, "ReducedWongWangExcInh", "linear", {}, set()),
    "montbriopazoroxin": (MontbrioPazoRoxin, "MontbrioPazoRoxin", "linear", {}, {"Gamma"}),
    "epileptor": (Epileptor, "Epileptor", "difference", {}, {"s"}),
}
TVB_COUPLING = {
    "linear": "Linear",
    "sigmoidal_jansen_rit": "SigmoidalJansenRit",
    "difference": "Difference",
    "kuramoto": "Kuramoto",
}
NAMES = list(CASES)


@cache
def fixture(name: str) -> dict:
    with np.load(FIXTURES / f"{name}.npz") as f:
        fx = {k: f[k] for k in f.files}
    if "states_file" in fx:
        with np.load(FIXTURES / str(fx["states_file"])) as f:
            fx["states"] = f["states"]
    return fx


def engine(name: str, tvb_compat: bool) -> Engine:
    """An engine set up as TVB was for fixture ``name``, checking that every TVB parameter,
    coupling parameter and boundary is accounted for."""
    fx = fixture(name)
    model, tvb_class, coupling_name, alias, unused = CASES[name]
    assert str(fx["model_class"]) == tvb_class
    assert [str(s) for s in fx["state_variables"]] == model.state_names()
    # TVB's WilsonCowan declares cvar (E, I) but uses only E's coupling
    assert list(model.coupling_indices()) == ([0] if name == "wilsoncowan" else list(fx["cvar"]))
    n = fx["weights"].shape[0]
    tvb_params = {k.removeprefix("param_"): v for k, v in fx.items() if k.startswith("param_")}
    assert set(tvb_params) == {alias.get(p, p) for p in model.PARAMETERS} | unused
    values = {p: np.asarray(tvb_params[alias.get(p, p)], dtype=float) for p in model.PARAMETERS}
    cp = COUPLINGS[coupling_name]
    assert str(fx["coupling_class"]) == TVB_COUPLING[coupling_name]
    q = {
        k.removeprefix("coupling_"): float(v[0])
        for k, v in fx.items()
        if k.startswith("coupling_") and k != "coupling_class"
    }
    assert set(q) == set(cp.parameters)
    for v, (k, (lo, hi)) in enumerate(zip(model.state_names(), model.bounds(), strict=True)):
        if f"bounds_{k}" in fx:  # TVB stores an open side as float64 max
            assert (lo, min(hi, np.finfo(float).max)) == tuple(fx[f"bounds_{k}"])
        elif name == "wilsoncowan":  # our E, I are clipped to [0, 1], TVB's are not ...
            assert lo < fx["states"][:, v].min() and fx["states"][:, v].max() < hi  # ... here
        else:
            assert (lo, hi) == (-np.inf, np.inf)
    return Engine(
        model,
        model.parameter_matrix(n, values),
        cp,
        cp.parameter_vector(q),
        fx["weights"],
        fx["idelays"],
        float(fx["dt"]),
        initial=fx["initial_history"][..., 0].transpose(0, 2, 1),  # (H, n, n_state)
        tvb_compat=tvb_compat,
    )


def increments(name: str) -> np.ndarray | None:
    """TVB's noise increments, (T, n, n_state), or None for a deterministic run."""
    inc = fixture(name).get("noise_increments")
    return None if inc is None else np.ascontiguousarray(inc.transpose(0, 2, 1))


@cache
def trajectory(name: str, tvb_compat: bool) -> np.ndarray:
    """Our run of fixture ``name``: every step's full state, (T, n_state, n) like TVB's."""
    eng = engine(name, tvb_compat)
    inc = increments(name)
    T = fixture(name)["states"].shape[0]
    out = np.empty((T, *eng.X.T.shape))
    for k in range(T):
        eng.advance(1, increments=None if inc is None else inc[k : k + 1])
        out[k] = eng.X.T
    return out


def rel_error(x: np.ndarray, ref: np.ndarray) -> float:
    return float((np.abs(x - ref).max(axis=(0, 2)) / np.abs(ref).max(axis=(0, 2))).max())


@pytest.mark.parametrize("name", NAMES)
def test_float64_engine_matches_tvb_within_1e6(name):
    err = rel_error(trajectory(name, False), fixture(name)["states"])
    assert err <= 1e-6, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("name", NAMES)
def test_tvb_compat_engine_matches_tvb_bit_for_bit(name):
    ours, ref = trajectory(name, True), fixture(name)["states"]
    assert np.array_equal(ours, ref), f"{name}: relative error {rel_error(ours, ref):.2e}"


@pytest.mark.parametrize("name", NAMES)
def test_windowed_advance_returns_the_observable_of_the_same_run(name):
    """advance() over uneven windows gives the model's EEG observable of each step of the
    same trajectory (checked bit for bit against TVB's states in tvb_compat mode)."""
    model = CASES[name][0]
    eng = engine(name, True)
    inc = increments(name)
    ref = fixture(name)["states"]
    obs, step = [], 0
    for n in (1, 299, 700, 1000):
        obs.append(eng.advance(n, increments=None if inc is None else inc[step : step + n]))
        step += n
    P = eng.P
    expected = [[model.observe(ref[k, :, i], P[i]) for i in range(P.shape[0])] for k in range(step)]
    np.testing.assert_array_equal(np.concatenate(obs), expected)


@pytest.mark.parametrize("name", ["jansenrit", "epileptor"])
def test_alignment_is_sensitive_to_one_step(name):
    """The tolerance resolves the time alignment: our run shifted by one step is far off."""
    ours, ref = trajectory(name, False), fixture(name)["states"]
    assert rel_error(ours[1:], ref[:-1]) > 1e-4
    assert rel_error(ours[:-1], ref[1:]) > 1e-4


@pytest.mark.parametrize("name", NAMES)
def test_times_and_delays_follow_tvb_conventions(name):
    fx = fixture(name)
    dt, H = float(fx["dt"]), int(fx["horizon"])
    T = fx["states"].shape[0]
    # TVB records step H + k at time (H + k) dt: the engine's step k + 1 (module docstring)
    np.testing.assert_array_equal(fx["times"], (H + np.arange(T)) * dt)
    assert fx["initial_history"].shape[0] == H
    conn = Connectome("tvb4", [str(s) for s in fx["labels"]], fx["weights"], fx["lengths"])
    np.testing.assert_array_equal(conn.delay_steps(float(fx["speed"]), dt), fx["idelays"])


def test_initial_history_must_cover_the_largest_delay():
    fx = fixture("jansenrit")
    cp = COUPLINGS["sigmoidal_jansen_rit"]
    hist = fx["initial_history"][..., 0].transpose(0, 2, 1)
    args = (
        JansenRit,
        JansenRit.parameter_matrix(4),
        cp,
        cp.parameter_vector(),
        fx["weights"],
        fx["idelays"],
        0.1,
    )
    with pytest.raises(ValueError, match="too short"):
        Engine(*args, initial=hist[1:])
    # a longer history: only its last samples matter
    longer = np.concatenate([np.full((50, *hist.shape[1:]), 99.0), hist])
    a = Engine(*args, initial=longer).advance(400)
    b = Engine(*args, initial=hist).advance(400)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["jansenrit", "epileptor"])
def test_tvb_compat_from_an_experiment_file_matches_tvb_bit_for_bit(name, tmp_path):
    """The same bit-parity, reached the way a user would: an experiment file with
    regions.integrator.tvb_compat, the fixture's connectome and initial history as files,
    every step's states recorded."""
    import h5py
    import yaml

    from multiscale.config import load_experiment
    from multiscale.cosim import Simulation

    fx = fixture(name)
    model, _, coupling_name, alias, _ = CASES[name]
    np.save(tmp_path / "w.npy", fx["weights"])
    np.save(tmp_path / "l.npy", fx["lengths"])
    np.save(tmp_path / "hist.npy", fx["initial_history"][..., 0].transpose(0, 2, 1))
    params = {
        p: np.asarray(fx[f"param_{alias.get(p, p)}"], dtype=float).tolist()
        for p in model.PARAMETERS
    }
    params = {p: v[0] if len(v) == 1 else v for p, v in params.items()}
    q = {k.removeprefix("coupling_"): float(v[0]) for k, v in fx.items()
         if k.startswith("coupling_") and k != "coupling_class"}  # fmt: skip
    dt = float(fx["dt"])
    steps = fx["states"].shape[0]
    data = {
        "name": name,
        "seed": 1,
        "duration": f"{steps * dt!r} ms",
        "connectome": {
            "source": {"weights": "w.npy", "lengths": "l.npy"},
            "conduction_speed": f"{float(fx['speed'])!r} mm/ms",
        },
        "regions": {
            "model": model.NAME,
            "parameters": params,
            "coupling": {"kind": coupling_name, **q},
            "integrator": {"dt": f"{dt!r} ms", "tvb_compat": True},
            "initial_history": "hist.npy",
        },
        "cosim": {"resolution": f"{dt!r} ms"},
        "record": {"eeg": None, "states": "all", "sampling_rate": f"{1000 / dt!r} Hz"},
        "output": {"path": str(tmp_path / "out.h5"), "figures": False},
    }
    (tmp_path / "tvb.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    exp = load_experiment(tmp_path / "tvb.yaml")
    assert exp.plan.masses.tvb_compat
    Simulation(exp.plan, progress=False).run()
    ref = fixture(name)["states"]  # (T, n_state, n)
    with h5py.File(tmp_path / "out.h5") as f:
        for v, sv in enumerate(model.state_names()):
            ours = f[f"regions/states/{sv}"][:steps]
            assert np.array_equal(ours, ref[:, v, :]), f"{name}.{sv} differs from TVB"
