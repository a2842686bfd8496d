"""Brian2's C++ standalone mode against the runtime (cython) mode the co-simulation uses, for
the E/I network at several sizes: what standalone would give a circuit.

    python bench/standalone_circuit.py              # sizes 1000 and 5000 cells, 1 s
    python bench/standalone_circuit.py --sizes 1000 5000 20000 --duration 2000

Both modes simulate the same circuit (``ei_network``, 80 % E cells, same seeds), driven
at its background rate with the drive drawn in generated code (multiscale.poisson_drive,
whose C++ implementation standalone compiles): runtime through the co-simulation's window
protocol (``multiscale.drive.run_circuit``, 7 ms windows, the rate tables refilled and the
spikes collected at every window boundary by a Python operation); standalone as one
compiled program in which the window tables, written once before the build, are read
cyclically in generated code: the exchange's input side in generated code, with a constant
input, since a standalone program has no Python during its run to receive the engine's
next window. Prints the simulation time of each (standalone: the program's own measure of
its run, without compilation), the ratio, the compile time standalone pays for every new
size or parameter, and the E rates (they differ only by the connectivity's random draw).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

WORKER = r"""
import sys, time
import numpy as np, brian2 as b2
from multiscale.circuits import CIRCUITS
from multiscale.drive import run_circuit
mode, n, duration_ms, folder = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
b2.prefs.logging.console_log_level = "WARNING"
params = {"n_E": int(0.8 * n), "n_I": n - int(0.8 * n)}
if mode == "standalone":
    b2.set_device("cpp_standalone", directory=folder, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
else:
    b2.prefs.codegen.target = "cython"
b2.defaultclock.dt = 0.1 * b2.ms
b2.seed(1)
c = CIRCUITS["ei_network"]("sa", params, resolution_ms=1.0, window_ms=7.0,
                           rng=np.random.default_rng(1))
if mode == "standalone":
    c.set_input_window(np.zeros(7), 0.0)  # the tables every window reads
    net = b2.Network(*c.network_objects())
    net.run(duration_ms * b2.ms)
    t0 = time.perf_counter()
    b2.device.build(run=False, directory=folder, compile=True)
    compiled = time.perf_counter() - t0
    t0 = time.perf_counter()
    b2.device.run(directory=folder, with_output=False, run_args=[])
    wall = time.perf_counter() - t0
    spikes = c._spike_monitors[c.cells.name][0].num_spikes
    e = np.count_nonzero(np.asarray(c._spike_monitors[c.cells.name][0].i[:]) < params["n_E"])
    print(b2.device._last_run_time, wall, compiled, e / params["n_E"] / (duration_ms / 1e3))
else:
    first = []
    def no_input(k, bins):
        if not first:
            first.append(time.perf_counter())
        return 0.0
    run = run_circuit(c, duration_ms, no_input)
    print(time.perf_counter() - first[0], 0, 0, run.population_rate("E"))
"""


def measure(mode: str, n: int, duration_ms: float) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        out = subprocess.run(
            [sys.executable, "-c", WORKER, mode, str(n), str(duration_ms), folder],
            check=True,
            capture_output=True,
            text=True,
        )
    return [float(x) for x in out.stdout.split()[-4:]]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--duration", type=float, default=1000.0, help="simulated ms")
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
    print(f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}, {args.duration:g} ms")
    for n in args.sizes:
        measure("runtime", n, 200.0)  # compile the runtime's code once
        rt, sa = [], []
        for _ in range(args.repeat):  # alternated
            rt.append(measure("runtime", n, args.duration))
            sa.append(measure("standalone", n, args.duration))
        r, s = min(x[0] for x in rt), min(x[0] for x in sa)
        print(
            f"{n:6d} cells: runtime (cython, windows) {r:6.2f} s, standalone {s:6.2f} s "
            f"(program {min(x[1] for x in sa):.2f} s, compile {min(x[2] for x in sa):.1f} s): "
            f"runtime / standalone {r / s:.2f}; E rate {rt[0][3]:.2f} / {sa[0][3]:.2f} Hz"
        )
    print(f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
