"""Multiscale brain simulation: Brian2 microcircuits co-simulated with neural-mass
connectomes, to sensor EEG. From Python (docs/python.md)::

    import multiscale as ms

    exp = ms.load("experiments/smoke.yaml", {"duration": "1 s"})
    result = ms.run(exp, "results/smoke.h5")
    eeg = result.eeg.read(0.5, 1.0)  # (samples, channels) between 0.5 s and 1 s

Names are resolved on first use (PEP 562), so ``import multiscale`` stays cheap: Brian2,
HDF5 and matplotlib load only when something needs them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

#: the package version (setup.cfg reads it from here)
__version__ = "0.1.0"

#: public name -> the module that defines it
_PUBLIC = {
    "load": "multiscale.api",
    "experiment": "multiscale.api",
    "run": "multiscale.api",
    "RunStopped": "multiscale.api",
    "Experiment": "multiscale.config",
    "ConfigError": "multiscale.config",
    "open": "multiscale.result",
    "Result": "multiscale.result",
    "drive_circuit": "multiscale.drive",
    "CircuitRun": "multiscale.drive",
}

__all__ = [
    "CircuitRun",
    "ConfigError",
    "Experiment",
    "Result",
    "RunStopped",
    "__version__",
    "drive_circuit",
    "experiment",
    "load",
    "open",
    "run",
]

if TYPE_CHECKING:
    from multiscale.api import RunStopped, experiment, load, run
    from multiscale.config import ConfigError, Experiment
    from multiscale.drive import CircuitRun, drive_circuit
    from multiscale.result import Result, open


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'multiscale' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
