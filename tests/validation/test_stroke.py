"""experiments/stroke_lesion.yaml: a virtual lesion of rM1 at t = 5 s against the same run
without it (same seed, so the same noise: every difference is the lesion's).

Claims (the file's header): the lesion's EEG signature is a loss of power where rM1 projects
to the scalp, i.e. the more a sensor sees rM1 (|lead field| to rM1), the more power it loses;
and inside the network the change reaches the regions that received rM1's input, not the
regions unconnected to it.

Measured (seed 42, 1-40 Hz EEG power over 5.5-10 s, lesion against control): the 4
sensors that lose most are among the 6 with the largest |gain| to rM1 (FCz -0.78 dB, Cz
-0.64, FC2 -0.50, C2 -0.41); correlation between |gain| and the change -0.72; sensors in
the top quartile of |gain| -0.25 dB on average, the others -0.07 dB. (Before sources were
in physical units: -2.1, -1.4, -1.4, -1.1 dB and -0.66 against -0.15 dB. The old TVB gain
summed the 16k-surface vertices of a region, weighting rM1 by its 463 vertices; now the
region's moment follows its area, 3893 mm^2, which is about half of what its vertex count
implied, so its power share, and the lesion's effect, is smaller.) Regions that received
input from rM1 deviate from the control by 0.009 mV (mean |difference|), regions with no
edge to or from rM1 by 1.7e-5 mV (through longer paths only).
"""

from pathlib import Path

import h5py
import numpy as np
import pytest

from multiscale import measures
from multiscale.analysis import band_power, power_spectrum
from multiscale.config import load_experiment
from multiscale.cosim import Simulation
from multiscale.outputs import read_connectome
from multiscale.sweep import variants

pytestmark = pytest.mark.validation
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "stroke_lesion.yaml"


def run(tmp_path, name, overrides):
    out = tmp_path / f"{name}.h5"
    exp = load_experiment(EXPERIMENT, {"output.path": str(out), **overrides})
    assert Simulation(exp.plan, progress=False).run()
    with h5py.File(out) as f:
        conn = read_connectome(f)
        return {
            "eeg": f["eeg/data"][:],
            "fs": float(f["eeg/data"].attrs["sampling_rate"]),
            "regions": f["regions/data"][:],
            "gain": f["eeg/gain"][:],
            "labels": conn.labels,
            "weights": conn.weights,
            "measures": [(x.name, x.value) for x in measures.read(f)],
        }


def test_virtual_lesion_of_rm1(tmp_path):
    conditions = dict(variants(EXPERIMENT, {}))  # the file's own sweep.conditions
    lesion = run(tmp_path, "lesion", conditions["lesion"])
    control = run(tmp_path, "control", conditions["control"])
    fs = lesion["fs"]
    onset = int(5.0 * fs)
    np.testing.assert_array_equal(lesion["eeg"][:onset], control["eeg"][:onset])
    r = lesion["labels"].index("rM1")
    after = slice(int(5.5 * fs), None)
    assert np.all(lesion["regions"][after, r] == 0.0)  # its EEG source is gone

    def power(x):
        f, P = power_spectrum(x, fs, resolution_hz=0.5)
        return band_power(f, P, (1.0, 40.0))

    change_db = 10 * np.log10(power(lesion["eeg"][after]) / power(control["eeg"][after]))
    g = lesion["gain"][:, r]
    seen = np.abs(g - g.mean())  # the average-referenced lead field to rM1
    assert np.corrcoef(seen, change_db)[0, 1] < -0.5
    top = seen >= np.quantile(seen, 0.75)
    assert change_db[top].mean() < change_db[~top].mean() - 0.1  # dB
    most_lost = np.argsort(change_db)[:3]
    assert np.all(np.argsort(np.argsort(-seen))[most_lost] < 10)  # among the 10 that see it most

    # the same claim on the measures the file declares (stored in each output)
    m = {"lesion": dict(lesion["measures"]), "control": dict(control["measures"])}
    assert m["lesion"]["rm1_moment_power"] == 0.0 < m["control"]["rm1_moment_power"]
    over = m["lesion"]["eeg_power_over_rm1"] / m["control"]["eeg_power_over_rm1"]
    overall = m["lesion"]["eeg_power_all"] / m["control"]["eeg_power_all"]
    print("measures: power over rM1 x", over, "all sensors x", overall)
    assert over < overall < 1.0

    W = lesion["weights"]
    targets = [j for j in np.flatnonzero(W[:, r]) if j != r]
    unconnected = [j for j in range(len(W)) if j != r and W[j, r] == 0 and W[r, j] == 0]
    diff = np.abs(lesion["regions"][after] - control["regions"][after]).mean(axis=0)
    assert diff[targets].mean() > 100 * diff[unconnected].mean()
