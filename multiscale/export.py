"""Sensor data out to other tools: an output's /eeg, /meg or /seeg as an ``mne.io.Raw``
(:func:`to_raw`), and as a FIF, EDF, BrainVision or EEGLAB file (:func:`export`, the
``multiscale export`` command), each with channel names and types, sampling rate,
physical units, positions where the format holds them, and every perturbation and
stimulus as an annotation (docs/sensors.md says what each format keeps).

Units: MNE holds data in SI, so /K/data is converted from the file's unit: uV -> V
(eeg, seeg), fT -> T (magnetometers, axial gradiometers: MNE type "mag"), fT/cm -> T/m
(planar gradiometers: "grad"). Positions are converted from mm to m and to MNE's head
frame (x right, y anterior, z up).
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from multiscale.outputs import OutputError, is_output, open_output
from multiscale.outputs import names as output_names
from multiscale.sensors.geometry import head_axes, head_positions
from multiscale.stimuli import pulse_trains
from multiscale.storage import LogEntry, read_log

if TYPE_CHECKING:
    import h5py
    import mne

KINDS = ("eeg", "meg", "seeg")
#: format -> the ending of the file it writes (the default name is X_<kind><ending>)
FORMATS = {"fif": "_raw.fif", "edf": ".edf", "brainvision": ".vhdr", "eeglab": ".set"}
#: formats without MEG (no channel type or unit for it that MNE reads back: MNE would read
#: the field as EEG in volts): a MEG recording is refused rather than mislabelled
_ELECTRIC_ONLY = ("edf", "brainvision", "eeglab")
#: the file's unit -> (factor to SI, MNE channel type for MEG)
_UNITS = {"uV": (1e-6, None), "fT": (1e-15, "mag"), "fT/cm": (1e-13, "grad")}
#: events of the log that are bookkeeping, not something done to the brain
_SKIPPED_EVENTS = ("checkpoint", "resumed")


class IncompleteWarning(UserWarning):
    """The exported output is from a run that did not finish (it is exported as it is)."""


@dataclass
class _Sensors:
    """What /K holds, read into memory (data in SI, positions in m, head frame)."""

    names: list[str]
    types: list[str]
    data: np.ndarray  # (channels, samples), SI
    sfreq: float
    positions: np.ndarray | None  # (channels, 3) m, MNE head frame; None if unknown
    orientations: np.ndarray | None  # (channels, 3) unit normals (meg)
    attrs: dict[str, Any] = field(default_factory=dict)


def _text(x: Any) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def _source_path(source: str | os.PathLike | Any) -> Path:
    """The .h5 path of a path or a ``multiscale.Result``."""
    return Path(getattr(source, "path", source))


#: copies of the data an export holds at its peak (read, scaled, MNE's own, the writer's)
_COPIES = 4


def _check_memory(path: Path, kind: str, values: int) -> None:
    """An OutputError, before reading, if the recording cannot be held in memory: MNE
    exports from memory, so a long many-channel run may not fit."""
    from multiscale.resources import available_memory, byte_size

    need = _COPIES * 8 * values
    avail = available_memory()
    if avail is not None and need > avail:
        raise OutputError(
            f"{path}: exporting {kind} ({values:,} values) needs about {byte_size(need)} of "
            f"memory, {byte_size(avail)} available here; export on a machine with more memory"
        )


def _read_sensors(f: h5py.File, path: Path, kind: str) -> _Sensors:
    if kind not in KINDS:
        raise OutputError(f"{path}: unknown sensor kind {kind!r}; expected eeg, meg or seeg")
    if kind not in f or "data" not in f[kind]:
        there = [k for k in KINDS if k in f and "data" in f[k]]
        has = f"it holds {', '.join(there)}" if there else "it holds no sensor data"
        raise OutputError(f"{path}: no {kind} recorded ({has}); choose another --kind")
    ds = f[f"{kind}/data"]
    names = output_names(ds, "channels")
    missing = [a for a in ("unit", "sampling_rate") if a not in ds.attrs]
    missing += ["channels"] if names is None else []
    if missing or ds.ndim != 2 or ds.shape[1] != len(names):
        raise OutputError(
            f"{path}: {kind}/data is not in the sensor layout (attrs missing: "
            f"{', '.join(missing) or 'none'}; shape {ds.shape})"
        )
    if ds.shape[0] == 0:
        raise OutputError(f"{path}: {kind}/data holds no samples yet; nothing to export")
    unit = _text(ds.attrs["unit"])
    if unit not in _UNITS or (kind == "meg") != (unit != "uV"):
        raise OutputError(
            f"{path}: {kind}/data is in {unit!r}; expected uV (eeg, seeg), fT or fT/cm"
        )
    scale, meg_type = _UNITS[unit]
    types = [meg_type or kind] * len(names)
    _check_memory(path, kind, ds.size)
    data = np.asarray(ds[()], dtype=np.float64).T * scale
    positions = orientations = None
    if f"{kind}/positions" in f:
        pos = f[f"{kind}/positions"]
        frame = _text(pos.attrs.get("frame", "unknown"))
        # a file without a known frame gets no montage: positions are not invented here
        if frame in ("mne_head", "tvb_sensors", "connectome"):
            positions = head_positions(pos[()], frame, names if kind == "eeg" else None)
        if kind == "meg" and f"{kind}/orientations" in f and positions is not None:
            orientations = head_axes(np.asarray(f[f"{kind}/orientations"][()], float), frame)
    attrs = {k: ds.attrs[k] for k in ("reference", "forward_model") if k in ds.attrs}
    return _Sensors(
        names=names,
        types=types,
        data=data,
        sfreq=float(ds.attrs["sampling_rate"]),
        positions=positions,
        orientations=orientations,
        attrs={k: _text(v) for k, v in attrs.items()},
    )


def _set_positions(raw: mne.io.BaseRaw, s: _Sensors) -> None:
    """Electrode positions as a montage (eeg, seeg); MEG positions and coil normals into
    each channel's ``loc`` (a montage holds no coil geometry)."""
    import mne
    from mne.io.constants import FIFF

    if s.positions is None:
        return
    pos = {n: p for n, p in zip(s.names, s.positions, strict=True)}
    if s.types[0] in ("eeg", "seeg"):
        raw.set_montage(mne.channels.make_dig_montage(ch_pos=pos, coord_frame="head"))
        return
    with raw.info._unlock():
        # device = head: the positions are already in head coordinates
        raw.info["dev_head_t"] = mne.transforms.Transform("meg", "head", np.eye(4))
    for ch, p, normal in zip(raw.info["chs"], s.positions, _normals(s), strict=True):
        ex, ey, ez = _coil_axes(normal)
        ch["loc"] = np.concatenate([p, ex, ey, ez])
        ch["coord_frame"] = FIFF.FIFFV_COORD_DEVICE
        if ch["unit"] == FIFF.FIFF_UNIT_T:  # as the forward model: a point magnetometer
            ch["coil_type"] = FIFF.FIFFV_COIL_POINT_MAGNETOMETER


def _normals(s: _Sensors) -> np.ndarray:
    """Each MEG coil's normal; radial from the origin where the file has none."""
    if s.orientations is not None:
        return s.orientations
    return s.positions / np.linalg.norm(s.positions, axis=1, keepdims=True).clip(1e-12)


def _coil_axes(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A right-handed frame (ex, ey, ez) whose ez is the coil normal."""
    ez = normal / max(np.linalg.norm(normal), 1e-12)
    helper = np.array([1.0, 0.0, 0.0]) if abs(ez[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    ex = np.cross(helper, ez)
    ex /= np.linalg.norm(ex)
    return ex, np.cross(ez, ex), ez


# --- annotations --------------------------------------------------------------------------
def _describe(e: LogEntry) -> str:
    """``event: name (details)``; the details without the event they repeat."""
    details = e.what.removeprefix(f"{e.event}: ") if e.event else e.what
    head = f"{e.event}: {e.name}" if e.event else e.name
    return f"{head} ({details})" if details else head


def _log_annotations(log: list[LogEntry]) -> list[tuple[float, float, str]]:
    """(onset s, duration s, description) of every perturbation and stimulus; a stimulus
    switched on and off is one annotation lasting from on to off."""
    out = []
    offs = {e.name: e for e in log if e.event == "stimulus off"}
    for e in log:
        if e.event in _SKIPPED_EVENTS or (e.event == "stimulus off" and _paired(e, log)):
            continue
        off = offs.get(e.name) if e.event == "stimulus on" else None
        if off is not None and off.time_ms >= e.time_ms:
            out.append((e.time_ms / 1000, (off.time_ms - e.time_ms) / 1000, _describe(e)))
        else:
            out.append((e.time_ms / 1000, 0.0, _describe(e)))
    return out


def _paired(off: LogEntry, log: list[LogEntry]) -> bool:
    return any(
        e.event == "stimulus on" and e.name == off.name and e.time_ms <= off.time_ms for e in log
    )


def _annotations(f: h5py.File, end_s: float, complete: bool) -> mne.Annotations:
    import mne

    rows = [r for r in _log_annotations(read_log(f)) if r[0] < end_s]
    config = _text(f.attrs.get("config", ""))
    rows += [
        (t / 1000.0, train.width_ms / 1000.0, f"pulse: {train.name}")
        for train in pulse_trains(config, end_s * 1000.0)
        for t in train.onsets_ms
    ]
    if not complete:
        rows.append((0.0, 0.0, f"incomplete run: ends at {end_s:g} s"))
    rows.sort(key=lambda r: r[0])
    onset, duration, description = zip(*rows, strict=True) if rows else ((), (), ())
    return mne.Annotations(onset, duration, list(description), orig_time=None)


# --- the Raw ------------------------------------------------------------------------------
def to_raw(source: str | os.PathLike | Any, kind: str = "eeg") -> mne.io.RawArray:
    """The sensor recording ``kind`` ("eeg", "meg", "seeg") of an output (a path or a
    ``multiscale.Result``) as an ``mne.io.RawArray``.

    Data in SI (V; T for magnetometers and axial gradiometers, type "mag"; T/m for planar
    gradiometers, "grad"); sfreq from the recording's sampling_rate. Positions: EEG and
    SEEG as a montage in head coordinates (m); EEG from TVB's sensor file takes MNE's
    10-20 template positions for the channels it names; MEG positions in each channel's
    ``loc[:3]`` (m) and the coil normal in ``loc[9:12]`` (``loc[3:9]``: two axes
    perpendicular to it), device frame = head frame (``dev_head_t`` identity),
    magnetometers as point magnetometers (the forward model's sensor). Positions in an
    "unknown" frame are left out (NaN ``loc``).

    Annotations (onsets in s from the first sample): every perturbation and stimulus of
    the log as ``"<event>: <name> (<what>)"`` (a stimulus switched on and off: one
    annotation lasting on to off), one ``"pulse: <name>"`` per pulse of a pulse train
    (duration: the pulse's width) to epoch on, and for a run that did not finish
    ``"incomplete run: ends at <t> s"`` (with an :class:`IncompleteWarning`).

    ``meas_date`` is None: a simulation has no acquisition date, and a made-up one would
    read as real (EDF writes its placeholder date 01.01.85 then). The run's name, seed and
    experiment file are in ``info["description"]``, the program in ``info["experimenter"]``.

    A missing file, a file that is not an output, or no such recording: an OutputError
    naming the file and the problem.
    """
    return _load(_source_path(source), kind)[0]


def _load(path: Path, kind: str) -> tuple[mne.io.RawArray, str]:
    """:func:`to_raw` of ``path``, and the recording's reference ("average", "none")."""
    import mne

    from multiscale import __version__

    f = open_output(path)
    with f:
        s = _read_sensors(f, path, kind)
        complete = bool(f.attrs.get("complete", False))
        end_s = s.data.shape[1] / s.sfreq
        annotations = _annotations(f, end_s, complete)
        name = _text(f.attrs.get("name", path.stem))
        seed = _text(f.attrs.get("seed", "?"))
        experiment = _text(f.attrs.get("config_path", "?"))
    if not complete:
        warnings.warn(
            f"{path}: the run did not finish; exporting the {end_s:g} s it holds",
            IncompleteWarning,
            stacklevel=3,
        )
    info = mne.create_info(s.names, s.sfreq, s.types, verbose=False)
    raw = mne.io.RawArray(s.data, info, verbose=False)
    _set_positions(raw, s)
    model = s.attrs.get("forward_model", "?")
    raw.info["description"] = (
        f"multiscale simulation {name!r}, seed {seed}, experiment {experiment}, "
        f"{kind} forward model {model}, reference {s.attrs.get('reference', '?')}"
    )
    raw.info["experimenter"] = f"multiscale {__version__}"
    raw.set_annotations(annotations)
    return raw, s.attrs.get("reference", "")


# --- files --------------------------------------------------------------------------------
def default_path(path: str | os.PathLike, fmt: str, kind: str) -> Path:
    """Where :func:`export` writes by default: ``X_<kind>_raw.fif``, ``X_<kind>.edf``,
    ``X_<kind>.vhdr`` (with .vmrk and .eeg) or ``X_<kind>.set`` beside ``X.h5``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_{kind}{FORMATS[fmt]}")


def _targets(out: Path, fmt: str) -> list[Path]:
    """Every file the format writes for ``out`` (BrainVision: three)."""
    if fmt == "brainvision":
        return [out, out.with_suffix(".vmrk"), out.with_suffix(".eeg")]
    return [out]


def _check_targets(path: Path, out: Path, fmt: str, overwrite: bool) -> list[Path]:
    """The files to write; an OutputError for one that must not be written over."""
    ending = FORMATS[fmt].removeprefix("_raw")
    if not out.name.endswith(ending) and not (fmt == "fif" and out.name.endswith(".fif.gz")):
        raise OutputError(f"{out}: a {fmt} file name must end in {ending}")
    targets = _targets(out, fmt)
    for t in targets:
        if t.resolve() == path.resolve():
            raise OutputError(f"{t}: that is the output being exported; choose another path")
        if t.is_dir():
            raise OutputError(f"{t}: is a directory; choose another path")
        if not t.exists():
            continue
        if is_output(t) or not t.is_file():
            raise OutputError(
                f"{t}: exists and is not an export; refusing to write over it "
                f"(with or without --overwrite): choose another path"
            )
        if not overwrite:
            raise OutputError(f"{t}: already exists; pass --overwrite to replace it")
    if not out.parent.is_dir():
        raise OutputError(f"{out}: the folder {out.parent} does not exist")
    return targets


def export(
    path: str | os.PathLike,
    fmt: str,
    out: str | os.PathLike | None = None,
    kind: str = "eeg",
    overwrite: bool = False,
) -> Path:
    """Write the recording ``kind`` of the output ``path`` as ``fmt`` ("fif", "edf",
    "brainvision", "eeglab") to ``out`` (default: :func:`default_path`); the path written.

    FIF keeps everything (float64); EDF stores 16-bit integers per channel scaled to the
    channel's own range (uV) and no positions; BrainVision float32 in uV, no positions;
    EEGLAB float32 with positions. MEG goes to FIF only: the others hold no MEG channel
    that MNE reads back as such. An existing file is replaced only with ``overwrite``, and never one
    that is not an export (the input, another output); the new file is written beside it
    and moved into place once complete. Problems: an OutputError naming the file.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise OutputError(
            f"{path}: unknown export format {fmt!r}; expected fif, edf, brainvision or eeglab"
        )
    if kind == "meg" and fmt in _ELECTRIC_ONLY:
        raise OutputError(
            f"{path}: {fmt} holds electric potentials only (MNE would read MEG back as EEG "
            f"in V); use --format fif"
        )
    if kind not in KINDS:
        raise OutputError(f"{path}: unknown sensor kind {kind!r}; expected eeg, meg or seeg")
    out = default_path(path, fmt, kind) if out is None else Path(out)
    open_output(path).close()  # a missing or foreign input first, then the targets
    targets = _check_targets(path, out, fmt, overwrite)
    raw, reference = _load(path, kind)
    folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write(raw, folder / out.name, fmt, reference)
        for t in targets:
            os.replace(folder / t.name, t)
    except OSError as err:  # a full disk, no permission: the machine's, not the input's
        from multiscale.storage import WriteError, reason

        why = reason(err)
        if shutil.disk_usage(out.parent).free < 2**20:  # writers report a short write
            why = "the disk is full"
        raise WriteError(f"{out}: cannot write it ({why}); nothing was left") from err
    except (RuntimeError, ValueError) as err:  # what the format cannot hold (EDF: 16-char labels)
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OutputError(f"{out}: {fmt} cannot hold this recording: {first}") from err
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _write(raw: mne.io.BaseRaw, out: Path, fmt: str, reference: str) -> None:
    """Write ``raw`` as ``fmt`` to ``out`` (a fresh folder: nothing to overwrite)."""
    import mne

    with warnings.catch_warnings():
        # what the format is (docs/sensors.md says it), not news about this export
        warnings.filterwarnings("ignore", "Encountered data in 'double' format", RuntimeWarning)
        warnings.filterwarnings("ignore", ".*does not conform to MNE naming", RuntimeWarning)
        if fmt == "fif":
            raw.save(out, fmt="double", verbose=False)
        elif fmt == "edf":
            # MNE both logs and warns that EDF pads to whole 1 s records; its log line
            # lands on stdout under some logging set-ups, so it is silenced and said here
            seconds = raw.n_times / raw.info["sfreq"]
            pad = math.ceil(seconds - 1e-9) - seconds
            mne.export.export_raw(
                out, raw, fmt="edf", physical_range="channelwise", add_ch_type=True,
                verbose="error",
            )  # fmt: skip
            if pad > 1e-9:
                warnings.warn(
                    f"{out.name}: EDF holds whole 1 s records: {pad:.3g} s of the last "
                    "values appended, annotated BAD_ACQ_SKIP",
                    RuntimeWarning,
                    stacklevel=2,
                )
        elif fmt == "brainvision":
            # a marker is a comma-separated line: commas in a description are written as
            # "\\1", as BrainVision Analyzer does (pybv does not; MNE's reader undoes it)
            raw = raw.copy()
            a = raw.annotations
            escaped = [d.replace(",", "\\1") for d in a.description]
            raw.set_annotations(mne.Annotations(a.onset, a.duration, escaped, orig_time=None))
            mne.export.export_raw(out, raw, fmt=fmt, verbose=False)
        else:
            _write_eeglab(raw, out, reference)


def _write_eeglab(raw: mne.io.BaseRaw, out: Path, reference: str) -> None:
    """EEGLAB .set (MATLAB v5, float32 in uV) through eeglabio, as MNE's exporter does,
    plus each channel's type ("EEG", "SEEG": MNE reads it back; MNE's exporter leaves it
    out) and the reference ("average" for EEG)."""
    from eeglabio.raw import export_set

    xyz = np.array([ch["loc"][:3] for ch in raw.info["chs"]])
    has_positions = np.isfinite(xyz).all() and xyz.any()
    # EEGLAB's axes: x anterior, y left, z up
    als = np.stack([xyz[:, 1], -xyz[:, 0], xyz[:, 2]], axis=1) if has_positions else None
    a = raw.annotations
    export_set(
        str(out),
        data=raw.get_data(),
        sfreq=raw.info["sfreq"],
        ch_names=raw.ch_names,
        ch_locs=als,
        annotations=[a.description.tolist(), a.onset, a.duration] if len(a) else None,
        ref_channels="average" if reference == "average" else "common",
        ch_types=[t.upper() for t in raw.get_channel_types()],
    )
