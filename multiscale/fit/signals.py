"""``SensorData``: one kind of sensor signal (a run's or a recording's), in memory, in the
form a fit's features are computed from; ``Signals``: a run's or the recordings' signals of
every kind a fit compares, by kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np


@dataclass(frozen=True)
class SensorData:
    """Signals of one sensor kind.

    kind: "eeg", "meg", "seeg" or "regions" (the region signals).
    channels: channel names, in the order of data's columns.
    data: (samples, channels), in ``unit``; EEG average-referenced, as a run stores it.
    unit: "uV" (EEG, SEEG), "fT" (MEG), or the region observable's unit.
    sampling_rate_hz: samples per second (Hz).
    lead_field: a recording's (channels, regions) lead field of the twin's forward model
        (the gain's unit, SI per A m; EEG rows average-referenced as the data), for features
        computed on the regions' sources (``multiscale.fit.source_space``); None otherwise.
    regions: the region labels of lead_field's columns.
    """

    kind: str
    channels: tuple[str, ...]
    data: np.ndarray
    unit: str
    sampling_rate_hz: float
    lead_field: np.ndarray | None = None
    regions: tuple[str, ...] = ()

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


#: sensor kind ("eeg", "meg", "seeg") -> its signals
Signals: TypeAlias = dict[str, SensorData]


def read_signals(path, kinds: tuple[str, ...]) -> Signals:
    """A run's output's signals of each sensor kind in ``kinds``, read whole (the fit's
    runs are short)."""
    from multiscale.result import Result

    result = Result(path)
    out = {}
    for kind in kinds:
        series = getattr(result, kind)
        out[kind] = SensorData(
            kind, tuple(series.channels), series.read(), series.unit, series.sampling_rate
        )
    return out
