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

Without ``--against`` only this checkout is timed. Both sides run with this interpreter
(the other checkout's ``multiscale`` package first on PYTHONPATH).
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", help="another checkout (its root folder) to compare with")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--duration", default="10 s", help="the run's simulated duration")
    args = p.parse_args()
    sides = {"this": ROOT}
    if args.against:
        sides["other"] = Path(args.against).resolve()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        exp = masses_only(cwd)
        commands = {
            "validate": ["validate", str(exp)],
            f"run {args.duration}": ["run", str(exp), "-q", "--overwrite", "-o",
                                     str(cwd / "out.h5"), "--set", f"duration={args.duration}"],
        }  # fmt: skip
        for side in sides.values():  # warm the caches (kernel, bytecode) before timing
            timed(side, commands[f"run {args.duration}"], cwd)
        times = {(c, s): [] for c in commands for s in sides}
        for _ in range(args.repeat):
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
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
