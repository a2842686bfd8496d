"""Potjans & Diesmann 2014 cortical microcircuit: 8 populations of current-based LIF cells.

Reference: Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit:
relating structure and activity in a full-scale spiking network model. Cereb Cortex
24:785-806. Parameters as in the paper and in the PyNEST example ``Potjans_2014``
(network_params.py, helpers.py), which is the reference implementation for the rates
(docs/science.md). The code below is written from those numbers, not from that example.

The network. Layers 2/3, 4, 5 and 6 each hold an excitatory (``e``) and an inhibitory
(``i``) population, 77169 leaky integrate-and-fire cells in all (C_m 250 pF, tau_m 10 ms,
t_ref 2 ms, E_L = V_reset = -65 mV, V_th -50 mV), with current-based exponential synapses
(tau_syn 0.5 ms). Every excitatory synapse has a mean PSC of 87.8 pA (the amplitude that
gives a 0.15 mV PSP peak at rest), inhibitory ones g = -4 times that, L4e -> L23e twice
that; amplitudes vary by 10% (normal, sign kept). Delays are normal, 1.5 +- 0.75 ms from
excitatory and 0.75 +- 0.375 ms from inhibitory cells, redrawn below one time step (the
reference redraws below the resolution) and rounded to whole steps. Each is exact, as a
NEST delay is: the current jumps the drawn delay after the spike (multiscale/circuit.py,
"Delays"; NEST's minimum delay, one step, is the smallest drawn). Each population also
receives K_ext external excitatory fibres firing Poisson spikes at bg_rate = 8 Hz, with the
same PSC as recurrent excitation.

Connectivity is fixed-total-number, as in the reference: the number of synapses of each
pathway is ``K = log(1 - C) / log(1 - 1 / (N_pre N_post))`` for the full-scale sizes and
connection probability C, times scale_N * scale_K; that many (pre, post) pairs are drawn
uniformly, autapses and multapses allowed, so that a given pair is connected with
probability C. (The linear approximation C N_pre N_post ignores multapses and gives 5% fewer
synapses at C = 0.1, 20% fewer at C = 0.37; docs/science.md notes that it shifts the L23e,
L5e and L6e rates.)

Down-scaling (reference implementation; van Albada, Helias & Diesmann 2015, PLoS Comput
Biol 11:e1004490). Population sizes x scale_N, synapse counts x scale_N scale_K (so
in-degrees x scale_K), external in-degrees x scale_K, all weights / sqrt(scale_K): the
variance of the input is that of the full network but its mean is sqrt(scale_K) of it.
The missing (1 - sqrt(scale_K)) of the mean input is injected as a constant current
computed from the full-scale in-degrees and the full-scale rates (0.943 ... 7.851 Hz)::

    I_dc = tau_syn (1 - sqrt(scale_K)) (sum_pre J_full K_full nu_full + J_ext K_ext nu_ext)

Here the compensation is split into its excitatory and inhibitory parts so that the knobs
g_E and g_I scale them with the synapses they stand in for, and its external part follows
the external rate (bg_rate + afferent input) bin by bin: an afferent rate change then has
the same mean effect as in the full-scale network (the reference only has a fixed bg_rate).
At scale_K = 1 no current is added. The recurrent part stays at the reference rates
whatever the network does, so below scale_K = 1 only sqrt(scale_K) of the recurrent
feedback follows a perturbation (as in the reference): responses to knobs and input are
those of a network with weaker recurrence. At full scale (scale_N = scale_K = 1, 13 GB)
every population's rate is within 7.4% of the reference's list (L23e; 500 ms, seed 1); at
scale 0.1 L23e (-58%), L23i (-33%) and L6e (-26%) come out below it, as in the reference
example's own data at that scale (L23e 0.44 Hz, L23i 1.89 Hz, L6e 0.78 Hz), which this
circuit matches within 19% in every population (L5e +19%, L23e -10%, the others within
7%; seed 1, tests/validation/test_potjans_diesmann.py): a property of the down-scaling,
not of this implementation.

Input from the connectome. The K_ext external fibres of the model stand for everything
outside the 1 mm^2 column, cortico-cortical and thalamic. The afferent rate from the
connectome (Hz per fibre) is added to bg_rate on the K_ext fibres of every population
(afferent_all = 1, default: cortico-cortical input reaches all layers), or only on those of
L4 and L6 (afferent_all = 0: thalamic-like input, as the paper's thalamic population that
targets L4 and L6). The fibres are delivered through the framework's DRIVE tables.

Output and field. The connectome sees the rate of L5e: layer-5 pyramidal cells are the main
projection neurons to other areas and subcortical targets. The field proxy (Mazzoni et al.
2015) reads the excitatory and inhibitory synaptic currents of L5e cells, the pyramidal
cells with the largest dendritic dipoles (the base class takes one group; L23e would be
the other candidate). ``I_E`` and ``I_I`` are the full-scale equivalent currents: synaptic
currents plus their share of the DC compensation, so the proxy has the mean of the
full-scale network at any scale. g_leak = C_m / tau_m = 25 nS.

Numerics. Membrane and synaptic currents are integrated exactly (linear, constant input per
step), as NEST's iaf_psc_exp does; a forward scheme holding I_syn over a 0.1 ms step would
inflate every PSC's charge by 10% at tau_syn = 0.5 ms. Initial potentials are normal with
population-specific means and SDs (the reference's "optimized" values), which shortens the
start-up transient.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np

from multiscale.circuit import Circuit, FieldGroup, Parameter, brian_delay_ms

POPULATIONS = ("L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i")
IS_EXC = np.array([p.endswith("e") for p in POPULATIONS])
#: full-scale population sizes
N_FULL = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
#: connection probabilities, rows target, columns source (paper, Table 5)
CONN_PROBS = np.array(
    [
        [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
        [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
        [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
        [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
        [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
        [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
        [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
        [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
    ]
)
#: external (background) in-degree per population, full scale
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
#: full-scale rates of the reference implementation (Hz): the DC compensation uses them
FULL_MEAN_RATES = np.array([0.943, 3.026, 4.368, 5.882, 7.733, 8.664, 1.096, 7.851])
#: populations reached by thalamic-like input (afferent_all = 0)
THALAMIC_TARGETS = np.array([p.startswith(("L4", "L6")) for p in POPULATIONS])
#: initial membrane potential, mean and SD per population (mV)
V0_MEAN = np.array([-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43])
V0_SD = np.array([5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48])

# cells (ms, pF, mV)
C_M = 250.0
TAU_M = 10.0
TAU_SYN = 0.5
T_REF = 2.0
E_L = -65.0
V_TH = -50.0
V_RESET = -65.0
G_LEAK_NS = C_M / TAU_M  # 25 nS

# synapses
PSP_E = 0.15  # mV, peak PSP of an excitatory synapse at rest
G_REL = -4.0  # inhibitory / excitatory
W_REL_SD = 0.1
DELAY_MEAN = {True: 1.5, False: 0.75}  # ms, by presynaptic type (True: excitatory)
DELAY_REL_SD = 0.5
BG_RATE = 8.0  # Hz per external fibre

EQUATIONS = """
dv/dt = (E_L - v) / tau_m + (I_E + I_I + I_stim) / C_m : volt (unless refractory)
dI_syn_e/dt = -I_syn_e / tau_syn : amp
dI_syn_i/dt = -I_syn_i / tau_syn : amp
I_E = I_syn_e + g_E * (I_dc_e + I_dc_x) : amp
I_I = I_syn_i + g_I * I_dc_i : amp
I_dc_e : amp (constant)
I_dc_i : amp (constant)
I_dc_x : amp
I_stim : amp
pop_index : integer (constant)
g_E : 1 (shared)
g_I : 1 (shared)
"""
#: n_events external spikes onto one cell in one step (w_ext: scaled external PSC)
EXTERNAL_DRIVE = "I_syn_e += w_ext * g_E * n_events"


def psc_per_psp(c_m_pf: float = C_M, tau_m_ms: float = TAU_M, tau_syn_ms: float = TAU_SYN):
    """PSC amplitude (pA) per mV of PSP peak, for an exponential current onto a LIF cell.

    The PSP of a current J exp(-t / tau_s) is J tau_s tau_m / (C (tau_m - tau_s))
    (exp(-t / tau_m) - exp(-t / tau_s)), largest at
    t* = tau_m tau_s / (tau_m - tau_s) ln(tau_m / tau_s). 585.4 pA/mV for the PD cells.
    """
    t_peak = tau_m_ms * tau_syn_ms / (tau_m_ms - tau_syn_ms) * np.log(tau_m_ms / tau_syn_ms)
    gain = tau_syn_ms * tau_m_ms / (c_m_pf * (tau_m_ms - tau_syn_ms))
    return 1.0 / (gain * (np.exp(-t_peak / tau_m_ms) - np.exp(-t_peak / tau_syn_ms)))


#: full-scale mean PSC of the external fibres (pA): 87.8
PSC_EXT = PSP_E * psc_per_psp()


def mean_psc_matrix() -> np.ndarray:
    """Full-scale mean PSC (pA), rows target, columns source; L4e -> L23e doubled."""
    psc = np.where(IS_EXC[None, :], PSC_EXT, G_REL * PSC_EXT) * np.ones((8, 1))
    psc[0, 2] *= 2.0
    return psc


def population_sizes(scale_N: float) -> np.ndarray:
    """Number of cells per population at scale_N (at least one)."""
    return np.maximum(np.round(N_FULL * scale_N).astype(int), 1)


def full_synapse_counts() -> np.ndarray:
    """Full-scale synapse count per pathway (rows target, columns source), from the
    connection probability C: K = log(1 - C) / log(1 - 1 / (N_pre N_post))."""
    pairs = np.outer(N_FULL, N_FULL).astype(float)
    return np.log1p(-CONN_PROBS) / np.log1p(-1.0 / pairs)


def synapse_counts(scale_N: float, scale_K: float) -> np.ndarray:
    """Synapse count per pathway (rows target, columns source) of the scaled network."""
    return np.round(full_synapse_counts() * scale_N * scale_K).astype(int)


def external_indegrees(scale_K: float) -> np.ndarray:
    """External fibres per cell of each population at scale_K."""
    return np.round(K_EXT * scale_K).astype(int)


def dc_compensation(scale_K: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Currents (pA) per population that restore the full-scale mean input after the
    in-degrees are scaled by scale_K and the weights by 1 / sqrt(scale_K).

    Returns the excitatory recurrent part, the inhibitory recurrent part (negative), and
    the external part per Hz of external rate per fibre.
    """
    missing = 1e-3 * TAU_SYN * (1.0 - np.sqrt(scale_K))  # s * (1 - sqrt K): pA*Hz -> pA
    indegree = full_synapse_counts() / N_FULL[:, None]
    rec = mean_psc_matrix() * indegree * FULL_MEAN_RATES[None, :]
    exc = missing * rec[:, IS_EXC].sum(axis=1)
    inh = missing * rec[:, ~IS_EXC].sum(axis=1)
    ext_per_hz = missing * PSC_EXT * K_EXT
    return exc, inh, ext_per_hz


class PotjansDiesmann(Circuit):
    """Potjans & Diesmann 2014 microcircuit, down-scaled with DC compensation."""

    NAME = "potjans_diesmann"
    CITATION = (
        "Potjans TC, Diesmann M (2014) The cell-type specific cortical microcircuit: relating "
        "structure and activity in a full-scale spiking network model. Cereb Cortex 24:785-806. "
        "doi:10.1093/cercor/bhs358. Down-scaling: van Albada SJ, Helias M, Diesmann M (2015) "
        "PLoS Comput Biol 11:e1004490. Field proxy: Mazzoni A et al. (2015) PLoS Comput Biol "
        "11:e1004584."
    )
    DESCRIPTION = (
        "Layered cortical column (L2/3, L4, L5, L6; excitatory and inhibitory populations) of "
        "current-based LIF cells with layer-specific connectivity and Poisson background; "
        "low rates in L2/3e and L6e, highest in L5; scaled by scale_N and scale_K."
    )
    PARAMETERS = {
        "scale_N": Parameter(
            0.1, "1", "fraction of the 77169 cells of the full model", positive=True, maximum=1
        ),
        "scale_K": Parameter(
            0.1, "1", "fraction of the full in-degrees (weights / sqrt)", positive=True, maximum=1
        ),
        "afferent_all": Parameter(
            1.0,
            "1",
            "1: afferent input on the external fibres of all layers; 0: L4 and L6 only",
            integer=True,
            minimum=0,
            maximum=1,
        ),
    }
    KNOBS = {
        "g_E": Parameter(
            1.0,
            "1",
            "scale of all excitatory weights (recurrent, external, their DC share)",
            minimum=0,
        ),
        "g_I": Parameter(
            1.0, "1", "scale of all inhibitory weights (and their DC share)", minimum=0
        ),
        "bg_rate": Parameter(BG_RATE, "Hz", "background rate of each external fibre", minimum=0),
    }
    POPULATIONS = POPULATIONS
    SIZE_PARAMETERS = ()  # the size follows scale_N: see n_neurons
    BYTES_PER_SYNAPSE = 56  # measured 53: own weight and delay
    OUTPUT_POPULATION = "L5e"
    FIELD = {"group": "L5e", "ampa": "I_E", "gaba": "I_I", "g_leak_nS": G_LEAK_NS}
    INPUT_DESCRIPTION = (
        "rate per external fibre (Hz), added to bg_rate on the K_ext external fibres of every "
        "population (afferent_all = 1) or of L4 and L6 only (afferent_all = 0)"
    )
    DRIVE = dict.fromkeys(POPULATIONS, EXTERNAL_DRIVE)
    # one drive for the eight populations, in the cells' update (I_dc_x, set in the 'start'
    # slot, is not what it touches)
    FOLD_DRIVE = True

    @classmethod
    def estimate(cls, params: dict[str, float]) -> tuple[int, int]:
        counts = synapse_counts(float(params["scale_N"]), float(params["scale_K"]))
        return cls.n_neurons(params), int(counts.sum())

    @classmethod
    def n_neurons(cls, parameters: dict[str, float] | None = None) -> int:
        values = {k: p.default for k, p in cls.PARAMETERS.items()} | dict(parameters or {})
        return int(population_sizes(float(values["scale_N"])).sum())

    @classmethod
    def field_group(cls, values: dict[str, float]) -> FieldGroup:
        """L5e: its cells at this scale; it stands for L5e's share of the full column."""
        sizes = population_sizes(float(values["scale_N"]))
        k = POPULATIONS.index("L5e")
        return FieldGroup("L5e", int(sizes[k]), G_LEAK_NS, float(N_FULL[k] / N_FULL.sum()))

    def build(self) -> None:
        scale_N = float(self.params["scale_N"])
        scale_K = float(self.params["scale_K"])
        if not (0 < scale_N <= 1 and 0 < scale_K <= 1):
            raise ValueError(f"{self.NAME}: scale_N and scale_K must be in (0, 1]")
        # connectivity and initial values from the global numpy stream, which b2.seed()
        # seeds before build(); one Generator drawn from it is faster
        rng = np.random.default_rng(np.random.randint(0, 2**31 - 1, size=4))
        dt_ms = float(b2.defaultclock.dt / b2.ms)

        sizes = population_sizes(scale_N)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        pop_of = np.repeat(np.arange(8), sizes)
        self.sizes = dict(zip(POPULATIONS, sizes.tolist(), strict=True))
        self.k_ext = external_indegrees(scale_K)
        self.w_ext_pa = PSC_EXT / np.sqrt(scale_K)
        dc_e, dc_i, self._dc_ext_per_hz = dc_compensation(scale_K)

        # external DC compensation per step of a window and population (pA): rewritten
        # with every window from the external rate per bin, read cyclically like the drive
        self._steps_per_bin = int(round(self.resolution_ms / dt_ms))
        steps = int(round(self.window_ms / dt_ms))
        dcx = b2.TimedArray(np.zeros((steps, 8)), dt=b2.defaultclock.dt, name=f"{self.tag}_dcx")
        self._dcx_table = dcx.values
        assert self._dcx_table.flags.writeable

        group = b2.NeuronGroup(
            int(sizes.sum()),
            EQUATIONS,
            threshold="v > V_th",
            reset="v = V_reset",
            refractory=T_REF * b2.ms,
            method="exact",
            namespace={
                "C_m": C_M * b2.pfarad,
                "tau_m": TAU_M * b2.ms,
                "tau_syn": TAU_SYN * b2.ms,
                "E_L": E_L * b2.mV,
                "V_th": V_TH * b2.mV,
                "V_reset": V_RESET * b2.mV,
                "w_ext": self.w_ext_pa * b2.pA,
                f"{self.tag}_dcx": dcx,
                f"{self.tag}_dcx_dt": b2.defaultclock.dt,
                f"{self.tag}_dcx_T": steps * b2.defaultclock.dt,
            },
            name=f"{self.tag}_cells",
        )
        group.pop_index = pop_of
        group.v = (V0_MEAN[pop_of] + V0_SD[pop_of] * rng.standard_normal(len(pop_of))) * b2.mV
        group.I_dc_e = dc_e[pop_of] * b2.pA
        group.I_dc_i = dc_i[pop_of] * b2.pA
        group.g_E = self.KNOBS["g_E"].default
        group.g_I = self.KNOBS["g_I"].default
        self.group = group
        self._write_dc_ext(np.zeros(1), self.KNOBS["bg_rate"].default)
        when = f"((t + 0.5*{self.tag}_dcx_dt) % {self.tag}_dcx_T - 0.5*{self.tag}_dcx_dt)"
        dcx_op = group.run_regularly(
            f"I_dc_x = {self.tag}_dcx({when}, pop_index) * pA",
            when="start",
            order=1,
            name=f"{self.tag}_dc_ext",
        )
        # named subgroups: a snapshot is restored by object name (Brian2's automatic names
        # depend on what was built before in the process)
        for k, pop in enumerate(POPULATIONS):
            self.populations[pop] = b2.Subgroup(
                group, int(starts[k]), int(starts[k + 1]), name=f"{self.tag}_{pop}"
            )
        self.objects += [group, dcx_op]

        # recurrent synapses, fixed total number per pathway
        counts = synapse_counts(scale_N, scale_K)
        self.synapse_counts = counts
        psc = mean_psc_matrix() / np.sqrt(scale_K)
        for exc in (True, False):
            pre, post = [], []
            for target in range(8):
                for source in np.flatnonzero(IS_EXC if exc else ~IS_EXC):
                    n = counts[target, source]
                    # int32: half the size of numpy's int64 for the 300 M pairs of the full scale
                    pre.append(
                        (starts[source] + rng.integers(0, sizes[source], n)).astype(np.int32)
                    )
                    post.append(
                        (starts[target] + rng.integers(0, sizes[target], n)).astype(np.int32)
                    )
            kind = "e" if exc else "i"
            syn = b2.Synapses(
                group,
                group,
                model="w : amp (constant)",
                on_pre=f"I_syn_{kind}_post += w * g_{kind.upper()}_post",
                name=f"{self.tag}_syn_{kind}",
            )
            i, j = np.concatenate(pre), np.concatenate(post)
            del pre, post
            syn.connect(i=i, j=j)  # synapses keep the order of (i, j)
            n = len(i)
            mean = psc[pop_of[j], pop_of[i]]
            w = mean * (1.0 + W_REL_SD * rng.standard_normal(n))
            w = np.maximum(w, 0.0) if exc else np.minimum(w, 0.0)
            syn.w[:] = w * b2.pA
            # each current jumps its drawn delay after the spike, as in NEST (circuit.py, "Delays")
            syn.delay[:] = brian_delay_ms(_delays(rng, n, DELAY_MEAN[exc], dt_ms), dt_ms) * b2.ms
            self.objects.append(syn)

    def _fibre_rates(self, input_hz: np.ndarray, bg_rate: float) -> np.ndarray:
        """Rate per external fibre (Hz), populations x bins."""
        reached = np.ones(8, bool) if self.params["afferent_all"] >= 0.5 else THALAMIC_TARGETS
        return bg_rate + reached[:, None] * np.atleast_1d(input_hz)[None, :]

    def _write_dc_ext(self, input_hz: np.ndarray, bg_rate: float) -> None:
        rates = self._fibre_rates(input_hz, bg_rate)  # pops x bins
        per_step = np.repeat(rates * self._dc_ext_per_hz[:, None], self._steps_per_bin, axis=1)
        table = self._dcx_table
        n = min(per_step.shape[1], table.shape[0])
        table[:n] = per_step[:, :n].T
        table[n:] = per_step[:, -1]

    def drive_rates(self, input_hz: np.ndarray) -> dict[str, np.ndarray]:
        rates = self.k_ext[:, None] * self._fibre_rates(input_hz, self.knobs["bg_rate"])
        return dict(zip(POPULATIONS, rates, strict=True))

    def set_input_window(self, rates_hz: np.ndarray, window_start_ms: float) -> None:
        """Draw the window's external spikes (base class) and set the external part of the
        DC compensation to the same rates, bin by bin."""
        super().set_input_window(rates_hz, window_start_ms)
        self._write_dc_ext(
            np.maximum(np.asarray(rates_hz, dtype=float), 0.0), self.knobs["bg_rate"]
        )

    def _state_arrays(self) -> dict[str, np.ndarray]:
        """The drive tables and the external DC table, rewritten in place every window."""
        return super()._state_arrays() | {"dc_ext": self._dcx_table}

    def apply_knob(self, name: str, value: float) -> None:
        if name == "bg_rate":
            if value < 0:
                raise ValueError(f"{self.NAME}: bg_rate must be >= 0 Hz, got {value}")
            # drive_rates reads it from self.knobs at the next window; until then, the
            # compensation follows it without afferent input
            self._write_dc_ext(np.zeros(1), float(value))
            return
        self.group.variables[name].set_value(float(value))


def _delays(rng: np.random.Generator, n: int, mean_ms: float, dt_ms: float) -> np.ndarray:
    """Normal delays (SD DELAY_REL_SD * mean), redrawn below one step (the reference redraws
    below the resolution) and rounded to whole steps, as NEST does."""
    d = rng.normal(mean_ms, DELAY_REL_SD * mean_ms, n)
    low = d < dt_ms
    while low.any():
        d[low] = rng.normal(mean_ms, DELAY_REL_SD * mean_ms, int(low.sum()))
        low = d < dt_ms
    return np.maximum(np.round(d / dt_ms), 1.0) * dt_ms
