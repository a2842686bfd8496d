"""Whole-process wall time of `multiscale validate` and of a 10 s masses-only `multiscale
run` (figures included, as a user runs it), this checkout against another one.

The experiment is experiments/smoke.yaml without its circuit (76 regions, Jansen-Rit,
EEG): what a masses-only study runs, which needs neither Brian2 nor, until its figures,
matplotlib. Each command is a fresh process (imports included). The two checkouts take
turns (A B A B ...), ``--repeat`` times each, and the script prints each side's minimum
and median and the load average before and after, since other work on the machine moves
wall times; compare the ratio of one session rather than numbers across sessions.

    python bench/startup.py --against /path/to/other/checkout   # e.g. a git worktree of main
    python bench/startup.py --repeat 5
    python bench/startup.py --tvb-python /path/to/tvbenv/bin/python  # against TVB 2.10

Without ``--against`` only this checkout is timed. Both sides run with this interpreter
(the other checkout's ``multiscale`` package first on PYTHONPATH).

With ``--tvb-python`` (default $TVB_PYTHON, if set) the same run is also done by TVB as a
whole process, alternated with ours: a script that imports TVB, loads tvb-data's
76-region connectivity and EEG projection (paths passed in: the TVB environment needs
nothing of ours), builds Jansen-Rit with the file's parameters (the 1995 set: v0 = 6 mV,
mu = 0.22 /ms, TVB's defaults otherwise), SigmoidalJansenRit coupling (a = 0.01), speed
3 mm/ms, stochastic Heun at dt 0.1 ms with additive noise on y4 only (D = 1e-3), records
1 ms averages of y1 - y2 and the 65-channel EEG at 1 ms, and saves both with numpy (ours
writes the regions and EEG at 1 kHz to HDF5). Ours is timed without figures (equal
outputs) and with them (as a user runs it). The ratio printed is TVB's median over ours.
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

ROOT = Path(__file__).resolve().parents[1]


def masses_only(folder: Path) -> Path:
    """experiments/smoke.yaml without its circuits section."""
    lines, skipping = [], False
    for line in (ROOT / "experiments" / "smoke.yaml").read_text().splitlines():
        if line.startswith("circuits:"):
            skipping = True
            continue
        if skipping and line and not line[0].isspace():
            skipping = False
        if not skipping:
            lines.append(line)
    path = folder / "smoke_masses_only.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def timed(checkout: Path, args: list[str], cwd: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(checkout))
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "multiscale.cli", *args], cwd=cwd, env=env,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - t


#: the TVB side's whole process (argv: connectivity, sensors, projection, region mapping,
#: duration in ms, output folder); imports only numpy and tvb
TVB_SCRIPT = """
import sys, warnings, logging
warnings.filterwarnings("ignore"); logging.disable(logging.WARNING)
import numpy as np
from tvb.datatypes.connectivity import Connectivity
from tvb.simulator import coupling, integrators, models, monitors, noise, simulator
conn_file, sensors, projection, mapping, duration, out = sys.argv[1:7]
conn = Connectivity.from_file(conn_file)
conn.speed = np.array([3.0])
model = models.JansenRit(v0=np.array([6.0]), mu=np.array([0.22]))
model.variables_of_interest = ("y1", "y2")
nsig = np.zeros((6, 1, 1)); nsig[4] = 1e-3
eeg = monitors.EEG.from_file(sensors, projection, rm_f_name=mapping, period=1.0, obsnoise=None)
sim = simulator.Simulator(
    model=model, connectivity=conn, coupling=coupling.SigmoidalJansenRit(a=np.array([0.01])),
    integrator=integrators.HeunStochastic(dt=0.1, noise=noise.Additive(nsig=nsig)),
    conduction_speed=3.0, monitors=[monitors.TemporalAverage(period=1.0), eeg],
    simulation_length=float(duration),
).configure()
(t1, avg), (t2, e) = sim.run()
np.save(out + "/regions.npy", avg[:, 0, :, 0] - avg[:, 1, :, 0])
np.save(out + "/eeg.npy", e[:, 0, :, 0] - e[:, 1, :, 0])
"""


def tvb_command(python: str, folder: Path, duration_ms: float) -> list[str]:
    """TVB's whole-process run (TVB_SCRIPT) with tvb-data's files."""
    from multiscale.connectome import tvb_data_dir

    data = tvb_data_dir()
    files = [
        data / "connectivity" / "connectivity_76.zip",
        data / "sensors" / "eeg_brainstorm_65.txt",
        data / "projectionMatrix" / "projection_eeg_65_surface_16k.npy",
        data / "regionMapping" / "regionMapping_16k_76.txt",
    ]
    return [python, "-c", TVB_SCRIPT, *map(str, files), f"{duration_ms:g}", str(folder)]


def timed_tvb(command: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", help="another checkout (its root folder) to compare with")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--duration", default="10 s", help="the run's simulated duration")
    p.add_argument("--tvb-python", default=os.environ.get("TVB_PYTHON"),
                   help="an interpreter with TVB 2.10: time TVB's whole process too")  # fmt: skip
    args = p.parse_args()
    sides = {"this": ROOT}
    if args.against:
        sides["other"] = Path(args.against).resolve()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        exp = masses_only(cwd)
        run = ["run", str(exp), "-q", "--overwrite", "-o", str(cwd / "out.h5"),
               "--set", f"duration={args.duration}"]  # fmt: skip
        commands = {
            "validate": ["validate", str(exp)],
            f"run {args.duration}": run,
            f"run {args.duration} (no figures)": [*run, "--no-figures"],
        }
        tvb = None
        if args.tvb_python:
            from multiscale.quantities import to_float

            tvb = tvb_command(args.tvb_python, cwd, to_float(args.duration, "ms"))
            timed_tvb(tvb)  # warm: numba's cache, bytecode
        for side in sides.values():  # warm the caches (kernel, bytecode) before timing
            timed(side, commands[f"run {args.duration}"], cwd)
        times = {(c, s): [] for c in commands for s in sides}
        tvb_times = []
        for _ in range(args.repeat):
            if tvb is not None:
                tvb_times.append(timed_tvb(tvb))
            for command, argv in commands.items():
                for name, side in sides.items():
                    times[(command, name)].append(timed(side, argv, cwd))
    for command in commands:
        line = []
        for name in sides:
            t = times[(command, name)]
            line.append(f"{name} min {min(t):.2f} s median {statistics.median(t):.2f} s")
        if len(sides) == 2:
            ratio = statistics.median(times[(command, "this")]) / statistics.median(
                times[(command, "other")]
            )
            line.append(f"median ratio this/other {ratio:.2f}")
        print(f"{command:>12}: " + "; ".join(line) + f" (n = {args.repeat} each)")
    if tvb_times:
        tvb_median = statistics.median(tvb_times)
        print(f"TVB 2.10 run {args.duration}, whole process: min {min(tvb_times):.2f} s median "
              f"{tvb_median:.2f} s (n = {len(tvb_times)})")  # fmt: skip
        for command in commands:
            if command.startswith("run"):
                ours = statistics.median(times[(command, "this")])
                print(f"  TVB / ours ({command}): {tvb_median / ours:.1f}x (medians)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
