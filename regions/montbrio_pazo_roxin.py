"""Montbrio-Pazo-Roxin mean field of quadratic integrate-and-fire neurons, as in TVB.

Montbrio E, Pazo D, Roxin A (2015) Macroscopic description for networks of spiking
neurons. Phys Rev X 5:021028.

The exact (Ott-Antonsen) reduction of an infinite all-to-all network of QIF neurons
tau dv_k/dt = v_k^2 + eta_k + J tau r + I with Lorentzian-distributed excitabilities eta_k
(centre eta, half-width Delta): r is the population firing rate and V the mean membrane
potential. Long-range input enters dV/dt through the rate (cr) and/or the potential (cv)
of the coupled regions, scaled by 1/tau like every other term.

    dr/dt = (1/tau) (Delta / (pi tau) + 2 V r)
    dV/dt = (1/tau) (V^2 - pi^2 tau^2 r^2 + eta + J tau r + I + cr c_r + cv c_V)

Units: TVB integrates in ms, so tau is in ms (default 1 ms, the model's time unit; the
paper's neurons have tau_m = 10-20 ms) and r is in 1/ms (kHz). V, eta, J, Delta and I are
dimensionless: the QIF neurons' potential is normalised (tau dv/dt = v^2 + ...). Step:
dt <= tau / 20, so 0.05 ms at the default tau (at 0.1 ms the response to an input step
rings 27 % too slowly; docs/science.md, "Time step of the region models").
r is clipped to r >= 0 as in TVB. Coupling variables are r and V (two inputs c_r, c_V).
TVB's Gamma (synaptic-weight heterogeneity) is declared but unused, and is left out here.

EEG source: V, the mean membrane potential. EEG reflects the synaptic currents and the
membrane potentials they produce, not spikes; r is the spiking output that other regions
receive. V is also the variable that plays the role of Jansen-Rit's y1 - y2.
"""

import numpy as np
from numba import njit

from multiscale.parameter import Parameter, StateVariable
from multiscale.region import DipoleScale, RegionModel, parameter_index


@njit(cache=True)
def dfun(x, c, p, dx):
    # parameters by name (PAR: their columns in p, from the table of MontbrioPazoRoxin below)
    tau, I, Delta, J, eta = p[PAR.tau], p[PAR.I], p[PAR.Delta], p[PAR.J], p[PAR.eta]
    cr, cv = p[PAR.cr], p[PAR.cv]
    r, V = x[0], x[1]
    dx[0] = 1 / tau * (Delta / (np.pi * tau) + 2 * V * r)
    dx[1] = (
        1 / tau * (V**2 - np.pi**2 * tau**2 * r**2 + eta + J * tau * r + I + cr * c[0] + cv * c[1])
    )


@njit(cache=True)
def observe(x, p):
    return x[1]


class MontbrioPazoRoxin(RegionModel):
    NAME = "montbrio_pazo_roxin"
    CITATION = "Montbrio, Pazo & Roxin 2015, Phys Rev X 5:021028; TVB's models.MontbrioPazoRoxin"
    DESCRIPTION = "Exact mean field (rate, mean potential) of a population of QIF neurons"
    PARAMETERS = {
        "tau": Parameter(1.0, "ms", "membrane time constant (the model's time unit)"),
        "I": Parameter(0.0, "1", "external current"),
        "Delta": Parameter(1.0, "1", "half-width of the distribution of excitabilities"),
        "J": Parameter(15.0, "1", "mean synaptic weight (recurrent excitation)"),
        "eta": Parameter(-5.0, "1", "mean excitability"),
        "cr": Parameter(1.0, "1", "weight of the coupling through the rate r"),
        "cv": Parameter(0.0, "1", "weight of the coupling through the potential V"),
    }
    STATE_VARIABLES = {
        "r": StateVariable(0.1, "1/ms", "population firing rate", (0.0, np.inf)),
        "V": StateVariable(-2.0, "1", "mean membrane potential"),
    }
    COUPLING_VARIABLES = ("r", "V")
    DEFAULT_COUPLING = "linear"
    DEFAULT_DT = 0.05  # converged within 5 % (test_convergence_regions.py)
    OBSERVABLE = ("V", "1")
    DIPOLE = DipoleScale(
        rest=-2.0,
        full_scale=2.0,
        why=(
            "dimensionless mean membrane potential: rest near the down state (V = -1.96 at "
            "the defaults), full scale the distance from there to V = 0"
        ),
    )
    dfun = dfun
    observe = observe


PAR = parameter_index(MontbrioPazoRoxin.PARAMETERS)
