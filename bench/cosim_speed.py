"""The default co-simulation's speed: this checkout against another, alternated A B A B.

    python bench/cosim_speed.py --against /path/to/other/checkout   # e.g. a worktree of main
    python bench/cosim_speed.py                                     # this checkout only

Three measurements, each side in fresh processes with its compiled code cached (one
warm-up run each first):

1. ``multiscale run experiments/resting_state.yaml`` (10 s simulated, figures and report
   included): the whole command's wall time, and its run phase (the output's
   ``wall_time_s``: from the start of the run to its last window).
2. The same experiment with the circuit's input cut (``input_gain`` 0, no figures,
   ``--duration``): the co-simulation's run phase from its first window on
   (``wall_time_s - setup_time_s``).
3. The same circuit alone (``multiscale.drive.run_circuit``: the same window protocol, no
   engine, no output), built with the same seeds, so that it gets the very drive of 2, for
   the same duration, timed from its first window. Its E spike count must equal the one
   in 2: the check that both simulate the same thing. 2 / 3 is the co-simulation's cost.

Each side runs with its own interpreter: the other checkout's ``.venv/bin/python`` (its
editable install imports that checkout), or ``--against-python``. Prints every time, the
minimum and median of each, the median ratios and the load average around each run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[1]

ALONE = r"""
import sys, time
import numpy as np, brian2 as b2
from multiscale.circuits import CIRCUITS
from multiscale.cosim import stream_seed
from multiscale.drive import run_circuit
seed, duration_ms, window_ms = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
b2.prefs.codegen.target = "cython"
b2.prefs.logging.console_log_level = "WARNING"
b2.defaultclock.dt = 0.1 * b2.ms
b2.seed(stream_seed(seed, "circuit.m1"))  # as multiscale.cosim builds circuit m1
c = CIRCUITS["ei_network"]("m1", {"n_E": 800, "n_I": 200}, resolution_ms=1.0,
                           window_ms=window_ms,
                           rng=np.random.default_rng(stream_seed(seed, "circuit.m1.drive")))
first = []
def no_input(k, bins):
    if not first:
        first.append(time.perf_counter())
    return 0.0
run = run_circuit(c, duration_ms, no_input)
print(time.perf_counter() - first[0], len(run.spikes["E"].times_ms))
"""


def load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def whole(python: str, cwd: Path, extra: list[str]) -> tuple[float, float, float, int]:
    """Wall time of ``multiscale run resting_state`` (s), its run phase, its run phase from
    the first window, and its E spike count."""
    out = cwd / "out.h5"
    argv = [python, "-m", "multiscale.cli", "run", str(ROOT / "experiments/resting_state.yaml")]
    argv += ["-q", "--overwrite", "-o", str(out), *extra]
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    with h5py.File(out) as f:
        run, setup = float(f.attrs["wall_time_s"]), float(f.attrs["setup_time_s"])
        n = _spikes(f)
    return wall, run, run - setup, n


def _spikes(f: h5py.File) -> int:
    """E spikes of circuit m1 in an output (its main file holds them on one rank)."""
    found = []
    f.visititems(
        lambda name, obj: found.append(obj) if name.endswith("m1/spikes/E/times") else None
    )
    return len(found[0]) if found else -1


def alone(python: str, cwd: Path, seed: int, duration_ms: float, window_ms: float):
    out = subprocess.run(
        [python, "-c", ALONE, str(seed), str(duration_ms), str(window_ms)],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    )
    t, n = out.stdout.split()[-2:]
    return float(t), int(n)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", help="another checkout (its root folder)")
    p.add_argument("--against-python", help="the interpreter that imports the other checkout")
    p.add_argument("--pairs", type=int, default=3, help="A B repetitions (default 3)")
    p.add_argument("--duration", default="4 s", help="simulated time of 2 and 3 (default 4 s)")
    args = p.parse_args()
    sides = {"this": sys.executable}
    if args.against or args.against_python:
        other = args.against_python or str(Path(args.against) / ".venv" / "bin" / "python")
        if not Path(other).exists():
            sys.exit(f"no interpreter {other}: give --against-python")
        sides = {"other": other, "this": sys.executable}
    duration_ms = float(args.duration.split()[0]) * (1000.0 if args.duration.endswith(" s") else 1)
    cut = ["--no-figures", "--set", "circuits.0.input_gain=0", "--set", f"duration={args.duration}"]
    times: dict[tuple[str, str], list[float]] = {}

    def note(what: str, side: str, value: float, before: str) -> None:
        times.setdefault((what, side), []).append(value)
        print(f"  {side:5s} {what:28s} {value:7.2f} s   (load {before} -> {load()})", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        for python in sides.values():  # compile and cache each side's code first
            whole(python, cwd, [*cut, "--set", "duration=0.2 s"])
            alone(python, cwd, 42, 200.0, 7.0)
        for k in range(args.pairs):
            print(f"pair {k + 1}:")
            for name, python in sides.items():
                before = load()
                wall, run, _, _ = whole(python, cwd, [])
                note("resting_state, command", name, wall, before)
                note("resting_state, run phase", name, run, before)
            for name, python in sides.items():
                before = load()
                _, _, coupled, n_coupled = whole(python, cwd, cut)
                note("co-simulation, from window 0", name, coupled, before)
                before = load()
                t, n_alone = alone(python, cwd, 42, duration_ms, 7.0)
                note("circuit alone, from window 0", name, t, before)
                times.setdefault(("ratio", name), []).append(coupled / t)
                if n_alone != n_coupled:
                    print(f"  {name}: E spikes {n_coupled} coupled, {n_alone} alone: not the same")
    print("\nsummary (s; min, median over the pairs)")
    for (what, side), values in times.items():
        if what != "ratio":
            mid = statistics.median(values)
            print(f"  {side:5s} {what:28s} min {min(values):6.2f}  median {mid:6.2f}")
    for side in sides:
        r = times[("ratio", side)]
        print(
            f"  {side:5s} co-simulation / circuit alone, paired: min {min(r):.3f} "
            f"median {statistics.median(r):.3f}"
        )
    if len(sides) == 2:
        for what in ("resting_state, command", "resting_state, run phase"):
            a = statistics.median(times[(what, "other")])
            b = statistics.median(times[(what, "this")])
            print(f"  {what}: other / this (medians) {a / b:.2f}x")
    print(f"load average at the end {load()} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
