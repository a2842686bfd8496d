"""Region stimulus waveforms (multiscale/stimuli.py): DBS-like pulse trains, sinusoids and
steps, on for [start, stop) only, assembled per window onto chosen regions and variables."""

import numpy as np
import pytest

from multiscale.stimuli import Waveform, region_stimulus

T = np.arange(0.0, 100.0, 0.1)  # ms


def test_monophasic_and_biphasic_pulse_trains():
    mono = Waveform("pulse_train", 2.0, 10.0, 60.0, frequency_hz=100.0, width_ms=1.0)
    x = mono(T)
    on = T[x != 0]
    assert x.max() == 2.0 and x.min() == 0.0
    assert on[0] == pytest.approx(10.0) and on[-1] < 60.0
    assert np.count_nonzero(x) == 5 * 10  # 5 pulses (10, 20, .., 50 ms) of 1 ms at dt 0.1
    bi = Waveform("pulse_train", 2.0, 10.0, 60.0, frequency_hz=100.0, width_ms=1.0, biphasic=True)
    y = bi(T)
    assert y.sum() == pytest.approx(0.0)  # charge balanced
    assert np.all(y[(T >= 11.0) & (T < 11.95)] == -2.0)  # the anodic phase follows directly


def test_sinusoid_and_step_are_zero_outside_their_interval():
    s = Waveform("sinusoid", 0.5, 20.0, 70.0, frequency_hz=40.0)
    x = s(T)
    assert np.all(x[(T < 20.0) | (T >= 70.0)] == 0.0)
    inside = (T >= 20.0) & (T < 70.0)
    expected = 0.5 * np.sin(2 * np.pi * 0.04 * (T[inside] - 20.0))
    np.testing.assert_allclose(x[inside], expected, rtol=0, atol=1e-12)
    step = Waveform("step", -1.0, 30.0, 40.0)(T)
    assert np.all(step[(T >= 30.0) & (T < 40.0)] == -1.0) and step.sum() == pytest.approx(-100.0)
    with pytest.raises(ValueError, match="unknown stimulus kind"):
        Waveform("ramp", 1.0, 0.0, 1.0)(T)


def test_region_stimulus_puts_each_waveform_on_its_regions_and_variable():
    a = (np.array([0, 2]), 1, Waveform("step", 3.0, 5.0, 8.0))
    b = (np.array([2]), 1, Waveform("step", 1.0, 0.0, 100.0))
    assert region_stimulus([a], 100, 10, 0.1, (3, 4)) is None  # 10-11 ms: a is off
    s = region_stimulus([a, b], 40, 20, 0.1, (3, 4))  # 4-6 ms
    assert s.shape == (20, 3, 4)
    np.testing.assert_array_equal(s[:10, 0, 1], 0.0)  # a starts at 5 ms (step 50)
    np.testing.assert_array_equal(s[10:, 0, 1], 3.0)
    np.testing.assert_array_equal(s[10:, 2, 1], 4.0)  # stimuli on one target add up
    assert np.count_nonzero(s[:, 1]) == 0 and np.count_nonzero(s[:, :, [0, 2, 3]]) == 0
