"""``SensorData``: one kind of sensor signal (a run's or a recording's), in memory, in the
form a fit's features are computed from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SensorData:
    """Signals of one sensor kind.

    kind: "eeg", "meg", "seeg" or "regions" (the region signals).
    channels: channel names, in the order of data's columns.
    data: (samples, channels), in ``unit``; EEG average-referenced, as a run stores it.
    unit: "uV" (EEG, SEEG), "fT" (MEG), or the region observable's unit.
    sampling_rate_hz: samples per second (Hz).
    """

    kind: str
    channels: tuple[str, ...]
    data: np.ndarray
    unit: str
    sampling_rate_hz: float

    def __post_init__(self) -> None:
        if self.data.ndim != 2 or self.data.shape[1] != len(self.channels):
            raise ValueError(
                f"{self.kind}: data {self.data.shape} does not match {len(self.channels)} "
                "channels (expected (samples, channels))"
            )

    @property
    def duration_s(self) -> float:
        """Length of the signals (s)."""
        return self.data.shape[0] / self.sampling_rate_hz
