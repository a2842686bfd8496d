"""The recording a fit aims at: read through MNE (EDF, FIF, BrainVision, EEGLAB and every
other format ``mne.io.read_raw`` knows) or from an earlier output (.h5), its channels
matched by name to the model's sensors, bad and unmatched channels reported and left out.

Names are matched after normalising what recording systems add around the 10-20 name
("EEG Fp1-REF", "FP1", "Fp1-A1" all read as FP1), with the old 10-20 names T3, T4, T5, T6
taken as T7, T8, P7, P8 (the same positions). Both sides are then re-referenced to the
average of the shared channels (EEG only), so that the reference is the same whatever the
recording used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from multiscale.config import ConfigError
from multiscale.fit.signals import SensorData
from multiscale.fit.spec import Target

#: old 10-20 names -> the 10-10 names of the same positions
_OLD_NAMES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}
#: what a recording system adds around the electrode's name
_PREFIX = re.compile(r"^(EEG|MEG|SEEG)[\s_-]*", re.IGNORECASE)
_SUFFIX = re.compile(r"[\s_-]+(REF|LE|RE|AVG|AR|A1|A2|M1|M2|CZ)$", re.IGNORECASE)
#: SI -> the unit a run stores, per kind
_STORED = {"eeg": ("uV", 1e6), "seeg": ("uV", 1e6), "meg": ("fT", 1e15)}
#: the share of the available memory a recording may take once read
_MEMORY_SHARE = 0.25


def normalised(name: str) -> str:
    """A channel name as it is matched: no system prefix or reference suffix, upper case,
    old 10-20 names in their 10-10 form."""
    core = _SUFFIX.sub("", _PREFIX.sub("", name.strip())).replace(" ", "").upper()
    return _OLD_NAMES.get(core, core)


@dataclass(frozen=True)
class Matching:
    """How a recording's channels met the model's: pairs (model name, recording name) in the
    model's order; the recording's bad channels, its channels the model lacks, and the
    model's channels the recording lacks."""

    pairs: tuple[tuple[str, str], ...]
    bad: tuple[str, ...]
    unmatched: tuple[str, ...]
    missing: tuple[str, ...]

    def describe(self) -> str:
        """One paragraph for the terminal and the report."""
        text = f"{len(self.pairs)} channels matched"
        if self.bad:
            text += f"; left out as bad in the recording: {', '.join(self.bad)}"
        if self.unmatched:
            text += f"; recording channels the model has no sensor for: {', '.join(self.unmatched)}"
        if self.missing:
            shown = ", ".join(self.missing[:8]) + (", ..." if len(self.missing) > 8 else "")
            text += f"; {len(self.missing)} model sensors the recording lacks ({shown})"
        return text


def match(
    model: list[str], recording: list[str], bad: list[str], wanted: tuple[str, ...] | None
) -> Matching:
    """Pair model and recording channels by normalised name (``wanted``: model channel
    names to keep, None for all)."""
    by_name: dict[str, str] = {}
    for ch in recording:
        by_name.setdefault(normalised(ch), ch)
    bad_n = {normalised(b) for b in bad}
    keep = None if wanted is None else {normalised(w) for w in wanted}
    pairs = []
    for ch in model:
        n = normalised(ch)
        if n in by_name and n not in bad_n and (keep is None or n in keep):
            pairs.append((ch, by_name[n]))
    model_n = {normalised(c) for c in model}
    unmatched = tuple(c for c in recording if normalised(c) not in model_n and c not in bad)
    missing = tuple(c for c in model if normalised(c) not in by_name)
    return Matching(tuple(pairs), tuple(b for b in bad if b in recording), unmatched, missing)


def read_target(
    target: Target, model_channels: list[str], where: str
) -> tuple[SensorData, Matching]:
    """The part of the recording to fit, as SensorData with the model's channel names (in
    the model's order, in the stored unit: uV for EEG and SEEG, fT for MEG), re-referenced
    to the average of the shared channels for EEG, and how the channels matched. Problems
    are ConfigErrors naming ``where`` (the experiment file) and the field."""
    field = f"fit.target.{target.kind}"
    raw = _open(target, where, field)
    fs = float(raw.info["sfreq"])
    picks = _picks(raw, target.kind)
    names = [raw.ch_names[i] for i in picks]
    matching = match(model_channels, names, list(raw.info["bads"]), target.channels)
    if len(matching.pairs) < 2:
        raise ConfigError(
            f"{where}: {field}: got {target.path}; expected a recording sharing at least 2 "
            f"{target.kind} channels with the model's sensors ({matching.describe()}; model "
            f"sensors: {', '.join(model_channels[:12])}{'...' if len(model_channels) > 12 else ''})"
        )
    start, stop = 0, raw.n_times
    if target.window_s is not None:
        start, stop = (int(round(t * fs)) for t in target.window_s)
        if stop > raw.n_times:
            raise ConfigError(
                f"{where}: fit.target.window: got {list(target.window_s)} s; expected a window "
                f"inside the recording ({raw.n_times / fs:g} s long)"
            )
    _check_memory(len(matching.pairs) * (stop - start), where, field, target.path)
    rows = [names.index(r) for _, r in matching.pairs]
    data = raw.get_data(picks=[picks[i] for i in rows], start=start, stop=stop).T
    unit, factor = _STORED[target.kind]
    data = data * factor
    if not np.all(np.isfinite(data)):
        raise ConfigError(f"{where}: {field}: got {target.path}; expected finite samples")
    if target.kind == "eeg":
        data = data - data.mean(axis=1, keepdims=True)
    channels = tuple(m for m, _ in matching.pairs)
    return SensorData(target.kind, channels, np.ascontiguousarray(data), unit, fs), matching


def _open(target: Target, where: str, field: str):
    """The recording as an mne Raw, its data not yet read."""
    from multiscale.outputs import OutputError, is_output

    path = Path(target.path)
    if is_output(path):
        from multiscale.export import to_raw

        try:
            return to_raw(path, target.kind)
        except OutputError as err:
            raise ConfigError(f"{where}: {field}: {err}") from err
    import mne

    try:
        return mne.io.read_raw(path, preload=False, verbose="error")
    except Exception as err:  # MNE raises many kinds for unreadable files  # noqa: BLE001
        raise ConfigError(
            f"{where}: {field}: got {path}; expected a recording MNE can read (EDF, FIF, "
            f"BrainVision .vhdr, EEGLAB .set, ...) or a multiscale output: {err}"
        ) from err


def _picks(raw, kind: str) -> list[int]:
    import mne

    types = {"eeg": {"eeg": True}, "meg": {"meg": True}, "seeg": {"seeg": True}}[kind]
    return list(mne.pick_types(raw.info, **types, exclude=[]))


def _check_memory(values: int, where: str, field: str, path: Path) -> None:
    """Refuse a recording that would take more than a quarter of the free memory."""
    from multiscale.resources import available_memory, byte_size

    free = available_memory()
    need = 8 * values
    if free is not None and need > _MEMORY_SHARE * free:
        raise ConfigError(
            f"{where}: {field}: got {path}; reading it needs {byte_size(need)}, more than a "
            f"quarter of the free memory ({byte_size(free)}); expected a shorter "
            "fit.target.window or fewer fit.target.channels"
        )


def rereferenced(data: SensorData, channels: tuple[str, ...]) -> SensorData:
    """``data`` restricted to ``channels`` (in that order) and, for EEG, re-referenced to
    their average (the same reference the target gets)."""
    index = [data.channels.index(c) for c in channels]
    x = data.data[:, index]
    if data.kind == "eeg":
        x = x - x.mean(axis=1, keepdims=True)
    return SensorData(data.kind, channels, x, data.unit, data.sampling_rate_hz)
