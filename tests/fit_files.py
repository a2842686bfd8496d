"""The brain that the fit tests simulate and fit: the 76-region Jansen-Rit network of the
shipped experiments (tvb-data's connectome, the 1995 set, noise on every region) with
TVB's 65-electrode EEG at 250 Hz, as experiment-file text."""

from __future__ import annotations

from typing import Any

from multiscale.yaml_safe import loads

BRAIN = """
name: {name}
seed: {seed}
duration: {duration}
connectome: {{source: tvb76, conduction_speed: 3 m/s}}
regions:
  model: jansen_rit
  parameter_set: jansen_rit_1995
  parameters: {parameters}
  coupling: {{kind: sigmoidal_jansen_rit, a: 0.01}}
  integrator: {{dt: 0.1 ms, noise: {{y4: 1.0e-3}}}}
record: {{sampling_rate: 250 Hz, eeg: tvb65}}
output: {{figures: false}}
"""


def brain(name: str, seed: int, duration: str, parameters: str = "{}") -> str:
    """The brain's experiment file, e.g. ``brain("patient", 11, "6 s", "{B: 25 mV}")``."""
    return BRAIN.format(name=name, seed=seed, duration=duration, parameters=parameters)


def brain_fields(name: str, seed: int, duration: str, parameters: str = "{}") -> dict[str, Any]:
    """The same as a mapping of fields (for ``multiscale.api.experiment``)."""
    return loads(brain(name, seed, duration, parameters))
