"""Balloon-Windkessel BOLD: the canonical haemodynamic response and bounded memory."""

import numpy as np
import pytest

from multiscale.bold import BalloonWindkessel


def response(duration_s=1.0, amplitude=1.0, total_s=30.0, tr_ms=100.0):
    bw = BalloonWindkessel(2, dt_ms=1.0, tr_ms=tr_ms, gain=1.0, reference_s=0.0)
    n = int(total_s * 1000)
    x = np.zeros((n, 2))
    x[: int(duration_s * 1000), 0] = amplitude
    chunks = [bw(x[i : i + 137]) for i in range(0, n, 137)]  # uneven windows on purpose
    return np.concatenate(chunks)


def test_haemodynamic_response_shape():
    """A 1-s burst of activity: the BOLD rises after ~1 s, peaks 3-7 s after onset at a
    fraction of a percent to a few percent, undershoots below baseline after ~10 s, and
    returns to baseline (Friston et al. 2000, Fig. 2; the canonical HRF)."""
    bold = response()
    t = (np.arange(len(bold)) + 0.5) * 0.1
    b = bold[:, 0]
    assert 3.0 <= t[b.argmax()] <= 7.0, t[b.argmax()]
    assert 0.002 <= b.max() <= 0.05, b.max()
    assert b[t > 9].min() < -0.05 * b.max()  # post-stimulus undershoot
    assert abs(b[-1]) < 0.05 * b.max()
    np.testing.assert_allclose(bold[:, 1], 0.0, atol=1e-12)  # no input, no signal


def test_output_is_sampled_every_tr_whatever_the_windows():
    assert response(tr_ms=2000.0).shape == (15, 2)


def test_running_reference_removes_a_constant_offset():
    bw = BalloonWindkessel(1, dt_ms=1.0, tr_ms=1000.0, gain=1.0, reference_s=5.0)
    out = bw(np.full((20000, 1), 7.0))
    np.testing.assert_allclose(out, 0.0, atol=1e-12)


def test_bad_tr():
    with pytest.raises(ValueError, match="TR"):
        BalloonWindkessel(1, dt_ms=1.0, tr_ms=2.5, gain=1.0)
