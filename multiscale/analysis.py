"""Spectral analysis of run outputs: power spectra, spectrograms, band powers, peak
frequency, how much a perturbation changed the EEG at the sensors near a region against
far ones, and the beta-band power of spike trains (population and per cell)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: values (samples x channels) read at once from an output: a chunk of 1 MB in float64
#: (the computations on it hold a few copies), so that the summary and figures of a long
#: run need no more memory than those of a short one
CHUNK_VALUES = 2**17

BANDS_HZ = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
    "gamma": (30.0, 80.0),
}


class Rows:
    """Rows [start, stop) of a 2-D array or HDF5 dataset (samples, channels), read only
    when asked: slicing gives another view (``rows[a:b]``), ``read()`` the numbers, and
    ``chunks(n)`` them n rows at a time. Lets the spectra of an output be computed without
    holding its whole EEG in memory."""

    def __init__(self, data, start: int = 0, stop: int | None = None, cols=None):
        n = len(data)
        self.data = data
        self.cols = None if cols is None else [int(c) for c in cols]
        self.start = max(0, min(start, n))
        self.stop = max(self.start, min(n if stop is None else stop, n))

    def __len__(self) -> int:
        return self.stop - self.start

    @property
    def shape(self) -> tuple[int, ...]:
        if self.cols is not None:
            return (len(self), len(self.cols))
        return (len(self), *self.data.shape[1:])

    def __getitem__(self, s: slice) -> Rows:
        a, b, step = s.indices(len(self))
        if step != 1:
            raise ValueError("Rows take contiguous slices only")
        return Rows(self.data, self.start + a, self.start + max(a, b), self.cols)

    def read(self, a: int = 0, b: int | None = None) -> np.ndarray:
        """Rows a to b of the view (all by default), as float64."""
        b = len(self) if b is None else b
        rows = slice(self.start + a, self.start + b)
        if self.cols is None:
            return np.asarray(self.data[rows], dtype=float)
        # HDF5 reads increasing columns: read those, then put them in the order asked
        have, back = np.unique(self.cols, return_inverse=True)
        return np.asarray(self.data[rows, have], dtype=float)[:, back]

    def rows_per_chunk(self) -> int:
        width = int(np.prod(self.shape[1:], dtype=int)) or 1
        return max(1, CHUNK_VALUES // width)


def mean_of(x: Rows) -> float:
    """Mean of all the values of x, read a chunk at a time (np.mean's own pairwise sums
    when x fits in one chunk; else the chunks' sums, the same to rounding)."""
    n = x.rows_per_chunk()
    if len(x) <= n:
        return float(x.read().mean()) if len(x) else float("nan")
    total = sum(float(x.read(a, a + n).sum()) for a in range(0, len(x), n))
    return total / (len(x) * int(np.prod(x.shape[1:], dtype=int)))


def _segment_chunks(n: int, nperseg: int, step: int, rows: int):
    """(first row, number of segments) of consecutive groups of the segments
    [k * step, k * step + nperseg) that fit in n, each group spanning at most ``rows`` rows
    (at least one segment)."""
    total = (n - nperseg) // step + 1
    per = max(1, (rows - nperseg) // step + 1)
    for k in range(0, total, per):
        yield k * step, min(per, total - k)


def welch(x: np.ndarray, fs: float, nperseg: int) -> tuple[np.ndarray, np.ndarray]:
    """Welch's power spectral density along axis 0, as ``scipy.signal.welch(x, fs,
    nperseg=nperseg, axis=0, detrend="constant")`` computes it (periodic Hann window, half
    overlap, each segment's mean removed, one-sided density in unit^2/Hz, the segments'
    mean), to rounding (tests/test_analysis.py checks 1e-12). Written out because importing
    scipy.signal takes about a second, most of a short masses-only command's run summary."""
    n = len(x)
    step = nperseg - nperseg // 2
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(nperseg) / nperseg)
    shape = (nperseg,) + (1,) * (x.ndim - 1)
    count = (n - nperseg) // step + 1
    total = 0.0
    for k in range(count):
        segment = x[k * step : k * step + nperseg]
        spectrum = np.fft.rfft((segment - segment.mean(axis=0)) * window.reshape(shape), axis=0)
        total = total + (spectrum.real**2 + spectrum.imag**2)
    P = total / (count * fs * float((window * window).sum()))
    P[1 : None if nperseg % 2 else -1] *= 2.0  # one-sided: every bin but 0 and Nyquist
    return np.fft.rfftfreq(nperseg, 1.0 / fs), P


def power_spectrum(x, fs_hz: float, resolution_hz: float = 0.5):
    """Welch power spectral density along axis 0 (``welch``). Returns (f in Hz, P in
    unit^2/Hz). Segments are 1 / resolution_hz long (shorter if the signal is), with 50 %
    overlap.

    ``x`` is an array or a ``Rows`` view: a view that fits in one chunk is read whole (the
    same numbers as an array); a longer one is read a group of segments at a time, and the
    segments' periodograms, the same as in one piece, are averaged group by group (the
    mean differs from the one-piece mean by rounding alone, ~1e-16 relative)."""
    if isinstance(x, Rows) and len(x) <= x.rows_per_chunk():
        x = x.read()
    if not isinstance(x, Rows):
        x = np.asarray(x, dtype=float)
        nperseg = int(min(len(x), round(fs_hz / resolution_hz)))
        return welch(x, fs_hz, nperseg)
    n = len(x)
    nperseg = int(min(n, round(fs_hz / resolution_hz)))
    step = nperseg - nperseg // 2  # welch's default overlap: nperseg // 2
    total, f = 0.0, None
    count = 0
    for a, k in _segment_chunks(n, nperseg, step, x.rows_per_chunk()):
        f, P = welch(x.read(a, a + (k - 1) * step + nperseg), fs_hz, nperseg)
        total = total + P * k
        count += k
    return f, total / count


def spectrogram(
    x: np.ndarray, fs_hz: float, window_s: float = 1.0, step_s: float = 0.25
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Time-resolved power along axis 0 of x (samples, ...): Hann windows of window_s
    seconds every step_s seconds. Returns (t in s at the window centres, f in Hz,
    S in unit^2/Hz with shape (len(f), ..., len(t)))."""
    from scipy.signal import spectrogram as _stft_power

    x = np.asarray(x, dtype=float)
    nperseg = int(min(len(x), round(window_s * fs_hz)))
    noverlap = max(0, nperseg - int(round(step_s * fs_hz)))
    f, t, S = _stft_power(
        x, fs=fs_hz, window="hann", nperseg=nperseg, noverlap=noverlap, axis=0,
        detrend="constant", scaling="density",
    )  # fmt: skip
    return t, f, S


def mean_spectrogram(
    x: Rows,
    fs_hz: float,
    window_s: float = 1.0,
    step_s: float = 0.25,
    fmax_hz: float | None = None,
    max_columns: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``spectrogram`` of the rows of ``x`` averaged over its columns (channels), read a
    group of windows at a time: (t, f, S with shape (len(f), len(t))). Each window's
    spectrum is computed as in one piece, so the numbers are those of
    ``spectrogram(x)[2].mean(axis=1)``.

    Bounded for any duration: ``fmax_hz`` keeps the frequencies up to it, and
    ``max_columns`` averages consecutive windows in groups of ceil(windows / max_columns)
    (the last group may hold fewer; t is then each group's mean window centre), so the
    result never holds more than max_columns columns. Without them, every frequency
    and window."""
    n = len(x)
    nperseg = int(min(n, round(window_s * fs_hz)))
    step = nperseg - max(0, nperseg - int(round(step_s * fs_hz)))
    windows = (n - nperseg) // step + 1
    group = 1 if max_columns is None else max(1, -(-windows // max_columns))
    columns = -(-windows // group)
    sums, t_sum, counts, f, keep = None, np.zeros(columns), np.zeros(columns), None, None
    # the windows overlap (nperseg / step of them hold each sample): a chunk of rows whose
    # windows, not rows, make CHUNK_VALUES values
    rows = max(nperseg, x.rows_per_chunk() * step // max(nperseg, 1))
    for a, k in _segment_chunks(n, nperseg, step, rows):
        t, f, S = spectrogram(x.read(a, a + (k - 1) * step + nperseg), fs_hz, window_s, step_s)
        if keep is None:
            keep = slice(None) if fmax_hz is None else slice(0, int(np.sum(f <= fmax_hz)))
            sums = np.zeros((len(f[keep]), columns))
        col = (a // step + np.arange(k)) // group
        np.add.at(sums.T, col, S.mean(axis=1)[keep].T)
        np.add.at(t_sum, col, t + a / fs_hz)
        np.add.at(counts, col, 1)
    return t_sum / counts, f[keep], sums / counts


def band_power(f: np.ndarray, P: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Power in [lo, hi) Hz (integral of the PSD), per column of P."""
    m = (f >= band[0]) & (f < band[1])
    return np.trapezoid(P[m], f[m], axis=0) if m.sum() > 1 else P[m].sum(axis=0)


def relative_band_powers(f: np.ndarray, P: np.ndarray, lo: float = 1.0, hi: float = 80.0):
    """Each band's power over the power in [lo, hi) Hz."""
    total = band_power(f, P, (lo, hi))
    return {name: band_power(f, P, band) / total for name, band in BANDS_HZ.items()}


def peak_frequency(f: np.ndarray, P: np.ndarray, band: tuple[float, float] = (1.0, 40.0)):
    """Frequency (Hz) of the largest PSD value within ``band``, per column."""
    m = (f >= band[0]) & (f <= band[1])
    return f[m][np.argmax(P[m], axis=0)]


def spectral_change_db(before: np.ndarray, after: np.ndarray, fs_hz: float) -> np.ndarray:
    """Mean absolute change (dB) of the five canonical band powers (delta to gamma) after
    against before, per channel. 0: the same spectrum; 3 dB: a factor 2 on average. Band
    powers from 1-s Welch segments keep the estimate steady on a few seconds of data."""
    f, Pb = power_spectrum(before, fs_hz, resolution_hz=1.0)
    _, Pa = power_spectrum(after, fs_hz, resolution_hz=1.0)
    changes = [
        np.abs(10 * np.log10(band_power(f, Pa, band) / band_power(f, Pb, band)))
        for band in BANDS_HZ.values()
    ]
    return np.mean(changes, axis=0)


@dataclass
class PerturbationEffect:
    """EEG spectral change caused by a perturbation at time t, at the sensors nearest to a
    region and at the farthest ones, against the change between two halves of the baseline
    (what noise alone does with the same amount of data)."""

    region: str
    t_ms: float
    near_channels: list[str]
    far_channels: list[str]
    near_db: float
    far_db: float
    baseline_near_db: float
    baseline_far_db: float

    def describe(self) -> str:
        return (
            f"EEG spectral change after t = {self.t_ms / 1000:g} s, region {self.region}: "
            f"nearest sensors ({', '.join(self.near_channels)}) {self.near_db:.2f} dB, "
            f"farthest ({', '.join(self.far_channels)}) {self.far_db:.2f} dB; "
            f"baseline variability {self.baseline_near_db:.2f} / {self.baseline_far_db:.2f} dB"
            f" (ratio near/far {self.near_db / max(self.far_db, 1e-12):.2f})"
        )


def perturbation_effect(
    eeg: np.ndarray,
    fs_hz: float,
    t_ms: float,
    region: str,
    near: list[int],
    far: list[int],
    channels: list[str],
    skip_ms: float = 500.0,
) -> PerturbationEffect:
    """Compare equal-length stretches before t and after t + skip (the transient); the
    first skip_ms of the run are left out too."""
    i0 = int(skip_ms * fs_hz / 1000)
    it = int(t_ms * fs_hz / 1000)
    n = min(it - i0, len(eeg) - it - i0)
    if n < fs_hz:  # less than a second on either side
        raise ValueError("need at least 1 s of EEG before and after the perturbation")
    before = eeg[it - n : it]
    after = eeg[it + i0 : it + i0 + n]
    half = n // 2
    base = spectral_change_db(before[:half], before[half:], fs_hz)
    change = spectral_change_db(before, after, fs_hz)
    return PerturbationEffect(
        region=region,
        t_ms=t_ms,
        near_channels=[channels[c] for c in near],
        far_channels=[channels[c] for c in far],
        near_db=float(change[near].mean()),
        far_db=float(change[far].mean()),
        baseline_near_db=float(base[near].mean()),
        baseline_far_db=float(base[far].mean()),
    )


def sensor_positions(f, kind: str = "eeg") -> np.ndarray | None:
    """The stored positions (mm) of an output's ``kind`` sensors in the connectome's axes
    (for :func:`near_far_channels`), or None where the file has none or their frame is
    unknown. f: the open output (h5py.File)."""
    from multiscale.sensors.geometry import in_connectome_axes

    ds = f.get(f"{kind}/positions")
    if ds is None:
        return None
    frame = ds.attrs.get("frame", "tvb_sensors")  # outputs from before frames were stored
    return in_connectome_axes(ds[:], frame.decode() if isinstance(frame, bytes) else frame)


def near_far_channels(
    positions_mm: np.ndarray | None,
    centres_mm: np.ndarray | None,
    region: int,
    gain: np.ndarray,
    k: int = 5,
) -> tuple[list[int], list[int]]:
    """The k sensors nearest to and farthest from a region, by the angle between the
    sensor's direction from the centre of the sphere fitted to the sensors and the region's
    direction from the centroid of the region centres (sensor and region files need not
    share an origin: TVB's differ by ~5 cm in z). Without positions: by |gain| (the
    smallest-|gain| sensors can then sit right above a region whose dipole points across
    them)."""
    if positions_mm is None or centres_mm is None:
        order = np.argsort(-np.abs(gain[:, region]))
        return [int(c) for c in order[:k]], [int(c) for c in order[-k:][::-1]]
    A = np.c_[2 * positions_mm, np.ones(len(positions_mm))]
    centre = np.linalg.lstsq(A, (positions_mm**2).sum(axis=1), rcond=None)[0][:3]
    u = positions_mm - centre
    u /= np.linalg.norm(u, axis=1)[:, None]
    v = centres_mm[region] - centres_mm.mean(axis=0)
    v /= np.linalg.norm(v)
    order = np.argsort(-(u @ v))
    return [int(c) for c in order[:k]], [int(c) for c in order[-k:][::-1]]


# ------------------------------------------------------------------ spike-train beta power
#: KBG's beta band (Kumaravelu et al. 2016), the marker of the parkinsonian state in GPi
BETA_BAND_HZ = (7.0, 35.0)


def _binned(times_ms, start_ms: float, stop_ms: float, bin_ms: float = 1.0) -> np.ndarray:
    """Spike counts in bins of bin_ms from start_ms to stop_ms."""
    edges = start_ms + bin_ms * np.arange(int(round((stop_ms - start_ms) / bin_ms)) + 1)
    return np.histogram(np.asarray(times_ms, dtype=float), bins=edges)[0].astype(float)


def gpi_beta_power(
    times_ms, n_cells: int, start_ms: float, stop_ms: float, band=BETA_BAND_HZ
) -> float:
    """7-35 Hz power (Hz^2) of the population activity of a nucleus: its spikes (times in ms)
    in [start, stop) counted in 1 ms bins and divided by n_cells x 1 ms (a rate per cell,
    Hz), mean removed; Welch PSD (Hz^2/Hz) over 1 s Hann segments, 50 % overlap, integrated
    (trapezoid) from 7 to 35 Hz. The synchronised part of the activity, what an LFP or
    multi-unit electrode sees (circuits/basal_ganglia.py: GPi)."""
    from scipy.signal import welch

    rate = _binned(times_ms, start_ms, stop_ms) * 1e3 / n_cells
    f, p = welch(rate - rate.mean(), fs=1e3, nperseg=min(1000, len(rate)), detrend=False)
    sel = (f >= band[0]) & (f <= band[1])
    return float(np.trapezoid(p[sel], f[sel]))


def per_cell_beta_power(
    times_ms, indices, n_cells: int, start_ms: float, stop_ms: float, band=BETA_BAND_HZ
) -> float:
    """KBG's measure, 7-35 Hz power (Hz^2) of single-cell spike trains: each cell's spikes in
    1 ms bins as a rate (Hz), mean removed; multitaper PSD (Hz^2/Hz; time-bandwidth 3, 5
    Slepian tapers, as KBG's Chronux call), averaged over tapers and cells, integrated from
    7 to 35 Hz. With few cells (KBG: 10) each train's own rate-dependent floor weighs as much
    as the oscillation the cells share."""
    from scipy.signal.windows import dpss

    times_ms, indices = np.asarray(times_ms, dtype=float), np.asarray(indices, dtype=int)
    x = np.array([_binned(times_ms[indices == k], start_ms, stop_ms) for k in range(n_cells)])
    x = (x - x.mean(axis=1, keepdims=True)) * 1e3
    tapers = dpss(x.shape[1], 3.0, 5)  # unit energy
    spec = np.abs(np.fft.rfft(x[:, None, :] * tapers[None], axis=-1)) ** 2 * 2 / 1e3
    f = np.fft.rfftfreq(x.shape[1], 1e-3)
    p = spec.mean(axis=(0, 1))
    sel = (f >= band[0]) & (f <= band[1])
    return float(np.trapezoid(p[sel], f[sel]))
