"""Figures of an output's sensor signals (EEG, MEG, SEEG) in their physical units.

For every sensor kind K an output holds (``/K/data``, unit uV, fT or fT/cm), ``report``
draws ``K_traces.png`` (each channel's mean removed, a scale bar in the data's unit),
``K_spectra.png`` (PSD in unit^2/Hz, before/after the first perturbation),
``K_spectrogram.png``, ``K_topomap.png`` (band powers on the scalp with MNE; EEG and MEG
only, SEEG contacts are in depth) and, when a pulse train repeats, ``K_evoked.png`` (the
average response to the pulses). A sweep gets ``sweep_K_topomap.png``: each variant's band
powers and their ratio (dB) to the reference variant.

Long series are read a chunk at a time (:class:`multiscale.analysis.Rows`); an incomplete
output (a crashed run) is drawn from the samples it holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from multiscale.analysis import BANDS_HZ, Rows, band_power, mean_spectrogram, power_spectrum
from multiscale.outputs import SENSOR_KINDS, names
from multiscale.stimuli import PulseTrain, pulse_trains
from multiscale.storage import LogEntry, read_log

#: kinds drawn as scalp topographies (SEEG contacts lie inside the brain)
TOPOGRAPHY_KINDS = ("eeg", "meg")
#: at most this many channels in a traces figure, evenly chosen in montage order
MAX_TRACES = 16
#: at most this many points per trace: longer runs are drawn as each bin's minimum and
#: maximum, the envelope the full trace would draw (2500 bins: about two per pixel of the
#: figure's width), so a trace figure costs the same for any duration
TRACE_POINTS = 5000
#: at most this many columns in a spectrogram (consecutive windows averaged), and its
#: highest frequency (Hz): its memory does not grow with the duration
SPECTROGRAM_COLUMNS = 1200
SPECTROGRAM_FMAX_HZ = 60.0
#: epochs around each pulse (ms); the part before 0 is the baseline
EPOCH_MS = (-100.0, 400.0)
#: GFP peaks drawn as topographies are at least this far apart (ms)
PEAKS_APART_MS = 50.0
#: log events that are not changes of the model (no marker in the figures)
_BOOKKEEPING = ("checkpoint", "resumed")
_BANDS_TEXT = ", ".join(f"{b} {lo:g}-{hi:g}" for b, (lo, hi) in BANDS_HZ.items()) + " Hz"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _s(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


# ------------------------------------------------------------------------------ reading
@dataclass
class Sensors:
    """One sensor kind of an output: its (samples, channels) dataset, read lazily."""

    kind: str
    data: h5py.Dataset
    fs: float  #: sampling rate (Hz)
    unit: str  #: "uV", "fT", "fT/cm" ("" in outputs that did not say)
    channels: list[str]  #: in montage order (the stored order)
    reference: str

    @property
    def n(self) -> int:
        return len(self.data)

    def rows(self) -> Rows:
        return Rows(self.data)

    @property
    def unit_text(self) -> str:
        return self.unit or "unit unknown"

    @property
    def power_unit(self) -> str:
        """The unit of a band power: the data's unit squared (uV², (fT/cm)²)."""
        u = self.unit_text
        return f"({u})²" if ("/" in u or " " in u) else f"{u}²"

    @property
    def label(self) -> str:
        return {"eeg": "EEG", "meg": "MEG", "seeg": "SEEG"}.get(self.kind, self.kind)

    @property
    def reference_text(self) -> str:
        if self.kind == "meg":
            return ""
        if self.reference in ("", "none"):
            return "potential against infinity"
        return f"{self.reference} reference"


def sensors(f: h5py.File, kind: str) -> Sensors | None:
    """The sensor kind ``kind`` of an output, or None if it has none (or no samples)."""
    if f"{kind}/data" not in f:
        return None
    ds = f[f"{kind}/data"]
    if ds.ndim != 2 or ds.shape[0] == 0 or ds.shape[1] == 0:
        return None
    a = ds.attrs
    channels = names(ds, "channels") or []
    if len(channels) != ds.shape[1]:
        channels = [f"{kind}{k}" for k in range(ds.shape[1])]
    default_ref = "average" if kind == "eeg" else "none"
    return Sensors(
        kind,
        ds,
        float(a["sampling_rate"]),
        _s(a.get("unit", "")),
        channels,
        _s(a.get("reference", default_ref)),
    )


def markers(f: h5py.File) -> list[tuple[float, str]]:
    """(time ms, name) of the logged changes and stimuli (not checkpoints or resumes)."""
    return [(e.time_ms, e.name) for e in read_log(f) if not _bookkeeping(e)]


def _bookkeeping(e: LogEntry) -> bool:
    return e.event in _BOOKKEEPING or (not e.event and e.name in _BOOKKEEPING)


def first_perturbation(f: h5py.File) -> tuple[float, str] | None:
    """(time ms, name) of the first perturbation's start (in outputs whose log has no
    event column: its first entry), or None."""
    for e in read_log(f):
        if e.event == "start" or (not e.event and not _bookkeeping(e)):
            return e.time_ms, e.name
    return None


def segments(
    n: int, fs: float, skip_ms: float, event: tuple[float, str] | None
) -> list[tuple[str, int, int]]:
    """(label, first sample, end sample) of the stretches a spectrum is taken over: the
    run after its first ``skip_ms``, or before the event and after event + skip_ms when
    both sides are longer than the skip."""
    skip = int(skip_ms * fs / 1000)
    if event is not None:
        it = int(event[0] * fs / 1000)
        if skip < it < n - skip:
            return [("before " + event[1], skip, it), ("after " + event[1], it + skip, n)]
    return [("whole run", skip, n)]


def spectra(s: Sensors, parts: list[tuple[str, int, int]]) -> dict[str, tuple]:
    """label -> (f in Hz, PSD (freqs, channels) in unit^2/Hz) of each stretch at least a
    quarter second long (Welch, 2 s segments, read a chunk at a time)."""
    out = {}
    for label, a, b in parts:
        if b - a >= s.fs / 4:
            out[label] = power_spectrum(s.rows()[a:b], s.fs)
    return out


# ------------------------------------------------------------------------------- traces
def nice_below(x: float) -> float:
    """The largest 1, 2 or 5 x 10^k not above x (x > 0): a scale bar's length."""
    if not np.isfinite(x) or x <= 0:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (5.0, 2.0, 1.0):
        if m * 10.0**k <= x * (1 + 1e-12):
            return m * 10.0**k
    return 10.0 ** (k - 1) * 5  # pragma: no cover - 1 x 10^k always fits


def trace_data(ds: h5py.Dataset, show: np.ndarray, fs: float):
    """(t in s, traces of the channels ``show`` with each one's mean removed, offset
    between traces: 4 x their pooled standard deviation), read a chunk at a time; a run
    longer than TRACE_POINTS samples as a min/max envelope of TRACE_POINTS / 2 bins."""
    n, cols = len(ds), np.asarray(show, dtype=int)
    view = Rows(ds, cols=cols)
    rows = max(1, view.rows_per_chunk())
    shift = None  # sums around the first chunk's means: no cancellation with large offsets
    count = np.zeros(len(cols))
    total, total2 = np.zeros(len(cols)), np.zeros(len(cols))
    short = n <= TRACE_POINTS
    parts = []
    bins = TRACE_POINTS // 2
    edges = np.linspace(0, n, bins + 1).astype(int)
    lo = np.full((bins, len(cols)), np.nan)
    hi = np.full((bins, len(cols)), np.nan)
    for a in range(0, n, rows):
        x = view.read(a, min(n, a + rows))
        if shift is None:
            shift = np.nan_to_num(np.nanmean(x, axis=0)) if np.isfinite(x).any() else 0.0
        d = x - shift
        ok = np.isfinite(d)
        count += ok.sum(axis=0)
        total += np.where(ok, d, 0).sum(axis=0)
        total2 += np.where(ok, d * d, 0).sum(axis=0)
        if short:
            parts.append(x)
        else:
            b = np.searchsorted(edges, np.arange(a, a + len(x)), side="right") - 1
            with np.errstate(invalid="ignore"):
                np.fmin.at(lo, b, x)
                np.fmax.at(hi, b, x)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_d = total / count
        var = np.maximum(total2 / count - mean_d**2, 0.0)
    mean = (0.0 if shift is None else shift) + mean_d
    spread = 4 * float(np.sqrt(np.nanmean(var))) if np.isfinite(var).any() else 0.0
    spread = spread if np.isfinite(spread) and spread > 0 else 1.0
    if short:
        x = np.concatenate(parts) if parts else np.zeros((0, len(cols)))
        return np.arange(n) / fs, x - mean, spread
    t = np.repeat(edges[:-1], 2) / fs
    traces = np.empty((2 * bins, len(cols)))
    traces[0::2], traces[1::2] = lo - mean, hi - mean
    return t, traces, spread


def traces_figure(s: Sensors, title: str, events: list[tuple[float, str]]):
    """Up to MAX_TRACES channels (evenly chosen, montage order, names on the y axis), each
    one's mean removed, against time (s), with a scale bar (gid "scale_bar") labelled in
    the data's unit (gid "scale_bar_label"). Returns the figure."""
    plt = _plt()
    nch = len(s.channels)
    show = np.unique(np.linspace(0, nch - 1, min(MAX_TRACES, nch)).round().astype(int))
    t, x, spread = trace_data(s.data, show, s.fs)
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.4 * len(show) + 1.0))
    for row in range(len(show)):
        ax.plot(t, x[:, row] - row * spread, lw=0.5, color="k")
    ax.set_yticks([-row * spread for row in range(len(show))], [s.channels[c] for c in show])
    ax.set_ylim(-len(show) * spread, 1.2 * spread)
    t_end = s.n / s.fs
    span = max(t_end, 1.0 / s.fs)
    for te, name in events:
        if te / 1000 <= t_end:
            ax.axvline(te / 1000, color="r", lw=1)
            ax.text(te / 1000, spread, name, color="r", fontsize=8)
    bar = nice_below(spread)
    xb = t_end + 0.015 * span
    y0 = -(len(show) - 1) * spread - bar / 2
    ax.plot([xb, xb], [y0, y0 + bar], color="C3", lw=3, solid_capstyle="butt", gid="scale_bar")
    ax.text(
        xb + 0.008 * span,
        y0 + bar / 2,
        f"{bar:g} {s.unit_text}",
        color="C3",
        va="center",
        fontsize=9,
        gid="scale_bar_label",
    )
    ax.set_xlim(0, t_end + 0.09 * span)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"channel ({len(show)} of {nch}, montage order)")
    ref = f", {s.reference_text}" if s.reference_text else ""
    envelope = " (min/max per bin)" if s.n > TRACE_POINTS else ""
    ax.set_title(
        f"{title}: {s.label} in {s.unit_text}{ref}{envelope}\n"
        "each channel's mean removed for display (the sources have a constant part)",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- spectra
def spectra_figure(s: Sensors, psd: dict[str, tuple]):
    """PSD (unit^2/Hz, log scale) from 1 to 100 Hz of each stretch: thin lines the
    channels, thick their mean. Returns the figure."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 5))
    for k, (label, (fr, P)) in enumerate(psd.items()):
        m = (fr >= 1) & (fr <= 100)
        color = "C0" if k == 0 else "C3"
        ax.semilogy(fr[m], P[m], lw=0.3, alpha=0.3, color=color)
        ax.semilogy(fr[m], P[m].mean(axis=1), lw=2, color=color, label=f"{label} (channel mean)")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel(f"power spectral density ({s.power_unit}/Hz)")
    ax.legend()
    ax.set_title(f"{s.label} power spectra (thin: channels; Welch, 2 s segments)")
    fig.tight_layout()
    return fig


def spectrogram_figure(s: Sensors, events: list[tuple[float, str]]):
    """The channel-mean spectrogram (dB re 1 unit^2/Hz), 1 to 60 Hz, at most
    SPECTROGRAM_COLUMNS columns (a long run's windows averaged in groups, as the title
    says). Returns the figure."""
    plt = _plt()
    ts, fr, S = mean_spectrogram(
        s.rows(), s.fs, fmax_hz=SPECTROGRAM_FMAX_HZ, max_columns=SPECTROGRAM_COLUMNS
    )
    m = (fr >= 1) & (fr <= SPECTROGRAM_FMAX_HZ)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    power_db = 10 * np.log10(S[m] + np.finfo(float).tiny)
    mesh = ax.pcolormesh(ts, fr[m], power_db, shading="auto", cmap="magma")
    fig.colorbar(mesh, ax=ax, label=f"dB re 1 {s.power_unit}/Hz (channel mean PSD)")
    for te, name in events:
        ax.axvline(te / 1000, color="c", lw=1)
        ax.text(te / 1000, fr[m][-1], name, color="c", fontsize=8, va="top")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    windows = int((s.n - min(s.n, round(s.fs))) // round(0.25 * s.fs)) + 1
    per = -(-windows // SPECTROGRAM_COLUMNS)
    averaged = f"; each column the mean of {per} windows" if per > 1 else ""
    ax.set_title(f"{s.label} spectrogram (1 s Hann windows every 0.25 s{averaged})")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------- topographies
def positions_m(f: h5py.File, kind: str, channels: list[str]) -> np.ndarray | None:
    """Sensor positions (channels, 3) in m, MNE head axes (x right, y anterior, z up), or
    None when the output has none usable for a scalp map
    (:func:`multiscale.sensors.geometry.head_positions`: EEG channels named as in MNE's
    10-20 template may take the template's positions)."""
    from multiscale.sensors.geometry import head_positions

    if kind not in TOPOGRAPHY_KINDS:
        return None
    names = channels if kind == "eeg" else None
    key = f"{kind}/positions"
    if key not in f or f[key].shape != (len(channels), 3):
        return head_positions(None, "unknown", names)
    ds = f[key]
    pos = np.asarray(ds[:], dtype=float)
    if not np.isfinite(pos).all() or not np.abs(pos).any():
        return head_positions(None, "unknown", names)
    return head_positions(pos, _s(ds.attrs.get("frame", "unknown")), names)


@dataclass
class Layout:
    """Where a kind's channels go on a scalp map: an MNE Info with one EEG-type channel
    per distinct position (MNE projects them), the channels at each position (planar
    gradiometer pairs share one), and the sphere: the head-coordinate origin (or, for
    sensors around another origin, the centre of the sphere fitted to them) and the
    fitted radius (m)."""

    info: object
    groups: list[np.ndarray]
    sphere: np.ndarray  #: x, y, z, radius (m): projection origin and head outline

    def merge(self, values: np.ndarray, how: str = "mean") -> np.ndarray:
        """Per-position values: the mean (powers) or RMS (signed fields) of its channels."""
        v = np.asarray(values, dtype=float)
        if how == "rms":
            return np.array(
                [np.sqrt(np.mean(v[g] ** 2)) if len(g) > 1 else v[g[0]] for g in self.groups]
            )
        return np.array([v[g].mean() for g in self.groups])


def layout(f: h5py.File, s: Sensors, only: list[str] | None = None) -> Layout | None:
    """The scalp layout of a sensor kind, or None (SEEG, no positions, under 4 sites);
    ``only``: the channels to lay out (in that order), when not all of them."""
    import mne

    from multiscale.sensors.geometry import fit_sphere

    pos = positions_m(f, s.kind, s.channels)
    if pos is None:
        return None
    channels = s.channels
    if only is not None:
        pos = pos[[channels.index(c) for c in only]]
        channels = list(only)
    keys = np.round(pos * 1e4).astype(np.int64)  # 0.1 mm: the same site
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)  # sites in montage order
    groups = [np.flatnonzero(inverse.ravel() == k) for k in order]
    sites = pos[[g[0] for g in groups]]
    if len(sites) < 4:
        return None
    centre, radius = fit_sphere(sites)
    if not (np.isfinite(radius) and 0.03 < radius < 0.3):
        centre = sites.mean(axis=0)
        radius = float(np.median(np.linalg.norm(sites - centre, axis=1)))
    elif np.linalg.norm(centre) < 0.06:
        centre = np.zeros(3)  # head coordinates: project from their origin, as MNE does
    names = [channels[g[0]] for g in groups]
    names = [n if names.count(n) == 1 else f"{n}#{k}" for k, n in enumerate(names)]
    info = mne.create_info(names, s.fs, "eeg", verbose=False)
    montage = mne.channels.make_dig_montage(
        dict(zip(names, sites, strict=True)), coord_frame="head"
    )
    info.set_montage(montage, verbose=False)
    return Layout(info, groups, np.r_[centre, radius])


def _topomap(ax, values, lay: Layout, vlim, cmap: str):
    import mne

    im, _ = mne.viz.plot_topomap(
        values,
        lay.info,
        axes=ax,
        show=False,
        sphere=lay.sphere,
        vlim=vlim,
        cmap=cmap,
        contours=0,
        res=48,
        sensors=True,
        extrapolate="head",
        image_interp="linear",
    )
    return im


@dataclass
class BandMaps:
    """Band powers per channel (unit^2) of named stretches, and the dB ratio of the
    second stretch to the first when there are two (after/before a perturbation)."""

    channels: list[str]
    power: dict[str, dict[str, np.ndarray]]  #: stretch -> band -> (channels,)
    ratio_db: dict[str, np.ndarray] | None = None  #: band -> (channels,)
    ratio_label: str = ""


def band_powers(psd: dict[str, tuple]) -> dict[str, dict[str, np.ndarray]]:
    """stretch -> band -> per-channel power (PSD integrated over the band, unit^2)."""
    return {
        label: {b: band_power(fr, P, lims) for b, lims in BANDS_HZ.items()}
        for label, (fr, P) in psd.items()
    }


def ratio_db(after: dict[str, np.ndarray], before: dict[str, np.ndarray]) -> dict:
    """band -> 10 log10(after / before) per channel (dB)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return {b: 10 * np.log10(after[b] / before[b]) for b in after}


def band_maps(s: Sensors, skip_ms: float, event, psd: dict | None = None) -> BandMaps:
    """Band powers of the whole run (after skip_ms) and, with a perturbation that leaves
    enough data either side, before and after it and their ratio."""
    parts = psd if psd is not None else spectra(s, segments(s.n, s.fs, skip_ms, event))
    whole = parts if len(parts) == 1 else spectra(s, segments(s.n, s.fs, skip_ms, None))
    power = band_powers(whole)
    maps = BandMaps(s.channels, power)
    if len(parts) == 2:
        (lb, before), (la, after) = band_powers(parts).items()
        maps.power.update({lb: before, la: after})
        maps.ratio_db = ratio_db(after, before)
        maps.ratio_label = "after / before (dB)"
    return maps


def topomap_grid(
    rows: list[tuple[str, dict[str, np.ndarray], bool]], lay: Layout, power_unit: str, title: str
):
    """A grid of scalp maps: one row per (label, band -> per-channel values, is a dB
    ratio), one column per band. Power rows share a colour scale per band (viridis), ratio
    rows one symmetric scale (RdBu_r). Each map's axes is labelled "<row>:<band>"."""
    plt = _plt()
    bands = list(BANDS_HZ)
    fig, axes = plt.subplots(
        len(rows),
        len(bands),
        figsize=(2.5 * len(bands) + 0.6, 2.5 * len(rows) + 1.4),
        squeeze=False,
        layout="constrained",
    )
    power_rows = [k for k, r in enumerate(rows) if not r[2]]
    ratio_rows = [k for k, r in enumerate(rows) if r[2]]
    merged = [{b: lay.merge(v[b]) for b in bands} for _, v, _ in rows]
    lim = max((np.nanmax(np.abs(merged[k][b])) for k in ratio_rows for b in bands), default=1.0)
    lim = lim if np.isfinite(lim) and lim > 0 else 1.0
    for j, band in enumerate(bands):
        vals = [merged[k][band] for k in power_rows]
        lo = min((np.nanmin(v) for v in vals), default=0.0)
        hi = max((np.nanmax(v) for v in vals), default=1.0)
        im = None
        for k, (label, _, is_ratio) in enumerate(rows):
            ax = axes[k, j]
            ax.set_label(f"{label}:{band}")
            if is_ratio:
                imr = _topomap(ax, merged[k][band], lay, (-lim, lim), "RdBu_r")
            else:
                im = _topomap(ax, merged[k][band], lay, (lo, hi), "viridis")
            if k == 0:
                lims = BANDS_HZ[band]
                ax.set_title(f"{band} {lims[0]:g}-{lims[1]:g} Hz", fontsize=10)
            if j == 0:
                ax.text(
                    -0.12,
                    0.5,
                    label,
                    transform=ax.transAxes,
                    rotation=90,
                    va="center",
                    ha="center",
                    fontsize=9,
                )
        if im is not None:
            fig.colorbar(
                im,
                ax=[axes[k, j] for k in power_rows],
                location="bottom",
                shrink=0.85,
                label=power_unit,
                format="%.3g",
            )
    if ratio_rows:
        fig.colorbar(
            imr,
            ax=[axes[k, j] for k in ratio_rows for j in range(len(bands))],
            location="bottom",
            shrink=0.4,
            label="dB",
        )
    fig.suptitle(title, fontsize=10)
    return fig


def topomap_figure(s: Sensors, lay: Layout, maps: BandMaps, run: str):
    """Band powers on the scalp: the whole run, and before, after and after/before (dB)
    of the first perturbation when there is one. Returns the figure."""
    rows = [(label, values, False) for label, values in maps.power.items()]
    if maps.ratio_db is not None:
        rows.append((maps.ratio_label, maps.ratio_db, True))
    shared = " (planar pairs averaged)" if any(len(g) > 1 for g in lay.groups) else ""
    title = (
        f"{run}: {s.label} band power ({s.power_unit}: PSD integrated over each band; "
        f"{_BANDS_TEXT}){shared}"
    )
    return topomap_grid(rows, lay, s.power_unit, title)


# ------------------------------------------------------------------------------ evoked
@dataclass
class Evoked:
    """The average response to a pulse train: t (ms from the pulse), data (samples,
    channels) in the sensors' unit, baseline-corrected; the global field power (the
    standard deviation across channels); its peaks (ms); how many pulses were averaged
    (those whose whole epoch lies in the recording). The peaks: the (up to) 3 highest
    local maxima of the GFP after the pulse, at least PEAKS_APART_MS apart."""

    stimulus: PulseTrain
    t_ms: np.ndarray
    data: np.ndarray
    n_epochs: int
    gfp: np.ndarray = field(init=False)
    peaks_ms: list[float] = field(init=False)

    def __post_init__(self) -> None:
        from scipy.signal import find_peaks

        self.gfp = self.data.std(axis=1)
        post = np.flatnonzero(self.t_ms > 0)
        apart = max(1, int(round(PEAKS_APART_MS / (self.t_ms[1] - self.t_ms[0]))))
        idx, props = find_peaks(self.gfp[post], height=0, distance=apart)
        best = idx[np.argsort(props["peak_heights"])[::-1][:3]] if len(idx) else []
        if not len(best) and len(post):
            best = [int(np.argmax(self.gfp[post]))]
        self.peaks_ms = sorted(float(self.t_ms[post][i]) for i in best)


def evoked(s: Sensors, train: PulseTrain) -> Evoked | None:
    """Epochs EPOCH_MS around every pulse that fits in the recording, each baseline-
    corrected on its part before the pulse, averaged (read an epoch, a chunk at a time)."""
    pre = int(round(-EPOCH_MS[0] * s.fs / 1000))
    post = int(round(EPOCH_MS[1] * s.fs / 1000))
    rows = s.rows()
    step = max(1, rows.rows_per_chunk())
    total = np.zeros((pre + post, len(s.channels)))
    count = 0
    for t in train.onsets_ms:
        i = int(round(t * s.fs / 1000))
        a, b = i - pre, i + post
        if a < 0 or b > s.n:
            continue
        x = np.concatenate([rows.read(c, min(b, c + step)) for c in range(a, b, step)])
        if not np.isfinite(x).all():
            continue
        total += x - x[:pre].mean(axis=0)
        count += 1
    if count == 0 or pre == 0:
        return None
    return Evoked(train, (np.arange(-pre, post)) * 1000.0 / s.fs, total / count, count)


def evoked_figure(s: Sensors, ev: Evoked, lay: Layout | None, run: str):
    """Butterfly plot of the average response (every channel) with its GFP, and scalp maps
    at the GFP peaks when the kind has a layout. Returns the figure."""
    plt = _plt()
    n_maps = len(ev.peaks_ms) if lay is not None else 0
    fig = plt.figure(figsize=(11, 7.5 if n_maps else 5), layout="constrained")
    grid = fig.add_gridspec(
        2 if n_maps else 1, max(n_maps, 1), height_ratios=[1.4, 1][: 1 + bool(n_maps)]
    )
    ax = fig.add_subplot(grid[0, :])
    ax.plot(ev.t_ms, ev.data, lw=0.6, color="0.45", alpha=0.7)
    ax.plot(ev.t_ms, ev.gfp, lw=2.2, color="C3", label="GFP (std across channels)")
    ax.axvline(0, color="k", lw=1)
    ax.axvspan(ev.t_ms[0], 0, color="0.9", zorder=-1, label="baseline")
    for p in ev.peaks_ms:
        ax.axvline(p, color="C3", lw=0.8, ls="--")
    ax.set_xlim(ev.t_ms[0], ev.t_ms[-1])
    ax.set_xlabel("time from pulse onset (ms)")
    ax.set_ylabel(f"{s.label} ({s.unit_text})")
    ax.legend(loc="upper right", fontsize=8)
    st = ev.stimulus
    ref = f", {s.reference_text}" if s.reference_text else ""
    fig.suptitle(
        f"{run}: {s.label} response to '{st.name}' ({st.frequency_hz:g} Hz): average of "
        f"{ev.n_epochs} pulses, epochs {EPOCH_MS[0]:g} to {EPOCH_MS[1]:g} ms, baseline "
        f"{EPOCH_MS[0]:g} to 0 ms{ref}",
        fontsize=10,
    )
    if n_maps:
        how = "rms" if any(len(g) > 1 for g in lay.groups) else "mean"
        idx = [int(np.argmin(np.abs(ev.t_ms - p))) for p in ev.peaks_ms]
        vals = [lay.merge(ev.data[i], how) for i in idx]
        lim = max(float(np.nanmax(np.abs(v))) for v in vals) or 1.0
        vlim = (0, lim) if how == "rms" else (-lim, lim)
        for k, (p, v) in enumerate(zip(ev.peaks_ms, vals, strict=True)):
            a = fig.add_subplot(grid[1, k])
            a.set_label(f"peak:{p:g}")
            im = _topomap(a, v, lay, vlim, "RdBu_r" if how == "mean" else "Reds")
            a.set_title(f"{p:.0f} ms (GFP peak)", fontsize=9)
        fig.colorbar(im, ax=fig.axes[1:], location="right", shrink=0.8, label=s.unit_text)
    return fig


# ------------------------------------------------------------------------------ driver
def sensor_figures(f: h5py.File, out_dir: Path, skip_ms: float) -> list[Path]:
    """Every sensor figure of an open output, written to out_dir; the paths written."""
    written = []
    run = _s(f.attrs.get("name", "run"))
    events = markers(f)
    event = first_perturbation(f)
    end_ms = float(f.attrs.get("duration_ms", np.inf))
    trains = [
        t for t in pulse_trains(_s(f.attrs.get("config", "")), end_ms) if len(t.onsets_ms) > 1
    ]
    for kind in SENSOR_KINDS:
        s = sensors(f, kind)
        if s is None:
            continue
        written.append(_save(traces_figure(s, run, events), out_dir / f"{kind}_traces.png"))
        psd = spectra(s, segments(s.n, s.fs, skip_ms, event))
        if psd:
            written.append(_save(spectra_figure(s, psd), out_dir / f"{kind}_spectra.png"))
        if s.n >= s.fs / 4:
            fig = spectrogram_figure(s, events)
            written.append(_save(fig, out_dir / f"{kind}_spectrogram.png"))
        lay = layout(f, s)
        if lay is not None and psd:
            maps = band_maps(s, skip_ms, event, psd)
            if maps.power:
                fig = topomap_figure(s, lay, maps, run)
                written.append(_save(fig, out_dir / f"{kind}_topomap.png"))
        for k, train in enumerate(trains):
            ev = evoked(s, train)
            if ev is not None:
                name = (
                    f"{kind}_evoked.png"
                    if k == 0
                    else f"{kind}_evoked_{_file_part(train.name)}.png"
                )
                written.append(_save(evoked_figure(s, ev, lay, run), out_dir / name))
    return written


def sweep_topomap_figure(files: list[tuple[str, Path]], reference: str, kind: str):
    """Scalp maps of each variant's band powers and, for the others, their ratio (dB) to
    the reference variant's, over the same stretch of every run: from 500 ms (at most a
    fifth of the run) after the earliest first perturbation of any variant (where the
    conditions start to differ), or after the first 500 ms when none has one
    (``multiscale.sweep.reference_variant``). Variants without the reference's channels
    are left out. The figure, or None when the reference has no such sensors with
    positions."""
    from multiscale.outputs import open_output

    starts = []  # conditions differ from the time their first perturbation starts
    for _, file in files:
        with open_output(file) as f:
            event = first_perturbation(f)
            if event is not None:
                starts.append(event[0])
    powers, channels, lay, ref_s = {}, {}, None, None
    for label, file in files:
        with open_output(file) as f:
            s = sensors(f, kind)
            if s is None:
                continue
            skip = min(500.0, 0.2 * float(f.attrs["duration_ms"]))
            first = int((min(starts, default=0.0) + skip) * s.fs / 1000)
            if first >= s.n - int(skip * s.fs / 1000):  # too little left after it
                first = int(skip * s.fs / 1000)
            since = first / s.fs
            psd = spectra(s, [("compared", first, s.n)])
            if not psd:
                continue
            powers[label] = next(iter(band_powers(psd).values()))
            channels[label] = s.channels
            if label == reference:
                lay, ref_s = layout(f, s), s
    if lay is None:
        return None
    same = [label for label in powers if channels[label] == channels[reference]]
    rows = [(label, powers[label], False) for label in same]
    rows += [
        (f"{label} / {reference} (dB)", ratio_db(powers[label], powers[reference]), True)
        for label in same
        if label != reference
    ]
    title = (
        f"sweep: {ref_s.label} band power per variant ({ref_s.power_unit}; "
        f"{_BANDS_TEXT}; from {since:g} s) and ratio to {reference}"
    )
    return topomap_grid(rows, lay, ref_s.power_unit, title)


def sweep_topomaps(files: list[tuple[str, Path]], reference: str, out_dir: Path) -> list[Path]:
    """``sweep_<kind>_topomap.png`` for EEG and MEG (:func:`sweep_topomap_figure`) in
    out_dir. The paths written."""
    written = []
    for kind in TOPOGRAPHY_KINDS:
        fig = sweep_topomap_figure(files, reference, kind)
        if fig is not None:
            written.append(_save(fig, Path(out_dir) / f"sweep_{kind}_topomap.png"))
    return written


def _file_part(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _save(fig, path: Path) -> Path:
    plt = _plt()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
