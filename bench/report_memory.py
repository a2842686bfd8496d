"""Peak memory of `multiscale report` on a 10 s and a 120 s masses-only output.

The summary, figures and report.html read the output in chunks, so the peak resident set
size should hardly grow with the simulated duration (goal: the 120 s one within 1.2x of
the 10 s one). Builds both outputs (experiments/stroke_lesion.yaml, ~1 min on one core),
then runs `multiscale report` on each in its own process and prints the peaks.

    python bench/report_memory.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "stroke_lesion.yaml"

# runs a command in a child and prints the child's peak RSS (kB on Linux): a fresh
# process each time, so that RUSAGE_CHILDREN holds that command alone
_PEAK = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "multiscale.cli", *args]


def build(out: Path, duration: str) -> None:
    subprocess.run(
        cli("run", str(EXPERIMENT), "-q", "--no-figures", "--overwrite", "-o", str(out),
            "--set", f"duration={duration}"),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def peak_kb(command: list[str]) -> int:
    out = subprocess.run([sys.executable, "-c", _PEAK, *command], check=True,
                         capture_output=True, text=True)  # fmt: skip
    return int(out.stdout.split()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--keep", help="build the outputs in this folder (kept) instead of a temp one")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        peaks = {}
        for duration in ("10 s", "120 s"):
            out = folder / f"stroke_{duration.split()[0]}s.h5"
            if not out.exists():
                build(out, duration)
            peaks[duration] = peak_kb(cli("report", str(out)))
            print(
                f"multiscale report, {duration:>5} output: peak RSS {peaks[duration] / 1024:.0f} MB"
            )
        print(f"ratio 120 s / 10 s: {peaks['120 s'] / peaks['10 s']:.2f} (goal: at most 1.2)")


if __name__ == "__main__":
    main()
