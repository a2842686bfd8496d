"""A circuit's statistics over seeds, this checkout against another: for a change that keeps
the model but not its random streams (the drive's generator, connectivity drawn in
another order), the mean over seeds must agree within the spread between seeds.

    python bench/circuit_statistics.py --against /path/to/other/checkout [--seeds 8]

Per seed: the E/I network (default size) driven alone at its background rate plus
``--input`` Hz per fibre (``multiscale.drive_circuit``, cython), ``--duration`` simulated
after a 200 ms transient; E and I rates (Hz), the field proxy's SD (mV) and the share of
its 2-200 Hz power in 30-80 Hz (gamma). Prints each side's mean +- standard error over
seeds and the difference in units of the combined standard error.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

WORKER = r"""
import json, sys
import numpy as np
import multiscale as ms
seed, duration_ms, input_hz = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
run = ms.drive_circuit("ei_network", input_hz=input_hz, duration=f"{duration_ms + 200} ms",
                       seed=seed, target="cython")
x = run.field[200:]
f = np.fft.rfftfreq(len(x), 1e-3)
p = np.abs(np.fft.rfft((x - x.mean()) * np.hanning(len(x)))) ** 2
gamma = p[(f >= 30) & (f <= 80)].sum() / p[(f >= 2) & (f <= 200)].sum()
print(json.dumps({"E": run.population_rate("E", 0.2), "I": run.population_rate("I", 0.2),
                  "field_sd": float(np.std(x)), "gamma": float(gamma)}))
"""


def one(python: str, seed: int, duration_ms: float, input_hz: float) -> dict:
    out = subprocess.run(
        [python, "-c", WORKER, str(seed), str(duration_ms), str(input_hz)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--against", help="another checkout (its .venv/bin/python runs it)")
    p.add_argument("--against-python")
    p.add_argument("--seeds", type=int, default=8)
    p.add_argument("--duration", type=float, default=2000.0, help="scored ms per seed")
    p.add_argument("--input", type=float, default=0.0, help="afferent input, Hz per fibre")
    args = p.parse_args()
    sides = {"this": sys.executable}
    if args.against or args.against_python:
        sides["other"] = args.against_python or str(Path(args.against) / ".venv/bin/python")
    results = {side: [] for side in sides}
    for seed in range(1, args.seeds + 1):
        for side, python in sides.items():
            results[side].append(one(python, seed, args.duration, args.input))
            print(f"seed {seed} {side:5s} {results[side][-1]}", flush=True)
    print(f"\n{args.seeds} seeds, {args.duration:g} ms each, input {args.input:g} Hz per fibre")
    for key in ("E", "I", "field_sd", "gamma"):
        stats = {}
        for side in sides:
            v = np.array([r[key] for r in results[side]])
            stats[side] = (v.mean(), v.std(ddof=1) / np.sqrt(len(v)))
        line = "  ".join(f"{s} {m:.4g} +- {e:.2g}" for s, (m, e) in stats.items())
        if len(sides) == 2:
            (m1, e1), (m2, e2) = stats["this"], stats["other"]
            line += f"  difference {(m1 - m2) / np.hypot(e1, e2):+.2f} standard errors"
        print(f"  {key:9s} {line}")


if __name__ == "__main__":
    main()
