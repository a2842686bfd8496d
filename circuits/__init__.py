"""Brian2 microcircuits, one file each; ``CIRCUITS`` maps names to classes.

An experiment can also name its own circuit, ``model: path/to/file.py:ClassName`` (relative
to the experiment file), ``model: package.module:ClassName``, or a name an installed package
registers in the ``multiscale.circuits`` entry-point group: a subclass of
``multiscale.circuit.Circuit`` that follows the same contract (see docs/circuits.md).

The circuit modules import Brian2, which takes seconds; they are imported when a circuit
is first looked up (``CIRCUITS["ei_network"]``, ``resolve_circuit``, or a class name
such as ``multiscale.circuits.EINetwork``), so that an experiment without circuits never
loads Brian2.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multiscale.plugins import CIRCUIT_GROUP, load_class

if TYPE_CHECKING:
    from multiscale.circuit import Circuit
    from multiscale.circuits.basal_ganglia import BasalGanglia
    from multiscale.circuits.brunel2000 import Brunel2000
    from multiscale.circuits.ei_network import EINetwork
    from multiscale.circuits.hh_ei_network import HHEINetwork
    from multiscale.circuits.potjans_diesmann import PotjansDiesmann
    from multiscale.circuits.qif_population import QIFPopulation

#: built-in circuit name -> "module:Class" (each class's NAME is its key)
_BUILTIN = {
    "ei_network": "multiscale.circuits.ei_network:EINetwork",
    "hh_ei_network": "multiscale.circuits.hh_ei_network:HHEINetwork",
    "brunel2000": "multiscale.circuits.brunel2000:Brunel2000",
    "potjans_diesmann": "multiscale.circuits.potjans_diesmann:PotjansDiesmann",
    "qif_population": "multiscale.circuits.qif_population:QIFPopulation",
    "basal_ganglia": "multiscale.circuits.basal_ganglia:BasalGanglia",
}


def _load(target: str) -> type:
    module, _, name = target.partition(":")
    return getattr(import_module(module), name)


class _Registry(Mapping):
    """Names to classes, each imported on first access (a read-only mapping)."""

    def __init__(self, targets: dict[str, str]):
        self._targets = targets

    def __getitem__(self, name: str) -> type[Circuit]:
        return _load(self._targets[name])

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)

    def __repr__(self) -> str:
        return f"CIRCUITS({list(self._targets)})"


#: the built-in circuits by name (a mapping; a class is imported when first looked up)
CIRCUITS: Mapping[str, type[Circuit]] = _Registry(_BUILTIN)

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

_CLASSES = {target.rpartition(":")[2]: target for target in _BUILTIN.values()}


def __getattr__(name: str) -> Any:
    target = _CLASSES.get(name)
    if target is None:
        raise AttributeError(f"module 'multiscale.circuits' has no attribute {name!r}")
    return _load(target)


def __dir__() -> list[str]:
    return sorted({*globals(), *_CLASSES})


def resolve_circuit(model: str, base_dir: Path | None = None) -> type[Circuit]:
    """The circuit class named by ``model``: a built-in name, a name registered in the
    ``multiscale.circuits`` entry-point group, ``file.py:Class`` (relative to ``base_dir``) or
    ``module:Class``. Raises ValueError saying what is wrong."""
    from multiscale.circuit import Circuit

    return load_class(
        model, base=Circuit, builtins=CIRCUITS, group=CIRCUIT_GROUP, base_dir=base_dir
    )
