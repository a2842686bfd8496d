"""Experiments for the tests: a tiny connectome to run circuits in, and a shipped
experiment file's sweep conditions."""

from __future__ import annotations

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
        assert Simulation(exp, progress=False).run(), f"{experiment.name} ({name}) did not finish"
        out[name] = (path, exp)
    return out
