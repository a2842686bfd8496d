"""Experiments for the tests: a tiny connectome to run circuits in, and a shipped
experiment file's sweep conditions."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import numpy as np

from multiscale.config import Experiment, load_experiment
from multiscale.cosim import Simulation
from multiscale.sweep import variants

#: R0 -> R1 -> R2; R0 -> R3 (rows target, columns source): a circuit in R1 hears R0 and
#: speaks to R2 only; R3 hears R0 alone
TINY_WEIGHTS = np.array(
    [
        [0.0, 0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
    ]
)
TINY_LENGTHS = np.full((4, 4), 15.0)  # mm: 5 ms at 3 m/s


def write_tiny_connectome(folder: Path) -> None:
    """w.npy and l.npy in ``folder``, for ``connectome: {source: {weights: w.npy, lengths:
    l.npy}}``."""
    np.save(folder / "w.npy", TINY_WEIGHTS)
    np.save(folder / "l.npy", TINY_LENGTHS)


def run_conditions(experiment: Path, folder: Path) -> dict[str, tuple[Path, Experiment]]:
    """Run every condition of ``experiment``'s own ``sweep:`` section, each to
    ``folder / <condition>.h5``; the output file and the loaded experiment by condition."""
    out = {}
    for name, overrides in variants(experiment, {}):
        path = folder / f"{name}.h5"
        exp = load_experiment(experiment, {**overrides, "output.path": str(path)})
        assert Simulation(exp.plan, progress=False).run(), (
            f"{experiment.name} ({name}) did not finish"
        )
        out[name] = (path, exp)
    return out


def start_writing(cmd: list[str], folder: Path, partial: Path, rows: int, timeout: float):
    """Start ``cmd`` in the background in ``folder``; return it once the run's unfinished
    output ``partial`` holds ``rows`` flushed region samples (so it can be stopped or killed
    in the middle of a run)."""
    from multiscale.outputs import open_output

    proc = subprocess.Popen(
        cmd, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            with open_output(partial) as f:
                if f["regions/data"].shape[0] >= rows:
                    return proc
        except (OSError, KeyError, ValueError):  # not there yet, or not yet flushed
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"{cmd} did not write {rows} samples within {timeout} s")
