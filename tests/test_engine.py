"""The mass engine against cases with known answers."""

import ast
import importlib
import inspect
import textwrap
import types

import numpy as np
import pytest
from numba import njit
from scipy.integrate import solve_ivp

from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.engine.noise import NormalStream
from multiscale.parameter import Parameter, StateVariable
from multiscale.region import RegionModel, parameter_index
from multiscale.regions import REGION_MODELS, JansenRit, ReducedWongWangExcInh, WilsonCowan


@njit
def _ramp_or_integrator(x, c, p, dx):
    # p[0] = 1: dx/dt = 1 (a clock); p[0] = 0: dx/dt = c (integrates its input)
    dx[0] = p[0] + (1.0 - p[0]) * c[0]


@njit
def _identity(x, p):
    return x[0]


class Probe(RegionModel):
    NAME = "probe"
    PARAMETERS = {"clock": Parameter(0.0, "1", "1: ramp, 0: integrator")}
    STATE_VARIABLES = {"x": StateVariable(0.0, "1", "state")}
    COUPLING_VARIABLES = ("x",)
    OBSERVABLE = ("x", "1")
    dfun = _ramp_or_integrator
    observe = _identity


@pytest.mark.parametrize("delay", [0, 1, 7, 25])
def test_delayed_coupling_is_read_exactly_delay_steps_back(delay):
    """Node 0 is a clock x0 = t; node 1 integrates W x0(t - d). With a history held at 0
    before t = 0, Heun with the coupling frozen over a step gives
    x1(n) = dt * sum_{s < n} max(s - d, 0) dt exactly."""
    dt = 0.1
    W = np.array([[0.0, 0.0], [1.0, 0.0]])
    D = np.array([[0, 0], [delay, 0]])
    lin = COUPLINGS["linear"]
    eng = Engine(Probe, np.array([[1.0], [0.0]]), lin, lin.parameter_vector({"a": 1.0}), W, D, dt)
    obs = eng.advance(60)
    s = np.arange(60)
    expected = np.cumsum(dt * np.maximum(s - delay, 0) * dt)
    np.testing.assert_allclose(obs[:, 1], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(obs[:, 0], dt * (s + 1), rtol=0, atol=1e-12)


def test_windowed_advance_equals_one_advance():
    rng = np.random.default_rng(0)
    n = 6
    W = rng.uniform(0, 1, (n, n))
    D = rng.integers(0, 40, (n, n))
    sig = COUPLINGS["sigmoidal_jansen_rit"]
    args = (
        JansenRit,
        JansenRit.parameter_matrix(n),
        sig,
        sig.parameter_vector({"a": 0.1}),
        W,
        D,
        0.1,
    )
    whole = Engine(*args).advance(300)
    e = Engine(*args)
    parts = np.concatenate([e.advance(k) for k in (7, 93, 200)])
    np.testing.assert_array_equal(whole, parts)


def test_jansen_rit_single_node_matches_scipy_reference():
    """Heun (second order) at dt = 0.01 ms against an adaptive RK45 at rtol 1e-10."""
    p = JansenRit.parameter_matrix(1, {"v0": 6.0})
    x0 = np.array([0.1, 12.0, 8.0, 0.0, 0.0, 0.0])
    sig = COUPLINGS["sigmoidal_jansen_rit"]
    dt, T = 0.01, 200.0
    e = Engine(
        JansenRit,
        p,
        sig,
        sig.parameter_vector({"a": 0.0}),
        np.zeros((1, 1)),
        np.zeros((1, 1), int),
        dt,
        initial=x0,
    )
    obs = e.advance(int(T / dt))

    def f(t, x):
        dx = np.zeros(6)
        JansenRit.dfun(x, np.zeros(1), p[0], dx)
        return dx

    ref = solve_ivp(f, (0, T), x0, rtol=1e-10, atol=1e-12, t_eval=dt * np.arange(1, len(obs) + 1))
    err = np.abs(obs[:, 0] - (ref.y[1] - ref.y[2]))
    assert err.max() < 1e-4, err.max()  # y1 - y2 spans several mV


def test_jansen_rit_alpha_rhythm():
    """docs/science.md: p = 220/s without noise gives a spectral peak at 10-11.5 Hz on y1 - y2
    (Jansen & Rit 1995 parameters, v0 = 6 mV)."""
    sig = COUPLINGS["sigmoidal_jansen_rit"]
    e = Engine(
        JansenRit,
        JansenRit.parameter_matrix(1, {"v0": 6.0, "mu": 0.22}),
        sig,
        sig.parameter_vector({"a": 0.0}),
        np.zeros((1, 1)),
        np.zeros((1, 1), int),
        0.1,
    )
    x = e.advance(50000)[10000:, 0]
    f = np.fft.rfftfreq(len(x), 1e-4)
    P = np.abs(np.fft.rfft(x - x.mean())) ** 2
    assert 10.0 <= f[P.argmax()] <= 11.5


def test_noise_is_seeded_and_scaled():
    lin = COUPLINGS["linear"]
    args = (
        WilsonCowan,
        WilsonCowan.parameter_matrix(3),
        lin,
        lin.parameter_vector(),
        np.zeros((3, 3)),
        np.zeros((3, 3), int),
        0.1,
    )
    a = Engine(*args, noise=np.array([1e-4, 0.0]), rng=np.random.default_rng(5)).advance(500)
    b = Engine(*args, noise=np.array([1e-4, 0.0]), rng=np.random.default_rng(5)).advance(500)
    c = Engine(*args, noise=np.array([1e-4, 0.0]), rng=np.random.default_rng(6)).advance(500)
    d = Engine(*args).advance(500)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert not np.array_equal(a, d)


def test_noise_is_drawn_for_the_noisy_variables_only():
    """Noise on E alone (of E, I): one normal per region and step is drawn, and each
    step's increment of E is that draw times sqrt(2 D dt) (the I column gets none)."""
    lin = COUPLINGS["linear"]
    args = (WilsonCowan, WilsonCowan.parameter_matrix(3), lin, lin.parameter_vector(),
            np.zeros((3, 3)), np.zeros((3, 3), int), 0.1)  # fmt: skip
    rng = np.random.default_rng(5)
    eng = Engine(*args, noise=np.array([1e-4, 0.0]), rng=rng)
    eng.advance(40)
    reference = np.random.default_rng(5)
    reference.standard_normal((40, 3, 1))
    assert rng.bit_generator.state == reference.bit_generator.state  # 120 draws, not 240
    z = np.random.default_rng(5).standard_normal((40, 3, 1))
    increments = np.zeros((40, 3, 2))
    increments[:, :, 0] = z[:, :, 0] * np.sqrt(2 * 1e-4 * 0.1)
    same = Engine(*args, noise=np.array([1e-4, 0.0]), rng=np.random.default_rng(5)).advance(40)
    np.testing.assert_array_equal(Engine(*args).advance(40, increments=increments), same)


def test_noise_drawn_ahead_is_the_same_stream():
    """NormalStream(ahead=True) draws the next window on a thread: the numbers handed out,
    their order and the generator's state after ``settle`` are those of drawing in the
    caller, through a change of window shape (the last, shorter window) and back."""
    shapes = [(50, 4, 1)] * 3 + [(7, 4, 1), (50, 4, 1), (50, 4, 1)]
    plain, ahead = (
        NormalStream(np.random.default_rng(3)),
        NormalStream(np.random.default_rng(3), ahead=True),
    )
    for shape in shapes:
        np.testing.assert_array_equal(ahead.take(shape), plain.take(shape))
    ahead.settle()
    assert ahead.rng.bit_generator.state == plain.rng.bit_generator.state
    np.testing.assert_array_equal(ahead.take((5, 4, 1)), plain.take((5, 4, 1)))


def test_engine_with_noise_ahead_gives_the_same_run_and_snapshots():
    """An engine drawing its noise a window ahead: the same observable as one drawing in
    the caller, window by window, and a snapshot taken between windows continues the same
    on an engine of either kind."""
    lin = COUPLINGS["linear"]
    rng = np.random.default_rng(0)
    args = (WilsonCowan, WilsonCowan.parameter_matrix(4), lin, lin.parameter_vector(),
            rng.uniform(0, 0.2, (4, 4)), rng.integers(1, 9, (4, 4)), 0.1)  # fmt: skip

    def engine(ahead: bool) -> Engine:
        return Engine(*args, noise=np.array([1e-4, 1e-5]), rng=np.random.default_rng(5),
                      noise_ahead=ahead)  # fmt: skip

    a, b = engine(True), engine(False)
    for n in (100, 100, 30, 100):
        np.testing.assert_array_equal(a.advance(n), b.advance(n))
    snapshot = a.get_state()
    assert snapshot["rng"] == b.get_state()["rng"]
    later = b.advance(100)
    for other in (engine(True), engine(False)):
        other.set_state(snapshot)
        np.testing.assert_array_equal(other.advance(100), later)


def test_bounds_are_enforced():
    """Reduced Wong-Wang gating variables stay in [0, 1] even under strong noise."""
    lin = COUPLINGS["linear"]
    model = ReducedWongWangExcInh
    e = Engine(
        model,
        model.parameter_matrix(4),
        lin,
        lin.parameter_vector(),
        np.zeros((4, 4)),
        np.zeros((4, 4), int),
        0.1,
        noise=np.array([0.5, 0.5]),
        rng=np.random.default_rng(1),
    )
    e.advance(2000)
    assert e.X.min() >= 0.0 and e.X.max() <= 1.0
    assert (e.X == 0.0).any() or (e.X == 1.0).any()  # the noise does push them to the bounds


def test_proxy_nodes_are_not_integrated_and_take_written_history():
    """A proxy's coupling variables come only from write_history; others see them delayed."""
    dt, d = 0.1, 10
    W = np.array([[0.0, 0.0], [1.0, 0.0]])
    D = np.array([[0, 0], [d, 0]])
    lin = COUPLINGS["linear"]
    eng = Engine(
        Probe,
        np.array([[1.0], [0.0]]),
        lin,
        lin.parameter_vector({"a": 1.0}),
        W,
        D,
        dt,
        proxies=[0],
        min_horizon=d,
    )
    obs = eng.advance(d)
    assert np.isnan(obs[:, 0]).all()
    np.testing.assert_array_equal(obs[:, 1], 0.0)  # history of the proxy is 0
    eng.write_history(0, 1, np.full((d, 1), 2.0))  # proxy at 2 for steps 1..d
    obs = eng.advance(d)
    # step s in [d, 2d) reads the proxy at s - d: 0 at s = d, 2 afterwards
    expected = np.cumsum(dt * np.where(np.arange(d, 2 * d) - d >= 1, 2.0, 0.0))
    np.testing.assert_allclose(obs[:, 1], expected, atol=1e-12)
    eng.write_history(0, d + 1, np.full((d, 1), 3.0))  # the proxy's next window
    aff = eng.afferent(np.array([1]), d)  # node 1's input over steps 2d..3d-1: steps d..2d-1
    np.testing.assert_allclose(aff[0, :, 0], [2.0] + [3.0] * (d - 1))


@njit
def _decay(x, c, p, dx):
    dx[0] = -p[0] * x[0]


class Decay(RegionModel):
    NAME = "decay"
    PARAMETERS = {"k": Parameter(1.0, "1/ms", "rate")}
    STATE_VARIABLES = {"x": StateVariable(1.0, "1", "state")}
    COUPLING_VARIABLES = ("x",)
    OBSERVABLE = ("x", "1")
    dfun = _decay
    observe = _identity


@pytest.mark.parametrize(
    "method, factor",
    [("euler", lambda h: 1 - h), ("heun", lambda h: 1 - h + h**2 / 2)],
)
def test_euler_and_heun_steps_of_linear_decay(method, factor):
    """dx/dt = -k x: one Euler step multiplies x by 1 - k dt, one Heun step by
    1 - k dt + (k dt)^2 / 2, exactly (to rounding)."""
    lin = COUPLINGS["linear"]
    k, dt = 0.5, 0.1
    e = Engine(
        Decay, np.array([[k]]), lin, lin.parameter_vector({"a": 0.0}),
        np.zeros((1, 1)), np.zeros((1, 1), int), dt, method=method,
    )  # fmt: skip
    obs = e.advance(50)[:, 0]
    np.testing.assert_allclose(obs, factor(k * dt) ** np.arange(1, 51), rtol=1e-13)


def test_euler_maruyama_noise_has_the_stated_variance():
    """Pure noise (k = 0): after n Euler-Maruyama steps x - x0 has variance 2 D n dt."""
    lin = COUPLINGS["linear"]
    n, D, dt = 400, 0.01, 0.1
    e = Engine(
        Decay, np.zeros((2000, 1)), lin, lin.parameter_vector({"a": 0.0}),
        np.zeros((2000, 2000)), np.zeros((2000, 2000), int), dt,
        noise=np.array([D]), rng=np.random.default_rng(0), method="euler",
    )  # fmt: skip
    x = e.advance(n)[-1] - 1.0
    assert np.var(x) == pytest.approx(2 * D * n * dt, rel=0.1)  # 2000 samples: ~3 % s.e.
    with pytest.raises(ValueError, match="integration method"):
        Engine(
            Decay, np.zeros((1, 1)), lin, lin.parameter_vector({"a": 0.0}),
            np.zeros((1, 1)), np.zeros((1, 1), int), dt, method="rk4",
        )  # fmt: skip


@pytest.mark.parametrize("name", sorted(REGION_MODELS))
def test_region_dfun_reads_parameters_by_name_from_the_table(name):
    """No dfun indexes its parameter vector by a literal position (p[0]): every parameter is
    read as p[PAR.name], and PAR is the index built from the model's own table."""
    model = REGION_MODELS[name]
    tree = ast.parse(textwrap.dedent(inspect.getsource(model.dfun.py_func)))
    literal = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Name)
        and node.value.id == "p"
        and not (isinstance(node.slice, ast.Attribute) and node.slice.value.id == "PAR")
    ]
    assert literal == [], f"{name}: parameters read by position: {literal}"
    module = importlib.import_module(model.__module__)
    assert module.PAR._fields == tuple(model.PARAMETERS)  # names, not just 0..n-1
    assert tuple(module.PAR) == tuple(range(len(model.PARAMETERS)))


@pytest.mark.parametrize("name", sorted(REGION_MODELS))
def test_shuffling_a_parameter_table_leaves_dfun_unchanged(name):
    """Build the index from a permuted table, compile the same dfun against it and feed it the
    parameter vector in the permuted order: dx is bit-identical to the original's."""
    model = REGION_MODELS[name]
    names = list(model.PARAMETERS)
    rng = np.random.default_rng(7)
    order = rng.permutation(len(names))
    if len(names) > 1:
        while (order == np.arange(len(names))).all():
            order = rng.permutation(len(names))
    shuffled = {names[k]: model.PARAMETERS[names[k]] for k in order}
    f = model.dfun.py_func
    glob = {**f.__globals__, "PAR": parameter_index(shuffled)}
    dfun_shuffled = njit(types.FunctionType(f.__code__, glob, f.__name__, f.__defaults__))
    n_sv = len(model.STATE_VARIABLES)
    for _ in range(50):
        x = model.initial_state() * (1 + 0.3 * rng.standard_normal(n_sv))
        x += 0.1 * rng.standard_normal(n_sv)
        c = rng.standard_normal(4)
        p = model.parameter_matrix(1)[0] * (1 + 0.2 * rng.standard_normal(len(names)))
        dx, dx_shuffled = np.zeros(n_sv), np.zeros(n_sv)
        model.dfun(x, c, p, dx)
        dfun_shuffled(x, c, p[order], dx_shuffled)
        assert dx.tobytes() == dx_shuffled.tobytes()
