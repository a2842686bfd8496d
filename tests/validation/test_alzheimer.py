"""experiments/alzheimer_slowing.yaml against docs/science.md: disease experiments that slow the
EEG must shift the spectral peak down by at least 1 Hz and raise relative theta (4-8 Hz).

Measured (seed 42): mean-channel EEG peak 10.25 Hz in 1-5 s, 6.5 Hz in 14-20 s; relative
theta 0.04 -> 0.48."""

from pathlib import Path

import h5py
import pytest

from multiscale import measures
from multiscale.analysis import peak_frequency, power_spectrum, relative_band_powers
from multiscale.config import load_experiment
from multiscale.cosim import Simulation

pytestmark = pytest.mark.validation
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "alzheimer_slowing.yaml"


def test_alzheimer_slowing_slows_alpha_and_raises_theta(tmp_path):
    """On the measures the experiment declares (stored in its output), and against the same
    numbers computed here from the stored EEG with multiscale.analysis."""
    exp = load_experiment(EXPERIMENT, {"output.path": str(tmp_path / "ad.h5")})
    assert Simulation(exp.plan, progress=False).run()
    with h5py.File(tmp_path / "ad.h5") as f:
        eeg = f["eeg/data"][:]
        fs = f["eeg/data"].attrs["sampling_rate"]
        assert f["bold/data"].shape == (10, 63 + 13)  # 20 s at TR 2 s, 76 regions
        m = {x.name: x.value for x in measures.read(f)}
    stats = {}
    for name, (a, b) in {"before": (1.0, 5.0), "after": (14.0, 20.0)}.items():
        f_hz, P = power_spectrum(eeg[int(a * fs) : int(b * fs)], fs, resolution_hz=0.25)
        P = P.mean(axis=1)
        stats[name] = (peak_frequency(f_hz, P), relative_band_powers(f_hz, P)["theta"])
    (peak_before, theta_before), (peak_after, theta_after) = stats["before"], stats["after"]
    assert (m["peak_before"], m["peak_after"]) == (peak_before, peak_after)
    assert m["theta_before"] == pytest.approx(theta_before, rel=1e-12)
    assert m["theta_after"] == pytest.approx(theta_after, rel=1e-12)
    assert 9.0 <= m["peak_before"] <= 11.5  # a resting alpha to start from
    assert m["peak_before"] - m["peak_after"] >= 1.0, m
    assert m["theta_after"] > 2 * m["theta_before"], m
