"""Peak memory of `multiscale run` (figures included) and of `multiscale report` on a
short and a long simulated duration of the same experiment, and their ratio.

The run streams to HDF5 and the summary, measures, figures and report.html read the
output in bounded chunks, so the peak resident set size should hardly grow with the
simulated duration (goal: the long one within 1.2x of the short one). By default
experiments/resting_state.yaml (76 regions, an E/I circuit of 1000 cells, EEG and MEG) at
10 s and 120 s: about 1 + 6 min on 2 cores. Each command runs in its own process; its
peak is that process's ru_maxrss (memory does not depend on the machine's load).

    python bench/memory_flat.py
    python bench/memory_flat.py --experiment experiments/stroke_lesion.yaml --long "300 s"
    python bench/memory_flat.py --keep results/memory_flat   # keep the outputs
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# runs a command in a child and prints the child's peak RSS (kB on Linux): a fresh
# process each time, so that RUSAGE_CHILDREN holds that command alone
_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "multiscale.cli", *args]


def peak_mb(command: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall time in s) of a command run in a fresh child."""
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _PEAK, *command], check=True,
                         capture_output=True, text=True)  # fmt: skip
    return int(out.stdout.split()[-1]) / 1024, time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--experiment", default=str(ROOT / "experiments" / "resting_state.yaml"))
    p.add_argument("--short", default="10 s", help="the short duration (default 10 s)")
    p.add_argument("--long", default="120 s", help="the long duration (default 120 s)")
    p.add_argument("--keep", help="write the outputs in this folder (kept)")
    args = p.parse_args()
    print(f"{args.experiment}; load average {os.getloadavg()[0]:.2f} (1 min)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        peaks = {}
        for duration in (args.short, args.long):
            out = folder / f"{Path(args.experiment).stem}_{duration.replace(' ', '')}.h5"
            run, t_run = peak_mb(
                cli("run", args.experiment, "-q", "--overwrite", "-o", str(out),
                    "--set", f"duration={duration}")
            )  # fmt: skip
            report, t_report = peak_mb(cli("report", str(out)))
            peaks[duration] = (run, report)
            print(
                f"{duration:>6}: run (figures included) peak RSS {run:6.0f} MB ({t_run:5.0f} s "
                f"wall), report {report:6.0f} MB ({t_report:4.0f} s wall)"
            )
        (run_s, rep_s), (run_l, rep_l) = peaks[args.short], peaks[args.long]
        print(
            f"ratio {args.long} / {args.short}: run {run_l / run_s:.2f}, report "
            f"{rep_l / rep_s:.2f} (goal: at most 1.2); load average "
            f"{os.getloadavg()[0]:.2f} (1 min)"
        )


if __name__ == "__main__":
    main()
