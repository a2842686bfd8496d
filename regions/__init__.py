"""Neural-mass region models, one file each; ``REGION_MODELS`` maps names to classes.

An experiment can also name its own model (``regions.model``): ``path/to/file.py:ClassName``
(relative to the experiment file), ``package.module:ClassName``, or a name an installed
package registers in the ``multiscale.regions`` entry-point group; a subclass of
``multiscale.region.RegionModel`` (see docs/design.md).
"""

from __future__ import annotations

from pathlib import Path

from multiscale.plugins import REGION_GROUP, load_class
from multiscale.region import RegionModel
from multiscale.regions.epileptor import Epileptor
from multiscale.regions.generic_2d_oscillator import Generic2dOscillator
from multiscale.regions.jansen_rit import JansenRit
from multiscale.regions.kuramoto import Kuramoto
from multiscale.regions.montbrio_pazo_roxin import MontbrioPazoRoxin
from multiscale.regions.reduced_wong_wang import ReducedWongWangExcInh
from multiscale.regions.wilson_cowan import WilsonCowan

REGION_MODELS: dict[str, type[RegionModel]] = {
    m.NAME: m
    for m in (
        JansenRit,
        WilsonCowan,
        Generic2dOscillator,
        Kuramoto,
        ReducedWongWangExcInh,
        MontbrioPazoRoxin,
        Epileptor,
    )
}

__all__ = [
    "REGION_MODELS",
    "Epileptor",
    "Generic2dOscillator",
    "JansenRit",
    "Kuramoto",
    "MontbrioPazoRoxin",
    "ReducedWongWangExcInh",
    "WilsonCowan",
    "resolve_region_model",
]


def resolve_region_model(model: str, base_dir: Path | None = None) -> type[RegionModel]:
    """The region model class named by ``model`` (see the module's docstring). Raises
    ValueError saying what is wrong."""
    return load_class(
        model, base=RegionModel, builtins=REGION_MODELS, group=REGION_GROUP, base_dir=base_dir
    )
