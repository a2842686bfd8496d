"""TVB's precomputed EEG (65) and MEG (276) projections as region gains in physical units.

tvb-data ships surface projection matrices (``projectionMatrix/projection_eeg_65_surface_16k.npy``,
``projection_meg_276_surface_16k.npy``): one column per vertex of the 16384-vertex
cortex, the dipole oriented along the vertex normal. Region gain = the MEAN of the
columns of the region's vertices (``regionMapping_16k_76`` or ``_192``): a region's
moment spread equally over its vertices, along their normals (folding cancels part of
it, unlike the single coherent dipole of the sphere model).

Units: tvb-data states none. The magnitudes look like Brainstorm/OpenMEEG gains in
V/(A m) and T/(A m), but that cannot be established from the package, so the gains are
CALIBRATED against the MNE sphere model (:mod:`multiscale.sensors.sphere`) and the
factors are fixed here, re-derived by ``tests/validation/test_forward_models.py``:

- EEG: least squares over the 16384 vertices on the 61 electrodes shared by name with
  MNE's ``standard_1020`` (average reference both), the cortex scaled into the sphere as
  the region centres are (:func:`multiscale.sensors.geometry.centres_in_sphere`):
  ``physical = EEG_SCALE * tvb``.
- MEG: tvb-data's MEG sensor geometry is unusable (see :mod:`multiscale.sensors.sphere`), so no
  channel-by-channel comparison is possible; the scale matches the median over vertices
  of the RMS-over-channels gain to that of the sphere model with Neuromag magnetometers
  (an order-of-magnitude calibration): ``physical = MEG_SCALE * tvb``.
"""

from __future__ import annotations

import functools

import numpy as np

from multiscale.connectome import load_connectome, tvb_data_dir

from .types import ForwardModelError, Gain, SensorSet

#: V/(A m) per TVB EEG unit (least squares against the MNE sphere; see module docstring)
EEG_SCALE = 2.07
#: T/(A m) per TVB MEG unit (RMS match against the MNE sphere; see module docstring)
MEG_SCALE = 0.86

#: connectomes whose regions have a tvb-data region mapping onto the 16k cortex
_MAPPINGS = {"tvb76": "regionMapping_16k_76.txt", "tvb192": "regionMapping_16k_192.txt"}


def _matching_tvb(connectome, model: str) -> str:
    for name in _MAPPINGS:
        ref = load_connectome(name)
        if connectome.labels == ref.labels:
            return name
    raise ForwardModelError(
        f"forward model {model!r} fits only the tvb-data connectomes "
        f"{' or '.join(_MAPPINGS)} (same labels in the same order); connectome "
        f"{connectome.name!r} ({connectome.n_regions} regions) is neither: use the sphere "
        "model ('sphere:standard_1020') or a gain file"
    )


@functools.lru_cache(maxsize=4)
def region_mapping(name: str) -> np.ndarray:
    """Region index of each of the 16384 cortex vertices for ``tvb76`` or ``tvb192``."""
    m = np.loadtxt(tvb_data_dir() / "regionMapping" / _MAPPINGS[name]).astype(np.int64)
    m.flags.writeable = False
    return m


@functools.lru_cache(maxsize=2)
def projection(kind: str) -> tuple[np.ndarray, tuple[str, ...], np.ndarray | None]:
    """TVB's raw vertex projection (channels with NaN rows dropped), names, positions (mm).

    ``kind`` is "eeg" (65 channels; IO1/IO2 are NaN: 63 remain) or "meg" (276 rows;
    the 28 reference/trigger rows are NaN: the 248 magnetometers A1..A248 remain;
    positions None, the file's geometry being unusable).
    """
    root = tvb_data_dir()
    if kind == "eeg":
        p = np.load(root / "projectionMatrix" / "projection_eeg_65_surface_16k.npy")
        text = (root / "sensors" / "eeg_brainstorm_65.txt").read_text()
    else:
        p = np.load(root / "projectionMatrix" / "projection_meg_276_surface_16k.npy")
        text = (root / "sensors" / "meg_brainstorm_276.txt").read_text()
    rows = [line.split() for line in text.splitlines() if line.split()]
    names = [r[0] for r in rows]
    keep = ~np.isnan(p).any(axis=1)
    pos = np.array([[float(v) for v in r[1:4]] for r in rows])[keep] if kind == "eeg" else None
    p = np.ascontiguousarray(p[keep], dtype=np.float64)
    p.flags.writeable = False
    return p, tuple(n for n, k in zip(names, keep, strict=True) if k), pos


def region_means(p: np.ndarray, mapping: np.ndarray, n_regions: int) -> np.ndarray:
    """(channels, regions): the mean of the vertex columns of each region."""
    g = np.zeros((p.shape[0], n_regions))
    np.add.at(g.T, mapping, p.T)
    counts = np.bincount(mapping, minlength=n_regions)
    if (counts == 0).any():
        raise ForwardModelError(f"regions without vertices: {np.flatnonzero(counts == 0)}")
    return g / counts


def tvb_gain(connectome, kind: str = "eeg") -> Gain:
    """TVB's EEG-65 (``kind="eeg"``) or MEG-276 (``"meg"``) gain, in V or T per A m.

    Only for the tvb-data connectomes with a region mapping (tvb76, tvb192).
    """
    if kind not in ("eeg", "meg"):
        raise ForwardModelError(f"kind must be 'eeg' or 'meg', not {kind!r}")
    model = "tvb65" if kind == "eeg" else "tvb276"
    name = _matching_tvb(connectome, model)
    p, names, pos = projection(kind)
    g = region_means(p, region_mapping(name), connectome.n_regions)
    scale = EEG_SCALE if kind == "eeg" else MEG_SCALE
    unit = "V" if kind == "eeg" else "T"
    sensors = SensorSet(
        names=[n.split("/")[0] for n in names],  # "T8/T4" -> "T8" (10-20 modern names)
        kind=kind,
        positions_mm=pos if pos is not None else np.zeros((len(names), 3)),
        frame="tvb_sensors" if kind == "eeg" else "unknown",
        signal_unit=unit,
        description=(
            "tvb-data sensors/eeg_brainstorm_65.txt (mm; Brainstorm head frame: x anterior, "
            "y left, z up, not the frame of the cortex surface)"
            if kind == "eeg"
            else "tvb-data meg_brainstorm_276.txt magnetometers A1..A248 (positions "
            "unusable in the file: zeros here)"
        ),
    )
    return Gain(
        sensors=sensors,
        matrix=g * scale,
        regions=connectome.labels,
        unit=f"{unit}/(A m)",
        source=(
            f"tvb-data projection_{kind}_{'65' if kind == 'eeg' else '276'}_surface_16k, mean "
            f"over the vertices of each region ({_MAPPINGS[name]}), times {scale} "
            f"{unit}/(A m) per TVB unit (calibrated against the MNE sphere model)"
        ),
        parameters={"kind": model, "connectome": name, "scale": scale},
    )


@functools.lru_cache(maxsize=1)
def cortex_16k() -> tuple[np.ndarray, np.ndarray]:
    """tvb-data's 16384-vertex cortex: vertices (mm, TVB frame) and unit normals."""
    import zipfile

    with zipfile.ZipFile(tvb_data_dir() / "surfaceData" / "cortex_16384.zip") as z:
        v = np.loadtxt(z.open("vertices.txt"))
        n = np.loadtxt(z.open("vertex_normals.txt"))
    n = n / np.linalg.norm(n, axis=1, keepdims=True)
    return v, n


def calibrate(kind: str = "eeg", montage: str = "standard_1020", fill: float = 0.8) -> dict:
    """Re-derive the scale of TVB's projection against the MNE sphere (see module doc).

    The 16384 cortex vertices are mapped into the sphere by the region-centre rule (the
    same transform as tvb76's centres, which are the vertex means of its regions) and
    given their normals. Returns ``{"scale", "correlation_median", ...}``.
    """
    import mne

    from .geometry import centres_in_sphere
    from .sphere import SPHERE_LAYERS, eeg_montage, head_sphere, meg_sensors_info

    verts, normals = cortex_16k()
    c, radius = head_sphere(montage)
    ref = load_connectome("tvb76").centres_mm
    _, t = centres_in_sphere(ref, c, SPHERE_LAYERS[0][0] * radius, fill=fill)
    rr = c + t["scale_m_per_mm"] * (verts - t["midpoint_mm"]) @ t["rotation"].T
    nn = normals @ t["rotation"].T
    inside = np.linalg.norm(rr - c, axis=1) < 0.98 * SPHERE_LAYERS[0][0] * radius
    p, names, _ = projection(kind)
    sphere = mne.make_sphere_model(r0=c, head_radius=radius, verbose=False)
    if kind == "eeg":
        all_names, pos = eeg_montage(montage)
        short = [n.split("/")[0] for n in names]
        shared = [n for n in short if n in all_names]
        info = mne.create_info(shared, 1000.0, "eeg")
        info.set_montage(
            mne.channels.make_dig_montage(
                ch_pos={n: pos[all_names.index(n)] for n in shared}, coord_frame="head"
            ),
            verbose=False,
        )
        tvb = p[[short.index(n) for n in shared]]
    else:
        info, _ = meg_sensors_info("neuromag_mag")
        helmet = np.array([ch["loc"][:3] for ch in info["chs"]])
        from .geometry import fit_sphere

        tr = np.eye(4)
        tr[:3, 3] = c - fit_sphere(helmet)[0]
        with info._unlock():
            info["dev_head_t"] = mne.transforms.Transform("meg", "head", tr)
        tvb = p
    n = int(inside.sum())
    dip = mne.Dipole(np.arange(n) * 1e-3, rr[inside], np.ones(n), nn[inside], np.ones(n))
    fwd, _ = mne.make_forward_dipole(dip, sphere, info, trans=None, n_jobs=1, verbose=False)
    sph = fwd["sol"]["data"]
    tvb = tvb[:, inside]
    out = {"n_vertices": n, "n_channels": tvb.shape[0]}
    if kind == "eeg":
        a = tvb - tvb.mean(axis=0)
        b = sph - sph.mean(axis=0)
        corr = np.array([np.corrcoef(a[:, k], b[:, k])[0, 1] for k in range(n)])
        out.update(
            scale=float((a * b).sum() / (a * a).sum()),
            correlation_median=float(np.median(corr)),
            correlation_p10=float(np.percentile(corr, 10)),
            shared_channels=shared,
        )
    else:
        rms_t = np.sqrt((tvb**2).mean(axis=0))
        rms_s = np.sqrt((sph**2).mean(axis=0))
        out.update(scale=float(np.median(rms_s) / np.median(rms_t)))
    return out
