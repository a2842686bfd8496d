"""Neural-mass region models, one file each; ``REGION_MODELS`` maps names to classes."""

from regions.epileptor import Epileptor
from regions.generic_2d_oscillator import Generic2dOscillator
from regions.jansen_rit import JansenRit
from regions.kuramoto import Kuramoto
from regions.montbrio_pazo_roxin import MontbrioPazoRoxin
from regions.reduced_wong_wang import ReducedWongWangExcInh
from regions.wilson_cowan import WilsonCowan

REGION_MODELS = {
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
]
