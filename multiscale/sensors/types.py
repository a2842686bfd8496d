"""Typed containers of the forward models: sensor sets and gain matrices, with units.

A forward model maps region source current dipole moments (A m) to sensor signals:
``signals = moments @ gain.matrix.T``, ``moments`` being (samples, regions) in A m and
``signals`` (samples, channels) in the gain's signal unit (V for EEG and SEEG, T for
magnetometers and axial gradiometers, T/m for planar gradiometers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: channel types
KINDS = ("eeg", "meg", "seeg")

#: gain units by signal unit: gain = signal per source moment
GAIN_UNITS = {"V": "V/(A m)", "T": "T/(A m)", "T/m": "T/m/(A m)"}


class ForwardModelError(ValueError):
    """A forward model that cannot be built; the message names what is missing or wrong."""


@dataclass
class SensorSet:
    """Sensors: names, type, positions (and orientations for MEG).

    Attributes:
        names: channel names, one per sensor.
        kind: ``"eeg"``, ``"meg"`` or ``"seeg"``.
        positions_mm: (n, 3) sensor positions in mm, in ``frame``.
        frame: the coordinate frame of ``positions_mm`` (and ``orientations``), e.g.
            ``"mne_head"`` (MNE head coordinates: x right, y anterior, z up, origin between
            the preauricular points) or ``"tvb"`` (TVB's frame: x anterior, y left, z up).
        orientations: (n, 3) unit normals of MEG coils, or None (EEG, SEEG).
        signal_unit: unit of the recorded signal: ``"V"``, ``"T"`` or ``"T/m"``.
        description: where the sensors come from.
    """

    names: list[str]
    kind: str
    positions_mm: np.ndarray
    frame: str
    orientations: np.ndarray | None = None
    signal_unit: str = "V"
    description: str = ""

    def __post_init__(self) -> None:
        self.names = [str(n) for n in self.names]
        if self.kind not in KINDS:
            raise ForwardModelError(f"sensor kind must be one of {KINDS}, not {self.kind!r}")
        if self.signal_unit not in GAIN_UNITS:
            raise ForwardModelError(
                f"signal unit must be one of {sorted(GAIN_UNITS)}, not {self.signal_unit!r}"
            )
        self.positions_mm = np.array(self.positions_mm, dtype=np.float64).reshape(-1, 3)
        if len(self.positions_mm) != len(self.names):
            raise ForwardModelError(
                f"{len(self.names)} sensor names for {len(self.positions_mm)} positions"
            )
        if len(set(self.names)) != len(self.names):
            dup = sorted({n for n in self.names if self.names.count(n) > 1})
            raise ForwardModelError(f"duplicate sensor names {dup}")
        if not np.isfinite(self.positions_mm).all():
            raise ForwardModelError("sensor positions contain NaN/inf")
        if self.orientations is not None:
            o = np.array(self.orientations, dtype=np.float64).reshape(-1, 3)
            if o.shape != self.positions_mm.shape:
                raise ForwardModelError(
                    f"sensor orientations have shape {o.shape}, positions {self.positions_mm.shape}"
                )
            self.orientations = o

    def __len__(self) -> int:
        return len(self.names)


@dataclass
class Gain:
    """A gain (lead field) matrix from region dipole moments to sensors.

    Attributes:
        sensors: the sensors, one per row of ``matrix``.
        matrix: (n_channels, n_regions) float64; column ``r`` is the signal of a 1 A m
            dipole in region ``r``, in ``unit``.
        regions: region labels, one per column (the connectome's order).
        unit: ``"V/(A m)"`` (EEG, SEEG), ``"T/(A m)"`` (magnetometers, axial
            gradiometers) or ``"T/m/(A m)"`` (planar gradiometers).
        source: the forward model, in words (head model, rules, references).
        parameters: the forward model's name (``"kind"``) and parameters, as built.
    """

    sensors: SensorSet
    matrix: np.ndarray
    regions: list[str]
    unit: str
    source: str
    parameters: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.matrix = np.array(self.matrix, dtype=np.float64)
        self.regions = [str(r) for r in self.regions]
        if self.matrix.ndim != 2:
            raise ForwardModelError(f"gain must be 2-D, got shape {self.matrix.shape}")
        if self.matrix.shape != (len(self.sensors), len(self.regions)):
            raise ForwardModelError(
                f"gain has shape {self.matrix.shape}, expected "
                f"({len(self.sensors)} channels, {len(self.regions)} regions)"
            )
        if not np.isfinite(self.matrix).all():
            raise ForwardModelError("gain contains NaN/inf")
        expected = GAIN_UNITS[self.sensors.signal_unit]
        if self.unit != expected:
            raise ForwardModelError(
                f"gain unit {self.unit!r} does not match the sensors' signal unit "
                f"{self.sensors.signal_unit!r} (expected {expected!r})"
            )

    @property
    def kind(self) -> str:
        """The channel type: ``"eeg"``, ``"meg"`` or ``"seeg"``."""
        return self.sensors.kind

    @property
    def channels(self) -> list[str]:
        """Channel names, one per row."""
        return self.sensors.names

    @property
    def n_channels(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_regions(self) -> int:
        return self.matrix.shape[1]

    def signals(self, moments_Am: np.ndarray) -> np.ndarray:
        """Sensor signals (samples, channels) in ``sensors.signal_unit`` from region
        dipole moments (samples, regions) in A m. No reference is applied (EEG rows are
        potentials against infinity; subtract the channel mean for an average reference)."""
        moments = np.asarray(moments_Am, dtype=np.float64)
        if moments.ndim != 2 or moments.shape[1] != self.n_regions:
            raise ValueError(
                f"moments must be (samples, {self.n_regions} regions), got {moments.shape}"
            )
        return moments @ self.matrix.T

    def average_referenced(self) -> np.ndarray:
        """The gain with each column's channel mean subtracted (average reference)."""
        return self.matrix - self.matrix.mean(axis=0, keepdims=True)

    def select(self, channels: list[str]) -> Gain:
        """The gain restricted to ``channels`` (names), in that order."""
        missing = [c for c in channels if c not in self.sensors.names]
        if missing:
            raise ForwardModelError(f"no channel(s) {missing} in this gain")
        idx = [self.sensors.names.index(c) for c in channels]
        s = self.sensors
        sensors = SensorSet(
            names=[s.names[i] for i in idx],
            kind=s.kind,
            positions_mm=s.positions_mm[idx],
            frame=s.frame,
            orientations=None if s.orientations is None else s.orientations[idx],
            signal_unit=s.signal_unit,
            description=s.description,
        )
        return Gain(
            sensors, self.matrix[idx], self.regions, self.unit, self.source, dict(self.parameters)
        )
