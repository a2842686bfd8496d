"""Brunel 2000 sparse network of excitatory and inhibitory LIF neurons with delta synapses.

Reference: Brunel N (2000) Dynamics of sparsely connected networks of excitatory and
inhibitory spiking neurons. J Comput Neurosci 8:183-208 (model A, section 2; Fig. 8).

Cells: leaky integrate-and-fire, tau dV/dt = -V + R I_stim, threshold theta = 20 mV, reset
V_r = 10 mV, absolute refractory period 2 ms during which V stays at V_r and incoming
spikes are lost (as in NEST's iaf_psc_delta). Synapses: a presynaptic spike
makes V jump, after the delay D = 1.5 ms, by J = 0.1 mV (excitatory) or -g J (inhibitory).
The delay is exact (multiscale/circuit.py, "Delays"): the threshold test D after the spike
sees the jump (Brian2 is given D - dt); D is rounded to whole steps, and D below one step,
0 included, acts as one step, the minimum.
Every cell receives exactly C_E excitatory and C_I = C_E / 4 inhibitory recurrent
connections (fixed in-degree, sources drawn without replacement, no autapses) and C_E
external excitatory fibres, each a Poisson train at nu_ext = eta nu_thr, with
nu_thr = theta / (J C_E tau) the rate that brings the mean input to threshold (10 Hz at the
defaults). The regimes of the paper (Fig. 8) are reached through the two knobs g and eta:

    SR (synchronous regular)        g = 3,   eta = 2
    SI fast (synchronous irregular) g = 6,   eta = 4     population oscillation ~ 1 / (4 D)
    AI (asynchronous irregular)     g = 5,   eta = 2     (the default)
    SI slow                         g = 4.5, eta = 0.9   oscillation set by tau

Size. The paper's network has N_E = 10000, N_I = 2500 (12.5 million synapses). A smaller
network keeps C_E = 1000 (docs/science.md) so that the mean and variance of the input, hence the
mean-field rates, stay those of the paper; the connection probability C_E / N_E then grows,
which adds shared input (pairwise correlations) that the paper's sparse limit neglects,
and the cost barely shrinks: N (C_E + C_I) synapses, N (C_E + C_I) x rate events per second.
Measured (tests/validation/test_brunel2000.py): at the default N_E = 5000 (p = 0.2) the four
regimes separate, and AI has the flattest, least synchronous population activity of the
four, though a damped ~140 Hz resonance remains (with the previous, Python-drawn drive:
spectral peak / median 9 at N_E = 5000, 10 at 10000, against 32 in SI fast); at N_E = 2000
(p = 0.5) AI turns into a ~100 Hz oscillation more synchronous than SI fast's. The E rate
in AI is 38.2 Hz at N_E = 5000 (seed 1; 39.2 Hz with the previous drive; 37.9 Hz at 10000
with it; mean field 37.95 Hz). SI fast oscillates at 180 Hz (1 / (4 D) = 167 Hz; 160 Hz
when the delay was one step too long, 1.6 ms).
C_E is a parameter (fast tests use small values); the paper's phase diagram holds for
C_E = 1000, J = 0.1 mV. C_I = round(C_E / 4).

External drive (``DRIVE``): the framework draws, per cell and time step, the number of
external spikes from C_E (nu_ext + input) Hz; each makes V jump by J. The afferent input
from the connectome (Hz per fibre) therefore adds to nu_ext on the same C_E fibres.

Field proxy. The model has no synaptic currents: inputs are instantaneous voltage jumps.
For the Mazzoni et al. 2015 proxy the E cells carry two read-out variables that do not act
on the dynamics: I_exc and I_inh, the excitatory (recurrent E and external) and inhibitory
input of each E cell expressed as currents. A jump of J on a membrane of capacitance C_m
is the charge C_m J; each input event adds that charge as an exponential current pulse
(C_m J / tau_s) exp(-t / tau_s), tau_s = 2 ms for excitation and 5 ms for inhibition (the
AMPA and GABA_A decay times for which the Mazzoni weights were fitted; ei_network.py uses
the same). C_m = 250 pF (NEST's iaf_psc_delta, used in its Brunel example), so the leak
conductance is C_m / tau = 12.5 nS and |I_exc| / g_L is the depolarisation the excitatory
input alone would hold at rest: J tau x (rate of excitatory events), e.g. 0.1 mV x 20 ms x
59 kHz = 118 mV in the AI state (the inhibitory part, g J tau C_I nu_I, is 98 mV there).
C_m also converts electrode currents: R = tau / C_m = 80 MOhm.
The proxy is a read-out of the spike trains the model has, filtered by kernels it does
not have; its amplitude depends on that choice, its time course follows the input rates.
"""

from __future__ import annotations

from dataclasses import replace

import brian2 as b2
import numpy as np

from multiscale.circuit import Circuit, FieldGroup, Parameter, brian_delay_ms

GAMMA = 0.25  # C_I / C_E and N_I / N_E in the paper
TAU_EXC_FIELD = 2.0 * b2.ms  # read-out kernels of the field currents (see module docstring)
TAU_INH_FIELD = 5.0 * b2.ms

EQUATIONS = """
dv/dt = (-v + R * I_stim) / tau : volt (unless refractory)
I_stim : amp
"""
#: E cells also carry the field read-out currents (no effect on v)
FIELD_EQUATIONS = """
dI_exc/dt = -I_exc / tau_exc_field : amp
dI_inh/dt = -I_inh / tau_inh_field : amp
"""
#: inputs during the refractory period are lost, as in the paper
GATE = "int(not_refractory)"


class Brunel2000(Circuit):
    """Brunel 2000 model A: sparse E/I LIF network with delta synapses and delays."""

    NAME = "brunel2000"
    CITATION = (
        "Brunel N (2000) Dynamics of sparsely connected networks of excitatory and "
        "inhibitory spiking neurons. J Comput Neurosci 8:183-208. doi:10.1023/A:1008925309027"
    )
    DESCRIPTION = (
        "Sparse E/I network of LIF neurons with delta synapses (J, -g J, delay D) and "
        "C_E Poisson fibres at eta nu_thr per cell; the knobs g and eta select the regimes "
        "SR, SI fast, AI and SI slow."
    )
    PARAMETERS = {
        "n_E": Parameter(5000, "1", "excitatory cells (paper 10000)", integer=True, minimum=2),
        "n_I": Parameter(1250, "1", "inhibitory cells (paper 2500)", integer=True, minimum=2),
        "C_E": Parameter(
            1000, "1", "excitatory inputs and external fibres per cell", integer=True, minimum=1
        ),
        "J": Parameter(0.1, "mV", "jump of V per excitatory spike"),
        "D": Parameter(1.5, "ms", "synaptic delay", minimum=0),
        "tau": Parameter(20.0, "ms", "membrane time constant", positive=True),
        "theta": Parameter(20.0, "mV", "spike threshold"),
        "V_r": Parameter(10.0, "mV", "reset potential"),
        "t_ref": Parameter(2.0, "ms", "absolute refractory period", minimum=0),
        "C_m": Parameter(
            250.0, "pF", "capacitance converting currents (electrodes, field)", positive=True
        ),
    }
    KNOBS = {
        "g": Parameter(5.0, "1", "relative strength of inhibition (jump -g J)", minimum=0),
        "eta": Parameter(
            2.0, "1", "background rate of the external fibres, nu_ext / nu_thr", minimum=0
        ),
    }
    POPULATIONS = ("E", "I")
    SIZE_PARAMETERS = ("n_E", "n_I")
    BYTES_PER_SYNAPSE = 28  # measured 27 at the peak of the build
    OUTPUT_POPULATION = "E"
    FIELD = {"group": "E", "ampa": "I_exc", "gaba": "I_inh", "g_leak_nS": 12.5}
    INPUT_DESCRIPTION = (
        "rate per external fibre (Hz), added to nu_ext = eta nu_thr on the C_E external "
        "fibres of every cell, E and I; each spike a jump of J"
    )
    DRIVE = {
        "E": f"v += J * n_events * {GATE}\nI_exc += q_exc * n_events",
        "I": f"v += J * n_events * {GATE}",
    }
    FOLD_DRIVE = True  # nothing else runs before the cells' update: the drive joins it

    @classmethod
    def check_parameters(cls, params: dict[str, float]) -> list[str]:
        """Fixed in-degree draws C distinct sources per cell, autapses excluded: C_E < n_E
        and round(C_E / 4) < n_I; the threshold must lie above the reset; J > 0 keeps the
        balance meaningful (nu_thr divides by it)."""
        out = super().check_parameters(params)
        c_i = int(round(GAMMA * params["C_E"]))
        if params["C_E"] > params["n_E"] - 1:
            out.append(
                f"C_E: got {params['C_E']:g}; expected fewer than n_E ({params['n_E']:g}): "
                f"each cell draws C_E distinct excitatory sources"
            )
        if c_i > params["n_I"] - 1:
            out.append(
                f"n_I: got {params['n_I']:g}; expected more than C_I = C_E / 4 ({c_i}): "
                f"each cell draws C_I distinct inhibitory sources"
            )
        if not params["theta"] > params["V_r"]:
            out.append(f"theta: got {params['theta']:g}; expected above V_r ({params['V_r']:g})")
        if not params["J"] > 0:
            out.append(f"J: got {params['J']:g}; expected a value > 0")
        return out

    @classmethod
    def estimate(cls, params: dict[str, float]) -> tuple[int, int]:
        n = int(params["n_E"]) + int(params["n_I"])
        return n, n * (int(params["C_E"]) + int(round(GAMMA * params["C_E"])))

    @classmethod
    def field_group(cls, values: dict[str, float]) -> FieldGroup | None:
        return replace(super().field_group(values), g_leak_nS=values["C_m"] / values["tau"])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # the leak conductance the field proxy divides by must be this instance's C_m / tau
        gl = self.params["C_m"] / self.params["tau"]  # pF / ms = nS
        if self._field_mon is not None:
            self._field_gl_ns = gl

    @property
    def nu_thr_hz(self) -> float:
        """External rate per fibre that brings the mean input to threshold (Hz)."""
        p = self.params
        return p["theta"] / (p["J"] * p["C_E"] * p["tau"] * 1e-3)

    def build(self) -> None:
        p = self.params
        n = {"E": int(p["n_E"]), "I": int(p["n_I"])}
        c = {"E": int(p["C_E"]), "I": int(round(GAMMA * p["C_E"]))}
        for pop in self.POPULATIONS:
            if c[pop] > n[pop] - 1:
                raise ValueError(
                    f"{self.NAME}: {c[pop]} {pop} inputs per cell need n_{pop} > {c[pop]}"
                )
        tau = p["tau"] * b2.ms
        c_m = p["C_m"] * b2.pfarad
        # delta synapses: a jump that crosses the threshold fires the target exactly D after
        # the source, as in NEST (multiscale/circuit.py, "Delays")
        delay = brian_delay_ms(p["D"], float(b2.defaultclock.dt / b2.ms), delta=True) * b2.ms
        J = p["J"] * b2.mV
        for pop in self.POPULATIONS:
            eqs = EQUATIONS + (FIELD_EQUATIONS if pop == "E" else "")
            group = b2.NeuronGroup(
                n[pop],
                eqs,
                threshold="v > theta",
                reset="v = V_r",
                refractory=p["t_ref"] * b2.ms,
                method="exact",
                namespace={
                    "tau": tau,
                    "R": tau / c_m,
                    "theta": p["theta"] * b2.mV,
                    "V_r": p["V_r"] * b2.mV,
                    "J": J,
                    "q_exc": c_m * J / TAU_EXC_FIELD,
                    "tau_exc_field": TAU_EXC_FIELD,
                    "tau_inh_field": TAU_INH_FIELD,
                },
                name=f"{self.tag}_{pop}",
            )
            group.v = "V_r + rand() * (theta - V_r)"
            self.populations[pop] = group
            self.objects.append(group)

        # fixed in-degree: every post cell draws its sources without replacement; the
        # stream is numpy's global one, which b2.seed() seeds before build()
        rng = np.random.default_rng(np.random.randint(2**31))
        self._synapses = {}
        for pre in self.POPULATIONS:
            for post in self.POPULATIONS:
                i, j = _fixed_indegree(rng, n[pre], n[post], c[pre], pre == post)
                gate = GATE.replace("not_refractory", "not_refractory_post")
                if pre == "E":
                    model = ""
                    on_pre = f"v_post += J * {gate}"
                    if post == "E":
                        on_pre += "\nI_exc_post += q_exc"
                else:
                    model = "g : 1 (shared)"
                    on_pre = f"v_post -= g * J * {gate}"
                    if post == "E":
                        on_pre += "\nI_inh_post += g * q_inh"
                syn = b2.Synapses(
                    self.populations[pre],
                    self.populations[post],
                    model=model,
                    on_pre=on_pre,
                    delay=delay,
                    namespace={
                        "J": J,
                        "q_exc": c_m * J / TAU_EXC_FIELD,
                        "q_inh": c_m * J / TAU_INH_FIELD,
                    },
                    name=f"{self.tag}_{pre}{post}",
                )
                syn.connect(i=i, j=j)
                if pre == "I":
                    syn.variables["g"].set_value(self.KNOBS["g"].default)
                self._synapses[(pre, post)] = syn
                self.objects.append(syn)

    def drive_rates(self, input_hz: np.ndarray) -> dict[str, np.ndarray]:
        total = float(self.params["C_E"]) * (self.knobs["eta"] * self.nu_thr_hz + input_hz)
        return {pop: total for pop in self.DRIVE}

    def apply_knob(self, name: str, value: float) -> None:
        if value < 0:
            raise ValueError(f"{self.NAME}: {name} must be >= 0, got {value}")
        if name == "g":
            for post in self.POPULATIONS:
                self._synapses[("I", post)].variables["g"].set_value(float(value))
        # eta is read by drive_rates from self.knobs when the next window is drawn


def _fixed_indegree(
    rng: np.random.Generator, n_pre: int, n_post: int, k: int, same: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Source and target indices: every target gets k distinct sources (not itself if
    ``same``)."""
    pre = np.empty((n_post, k), dtype=np.int32)
    for j in range(n_post):
        if same:
            s = rng.choice(n_pre - 1, size=k, replace=False)
            s[s >= j] += 1  # skip the autapse
        else:
            s = rng.choice(n_pre, size=k, replace=False)
        pre[j] = s
    post = np.repeat(np.arange(n_post, dtype=np.int32), k)
    return pre.ravel(), post
