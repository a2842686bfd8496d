"""``forward_model(kind, connectome, **options)``: a forward model by name.

Names: ``"sphere"`` / ``"sphere:<montage>"`` (EEG, MNE 4-layer sphere; default montage
standard_1020; the default EEG model, it needs only region centres), ``"sphere_meg"`` /
``"sphere_meg:<system>"`` (ctf275 default, ctf151, neuromag_mag, neuromag_grad),
``"tvb65"`` and ``"tvb276"`` (TVB's projections, tvb76/tvb192 only), ``"seeg:tvb"`` or
``"seeg:<file>"`` (depth contacts), ``"file:<gain.npy|.npz>"`` (a user gain; give
``unit=`` and ``sensor_kind=``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .types import GAIN_UNITS, ForwardModelError, Gain, SensorSet

DEFAULT_EEG = "sphere:standard_1020"


def forward_model(kind: str, connectome, **options) -> Gain:
    """Build the forward model ``kind`` for ``connectome``; options go to the builder."""
    name, _, arg = str(kind).partition(":")
    if name == "sphere":
        from .sphere import sphere_eeg

        return sphere_eeg(connectome, montage=arg or "standard_1020", **options)
    if name == "sphere_meg":
        from .sphere import sphere_meg

        return sphere_meg(connectome, system=arg or "ctf275", **options)
    if name in ("tvb65", "tvb276") and not arg:
        from .tvb import tvb_gain

        return tvb_gain(connectome, "eeg" if name == "tvb65" else "meg", **options)
    if name == "seeg":
        from .seeg import seeg_gain

        return seeg_gain(connectome, contacts=arg or "tvb", **options)
    if name == "file" and arg:
        return gain_file(arg, connectome, **options)
    if name.endswith((".npy", ".npz")) and not arg:
        return gain_file(name, connectome, **options)
    raise ForwardModelError(
        f"unknown forward model {kind!r}; known: 'sphere[:montage]', 'sphere_meg[:system]', "
        "'tvb65', 'tvb276', 'seeg:tvb', 'seeg:<contacts file>', 'file:<gain .npy/.npz>'"
    )


def gain_file(
    path: str | Path,
    connectome,
    unit: str | None = None,
    sensor_kind: str = "eeg",
    base_dir: Path | None = None,
) -> Gain:
    """A user gain: ``.npy`` (channels x regions; channels named E1..En) or ``.npz`` with
    key ``gain`` and optional ``channels`` and ``positions_mm`` (mm). Columns follow the
    connectome's region order. ``unit`` ("V/(A m)", "T/(A m)" or "T/m/(A m)") is required:
    the file carries none. Rows that are entirely NaN (unused channels) are dropped; any
    other NaN is an error. Relative paths are resolved against ``base_dir``."""
    signal = {v: k for k, v in GAIN_UNITS.items()}
    if unit not in signal:
        raise ForwardModelError(
            f"gain file {path}: give its unit, one of {sorted(signal)} (unit=...)"
        )
    p = Path(path).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    gain, channels, positions = _read_gain(p, connectome)
    return Gain(
        sensors=SensorSet(
            names=channels,
            kind=sensor_kind,
            positions_mm=positions if positions is not None else np.zeros((len(channels), 3)),
            frame="file" if positions is not None else "unknown",
            signal_unit=signal[unit],
            description=str(p),
        ),
        matrix=gain,
        regions=connectome.labels,
        unit=unit,
        source=f"user gain file {p} ({unit}, as stated by the user)",
        parameters={"kind": f"file:{path}", "unit": unit},
    )


def _read_gain(p: Path, connectome) -> tuple[np.ndarray, list[str], np.ndarray | None]:
    """(gain, channel names, positions or None) of a gain file, checked against the
    connectome; all-NaN rows dropped."""
    if not p.is_file():
        raise ForwardModelError(f"gain file {p} does not exist")
    channels = positions = None
    try:
        if p.suffix == ".npy":
            gain = np.load(p, allow_pickle=False)
        elif p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as data:
                if "gain" not in data:
                    raise ForwardModelError(f"{p}: no 'gain' array (keys: {sorted(data.files)})")
                gain = data["gain"]
                if "channels" in data:
                    channels = [str(c) for c in data["channels"]]
                if "positions_mm" in data:
                    positions = np.asarray(data["positions_mm"], dtype=np.float64)
        else:
            raise ForwardModelError(f"{p}: a gain file must be a .npy or .npz file")
    except ForwardModelError:
        raise
    except (OSError, ValueError) as err:
        raise ForwardModelError(f"{p}: cannot read ({err})") from None
    if gain.ndim != 2 or not np.issubdtype(gain.dtype, np.number):
        raise ForwardModelError(
            f"{p}: gain must be a 2-D numeric array, got {gain.shape} {gain.dtype}"
        )
    n = connectome.n_regions
    if gain.shape[1] != n:
        hint = " (transposed? expected channels x regions)" if gain.shape[0] == n else ""
        raise ForwardModelError(
            f"{p}: gain has shape {gain.shape} but connectome {connectome.name!r} has "
            f"{n} regions; expected (n_channels, {n}){hint}"
        )
    if channels is None:
        channels = [f"E{i + 1}" for i in range(gain.shape[0])]
    elif len(channels) != gain.shape[0]:
        raise ForwardModelError(f"{p}: {len(channels)} channel names for {gain.shape[0]} rows")
    if positions is not None and positions.shape != (gain.shape[0], 3):
        raise ForwardModelError(
            f"{p}: positions_mm has shape {positions.shape}, expected ({gain.shape[0]}, 3)"
        )
    gain = gain.astype(np.float64)
    dead = np.isnan(gain).all(axis=1)
    if not np.isfinite(gain[~dead]).all():
        raise ForwardModelError(f"{p}: gain has NaN/inf entries outside all-NaN rows")
    if dead.all():
        raise ForwardModelError(f"{p}: every gain row is NaN")
    keep = ~dead
    return (
        gain[keep],
        [c for c, k in zip(channels, keep, strict=True) if k],
        None if positions is None else positions[keep],
    )
