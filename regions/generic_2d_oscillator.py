"""Generic two-dimensional oscillator, as defined in The Virtual Brain.

Sanz-Leon P, Knock SA, Spiegler A, Jirsa VK (2015) Mathematical framework for large-scale
brain network modeling in The Virtual Brain. NeuroImage 111:385-430.
FitzHugh R (1961) Biophys J 1:445; Nagumo J et al. (1962) Proc IRE 50:2061.

A fast variable V with a cubic nullcline and a slow variable W with a configurable
(up to quadratic) nullcline: FitzHugh-Nagumo-like excitable or oscillatory dynamics
depending on the parameters. Long-range input enters V with the external current, both
scaled by gamma.

    dV/dt = d tau (alpha W - f V^3 + e V^2 + g V + gamma I + gamma c)
    dW/dt = (d / tau) (a + b V + c_W V^2 - beta W)

(``c_W`` is TVB's parameter ``c``, renamed here so that it is not confused with the
coupling input c.) TVB integrates it in ms: d = 0.02 sets the time scale (with the
defaults, an excitable fixed point; a = 2 gives a 9.2 Hz limit cycle). V and W are
dimensionless. EEG source: V.
"""

from numba import njit

from multiscale.parameter import Parameter, StateVariable
from multiscale.region import DipoleScale, RegionModel, parameter_index


@njit(cache=True)
def dfun(x, c, p, dx):
    # parameters by name (PAR: their columns in p, from the table of Generic2dOscillator below)
    tau, I = p[PAR.tau], p[PAR.I]
    a, b, c_W, d = p[PAR.a], p[PAR.b], p[PAR.c_W], p[PAR.d]
    e, f, g = p[PAR.e], p[PAR.f], p[PAR.g]
    alpha, beta, gamma = p[PAR.alpha], p[PAR.beta], p[PAR.gamma]
    V, W = x[0], x[1]
    V2 = V * V
    dx[0] = d * tau * (alpha * W - f * V2 * V + e * V2 + g * V + gamma * I + gamma * c[0])
    dx[1] = d * (a + b * V + c_W * V2 - beta * W) / tau


@njit(cache=True)
def observe(x, p):
    return x[0]


class Generic2dOscillator(RegionModel):
    NAME = "generic_2d_oscillator"
    CITATION = (
        "Sanz-Leon et al. 2015, NeuroImage 111:385; FitzHugh 1961, Biophys J 1:445; "
        "equations and defaults of TVB's models.Generic2dOscillator"
    )
    DESCRIPTION = "Generic planar oscillator: cubic fast nullcline, quadratic slow nullcline"
    PARAMETERS = {
        "tau": Parameter(1.0, "1", "time-scale separation of V and W (1: none)"),
        "I": Parameter(0.0, "1", "baseline shift of the cubic nullcline (external input)"),
        "a": Parameter(-2.0, "1", "vertical shift of the slow nullcline"),
        "b": Parameter(-10.0, "1", "linear slope of the slow nullcline"),
        "c_W": Parameter(0.0, "1", "quadratic term of the slow nullcline (TVB's c)"),
        "d": Parameter(0.02, "1/ms", "temporal scale factor"),
        "e": Parameter(3.0, "1", "quadratic coefficient of the cubic nullcline"),
        "f": Parameter(1.0, "1", "cubic coefficient of the cubic nullcline"),
        "g": Parameter(0.0, "1", "linear coefficient of the cubic nullcline"),
        "alpha": Parameter(1.0, "1", "feedback of W onto V"),
        "beta": Parameter(1.0, "1", "self-feedback of W"),
        "gamma": Parameter(1.0, "1", "scale of the input current and of the coupling"),
    }
    # TVB has no boundaries; its state_variable_range (V in [-2, 4], W in [-6, 6]) only
    # draws random initial conditions.
    STATE_VARIABLES = {
        "V": StateVariable(0.0, "1", "fast variable (membrane-potential-like)"),
        "W": StateVariable(0.0, "1", "slow recovery variable"),
    }
    COUPLING_VARIABLES = ("V",)
    DEFAULT_COUPLING = "linear"
    OBSERVABLE = ("V", "1")
    DIPOLE = DipoleScale(
        rest=0.0,
        full_scale=2.0,
        why="phenomenological (dimensionless V): full scale is V's limit-cycle amplitude, ~2",
    )
    dfun = dfun
    observe = observe


PAR = parameter_index(Generic2dOscillator.PARAMETERS)
