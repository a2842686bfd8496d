"""Forward models in physical units: region dipole moments (A m) to EEG, MEG and SEEG.

One concern per module: :mod:`.types` (SensorSet, Gain), :mod:`.geometry` (frames,
co-registration, orientation and subcortical rules), :mod:`.sphere` (MNE sphere EEG and
MEG), :mod:`.seeg` (point dipoles in an infinite conductor), :mod:`.tvb` (TVB's
projections, calibrated), :mod:`.reference` (analytic formulas for validation) and
:mod:`.loader` (``forward_model`` by name). See docs/sensors.md.
"""

from .loader import DEFAULT_EEG, forward_model, gain_file
from .types import ForwardModelError, Gain, SensorSet

__all__ = ["DEFAULT_EEG", "ForwardModelError", "Gain", "SensorSet", "forward_model", "gain_file"]
