"""The summary's spectra read in chunks: the same numbers as the whole-array computation
(to rounding), and no read larger than a chunk."""

import h5py
import numpy as np
import pytest
from scipy.signal import welch

from multiscale import analysis
from multiscale.analysis import Rows, mean_of, mean_spectrogram, power_spectrum, spectrogram


@pytest.fixture
def eeg(tmp_path):
    x = np.random.default_rng(0).standard_normal((12345, 7)).astype(np.float32)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["x"] = x
    f = h5py.File(tmp_path / "x.h5")
    yield x, f["x"]
    f.close()


def test_chunked_spectra_equal_the_whole_array_ones(eeg, monkeypatch):
    x, ds = eeg
    monkeypatch.setattr(analysis, "CHUNK_VALUES", 7 * 1500)  # many chunks
    for a, b in [(0, len(x)), (500, 9000), (3, 2100)]:
        f0, P0 = welch(x[a:b].astype(float), fs=1000, nperseg=2000 if b - a >= 2000 else b - a,
                       axis=0, detrend="constant")  # fmt: skip
        f1, P1 = power_spectrum(Rows(ds)[a:b], 1000)
        np.testing.assert_array_equal(f0, f1)
        np.testing.assert_allclose(P1, P0, rtol=1e-12, atol=0)
    t0, fr0, S0 = spectrogram(x, 1000)
    t1, fr1, S1 = mean_spectrogram(Rows(ds), 1000)
    np.testing.assert_allclose(t1, t0, rtol=1e-15)
    np.testing.assert_array_equal(S1, S0.mean(axis=1))  # window by window: the same numbers
    np.testing.assert_allclose(mean_of(Rows(ds)[100:]), x[100:].astype(float).mean(), rtol=1e-12)
    cols = Rows(ds, cols=[5, 1, 3])
    np.testing.assert_array_equal(cols.read(10, 20), x[10:20][:, [5, 1, 3]])


def test_no_read_is_larger_than_a_chunk(eeg, monkeypatch):
    x, ds = eeg
    monkeypatch.setattr(analysis, "CHUNK_VALUES", 7 * 3000)
    largest = []
    real = h5py.Dataset.__getitem__

    def recording(self, key):
        out = real(self, key)
        largest.append(np.asarray(out).size)
        return out

    monkeypatch.setattr(h5py.Dataset, "__getitem__", recording)
    power_spectrum(Rows(ds), 1000)
    mean_spectrogram(Rows(ds), 1000)
    mean_of(Rows(ds))
    assert 0 < max(largest) <= 7 * 3000


def test_a_bounded_spectrogram_averages_groups_of_windows(eeg, monkeypatch):
    """fmax_hz and max_columns bound the result whatever the duration; each column is
    the mean of its group of windows, each window as in one piece."""
    x, ds = eeg
    monkeypatch.setattr(analysis, "CHUNK_VALUES", 7 * 1500)
    t0, f0, S0 = spectrogram(x, 1000)
    full = S0.mean(axis=1)  # (freqs, 46 windows)
    t1, f1, S1 = mean_spectrogram(Rows(ds), 1000, fmax_hz=60.0, max_columns=10)
    group = -(-full.shape[1] // 10)  # 5 windows a column, the last one fewer
    assert S1.shape == (61, -(-full.shape[1] // group)) and S1.shape[1] <= 10
    np.testing.assert_array_equal(f1, f0[f0 <= 60.0])
    for c in range(S1.shape[1]):
        part = slice(c * group, (c + 1) * group)
        np.testing.assert_allclose(S1[:, c], full[: len(f1), part].mean(axis=1), rtol=1e-12)
        np.testing.assert_allclose(t1[c], t0[part].mean(), rtol=1e-12)
