"""The Epileptor (six-dimensional), as defined in The Virtual Brain.

Jirsa VK, Stacey WC, Quilichini PP, Ivanov AI, Bernard C (2014) On the nature of seizure
dynamics. Brain 137:2210-2230.
Proix T, Bartolomei F, Chauvel P, Bernard C, Jirsa VK (2014) Permittivity coupling across
brain regions determines seizure recruitment in partial epilepsy. J Neurosci 34:15009-15021.

Two fast oscillators (x1, y1: seizure-like discharges; x2, y2: spike-and-wave events),
a slow permittivity variable z that drives the system into and out of seizures, and a
low-pass filter g of x1 that couples population 1 into population 2:

    dx1/dt = tt (y1 - z + Iext + Kvf c1 + f1 x1)
             f1 = -a x1^2 + b x1  if x1 < 0,   slope - x2 + 0.6 (z - 4)^2  otherwise
    dy1/dt = tt (c - d x1^2 - y1)
    dz/dt  = tt r (h - z + Ks c1)
             h = 4 (x1 - x0) + (-0.1 z^7 if z < 0 else 0)         [modification = 0]
             h = x0 + 3 / (1 + exp(-(x1 + 0.5) / 0.1))            [modification = 1]
    dx2/dt = tt (-y2 + x2 - x2^3 + Iext2 + bb g - 0.3 (z - 3.5) + Kf c2)
    dy2/dt = tt (-y2 + f2) / tau,   f2 = 0 if x2 < -0.25, aa (x2 + 0.25) otherwise
    dg/dt  = -tt 0.01 (g - 0.1 x1)

Coupling, as in TVB: coupling variables (x1, x2) with TVB's Difference coupling give two
inputs c1 = a sum_j W_ij (x1_j - x1_i) and c2 = a sum_j W_ij (x2_j - x2_i). c1 enters x1
(very fast, Kvf) and z (permittivity, Ks), c2 enters x2 (fast, Kf). TVB's defaults
Kvf = Kf = Ks = 0 switch coupling off; Proix et al.'s permittivity coupling
-K sum_j C_ij (x1_j - x1_i) in dz/dt is Ks = -K with a = 1.

x0 is the epileptogenicity: a lone region with these defaults seizes periodically when x0
is above about -2.05 (the border of the interictal fixed point; x0 = -1.6, the default, is
epileptogenic) and stays interictal below it.

Time: the Epileptor's time is dimensionless (Jirsa et al. 2014 rescale it to recordings);
TVB integrates it as ms, so "ms" below means the model's time unit, and tt rescales all
of time. r = 0.00035 makes a seizure cycle last thousands of time units. Integrate it at
dt <= 0.05: at 0.1, the step of TVB's demos, Heun cannot follow x1 into the post-ictal
state and the seizure period is up to 8 % too long (docs/science.md, "Time step of the
region models").
No variable is bounded (TVB has no boundaries for it). EEG source: x2 - x1, TVB's default
variable of interest and Jirsa et al.'s field potential (-x1 + x2).

Spiking regions (the bridge from a circuit to an Epileptor network): a circuit's rate r (Hz,
already times the circuit's output_gain) stands in for population 1's activity, on an
affine scale from the interictal state to the seizure: x1 = X1_REST + r / RATE_SCALE_HZ,
clipped to [X1_REST, X1_MAX]; x2 stays at its interictal value X2_REST (a point-neuron
circuit has no spike-and-wave population). X1_REST and X2_REST are the interictal fixed
point of a lone node at x0 = -2.2 (measured here: -1.46, -0.76); a rate of 50 Hz then
lifts x1 by 1, about the rise of x1 at seizure onset. The neighbours feel the circuit
through the same Difference coupling, c1 = sum_j W_ij (x1_j - x1_i).
"""

import numpy as np
from numba import njit

from multiscale.parameter import Parameter, StateVariable
from multiscale.region import DipoleScale, RegionModel, parameter_index

X1_REST, X2_REST, X1_MAX = -1.46, -0.76, 1.0  # interictal x1, x2; largest proxy x1
RATE_SCALE_HZ = 50.0  # rate that lifts a proxy's x1 by 1


@njit(cache=True)
def dfun(x, c, p, dx):
    # parameters by name (PAR: their columns in p, from the table of Epileptor below);
    # c_ is TVB's c, renamed here so that it is not confused with the coupling input c
    a, b, c_, d, slope, Iext = p[PAR.a], p[PAR.b], p[PAR.c], p[PAR.d], p[PAR.slope], p[PAR.Iext]
    r, x0, modification = p[PAR.r], p[PAR.x0], p[PAR.modification]
    Iext2, tau, aa, bb = p[PAR.Iext2], p[PAR.tau], p[PAR.aa], p[PAR.bb]
    Kvf, Kf, Ks, tt = p[PAR.Kvf], p[PAR.Kf], p[PAR.Ks], p[PAR.tt]
    x1, y1, z, x2, y2, g = x[0], x[1], x[2], x[3], x[4], x[5]
    c1, c2 = c[0], c[1]
    # population 1 (the order of operations is TVB's, for bit-identical results)
    f1 = -a * x1**2 + b * x1 if x1 < 0.0 else slope - x2 + 0.6 * (z - 4.0) ** 2
    dx[0] = tt * (y1 - z + Iext + Kvf * c1 + f1 * x1)
    dx[1] = tt * (c_ - d * x1**2 - y1)
    # energy (permittivity)
    fz = -0.1 * z**7 if z < 0.0 else 0.0
    h = x0 + 3 / (1 + np.exp(-(x1 + 0.5) / 0.1)) if modification != 0.0 else 4 * (x1 - x0) + fz
    dx[2] = tt * (r * (h - z + Ks * c1))
    # population 2
    dx[3] = tt * (-y2 + x2 - x2**3 + Iext2 + bb * g - 0.3 * (z - 3.5) + Kf * c2)
    f2 = 0.0 if x2 < -0.25 else aa * (x2 + 0.25)
    dx[4] = tt * ((-y2 + f2) / tau)
    # filter
    dx[5] = tt * (-0.01 * (g - 0.1 * x1))


@njit(cache=True)
def observe(x, p):
    return x[3] - x[0]


class Epileptor(RegionModel):
    NAME = "epileptor"
    CITATION = (
        "Jirsa et al. 2014, Brain 137:2210; Proix et al. 2014, J Neurosci 34:15009; "
        "equations and defaults of TVB's models.Epileptor"
    )
    DESCRIPTION = "Phenomenological model of seizure onset, discharges and offset"
    PARAMETERS = {
        "a": Parameter(1.0, "1", "cubic coefficient of population 1"),
        "b": Parameter(3.0, "1", "quadratic coefficient of population 1"),
        "c": Parameter(1.0, "1", "additive coefficient of y1 (y0 in Jirsa et al.)"),
        "d": Parameter(5.0, "1", "quadratic coefficient of y1"),
        "r": Parameter(0.00035, "1/ms", "time scale of z (1/tau0 in Jirsa et al.)"),
        "x0": Parameter(-1.6, "1", "epileptogenicity"),
        "Iext": Parameter(3.1, "1", "external input to population 1 (I_rest1)"),
        "slope": Parameter(0.0, "1", "linear coefficient of f1 for x1 >= 0"),
        "Iext2": Parameter(0.45, "1", "external input to population 2 (I_rest2)"),
        "tau": Parameter(10.0, "1", "time-scale ratio of y2"),
        "aa": Parameter(6.0, "1", "linear coefficient of f2"),
        "bb": Parameter(2.0, "1", "weight of g (low-pass of x1) onto x2"),
        "Kvf": Parameter(0.0, "1", "coupling c1 onto x1 (very fast time scale)"),
        "Kf": Parameter(0.0, "1", "coupling c2 onto x2 (fast time scale)"),
        "Ks": Parameter(0.0, "1", "coupling c1 onto z (permittivity; -K of Proix et al.)"),
        "tt": Parameter(1.0, "1", "time scaling of the whole system"),
        "modification": Parameter(0.0, "1", "1: sigmoidal (nonlinear) h of x1; 0: linear"),
    }
    STATE_VARIABLES = {
        "x1": StateVariable(-1.5, "1", "fast variable of population 1"),
        "y1": StateVariable(-10.0, "1", "fast recovery variable of population 1"),
        "z": StateVariable(3.0, "1", "slow permittivity variable"),
        "x2": StateVariable(-0.8, "1", "variable of population 2 (spike-wave events)"),
        "y2": StateVariable(0.5, "1", "recovery variable of population 2"),
        "g": StateVariable(0.0, "1", "low-pass filter of x1"),
    }
    COUPLING_VARIABLES = ("x1", "x2")
    DEFAULT_COUPLING = "difference"
    DEFAULT_DT = 0.05  # converged within 5 % (test_convergence_regions.py)
    OBSERVABLE = ("x2 - x1", "1")
    DIPOLE = DipoleScale(
        rest=0.70,
        full_scale=4.0,
        why=(
            "rest: x2 - x1 at the interictal fixed point (x0 = -2.2); full scale: its "
            "peak-to-peak in a seizure at the default parameters (-2.85 to 1.11), taken as "
            "the region's maximal synchrony"
        ),
    )
    dfun = dfun
    observe = observe

    @classmethod
    def proxy_coupling_state(cls, rate_hz: np.ndarray, coupling: str, q: np.ndarray) -> np.ndarray:
        """(x1, x2) of a spiking region: x1 = X1_REST + rate / RATE_SCALE_HZ (clipped to
        [X1_REST, X1_MAX]), x2 = X2_REST; see the module docstring."""
        if coupling != "difference":
            raise ValueError("spiking regions in an Epileptor network need difference coupling")
        x1 = np.clip(X1_REST + np.asarray(rate_hz, dtype=float) / RATE_SCALE_HZ, X1_REST, X1_MAX)
        return np.stack([x1, np.full_like(x1, X2_REST)], axis=-1)


PAR = parameter_index(Epileptor.PARAMETERS)
