"""Outcome measures declared by an experiment (``measures:``), computed from its output at
the end of the run, printed, and stored in the output's /measures table.

Kinds, each over ``window`` (default: the whole run):

- ``band_power``: power of a signal in ``band``: the Welch spectrum of each selected EEG,
  MEG or SEEG channel (as stored: EEG average-referenced, in uV), region, region source
  (``sources``, nA m) or circuit series, averaged, then
  integrated over the band (``multiscale.analysis.power_spectrum`` and ``band_power``;
  segments of 1 / ``resolution`` s, default resolution 0.5 Hz, half overlap). Unit: the
  signal's unit squared; with ``relative: true`` a fraction of the 1-80 Hz power (as
  ``analysis.relative_band_powers``). A circuit's series is its ``rate`` (the output
  population's, Hz), its ``field`` (mV) or, with ``quantity: spikes``, a population's
  activity: its spikes counted in ``bin`` ms bins (default 1 ms) per cell per second (Hz),
  what a multi-unit electrode in the nucleus sees.
- ``peak_frequency``: the frequency of the largest value of the same averaged spectrum
  within ``band`` (default 1-40 Hz, as ``analysis.peak_frequency``), in Hz.
- ``evoked``: the response to events at ``first`` + k ``every`` (a stimulus train): the
  selected series in the ``after`` ms that follow each event inside the window, minus
  its mean over the ``baseline`` ms before that event (default 50 ms; 0: none), averaged
  over the events (an event-related average); the value is the largest |deviation| of
  that average, per series, averaged over the selected series. Unit: the signal's.
- ``rate``: spikes of a circuit population in the window per cell per second (Hz).
- ``synchrony``: Golomb's chi of a circuit population (Golomb 2007, Scholarpedia 2:1347):
  the cells' spike counts in ``bin`` (default 20 ms) bins; sqrt(variance over time of the
  population-mean count / mean over cells of each cell's count variance). About
  1 / sqrt(cells) for independent cells, 1 in lockstep. Unit 1.

With ``versus: [t0, t1]`` a measure is the ratio of its value in ``window`` to its value in
``versus`` (for example after a perturbation against before it), unit 1.

Reads each window a chunk at a time (``multiscale.analysis.Rows``), and spikes in blocks:
never a whole dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np

if TYPE_CHECKING:
    from multiscale.config import MeasureSpec

#: signals that are sensor recordings (channels, not regions)
SENSOR_KINDS = ("eeg", "meg", "seeg")
#: the range a relative band power is a fraction of, and a peak's default range (Hz)
TOTAL_BAND_HZ = (1.0, 80.0)
PEAK_BAND_HZ = (1.0, 40.0)
#: spikes read at a time (3 MB of times and indices)
SPIKE_BLOCK = 1 << 18

_TEXT = h5py.string_dtype()
_DTYPE = np.dtype([("name", _TEXT), ("kind", _TEXT), ("value", "f8"), ("unit", _TEXT),
                   ("what", _TEXT)])  # fmt: skip


@dataclass(frozen=True)
class Measured:
    """A measure's value, its unit and what was measured, in words."""

    name: str
    kind: str
    value: float
    unit: str
    what: str

    def describe(self) -> str:
        return f"{self.name} = {self.value:.4g} {self.unit}: {self.what}".replace(" 1:", ":")


def evaluate(spec: MeasureSpec, f: h5py.File) -> Measured:
    """The value of one measure in the output ``f``."""
    value, unit, what = _value(spec, f, spec.window_ms)
    if spec.versus_ms is not None:
        reference, _, _ = _value(spec, f, spec.versus_ms)
        value = value / reference if reference != 0 else float("nan")
        unit = "1"
        what = f"{what}, against {_span(spec.versus_ms)}"
    return Measured(spec.name, spec.kind, float(value), unit, what)


def write(path: Path, specs: list[MeasureSpec]) -> list[Measured]:
    """Evaluate ``specs`` on the closed output at ``path`` and store them in its /measures
    table (columns name, kind, value, unit, what)."""
    with h5py.File(path, "r+") as f:
        values = [evaluate(s, f) for s in specs]
        rows = np.array([(v.name, v.kind, v.value, v.unit, v.what) for v in values], _DTYPE)
        if "measures" in f:
            del f["measures"]
        ds = f.create_dataset("measures", data=rows)
        ds.attrs["unit"] = "per row: the unit column"
        ds.attrs["what"] = "the experiment's declared outcome measures (multiscale.measures)"
    return values


def read(f: h5py.File) -> list[Measured]:
    """The measures stored in an output (none if it has no /measures)."""
    if "measures" not in f:
        return []

    def text(x) -> str:
        return x.decode() if isinstance(x, bytes) else str(x)

    return [
        Measured(text(r["name"]), text(r["kind"]), float(r["value"]), text(r["unit"]),
                 text(r["what"]))
        for r in f["measures"][:]
    ]  # fmt: skip


# --- one value ------------------------------------------------------------------------
def _value(spec: MeasureSpec, f: h5py.File, window: tuple[float, float] | None):
    if spec.kind == "rate":
        return _rate(spec, f, window)
    if spec.kind == "synchrony":
        return _synchrony(spec, f, window)
    if spec.kind == "evoked":
        return _evoked(spec, f, window)
    from multiscale.analysis import band_power, peak_frequency, power_spectrum

    x, fs, unit, source = _signal(spec, f, window)  # a view, read a chunk at a time
    freqs, P = power_spectrum(x, fs, resolution_hz=spec.resolution_hz)
    spectrum = P.mean(axis=1)
    if spec.kind == "peak_frequency":
        lo, hi = spec.band_hz or PEAK_BAND_HZ
        peak = peak_frequency(freqs, spectrum, (lo, hi))
        return peak, "Hz", f"spectral peak of {source} in {lo:g}-{hi:g} Hz, {_span(window)}"
    lo, hi = spec.band_hz
    power = band_power(freqs, spectrum, (lo, hi))
    what = f"{lo:g}-{hi:g} Hz power of {source}, {_span(window)}"
    if spec.relative:
        t_lo, t_hi = TOTAL_BAND_HZ
        total = band_power(freqs, spectrum, (t_lo, min(t_hi, fs / 2)))
        return power / total, "1", f"{what}, fraction of {t_lo:g}-{t_hi:g} Hz"
    return power, f"({unit})^2", what


def _signal(spec: MeasureSpec, f: h5py.File, window):
    """A view of the window's rows (samples, series), the sampling rate, the unit and a
    description."""
    from multiscale.analysis import Rows

    if spec.signal == "circuit" and spec.quantity == "spikes":
        return _activity(spec, f, window)
    if spec.signal == "circuit":
        ds = f[f"circuits/{spec.circuit}/{spec.quantity}"]
        source = f"circuit {spec.circuit}'s {spec.quantity}"
        columns = None
    else:
        sensor = spec.signal in SENSOR_KINDS
        ds = f[f"{spec.signal}/data"]
        from multiscale.outputs import names as names_of

        names = names_of(ds, "channels" if sensor else "labels") or []
        chosen = spec.channels if sensor else spec.regions
        columns = None if chosen is None else [names.index(c) for c in chosen]
        kind = f"{spec.signal.upper()} channel" if sensor else "region"
        if spec.signal == "sources":
            kind = "region source"
        source = (f"every {kind} (spectra averaged)" if chosen is None
                  else f"{kind}s {','.join(chosen)}")  # fmt: skip
    fs = float(ds.attrs["sampling_rate"])
    i0, i1 = _rows(window, fs, ds.shape[0])
    data = ds if ds.ndim == 2 else _Column(ds)
    return Rows(data, i0, i1, columns), fs, str(ds.attrs.get("unit", "1")), source


def _activity(spec: MeasureSpec, f: h5py.File, window):
    """A population's spikes in the window counted in ``bin_ms`` bins, per cell per second
    (Hz), as one column; read in blocks. Memory: the bins, never the spikes."""
    g = f[f"circuits/{spec.circuit}/spikes/{spec.population}"]
    t0, t1 = window if window is not None else (0.0, float(f.attrs["duration_ms"]))
    width = spec.bin_ms
    counts = np.zeros(int((t1 - t0) // width))
    times = g["times"]
    for start in range(0, times.shape[0], SPIKE_BLOCK):
        t = times[start : start + SPIKE_BLOCK]
        k = ((t[(t >= t0) & (t < t1)] - t0) // width).astype(np.int64)
        counts += np.bincount(k[k < len(counts)], minlength=len(counts))
    activity = counts / int(g.attrs["n_cells"]) / (width / 1000.0)
    source = (f"the {spec.population} activity of circuit {spec.circuit} "
              f"(spikes in {width:g} ms bins per cell)")  # fmt: skip
    from multiscale.analysis import Rows

    return Rows(activity[:, None]), 1000.0 / width, "Hz", source


def evoked_onsets(spec: MeasureSpec, window: tuple[float, float]) -> list[float]:
    """The events (ms) of an ``evoked`` measure whose baseline and response lie in
    ``window`` (ms)."""
    onsets, k = [], 0
    while (t := spec.first_ms + k * spec.every_ms) + spec.after_ms <= window[1] + 1e-9:
        if t - spec.baseline_ms >= window[0] - 1e-9:
            onsets.append(t)
        k += 1
    return onsets


def _evoked(spec: MeasureSpec, f: h5py.File, window):
    """The event-related average of the selected series, baseline-corrected; its largest
    |deviation| per series, averaged over the series. Reads the events' rows only."""
    run = window if window is not None else (0.0, float(f.attrs["duration_ms"]))
    x, fs, unit, source = _signal(spec, f, None)
    onsets = evoked_onsets(spec, run)
    n_base = int(round(spec.baseline_ms * fs / 1000.0))
    n_after = int(round(spec.after_ms * fs / 1000.0))
    total = 0.0
    for t in onsets:
        i = int(round(t * fs / 1000.0))
        rows = np.asarray(x.read(i - n_base, i + n_after), dtype=float)
        base = rows[:n_base].mean(axis=0) if n_base else 0.0
        total = total + (rows[n_base:] - base)
    average = total / len(onsets)
    value = float(np.abs(average).max(axis=0).mean())
    what = (f"evoked response of {source}: largest |deviation| of the average over "
            f"{len(onsets)} events ({onsets[0] / 1000:g} s, every {spec.every_ms:g} ms) in the "
            f"{spec.after_ms:g} ms after each, baseline {spec.baseline_ms:g} ms")  # fmt: skip
    if x.shape[1] > 1:
        what += ", mean over the series"
    return value, unit, what


def _rate(spec: MeasureSpec, f: h5py.File, window):
    g = f[f"circuits/{spec.circuit}/spikes/{spec.population}"]
    t = g["times"]
    t0, t1 = window if window is not None else (0.0, float(f.attrs["duration_ms"]))
    n = 0
    for start in range(0, t.shape[0], SPIKE_BLOCK):
        block = t[start : start + SPIKE_BLOCK]
        n += int(np.count_nonzero((block >= t0) & (block < t1)))
    rate = n / int(g.attrs["n_cells"]) / ((t1 - t0) / 1000.0)
    return rate, "Hz", f"{spec.population} rate of circuit {spec.circuit}, {_span(window)}"


class _Column:
    """A 1-D dataset read as one column (samples, 1)."""

    def __init__(self, ds: h5py.Dataset) -> None:
        self.ds = ds
        self.shape = (ds.shape[0], 1)

    def __len__(self) -> int:
        return self.ds.shape[0]

    def __getitem__(self, rows):
        rows = rows[0] if isinstance(rows, tuple) else rows
        return self.ds[rows][:, None]


def _synchrony(spec: MeasureSpec, f: h5py.File, window):
    """Golomb's chi from the spikes, streamed: each block's (bin, cell) counts are folded
    into per-cell sums and per-bin population counts; the last bin of a block waits for
    the next block, so no count is split. Memory: the cells and bins, never the spikes."""
    g = f[f"circuits/{spec.circuit}/spikes/{spec.population}"]
    n = int(g.attrs["n_cells"])
    t0, t1 = window if window is not None else (0.0, float(f.attrs["duration_ms"]))
    width = spec.bin_ms
    n_bins = int((t1 - t0) // width)
    end = t0 + n_bins * width
    sum_c, sum_c2, population = np.zeros(n), np.zeros(n), np.zeros(n_bins)
    held = np.zeros(0, dtype=np.int64)  # keys (bin * n + cell) of a bin not yet complete

    def fold(keys: np.ndarray) -> None:
        keys, counts = np.unique(keys, return_counts=True)
        cells, bins = keys % n, keys // n
        np.add.at(sum_c, cells, counts)
        np.add.at(sum_c2, cells, counts.astype(float) ** 2)
        np.add.at(population, bins, counts)

    times, cells = g["times"], g["indices"]
    for start in range(0, times.shape[0], SPIKE_BLOCK):
        t = times[start : start + SPIKE_BLOCK]
        i = cells[start : start + SPIKE_BLOCK].astype(np.int64)
        inside = (t >= t0) & (t < end)
        keys = ((t[inside] - t0) // width).astype(np.int64) * n + i[inside]
        keys = np.concatenate([held, keys])
        if len(keys):
            last = keys.max() // n  # spikes are in time order: later blocks start here
            held, keys = keys[keys // n == last], keys[keys // n != last]
            fold(keys)
    if len(held):
        fold(held)
    per_cell = sum_c2 / n_bins - (sum_c / n_bins) ** 2
    chi = np.sqrt(np.var(population / n) / per_cell.mean()) if per_cell.mean() > 0 else np.nan
    what = (f"synchrony (Golomb's chi, {width:g} ms bins) of {spec.population} in circuit "
            f"{spec.circuit}, {_span(window)}")  # fmt: skip
    return chi, "1", what


def _rows(window, fs: float, n: int) -> tuple[int, int]:
    if window is None:
        return 0, n
    return int(round(window[0] * fs / 1000.0)), min(n, int(round(window[1] * fs / 1000.0)))


def _span(window) -> str:
    return "the whole run" if window is None else f"{window[0] / 1000:g}-{window[1] / 1000:g} s"
