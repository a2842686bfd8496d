"""Population of quadratic integrate-and-fire neurons whose exact mean field is the
Montbrio-Pazo-Roxin model (regions/montbrio_pazo_roxin.py).

Reference: Montbrio E, Pazo D, Roxin A (2015) Macroscopic description for networks of
spiking neurons. Phys Rev X 5:021028 (eq. 1 and Fig. 2).

Neurons (dimensionless membrane potential V, time constant tau):

    tau dV_i/dt = V_i^2 + eta_i + J tau r(t) + I(t),

all-to-all coupled through the population rate r (each spike of the N cells a jump J / N
of every V), with excitabilities eta_i = eta_bar + Delta q_i, q_i deterministic quantiles
of a Lorentzian of centre 0 and half-width 1 (below), so no randomness enters the
heterogeneity.

Excitabilities. Cell i stands for the slice ((i - 1)/N, i/N) of the cumulative
probability u, on which eta(u) = tan(pi (u - 1/2)), and sits at its middle,
q_i = tan(pi ((i - 1/2)/N - 1/2)), except the TAIL_CELLS = 8 outermost cells on each
side, which sit at +-m^2 with m the mean of sqrt(|eta|) over their slice. Why: a cell of
large eta fires at sqrt(eta + ...) / (pi tau), and sqrt(eta(u)) ~ (1 - u)^(-1/2) is
singular at the top of the distribution, where any point rule is first order: the paper's
quantiles tan(pi/2 (2i - N - 1)/(N + 1)) give the population an O(N^-1/2) rate deficit
(stationary low state at the defaults, N = 10 000: 7.80 Hz against the mean field's
8.11 Hz, -3.8 %; high state 102.10 against 103.06 Hz). That moves the folds of the
bistable range by J tau times the deficit (~0.05 in input) and delays a jump past the
fold by tens of ms. With the rule here the population's stationary rates are the mean
field's to 0.01 % (8.113 and 103.06 Hz at N = 10 000; tests/validation/test_qif_convergence.py).
The largest eta is then ~4 N / pi (12 700 at N = 10 000); above N ~ pi a_max / 4 (15 700
at the defaults) the outermost cells are capped at a_max (below), a deficit of about
Delta / (pi^2 tau sqrt(a_max)) (0.07 Hz at the defaults).

Peak, reset and integration. The paper's network simulations emit a spike when V
reaches V_p = 100, reset to V_r = -100, and correct for the finite peak with a refractory
time of about tau / V_p on either side of the spike, so that the spike falls where V would
reach infinity (the limit V_p = -V_r = infinity, in which the mean field is exact); that
needs time steps well below tau / V_p. Here that limit is taken exactly instead: between
two time steps the input a_i = eta_i + J tau r + I is held constant, and the Riccati
equation then has the closed-form solution

    V(t + dt) = (V + a S) / (1 - V S),   S = tan(sqrt(a) dt/tau) / sqrt(a)     (a > 0)
                                          S = tanh(sqrt(-a) dt/tau) / sqrt(-a)  (a < 0)

(S = dt/tau at a = 0). V passes through +infinity to -infinity, a spike, exactly when the
denominator changes sign within the step, and the formula already gives the potential
after the spike. No peak, reset value or refractory correction is needed, nothing is
truncated, and the step can be the co-simulation's 0.1 ms. V = +-1e12 stands for the
potential at +-infinity. A neuron can fire at most once per step: the input is capped at
a_max = (0.45 pi tau / dt)^2 (20 000 at tau = 10 ms, dt = 0.1 ms; a cell at a_max fires at
about 4.5 kHz); with N = 10 000 and Delta = 1 the most excitable cell has eta = 12 732.

Recurrent coupling (predictor-corrector). The recurrent input of a step is J tau times
the rate of the step's own spikes, as in the mean field, which has no delay: a trial step
(``TRIAL``) at the rate of the previous step finds the cells that would fire, their count
(a summed variable of the counter) gives the rate r = count / (N dt), and the step
(``UPDATE``) is taken with it; its spikes are the population's and the next step's
predictor. The error is second order in dt (the input is held at the step's mean).
Earlier versions fed the spikes of a step into the next step, a delay of one step: an MPR
node integrated exactly but with that delayed, step-held rate differs from the exact one
by 7-18 % (relative L2 of r(t), 1 ms bins) on the inputs of
tests/validation/test_qif_convergence.py, most of the population's error there; a step of
dt/4 did not remove the error, since the quantile deficit above remained. The trial step costs
~1.5x the time per step (1 s simulated at the defaults, cython, on this project's 2-core
machine: 1.86 -> 2.85 s, 2.72 -> 4.16 s under two loads).

Input from the connectome. The MPR model is driven by a current, not by spikes. The
afferent input nu (Hz, per fibre) is the rate of n_ext afferent fibres per cell; each
spike makes V jump by J_ext / n_ext, which is the same form as the recurrent term: the
mean input current is I(t) = J_ext tau (nu_bg + nu), e.g. 0.1 per 10 Hz at J_ext = 1,
tau = 10 ms. ``DRIVE`` delivers these spikes (shot noise, drawn by the framework); the mean
is exactly the MPR input J_ext tau nu, and the noise around it (variance
(J_ext^2 / n_ext) tau nu per tau) is the price of spikes: n_ext = 1000 makes it small (the
validation measures its effect). An MPR region coupled like this circuit gets
I = J_ext tau nu with tau in ms and nu in kHz.

Electrodes: I_stim (amp) enters as I_stim / I_unit (I_unit = 0.1 nA by default).

Field proxy: none (``FIELD = {}``). The neurons are normalised QIF cells without synaptic
currents (coupling is an instantaneous current J tau r); the Mazzoni proxy needs AMPA and
GABA currents on pyramidal cells, which this model does not have. The MPR region's EEG
source is the mean potential V, a different observable that the framework's field proxy
does not carry. The circuit therefore adds nothing to the EEG; its rate reaches the
connectome as usual.

Defaults are the paper's Fig. 2 network: eta_bar = -5, Delta = 1, J = 15, tau = 10 ms
(the paper's time unit; TVB's MPR uses tau = 1 ms as a unit instead).
"""

from __future__ import annotations

import brian2 as b2
import numpy as np

from multiscale.circuit import Circuit, Parameter

V_INF = 1e12  # stands for an infinite potential

#: trial step (predictor): which cells would fire in this step if the rate were that of
#: the previous step (r_rec); v is not changed
TRIAL = """
a = clip(eta_bar + Delta * q + J * tau * r_rec + I_stim / I_unit, -a_max, a_max)
S = dt / tau * qif_step_factor(a * (dt / tau)**2)
fired_trial = int(1 - v * S <= 0)
"""
#: exact step of tau dv/dt = v^2 + a over one dt, a held constant (see module docstring),
#: the recurrent input at the rate of this step's trial spikes (corrector)
UPDATE = """
a = clip(eta_bar + Delta * q + J * tau * n_trial / (n_cells * dt) + I_stim / I_unit, -a_max, a_max)
S = dt / tau * qif_step_factor(a * (dt / tau)**2)
den = 1 - v * S
fired = int(den <= 0)
v = clip((v + a * S) / den, -v_inf, v_inf)
"""
#: S / h as a function of y = a h^2: tan(sqrt(y)) / sqrt(y) for y > 0, tanh(sqrt(-y)) /
#: sqrt(-y) for y < 0; near 0 (nearly every cell: |a| < 100 at dt/tau = 0.01) the Taylor
#: series shared by both, to 5 terms (relative error < 1e-12 for |y| < 0.01)
STEP_FACTOR_CYTHON = """
cdef double qif_step_factor(double y):
    cdef double s
    if fabs(y) < 0.01:
        return 1.0 + y * (1.0 / 3 + y * (2.0 / 15 + y * (17.0 / 315 + y * 62.0 / 2835)))
    if y > 0:
        s = sqrt(y)
        return tan(s) / s
    s = sqrt(-y)
    return tanh(s) / s
"""


@b2.implementation("cython", STEP_FACTOR_CYTHON)
@b2.check_units(y=1, result=1)
def qif_step_factor(y):
    """Numpy version of STEP_FACTOR_CYTHON."""
    y = np.asarray(y, dtype=float)
    s = np.sqrt(np.abs(y))
    safe = np.where(s > 0, s, 1.0)
    exact = np.where(y > 0, np.tan(s), np.tanh(s)) / safe
    series = 1.0 + y * (1.0 / 3 + y * (2.0 / 15 + y * (17.0 / 315 + y * 62.0 / 2835)))
    return np.where(np.abs(y) < 0.01, series, exact)


EQUATIONS = """
v : 1
q : 1 (constant)
fired : 1
fired_trial : 1
r_rec : Hz (linked)
n_trial : 1 (linked)
I_stim : amp
eta_bar : 1 (shared)
Delta : 1 (shared)
J : 1 (shared)
w_ext : 1 (shared)
"""


#: outermost cells on each side whose excitability is the mean of sqrt(eta) over their slice
#: (see lorentzian_quantiles)
TAIL_CELLS = 8


def lorentzian_quantiles(n: int) -> np.ndarray:
    """Excitabilities of n cells for eta_bar = 0, Delta = 1: each cell stands for a slice
    of probability 1/n of the Lorentzian, ((i - 1)/n, i/n) in the cumulative u, eta(u) =
    tan(pi (u - 1/2)). Cell i sits at the middle of its slice, tan(pi ((i - 1/2)/n - 1/2)),
    except the TAIL_CELLS outermost ones on each side (at most a quarter of the cells),
    at +-m^2 with m the mean of
    sqrt(|eta|) over the slice (module docstring, "Excitabilities"). Ascending,
    antisymmetric."""
    i = np.arange(1, n + 1)
    q = np.tan(np.pi * ((i - 0.5) / n - 0.5))
    k = min(TAIL_CELLS, n // 4)
    if k:
        # slice j from the top covers s = 1 - u in ((j - 1)/n, j/n), where eta = cot(pi s);
        # with s = w^2 the integrand 2 w sqrt(cot(pi w^2)) is smooth (2/sqrt(pi) at w = 0)
        x, wq = np.polynomial.legendre.leggauss(24)
        j = np.arange(1, k + 1)[:, None]
        lo, hi = np.sqrt((j - 1) / n), np.sqrt(j / n)
        w = 0.5 * (hi - lo) * x + 0.5 * (hi + lo)
        safe = np.where(w > 0, w, 1.0)
        f = np.where(w > 0, 2 * safe * np.sqrt(1 / np.tan(np.pi * safe**2)), 2 / np.sqrt(np.pi))
        m = n * (0.5 * (hi - lo) * f) @ wq
        q[n - k :] = m[::-1] ** 2
        q[:k] = -(m**2)
    return q


class QIFPopulation(Circuit):
    """All-to-all QIF population with Lorentzian excitabilities (exact MPR mean field)."""

    NAME = "qif_population"
    CITATION = (
        "Montbrio E, Pazo D, Roxin A (2015) Macroscopic description for networks of spiking "
        "neurons. Phys Rev X 5:021028. doi:10.1103/PhysRevX.5.021028"
    )
    DESCRIPTION = (
        "N quadratic integrate-and-fire neurons, all-to-all coupled through the population "
        "rate, with Lorentzian (deterministic quantile) excitabilities; integrated exactly "
        "between steps with peak and reset at infinity, so its rate follows the "
        "Montbrio-Pazo-Roxin mean field."
    )
    PARAMETERS = {
        "n": Parameter(10000, "1", "number of neurons", integer=True, minimum=1),
        "tau": Parameter(10.0, "ms", "membrane time constant", positive=True),
        "n_ext": Parameter(
            1000, "1", "afferent fibres per cell (sets the shot noise)", integer=True, minimum=1
        ),
        "I_unit": Parameter(0.1, "nA", "electrode current that adds 1 to the input I"),
    }
    KNOBS = {
        "eta_bar": Parameter(-5.0, "1", "centre of the Lorentzian of excitabilities"),
        "Delta": Parameter(1.0, "1", "half-width of the Lorentzian of excitabilities", minimum=0),
        "J": Parameter(15.0, "1", "recurrent coupling (J tau r in the input)"),
        "J_ext": Parameter(1.0, "1", "afferent coupling: input current J_ext tau nu"),
        "nu_bg": Parameter(0.0, "Hz", "background rate of each afferent fibre", minimum=0),
    }
    POPULATIONS = ("QIF",)
    SIZE_PARAMETERS = ("n",)
    BYTES_PER_SYNAPSE = 16  # one counter synapse per cell
    OUTPUT_POPULATION = "QIF"
    FIELD: dict = {}
    INPUT_DESCRIPTION = (
        "rate per afferent fibre (Hz), added to nu_bg on n_ext fibres per cell; mean input "
        "current I = J_ext tau (nu_bg + input), delivered as jumps J_ext / n_ext of V"
    )
    DRIVE = {"QIF": "v += w_ext * n_events"}

    @classmethod
    def estimate(cls, params: dict[str, float]) -> tuple[int, int]:
        n = int(params["n"])
        return n + 1, n  # the cells, the counter, one synapse per cell onto it

    def __init__(self, name: str, parameters: dict[str, float] | None = None, **kwargs) -> None:
        # knob values given at construction, for the initial state (set_knob comes later)
        self._initial_knobs = {k: v for k, v in (parameters or {}).items() if k in self.KNOBS}
        super().__init__(name, parameters, **kwargs)

    def build(self) -> None:
        p = self.params
        n = int(p["n"])
        tau = p["tau"] * b2.ms
        dt = b2.defaultclock.dt
        a_max = (0.45 * np.pi * float(tau / dt)) ** 2
        group = b2.NeuronGroup(
            n,
            EQUATIONS,
            threshold="fired > 0.5",
            reset="",  # the update already gives the potential after the spike
            namespace={
                "tau": tau,
                "I_unit": p["I_unit"] * b2.nA,
                "a_max": a_max,
                "v_inf": V_INF,
                "qif_step_factor": qif_step_factor,
                "n_cells": n,
            },
            name=f"{self.tag}_QIF",
        )
        group.q = lorentzian_quantiles(n)
        for knob in ("eta_bar", "Delta", "J"):
            group.variables[knob].set_value(self.KNOBS[knob].default)
        group.variables["w_ext"].set_value(self.KNOBS["J_ext"].default / p["n_ext"])
        # start near the uncoupled, undriven state: cells below threshold at their rest
        # -sqrt(-eta_i), oscillating ones at a random phase of their orbit
        knobs = {k: v.default for k, v in self.KNOBS.items()} | self._initial_knobs
        eta = knobs["eta_bar"] + knobs["Delta"] * lorentzian_quantiles(n)
        phase = np.pi * (np.random.rand(n) - 0.5)  # numpy's global stream, seeded by b2.seed
        group.v = np.where(
            eta < 0, -np.sqrt(np.abs(eta)), np.sqrt(np.abs(eta)) * np.tan(0.999 * phase)
        )
        # trial step (predictor) after the counter's update, before the summed count
        group.run_regularly(TRIAL, when="before_groups", order=1, name=f"{self.tag}_QIF_trial")
        group.run_regularly(UPDATE, when="groups", name=f"{self.tag}_QIF_update")

        # spike counter: the spikes of a step set the predictor r_rec of the next one; the
        # trial spikes of a step (summed, in the "groups" slot before the cells' update, order
        # -1) set the recurrent input of the step itself
        counter = b2.NeuronGroup(
            1,
            "count : 1\nrate : Hz\ntrial : 1",
            namespace={"n_cells": n},
            name=f"{self.tag}_counter",
        )
        counter.run_regularly(
            "rate = count / (n_cells * dt)\ncount = 0",
            when="before_groups",
            name=f"{self.tag}_counter_update",
        )
        up = b2.Synapses(
            group,
            counter,
            model="trial_post = fired_trial_pre : 1 (summed)",
            on_pre="count_post += 1",
            name=f"{self.tag}_count",
        )
        up.connect(i=np.arange(n), j=0)
        index = np.zeros(n, dtype=int)
        group.r_rec = b2.linked_var(counter, "rate", index=index)
        group.n_trial = b2.linked_var(counter, "trial", index=index)
        self.populations["QIF"] = group
        self.objects += [group, counter, up]  # their run_regularly come with them

    def drive_rates(self, input_hz: np.ndarray) -> dict[str, np.ndarray]:
        return {"QIF": float(self.params["n_ext"]) * (self.knobs["nu_bg"] + input_hz)}

    def apply_knob(self, name: str, value: float) -> None:
        group = self.populations["QIF"]
        if name == "nu_bg":
            if value < 0:
                raise ValueError(f"{self.NAME}: nu_bg must be >= 0 Hz, got {value}")
            return  # read by drive_rates from self.knobs when the next window is drawn
        if name == "Delta" and value < 0:
            raise ValueError(f"{self.NAME}: Delta must be >= 0, got {value}")
        if name == "J_ext":
            group.variables["w_ext"].set_value(float(value) / self.params["n_ext"])
        else:
            group.variables[name].set_value(float(value))

    def input_current(self, input_hz: np.ndarray | float) -> np.ndarray:
        """Mean input current I (dimensionless) for afferent input input_hz (Hz per fibre)
        at the current knobs: J_ext tau (nu_bg + input)."""
        tau_s = self.params["tau"] * 1e-3
        return self.knobs["J_ext"] * tau_s * (self.knobs["nu_bg"] + np.asarray(input_hz))
