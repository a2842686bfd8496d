"""Sparse random E/I network of conductance-based LIF neurons with a gamma rhythm.

Reference: Cavallari, Panzeri & Mazzoni 2014, the conductance-based version of the
Mazzoni et al. 2008 network and the one whose field proxy Mazzoni et al. 2015 fitted
(values below as in the paper and the authors' parameters_COBN.m). 4000 excitatory and
1000 inhibitory leaky integrate-and-fire cells connected at random with probability 0.2;
AMPA and GABA_A conductances with a 1 ms latency (exact: the conductance starts 1 ms after
the spike, multiscale/circuit.py "Delays") and a difference-of-exponentials time course;
every cell driven through AMPA synapses by Poisson fibres (2 spikes/ms per cell in the paper,
here 800 fibres at nu_bg = 2.5 Hz; the paper's slow noise on that rate is left to the
afferent input). The E-I loop turns irregular spiking into a gamma (30-80 Hz)
rhythm of the synaptic currents, which the Mazzoni field proxy reads out.

Synaptic kernel (Cavallari et al. 2014, eq. 7). A presynaptic spike opens, after tau_l, a
conductance ``g_syn * s(t)`` with

    s(t) = tau_m / (tau_d - tau_r) * (exp(-t / tau_d) - exp(-t / tau_r)),

tau_m the membrane time constant of the postsynaptic cell, so ``g_syn * tau_m`` is the
area of one event. It is written as two exponentials ``d`` (decay) and ``r`` (rise), both
kicked by ``g_syn * tau_m / (tau_d - tau_r)``, and ``g = d - r``: each decays exactly, so
the charge of an event stays right at dt = 0.1 ms. (A rise -> decay cascade integrated by
exponential Euler inflates it by 13-27%, the rise times being 0.2-0.4 ms, and cut the E
rate of the reference network five-fold.)

Departures from the reference, both measured and both switchable:

- Size. The reference conductances hold for K_E = 800 excitatory and K_I = 200 inhibitory
  inputs per cell (4000/1000 cells, p = 0.2). A smaller or sparser network keeps the mean
  recurrent drive by scaling them by K_ref / K; fluctuations then grow as sqrt(K_ref / K),
  so the default 800/200 network fires faster and more synchronously than the reference
  (E 2.0 vs 0.87 Hz, I 7.0 vs 2.5 Hz at nu_bg = 2.5 Hz; seed 1, 2 s, cython target, this
  version's drive) and its field spectrum is broader (15-80 Hz, half of the power in
  30-80 Hz, against a 55 Hz peak). The external drive does not depend on size. n_E = 4000,
  n_I = 1000 is the paper's network (5x slower to run).
- Adaptation. E cells carry a spike-triggered K+ conductance (b_K = 3 nS, tau_K = 144 ms:
  the 80.5 pA, 144 ms adaptation of Brette & Gerstner 2005 at a 27 mV driving force).
  It changes the baseline little (E 2.5 -> 2.0 Hz, the same runs); b_K = 0 gives the
  reference cells. Why: below g_GABA ~0.36 a second state exists in which E-E excitation
  beats what is left of inhibition at any rate, with firing at the refractory limit.
  Without adaptation the network locks there at g_GABA = 0.3 (seed 1: balanced for 0.6 s,
  then E 355-367 Hz in every 100 ms). With it, the balanced state survives but is
  metastable: the network escapes into discharges of near-maximal firing that adaptation
  ends after 150-250 ms, every 0.5-1 s (seizure-like). The mean E rate then ranges from 5
  to 60 Hz depending on the realisation. Above the transition, reducing GABA is
  compensated by faster I cells, as in any balanced network. Stronger adaptation (8 nS) or
  E-E short-term depression suppress the escapes, and g_GABA = 0.3 then barely changes the
  E rate.

Time step. The cells and their synapses are integrated by exponential Euler at
dt_cell = brian.dt (0.1 ms) unless ``dt_cell`` asks for less (rounded down to divide
brian.dt); on a finer step they run on a clock of their own, and the framework delivers
each brian.dt step's external spikes on its first sub-step. The default step holds the
rates and the field's statistics within 5 % of a quarter of it
(tests/validation/test_convergence_networks.py).

Measured with the default network (tests/test_ei_network.py's runs, numpy target, seed 1
unless stated; the external spikes drawn in generated code, multiscale/poisson_drive.py,
E and I in one group): baseline E 1.9 Hz, I 6.8 Hz over 2 s (seed 2: 2.1 and 7.1 Hz); 2
and 10 Hz of afferent input raise E from 1.9 to 4.5 and 8.5 Hz (100-500 ms); at g_GABA =
0.3 the network escapes into discharges (E 51 Hz, I 103 Hz over 2 s; seed 2: 28 Hz), at
0.4 it stays balanced (E 3.5 Hz), and at 0.2 it locks at the refractory limit (E 484 Hz;
480 Hz with the drive off, self-sustained).

The previous version drew the external spikes in Python, one stream per window, for E and
I as two groups; the same runs gave baseline E 2.2 Hz, I 7.3 Hz (seed 2: 2.1 and 7.1 Hz);
E 2.2 -> 3.5 and 11.6 Hz with input; at g_GABA = 0.3 E 45 Hz, I 93 Hz (seed 2: 41 Hz), at
0.4 E 3.3 Hz, at 0.2 E 480 Hz: the same statistics, other realisations. Over seeds 1-6
(2 s each after 200 ms, cython, bench/circuit_statistics.py) the two give E 2.01 +- 0.05
and 2.01 +- 0.09 Hz, I 6.98 +- 0.06 and 6.92 +- 0.14 Hz, field SD 40.9 +- 0.9 and 39.4 +-
1.0 mV, gamma share 0.56 +- 0.01 and 0.57 +- 0.02 (now and before; mean +- standard error
over seeds).
"""

from __future__ import annotations

import brian2 as b2
import numpy as np

from multiscale.circuit import Circuit, Parameter, add_to_state_update, brian_delay_ms, cell_step

# --- Cells (Cavallari et al. 2014) -------------------------------------------------------
V_L = -70.0 * b2.mV  # leak reversal
V_THR = -52.0 * b2.mV  # spike threshold
V_RESET = -59.0 * b2.mV
E_AMPA = 0.0 * b2.mV
E_GABA = -80.0 * b2.mV
E_K = -80.0 * b2.mV  # adaptation (not in the reference)
#: population -> membrane time constant, leak conductance (1 / R_m), refractory period
CELL = {
    "E": (20.0 * b2.ms, 25.0 * b2.nsiemens, 2.0 * b2.ms),
    "I": (10.0 * b2.ms, 20.0 * b2.nsiemens, 1.0 * b2.ms),
}

# --- Synapses ---------------------------------------------------------------------------
TAU_L = 1.0 * b2.ms  # latency of every synapse
#: (rise, decay) of the AMPA kernel by postsynaptic population; GABA_A is the same on both
TAU_AMPA = {"E": (0.4 * b2.ms, 2.0 * b2.ms), "I": (0.2 * b2.ms, 1.0 * b2.ms)}
TAU_GABA = (0.25 * b2.ms, 5.0 * b2.ms)
#: g_syn by (presynaptic, postsynaptic) population at the reference in-degree; X = external
G_SYN = {
    ("E", "E"): 0.178 * b2.nsiemens,
    ("E", "I"): 0.233 * b2.nsiemens,
    ("I", "E"): 2.01 * b2.nsiemens,
    ("I", "I"): 2.70 * b2.nsiemens,
    ("X", "E"): 0.234 * b2.nsiemens,
    ("X", "I"): 0.317 * b2.nsiemens,
}
#: population sizes and connection probability for which G_SYN holds
N_REF = {"E": 4000, "I": 1000}
P_REF = 0.2

# I_AMPA and I_GABA keep the paper's sign (positive outward), as the field proxy sums
# them; I_stim is injected (positive depolarises). The reversal potentials are shared
# variables, not namespace constants, so that I_AMPA / I_GABA resolve from the base
# class's field-gathering Synapses, which has no access to this group's namespace.
# The scale_* shared variables are the knobs: writing them changes the running network
# without a rebuild.
EQUATIONS = """
dv/dt = (g_L * (V_L - v) - I_AMPA - I_GABA - I_K + I_stim) / C_m : volt (unless refractory)
I_AMPA = g_ampa * (v - E_AMPA) : amp
I_GABA = g_gaba * (v - E_GABA) : amp
I_K = g_K * (v - E_K) : amp
g_ampa = d_ampa - r_ampa : siemens
g_gaba = d_gaba - r_gaba : siemens
d_ampa : siemens
r_ampa : siemens
dd_gaba/dt = -d_gaba / tau_d_gaba : siemens
dr_gaba/dt = -r_gaba / tau_r_gaba : siemens
dg_K/dt = -g_K / tau_K : siemens
I_stim : amp
E_AMPA : volt (shared, constant)
E_GABA : volt (shared, constant)
scale_ampa : 1 (shared)
scale_gaba : 1 (shared)
scale_ampa_ei : 1 (shared)
C_m : farad (constant)
g_L : siemens (constant)
t_ref : second (constant)
decay_d_ampa : 1 (constant)
decay_r_ampa : 1 (constant)
b_K : siemens (constant)
w_ext : siemens (constant)
"""
#: the AMPA kernel's time constants differ between E and I cells: its exponentials decay,
#: exactly, by a per-cell factor exp(-dt / tau) after each step's integration (what
#: exponential Euler does for dd/dt = -d / tau, without an exp per cell and step)
DECAY = """
d_ampa = d_ampa * decay_d_ampa
r_ampa = r_ampa * decay_r_ampa
"""
#: E and I cells live in one group (E first) so that a step costs one state update,
#: threshold, reset, synaptic pathway and spike monitor, not one per population; what
#: differs between them is a per-cell constant above. One Synapses object carries the four
#: pathways: the kick of a spike follows from whether pre and post are E cells.
ON_PRE = """
e_pre = int(i < n_E)
e_post = int(j < n_E)
k_ampa = e_pre * (e_post * w_EE + (1 - e_post) * w_EI * scale_ampa_ei_post) * scale_ampa_post
k_gaba = (1 - e_pre) * (e_post * w_IE + (1 - e_post) * w_II) * scale_gaba_post
d_ampa_post += k_ampa
r_ampa_post += k_ampa
d_gaba_post += k_gaba
r_gaba_post += k_gaba
"""
RESET = """
v = V_reset
g_K += b_K
"""
#: the external spikes of one time step (n_events, drawn by the framework from the
#: rates that drive_rates gives) open AMPA conductance like recurrent ones
EXTERNAL_DRIVE = """
n_x = n_events
d_ampa += w_ext * scale_ampa * n_x
r_ampa += w_ext * scale_ampa * n_x
"""
#: knob -> shared variable that holds it in both populations (nu_bg acts in drive_rates)
KNOB_VARIABLES = {
    "g_AMPA": "scale_ampa",
    "g_GABA": "scale_gaba",
    "g_AMPA_E_to_I": "scale_ampa_ei",
}


def _kick(g_syn: b2.Quantity, post: str, receptor: str) -> b2.Quantity:
    """Jump of d and r per presynaptic spike for kernel amplitude g_syn."""
    tau_r, tau_d = TAU_AMPA[post] if receptor == "ampa" else TAU_GABA
    return g_syn * CELL[post][0] / (tau_d - tau_r)


class EINetwork(Circuit):
    """Conductance-based E/I LIF network: asynchronous-irregular spiking, gamma currents."""

    NAME = "ei_network"
    CITATION = (
        "Cavallari S, Panzeri S, Mazzoni A (2014) Comparison of the dynamics of neural "
        "interactions between current-based and conductance-based integrate-and-fire "
        "recurrent networks. Front Neural Circuits 8:12. doi:10.3389/fncir.2014.00012. "
        "Field proxy: Mazzoni A, Linden H, Cuntz H, Lansner A, Panzeri S, Einevoll GT (2015) "
        "PLoS Comput Biol 11:e1004584. Adaptation: Brette R, Gerstner W (2005) "
        "J Neurophysiol 94:3637."
    )
    DESCRIPTION = (
        "Sparse random network of excitatory and inhibitory conductance-based LIF neurons "
        "with AMPA and GABA_A synapses and adapting E cells, driven by Poisson fibres; "
        "irregular firing with gamma (30-80 Hz) oscillations in its LFP proxy."
    )
    PARAMETERS = {
        "n_E": Parameter(800, "1", "excitatory cells (reference 4000)", integer=True, minimum=1),
        "n_I": Parameter(200, "1", "inhibitory cells (reference 1000)", integer=True, minimum=1),
        "p_conn": Parameter(
            0.2, "1", "connection probability between any two cells", positive=True, maximum=1
        ),
        "n_ext": Parameter(
            800, "1", "external (thalamic) AMPA fibres per cell", integer=True, minimum=0
        ),
        "b_K": Parameter(
            3.0, "nS", "adaptation conductance added by each E spike (0: off)", minimum=0
        ),
        "tau_K": Parameter(144.0, "ms", "decay time of the adaptation conductance", positive=True),
        "dt_cell": Parameter(
            0.1,
            "ms",
            "largest time step of the cells and synapses (rounded down to divide brian.dt)",
            positive=True,
        ),
    }
    KNOBS = {
        "g_AMPA": Parameter(
            1.0, "1", "scale of all AMPA conductances, recurrent and external", minimum=0
        ),
        "g_GABA": Parameter(1.0, "1", "scale of all GABA_A conductances", minimum=0),
        "g_AMPA_E_to_I": Parameter(
            1.0, "1", "extra scale of the recurrent E->I AMPA conductance (times g_AMPA)", minimum=0
        ),
        "nu_bg": Parameter(2.5, "Hz", "background rate of each external fibre", minimum=0),
    }
    POPULATIONS = ("E", "I")
    SIZE_PARAMETERS = ("n_E", "n_I")
    BYTES_PER_SYNAPSE = 16  # measured 12.5
    OUTPUT_POPULATION = "E"
    FIELD = {"group": "E", "ampa": "I_AMPA", "gaba": "I_GABA", "g_leak_nS": 25.0}
    INPUT_DESCRIPTION = (
        "rate per external fibre (Hz), added to nu_bg on the n_ext AMPA fibres of every "
        "cell, E and I"
    )
    DRIVE = {"E": EXTERNAL_DRIVE, "I": EXTERNAL_DRIVE}
    FOLD_DRIVE = True  # nothing else runs before the cells' update and touches d, r

    @classmethod
    def estimate(cls, params: dict[str, float]) -> tuple[int, int]:
        n = int(params["n_E"]) + int(params["n_I"])
        return n, int(params["p_conn"] * n * (n - 1))  # Bernoulli p per pair, no autapses

    def build(self) -> None:
        n = {"E": int(self.params["n_E"]), "I": int(self.params["n_I"])}
        p = float(self.params["p_conn"])
        self.dt_cell = cell_step(float(self.params["dt_cell"]), b2.defaultclock.dt)
        # at brian.dt the cells keep the default clock; a finer step gets a clock of its own
        # (named: a snapshot restores by name)
        finer = self.dt_cell < b2.defaultclock.dt
        clock = b2.Clock(dt=self.dt_cell, name=f"{self.tag}_clock") if finer else None
        cells = b2.NeuronGroup(
            n["E"] + n["I"],
            EQUATIONS,
            threshold="v > V_thr",
            reset=RESET,
            refractory="t_ref",
            method="exponential_euler",
            clock=clock,
            namespace={
                "V_L": V_L,
                "V_thr": V_THR,
                "V_reset": V_RESET,
                "E_K": E_K,
                "tau_r_gaba": TAU_GABA[0],
                "tau_d_gaba": TAU_GABA[1],
                "tau_K": self.params["tau_K"] * b2.ms,
            },
            name=f"{self.tag}_cells",
        )
        cells.v = "V_reset + rand() * (V_thr - V_reset)"
        cells.E_AMPA = E_AMPA
        cells.E_GABA = E_GABA
        for knob, variable in KNOB_VARIABLES.items():
            cells.variables[variable].set_value(self.KNOBS[knob].default)
        start = 0
        for pop in self.POPULATIONS:
            tau_m, g_L, t_ref = CELL[pop]
            # named: a snapshot is restored by object name
            sub = b2.Subgroup(cells, start, start + n[pop], name=f"{self.tag}_{pop}")
            sub.C_m = tau_m * g_L
            sub.g_L = g_L
            sub.t_ref = t_ref
            tau_r, tau_d = TAU_AMPA[pop]
            sub.decay_r_ampa = np.exp(-float(self.dt_cell / tau_r))
            sub.decay_d_ampa = np.exp(-float(self.dt_cell / tau_d))
            sub.b_K = (self.params["b_K"] if pop == "E" else 0.0) * b2.nsiemens
            sub.w_ext = _kick(G_SYN[("X", pop)], pop, "ampa")
            self.populations[pop] = sub
            start += n[pop]
        add_to_state_update(cells, after=DECAY)
        self.cells = cells
        self.objects.append(cells)

        # on the cells' clock, conductances open TAU_L after the spike, as in NEST
        # (circuit.py, "Delays")
        dt_ms = float(self.dt_cell / b2.ms)
        delay = brian_delay_ms(float(TAU_L / b2.ms), dt_ms) * b2.ms
        weights = {"n_E": n["E"]}
        for pre in self.POPULATIONS:
            receptor = "ampa" if pre == "E" else "gaba"
            k_ratio = (P_REF * N_REF[pre]) / (p * n[pre])
            for post in self.POPULATIONS:
                weights[f"w_{pre}{post}"] = _kick(G_SYN[(pre, post)] * k_ratio, post, receptor)
        syn = b2.Synapses(
            cells,
            cells,
            on_pre=ON_PRE,
            delay=delay,
            namespace=weights,
            clock=clock,
            name=f"{self.tag}_syn",
        )
        syn.connect(condition="i != j", p=p)  # Bernoulli p per ordered pair, no autapses
        self.objects.append(syn)

    def drive_rates(self, input_hz: np.ndarray) -> dict[str, np.ndarray]:
        total = float(self.params["n_ext"]) * (self.knobs["nu_bg"] + input_hz)
        return {pop: total for pop in self.DRIVE}

    def apply_knob(self, name: str, value: float) -> None:
        if name == "nu_bg":
            if value < 0:
                raise ValueError(f"{self.NAME}: nu_bg must be >= 0 Hz, got {value}")
            return  # read by drive_rates from self.knobs when the next window is drawn
        self.cells.variables[KNOB_VARIABLES[name]].set_value(float(value))
