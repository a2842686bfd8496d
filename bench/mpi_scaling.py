"""Distributed-run benchmarks: what MPI buys on this machine, what the co-simulation costs,
and a cost model for larger jobs. Prints ratios measured in this one script.

    python bench/mpi_scaling.py            # ~5 min on 2 cores
    python bench/mpi_scaling.py --repeat 5

(a) two circuits of 2000 neurons each in the 76-region connectome, 2 s: `mpiexec -n 2`
    against `-n 1` (wall time of the run, from the output file).
(b) co-simulation overhead: the same circuit inside the full co-simulation (engine,
    exchange, EEG, HDF5) against the circuit alone in Brian2 with the same drive refilled
    every window and nothing else; both in fresh processes with compiled code cached,
    timed from their first window on (set-up, which Brian2 pays once per run whatever
    the framework, is printed apart).
(c) a cost model from the per-window times measured in (b) and an MPI ping-pong of
    window-sized messages, predicting parallel efficiency at 16-128 ranks, with the bytes
    each window exchanges.

The two sides of (a) and of (b) take turns, ``--repeat`` times each; min and median are
printed, with the load average before and after (MPI needs one free core per rank).

All timings use the cython target after a warm-up run (compilation excluded).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
MPIEXEC = shutil.which("mpiexec", path=str(BIN)) or shutil.which("mpiexec")
MULTISCALE = shutil.which("multiscale", path=str(BIN)) or "multiscale"

EXPERIMENT = """
name: bench
seed: 1
duration: {duration}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 0.01}}
  integrator: {{noise: {{y4: 1.0e-3}}}}
circuits:
  - {{name: m1, model: ei_network, region: rM1, parameters: {{n_E: 1600, n_I: 400}},
      input_gain: {gain}, output_gain: 0.5, field_gain: 0.04}}
{second}
record: {{eeg: tvb65}}
brian: {{target: cython}}
output: {{path: out.h5, figures: false}}
"""
SECOND = """  - {name: v1, model: ei_network, region: lM1, parameters: {n_E: 1600, n_I: 400},
      input_gain: 20, output_gain: 0.5, field_gain: 0.04}"""


def run(workdir: Path, n_ranks: int, yaml: str, out: str) -> dict:
    cmd = [MULTISCALE, "run", yaml, "-q", "--no-figures", "-o", out]
    if n_ranks > 1:
        cmd = [MPIEXEC, "-n", str(n_ranks), *cmd]
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=workdir, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    with h5py.File(workdir / out) as f:
        return {
            "process_wall": wall,
            "run_wall": float(f.attrs["wall_time_s"]),
            "setup": float(f.attrs["setup_time_s"]),
            "boundaries": float(f.attrs["boundary_time_s"]),
            "engine": float(f.attrs["engine_time_s"]),
            "window_ms": float(f.attrs["window_ms"]),
            "duration_ms": float(f.attrs["duration_ms"]),
        }


def circuit_alone(duration_ms: float, window_ms: float) -> float:
    """The m1 circuit alone, in a fresh process like the coupled run: Brian2, its drive
    table refilled every window, nothing else. Returns the time of its run phase (s), from
    the first window on, as the coupled run's total minus its setup."""
    out = subprocess.run(
        [sys.executable, __file__, "--alone", str(duration_ms), str(window_ms)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _alone(duration_ms: float, window_ms: float) -> None:
    import brian2 as b2

    sys.path.insert(0, str(ROOT))
    from multiscale.circuits.ei_network import EINetwork

    b2.prefs.codegen.target = "cython"
    b2.seed(1)
    c = EINetwork(
        "m1",  # the coupled run's name: its compiled code is reused, not recompiled
        {"n_E": 1600, "n_I": 400},
        resolution_ms=1.0,
        window_ms=window_ms,
        rng=np.random.default_rng(1),
    )
    bins = int(window_ms)
    drive = np.zeros(bins)  # as the coupled run of (b): input_gain 0
    started = []

    @b2.network_operation(dt=window_ms * b2.ms, when="start")
    def refill(t):
        if not started:
            started.append(time.perf_counter())
        c.set_input_window(drive, float(t / b2.ms))

    b2.Network(*c.network_objects(), refill).run(duration_ms * b2.ms)
    print(time.perf_counter() - started[0])


PINGPONG = r"""
import time, numpy as np
from mpi4py import MPI
comm = MPI.COMM_WORLD; r = comm.Get_rank()
out = {}
for n in (7, 70, 700):
    buf = np.zeros(n); reps = 2000
    comm.Barrier(); t0 = time.perf_counter()
    for _ in range(reps):
        if r == 0: comm.Send(buf, 1); comm.Recv(buf, 1)
        else: comm.Recv(buf, 0); comm.Send(buf, 0)
    out[n] = (time.perf_counter() - t0) / reps / 2
if r == 0: print(__import__("json").dumps(out))
"""


def _stats(values: list[float]) -> str:
    return f"min {min(values):.2f} s median {statistics.median(values):.2f} s"


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=3, help="runs of each side, alternated")
    repeat = p.parse_args().repeat
    work = Path(tempfile.mkdtemp(prefix="ms_bench_"))
    # (b) cuts the circuit's input (input_gain 0) so that both sides simulate the same
    # circuit under the same drive: the difference is the co-simulation alone
    (work / "one.yaml").write_text(EXPERIMENT.format(duration="2 s", second="", gain=0))
    (work / "two.yaml").write_text(EXPERIMENT.format(duration="2 s", second=SECOND, gain=20))
    print(f"workdir {work}; warming up (compiles once)...", flush=True)
    run(work, 1, "two.yaml", "warm.h5")
    print(f"load average before: {_load()}")

    print(f"\n(a) two circuits (2 x 2000 neurons) + 76-region engine, 2 s simulated, "
          f"-n 1 and -n 2 alternated, {repeat} each")  # fmt: skip
    n1, n2 = [], []
    for i in range(repeat):
        n1.append(run(work, 1, "two.yaml", f"n1_{i}.h5"))
        n2.append(run(work, 2, "two.yaml", f"n2_{i}.h5"))
    w1, w2 = [r["run_wall"] for r in n1], [r["run_wall"] for r in n2]
    print(f"    -n 1: {_stats(w1)}   -n 2: {_stats(w2)}")
    print(f"    speed-up {statistics.median(w1) / statistics.median(w2):.2f} (medians; ideal "
          f"on 2 cores: 2.0)")  # fmt: skip

    print(f"\n(b) co-simulation overhead, one circuit (2000 neurons), 2 s simulated, "
          f"coupled and alone alternated, {repeat} each")  # fmt: skip
    coupled, alone = [], []
    for i in range(repeat):
        coupled.append(run(work, 1, "one.yaml", f"one{i}.h5"))
        alone.append(circuit_alone(coupled[-1]["duration_ms"], coupled[-1]["window_ms"]))
    phase = [r["run_wall"] - r["setup"] for r in coupled]
    engine = statistics.median(r["engine"] for r in coupled)
    print(
        f"    run phase (from the first window, both in fresh processes, compiled): coupled "
        f"{_stats(phase)} (engine {engine:.2f} s), circuit alone {_stats(alone)}: ratio "
        f"{statistics.median(phase) / statistics.median(alone):.2f} (medians)"
    )
    print(
        f"    without the engine's own integration: "
        f"{(statistics.median(phase) - engine) / statistics.median(alone):.2f}; set-up before "
        f"the first window: coupled {statistics.median(r['setup'] for r in coupled):.1f} s"
    )

    print("\n(c) cost model")
    pp = subprocess.run(
        [MPIEXEC, "-n", "2", sys.executable, "-c", PINGPONG],
        check=True,
        capture_output=True,
        text=True,
    )
    lat = {int(k): v for k, v in json.loads(pp.stdout.strip().splitlines()[-1]).items()}
    window_ms = n1[0]["window_ms"]
    windows = n1[0]["duration_ms"] / window_ms
    t_engine = engine / windows  # s per window
    # one 2000-neuron circuit as the coupled run drives it: Brian2 plus its boundary work
    t_circuit = (statistics.median(phase) - engine) / windows
    bins = int(round(window_ms / 1.0))  # exchange bins of 1 ms (cosim.resolution)
    # what travels per circuit per window (transport.py): its rate and field per bin to
    # the engine, and its input per bin plus a stop flag back
    out_bytes, in_bytes = 8 * 2 * bins, 8 * (bins + 1)
    t_msg = lat[min(lat, key=lambda n: abs(n - 2 * bins))]
    print(
        f"    measured per window ({window_ms:g} ms, {bins} bins): engine "
        f"{t_engine * 1e3:.2f} ms, one 2000-neuron circuit {t_circuit * 1e3:.2f} ms, one "
        f"message ({2 * bins} doubles) {t_msg * 1e6:.1f} us"
    )
    print(
        f"    bytes per window and circuit: {out_bytes} to the engine (rate and field per "
        f"bin), {in_bytes} back (input per bin and a stop flag): {out_bytes + in_bytes} B"
    )
    print("    model: P ranks, one 2000-neuron circuit per rank beside the engine's rank;")
    print("    window time = max(engine + (P-1) messages in + (P-1) out serialised on the")
    print("    engine rank, circuit + 2 messages); efficiency = serial time / (P x window time)")
    print("    assumes: intra-node latency as measured here (inter-node ~2-5x more), no")
    print("    contention, circuits of equal size, engine cost independent of P.")
    for P in (16, 32, 64, 128):
        n_c = P - 1
        serial = t_engine + n_c * t_circuit
        engine_side = t_engine + 2 * n_c * t_msg
        circuit_side = t_circuit + 2 * t_msg
        window = max(engine_side, circuit_side)
        print(
            f"    P = {P:4d}: predicted window {window * 1e3:6.2f} ms, efficiency "
            f"{serial / (P * window):.2f}; the engine rank receives "
            f"{n_c * out_bytes / 1024:.1f} kB and sends {n_c * in_bytes / 1024:.1f} kB a window"
        )
    print(f"\nload average after: {_load()}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--alone":
        _alone(float(sys.argv[2]), float(sys.argv[3]))
    else:
        main()
