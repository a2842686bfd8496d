"""MNE spherical head models at the region centres: EEG (standard montages) and MEG.

EEG: the montage is read from MNE's bundled files (no download), placed in MNE head
coordinates; a sphere is fitted to its electrode positions (least squares, centre ``c``
and scalp radius ``R``) and MNE's default concentric model is built on it:
``mne.make_sphere_model(r0=c, head_radius=R)``, layers at 0.90/0.92/0.97/1.0 R
(brain, CSF, skull, scalp) with conductivities 0.33/1.0/0.004/0.33 S/m. The region
centres are placed in the brain sphere by :func:`multiscale.sensors.geometry.centres_in_sphere`.
MNE computes the potentials with the Berg-Scherg approximation of the layered sphere
(Zhang 1995; Mosher et al. 1999); electrodes are potentials against infinity (no
reference applied).

MEG: sensors from MNE's bundled canonical helmets (``mne.channels.read_meg_canonical_info``:
CTF 275 / CTF 151 first-order axial gradiometers, Neuromag 306 magnetometers or planar
gradiometers). tvb-data's MEG sensor file (``meg_brainstorm_276.txt``) is not usable:
its x, y and z columns are nearly equal (the sensors lie along a line) and so are its
orientation columns. Co-registration: the helmet's fitted sphere
centre is placed at the head sphere's centre (device axes = head axes, a translation
only). Fields by Sarvas's formula (1987), which MNE evaluates over each coil's
integration points (``coil_def.dat``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from .geometry import (
    centres_in_sphere,
    dipole_orientations,
    region_factors,
    require_centres,
)
from .types import ForwardModelError, Gain, SensorSet

if TYPE_CHECKING:
    from multiscale.connectome import Connectome

#: MNE's default layered sphere (``mne.make_sphere_model``): relative radii, S/m
SPHERE_LAYERS = ((0.90, 0.33), (0.92, 1.0), (0.97, 0.004), (1.0, 0.33))
#: montages MNE renamed (1.13: ``standard_*`` deprecated for ``colin27_*``, same files)
_MONTAGE_ALIASES = {
    "standard_1020": "colin27_1020",
    "standard_1005": "colin27_1005",
    "standard_alphabetic": "colin27_alphabetic",
    "standard_postfixed": "colin27_postfixed",
    "standard_prefixed": "colin27_prefixed",
    "standard_primed": "colin27_primed",
}
MEG_SYSTEMS = ("ctf275", "ctf151", "neuromag_mag", "neuromag_grad")


def _mne():
    try:
        import mne
    except ImportError as err:  # pragma: no cover - mne is in install_requires
        raise ForwardModelError("the sphere forward models need MNE (pip install mne)") from err
    return mne


def _montage_name(name: str) -> str:
    mne = _mne()
    builtin = mne.channels.get_builtin_montages()
    alias = _MONTAGE_ALIASES.get(name)
    if name not in builtin and alias in builtin:
        return alias
    if name in builtin or name in _MONTAGE_ALIASES:
        return name
    raise ForwardModelError(
        f"no EEG montage {name!r} in MNE; bundled montages are {', '.join(builtin)}"
    )


@functools.lru_cache(maxsize=8)
def eeg_montage(name: str = "standard_1020") -> tuple[tuple[str, ...], np.ndarray]:
    """Channel names and positions (m, MNE head coordinates) of a bundled MNE montage."""
    mne = _mne()
    montage = mne.channels.make_standard_montage(_montage_name(name))
    info = mne.create_info(montage.ch_names, 1000.0, "eeg")
    info.set_montage(montage, verbose=False)
    pos = np.array([ch["loc"][:3] for ch in info["chs"]])
    pos.flags.writeable = False
    return tuple(info["ch_names"]), pos


def head_sphere(montage: str = "standard_1020") -> tuple[np.ndarray, float]:
    """Centre (m, MNE head) and radius (m) of the sphere fitted to a montage's electrodes."""
    from .geometry import fit_sphere

    return fit_sphere(eeg_montage(montage)[1])


def _place_regions(connectome, montage: str, axes: str, fill: float, model: str):
    centres = require_centres(connectome, model)
    c, radius = head_sphere(montage)
    brain = SPHERE_LAYERS[0][0] * radius
    rr, transform = centres_in_sphere(centres, c, brain, axes=axes, fill=fill)
    nn, radial = dipole_orientations(connectome.orientations, rr, c, transform["rotation"])
    return rr, nn, radial, c, radius, transform


def _forward(rr: np.ndarray, nn: np.ndarray, sphere, info) -> np.ndarray:
    mne = _mne()
    n = len(rr)
    dip = mne.Dipole(np.arange(n) * 1e-3, rr, np.ones(n), nn, np.ones(n))
    fwd, _ = mne.make_forward_dipole(dip, sphere, info, trans=None, n_jobs=1, verbose=False)
    if list(fwd["sol"]["row_names"]) != list(info["ch_names"]):
        raise ForwardModelError("MNE returned the channels in another order")  # pragma: no cover
    return np.asarray(fwd["sol"]["data"], dtype=np.float64)


def sphere_eeg(
    connectome: Connectome,
    montage: str = "standard_1020",
    channels: list[str] | None = None,
    axes: str = "tvb",
    fill: float = 0.8,
    subcortical_factor: float = 0.0,
) -> Gain:
    """EEG gain (V per A m) of MNE's 4-layer sphere at the region centres.

    Args:
        connectome: the connectome (``multiscale.connectome.Connectome``), with centres.
        montage: an MNE bundled montage name (``standard_1020``, ``standard_1005``,
            ``biosemi64``, ``easycap-M1``, ...).
        channels: keep only these montage channels (default: all).
        axes: the connectome's frame axes, ``"tvb"`` (x anterior, y left, z up) or
            ``"ras"``.
        fill: depth rule, the farthest region centre at this fraction of the brain radius.
        subcortical_factor: gain factor of regions flagged not cortical (0: closed-field
            structures give no far field).
    """
    mne = _mne()
    names, pos = eeg_montage(montage)
    keep = list(range(len(names)))
    if channels is not None:
        missing = [ch for ch in channels if ch not in names]
        if missing:
            raise ForwardModelError(f"channel(s) {missing} not in montage {montage!r}")
        keep = [names.index(ch) for ch in channels]
    rr, nn, radial, c, radius, transform = _place_regions(
        connectome, montage, axes, fill, f"sphere:{montage}"
    )
    info = mne.create_info([names[i] for i in keep], 1000.0, "eeg")
    montage_obj = mne.channels.make_dig_montage(
        ch_pos={names[i]: pos[i] for i in keep}, coord_frame="head"
    )
    info.set_montage(montage_obj, verbose=False)
    sphere = mne.make_sphere_model(r0=c, head_radius=radius, verbose=False)
    g = _forward(rr, nn, sphere, info) * region_factors(connectome, subcortical_factor)
    sensors = SensorSet(
        names=[names[i] for i in keep],
        kind="eeg",
        positions_mm=pos[keep] * 1e3,
        frame="mne_head",
        signal_unit="V",
        description=f"MNE bundled montage {montage!r}",
    )
    return Gain(
        sensors=sensors,
        matrix=g,
        regions=connectome.labels,
        unit="V/(A m)",
        source=(
            f"MNE 4-layer sphere (radii 0.90/0.92/0.97/1.0 x {radius * 1e3:.1f} mm, "
            "0.33/1.0/0.004/0.33 S/m) fitted to montage "
            f"{montage!r}; region centres scaled into the brain sphere (fill {fill}); "
            f"orientations: connectome normals, radial for {int(radial.sum())} region(s); "
            f"subcortical factor {subcortical_factor}"
        ),
        parameters={
            "kind": f"sphere:{montage}",
            "montage": montage,
            "axes": axes,
            "fill": fill,
            "subcortical_factor": subcortical_factor,
            "sphere_centre_m": c.tolist(),
            "head_radius_m": radius,
            "scale_m_per_mm": transform["scale_m_per_mm"],
            "radial_regions": [connectome.labels[i] for i in np.flatnonzero(radial)],
            "dipole_positions_m": rr.tolist(),
            "dipole_orientations": nn.tolist(),
        },
    )


def meg_sensors_info(system: str):
    """An MNE Info of a MEG system in device coordinates, and the signal unit."""
    mne = _mne()
    if system not in MEG_SYSTEMS:
        raise ForwardModelError(f"MEG system must be one of {MEG_SYSTEMS}, not {system!r}")
    if system.startswith("neuromag"):
        info = mne.channels.read_meg_canonical_info("neuromag", verbose=False)
        coil = 3024 if system == "neuromag_mag" else 3012
        picks = [i for i, ch in enumerate(info["chs"]) if ch["coil_type"] == coil]
        info = mne.pick_info(info, picks)
        return info, "T" if system == "neuromag_mag" else "T/m"
    return mne.channels.read_meg_canonical_info(system, verbose=False), "T"


def sphere_meg(
    connectome,
    system: str = "ctf275",
    montage: str = "standard_1020",
    axes: str = "tvb",
    fill: float = 0.8,
    subcortical_factor: float = 0.0,
) -> Gain:
    """MEG gain (T or T/m per A m) of a sphere (Sarvas) at the region centres.

    The head sphere and the region placement are those of :func:`sphere_eeg` with the
    same ``montage``; the helmet of ``system`` (see ``MEG_SYSTEMS``) is translated so that
    its fitted sphere centre coincides with the head sphere centre.
    """
    mne = _mne()
    from .geometry import fit_sphere

    info, unit = meg_sensors_info(system)
    rr, nn, radial, c, radius, transform = _place_regions(
        connectome, montage, axes, fill, f"sphere_meg:{system}"
    )
    dev = np.array([ch["loc"][:3] for ch in info["chs"]])
    helmet_centre, _ = fit_sphere(dev)
    shift = c - helmet_centre
    t = np.eye(4)
    t[:3, 3] = shift
    with info._unlock():
        info["dev_head_t"] = mne.transforms.Transform("meg", "head", t)
    sphere = mne.make_sphere_model(r0=c, head_radius=radius, verbose=False)
    g = _forward(rr, nn, sphere, info) * region_factors(connectome, subcortical_factor)
    sensors = SensorSet(
        names=list(info["ch_names"]),
        kind="meg",
        positions_mm=(dev + shift) * 1e3,
        frame="mne_head",
        orientations=np.array([ch["loc"][9:12] for ch in info["chs"]]),
        signal_unit=unit,
        description=f"MEG system {system!r}",
    )
    return Gain(
        sensors=sensors,
        matrix=g,
        regions=connectome.labels,
        unit=f"{unit}/(A m)",
        source=(
            f"sphere MEG (Sarvas 1987, MNE coil integration), system {system!r}, origin at "
            f"the centre of the sphere fitted to montage {montage!r}; helmet centred on it; "
            f"region centres scaled into the brain sphere (fill {fill}); subcortical "
            f"factor {subcortical_factor}"
        ),
        parameters={
            "kind": f"sphere_meg:{system}",
            "system": system,
            "montage": montage,
            "axes": axes,
            "fill": fill,
            "subcortical_factor": subcortical_factor,
            "sphere_centre_m": c.tolist(),
            "head_radius_m": radius,
            "helmet_shift_m": shift.tolist(),
            "radial_regions": [connectome.labels[i] for i in np.flatnonzero(radial)],
            "dipole_positions_m": rr.tolist(),
            "dipole_orientations": nn.tolist(),
        },
    )
