"""Cortex-basal ganglia-thalamus loop after Kumaravelu, Brocker & Grill 2016.

Reference: Kumaravelu K, Brocker DT, Grill WM (2016) A biophysical model of the cortex-basal
ganglia-thalamus network in the 6-OHDA lesioned rat model of Parkinson's disease. J Comput
Neurosci 40:207-229 (ModelDB 206207, the authors' MATLAB code; equations, parameters,
connectivity and delays below are read from it). Eight populations of ``n`` (10) cells:

- STN: Otsuka et al. 2004 single-compartment STN cell (Na, K, A-type K, L- and T-type Ca
  with a Nernst E_Ca from internal Ca, Ca-activated K, leak), no applied current;
- GPe, GPi: Rubin & Terman 2004 pallidal cell (Na, K, T-type Ca, high-threshold Ca, Ca-
  activated AHP, leak), applied current 3 uA/cm2;
- TC: Rubin & Terman 2004 thalamocortical relay cell (Na, K, T-type Ca, leak), 1.2 uA/cm2;
- D1, D2: striatal medium spiny neurons (Traub-type Na, K, leak and an M current; McCarthy
  et al. 2011 as used by KBG);
- CTX (excitatory, regular spiking) and CTXI (inhibitory, fast spiking): Izhikevich 2003
  cells, as in KBG.

Currents are densities (uA/cm2), conductances mS/cm2, C_m = 1 uF/cm2, potentials mV, time
ms, exactly as in the reference. Connections (KBG's rings; j is the postsynaptic cell, all
indices mod n): STN j <- GPe j, j+1 (GABA_A, 0.4/7.7 ms bi-exponential, 4 ms delay) and
<- CTX j, j+1 (AMPA 0.5/2.49 ms + NMDA 2/90 ms, 5.9 ms); GPe j <- STN j, j-1 (AMPA 0.4/2.5 +
NMDA 2/67 ms, 2 ms; only 20 % of GPe cells, random conductances), <- GPe j+1, j-2 (1 ms),
<- every D2 cell (5 ms); GPi j <- STN j, j-1 (1.5 ms; 50 % of GPi cells), <- GPe j+1, j-2
(3 ms), <- every D1 cell (4 ms); TC j <- GPi j (5 ms); CTX j <- TC j (5 ms) and 4 random
CTXI cells; CTXI j <- 4 random CTX cells; D2 j, D1 j <- CTX j (5.1 ms) and 4 (D2) or 3 (D1)
random MSNs of their own kind. Every delay is exact, on the cells' clock: a kernel starts
its connection's delay after the spike (multiscale/circuit.py, "Delays"); the cortical
E <-> I and MSN-MSN connections, undelayed in KBG, act after one cell step, the minimum.
Unless stated, kernels are alpha functions t exp(-t/5 ms)
scaled to the peak conductance (0.43 mS/cm2 excitatory, 0.3 inhibitory) times KBG's
per-projection factor (see ``_connections``).

Parkinsonian state (knob ``parkinsonian``, 0 healthy, 1 PD, linear in between), the three
changes of KBG's code: the M-current of the MSNs falls from 2.6 to 1.5 mS/cm2 (D2 and D1 fire
more, so GPe receives more striatal inhibition), the cortico-D1 conductance falls from 0.07
to 0.026 mS/cm2, and GPe-GPe inhibition is multiplied by 4 (0.25 -> 1 times the per-cell
random factor; increased pallido-pallidal transmission after dopamine loss, Miguelez et al.
2012). KBG change nothing else between the states (GPe-STN, STN-GPe are the same).

Departures from the reference, all deliberate:

- Integration. KBG use forward Euler at 0.01 ms. Here every variable is advanced by the
  exponential midpoint method (second-order Rush-Larsen, Perego & Veneziani 2009): gates
  and the membrane potential by their exact solution for the rates and conductances of
  the step's midpoint (v -> v_inf + (v - v_inf) exp(-G dt / C_m)), the midpoint found by
  half a step with those of the step start; kernels exactly; Ca and the Izhikevich cortical
  cells (0.04 v^2 + 5 v + 140 - u) by the explicit midpoint method. The default step is
  0.025 ms. Until this version the cells took one exponential (Rush-Larsen) Euler step,
  first order, and Ca and the Izhikevich cells forward Euler steps; checked against
  solve_ivp at rtol 1e-8 (tests/validation/test_basal_ganglia_cells_convergence.py), the
  STN cell's f-I curve was then 17 % low (0 uA/cm2: 17.3 against 20.8 Hz), the pallidal
  cell's 4.6 % and the MSN's 3.9 %; now every cell type is within 1.1 % over the currents
  the network uses. The cost is small, since the code objects, not the arithmetic, set it
  (below): 1 s of the default circuit, cython, on this project's 2-core machine under
  various loads, 3.63 -> 4.01 s, 3.76 -> 3.98 s, 5.35 -> 5.91 s (+6-10 %). Reducing the step
  instead would have cost ~5x: exponential Euler brings the STN cell within 5 % only at
  0.005 ms (-7.0 % at 0.01 ms, -3.6 % at 0.005 ms). All eight populations are one
  NeuronGroup integrated by one code block per cell type (``STEP_CODE``), with one
  Synapses object carrying every connection with its own delay: on 80 cells Brian2's cost
  is the number of code objects run per step, not the arithmetic, so this is ~10x faster
  than one group per nucleus. The cells' own clock may be finer than the framework's
  ``brian.dt`` (which must be a multiple of it); the external spike tables are then read
  once per framework step.

  Why the integrator is written out rather than a Brian2 state updater (``method=``) on
  ``Equations``: one group uses one method, and this scheme mixes three, none of which
  Brian2 offers for the whole group: its ``exponential_euler`` needs every equation linear
  in its own variable, which the Izhikevich v (v^2) and the STN Ca (Nernst log(Ca_o/Ca))
  are not; the alpha kernels are advanced by their exact solution ((s + z h) e^(-h/tau),
  with the decay factors computed once), which exponential Euler would not reproduce; and
  no Brian2 updater is the exponential midpoint method. The step code is therefore the
  model's integrator, written out per cell type next to its equations.
- Cortex. KBG's cortex receives no input but the thalamus. Here the excitatory CTX cells
  also receive the framework's afferent input: ``n_ext`` AMPA fibres per cell (alpha kernel,
  5 ms, peak ``w_ext``) at ``nu_bg`` + the connectome input (Hz per fibre). This is the only
  noise in the model (KBG's randomness is in initial conditions and conductances only, which
  is kept: ``rand`` at build time).
- MSN-MSN inhibition. KBG use a presynaptic-voltage gate, dS/dt = 2(1 + tanh(V/4))(1 - S) -
  S/13. Here a presynaptic spike opens, after no delay, an exponential (13 ms) conductance
  of 0.74 times the peak, the jump of S that the full gate gives for an isolated MSN spike
  (measured 3 ms after the spike, S-decay corrected); its saturation (1 - S) is ignored.
- STN gates d2 and r: KBG's code makes them functions of the membrane potential, not of
  internal Ca as in Otsuka et al. 2004 (``stn_d2inf(V2)``, ``stn_rinf(V2)``); kept as KBG
  ran them, since their published results come from that code.
- Stimulation. ``I_stim`` (amp, set by the framework's electrodes) is turned into a
  density by a membrane area of ``area_um2`` (1000 um2: the 0.35 mS/cm2 STN leak then gives
  an input resistance of 286 MOhm, in the range of STN neurons). KBG's DBS, 300 uA/cm2 for
  0.3 ms, is 3 nA at this area.

Output: TC, the thalamic relay population that projects back to cortex (its rate is what
the connectome sees; the circuit's cortical population is KBG's small motor cortex model).
FIELD is empty: the basal ganglia and thalamus are deep and closed-field; the scalp EEG of
the loop comes from the cortical region the circuit is coupled to.

Beta measures: ``multiscale.analysis.gpi_beta_power`` (7-35 Hz power of the GPi population
activity) and ``multiscale.analysis.per_cell_beta_power`` (KBG's own, per-cell measure).
"""

from __future__ import annotations

import re

import brian2 as b2
import numpy as np

from multiscale.circuit import Circuit, Parameter, brian_delay_ms

#: populations, in their order in the one NeuronGroup
ORDER = ("STN", "GPe", "GPi", "TC", "CTX", "CTXI", "D2", "D1")
#: cell type of each population (its integration step in STEP_CODE)
CELL_TYPE = {
    "STN": "stn",
    "GPe": "gp",
    "GPi": "gp",
    "TC": "tc",
    "CTX": "izh",
    "CTXI": "izh",
    "D2": "msn",
    "D1": "msn",
}
#: applied current (uA/cm2) by population (KBG: Iappth, Iappgpe, Iappgpi)
I_APP = {"TC": 1.2, "GPe": 3.0, "GPi": 3.0}
#: Izhikevich a, b, c (mV), d
IZH = {"CTX": (0.02, 0.2, -65.0, 8.0), "CTXI": (0.1, 0.2, -65.0, 2.0)}
#: spike detection (mV): upward crossing for the conductance cells (KBG: -10 mV),
#: the Izhikevich peak for the cortical ones
V_SPIKE = {"izh": 30.0, "other": -10.0}

# --- synaptic kernels -------------------------------------------------------------------
G_PEAK_E = 0.43  # mS/cm2, KBG gpeak (excitatory kernels)
G_PEAK_I = 0.3  # mS/cm2, KBG gpeak1 (inhibitory kernels)
TAU_ALPHA = 5.0  # ms
TAU_MSN_GABA = 13.0  # ms
MSN_GABA_JUMP = 0.74  # S jump per MSN spike of KBG's voltage-gated MSN GABA synapse
#: reversal potentials (mV) of the kernel channels
E_SYN = {"a5e": 0.0, "a5i": -85.0, "a5g": -85.0, "ba": 0.0, "bn": 0.0, "bg": -85.0, "gm": -80.0}
#: bi-exponential kernels (rise, decay) in ms by channel and postsynaptic population
BIEXP = {
    "ba": {"STN": (0.5, 2.49), "GPe": (0.4, 2.5)},  # AMPA: CTX->STN, STN->GPe
    "bn": {"STN": (2.0, 90.0), "GPe": (2.0, 67.0)},  # NMDA: CTX->STN, STN->GPe
    "bg": {"STN": (0.4, 7.7)},  # GABA_A: GPe->STN
}

# --- cell models: one integration step per cell type --------------------------------------
# Brian2 abstract code, run by each cell type on its own cells (run_regularly): the
# integrator of the module docstring written out (see there why it is not a Brian2 state
# updater). vm is the membrane potential (mV) and h_ms the step (ms) at the step start.
# With B(x) = 1/(1 + exp(x)) and C_m = 1 uF/cm2, each conductance cell type declares its
# coefficients at a state (``COEFFICIENTS``: every rate written out as the model has always
# had it):
#
#   membrane  g_tot = sum_k g_k + g_syn,   v_inf = (sum_k g_k E_k + ge_syn + i_ext)/g_tot
#   gate x    inf_x, tau_x (ms)
#   Ca        ca_rate
#
# and the step is the exponential midpoint (second-order Rush-Larsen; Perego & Veneziani
# 2009, IEEE Trans Biomed Eng 56:1291): the coefficients at the step start advance every
# variable half a step (v_h = v_inf + (vm - v_inf) exp(-h/2 g_tot), x_h = inf_x + (x -
# inf_x) exp(-h/(2 tau_x)), ca_h = ca + h/2 ca_rate), the coefficients at that midpoint
# (and the synaptic conductances half a step on, exactly) then take the whole step from
# the start: v_new = v_inf' + (vm - v_inf') exp(-h g_tot'), x = inf_x' + (x - inf_x')
# exp(-h/tau_x'), ca = ca + h ca_rate'. The midpoint code is the start code with every
# name renamed (``_midpoint``).

#: synaptic conductance (mS/cm2) and reversal-weighted conductance of all kernels at the
#: step start and half a step on (the kernels' exact decay; no spike arrives within a
#: step), and the applied + stimulation current (uA/cm2); the same for every cell type
SYNAPTIC_INPUT = """
vm = v/mV
h_ms = dt/ms
i_ext = I_stim*stim_scale + i_app
g_a5g = s_a5g*0.25*(1 + 3*pd)
g_syn = s_a5e + s_a5i + g_a5g + (d_ba - r_ba) + (d_bn - r_bn) + (d_bg - r_bg) + s_gm
ge_syn = -85*(s_a5i + g_a5g + (d_bg - r_bg)) - 80*s_gm
s_a5e_m = (s_a5e + z_a5e*0.5*h_ms)*half_alpha
s_a5i_m = (s_a5i + z_a5i*0.5*h_ms)*half_alpha
g_a5g_m = (s_a5g + z_a5g*0.5*h_ms)*half_alpha*0.25*(1 + 3*pd)
g_ba_m = d_ba*sqrt(dec_ba_d) - r_ba*sqrt(dec_ba_r)
g_bn_m = d_bn*sqrt(dec_bn_d) - r_bn*sqrt(dec_bn_r)
g_bg_m = d_bg*sqrt(dec_bg_d) - r_bg*sqrt(dec_bg_r)
s_gm_m = s_gm*half_gm
g_syn_m = s_a5e_m + s_a5i_m + g_a5g_m + g_ba_m + g_bn_m + g_bg_m + s_gm_m
ge_syn_m = -85*(s_a5i_m + g_a5g_m + g_bg_m) - 80*s_gm_m
"""

#: Rubin & Terman 2004 thalamocortical relay cell. I_L = 0.05 (v + 70);
#: I_Na = 3 m_inf^3 h (v - 50), m_inf = B(-(v + 37)/7); I_K = 5 (0.75 (1 - h))^4 (v + 75);
#: I_T = 5 p_inf^2 r v, p_inf = B(-(v + 60)/6.2). h: inf B((v + 41)/4), tau 1/(a_h + b_h);
#: r: inf B((v + 84)/4), tau 0.15 (28 + exp(-(v + 25)/10.5)).
TC_COEFFICIENTS = """
ah = 0.128*exp(-(vm + 46)/18)
bh = 4/(1 + exp(-(vm + 23)/5))
g_tot = 0.05 + 3*(1/(1 + exp(-(vm + 37)/7)))**3*x_h + 5*(0.75*(1 - x_h))**4 + 5*(1/(1 + exp(-(vm + 60)/6.2)))**2*x_r + g_syn
v_inf = (0.05*-70 + 3*(1/(1 + exp(-(vm + 37)/7)))**3*x_h*50 + 5*(0.75*(1 - x_h))**4*-75 + 5*(1/(1 + exp(-(vm + 60)/6.2)))**2*x_r*0 + ge_syn + i_ext)/g_tot
inf_h = 1/(1 + exp((vm + 41)/4))
tau_h = 1/(ah + bh)
inf_r = 1/(1 + exp((vm + 84)/4))
tau_r = 0.15*(28 + exp(-(vm + 25)/10.5))
"""  # noqa: E501

#: Otsuka et al. 2004 STN cell as in KBG. I_L = 0.35 (v + 60); I_Na = 49 m^3 h (v - 60);
#: I_K + I_A + I_AHP = (57 n^4 + 5 a^2 b + r^2) (v + 90); I_L(Ca) + I_T = g_ca (v - e_ca),
#: g_ca = 15 c^2 d1 d2 + 5 p^2 q, Nernst e_ca = RT/zF ln(Ca_o/Ca) (Ca_o 2000, RT/zF 12.84
#: mV); Ca: alpha = 1/(zF), K_Ca = 2e-3/ms. d2 and r are functions of v in KBG's code (of
#: Ca in Otsuka et al.).
STN_COEFFICIENTS = """
g_ca = 15*x_c**2*x_d1*x_d2 + 5*x_p**2*x_q
e_ca = 12.84*log(2000/ca)
ca_rate = -5.18e-6*g_ca*(vm - e_ca) - 2e-3*ca
g_tot = 0.35 + 49*x_m**3*x_h + (57*x_n**4 + 5*x_a**2*x_b + x_r**2) + g_ca + g_syn
v_inf = (0.35*-60 + 49*x_m**3*x_h*60 + (57*x_n**4 + 5*x_a**2*x_b + x_r**2)*-90 + g_ca*e_ca + ge_syn + i_ext)/g_tot
inf_m = 1/(1 + exp(-(vm + 40)/8))
tau_m = 0.2 + 3/(1 + exp((vm + 53)/0.7))
inf_h = 1/(1 + exp((vm + 45.5)/6.4))
tau_h = 24.5/(exp((vm + 50)/15) + exp(-(vm + 50)/16))
inf_n = 1/(1 + exp(-(vm + 41)/14))
tau_n = 11/(exp((vm + 40)/40) + exp(-(vm + 40)/50))
inf_a = 1/(1 + exp(-(vm + 45)/14.7))
tau_a = 1 + 1/(1 + exp((vm + 40)/0.5))
inf_b = 1/(1 + exp((vm + 90)/7.5))
tau_b = 200/(exp((vm + 60)/30) + exp(-(vm + 40)/10))
inf_c = 1/(1 + exp(-(vm + 30.6)/5))
tau_c = 45 + 10/(exp((vm + 27)/20) + exp(-(vm + 50)/15))
inf_d1 = 1/(1 + exp((vm + 60)/7.5))
tau_d1 = 400 + 500/(exp((vm + 40)/15) + exp(-(vm + 20)/20))
inf_d2 = 1/(1 + exp(clip((vm - 0.1)/0.02, -500, 500)))
tau_d2 = 130.0
inf_p = 1/(1 + exp(-(vm + 56)/6.7))
tau_p = 5 + 0.33/(exp((vm + 27)/10) + exp(-(vm + 102)/15))
inf_q = 1/(1 + exp((vm + 85)/5.8))
tau_q = 400/(exp((vm + 50)/15) + exp(-(vm + 50)/16))
inf_r = 1/(1 + exp(clip(-(vm - 0.17)/0.08, -500, 500)))
tau_r = 2.0
"""  # noqa: E501

#: Rubin & Terman 2004 pallidal cell (GPe and GPi). I_L = 0.1 (v + 65); I_K + I_AHP =
#: (30 n^4 + 10 Ca/(Ca + 10)) (v + 80); I_Na = 120 m_inf^3 h (v - 55), m_inf =
#: B(-(v + 37)/10); I_T + I_Ca = g_ca (v - 120), g_ca = 0.5 a_inf^3 r + 0.15 s_inf^2;
#: tau_n = tau/0.1, tau_h = tau/0.05; Ca: 1e-4 (-I_Ca - I_T - 15 Ca).
GP_COEFFICIENTS = """
tau = 0.05 + 0.27/(1 + exp((vm + 40)/12))
g_ca = 0.5*(1/(1 + exp(-(vm + 57)/2)))**3*x_r + 0.15*(1/(1 + exp(-(vm + 35)/2)))**2
ca_rate = 1e-4*(-g_ca*(vm - 120) - 15*ca)
g_tot = 0.1 + (30*x_n**4 + 10*ca/(ca + 10)) + 120*(1/(1 + exp(-(vm + 37)/10)))**3*x_h + g_ca + g_syn
v_inf = (0.1*-65 + (30*x_n**4 + 10*ca/(ca + 10))*-80 + 120*(1/(1 + exp(-(vm + 37)/10)))**3*x_h*55 + g_ca*120 + ge_syn + i_ext)/g_tot
inf_n = 1/(1 + exp(-(vm + 50)/14))
tau_n = tau/0.1
inf_h = 1/(1 + exp((vm + 58)/12))
tau_h = tau/0.05
inf_r = 1/(1 + exp((vm + 70)/2))
tau_r = 30.0
"""  # noqa: E501

#: Striatal medium spiny neuron (D1 and D2; Traub-type rates as in KBG, exprel avoids their
#: 0/0 points). I_L = 0.1 (v + 67); I_Na = 100 m^3 h (v - 50); I_K + I_M = (80 n^4 +
#: g_M p) (v + 100), g_M = 2.6 - 1.1 pd (the M current falls with dopamine loss); each gate
#: from its rates: inf = a/(a + b), tau = 1/(a + b).
MSN_COEFFICIENTS = """
a_m = 1.28/exprel(-(vm + 54)/4)
b_m = 1.4/exprel((vm + 27)/5)
a_h = 0.128*exp(-(vm + 50)/18)
b_h = 4/(1 + exp(-(vm + 27)/5))
a_n = 0.16/exprel(-(vm + 52)/5)
b_n = 0.5*exp(-(vm + 57)/40)
a_p = 3.209e-4*9/exprel(-(vm + 30)/9)
b_p = 3.209e-4*9/exprel((vm + 30)/9)
g_tot = 0.1 + 100*x_m**3*x_h + (80*x_n**4 + (2.6 - 1.1*pd)*x_p) + g_syn
v_inf = (0.1*-67 + 100*x_m**3*x_h*50 + (80*x_n**4 + (2.6 - 1.1*pd)*x_p)*-100 + ge_syn + i_ext)/g_tot
inf_m = a_m/(a_m + b_m)
tau_m = 1/(a_m + b_m)
inf_h = a_h/(a_h + b_h)
tau_h = 1/(a_h + b_h)
inf_n = a_n/(a_n + b_n)
tau_n = 1/(a_n + b_n)
inf_p = a_p/(a_p + b_p)
tau_p = 1/(a_p + b_p)
"""  # noqa: E501

#: coefficients and gates (x_<gate>) of each conductance cell type; Ca: ca_rate given
COEFFICIENTS = {
    "tc": (TC_COEFFICIENTS, ("h", "r")),
    "stn": (STN_COEFFICIENTS, ("m", "h", "n", "a", "b", "c", "d1", "d2", "p", "q", "r")),
    "gp": (GP_COEFFICIENTS, ("n", "h", "r")),
    "msn": (MSN_COEFFICIENTS, ("m", "h", "n", "p")),
}

_NAME = re.compile(r"\b[A-Za-z_]\w*\b")


def _midpoint(code: str, gates: tuple[str, ...]) -> str:
    """``code`` evaluated at the midpoint state: its temporaries get a suffix _m, the state
    read (vm, gates, ca) its half-step value and the synaptic conductances theirs."""
    rename = {
        line.split(" = ")[0]: line.split(" = ")[0] + "_m" for line in code.split("\n") if line
    }
    rename |= {"vm": "vm_h", "ca": "ca_h", "g_syn": "g_syn_m", "ge_syn": "ge_syn_m"}
    rename |= {f"x_{g}": f"xh_{g}" for g in gates}
    return _NAME.sub(lambda m: rename.get(m.group(0), m.group(0)), code)


def _conductance_step(code: str, gates: tuple[str, ...]) -> str:
    """The exponential-midpoint step of a conductance cell type (comment above)."""
    ca = "ca_rate" in code
    half = ["vm_h = v_inf + (vm - v_inf)*exp(-0.5*h_ms*g_tot)"]
    half += [f"xh_{g} = inf_{g} + (x_{g} - inf_{g})*exp(-0.5*h_ms/tau_{g})" for g in gates]
    half += ["ca_h = ca + 0.5*h_ms*ca_rate"] if ca else []
    full = ["v_new = v_inf_m + (vm - v_inf_m)*exp(-h_ms*g_tot_m)"]
    full += [f"x_{g} = inf_{g}_m + (x_{g} - inf_{g}_m)*exp(-h_ms/tau_{g}_m)" for g in gates]
    full += ["ca = ca + h_ms*ca_rate_m"] if ca else []
    return code + "\n".join(half) + "\n" + _midpoint(code, gates) + "\n".join(full) + "\n"


#: Izhikevich 2003 cortical cell (CTX, CTXI), the explicit midpoint method; the synaptic
#: current is conductance-based as in KBG (reset in RESET)
IZH_STEP = """
v_h = vm + 0.5*h_ms*(0.04*vm**2 + 5*vm + 140 - u - (g_syn*vm - ge_syn) + i_ext)
u_h = u + 0.5*h_ms*izh_a*(izh_b*vm - u)
v_new = vm + h_ms*(0.04*v_h**2 + 5*v_h + 140 - u_h - (g_syn_m*v_h - ge_syn_m) + i_ext)
u = u + h_ms*izh_a*(izh_b*v_h - u_h)
"""

#: the kernels' exact decay over the step (alpha kernels: a z -> s cascade with a common
#: time constant; bi-exponential kernels: d - r), then the new membrane potential
KERNEL_DECAY = """
s_a5e = (s_a5e + z_a5e*h_ms)*decay_alpha
z_a5e = z_a5e*decay_alpha
s_a5i = (s_a5i + z_a5i*h_ms)*decay_alpha
z_a5i = z_a5i*decay_alpha
s_a5g = (s_a5g + z_a5g*h_ms)*decay_alpha
z_a5g = z_a5g*decay_alpha
s_gm = s_gm*decay_gm
d_ba = d_ba*dec_ba_d
r_ba = r_ba*dec_ba_r
d_bn = d_bn*dec_bn_d
r_bn = r_bn*dec_bn_r
d_bg = d_bg*dec_bg_d
r_bg = r_bg*dec_bg_r
v = v_new*mV
"""

#: one integration step of the cells of each type
STEP_CODE = {
    kind: SYNAPTIC_INPUT + cell + KERNEL_DECAY
    for kind, cell in {
        **{kind: _conductance_step(code, gates) for kind, (code, gates) in COEFFICIENTS.items()},
        "izh": IZH_STEP,
    }.items()
}


# --- initial gates: steady state at the initial membrane potential vm (mV) -----------------
# The same formulas as inf_x in the step code above (tests/test_basal_ganglia.py checks that
# they agree to the bit).
def _boltzmann(x):
    return 1 / (1 + np.exp(x))


def tc_gates_inf(vm):
    """Steady state of the TC cell's gates (Rubin & Terman 2004)."""
    return {"h": _boltzmann((vm + 41) / 4), "r": _boltzmann((vm + 84) / 4)}


def stn_gates_inf(vm):
    """Steady state of the STN cell's gates (Otsuka et al. 2004; d2, r of v as in KBG)."""
    return {
        "m": _boltzmann(-(vm + 40) / 8),
        "h": _boltzmann((vm + 45.5) / 6.4),
        "n": _boltzmann(-(vm + 41) / 14),
        "a": _boltzmann(-(vm + 45) / 14.7),
        "b": _boltzmann((vm + 90) / 7.5),
        "c": _boltzmann(-(vm + 30.6) / 5),
        "d1": _boltzmann((vm + 60) / 7.5),
        "d2": _boltzmann(np.clip((vm - 0.1) / 0.02, -500, 500)),
        "p": _boltzmann(-(vm + 56) / 6.7),
        "q": _boltzmann((vm + 85) / 5.8),
        "r": _boltzmann(np.clip(-(vm - 0.17) / 0.08, -500, 500)),
    }


def gp_gates_inf(vm):
    """Steady state of the pallidal (GPe, GPi) cell's gates (Rubin & Terman 2004)."""
    return {
        "n": _boltzmann(-(vm + 50) / 14),
        "h": _boltzmann((vm + 58) / 12),
        "r": _boltzmann((vm + 70) / 2),
    }


def msn_gates_inf(vm):
    """Steady state a/(a + b) of the MSN's gates from their rates (1/ms)."""
    rates = {
        "m": (1.28 / _exprel(-(vm + 54) / 4), 1.4 / _exprel((vm + 27) / 5)),
        "h": (0.128 * np.exp(-(vm + 50) / 18), 4 / (1 + np.exp(-(vm + 27) / 5))),
        "n": (0.16 / _exprel(-(vm + 52) / 5), 0.5 * np.exp(-(vm + 57) / 40)),
        "p": (3.209e-4 * 9 / _exprel(-(vm + 30) / 9), 3.209e-4 * 9 / _exprel((vm + 30) / 9)),
    }
    return {gate: a / (a + b) for gate, (a, b) in rates.items()}


def _exprel(x):
    """(exp(x) - 1)/x, 1 at x = 0 (Brian2's exprel, for the initial gates)."""
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0.0, 1.0, x)
    return np.where(x == 0.0, 1.0, np.expm1(safe) / safe)


#: steady state of the gates of each conductance-based cell type
GATES_INF = {"tc": tc_gates_inf, "stn": stn_gates_inf, "gp": gp_gates_inf, "msn": msn_gates_inf}
#: every gate variable (x_<name> in the NeuronGroup), in their order of declaration
GATE_NAMES = ("h", "r", "m", "n", "a", "b", "c", "d1", "d2", "p", "q")

EQUATIONS = """
v : volt
u : 1
ca : 1
I_stim : amp
i_app : 1 (constant)
v_spike : volt (constant)
izh_a : 1 (constant)
izh_b : 1 (constant)
izh_c : 1 (constant)
izh_d : 1 (constant)
is_izh : 1 (constant)
pd : 1 (shared)
x_h : 1
x_r : 1
x_m : 1
x_n : 1
x_a : 1
x_b : 1
x_c : 1
x_d1 : 1
x_d2 : 1
x_p : 1
x_q : 1
s_a5e : 1
z_a5e : 1
s_a5i : 1
z_a5i : 1
s_a5g : 1
z_a5g : 1
s_gm : 1
d_ba : 1
r_ba : 1
d_bn : 1
r_bn : 1
d_bg : 1
r_bg : 1
dec_ba_d : 1 (constant)
dec_ba_r : 1 (constant)
dec_bn_d : 1 (constant)
dec_bn_r : 1 (constant)
dec_bg_d : 1 (constant)
dec_bg_r : 1 (constant)
"""

RESET = """
v = is_izh*izh_c*mV + (1 - is_izh)*v
u = u + is_izh*izh_d
"""

#: per-synapse kicks, one per kernel channel (most are zero for a given synapse)
WEIGHTS = ("a5e", "a5e_pd", "a5i", "a5g", "ba", "bn", "bg", "gm")
ON_PRE = """
z_a5e_post += w_a5e + w_a5e_pd*pd_post
z_a5i_post += w_a5i
z_a5g_post += w_a5g
d_ba_post += w_ba
r_ba_post += w_ba
d_bn_post += w_bn
r_bn_post += w_bn
d_bg_post += w_bg
r_bg_post += w_bg
s_gm_post += w_gm
"""

#: external (cortical afferent) spikes onto CTX: an AMPA alpha kernel like the thalamic
#: one (on the cells' finer clock, the framework delivers a step's events on its first
#: sub-step only)
EXTERNAL_DRIVE = "z_a5e += kick_ext*n_events"


def _alpha_kick(peak: float) -> float:
    """Jump of z for an alpha kernel (t/tau) exp(1 - t/tau) of the given peak."""
    return peak * np.e / TAU_ALPHA


def _biexp_kick(peak: float, rise: float, decay: float) -> float:
    """Jump of d and r for a bi-exponential kernel of the given peak (KBG's normalisation)."""
    t_peak = decay * rise / (decay - rise) * np.log(decay / rise)
    return peak / (np.exp(-t_peak / decay) - np.exp(-t_peak / rise))


class BasalGanglia(Circuit):
    """Kumaravelu-Brocker-Grill cortex-basal ganglia-thalamus network with STN-DBS."""

    NAME = "basal_ganglia"
    CITATION = (
        "Kumaravelu K, Brocker DT, Grill WM (2016) A biophysical model of the cortex-basal "
        "ganglia-thalamus network in the 6-OHDA lesioned rat model of Parkinson's disease. "
        "J Comput Neurosci 40:207-229. doi:10.1007/s10827-016-0593-9 (ModelDB 206207). "
        "Cells: Otsuka T, Abe T, Tsukagawa T, Song WJ (2004) J Neurophysiol 92:255 (STN); "
        "Rubin JE, Terman D (2004) J Comput Neurosci 16:211 (GPe, GPi, TC); McCarthy MM et al. "
        "(2011) PNAS 108:11620 (MSN); Izhikevich EM (2003) IEEE Trans Neural Netw 14:1569."
    )
    DESCRIPTION = (
        "Conductance-based STN, GPe, GPi, thalamic (TC), striatal D1/D2 and Izhikevich "
        "cortical cells in the Kumaravelu et al. 2016 loop; a parkinsonian knob switches on "
        "the published dopamine-loss changes (GPi beta-band bursting), an electrode in STN "
        "gives DBS."
    )
    PARAMETERS = {
        "n": Parameter(10, "1", "cells per population (KBG: 10)", integer=True, minimum=3),
        "n_ext": Parameter(
            100,
            "1",
            "external (cortical afferent) AMPA fibres per CTX cell",
            integer=True,
            minimum=0,
        ),
        "w_ext": Parameter(
            0.01, "mS/cm2", "peak conductance of one external AMPA event", minimum=0
        ),
        "area_um2": Parameter(
            1000.0, "um2", "membrane area turning I_stim into a current density", positive=True
        ),
        "cell_dt": Parameter(
            0.025, "ms", "integration step of the cells (brian.dt if that is finer)", positive=True
        ),
    }
    KNOBS = {
        "parkinsonian": Parameter(
            0.0, "1", "dopamine loss: 0 healthy, 1 parkinsonian (KBG)", minimum=0, maximum=1
        ),
        "nu_bg": Parameter(5.0, "Hz", "background rate of each external fibre onto CTX", minimum=0),
    }
    POPULATIONS = ORDER
    SIZE_PARAMETERS = ("n",)  # times 8 populations, see n_neurons
    BYTES_PER_SYNAPSE = 128  # ten constant weights and a delay each
    OUTPUT_POPULATION = "TC"
    FIELD = {}
    INPUT_DESCRIPTION = (
        "rate per afferent fibre (Hz) onto the excitatory cortical cells (CTX), added to "
        "nu_bg on their n_ext AMPA fibres; reaches STN (hyperdirect) and striatum through them"
    )
    DRIVE = {"CTX": EXTERNAL_DRIVE}

    @classmethod
    def estimate(cls, params: dict[str, float]) -> tuple[int, int]:
        n = int(params["n"])
        return cls.n_neurons(params), 2 * n * n + 31 * n  # counted from _connections

    @classmethod
    def n_neurons(cls, parameters: dict[str, float] | None = None) -> int:
        values = {k: p.default for k, p in cls.PARAMETERS.items()} | dict(parameters or {})
        return int(values["n"]) * len(ORDER)

    def build(self) -> None:
        n = int(self.params["n"])
        if n < 3:
            raise ValueError(f"{self.NAME}: n must be >= 3 (ring connectivity), got {n}")
        frame_dt = b2.defaultclock.dt
        cell_dt = min(float(self.params["cell_dt"]) * b2.ms, frame_dt)
        ratio = float(frame_dt / cell_dt)
        if abs(ratio - round(ratio)) > 1e-6:
            raise ValueError(
                f"{self.NAME}: brian.dt ({frame_dt}) must be a multiple of cell_dt ({cell_dt})"
            )
        h = float(cell_dt / b2.ms)
        offset = {pop: k * n for k, pop in enumerate(ORDER)}
        total = n * len(ORDER)
        area_cm2 = float(self.params["area_um2"]) * 1e-8
        namespace = {
            "stim_scale": 1.0 / (area_cm2 * b2.uamp),  # amp -> uA/cm2
            "decay_alpha": np.exp(-h / TAU_ALPHA),
            "decay_gm": np.exp(-h / TAU_MSN_GABA),
            "half_alpha": np.exp(-0.5 * h / TAU_ALPHA),
            "half_gm": np.exp(-0.5 * h / TAU_MSN_GABA),
            "kick_ext": _alpha_kick(float(self.params["w_ext"])),
        }
        clock = b2.Clock(dt=cell_dt, name=f"{self.tag}_clock")  # named: see below
        group = b2.NeuronGroup(
            total,
            EQUATIONS,
            threshold="v > v_spike",
            refractory="v > v_spike",
            reset=RESET,
            namespace=namespace,
            clock=clock,
            name=f"{self.tag}_cells",
        )
        self._init_cells(group, n, offset, h)
        # named subgroups: generated code names them, and a stable name keeps the compiled
        # code cached from one build to the next
        self.populations = {
            pop: b2.Subgroup(group, offset[pop], offset[pop] + n, name=f"{self.tag}_{pop}")
            for pop in ORDER
        }
        # one integration block per cell type, on its (contiguous) cells only
        for kind in dict.fromkeys(CELL_TYPE.values()):
            pops = [pop for pop in ORDER if CELL_TYPE[pop] == kind]
            first = min(offset[pop] for pop in pops)
            cells = b2.Subgroup(
                group, first, first + n * len(pops), name=f"{self.tag}_{kind}_cells"
            )
            self.objects.append(
                cells.run_regularly(STEP_CODE[kind], when="groups", name=f"{self.tag}_{kind}")
            )
        self.objects.append(group)

        syn = b2.Synapses(
            group,
            group,
            model="".join(f"w_{w} : 1 (constant)\n" for w in WEIGHTS),
            on_pre=ON_PRE,
            clock=clock,
            name=f"{self.tag}_synapses",
        )
        pre, post, delay, weights = self._connections(n, offset)
        syn.connect(i=pre, j=post)
        # each kernel starts its connection's delay after the spike, on the cells' clock,
        # as in NEST; KBG's undelayed connections get the minimum, one step (circuit.py, "Delays")
        syn.delay = brian_delay_ms(delay, h) * b2.ms
        for w in WEIGHTS:
            getattr(syn, f"w_{w}")[:] = weights[w]
        self.objects.append(syn)
        self._group = group

    def _init_cells(self, group: b2.NeuronGroup, n: int, offset: dict, h: float) -> None:
        """Per-cell constants and KBG's initial state: v ~ N(-62, 5) mV (MSN N(-63.8, 5)),
        gates at their steady state, Ca 0.005 (STN) / 0.1 (pallidum); Izhikevich cells at
        rest (v = c, u = b c)."""
        total = len(group)
        i_app, v_spike, is_izh = np.zeros(total), np.zeros(total), np.zeros(total)
        izh = {k: np.zeros(total) for k in "abcd"}
        v0, ca0 = np.zeros(total), np.full(total, 0.005)
        gates = {g: np.zeros(total) for g in GATE_NAMES}
        for pop in ORDER:
            sl = slice(offset[pop], offset[pop] + n)
            kind = CELL_TYPE[pop]
            i_app[sl] = I_APP.get(pop, 0.0)
            if kind == "izh":
                is_izh[sl] = 1.0
                v_spike[sl] = V_SPIKE["izh"]
                for key, value in zip("abcd", IZH[pop], strict=True):
                    izh[key][sl] = value
                v0[sl] = IZH[pop][2]
                continue
            v_spike[sl] = V_SPIKE["other"]
            v0[sl] = (-63.8 if kind == "msn" else -62.0) + 5.0 * np.random.randn(n)
            if kind == "gp":
                ca0[sl] = 0.1
            # gates at their steady state for the initial voltage
            for gate, value in GATES_INF[kind](v0[sl]).items():
                gates[gate][sl] = value
        group.is_izh = is_izh
        group.i_app = i_app
        group.v_spike = v_spike * b2.mV
        for key in "abcd":
            setattr(group, f"izh_{key}", izh[key])
        group.v = v0 * b2.mV
        group.u = izh["b"] * v0
        group.ca = ca0
        for gate, value in gates.items():
            setattr(group, f"x_{gate}", value)
        group.pd = self.KNOBS["parkinsonian"].default
        # bi-exponential decay factors of the postsynaptic cells
        for ch, by_pop in BIEXP.items():
            dec_d, dec_r = np.ones(total), np.ones(total)
            for pop, (rise, decay) in by_pop.items():
                sl = slice(offset[pop], offset[pop] + n)
                dec_d[sl], dec_r[sl] = np.exp(-h / decay), np.exp(-h / rise)
            setattr(group, f"dec_{ch}_d", dec_d)
            setattr(group, f"dec_{ch}_r", dec_r)

    def _connections(self, n: int, offset: dict):
        """KBG's connectivity: presynaptic and postsynaptic cell indices, delays (ms) and
        the kick of every kernel channel, one entry per synapse."""
        rng = np.random  # seeded per circuit by the framework (b2.seed) before build()
        pre, post, delay = [], [], []
        weights = {w: [] for w in WEIGHTS}
        j = np.arange(n)

        def add(src, i_src, dst, j_dst, d_ms, **kicks):
            i_src, j_dst = np.asarray(i_src) % n, np.asarray(j_dst) % n
            pre.extend(offset[src] + i_src)
            post.extend(offset[dst] + j_dst)
            delay.extend([d_ms] * len(i_src))
            for w in WEIGHTS:
                value = np.broadcast_to(np.asarray(kicks.get(w, 0.0), dtype=float), i_src.shape)
                weights[w].extend(value)

        def few(fraction, values):
            """Conductance factors nonzero in a random fraction of the cells."""
            g = np.zeros(n)
            chosen = rng.permutation(n)[: int(round(fraction * n))]
            g[chosen] = values(len(chosen))
            return g

        # random per-cell conductance factors (KBG)
        g_cor_stn_ampa = 0.3 * rng.rand(n)
        g_cor_stn_nmda = 0.003 * rng.rand(n)
        g_cor_d1 = 0.07 + 0.001 * rng.rand(n)  # minus 0.044 in the parkinsonian state
        g_gpe_gpe = rng.rand(n)  # times 0.25 (1 + 3 pd), applied in the step code
        g_stn_gpe_nmda = few(0.2, lambda k: 0.002 * rng.rand(k))
        g_stn_gpe_ampa = few(0.2, lambda k: 0.3 * rng.rand(k))
        g_stn_gpi = few(0.5, lambda k: np.full(k, 0.15))

        def bi(ch, post_pop, peak):
            return _biexp_kick(peak, *BIEXP[ch][post_pop])

        a_e, a_i = _alpha_kick(G_PEAK_E), _alpha_kick(G_PEAK_I)
        for shift in (0, 1):  # STN j <- CTX j, j+1 (AMPA + NMDA); <- GPe j, j+1 (GABA_A)
            add(
                "CTX",
                j + shift,
                "STN",
                j,
                5.9,
                ba=g_cor_stn_ampa * bi("ba", "STN", G_PEAK_E),
                bn=g_cor_stn_nmda * bi("bn", "STN", G_PEAK_E),
            )
            add("GPe", j + shift, "STN", j, 4.0, bg=0.5 * bi("bg", "STN", G_PEAK_I))
        for shift in (0, -1):  # GPe j <- STN j, j-1; GPi j <- STN j, j-1
            add(
                "STN",
                j + shift,
                "GPe",
                j,
                2.0,
                ba=g_stn_gpe_ampa * bi("ba", "GPe", G_PEAK_E),
                bn=g_stn_gpe_nmda * bi("bn", "GPe", G_PEAK_E),
            )
            add("STN", j + shift, "GPi", j, 1.5, a5e=g_stn_gpi * a_e)
        for shift in (1, -2):  # GPe j <- GPe j+1, j-2; GPi j <- GPe j+1, j-2
            add("GPe", j + shift, "GPe", j, 1.0, a5g=g_gpe_gpe * a_i)
            add("GPe", j + shift, "GPi", j, 3.0, a5i=0.5 * a_i)
        for k in range(n):  # striatum -> pallidum, all to all
            add("D2", np.full(n, k), "GPe", j, 5.0, a5i=0.5 * a_i)
            add("D1", np.full(n, k), "GPi", j, 4.0, a5i=0.5 * a_i)
        add("GPi", j, "TC", j, 5.0, a5i=0.112 * a_i)
        add("TC", j, "CTX", j, 5.0, a5e=0.15 * a_e)
        add("CTX", j, "D2", j, 5.1, a5e=0.07 * a_e)
        add("CTX", j, "D1", j, 5.1, a5e=g_cor_d1 * a_e, a5e_pd=-0.044 * a_e)
        # cortex E <-> I and MSN collaterals: random permutations (KBG), no delay
        for _ in range(4):
            add("CTXI", rng.permutation(n), "CTX", j, 0.0, a5i=0.2 * a_e)
            add("CTX", rng.permutation(n), "CTXI", j, 0.0, a5e=0.1 * a_e)
            add("D2", rng.permutation(n), "D2", j, 0.0, gm=0.1 / 4 * MSN_GABA_JUMP)
        for _ in range(3):
            add("D1", rng.permutation(n), "D1", j, 0.0, gm=0.1 / 3 * MSN_GABA_JUMP)
        return (
            np.asarray(pre),
            np.asarray(post),
            np.asarray(delay),
            {w: np.asarray(v) for w, v in weights.items()},
        )

    def drive_rates(self, input_hz: np.ndarray) -> dict[str, np.ndarray]:
        return {"CTX": float(self.params["n_ext"]) * (self.knobs["nu_bg"] + input_hz)}

    def apply_knob(self, name: str, value: float) -> None:
        if name == "nu_bg":
            if value < 0:
                raise ValueError(f"{self.NAME}: nu_bg must be >= 0 Hz, got {value}")
            return  # read by drive_rates when the next window is drawn
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{self.NAME}: parkinsonian must be in [0, 1], got {value}")
        self._group.variables["pd"].set_value(float(value))
