"""`multiscale run` on large synthetic sparse connectomes (masses only): wall time, peak
resident memory and output size.

Each connectome is random: every region receives ``--edges`` connections (default 30)
from regions drawn uniformly (no self-connections), weights uniform in (0, 1] divided by
the in-degree, tract lengths uniform in 10-150 mm; saved with scipy.sparse.save_npz and
given to the experiment as ``connectome: {source: {weights: w.npz, lengths: l.npz}}``
(Jansen-Rit, 0.1 ms steps, noise; no sensors unless ``--centres``, which places the
regions at random in a 70 mm ball so that the default sphere-model EEG is recorded).
Each size is run in its own process; the peak is that process's ru_maxrss.

    python bench/large_connectome.py                      # 5000 and 20000 regions, 200 ms
    python bench/large_connectome.py --regions 5000 --duration "1 s" --centres
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# runs a command in a child and prints the child's peak RSS (kB on Linux) and wall time
_PEAK = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "wall = time.perf_counter() - t\n"
    "sys.stderr.write(p.stdout + p.stderr)\n"
    "print(p.returncode, wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)

EXPERIMENT = """name: synthetic_{n}
seed: 1
duration: {duration}
connectome:
  source: {{weights: w.npz, lengths: l.npz{centres}}}
  conduction_speed: 3 m/s
regions:
  model: jansen_rit
  parameter_set: jansen_rit_1995
  coupling: {{kind: sigmoidal_jansen_rit, a: 0.01}}
  integrator: {{dt: 0.1 ms, noise: {{y4: 1.0e-3}}}}
record: {{sampling_rate: 1000 Hz{eeg}}}
output: {{path: out.h5, figures: false}}
"""


def make_connectome(folder: Path, n: int, edges: int, centres: bool, seed: int = 0) -> None:
    import scipy.sparse

    rng = np.random.default_rng(seed)
    rows = np.repeat(np.arange(n), edges)
    cols = rng.integers(0, n - 1, n * edges)
    cols += cols >= rows  # no self-connections
    keys = np.unique(rows * n + cols)  # a pair drawn twice counts once
    rows, cols = keys // n, keys % n
    weights = rng.uniform(0, 1, keys.size)
    weights = np.where(weights == 0, 1.0, weights) / edges
    lengths = rng.uniform(10.0, 150.0, keys.size)
    shape = (n, n)
    scipy.sparse.save_npz(folder / "w.npz", scipy.sparse.csr_array((weights, (rows, cols)), shape))
    scipy.sparse.save_npz(folder / "l.npz", scipy.sparse.csr_array((lengths, (rows, cols)), shape))
    if centres:
        x = rng.normal(size=(n, 3))
        x *= (70.0 * rng.uniform(0, 1, n) ** (1 / 3) / np.linalg.norm(x, axis=1))[:, None]
        np.save(folder / "centres.npy", x)


def run(folder: Path, duration: str, centres: bool) -> tuple[int, float, int, str]:
    n = int(np.load(folder / "w.npz")["shape"][0])
    (folder / "x.yaml").write_text(
        EXPERIMENT.format(
            n=n,
            duration=duration,
            centres=", centres: centres.npy" if centres else "",
            eeg="" if centres else ", eeg: null",
        )
    )
    command = [sys.executable, "-m", "multiscale.cli", "run", "x.yaml", "-q", "--overwrite"]
    p = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], cwd=folder, capture_output=True, text=True
    )
    code, wall, peak = p.stdout.split()
    return int(code), float(wall), int(peak), p.stderr


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--regions", type=int, nargs="+", default=[5000, 20000])
    p.add_argument("--edges", type=int, default=30, help="connections into each region")
    p.add_argument("--duration", default="200 ms")
    p.add_argument("--centres", action="store_true", help="region centres: EEG recorded")
    p.add_argument("--keep", help="work in this folder (kept) instead of a temporary one")
    args = p.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1, 5 min)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.keep or tmp)
        for n in args.regions:
            folder = root / f"n{n}"
            folder.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            make_connectome(folder, n, args.edges, args.centres)
            made = time.perf_counter() - t
            nnz = int(np.load(folder / "w.npz")["data"].size)
            code, wall, peak_kb, log = run(folder, args.duration, args.centres)
            out = folder / "out.h5"
            size = out.stat().st_size if out.exists() else 0
            line = [ln for ln in log.splitlines() if "simulated in" in ln]
            print(
                f"{n} regions, {nnz} edges ({made:.1f} s to make): exit {code}, wall "
                f"{wall:.1f} s, peak RSS {peak_kb / 1024:.0f} MB, output {size / 2**20:.1f} MB"
                f"; {line[0].split(':', 1)[1].strip() if line else log[-2000:]}"
            )


if __name__ == "__main__":
    main()
