"""Region-level EEG forward model: lead field (gain) matrices and average-referenced EEG.

A lead field maps region source activity (samples, regions) to sensor potentials
(samples, channels): ``eeg = sources @ gain.T``, then the average reference. The units
of the EEG are those of the gain times those of the sources; the TVB gain is in TVB's
own arbitrary units, so its EEG is only meaningful up to a scale factor.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from multiscale.connectome import Connectome, load_connectome, tvb_data_dir


class LeadFieldError(ValueError):
    """A lead field file that cannot be used with the connectome; the message names it."""


@dataclass
class LeadField:
    """Gain from regions to EEG channels.

    gain: (n_channels, n_regions) float64, column r = scalp pattern of a unit source in r.
    channels: channel names, one per row.
    positions_mm: (n_channels, 3) sensor positions in mm (TVB frame for the TVB
        sensors: x anterior, y left, z up), or None.
    source: where the gain comes from and in which units.
    """

    gain: np.ndarray
    channels: list[str]
    positions_mm: np.ndarray | None
    source: str

    def __post_init__(self) -> None:
        self.gain = np.asarray(self.gain, dtype=np.float64)
        if self.gain.ndim != 2:
            raise LeadFieldError(f"{self.source}: gain must be 2-D, got shape {self.gain.shape}")
        if len(self.channels) != self.gain.shape[0]:
            raise LeadFieldError(
                f"{self.source}: {len(self.channels)} channel names for "
                f"{self.gain.shape[0]} gain rows"
            )
        if self.positions_mm is not None:
            self.positions_mm = np.asarray(self.positions_mm, dtype=np.float64)
            if self.positions_mm.shape != (self.gain.shape[0], 3):
                raise LeadFieldError(
                    f"{self.source}: positions have shape {self.positions_mm.shape}, "
                    f"expected {(self.gain.shape[0], 3)}"
                )

    @property
    def n_channels(self) -> int:
        return self.gain.shape[0]

    @property
    def n_regions(self) -> int:
        return self.gain.shape[1]

    def nearest_channels(self, region: int, k: int) -> list[int]:
        """The k channels with the largest |gain| for ``region``, best first."""
        return self._ranked(region, k)[:k]

    def farthest_channels(self, region: int, k: int) -> list[int]:
        """The k channels with the smallest |gain| for ``region``, smallest first."""
        return self._ranked(region, k)[::-1][:k]

    def _ranked(self, region: int, k: int) -> list[int]:
        if not 0 <= region < self.n_regions:
            raise ValueError(f"region {region} out of range 0..{self.n_regions - 1}")
        if not 1 <= k <= self.n_channels:
            raise ValueError(f"k must be in 1..{self.n_channels}, got {k}")
        return [int(c) for c in np.argsort(-np.abs(self.gain[:, region]), kind="stable")]


def tvb_eeg65_leadfield(connectome: Connectome) -> LeadField:
    """The TVB 65-electrode EEG gain for the 76-region TVB connectome ("tvb76").

    Built as TVB does: the surface projection matrix
    ``projection_eeg_65_surface_16k.npy`` (65 x 16384 vertices) summed over the vertices
    of each region in ``regionMapping_16k_76.txt``. Summing (not averaging) weights large
    regions more, as a region's dipole grows with its area. The rows of the eye channels
    IO1 and IO2 are NaN in the file and are dropped, leaving 63 channels. Units are TVB's
    own (arbitrary); positions come from ``sensors/eeg_brainstorm_65.txt`` (mm, TVB frame).

    Raises ValueError for any other connectome: supply a lead field file instead.
    """
    reference = load_connectome("tvb76")
    if connectome.n_regions != reference.n_regions or connectome.labels != reference.labels:
        raise ValueError(
            f"the TVB EEG-65 lead field fits only the 76-region TVB connectome 'tvb76' "
            f"(same labels in the same order); connectome {connectome.name!r} has "
            f"{connectome.n_regions} regions. Supply a lead field file (eeg.leadfield) instead."
        )
    gain, channels, positions = _tvb_eeg65()
    return LeadField(
        gain=gain.copy(),
        channels=list(channels),
        positions_mm=positions.copy(),
        source=(
            "tvb_data projection_eeg_65_surface_16k summed over regionMapping_16k_76 "
            "(IO1/IO2 dropped; TVB arbitrary units)"
        ),
    )


@functools.lru_cache(maxsize=1)
def _tvb_eeg65() -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    root = tvb_data_dir()
    projection = np.load(root / "projectionMatrix" / "projection_eeg_65_surface_16k.npy")
    mapping = np.loadtxt(root / "regionMapping" / "regionMapping_16k_76.txt").astype(np.int64)
    if mapping.shape != (projection.shape[1],):
        raise LeadFieldError(
            f"tvb_data: region mapping has {mapping.shape} entries for "
            f"{projection.shape[1]} projection vertices"
        )
    names, positions = [], []
    for line in (root / "sensors" / "eeg_brainstorm_65.txt").read_text().splitlines():
        parts = line.split()
        if parts:  # "name x y z", tab-separated, mm
            names.append(parts[0])
            positions.append([float(v) for v in parts[1:4]])
    gain = np.zeros((projection.shape[0], 76))
    np.add.at(gain.T, mapping, projection.T)  # gain[:, r] = sum of columns of r's vertices
    keep = ~np.isnan(gain).any(axis=1)
    gain = gain[keep]
    channels = tuple(n for n, k in zip(names, keep, strict=True) if k)
    pos = np.array(positions)[keep]
    for array in (gain, pos):
        array.flags.writeable = False
    return gain, channels, pos


def load_leadfield(
    path: str | Path, connectome: Connectome, base_dir: Path | None = None
) -> LeadField:
    """A user lead field: .npy gain (channels x regions, channels named E1..En), or .npz
    with key ``gain`` and optional ``channels`` and ``positions_mm`` (mm).

    Columns must follow the connectome's region order. Rows that are entirely NaN
    (unused channels, as IO1/IO2 in TVB's gain) are dropped; any other NaN is an error.
    Relative paths are resolved against ``base_dir``.
    """
    p = Path(path).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    if not p.is_file():
        raise LeadFieldError(f"lead field file {p} does not exist")
    channels = positions = None
    try:
        if p.suffix == ".npy":
            gain = np.load(p, allow_pickle=False)
        elif p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                if "gain" not in data:
                    raise LeadFieldError(f"{p}: no 'gain' array (keys: {sorted(data.files)})")
                gain = data["gain"]
                if "channels" in data:
                    channels = [str(c) for c in data["channels"]]
                if "positions_mm" in data:
                    positions = data["positions_mm"]
        else:
            raise LeadFieldError(f"{p}: a lead field must be a .npy or .npz file")
    except LeadFieldError:
        raise
    except (OSError, ValueError) as err:
        raise LeadFieldError(f"{p}: cannot read ({err})") from None
    if gain.ndim != 2 or not np.issubdtype(gain.dtype, np.number):
        raise LeadFieldError(
            f"{p}: gain must be a 2-D numeric array, got {gain.shape} {gain.dtype}"
        )
    n = connectome.n_regions
    if gain.shape[1] != n:
        hint = " (transposed? expected channels x regions)" if gain.shape[0] == n else ""
        raise LeadFieldError(
            f"{p}: gain has shape {gain.shape} but connectome {connectome.name!r} has "
            f"{n} regions; expected (n_channels, {n}){hint}"
        )
    if channels is None:
        channels = [f"E{i + 1}" for i in range(gain.shape[0])]
    elif len(channels) != gain.shape[0]:
        raise LeadFieldError(f"{p}: {len(channels)} channel names for {gain.shape[0]} gain rows")
    gain = gain.astype(np.float64)
    dead = np.isnan(gain).all(axis=1)
    if not np.isfinite(gain[~dead]).all():
        raise LeadFieldError(f"{p}: gain has NaN/inf entries outside all-NaN rows")
    if dead.all():
        raise LeadFieldError(f"{p}: every gain row is NaN")
    keep = ~dead
    return LeadField(
        gain=gain[keep],
        channels=[c for c, k in zip(channels, keep, strict=True) if k],
        positions_mm=None if positions is None else np.asarray(positions)[keep],
        source=f"{p} (units as in the file)",
    )


def average_reference(eeg: np.ndarray) -> np.ndarray:
    """Subtract the mean over channels at every sample; eeg is (samples, channels)."""
    eeg = np.asarray(eeg, dtype=np.float64)
    return eeg - eeg.mean(axis=-1, keepdims=True)


def sensor_eeg(gain: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Average-referenced EEG (samples, channels) from region sources (samples, regions).

    The reference is folded into the gain (subtracting its channel mean per region), so
    one matrix product does both: referencing is linear, the result is the same.
    """
    sources = np.asarray(sources, dtype=np.float64)
    if sources.ndim != 2 or sources.shape[1] != gain.shape[1]:
        raise ValueError(
            f"sources must be (samples, {gain.shape[1]} regions), got shape {sources.shape}"
        )
    referenced = gain - gain.mean(axis=0, keepdims=True)
    return sources @ referenced.T
