"""What checkpoints cost in a real run: the size of one checkpoint on disk, the time to
write one, and the whole run's wall time with a checkpoint every simulated second against
none (the same run otherwise: same file, seed and outputs).

    python bench/checkpoint_cost.py                 # resting_state and cortical_column
    python bench/checkpoint_cost.py --repeats 3

Each experiment runs as `multiscale run` in a fresh process, the two sides alternated and
their order flipped every repetition (A B, B A, ...); prints min and median of each figure
and the load average, since these 2-core machines are shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = {
    "resting_state": ROOT / "experiments/resting_state.yaml",
    "cortical_column": ROOT / "experiments/cortical_column.yaml",
}
EVERY = "1 s"


def run(experiment: Path, folder: Path, checkpoints: bool) -> dict:
    out = folder / ("with.h5" if checkpoints else "without.h5")
    for old in folder.glob(f"{out.stem}*"):
        shutil.rmtree(old) if old.is_dir() else old.unlink()
    cmd = [sys.executable, "-m", "multiscale.cli", "run", str(experiment), "-q"]
    cmd += ["--no-figures", "-o", str(out)]
    if checkpoints:
        cmd += ["--checkpoint-every", EVERY]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, env=dict(os.environ))
    wall = time.perf_counter() - t0
    with h5py.File(out) as f:
        result = {
            "wall_s": wall,
            "run_s": float(f.attrs["wall_time_s"]),
            "checkpoint_s": float(f.attrs.get("checkpoint_time_s", 0.0)),
            "count": sum(1 for t, n, _ in f["perturbations"][:] if n == b"checkpoint"),
        }
    folder_ck = folder / f"{out.stem}.checkpoints"
    sets = [d for d in folder_ck.iterdir()] if folder_ck.exists() else []
    result["size_mb"] = sum(p.stat().st_size for p in sets[-1].iterdir()) / 1e6 if sets else 0.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("experiments", nargs="*", default=list(EXPERIMENTS))
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    for name in args.experiments:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            run(EXPERIMENTS[name], folder, False)  # compile and warm the caches, not timed
            results = {True: [], False: []}
            for r in range(args.repeats):
                order = (False, True) if r % 2 == 0 else (True, False)
                for side in order:
                    results[side].append(run(EXPERIMENTS[name], folder, side))
        w, wo = results[True], results[False]
        per = [x["checkpoint_s"] / max(x["count"], 1) for x in w]
        print(f"\n{name}: a checkpoint every {EVERY} ({w[0]['count']} in the run)")
        print(f"  one checkpoint on disk: {w[0]['size_mb']:.2f} MB")
        print(
            f"  time to write one: min {min(per) * 1e3:.1f} ms, "
            f"median {statistics.median(per) * 1e3:.1f} ms"
        )
        for label, rows in (("without", wo), ("with", w)):
            runs = [x["run_s"] for x in rows]
            print(
                f"  run phase {label:7s} checkpoints: min {min(runs):.2f} s, "
                f"median {statistics.median(runs):.2f} s"
            )
    print(f"\nload average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
