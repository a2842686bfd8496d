"""Frames and co-registration: connectome region centres into a spherical head.

Frames:

- TVB (``axes="tvb"``): x anterior, y left, z up, mm; the frame of tvb-data's
  connectomes (tvb76, tvb96, tvb192), surfaces and SEEG contacts.
- RAS (``axes="ras"``): x right, y anterior, z up, mm (MNI-like).
- MNE head coordinates: x right (towards the right preauricular point), y anterior
  (towards the nasion), z up, origin between the preauricular points; MNE works in m.

Co-registration rule (:func:`centres_in_sphere`): the region centres, rotated to the
MNE axes, are translated so that the midpoint of their bounding box sits at the head
sphere's centre, and scaled isotropically so that the region centre farthest from that
midpoint lies at ``fill`` (default 0.8) of the brain-sphere radius. The sphere model has
no brain shape, so only the relative layout of the regions (and their depth as a
fraction of the brain radius) is kept.
"""

from __future__ import annotations

import numpy as np

from .types import ForwardModelError

#: rotation from a connectome frame to the MNE head axes (x right, y anterior, z up)
AXES = {
    "tvb": np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
    "ras": np.eye(3),
}


def axes_matrix(axes: str) -> np.ndarray:
    """Rotation from ``axes`` ("tvb" or "ras") to the MNE head axes."""
    try:
        return AXES[axes]
    except KeyError:
        raise ForwardModelError(f"axes must be one of {sorted(AXES)}, not {axes!r}") from None


def fit_sphere(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares sphere through ``points`` (n, 3): (centre, radius), same units.

    Linear fit of |x|^2 = 2 c.x + (R^2 - |c|^2).
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 3 or len(p) < 4:
        raise ForwardModelError(f"a sphere fit needs at least 4 points (n, 3), got {p.shape}")
    a = np.c_[2.0 * p, np.ones(len(p))]
    b = (p**2).sum(axis=1)
    x = np.linalg.lstsq(a, b, rcond=None)[0]
    centre = x[:3]
    return centre, float(np.sqrt(x[3] + centre @ centre))


def centres_in_sphere(
    centres_mm: np.ndarray,
    sphere_centre_m: np.ndarray,
    brain_radius_m: float,
    axes: str = "tvb",
    fill: float = 0.8,
) -> tuple[np.ndarray, dict]:
    """Region centres (mm, ``axes`` frame) mapped into the head sphere (m, MNE head).

    ``x_head = c + s * A @ (x - m)``: ``A`` the axis rotation, ``m`` the bounding-box
    midpoint of the centres, ``c`` the sphere centre and ``s`` (m per mm) such that the
    farthest centre lies at ``fill * brain_radius_m`` from ``c``. A single region (or
    coincident centres) sits at the sphere centre, unscaled (s = 1e-3 m/mm).

    Returns the positions (n, 3) in m and the transform ``{"rotation", "midpoint_mm",
    "scale_m_per_mm", "sphere_centre_m"}``.
    """
    if not 0.0 < fill < 1.0:
        raise ForwardModelError(f"fill must be in (0, 1), got {fill}")
    x = np.asarray(centres_mm, dtype=np.float64)
    rot = axes_matrix(axes)
    mid = (x.min(axis=0) + x.max(axis=0)) / 2.0
    far = float(np.linalg.norm(x - mid, axis=1).max())
    scale = fill * brain_radius_m / far if far > 0 else 1e-3
    c = np.asarray(sphere_centre_m, dtype=np.float64)
    rr = c + scale * (x - mid) @ rot.T
    transform = {
        "rotation": rot,
        "midpoint_mm": mid,
        "scale_m_per_mm": scale,
        "sphere_centre_m": c,
    }
    return rr, transform


def dipole_orientations(
    orientations: np.ndarray | None, positions: np.ndarray, origin: np.ndarray, rotation: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Unit dipole orientations, one per region, and a mask of those taken as radial.

    Rule: the connectome's orientation (mean cortical normal), rotated by ``rotation``,
    where it has one (a non-zero row); otherwise radial, from ``origin`` to the region
    (``positions`` and ``origin`` in the same frame); +z for a region at the origin.
    """
    pos = np.asarray(positions, dtype=np.float64)
    n = len(pos)
    out = np.zeros((n, 3))
    given = np.zeros(n, dtype=bool)
    if orientations is not None:
        o = np.asarray(orientations, dtype=np.float64) @ rotation.T
        norm = np.linalg.norm(o, axis=1)
        given = norm > 1e-12
        out[given] = o[given] / norm[given, None]
    radial = pos - np.asarray(origin, dtype=np.float64)
    rnorm = np.linalg.norm(radial, axis=1)
    for i in np.flatnonzero(~given):
        out[i] = radial[i] / rnorm[i] if rnorm[i] > 1e-12 else (0.0, 0.0, 1.0)
    return out, ~given


def region_factors(connectome, subcortical_factor: float) -> np.ndarray:
    """Per-region gain factor of the point-dipole models: the coherence of the region's
    cortical normals (``connectome.orientation_coherence``: a folded region's net moment is
    its moment times the length of its mean normal; 1 where unknown), times
    ``subcortical_factor`` where the connectome flags a region as not cortical
    (``connectome.cortical == False``; all regions count as cortical without flags)."""
    if not 0.0 <= subcortical_factor <= 1.0:
        raise ForwardModelError(f"subcortical_factor must be in [0, 1], got {subcortical_factor}")
    f = np.ones(connectome.n_regions)
    if connectome.orientation_coherence is not None:
        f *= connectome.orientation_coherence
    if connectome.cortical is not None:
        f[~np.asarray(connectome.cortical, dtype=bool)] = subcortical_factor
    return f


def require_centres(connectome, model: str) -> np.ndarray:
    """The connectome's centres (mm), or a ForwardModelError naming what is missing."""
    if connectome.centres_mm is None:
        raise ForwardModelError(
            f"forward model {model!r} needs region centres (mm), and connectome "
            f"{connectome.name!r} has none: give the connectome a centres file "
            "('label x y z' per line, mm) or use a gain file (forward_model('file:...'))"
        )
    return np.asarray(connectome.centres_mm, dtype=np.float64)


def in_connectome_axes(positions_mm: np.ndarray, frame: str) -> np.ndarray | None:
    """Sensor positions (mm) with the axes of the TVB connectome frame (x anterior, y left,
    z up), for comparing directions with region centres; None where the frame is unknown.
    Only the axes change: origins may still differ (compare directions from each set's
    own centre)."""
    if frame in ("tvb_sensors", "connectome"):
        return np.asarray(positions_mm, dtype=np.float64)
    if frame == "mne_head":  # head = R tvb, so for row vectors tvb = head R
        return np.asarray(positions_mm, dtype=np.float64) @ AXES["tvb"]
    return None


def head_positions(
    positions_mm: np.ndarray | None, frame: str, names: list[str] | None = None
) -> np.ndarray | None:
    """Sensor positions (n, 3) in m with MNE's head axes (x right, y anterior, z up), for a
    montage or a scalp map; None where none can be given.

    Frames: ``mne_head`` as stored; ``tvb_sensors`` (TVB's EEG file: x anterior, y left,
    z up, its own origin): an EEG channel named as in MNE's 10-20 template takes the
    template's position, the others are turned to head axes; ``connectome`` (contacts, in
    the regions' frame): turned to head axes; any other frame: only template positions,
    where every name has one. ``names`` (EEG channel names) enable the template."""
    template = _template_1020() if names is not None else {}
    by_name = [template.get(n.lower()) for n in names or []]
    head = None
    if positions_mm is not None:
        head = head_axes(np.asarray(positions_mm, dtype=np.float64) * 1e-3, frame)
    if head is not None:
        if frame == "tvb_sensors" and names is not None:
            head = np.array([t if t is not None else p for t, p in zip(by_name, head, strict=True)])
        return head
    if by_name and all(t is not None for t in by_name):
        return np.array(by_name)
    return None


def head_axes(vectors: np.ndarray, frame: str) -> np.ndarray | None:
    """Row vectors of a stored frame with MNE's head axes: ``mne_head`` as they are;
    ``tvb_sensors`` and ``connectome`` (x anterior, y left, z up) turned; None for any
    other frame. Only the axes change, not the origin."""
    if frame == "mne_head":
        return vectors
    if frame in ("tvb_sensors", "connectome"):
        return vectors @ AXES["tvb"].T
    return None


def _template_1020() -> dict[str, np.ndarray]:
    """MNE's 10-20 template positions (m, head frame), by lower-case channel name."""
    from .sphere import eeg_montage

    names, pos = eeg_montage("standard_1020")
    return {n.lower(): p for n, p in zip(names, pos, strict=True)}
