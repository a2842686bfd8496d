"""Kuramoto phase oscillator, as defined in The Virtual Brain.

Kuramoto Y (1975) Self-entrainment of a population of coupled non-linear oscillators. In:
Araki H (ed) Int Symp Math Probl Theor Phys, Lecture Notes in Physics 39:420-422.
Strogatz SH (2000) From Kuramoto to Crawford. Physica D 143:1-20.
Cabral J, Hugues E, Sporns O, Deco G (2011) Role of local network oscillations in
resting-state functional connectivity. NeuroImage 57:130-139.

Each region is a phase theta advancing at its natural angular frequency omega; with
TVB's Kuramoto coupling the input is c_i = a sum_j W_ij sin(theta_j(t - d_ij) - theta_i(t))
(no 1/N: fold it into a to get the textbook K/N).

    dtheta/dt = omega + c

Time in ms, omega in rad/ms (omega = 1 rad/ms is 159 Hz; Cabral et al. use 40 Hz, 0.2513
rad/ms). theta is not wrapped to [0, 2 pi), as in TVB. EEG source: sin(theta), the
oscillation of unit amplitude that the phase describes (TVB monitors theta itself).
"""

import numpy as np
from numba import njit

from multiscale.parameter import Parameter, StateVariable
from multiscale.region import DipoleScale, RegionModel, parameter_index


@njit(cache=True)
def dfun(x, c, p, dx):
    omega = p[PAR.omega]  # PAR: the columns of p, from the table of Kuramoto below
    dx[0] = omega + c[0]


@njit(cache=True)
def observe(x, p):
    return np.sin(x[0])


class Kuramoto(RegionModel):
    NAME = "kuramoto"
    CITATION = (
        "Kuramoto 1975, Lect Notes Phys 39:420; Strogatz 2000, Physica D 143:1; "
        "Cabral et al. 2011, NeuroImage 57:130; equations and defaults of TVB's models.Kuramoto"
    )
    DESCRIPTION = "Phase oscillator with a natural frequency"
    PARAMETERS = {
        "omega": Parameter(1.0, "radian/ms", "natural angular frequency"),
    }
    STATE_VARIABLES = {
        "theta": StateVariable(0.0, "radian", "phase (not wrapped)"),
    }
    COUPLING_VARIABLES = ("theta",)
    DEFAULT_COUPLING = "kuramoto"
    OBSERVABLE = ("sin(theta)", "1")
    DIPOLE = DipoleScale(
        rest=0.0,
        full_scale=1.0,
        why="phenomenological: sin(theta) in [-1, 1] is taken as the moment density fraction",
    )
    dfun = dfun
    observe = observe


PAR = parameter_index(Kuramoto.PARAMETERS)
