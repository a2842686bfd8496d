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
random MSNs of their own kind. Unless stated, kernels are alpha functions t exp(-t/5 ms)
scaled to the peak conductance (0.43 mS/cm2 excitatory, 0.3 inhibitory) times KBG's
per-projection factor (see ``_connections``).

Parkinsonian state (knob ``parkinsonian``, 0 healthy, 1 PD, linear in between), the three
changes of KBG's code: the M-current of the MSNs falls from 2.6 to 1.5 mS/cm2 (D2 and D1 fire
more, so GPe receives more striatal inhibition), the cortico-D1 conductance falls from 0.07
to 0.026 mS/cm2, and GPe-GPe inhibition is multiplied by 4 (0.25 -> 1 times the per-cell
random factor; increased pallido-pallidal transmission after dopamine loss, Miguelez et al.
2012). KBG change nothing else between the states (GPe-STN, STN-GPe are the same).

Departures from the reference, all deliberate:

- Integration. KBG use forward Euler at 0.01 ms. Here every variable is advanced by
  exponential (Rush-Larsen) Euler: gates and kernels exactly for the voltage of the step
  start, the membrane potential exactly for its conductances at the step start
  (v -> v_inf + (v - v_inf) exp(-G dt / C_m)). This is stable at any step; the default step
  is 0.025 ms (firing rates within a few % of 0.01 ms). The Izhikevich cortical cells keep
  forward Euler (0.04 v^2 + 5 v + 140 - u, stable at these steps). All eight populations
  are one NeuronGroup integrated by one code block, with one Synapses object carrying every
  connection with its own delay: on 80 cells Brian2's cost is the number of code objects
  run per step, not the arithmetic, so this is ~10x faster than one group per nucleus.
  The cells' own clock may be finer than the framework's ``brian.dt`` (which must be a
  multiple of it); the external spike tables are then read once per framework step.
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

Beta measures (``gpi_beta_power``, ``per_cell_beta_power``): the 7-35 Hz power of GPi
activity, KBG's marker of the parkinsonian state. ``gpi_beta_power`` uses the population
activity (all GPi spikes in 1 ms bins, as a rate per cell), the synchronised part an LFP or
multi-unit electrode sees; ``per_cell_beta_power`` is KBG's own measure (each cell's spike
train, averaged spectra), in which, with 10 cells, each train's own rate-dependent floor
weighs as much as the oscillation shared by the cells.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np

from multiscale.circuit import Circuit, Parameter

#: populations, in their order in the one NeuronGroup
ORDER = ("STN", "GPe", "GPi", "TC", "CTX", "CTXI", "D2", "D1")
#: cell type of each population (its block of code in CELLS, or Izhikevich)
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

# --- cell models -------------------------------------------------------------------------
# vm is the membrane potential in mV, h_ms the step in ms. Every cell type is advanced by
# its own block of code (run on its cells only): steady state and time constant (ms) of each
# gate, and the membrane currents as (conductance mS/cm2, reversal mV) pairs evaluated with
# the gates at the start of the step; instantaneous activations are written out.
_B = "1/(1 + exp({}))"  # Boltzmann


def _msn_rates(gate: str) -> tuple[str, str]:
    """Steady state and time constant of an MSN gate from its alpha/beta rates (1/ms)."""
    return f"a_{gate}/(a_{gate} + b_{gate})", f"1/(a_{gate} + b_{gate})"


CELLS = {
    "tc": {  # Rubin & Terman 2004
        "aux": """
ah = 0.128*exp(-(vm + 46)/18)
bh = 4/(1 + exp(-(vm + 23)/5))
""",
        "gates": {
            "h": (_B.format("(vm + 41)/4"), "1/(ah + bh)"),
            "r": (_B.format("(vm + 84)/4"), "0.15*(28 + exp(-(vm + 25)/10.5))"),
        },
        "currents": [
            ("0.05", "-70"),
            ("3*(1/(1 + exp(-(vm + 37)/7)))**3*x_h", "50"),
            ("5*(0.75*(1 - x_h))**4", "-75"),
            ("5*(1/(1 + exp(-(vm + 60)/6.2)))**2*x_r", "0"),
        ],
    },
    "stn": {  # Otsuka et al. 2004 as in KBG; Ca: alpha = 1/(zF), K_Ca = 2e-3/ms,
        # Nernst E_Ca with Ca_o = 2000 and RT/zF = 12.84 mV
        "aux": """
g_ca = 15*x_c**2*x_d1*x_d2 + 5*x_p**2*x_q
e_ca = 12.84*log(2000/ca)
ca_rate = -5.18e-6*g_ca*(vm - e_ca) - 2e-3*ca
""",
        "gates": {
            "m": (_B.format("-(vm + 40)/8"), "0.2 + 3/(1 + exp((vm + 53)/0.7))"),
            "h": (
                _B.format("(vm + 45.5)/6.4"),
                "24.5/(exp((vm + 50)/15) + exp(-(vm + 50)/16))",
            ),
            "n": (
                _B.format("-(vm + 41)/14"),
                "11/(exp((vm + 40)/40) + exp(-(vm + 40)/50))",
            ),
            "a": (_B.format("-(vm + 45)/14.7"), "1 + 1/(1 + exp((vm + 40)/0.5))"),
            "b": (
                _B.format("(vm + 90)/7.5"),
                "200/(exp((vm + 60)/30) + exp(-(vm + 40)/10))",
            ),
            "c": (
                _B.format("-(vm + 30.6)/5"),
                "45 + 10/(exp((vm + 27)/20) + exp(-(vm + 50)/15))",
            ),
            "d1": (
                _B.format("(vm + 60)/7.5"),
                "400 + 500/(exp((vm + 40)/15) + exp(-(vm + 20)/20))",
            ),
            # d2 and r: functions of v in KBG's code (of Ca in Otsuka et al.)
            "d2": (_B.format("clip((vm - 0.1)/0.02, -500, 500)"), "130"),
            "p": (
                _B.format("-(vm + 56)/6.7"),
                "5 + 0.33/(exp((vm + 27)/10) + exp(-(vm + 102)/15))",
            ),
            "q": (
                _B.format("(vm + 85)/5.8"),
                "400/(exp((vm + 50)/15) + exp(-(vm + 50)/16))",
            ),
            "r": (_B.format("clip(-(vm - 0.17)/0.08, -500, 500)"), "2"),
        },
        "currents": [
            ("0.35", "-60"),
            ("49*x_m**3*x_h", "60"),
            ("57*x_n**4 + 5*x_a**2*x_b + x_r**2", "-90"),
            ("g_ca", "e_ca"),
        ],
    },
    "gp": {  # Rubin & Terman 2004, GPe and GPi; Ca: 1e-4 (-I_Ca - I_T - 15 Ca)
        "aux": """
tau = 0.05 + 0.27/(1 + exp((vm + 40)/12))
g_ca = 0.5*(1/(1 + exp(-(vm + 57)/2)))**3*x_r + 0.15*(1/(1 + exp(-(vm + 35)/2)))**2
ca_rate = 1e-4*(-g_ca*(vm - 120) - 15*ca)
""",
        "gates": {
            "n": (_B.format("-(vm + 50)/14"), "tau/0.1"),
            "h": (_B.format("(vm + 58)/12"), "tau/0.05"),
            "r": (_B.format("(vm + 70)/2"), "30"),
        },
        "currents": [
            ("0.1", "-65"),
            ("30*x_n**4 + 10*ca/(ca + 10)", "-80"),
            ("120*(1/(1 + exp(-(vm + 37)/10)))**3*x_h", "55"),
            ("g_ca", "120"),
        ],
    },
    "msn": {  # Traub-type rates, as in KBG (exprel avoids their 0/0 points)
        "aux": """
a_m = 1.28/exprel(-(vm + 54)/4)
b_m = 1.4/exprel((vm + 27)/5)
a_h = 0.128*exp(-(vm + 50)/18)
b_h = 4/(1 + exp(-(vm + 27)/5))
a_n = 0.16/exprel(-(vm + 52)/5)
b_n = 0.5*exp(-(vm + 57)/40)
a_p = 3.209e-4*9/exprel(-(vm + 30)/9)
b_p = 3.209e-4*9/exprel((vm + 30)/9)
""",
        "gates": {g: _msn_rates(g) for g in ("m", "h", "n", "p")},
        "currents": [
            ("0.1", "-67"),
            ("100*x_m**3*x_h", "50"),
            ("80*x_n**4 + (2.6 - 1.1*pd)*x_p", "-100"),  # M current falls with dopamine
        ],
    },
}
GATE_NAMES = tuple(dict.fromkeys(g for cell in CELLS.values() for g in cell["gates"]))

_PROLOGUE = """
vm = v/mV
h_ms = dt/ms
i_ext = I_stim*stim_scale + i_app
g_a5g = s_a5g*0.25*(1 + 3*pd)
g_syn = s_a5e + s_a5i + g_a5g + (d_ba - r_ba) + (d_bn - r_bn) + (d_bg - r_bg) + s_gm
ge_syn = -85*(s_a5i + g_a5g + (d_bg - r_bg)) - 80*s_gm
"""
# kernels: exact decay (alpha: z -> s cascade with a common time constant)
_EPILOGUE = """
s_a5e = (s_a5e + z_a5e*h_ms)*decay_alpha
z_a5e = z_a5e*decay_alpha
s_a5i = (s_a5i + z_a5i*h_ms)*decay_alpha
z_a5i = z_a5i*decay_alpha
s_a5g = (s_a5g + z_a5g*h_ms)*decay_alpha
z_a5g = z_a5g*decay_alpha
s_gm = s_gm*decay_gm
""" + "".join(f"d_{ch} = d_{ch}*dec_{ch}_d\nr_{ch} = r_{ch}*dec_{ch}_r\n" for ch in BIEXP)
# note: E_SYN holds these reversals (0 for a5e, ba, bn)


def step_code(kind: str) -> str:
    """Abstract code of one integration step of the cells of one type."""
    lines = _PROLOGUE.strip().splitlines()
    if kind == "izh":  # forward Euler, synaptic current conductance-based as in KBG
        lines += [
            "v_new = vm + h_ms*(0.04*vm**2 + 5*vm + 140 - u - (g_syn*vm - ge_syn) + i_ext)",
            "u = u + h_ms*izh_a*(izh_b*vm - u)",
        ]
    else:  # exponential Euler for v, Rush-Larsen for the gates, Euler for Ca
        cell = CELLS[kind]
        lines += cell["aux"].strip().splitlines()
        terms = cell["currents"]
        lines.append("g_tot = " + " + ".join(f"({g})" for g, _ in terms) + " + g_syn")
        lines.append(
            "v_inf = (" + " + ".join(f"({g})*({e})" for g, e in terms) + " + ge_syn + i_ext)/g_tot"
        )
        lines.append("v_new = v_inf + (vm - v_inf)*exp(-h_ms*g_tot)")
        for gate, (x_inf, x_tau) in cell["gates"].items():
            lines.append(f"inf_{gate} = {x_inf}")
            lines.append(f"x_{gate} = inf_{gate} + (x_{gate} - inf_{gate})*exp(-h_ms/({x_tau}))")
        if "ca_rate" in cell["aux"]:
            lines.append("ca = ca + h_ms*ca_rate")
    lines += _EPILOGUE.strip().splitlines()
    lines.append("v = v_new*mV")
    return "\n".join(lines)


EQUATIONS = (
    """
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
"""
    + "".join(f"x_{g} : 1\n" for g in GATE_NAMES)
    + "".join(f"{s}_{ch} : 1\n" for ch in ("a5e", "a5i", "a5g") for s in ("s", "z"))
    + "s_gm : 1\n"
    + "".join(f"{s}_{ch} : 1\n" for ch in BIEXP for s in ("d", "r"))
    + "".join(f"dec_{ch}_{s} : 1 (constant)\n" for ch in BIEXP for s in ("d", "r"))
)

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
#: one; read once per framework step when the cells run on a finer clock
EXTERNAL_DRIVE = "z_a5e += kick_ext*n_events*int(((t + 0.5*dt) % drive_dt) < dt)"


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
            "kick_ext": _alpha_kick(float(self.params["w_ext"])),
            "drive_dt": frame_dt,
        }
        clock = b2.Clock(dt=cell_dt, name=f"{self.name}_clock")  # named: see below
        group = b2.NeuronGroup(
            total,
            EQUATIONS,
            threshold="v > v_spike",
            refractory="v > v_spike",
            reset=RESET,
            namespace=namespace,
            clock=clock,
            name=f"{self.name}_cells",
        )
        self._init_cells(group, n, offset, h)
        # named subgroups: generated code names them, and a stable name keeps the compiled
        # code cached from one build to the next
        self.populations = {
            pop: b2.Subgroup(group, offset[pop], offset[pop] + n, name=f"{self.name}_{pop}")
            for pop in ORDER
        }
        # one integration block per cell type, on its (contiguous) cells only
        for kind in dict.fromkeys(CELL_TYPE.values()):
            pops = [pop for pop in ORDER if CELL_TYPE[pop] == kind]
            first = min(offset[pop] for pop in pops)
            cells = b2.Subgroup(
                group, first, first + n * len(pops), name=f"{self.name}_{kind}_cells"
            )
            self.objects.append(
                cells.run_regularly(step_code(kind), when="groups", name=f"{self.name}_{kind}")
            )
        self.objects.append(group)

        syn = b2.Synapses(
            group,
            group,
            model="".join(f"w_{w} : 1 (constant)\n" for w in WEIGHTS),
            on_pre=ON_PRE,
            clock=clock,
            name=f"{self.name}_synapses",
        )
        pre, post, delay, weights = self._connections(n, offset)
        syn.connect(i=pre, j=post)
        syn.delay = delay * b2.ms
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
            # gates at steady state for the initial voltage, from the same formulas
            env = {"vm": v0[sl], "exp": np.exp, "clip": np.clip, "exprel": _exprel}
            for line in CELLS[kind]["aux"].strip().splitlines():
                name, expr = line.split(" = ", 1)
                if "x_" not in expr and "ca" not in expr:
                    env[name] = eval(expr, {}, env)  # noqa: S307 (our own formulas)
            for gate, (x_inf, _) in CELLS[kind]["gates"].items():
                gates[gate][sl] = eval(x_inf, {}, env)  # noqa: S307
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


BETA_BAND_HZ = (7.0, 35.0)


def _binned(times_ms, start_ms: float, stop_ms: float, bin_ms: float = 1.0) -> np.ndarray:
    edges = start_ms + bin_ms * np.arange(int(round((stop_ms - start_ms) / bin_ms)) + 1)
    return np.histogram(np.asarray(times_ms, dtype=float), bins=edges)[0].astype(float)


def gpi_beta_power(
    times_ms, n_cells: int, start_ms: float, stop_ms: float, band=BETA_BAND_HZ
) -> float:
    """7-35 Hz power (Hz^2) of the population activity of a nucleus: its spikes (times in ms)
    in [start, stop) counted in 1 ms bins and divided by n_cells x 1 ms (a rate per cell,
    Hz), mean removed; Welch PSD (Hz^2/Hz) over 1 s Hann segments, 50 % overlap, integrated
    (trapezoid) from 7 to 35 Hz."""
    from scipy.signal import welch

    rate = _binned(times_ms, start_ms, stop_ms) * 1e3 / n_cells
    f, p = welch(rate - rate.mean(), fs=1e3, nperseg=min(1000, len(rate)), detrend=False)
    sel = (f >= band[0]) & (f <= band[1])
    return float(np.trapezoid(p[sel], f[sel]))


def per_cell_beta_power(
    times_ms, indices, n_cells: int, start_ms: float, stop_ms: float, band=BETA_BAND_HZ
) -> float:
    """KBG's measure, 7-35 Hz power (Hz^2) of single-cell spike trains: each cell's spikes in
    1 ms bins as a rate (Hz), mean removed; multitaper PSD (Hz^2/Hz; time-bandwidth 3, 5
    Slepian tapers, as KBG's Chronux call), averaged over tapers and cells, integrated from
    7 to 35 Hz."""
    from scipy.signal.windows import dpss

    times_ms, indices = np.asarray(times_ms, dtype=float), np.asarray(indices, dtype=int)
    x = np.array([_binned(times_ms[indices == k], start_ms, stop_ms) for k in range(n_cells)])
    x = (x - x.mean(axis=1, keepdims=True)) * 1e3
    tapers = dpss(x.shape[1], 3.0, 5)  # unit energy
    spec = np.abs(np.fft.rfft(x[:, None, :] * tapers[None], axis=-1)) ** 2 * 2 / 1e3
    f = np.fft.rfftfreq(x.shape[1], 1e-3)
    p = spec.mean(axis=(0, 1))
    sel = (f >= band[0]) & (f <= band[1])
    return float(np.trapezoid(p[sel], f[sel]))


def _exprel(x):
    x = np.asarray(x, dtype=float)
    safe = np.where(x == 0.0, 1.0, x)
    return np.where(x == 0.0, 1.0, np.expm1(safe) / safe)
