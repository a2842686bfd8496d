"""Run a shipped experiment file's sweep conditions for the validation tests."""

from __future__ import annotations

from pathlib import Path

from multiscale.config import Experiment, load_experiment
from multiscale.cosim import Simulation
from multiscale.sweep import variants


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
