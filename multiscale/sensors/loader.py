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
    """A user gain (channels x regions) read by :func:`multiscale.eeg.load_leadfield`;
    ``unit`` ("V/(A m)", "T/(A m)" or "T/m/(A m)") is required: the file carries none."""
    from multiscale.eeg import LeadFieldError, load_leadfield

    signal = {v: k for k, v in GAIN_UNITS.items()}
    if unit not in signal:
        raise ForwardModelError(
            f"gain file {path}: give its unit, one of {sorted(signal)} (unit=...)"
        )
    try:
        lf = load_leadfield(path, connectome, base_dir=base_dir)
    except LeadFieldError as err:
        raise ForwardModelError(str(err)) from None
    pos = lf.positions_mm if lf.positions_mm is not None else np.zeros((lf.n_channels, 3))
    return Gain(
        sensors=SensorSet(
            names=lf.channels,
            kind=sensor_kind,
            positions_mm=pos,
            frame="file" if lf.positions_mm is not None else "unknown",
            signal_unit=signal[unit],
            description=str(path),
        ),
        matrix=lf.gain,
        regions=connectome.labels,
        unit=unit,
        source=f"user gain file {path} ({unit}, as stated by the user)",
        parameters={"kind": f"file:{path}", "unit": unit},
    )
