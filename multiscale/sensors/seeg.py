"""SEEG / depth contacts: point dipoles in an infinite homogeneous conductor.

``V(r) = p . (r - r0) / (4 pi sigma |r - r0|^3)`` with sigma = 0.33 S/m (grey matter /
brain, the value of MNE's brain layer), ``r`` the contact, ``r0`` the region centre and
``p`` the region's moment along its orientation. The singularity is guarded by a minimum
distance: ``|r - r0|`` is replaced by ``max(|r - r0|, min_distance_mm)`` (5 mm by
default, the order of a region's radius), in the denominator only, so a contact at a
region centre sees zero from it. Contacts and centres must be in the same frame
(tvb-data's contacts ``sensors/seeg_588.txt`` are in the TVB frame of tvb76/tvb192).
Orientations: the connectome's where it has them, else radial from the bounding-box
midpoint of the region centres. Subcortical regions are kept (factor 1 by default):
depth contacts record near fields that the closed-field argument for scalp EEG does not
remove.
"""

from __future__ import annotations

import bz2
from pathlib import Path

import numpy as np

from multiscale.connectome import tvb_data_dir

from .geometry import dipole_orientations, region_factors, require_centres
from .types import ForwardModelError, Gain, SensorSet

SIGMA = 0.33  # S/m
MIN_DISTANCE_MM = 5.0
TVB_SEEG = {"tvb": "seeg_588.txt", "tvb588": "seeg_588.txt"}


def point_dipole_gain(
    contacts_m: np.ndarray,
    sources_m: np.ndarray,
    orientations: np.ndarray,
    sigma: float = SIGMA,
    min_distance_m: float = MIN_DISTANCE_MM * 1e-3,
) -> np.ndarray:
    """(contacts, sources) gain in V/(A m) of unit dipoles in an infinite conductor."""
    d = np.asarray(contacts_m)[:, None, :] - np.asarray(sources_m)[None, :, :]
    dist = np.maximum(np.linalg.norm(d, axis=2), min_distance_m)
    return np.einsum("csk,sk->cs", d, np.asarray(orientations)) / (4 * np.pi * sigma * dist**3)


def read_contacts(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Contacts from a text file, "name x y z" per line (mm; optional .bz2)."""
    p = Path(path)
    if not p.is_file():
        raise ForwardModelError(f"SEEG contact file {p} does not exist")
    raw = p.read_bytes()
    text = (bz2.decompress(raw) if p.suffix == ".bz2" else raw).decode("utf-8")
    names, pos = [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            pos.append([float(v) for v in parts[1:4]])
        except ValueError:
            pos = []
        if len(parts) < 4 or len(pos) != len(names) + 1:
            raise ForwardModelError(f"{p}, line {lineno}: expected 'name x y z' (mm)")
        names.append(parts[0])
    if not names:
        raise ForwardModelError(f"{p}: no contacts")
    return names, np.array(pos)


def seeg_gain(
    connectome,
    contacts: str | Path = "tvb",
    sigma: float = SIGMA,
    min_distance_mm: float = MIN_DISTANCE_MM,
    subcortical_factor: float = 1.0,
    base_dir: Path | None = None,
) -> Gain:
    """SEEG gain (V per A m): ``contacts`` is "tvb" (tvb-data's 588 contacts) or a file."""
    centres = require_centres(connectome, f"seeg:{contacts}")
    if not sigma > 0 or not min_distance_mm > 0:
        raise ForwardModelError("sigma and min_distance_mm must be positive")
    if str(contacts) in TVB_SEEG:
        path = tvb_data_dir() / "sensors" / TVB_SEEG[str(contacts)]
    else:
        path = Path(contacts).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
    names, pos_mm = read_contacts(path)
    mid = (centres.min(axis=0) + centres.max(axis=0)) / 2
    nn, radial = dipole_orientations(connectome.orientations, centres, mid, np.eye(3))
    g = point_dipole_gain(pos_mm * 1e-3, centres * 1e-3, nn, sigma, min_distance_mm * 1e-3)
    g = g * region_factors(connectome, subcortical_factor)
    return Gain(
        sensors=SensorSet(
            names=names,
            kind="seeg",
            positions_mm=pos_mm,
            frame="connectome",
            signal_unit="V",
            description=str(path),
        ),
        matrix=g,
        regions=connectome.labels,
        unit="V/(A m)",
        source=(
            f"point dipoles at the region centres in an infinite homogeneous conductor, "
            f"sigma {sigma} S/m, minimum distance {min_distance_mm} mm; contacts {path.name}"
        ),
        parameters={
            "kind": f"seeg:{contacts}",
            "sigma": sigma,
            "min_distance_mm": min_distance_mm,
            "subcortical_factor": subcortical_factor,
            "radial_regions": [connectome.labels[i] for i in np.flatnonzero(radial)],
        },
    )
