"""Spectral analysis: our Welch estimate is scipy's; the spectrogram follows a rhythm that
changes, and the report draws it; the beta measures of spike trains see a shared rhythm."""

import h5py
import numpy as np
import pytest

from multiscale.analysis import gpi_beta_power, per_cell_beta_power, spectrogram, welch
from multiscale.report import make_figures, write_html


def chirp_step(fs=500.0, seconds=8.0):
    """10 Hz for the first half, 20 Hz after, on two channels (the second at half size)."""
    t = np.arange(int(fs * seconds)) / fs
    x = np.where(t < seconds / 2, np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 20 * t))
    return t, np.stack([x, 0.5 * x], axis=1)


@pytest.mark.parametrize(
    ("n", "nperseg", "columns"),
    [(5000, 1000, 3), (5000, 999, 2), (1234, 250, 1), (700, 700, 4), (2001, 2000, 0)],
)
def test_welch_is_scipys_welch(n, nperseg, columns):
    """Even and odd segments, one segment, a 1-D signal (columns 0), an offset and a trend
    (each segment's mean removed): the same frequencies and density as scipy, to 1e-12."""
    from scipy.signal import welch as scipy_welch

    rng = np.random.default_rng(n + nperseg)
    shape = (n,) if columns == 0 else (n, columns)
    x = (
        3.0
        + rng.standard_normal(shape)
        + np.linspace(0, 5, n).reshape((n,) + (1,) * (len(shape) - 1))
    )
    f, P = welch(x, 250.0, nperseg)
    fs, Ps = scipy_welch(x, fs=250.0, nperseg=nperseg, axis=0, detrend="constant")
    np.testing.assert_allclose(f, fs, rtol=1e-12)
    assert P.shape == Ps.shape
    np.testing.assert_allclose(P, Ps, rtol=1e-12, atol=1e-12 * Ps.max())


def test_spectrogram_follows_the_rhythm():
    fs = 500.0
    t, x = chirp_step(fs)
    ts, f, S = spectrogram(x, fs, window_s=1.0, step_s=0.25)
    assert S.shape == (len(f), 2, len(ts))
    assert np.allclose(np.diff(ts), 0.25) and abs(f[1] - f[0] - 1.0) < 1e-12  # 1 s windows
    peak = f[S[:, 0, :].argmax(axis=0)]
    assert np.all(peak[ts < 3.5] == 10.0) and np.all(peak[ts > 4.5] == 20.0)
    np.testing.assert_allclose(S[:, 1], S[:, 0] / 4)  # power scales with amplitude squared
    # a sinusoid of amplitude 1 has power 1/2: the density integrates to it
    total = S[:, 0, ts < 3.5].sum(axis=0) * (f[1] - f[0])
    np.testing.assert_allclose(total, 0.5, rtol=0.05)


def test_report_draws_the_eeg_spectrogram(tmp_path):
    _, x = chirp_step()
    path = tmp_path / "run.h5"
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "multiscale-output"  # a hand-made output, as a run writes it
        f.attrs["name"] = "synthetic"
        f.attrs["duration_ms"] = 8000.0
        ds = f.create_dataset("eeg/data", data=x)
        ds.attrs["sampling_rate"] = 500.0
        ds.attrs["channels"] = ["A", "B"]
        dt = np.dtype(
            [("time", "f8"), ("name", h5py.string_dtype()), ("what", h5py.string_dtype())]
        )
        f.create_dataset("perturbations", data=np.array([(4000.0, "switch", "10 -> 20 Hz")], dt))
    figures = make_figures(path)
    assert {"eeg_traces.png", "eeg_spectra.png", "eeg_spectrogram.png"} <= {p.name for p in figures}
    assert (tmp_path / "run" / "eeg_spectrogram.png").stat().st_size > 10_000
    page = write_html(path, "a summary <line>", figures).read_text()
    assert page.count("<img") == len(figures) and "a summary &lt;line&gt;" in page


def _synthetic_spikes(rate_hz, modulation, n=10, duration_ms=4000.0, seed=0):
    """Inhomogeneous Poisson spikes of n cells (times ms, indices), rate (Hz) modulated at
    20 Hz by the given depth, the same modulation in every cell (a synchronous rhythm)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration_ms, 0.1)
    lam = rate_hz * (1 + modulation * np.sin(2 * np.pi * 20.0 * t * 1e-3)) * 1e-4
    spikes = rng.random((n, len(t))) < lam
    i, k = np.nonzero(spikes)
    return t[k], i


def test_beta_measures_see_a_shared_20_hz_rhythm_not_the_rate_alone():
    flat_t, flat_i = _synthetic_spikes(40.0, 0.0)
    beta_t, beta_i = _synthetic_spikes(40.0, 0.8, seed=1)
    pop_flat = gpi_beta_power(flat_t, 10, 0.0, 4000.0)
    pop_beta = gpi_beta_power(beta_t, 10, 0.0, 4000.0)
    # Poisson population rate per cell: flat spectrum rate / n (Hz^2/Hz, one-sided x 2)
    assert pop_flat == pytest.approx(2 * 40.0 / 10 * 28.0, rel=0.25)
    # a shared 20 Hz modulation of depth 0.8 adds (0.8 x 40 Hz)^2 / 2 = 512 Hz^2
    assert pop_beta - pop_flat == pytest.approx(512.0, rel=0.25)
    cell_flat = per_cell_beta_power(flat_t, flat_i, 10, 0.0, 4000.0)
    cell_beta = per_cell_beta_power(beta_t, beta_i, 10, 0.0, 4000.0)
    assert cell_flat == pytest.approx(2 * 40.0 * 28.0, rel=0.15)  # one train: rate floor
    assert cell_beta > cell_flat + 100.0  # the same rhythm, on top of a 2240 Hz^2 floor
    # outside the band (a 60 Hz rhythm) neither measure moves much
    t = np.arange(0.0, 4000.0, 0.1)
    rng = np.random.default_rng(1)
    lam = 40.0 * (1 + 0.8 * np.sin(2 * np.pi * 60.0 * t * 1e-3)) * 1e-4
    i, k = np.nonzero(rng.random((10, len(t))) < lam)
    assert gpi_beta_power(t[k], 10, 0.0, 4000.0) < 1.5 * pop_flat
