"""What a fit compares between the model and the recording, and the loss.

The recording's arrays are the mean over consecutive segments as long as the analysed part
of a simulation (``compute_segmented``), so both sides are estimated alike. Each feature kind
turns SensorData (channels shared with the target, already re-referenced)
into an array; the loss is the weighted sum of one term per feature, each the mean squared
difference between the model's array and the target's, in the unit below:

- ``log_spectrum``: per channel, log10 of the Welch power spectrum (unit^2/Hz) at each
  frequency of ``band`` (``resolution`` apart). A term of 0.01 is a typical 10^0.1 = 26 %
  (1 dB) error in power. ``relative: true`` divides each spectrum by its power in the band
  first, leaving the absolute amplitude out of the fit (for recordings whose gain the head
  model cannot promise).
- ``band_power``: per channel, log10 of the power in each named band (default: delta,
  theta, alpha, beta, gamma); ``relative`` as above, over all the bands.
- ``peak_frequency``: per channel, the frequency (Hz) of the largest spectral value in
  ``band``, refined by a parabola through its log power and its neighbours'; the term is in Hz^2.
- ``envelope_connectivity``: the correlation between every pair of channels' amplitude
  envelopes (Hilbert transform of the signal band-passed to ``band``); the term is in
  squared correlation.
- ``evoked``: per channel, the average response over the epochs after the stimuli at
  ``first``, ``first + every``, ... (``after`` long, minus the mean of the ``baseline``
  before each), in the signal's unit; the term is divided by the target's mean square, so
  0.1 means a 10 % error in energy.

A feature with ``sources`` is computed on the listed regions' estimated dipole moments
(nA m) instead of the channels (``multiscale.fit.source_space``); its units read nA m for
the signal's.
"""

from __future__ import annotations

import numpy as np

from multiscale.fit.signals import SensorData, Signals
from multiscale.fit.source_space import on_sources
from multiscale.fit.spec import Feature, FitSpec


def compute(features: tuple[Feature, ...], data: SensorData, skip_ms: float = 0.0) -> list:
    """Each feature's array for ``data`` from ``skip_ms`` on (ms)."""
    fs = data.sampling_rate_hz
    x = data.data[int(round(skip_ms * fs / 1000.0)) :]
    return [_one(f, x, fs, skip_ms) for f in features]


def model_features(spec: FitSpec, run: Signals, targets: Signals) -> list:
    """Each of the fit's features for a run's signals: each term on its own sensor kind,
    on the channels its target shares with the model (re-referenced as the target is),
    from ``spec.skip_ms`` on."""
    from multiscale.fit.target import rereferenced

    model = {k: rereferenced(run[k], targets[k].channels) for k in spec.kinds}
    out = []
    for f in spec.features:
        data = model[spec.kind_of(f)]
        if f.sources:
            data = on_sources(data, targets[spec.kind_of(f)], f.sources)
        out.append(compute((f,), data, spec.skip_ms)[0])
    return out


def compute_segmented(features: tuple[Feature, ...], data: SensorData, segment_s: float) -> list:
    """Each feature's array for a recording, estimated as a simulation's are: the mean of
    the arrays of consecutive segments ``segment_s`` long (the analysed part of one
    simulation), so that both sides carry the same estimation bias (a log spectrum from
    few Welch segments is biased low; a peak from a short spectrum is coarser). A
    recording shorter than one segment is used whole. Evoked responses are averaged over
    the whole recording (their epochs already average)."""
    n = int(round(segment_s * data.sampling_rate_hz))
    count = len(data.data) // n if n > 0 else 0
    out = []
    for f in features:
        x = on_sources(data, data, f.sources) if f.sources else data
        if f.kind == "evoked" or count < 2:
            out.append(compute((f,), x)[0])
            continue
        parts = [
            compute((f,), SensorData(x.kind, x.channels, x.data[k * n : (k + 1) * n], x.unit,
                                     x.sampling_rate_hz))[0]
            for k in range(count)
        ]  # fmt: skip
        out.append(np.mean(parts, axis=0))
    return out


def terms(features: tuple[Feature, ...], model: list, target: list) -> np.ndarray:
    """Each feature's weighted loss term (see the module docstring for the units)."""
    out = []
    for f, m, t in zip(features, model, target, strict=True):
        if m.shape != t.shape:
            raise ValueError(f"{f.label}: model {m.shape} and target {t.shape} differ in shape")
        err = float(np.mean((m - t) ** 2))
        if f.kind == "evoked":
            err /= max(float(np.mean(t**2)), 1e-30)
        out.append(f.weight * err)
    return np.asarray(out)


def _one(f: Feature, x: np.ndarray, fs: float, skip_ms: float) -> np.ndarray:
    if f.kind == "log_spectrum":
        freqs, P = _spectrum(x, fs, f.resolution_hz, f.band_hz)
        if f.relative:
            P = P / P.sum(axis=0, keepdims=True)
        return np.log10(np.maximum(P, 1e-300)).T
    if f.kind == "band_power":
        from multiscale.analysis import BANDS_HZ, band_power

        bands = f.bands_hz or BANDS_HZ
        lo = min(b[0] for b in bands.values())
        hi = max(b[1] for b in bands.values())
        freqs, P = _spectrum(x, fs, f.resolution_hz, (lo, hi))
        powers = np.array([band_power(freqs, P, b) for b in bands.values()])
        if f.relative:
            powers = powers / powers.sum(axis=0, keepdims=True)
        return np.log10(np.maximum(powers, 1e-300)).T
    if f.kind == "peak_frequency":
        return _peaks(x, fs, f.resolution_hz, f.band_hz)
    if f.kind == "envelope_connectivity":
        return _envelope_correlations(x, fs, f.band_hz)
    if f.kind == "evoked":
        return _evoked(x, fs, f, skip_ms)
    raise ValueError(f"unknown feature kind {f.kind!r}")


def _spectrum(x: np.ndarray, fs: float, resolution_hz: float, band: tuple[float, float]):
    """The Welch PSD (segments 1 / resolution long) on the grid lo, lo + resolution, ...,
    hi (Hz), (freqs, channels): the same grid whatever the sampling rate, so that a
    recording at 256 Hz and a model at 250 Hz compare bin for bin."""
    from multiscale.analysis import power_spectrum

    need = int(round(fs / resolution_hz))
    if len(x) < need:
        raise ValueError(
            f"{len(x) / fs:g} s of signal; a spectrum at {resolution_hz:g} Hz resolution "
            f"needs at least {1 / resolution_hz:g} s"
        )
    freqs, P = power_spectrum(x, fs, resolution_hz)
    grid = np.arange(band[0], band[1] + resolution_hz / 2, resolution_hz)
    grid = grid[grid <= fs / 2]
    return grid, np.stack([np.interp(grid, freqs, P[:, c]) for c in range(P.shape[1])], axis=1)


def _peaks(x: np.ndarray, fs: float, resolution_hz: float, band: tuple[float, float]):
    """Per channel, the peak frequency (Hz) in ``band``, parabola-refined."""
    freqs, P = _spectrum(x, fs, resolution_hz, band)
    k = np.argmax(P, axis=0)
    out = freqs[k].astype(float)
    inner = (k > 0) & (k < len(freqs) - 1)
    cols = np.flatnonzero(inner)
    if cols.size:
        # a parabola through the log powers (exact for a Gaussian peak; far less biased
        # than one through the powers for Welch's Hann-windowed peaks)
        logP = np.log(np.maximum(P, 1e-300))
        a, b, c = logP[k[cols] - 1, cols], logP[k[cols], cols], logP[k[cols] + 1, cols]
        den = a - 2 * b + c
        shift = np.where(den != 0, 0.5 * (a - c) / np.where(den != 0, den, 1), 0.0)
        out[cols] += np.clip(shift, -0.5, 0.5) * (freqs[1] - freqs[0])
    return out


def _envelope_correlations(x: np.ndarray, fs: float, band: tuple[float, float]) -> np.ndarray:
    """The upper triangle of the channels' envelope correlation matrix."""
    from scipy.signal import butter, hilbert, sosfiltfilt

    hi = min(band[1], 0.45 * fs)
    sos = butter(4, [band[0], hi], btype="bandpass", fs=fs, output="sos")
    env = np.abs(hilbert(sosfiltfilt(sos, x, axis=0), axis=0))
    c = np.corrcoef(env.T)
    return c[np.triu_indices_from(c, k=1)]


def _evoked(x: np.ndarray, fs: float, f: Feature, skip_ms: float) -> np.ndarray:
    """Per channel the baseline-corrected average response, (channels, samples)."""
    n_after = int(round(f.after_ms * fs / 1000.0))
    n_base = int(round(f.baseline_ms * fs / 1000.0))
    end_ms = skip_ms + len(x) * 1000.0 / fs
    first = float(f.first_ms or 0.0)
    onsets = np.arange(first, end_ms, f.every_ms) if f.every_ms else np.array([first])
    epochs = []
    for t in onsets:  # in the signal's own time; those inside the skipped start are left out
        i = int(round((t - skip_ms) * fs / 1000.0))
        if i - n_base >= 0 and i + n_after <= len(x):
            base = x[i - n_base : i].mean(axis=0) if n_base else 0.0
            epochs.append(x[i : i + n_after] - base)
    if not epochs:
        raise ValueError(f"{f.label}: no epoch fits in the signal")
    return np.mean(epochs, axis=0).T
