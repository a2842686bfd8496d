"""Neural-mass region models, one file each; ``REGION_MODELS`` maps names to classes."""

from regions.jansen_rit import JansenRit
from regions.wilson_cowan import WilsonCowan

REGION_MODELS = {m.NAME: m for m in (JansenRit, WilsonCowan)}

__all__ = ["REGION_MODELS", "JansenRit", "WilsonCowan"]
