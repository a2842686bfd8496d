"""Jansen-Rit neural mass, as defined in The Virtual Brain.

Jansen BH, Rit VG (1995) Electroencephalogram and visual evoked potential generation in a
mathematical model of coupled cortical columns. Biol Cybern 73:357-366.
David O, Friston KJ (2003) A neural mass model for MEG/EEG. NeuroImage 20:1743-1755.

Three populations (pyramidal cells, excitatory and inhibitory interneurons), each a
second-order synaptic kernel (h(t) = A a t exp(-a t)) driven by a sigmoid of its input
potential. y0: pyramidal output PSP; y1: excitatory PSP onto pyramidal cells; y2:
inhibitory PSP onto pyramidal cells; y3-y5 their derivatives. Long-range input (a pulse
density, 1/ms) adds to the extrinsic input mu of the pyramidal population, as in TVB.

    S(v)  = 2 nu_max / (1 + exp(r (v0 - v)))
    y0' = y3                y3' = A a S(y1 - y2)                     - 2 a y3 - a^2 y0
    y1' = y4                y4' = A a (mu + a_2 J S(a_1 J y0) + c)   - 2 a y4 - a^2 y1
    y2' = y5                y5' = B b a_4 J S(a_3 J y0)               - 2 b y5 - b^2 y2

EEG source: y1 - y2 (mV), the net PSP of the pyramidal cells. TVB's defaults differ from
the 1995 paper in v0 (5.52 mV against 6 mV) and express rates per ms.
"""

import numpy as np
from numba import njit

from multiscale.parameter import Parameter, StateVariable
from multiscale.region import DipoleScale, ParameterSet, RegionModel, parameter_index


@njit(cache=True, inline="always")
def _sigmoid(v, nu_max, r, v0):
    return 2.0 * nu_max / (1.0 + np.exp(r * (v0 - v)))


@njit(cache=True)
def dfun(x, c, p, dx):
    # parameters by name (PAR: their columns in p, from the table of JansenRit below)
    A, B, a, b = p[PAR.A], p[PAR.B], p[PAR.a], p[PAR.b]
    v0, nu_max, r = p[PAR.v0], p[PAR.nu_max], p[PAR.r]
    J, a_1, a_2, a_3, a_4 = p[PAR.J], p[PAR.a_1], p[PAR.a_2], p[PAR.a_3], p[PAR.a_4]
    mu = p[PAR.mu]
    y0, y1, y2, y3, y4, y5 = x[0], x[1], x[2], x[3], x[4], x[5]
    dx[0] = y3
    dx[1] = y4
    dx[2] = y5
    s_pyr = _sigmoid(y1 - y2, nu_max, r, v0)
    s_exc = _sigmoid(a_1 * J * y0, nu_max, r, v0)
    s_inh = _sigmoid(a_3 * J * y0, nu_max, r, v0)
    dx[3] = A * a * s_pyr - 2.0 * a * y3 - a * a * y0
    dx[4] = A * a * (mu + a_2 * J * s_exc + c[0]) - 2.0 * a * y4 - a * a * y1
    dx[5] = B * b * (a_4 * J * s_inh) - 2.0 * b * y5 - b * b * y2


@njit(cache=True)
def observe(x, p):
    return x[1] - x[2]


class JansenRit(RegionModel):
    NAME = "jansen_rit"
    CITATION = (
        "Jansen & Rit 1995, Biol Cybern 73:357; David & Friston 2003, NeuroImage 20:1743; "
        "equations and defaults of TVB's models.JansenRit"
    )
    DESCRIPTION = "Cortical column of pyramidal cells and excitatory/inhibitory interneurons"
    PARAMETERS = {
        "A": Parameter(3.25, "mV", "maximum excitatory PSP amplitude"),
        "B": Parameter(22.0, "mV", "maximum inhibitory PSP amplitude"),
        "a": Parameter(0.1, "1/ms", "reciprocal of the excitatory membrane time constant"),
        "b": Parameter(0.05, "1/ms", "reciprocal of the inhibitory membrane time constant"),
        "v0": Parameter(5.52, "mV", "potential at half-maximum firing rate"),
        "nu_max": Parameter(0.0025, "1/ms", "half of the maximum firing rate (e0)"),
        "r": Parameter(0.56, "1/mV", "sigmoid steepness"),
        "J": Parameter(135.0, "1", "average number of synapses between populations (C)"),
        "a_1": Parameter(1.0, "1", "pyramidal -> excitatory interneuron, fraction of J"),
        "a_2": Parameter(0.8, "1", "excitatory interneuron -> pyramidal, fraction of J"),
        "a_3": Parameter(0.25, "1", "pyramidal -> inhibitory interneuron, fraction of J"),
        "a_4": Parameter(0.25, "1", "inhibitory interneuron -> pyramidal, fraction of J"),
        "mu": Parameter(0.22, "1/ms", "mean extrinsic input pulse density (p)"),
    }
    # The two sets differ only in v0, and that is enough to change the rhythm at the
    # default input p = 220/s (docs/science.md, "Jansen-Rit parameter sets", measured by
    # tests/validation/test_jansen_rit.py): an isolated column
    # oscillates near 11 Hz (alpha) with the paper's v0 = 6 mV, and near 7 Hz (theta, at a
    # larger amplitude) with TVB's 5.52 mV.
    PARAMETER_SETS = {
        "tvb": ParameterSet(
            "TVB's defaults (the table's): v0 = 5.52 mV; at p = 220/s an isolated column "
            "oscillates near 7 Hz",
            "The Virtual Brain, tvb.simulator.models.JansenRit",
        ),
        "jansen_rit_1995": ParameterSet(
            "the paper's values: v0 = 6 mV (the rest equal TVB's); at p = 220/s an isolated "
            "column oscillates near 11 Hz (alpha)",
            "Jansen & Rit 1995, Biol Cybern 73:357, section 2 and Table 1",
            {"v0": 6.0},
        ),
    }
    STATE_VARIABLES = {
        "y0": StateVariable(0.0, "mV", "pyramidal output PSP"),
        "y1": StateVariable(15.0, "mV", "excitatory PSP onto pyramidal cells"),
        "y2": StateVariable(10.0, "mV", "inhibitory PSP onto pyramidal cells"),
        "y3": StateVariable(0.0, "mV/ms", "d y0 / dt"),
        "y4": StateVariable(0.0, "mV/ms", "d y1 / dt"),
        "y5": StateVariable(0.0, "mV/ms", "d y2 / dt"),
    }
    COUPLING_VARIABLES = ("y1", "y2")
    DEFAULT_COUPLING = "sigmoidal_jansen_rit"
    OBSERVABLE = ("y1 - y2", "mV")
    DIPOLE = DipoleScale(
        rest=0.0,
        full_scale=17.55,
        why=(
            "y1 - y2 is the pyramidal cells' net PSP, 0 at rest; full scale is the largest "
            "excitatory PSP the interneurons can give them, A C2 2 e0 / a = 17.55 mV"
        ),
    )
    dfun = dfun
    observe = observe

    @classmethod
    def proxy_coupling_state(cls, rate_hz: np.ndarray, coupling: str, q: np.ndarray) -> np.ndarray:
        """(y1, y2), with y2 = 0, at which the sigmoidal Jansen-Rit coupling passes on
        ``rate_hz``: the inverse of its sigmoid, clipped to 0.1-99.9 % of its range."""
        if coupling != "sigmoidal_jansen_rit":
            raise ValueError(
                "spiking regions in a Jansen-Rit network need sigmoidal_jansen_rit coupling"
            )
        cmin, cmax, midpoint, r = q[1], q[2], q[3], q[4]
        frac = np.clip((np.asarray(rate_hz) * 1e-3 - cmin) / (cmax - cmin), 1e-3, 1 - 1e-3)
        y1 = midpoint - np.log(1.0 / frac - 1.0) / r
        return np.stack([y1, np.zeros_like(y1)], axis=-1)


PAR = parameter_index(JansenRit.PARAMETERS)
