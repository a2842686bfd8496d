"""Brian2 microcircuits, one file each; ``CIRCUITS`` maps names to classes.

An experiment can also name its own circuit, ``model: path/to/file.py:ClassName`` (relative
to the experiment file) or ``model: package.module:ClassName``: a subclass of
``multiscale.circuit.Circuit`` that follows the same contract (see docs/circuits.md).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from circuits.basal_ganglia import BasalGanglia
from circuits.brunel2000 import Brunel2000
from circuits.ei_network import EINetwork
from circuits.hh_ei_network import HHEINetwork
from circuits.potjans_diesmann import PotjansDiesmann
from circuits.qif_population import QIFPopulation
from multiscale.circuit import Circuit

CIRCUITS: dict[str, type[Circuit]] = {
    c.NAME: c
    for c in (EINetwork, HHEINetwork, Brunel2000, PotjansDiesmann, QIFPopulation, BasalGanglia)
}

__all__ = [
    "CIRCUITS",
    "BasalGanglia",
    "Brunel2000",
    "EINetwork",
    "HHEINetwork",
    "PotjansDiesmann",
    "QIFPopulation",
    "resolve_circuit",
]


def resolve_circuit(model: str, base_dir: Path | None = None) -> type[Circuit]:
    """The circuit class named by ``model``: a built-in name, ``file.py:Class`` or
    ``module:Class``. Raises ValueError saying what is wrong."""
    if model in CIRCUITS:
        return CIRCUITS[model]
    if ":" not in model:
        raise ValueError(f"expected one of {sorted(CIRCUITS)}, or 'file.py:Class' / 'module:Class'")
    where, cls_name = model.rsplit(":", 1)
    if where.endswith(".py"):
        path = Path(where)
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.is_file():
            raise ValueError(f"circuit file {path} not found")
        mod_name = f"_multiscale_user_circuit_{path.stem}_{abs(hash(str(path.resolve())))}"
        module = sys.modules.get(mod_name)
        if module is None:
            spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[mod_name] = module
            spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(where)
        except ImportError as err:
            raise ValueError(f"cannot import module {where!r}: {err}") from err
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Circuit)):
        raise ValueError(f"{model!r} is not a subclass of multiscale.circuit.Circuit")
    return cls
