"""Wilson-Cowan excitatory/inhibitory population model, as defined in The Virtual Brain.

Wilson HR, Cowan JD (1972) Excitatory and inhibitory interactions in localized populations
of model neurons. Biophys J 12:1-24. Wilson HR, Cowan JD (1973) Kybernetik 13:55-80.

E and I are the fractions of excitatory and inhibitory cells firing per unit time
(dimensionless activity); long-range input adds to the excitatory population's input.

    x_E = alpha_e (c_ee E - c_ei I + P - theta_e + c)
    x_I = alpha_i (c_ie E - c_ii I + Q - theta_i)
    S_k(x) = c_k / (1 + exp(-a_k (x - b_k)))   [- c_k / (1 + exp(a_k b_k)) if shift_sigmoid]
    tau_e E' = -E + (k_e - r_e E) S_e(x_E)
    tau_i I' = -I + (k_i - r_i I) S_i(x_I)

EEG source: E (dimensionless).
"""

import numpy as np
from numba import njit

from multiscale.parameter import Parameter, StateVariable
from multiscale.region import DipoleScale, RegionModel, parameter_index


@njit(cache=True, inline="always")
def _sigmoid(x, a, b, c, shift):
    if shift > 0.5:
        return c * (1.0 / (1.0 + np.exp(-a * (x - b))) - 1.0 / (1.0 + np.exp(a * b)))
    return c / (1.0 + np.exp(-a * (x - b)))


@njit(cache=True)
def dfun(x, c, p, dx):
    # parameters by name (PAR: their columns in p, from the table of WilsonCowan below)
    c_ee, c_ei, c_ie, c_ii = p[PAR.c_ee], p[PAR.c_ei], p[PAR.c_ie], p[PAR.c_ii]
    tau_e, tau_i = p[PAR.tau_e], p[PAR.tau_i]
    a_e, b_e, c_e, theta_e = p[PAR.a_e], p[PAR.b_e], p[PAR.c_e], p[PAR.theta_e]
    a_i, b_i, c_i, theta_i = p[PAR.a_i], p[PAR.b_i], p[PAR.c_i], p[PAR.theta_i]
    r_e, r_i, k_e, k_i = p[PAR.r_e], p[PAR.r_i], p[PAR.k_e], p[PAR.k_i]
    P, Q = p[PAR.P], p[PAR.Q]
    alpha_e, alpha_i = p[PAR.alpha_e], p[PAR.alpha_i]
    shift = p[PAR.shift_sigmoid]
    E, I = x[0], x[1]
    x_e = alpha_e * (c_ee * E - c_ei * I + P - theta_e + c[0])
    x_i = alpha_i * (c_ie * E - c_ii * I + Q - theta_i)
    dx[0] = (-E + (k_e - r_e * E) * _sigmoid(x_e, a_e, b_e, c_e, shift)) / tau_e
    dx[1] = (-I + (k_i - r_i * I) * _sigmoid(x_i, a_i, b_i, c_i, shift)) / tau_i


@njit(cache=True)
def observe(x, p):
    return x[0]


class WilsonCowan(RegionModel):
    NAME = "wilson_cowan"
    CITATION = (
        "Wilson & Cowan 1972, Biophys J 12:1; Wilson & Cowan 1973, Kybernetik 13:55; "
        "equations and defaults of TVB's models.WilsonCowan"
    )
    DESCRIPTION = "Coupled excitatory and inhibitory population activities"
    PARAMETERS = {
        "c_ee": Parameter(12.0, "1", "E -> E coupling"),
        "c_ei": Parameter(4.0, "1", "I -> E coupling"),
        "c_ie": Parameter(13.0, "1", "E -> I coupling"),
        "c_ii": Parameter(11.0, "1", "I -> I coupling"),
        "tau_e": Parameter(10.0, "ms", "excitatory time constant"),
        "tau_i": Parameter(10.0, "ms", "inhibitory time constant"),
        "a_e": Parameter(1.2, "1", "excitatory sigmoid slope"),
        "b_e": Parameter(2.8, "1", "excitatory sigmoid threshold"),
        "c_e": Parameter(1.0, "1", "excitatory sigmoid amplitude"),
        "theta_e": Parameter(0.0, "1", "excitatory threshold shift"),
        "a_i": Parameter(1.0, "1", "inhibitory sigmoid slope"),
        "b_i": Parameter(4.0, "1", "inhibitory sigmoid threshold"),
        "c_i": Parameter(1.0, "1", "inhibitory sigmoid amplitude"),
        "theta_i": Parameter(0.0, "1", "inhibitory threshold shift"),
        "r_e": Parameter(1.0, "1", "excitatory refractory factor"),
        "r_i": Parameter(1.0, "1", "inhibitory refractory factor"),
        "k_e": Parameter(1.0, "1", "maximum excitatory response"),
        "k_i": Parameter(1.0, "1", "maximum inhibitory response"),
        "P": Parameter(0.0, "1", "external input to E"),
        "Q": Parameter(0.0, "1", "external input to I"),
        "alpha_e": Parameter(1.0, "1", "gain of the excitatory input"),
        "alpha_i": Parameter(1.0, "1", "gain of the inhibitory input"),
        "shift_sigmoid": Parameter(1.0, "1", "1: shift sigmoids so S(0) = 0; 0: do not"),
    }
    STATE_VARIABLES = {
        # TVB sets no bounds: with r_e, k_e = 1 the dynamics keep E and I in [0, 1]
        "E": StateVariable(0.25, "1", "excitatory activity"),
        "I": StateVariable(0.25, "1", "inhibitory activity"),
    }
    COUPLING_VARIABLES = ("E",)
    DEFAULT_COUPLING = "linear"
    OBSERVABLE = ("E", "1")
    DIPOLE = DipoleScale(
        rest=0.0,
        full_scale=1.0,
        why="E is the active fraction of excitatory cells: 0 at rest, 1 when all are active",
    )
    dfun = dfun
    observe = observe

    @classmethod
    def proxy_coupling_state(cls, rate_hz: np.ndarray, coupling: str, q: np.ndarray) -> np.ndarray:
        """E = rate / 100 Hz: activity is the fraction of cells firing, and 100 Hz is taken
        as the rate of a fully active population (the bridge's output gain rescales)."""
        if coupling != "linear":
            raise ValueError("spiking regions in a Wilson-Cowan network need linear coupling")
        return np.clip(np.asarray(rate_hz) / 100.0, 0.0, 1.0)[..., None]


PAR = parameter_index(WilsonCowan.PARAMETERS)
