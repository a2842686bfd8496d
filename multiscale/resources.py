"""What an experiment will cost (memory, output size), estimated from its validated fields
before anything is built, so that a file asking for more than the machine has is refused
in a fraction of a second instead of swapping or being killed hours later.

Calibration (2026-12, this machine, Brian2 numpy target, growth of the RSS of
/proc/self/status over build and a 10 ms run, and ru_maxrss for the peak):

- brunel2000 defaults (6250 cells, 7.81 M synapses, fixed in-degree): +145 MB after the
  run, +211 MB at the peak of the build: 27 bytes per synapse at the peak;
- potjans_diesmann defaults (7717 cells, 2.99 M synapses, each with its own weight and
  delay): +148 MB after the run, +160 MB at the peak: 53 bytes per synapse;
- ei_network 4000 cells, p 0.2 (3.20 M synapses, Bernoulli): +40 MB after the build
  (not run), 12.5 bytes each;
- ei_network 500 cells (49.9 k synapses): +4 MB, so a cell costs at most a few kB.

Each circuit class states its cost per synapse (``Circuit.BYTES_PER_SYNAPSE``, rounded
up from these numbers), so an estimate neither refuses runs that fit nor lets through
ones that do not by a large factor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiscale.config import Experiment
    from multiscale.plan import Resolved

#: bytes per neuron of a built and running Brian2 circuit (see above)
BYTES_PER_NEURON = 2048
#: the Python process with numpy, Brian2 and h5py imported (measured: 139 MB)
BASELINE_BYTES = 200 * 2**20
#: a spike in the output: float64 time and int32 index
BYTES_PER_SPIKE = 12
#: mean rate assumed for the spike estimate (most shipped circuits fire at 1-20 Hz)
ASSUMED_RATE_HZ = 10.0
_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE")


@dataclass
class CircuitCost:
    name: str
    neurons: int
    synapses: int
    bytes_per_synapse: int

    @property
    def bytes(self) -> int:
        return self.neurons * BYTES_PER_NEURON + self.synapses * self.bytes_per_synapse


@dataclass
class Estimate:
    """Memory of the circuits and of the mass engine, and the size of the output file."""

    circuits: list[CircuitCost] = field(default_factory=list)
    engine_bytes: int = 0
    output_bytes: int = 0  #: sampled arrays (EEG, regions, states, circuit rates, BOLD)
    spike_bytes: int = 0  #: spikes at ASSUMED_RATE_HZ, if recorded

    @property
    def memory_bytes(self) -> int:
        """Everything in one process (a run without MPI)."""
        return BASELINE_BYTES + self.engine_bytes + sum(c.bytes for c in self.circuits)

    @property
    def largest_process_bytes(self) -> int:
        """The largest share of one MPI rank: the engine with the largest circuit."""
        largest = max((c.bytes for c in self.circuits), default=0)
        return BASELINE_BYTES + self.engine_bytes + largest

    def describe(self) -> str:
        lines = [
            f"estimate: memory {byte_size(self.memory_bytes)} in one process (mass engine "
            f"{byte_size(self.engine_bytes)}), output "
            f"{byte_size(self.output_bytes + self.spike_bytes)}"
            f" ({byte_size(self.spike_bytes)} of it spikes, at an assumed {ASSUMED_RATE_HZ:g} Hz)"
        ]
        for c in self.circuits:
            lines.append(
                f"  circuit {c.name}: {c.neurons:,} neurons, {c.synapses:,} synapses, "
                f"{byte_size(c.bytes)}"
            )
        return "\n".join(lines)


def byte_size(n: float) -> str:
    """A number of bytes for people: "3.2 GB"."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1024 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PB"  # unreachable


def estimate(exp: Experiment, got: Resolved) -> Estimate:
    """The cost of an experiment from what its checks resolved; parts whose fields are
    invalid are left out."""
    est = Estimate()
    for c in exp.circuits:
        cls = got.circuit_classes.get(c.name)
        params = got.circuit_values.get(c.name)
        if cls is not None and params is not None:
            neurons, synapses = cls.estimate(params)
            est.circuits.append(
                CircuitCost(str(c.name), int(neurons), int(synapses), cls.BYTES_PER_SYNAPSE)
            )
    conn = got.connectome
    dt = exp.regions.dt_ms
    if conn is None or dt is None:
        return est
    n = conn.n_regions
    # the history rings hold the coupling variables (H) and, for most couplings, their
    # transform (Hp); the window's noise and observable arrays hold every state variable
    model, coupling = got.model, got.coupling
    n_cvar = len(model.COUPLING_VARIABLES) if model is not None else 2
    n_inputs = coupling.n_inputs(n_cvar) if coupling is not None else n_cvar
    n_states = len(model.STATE_VARIABLES) if model is not None else 6
    delays = got.delays
    longest = int(delays.data.max(initial=0)) if delays is not None else 0
    window = got.window.steps if got.window is not None else 0
    horizon = longest + window + 2
    edges = conn.weights_sparse.nnz + conn.lengths_sparse.nnz
    # the engine reads the sparse weights and delays as they are (no (n, n) array),
    # except in TVB-compatible mode with a coupling TVB sums densely (every pair: 2 n x n
    # values); the connectome, delays and the engine's per-edge arrays (about 8 values an
    # edge); the two mirrored history rings (n, 2 horizon, the coupling variables and
    # inputs) and the block sums (n, 16 steps, inputs); a window's noise, drive and
    # observable (3 values per state variable, region and step) and the parameters
    steps = got.window.steps if got.window is not None else 100
    dense = exp.regions.tvb_compat and coupling is not None and coupling.tvb_dense
    est.engine_bytes = 8 * (
        (2 * n * n if dense else 0)
        + 8 * edges
        + 16 * n * n_inputs
        + n * 2 * horizon * (n_cvar + n_inputs)
        + 3 * steps * n * n_states
        + 64 * n
    )
    duration = exp.duration_ms
    rate = exp.record.sampling_rate_hz
    if duration is None or rate is None:
        return est
    samples = duration * rate / 1000.0
    # regions, sources and every sensor channel, one float64 each per sample
    channels = n * (2 if exp.record.sources else 1) + sum(
        g.n_channels for g in got.sensors.values()
    )
    steps = duration / dt
    states = len(exp.record.states) if isinstance(exp.record.states, list) else 0
    res = exp.cosim.resolution_ms or 1.0
    bold = exp.record.bold
    trs = duration / bold.tr_ms if bold is not None and bold.tr_ms else 0.0
    est.output_bytes = int(
        8 * (samples * channels + steps * n * states + 2 * len(est.circuits) * duration / res)
        + 8 * trs * n
    )
    if exp.record.spikes:
        neurons = sum(c.neurons for c in est.circuits)
        est.spike_bytes = int(neurons * ASSUMED_RATE_HZ * duration / 1000.0 * BYTES_PER_SPIKE)
    return est


def available_memory() -> int | None:
    """Bytes this process can still allocate: MemAvailable of /proc/meminfo, lowered to
    what a cgroup (container) limit leaves; os.sysconf where /proc is missing."""
    avail = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text())
        if limit != "max":
            avail = min(avail, int(limit) - used)
    except (OSError, ValueError):
        pass
    return avail


def launched_processes() -> int:
    """How many processes an MPI launcher started (1 without one)."""
    sizes = (int(os.environ.get(v, "1") or 1) for v in _LAUNCHER_SIZE_VARS)
    return max(sizes, default=1)


def check_memory(exp: Experiment, got: Resolved, errors: list[str]) -> Estimate:
    """The estimate; an error if one process would need more memory than is available
    (under MPI, the engine and the largest circuit)."""
    est = estimate(exp, got)
    avail = available_memory()
    if avail is None:
        return est
    mpi = launched_processes() > 1
    need = est.largest_process_bytes if mpi else est.memory_bytes
    if need <= avail:
        return est
    share = "its largest MPI process" if mpi else "one process"
    budget = f"expected at most the {byte_size(avail)} of memory available on this machine"
    if not est.circuits:
        errors.append(
            f"regions: got {getattr(got.connectome, 'n_regions', 0)} regions "
            f"and a delay history "
            f"needing about {byte_size(est.engine_bytes)}; {budget}"
        )
        return est
    big = max(est.circuits, key=lambda c: c.bytes)
    k = [str(c.name) for c in exp.circuits].index(big.name)
    given = {key: float(v) for key, v in exp.circuits[k].parameters.items()}
    errors.append(
        f"circuits[{k}].parameters: got {given} for {exp.circuits[k].model}: "
        f"{big.neurons:,} neurons and {big.synapses:,} synapses, about {byte_size(big.bytes)}; "
        f"with the mass engine and the rest, {share} needs {byte_size(need)}; {budget}"
    )
    return est
