"""Sparse random E/I network of Hodgkin-Huxley neurons with AMPA, NMDA and GABA_A synapses.

Cells
- E: the regular-spiking pyramidal cell of Pospischil et al. 2008 (Biol Cybern 99:427,
  their fit to a rat somatosensory RS cell): one compartment with the Traub-Miles Na+ and
  delayed-rectifier K+ currents as modified by them (threshold offset V_T), leak and a slow
  non-inactivating K+ (M) current that makes the cell adapt. Area 11 840 um^2
  (L = d = 61.4 um), C_m = 1 uF/cm^2, g_Na 56, g_Kd 6, g_M 0.075, g_L 0.0205 mS/cm^2.
- I: the fast-spiking basket (PV) cell of Wang & Buzsaki 1996 (J Neurosci 16:6402): Na+
  with instantaneous activation, K+ (delayed rectifier), leak, phi = 5. It is a density
  model; the area (10 000 um^2, C_m = 100 pF) is a choice made here.

Synapses (kinetics of Wang 2002, Neuron 36:955, also Brunel & Wang 2001)
- AMPA and GABA_A: instantaneous rise, exponential decay (2 ms and 5 ms); E_AMPA = 0 mV,
  E_GABA = -75 mV (Wang & Buzsaki 1996).
- NMDA: rise 2 ms, decay 100 ms, Mg2+ block of Jahr & Stevens 1990 (J Neurosci 10:3178) at
  [Mg2+] = 1 mM, B(V) = 1 / (1 + [Mg]/3.57 exp(-0.062 V/mV)). Simplification: the NMDA
  conductance is summed linearly per postsynaptic cell (no per-synapse saturation, as in
  the linearised kinetics of Brunel & Wang 2001); the kernel is a difference of
  exponentials normalised to a peak of 1 so that a weight is the peak conductance.
- Every synapse has a 1 ms latency, exact on the cells' clock (the conductance jumps 1 ms
  after the spike; multiscale/circuit.py, "Delays"). E->E and E->I carry AMPA and NMDA, I->E and
  I->I GABA_A.
- Peak conductances (below, G_SYN) were tuned here for the asynchronous-irregular state
  (E a few Hz, I several times faster; measured with exponential Euler at dt_cell
  0.025 ms: E ~2 Hz, I ~11 Hz, CV_ISI ~0.4; the external X->E weight was raised from 0.3
  to 1.5 nS, with which E had been silent; unchanged with 'rk4' at 0.05 ms and the drive
  drawn in generated code, seeds 1-3, 0.1-1.1 s: E 1.98-2.11 Hz, I 10.91-11.20 Hz); they
  hold for the default in-degree (K_E = 80, K_I = 20: 400/100 cells, p = 0.2). A network
  of another size or p keeps the mean recurrent drive by scaling them by K_ref / K
  (fluctuations then scale as sqrt(K_ref / K)), as in circuits/ei_network.py.

External drive: n_ext Poisson fibres per cell (E and I) at nu_bg + the afferent input,
each spike an AMPA event (drawn by the framework, see DRIVE).

Knobs are multiplicative scales of maximal conductances, applied to the currents (not the
synaptic kicks), so a change acts at once, like a drug: gNa_E / gNa_I (Na+, e.g. TTX or,
for gNa_I = 0.5, Dravet syndrome's loss of Nav1.1 in PV cells), gK_E / gK_I (delayed
rectifier only; the M current is not scaled), g_AMPA (recurrent and external AMPA),
g_NMDA, g_GABA (e.g. bicuculline).

Field: FIELD uses the AMPA current only (``I_AMPA``), not AMPA + NMDA: the Mazzoni et al.
2015 proxy and its weights (6 ms delay, 1.65) were fitted to networks with AMPA and GABA_A
synapses only. ``I_NMDA`` is exposed per cell for whoever wants to add it.

Time step and integration. The cells are integrated by Brian2's 'rk4' at dt_cell =
0.05 ms (``METHOD``; two sub-steps of the default brian.dt of 0.1 ms). Until this version
they were integrated by exponential Euler at 0.025 ms, which is first order here (the
Wang-Buzsaki Na+ activation m_inf(v) and every rate are frozen over the step) and failed a
check against solve_ivp at rtol 1e-8 (tests/validation/test_hh_cells_convergence.py): the
Wang-Buzsaki rates were 5-7 % low, depolarisation block came at 2995 pA instead of
2495 pA (+20 %; at the Dravet knob's gNa x 0.5, 1258 instead of 990 pA, +27 %, and the
rheobase 7 % low), so the interneurons fired, at 430-470 Hz, where the accurately
integrated cell is blocked; exponential Euler at 0.01 ms still missed block by 7 %. RK4
at 0.05 ms is within 0.1 % of the reference on every f-I quantity of both cells (the RS
cell's 3.9 % error also goes) and, with half as many steps, costs about the same: 1 s
of the default circuit, cython, on this project's 2-core machine under various loads from
other work, took 4.72 -> 5.05 s, 6.07 -> 4.90 s and 7.66 -> 7.24 s (before -> after, the
fastest of 3 alternated runs each time). Alternatives measured: 'rk2' at 0.05 ms, ~40 %
cheaper than 'rk4' (2.9 against 4.9 s in one measurement), worst f-I error 1.1 % (kept
out for margin); 'rk4' at 0.1 ms, 3.9 % error on the RS cell at low rates; 'rk2' at
0.1 ms is unstable for the RS cell. The cells and their synapses run on their own clock,
dt_cell = the largest divisor of the framework's brian.dt not above the dt_cell
parameter. The exchange bins stay multiples of brian.dt. The framework's external-spike
table holds one count per brian.dt step, delivered on the first sub-step of each step
only (multiscale/circuit.py), so every drawn event counts exactly once.
"""

from __future__ import annotations

import math

import brian2 as b2
import numpy as np
from brian2.core.functions import DEFAULT_FUNCTIONS

from multiscale.circuit import Circuit, Parameter, brian_delay_ms, cell_step


def _exprel_numpy(x):
    """(exp(x) - 1) / x, 1 at x = 0 (as brian2's exprel), on plain arrays."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        y = np.expm1(x) / x
    return np.where(np.abs(x) < 1e-16, 1.0, y)


#: brian2's own ``exprel``, with a numpy implementation that skips its unit-checking
#: wrapper: with the numpy target that wrapper formats the whole argument array into an
#: error message on every call (brian2 2.x, core/functions.py), which made the cells' state
#: update ~10 times slower. Compiled targets use brian2's code for exprel, renamed.
HH_EXPREL = b2.Function(_exprel_numpy, arg_units=[1], return_unit=1)
HH_EXPREL.implementations.add_numpy_implementation(_exprel_numpy, discard_units=True)
for _target, _impl in DEFAULT_FUNCTIONS["exprel"].implementations._implementations.items():
    if getattr(_target, "class_name", None) in ("cython", "cpp"):
        HH_EXPREL.implementations.add_implementation(
            _target, code=_impl.get_code(None).replace("_exprel", "_hh_exprel"), name="_hh_exprel"
        )

# --- Pyramidal (RS) cell, Pospischil et al. 2008 -------------------------------------------
# dt is the cell's own step; m, h, n: Na+ and K_dr gates (Traub & Miles 1991 kinetics with
# the threshold offset V_T); p: M-current gate.
E_CELL_EQUATIONS = """
dv/dt = (I_stim - I_L - I_Na - I_K - I_M - I_AMPA - I_NMDA - I_GABA) / C_m : volt
I_L = g_L * (v - E_L) : amp
I_Na = scale_Na * g_Na * m**3 * h * (v - E_Na) : amp
I_K = scale_K * g_K * n**4 * (v - E_K) : amp
I_M = g_M * p * (v - E_K) : amp
dm/dt = alpha_m * (1 - m) - beta_m * m : 1
dh/dt = alpha_h * (1 - h) - beta_h * h : 1
dn/dt = alpha_n * (1 - n) - beta_n * n : 1
dp/dt = (p_inf - p) / tau_p : 1
alpha_m = 0.32/ms * 4 / hh_exprel(-(v - V_T - 13*mV) / (4*mV)) : Hz
beta_m = 0.28/ms * 5 / hh_exprel((v - V_T - 40*mV) / (5*mV)) : Hz
alpha_h = 0.128/ms * exp(-(v - V_T - 17*mV) / (18*mV)) : Hz
beta_h = 4/ms / (1 + exp(-(v - V_T - 40*mV) / (5*mV))) : Hz
alpha_n = 0.032/ms * 5 / hh_exprel(-(v - V_T - 15*mV) / (5*mV)) : Hz
beta_n = 0.5/ms * exp(-(v - V_T - 10*mV) / (40*mV)) : Hz
p_inf = 1 / (1 + exp(-(v + 35*mV) / (10*mV))) : 1
tau_p = tau_max / (3.3 * exp((v + 35*mV) / (20*mV)) + exp(-(v + 35*mV) / (20*mV))) : second
"""

# --- Fast-spiking (PV) cell, Wang & Buzsaki 1996 -------------------------------------------
I_CELL_EQUATIONS = """
dv/dt = (I_stim - I_L - I_Na - I_K - I_AMPA - I_NMDA - I_GABA) / C_m : volt
I_L = g_L * (v - E_L) : amp
I_Na = scale_Na * g_Na * m_inf**3 * h * (v - E_Na) : amp
I_K = scale_K * g_K * n**4 * (v - E_K) : amp
m_inf = alpha_m / (alpha_m + beta_m) : 1
dh/dt = phi * (alpha_h * (1 - h) - beta_h * h) : 1
dn/dt = phi * (alpha_n * (1 - n) - beta_n * n) : 1
alpha_m = 0.1/ms * 10 / hh_exprel(-(v + 35*mV) / (10*mV)) : Hz
beta_m = 4/ms * exp(-(v + 60*mV) / (18*mV)) : Hz
alpha_h = 0.07/ms * exp(-(v + 58*mV) / (20*mV)) : Hz
beta_h = 1/ms / (1 + exp(-(v + 28*mV) / (10*mV))) : Hz
alpha_n = 0.01/ms * 10 / hh_exprel(-(v + 34*mV) / (10*mV)) : Hz
beta_n = 0.125/ms * exp(-(v + 44*mV) / (80*mV)) : Hz
"""

# --- Synaptic currents, common to both cells ------------------------------------------------
# Outward-positive like the ionic currents (the field proxy takes |I|); I_stim is injected
# (positive depolarises). The reversal potentials are shared variables, not namespace
# constants, so that I_AMPA / I_GABA also resolve in the framework's field-gathering code.
# The scale_* shared variables are the knobs.
SYNAPSE_EQUATIONS = """
I_AMPA = scale_ampa * g_ampa * (v - E_AMPA) : amp
I_NMDA = scale_nmda * g_nmda * mg_block * (v - E_AMPA) : amp
I_GABA = scale_gaba * g_gaba * (v - E_GABA) : amp
mg_block = 1 / (1 + Mg / 3.57 * exp(-0.062 * v / mV)) : 1
dg_ampa/dt = -g_ampa / tau_ampa : siemens
dg_gaba/dt = -g_gaba / tau_gaba : siemens
g_nmda = d_nmda - r_nmda : siemens
dd_nmda/dt = -d_nmda / tau_nmda_decay : siemens
dr_nmda/dt = -r_nmda / tau_nmda_rise : siemens
I_stim : amp
E_AMPA : volt (shared, constant)
E_GABA : volt (shared, constant)
scale_Na : 1 (shared)
scale_K : 1 (shared)
scale_ampa : 1 (shared)
scale_nmda : 1 (shared)
scale_gaba : 1 (shared)
"""

CM = 1.0 * b2.ufarad / b2.cm**2
MS_CM2 = b2.msiemens / b2.cm**2
AREA = {"E": 11840.0 * b2.umetre**2, "I": 10000.0 * b2.umetre**2}
#: population -> cell constants (densities times area)
CELL = {
    "E": {
        "C_m": CM * AREA["E"],
        "g_L": 0.0205 * MS_CM2 * AREA["E"],
        "g_Na": 56.0 * MS_CM2 * AREA["E"],
        "g_K": 6.0 * MS_CM2 * AREA["E"],
        "g_M": 0.075 * MS_CM2 * AREA["E"],
        "E_L": -70.3 * b2.mV,
        "E_Na": 50.0 * b2.mV,
        "E_K": -90.0 * b2.mV,
        "V_T": -56.2 * b2.mV,
        "tau_max": 608.0 * b2.ms,
    },
    "I": {
        "C_m": CM * AREA["I"],
        "g_L": 0.1 * MS_CM2 * AREA["I"],
        "g_Na": 35.0 * MS_CM2 * AREA["I"],
        "g_K": 9.0 * MS_CM2 * AREA["I"],
        "E_L": -65.0 * b2.mV,
        "E_Na": 55.0 * b2.mV,
        "E_K": -90.0 * b2.mV,
        "phi": 5.0,
    },
}
CELL_EQUATIONS = {"E": E_CELL_EQUATIONS, "I": I_CELL_EQUATIONS}
V_SPIKE = -20.0 * b2.mV  # a spike is an upward crossing of -20 mV

E_AMPA = 0.0 * b2.mV  # also NMDA
E_GABA = -75.0 * b2.mV
MG = 1.0  # extracellular [Mg2+] (mM)
TAU_AMPA = 2.0 * b2.ms
TAU_GABA = 5.0 * b2.ms
TAU_NMDA_RISE = 2.0 * b2.ms
TAU_NMDA_DECAY = 100.0 * b2.ms
LATENCY = 1.0 * b2.ms

#: peak conductance per synapse, (presynaptic, postsynaptic) -> (AMPA or GABA_A, NMDA), at
#: the reference in-degree; X = external fibres (AMPA only)
G_SYN = {
    ("E", "E"): (0.6 * b2.nsiemens, 0.06 * b2.nsiemens),
    ("E", "I"): (1.0 * b2.nsiemens, 0.1 * b2.nsiemens),
    ("I", "E"): (3.0 * b2.nsiemens, 0.0 * b2.nsiemens),
    ("I", "I"): (3.0 * b2.nsiemens, 0.0 * b2.nsiemens),
    ("X", "E"): (1.5 * b2.nsiemens, 0.0 * b2.nsiemens),
    ("X", "I"): (0.6 * b2.nsiemens, 0.0 * b2.nsiemens),
}
N_REF = {"E": 400, "I": 100}
P_REF = 0.2


def _nmda_peak_factor() -> float:
    """1 / peak of exp(-t/tau_decay) - exp(-t/tau_rise)."""
    tr, td = float(TAU_NMDA_RISE), float(TAU_NMDA_DECAY)
    t_peak = tr * td / (td - tr) * math.log(td / tr)
    return 1.0 / (math.exp(-t_peak / td) - math.exp(-t_peak / tr))


NMDA_PEAK = _nmda_peak_factor()

#: n_events external spikes in one brian.dt step open AMPA conductance (on the cells'
#: finer clock, the framework delivers a step's events on its first sub-step only)
EXTERNAL_DRIVE = "g_ampa += w_ext * n_events"

#: knob -> (populations, shared variable)
KNOB_VARIABLES = {
    "gNa_E": (("E",), "scale_Na"),
    "gNa_I": (("I",), "scale_Na"),
    "gK_E": (("E",), "scale_K"),
    "gK_I": (("I",), "scale_K"),
    "g_AMPA": (("E", "I"), "scale_ampa"),
    "g_NMDA": (("E", "I"), "scale_nmda"),
    "g_GABA": (("E", "I"), "scale_gaba"),
}


#: Brian2 state updater of the cells (module docstring, "Time step and integration")
METHOD = "rk4"


def cell_group(pop: str, n: int, dt: b2.Quantity, name: str, method: str = METHOD):
    """A NeuronGroup of n cells of type pop ("E" or "I") with the synaptic currents, at rest
    (gates at steady state), knobs at 1. Also used alone for single-cell tests."""
    namespace = dict(CELL[pop])
    namespace.update(
        Mg=MG,
        tau_ampa=TAU_AMPA,
        tau_gaba=TAU_GABA,
        tau_nmda_rise=TAU_NMDA_RISE,
        tau_nmda_decay=TAU_NMDA_DECAY,
        hh_exprel=HH_EXPREL,
    )
    group = b2.NeuronGroup(
        n,
        CELL_EQUATIONS[pop] + SYNAPSE_EQUATIONS,
        threshold="v > V_spike",
        refractory="v > V_spike",
        method=method,
        namespace=namespace | {"V_spike": V_SPIKE},
        dt=dt,
        name=name,
    )
    group.v = CELL[pop]["E_L"]
    group.E_AMPA = E_AMPA
    group.E_GABA = E_GABA
    for variable in ("scale_Na", "scale_K", "scale_ampa", "scale_nmda", "scale_gaba"):
        group.variables[variable].set_value(1.0)
    rest_gates(group)
    return group


def rest_gates(group) -> None:
    """Set the gates to their steady state at the present v."""
    for gate in ("m", "h", "n"):
        if gate in group.equations.diff_eq_names:
            setattr(group, gate, f"alpha_{gate} / (alpha_{gate} + beta_{gate})")
    if "p" in group.equations.diff_eq_names:
        group.p = "p_inf"


class HHEINetwork(Circuit):
    """Hodgkin-Huxley E/I network (RS pyramidal + Wang-Buzsaki PV) with AMPA/NMDA/GABA_A."""

    NAME = "hh_ei_network"
    CITATION = (
        "Pospischil M, Toledo-Rodriguez M, Monier C, Piwkowska Z, Bal T, Fregnac Y, "
        "Markram H, Destexhe A (2008) Minimal Hodgkin-Huxley type models for different "
        "classes of cortical and thalamic neurons. Biol Cybern 99:427-441 (RS cell). "
        "Wang X-J, Buzsaki G (1996) Gamma oscillation by synaptic inhibition in a "
        "hippocampal interneuronal network model. J Neurosci 16:6402-6413 (FS cell). "
        "Wang X-J (2002) Neuron 36:955-968 and Brunel N, Wang X-J (2001) J Comput Neurosci "
        "11:63-85 (AMPA/NMDA/GABA_A kinetics). Jahr CE, Stevens CF (1990) J Neurosci "
        "10:3178-3182 (Mg2+ block). Dravet target: Yu FH et al. (2006) Nat Neurosci "
        "9:1142-1149. Field proxy: Mazzoni A et al. (2015) PLoS Comput Biol 11:e1004584."
    )
    DESCRIPTION = (
        "Sparse random network of Hodgkin-Huxley regular-spiking pyramidal cells "
        "(Na, K-DR, M, leak) and Wang-Buzsaki fast-spiking PV interneurons (Na, K-DR, leak) "
        "with AMPA, NMDA (Mg2+ block) and GABA_A synapses, driven by Poisson fibres; knobs "
        "scale Na+ and K+ conductances per cell class (TTX, K+ block, Dravet) and each "
        "receptor."
    )
    PARAMETERS = {
        "n_E": Parameter(400, "1", "pyramidal (RS) cells", integer=True, minimum=1),
        "n_I": Parameter(100, "1", "fast-spiking (PV) interneurons", integer=True, minimum=1),
        "p_conn": Parameter(
            0.2, "1", "connection probability between any two cells", positive=True, maximum=1
        ),
        "n_ext": Parameter(100, "1", "external AMPA fibres per cell", integer=True, minimum=0),
        "dt_cell": Parameter(
            0.05,
            "ms",
            "largest time step of the cells (rounded down to divide brian.dt)",
            positive=True,
        ),
    }
    KNOBS = {
        "gNa_E": Parameter(1.0, "1", "scale of the Na+ conductance of pyramidal cells", minimum=0),
        "gNa_I": Parameter(1.0, "1", "scale of the Na+ conductance of PV interneurons", minimum=0),
        "gK_E": Parameter(
            1.0, "1", "scale of the delayed-rectifier K+ conductance, pyramidal", minimum=0
        ),
        "gK_I": Parameter(1.0, "1", "scale of the delayed-rectifier K+ conductance, PV", minimum=0),
        "g_AMPA": Parameter(
            1.0, "1", "scale of all AMPA conductances, recurrent and external", minimum=0
        ),
        "g_NMDA": Parameter(1.0, "1", "scale of all NMDA conductances", minimum=0),
        "g_GABA": Parameter(1.0, "1", "scale of all GABA_A conductances", minimum=0),
        "nu_bg": Parameter(5.0, "Hz", "background rate of each external fibre", minimum=0),
    }
    POPULATIONS = ("E", "I")
    SIZE_PARAMETERS = ("n_E", "n_I")
    BYTES_PER_SYNAPSE = 24  # like ei_network, with its own clock; not measured
    OUTPUT_POPULATION = "E"
    FIELD = {
        "group": "E",
        "ampa": "I_AMPA",
        "gaba": "I_GABA",
        "g_leak_nS": float(CELL["E"]["g_L"] / b2.nsiemens),
    }
    INPUT_DESCRIPTION = (
        "rate per external fibre (Hz), added to nu_bg on the n_ext AMPA fibres of every "
        "cell, E and I"
    )
    DRIVE = {"E": EXTERNAL_DRIVE, "I": EXTERNAL_DRIVE}
    FOLD_DRIVE = True  # nothing else runs before the cells' update: the drive joins it

    @classmethod
    def estimate(cls, params: dict[str, float]) -> tuple[int, int]:
        n = int(params["n_E"]) + int(params["n_I"])
        return n, int(params["p_conn"] * n * (n - 1))  # Bernoulli p per pair, no autapses

    def build(self) -> None:
        n = {"E": int(self.params["n_E"]), "I": int(self.params["n_I"])}
        p = float(self.params["p_conn"])
        self.dt_cell = cell_step(float(self.params["dt_cell"]), b2.defaultclock.dt)
        for pop in self.POPULATIONS:
            group = cell_group(pop, n[pop], self.dt_cell, f"{self.tag}_{pop}")
            group.namespace.update({"w_ext": G_SYN[("X", pop)][0]})
            group.v = "E_L + rand() * 10*mV"
            rest_gates(group)
            self.populations[pop] = group
            self.objects.append(group)

        # on the cells' clock, conductances open LATENCY after the spike, as in NEST
        # (multiscale/circuit.py, "Delays")
        dt_ms = float(self.dt_cell / b2.ms)
        delay = brian_delay_ms(float(LATENCY / b2.ms), dt_ms) * b2.ms
        for pre in self.POPULATIONS:
            k_ratio = (P_REF * N_REF[pre]) / (p * n[pre])
            for post in self.POPULATIONS:
                g_fast, g_nmda = G_SYN[(pre, post)]
                if pre == "E":
                    on_pre = "g_ampa_post += w_fast\nd_nmda_post += w_nmda\nr_nmda_post += w_nmda"
                else:
                    on_pre = "g_gaba_post += w_fast"
                syn = b2.Synapses(
                    self.populations[pre],
                    self.populations[post],
                    on_pre=on_pre,
                    delay=delay,
                    namespace={
                        "w_fast": g_fast * k_ratio,
                        "w_nmda": g_nmda * k_ratio * NMDA_PEAK,
                    },
                    dt=self.dt_cell,
                    name=f"{self.tag}_{pre}{post}",
                )
                if pre == post:
                    syn.connect(condition="i != j", p=p)
                else:
                    syn.connect(p=p)
                self.objects.append(syn)

    def drive_rates(self, input_hz: np.ndarray) -> dict[str, np.ndarray]:
        total = float(self.params["n_ext"]) * (self.knobs["nu_bg"] + input_hz)
        return {pop: total for pop in self.DRIVE}

    def apply_knob(self, name: str, value: float) -> None:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{self.NAME}: {name} must be finite and >= 0, got {value}")
        if name == "nu_bg":
            return  # read by drive_rates from self.knobs when the next window is drawn
        pops, variable = KNOB_VARIABLES[name]
        for pop in pops:
            self.populations[pop].variables[variable].set_value(float(value))
