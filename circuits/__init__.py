"""Brian2 microcircuits, one file each; ``CIRCUITS`` maps names to classes.

An experiment can also name its own circuit, ``model: path/to/file.py:ClassName`` (relative
to the experiment file), ``model: package.module:ClassName``, or a name an installed package
registers in the ``multiscale.circuits`` entry-point group: a subclass of
``multiscale.circuit.Circuit`` that follows the same contract (see docs/circuits.md).
"""

from __future__ import annotations

from pathlib import Path

from multiscale.circuit import Circuit
from multiscale.circuits.basal_ganglia import BasalGanglia
from multiscale.circuits.brunel2000 import Brunel2000
from multiscale.circuits.ei_network import EINetwork
from multiscale.circuits.hh_ei_network import HHEINetwork
from multiscale.circuits.potjans_diesmann import PotjansDiesmann
from multiscale.circuits.qif_population import QIFPopulation
from multiscale.plugins import CIRCUIT_GROUP, load_class

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
    """The circuit class named by ``model``: a built-in name, a name registered in the
    ``multiscale.circuits`` entry-point group, ``file.py:Class`` (relative to ``base_dir``) or
    ``module:Class``. Raises ValueError saying what is wrong."""
    return load_class(
        model, base=Circuit, builtins=CIRCUITS, group=CIRCUIT_GROUP, base_dir=base_dir
    )
