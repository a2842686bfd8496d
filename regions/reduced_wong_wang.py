"""Reduced Wong-Wang excitatory-inhibitory model, as defined in The Virtual Brain.

Deco G, Ponce-Alvarez A, Hagmann P, Romani GL, Mantini D, Corbetta M (2014) How local
excitation-inhibition ratio impacts the whole brain dynamics. J Neurosci 34:7886-7898.
Wong KF, Wang XJ (2006) A recurrent network mechanism of time integration in perceptual
decisions. J Neurosci 26:1314-1328.

Mean-field reduction of a spiking network of NMDA-coupled excitatory and GABA-coupled
inhibitory neurons: S_e and S_i are the mean synaptic gating variables. Long-range input
(the coupled S_e of other regions) enters the excitatory current scaled by G J_N, and the
inhibitory current scaled by lambda G J_N.

    I_e = W_e I_o + w_p J_N S_e - J_i S_i + G J_N c + I_ext
    I_i = W_i I_o + J_N S_e - S_i + lambda G J_N c
    H_k = (a_k I_k - b_k) / (1 - exp(-d_k (a_k I_k - b_k)))          (rate, Hz)
    dS_e/dt = -S_e / tau_e + (1 - S_e) gamma_e H_e
    dS_i/dt = -S_i / tau_i + gamma_i H_i

Time in ms: gamma_e = 0.641 / 1000 and gamma_i = 1 / 1000 are the paper's kinetic constants
per ms (H in Hz = spikes/s). S_e, S_i are clipped to [0, 1] as in TVB. TVB's default G = 2
is the global coupling G of the paper; with a linear coupling of scale a, the input
is a G J_N sum_j W_ij S_e,j. EEG source: S_e (dimensionless; TVB monitors S_e and S_i).
"""

import numpy as np
from numba import njit

from multiscale.parameter import Parameter, StateVariable
from multiscale.region import DipoleScale, RegionModel, parameter_index


@njit(cache=True)
def dfun(x, c, p, dx):
    # parameters by name (PAR: their columns in p, from the table of ReducedWongWangExcInh below)
    a_e, b_e, d_e, gamma_e, tau_e = p[PAR.a_e], p[PAR.b_e], p[PAR.d_e], p[PAR.gamma_e], p[PAR.tau_e]
    w_p, J_N, W_e = p[PAR.w_p], p[PAR.J_N], p[PAR.W_e]
    a_i, b_i, d_i, gamma_i, tau_i = p[PAR.a_i], p[PAR.b_i], p[PAR.d_i], p[PAR.gamma_i], p[PAR.tau_i]
    J_i, W_i, I_o, I_ext = p[PAR.J_i], p[PAR.W_i], p[PAR.I_o], p[PAR.I_ext]
    G, lamda = p[PAR.G], p[PAR.lamda]
    S_e, S_i = x[0], x[1]
    cc = G * J_N * c[0]
    jn_se = J_N * S_e
    xe = a_e * (w_p * jn_se - J_i * S_i + W_e * I_o + cc + I_ext) - b_e
    H_e = xe / (1 - np.exp(-d_e * xe))
    dx[0] = -(S_e / tau_e) + (1.0 - S_e) * H_e * gamma_e
    xi = a_i * (jn_se - S_i + W_i * I_o + lamda * cc) - b_i
    H_i = xi / (1 - np.exp(-d_i * xi))
    dx[1] = -(S_i / tau_i) + H_i * gamma_i


@njit(cache=True)
def observe(x, p):
    return x[0]


class ReducedWongWangExcInh(RegionModel):
    NAME = "reduced_wong_wang"
    CITATION = (
        "Deco et al. 2014, J Neurosci 34:7886; Wong & Wang 2006, J Neurosci 26:1314; "
        "equations and defaults of TVB's models.ReducedWongWangExcInh"
    )
    DESCRIPTION = "Mean-field NMDA (excitatory) and GABA (inhibitory) synaptic gating"
    PARAMETERS = {
        "a_e": Parameter(310.0, "1/ncoulomb", "excitatory input gain"),
        "b_e": Parameter(125.0, "Hz", "excitatory input shift"),
        "d_e": Parameter(0.16, "s", "excitatory input scaling"),
        "gamma_e": Parameter(0.641e-3, "1/ms", "excitatory kinetic parameter (0.641 / 1000)"),
        "tau_e": Parameter(100.0, "ms", "NMDA decay time constant"),
        "w_p": Parameter(1.4, "1", "excitatory recurrence weight"),
        "J_N": Parameter(0.15, "nA", "NMDA current"),
        "W_e": Parameter(1.0, "1", "scale of the external input to E"),
        "a_i": Parameter(615.0, "1/ncoulomb", "inhibitory input gain"),
        "b_i": Parameter(177.0, "Hz", "inhibitory input shift"),
        "d_i": Parameter(0.087, "s", "inhibitory input scaling"),
        "gamma_i": Parameter(1.0e-3, "1/ms", "inhibitory kinetic parameter (1 / 1000)"),
        "tau_i": Parameter(10.0, "ms", "GABA decay time constant"),
        "J_i": Parameter(1.0, "nA", "local inhibitory current (feedback inhibition)"),
        "W_i": Parameter(0.7, "1", "scale of the external input to I"),
        "I_o": Parameter(0.382, "nA", "effective external input"),
        "I_ext": Parameter(0.0, "nA", "external stimulus to E"),
        "G": Parameter(2.0, "1", "global coupling scaling"),
        "lamda": Parameter(0.0, "1", "scale of the long-range input to I (TVB's lamda)"),
    }
    STATE_VARIABLES = {
        "S_e": StateVariable(0.1, "1", "excitatory (NMDA) synaptic gating", (0.0, 1.0)),
        "S_i": StateVariable(0.1, "1", "inhibitory (GABA) synaptic gating", (0.0, 1.0)),
    }
    COUPLING_VARIABLES = ("S_e",)
    DEFAULT_COUPLING = "linear"
    OBSERVABLE = ("S_e", "1")
    DIPOLE = DipoleScale(
        rest=0.0,
        full_scale=1.0,
        why="S_e is the excitatory NMDA gating fraction: 0 at rest, 1 at saturation",
    )
    dfun = dfun
    observe = observe


PAR = parameter_index(ReducedWongWangExcInh.PARAMETERS)
