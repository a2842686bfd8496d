"""experiments/stroke_lesion.yaml: a virtual lesion of rM1 at t = 5 s against the same run
without it (same seed, so the same noise: every difference is the lesion's).

Claims (the file's header): the lesion's EEG signature is a loss of power where rM1 projects
to the scalp, i.e. the more a sensor sees rM1 (|lead field| to rM1), the more power it loses;
and inside the network the change reaches the regions that received rM1's input, not the
regions unconnected to it.

Why 15-40 Hz over 119.5 s (the file runs 125 s), and not 1-40 Hz over 4.5 s as before:
rM1 is 3-4 % of the power at the sensors that see it most, and every region runs its own
alpha rhythm, so over a short window the chance correlation of rM1's activity with its
neighbours' adds a cross term to each sensor's power change that is several times rM1's
own share, of either sign. Measured on the file as shipped but for seed and duration
(125 s runs, change = 10 log10(lesion / control power) per sensor, correlation with
|average-referenced lead field to rM1|, 65 sensors; the top quartile 16 of them):
- 1-40 Hz, 5.5-10 s (the old claim), seeds 42, 1-7: correlation +0.46, -0.69, +0.63,
  +0.10, -0.83, -0.32, -0.75, -0.48; top quartile +0.30 to -0.29 dB. At seed 42, Cz: rM1
  3.9 % of its power, the cross term -12.8 %, so Cz gained 0.37 dB. The old claim (-0.72
  at seed 42 before the noise stream changed) was one draw of this spread.
- 1-40 Hz over longer windows, seeds 42, 1-15: 5.5-35 s, correlation -0.83 to +0.19;
  5.5-125 s, -0.93 to -0.43 (seed 8), top quartile minus the rest -0.087 to -0.014 dB.
  Alpha is narrow-band: the cross terms average out slowly.
- 15-40 Hz (broadband in these columns, so the cross terms average out ~10x faster),
  5.5-125 s, seeds 42, 1-15: correlation -0.76 to -0.91 (mean -0.85); top quartile
  -0.031 to -0.086 dB, the rest -0.000 to -0.009, difference -0.031 to -0.077 (mean
  -0.046, SD 0.011); the 3 sensors that lose most are among the 6 that see rM1 most at
  every seed (FC2 -0.14 +- 0.04 dB, C2 -0.13, Cz -0.15, FCz -0.12; FC6 and C4, which see
  it as much but hold more power from other regions, -0.06 and -0.05); declared measures,
  lesion / control: the four sensors (FCz, Cz, FC2, C2) x0.954 to x0.979, all sensors
  x0.9946 to x0.9988, the four below all by at least 0.019 at every seed. Over 5.5-65 s
  the same holds less clearly (correlation -0.67 to -0.89; all sensors x1.0003 at seed 42).
  Seed 42: correlation -0.79, top quartile -0.031 dB, rest -0.000; seed 1: -0.85, -0.050,
  -0.007.
The test runs seeds 42 (the file's) and 1 and asserts, at each: correlation < -0.7, the top
quartile at least 0.02 dB below the rest, the 3 sensors that lose most among the 10 that
see rM1 most, the four sensors' ratio at least 0.01 below all sensors', and all sensors'
ratio < 1.

In the network (mean |lesion - control| of the region traces over 5.5-10 s, 16 seeds):
regions that received input from rM1 deviate 167-414x more than regions with no edge to or
from rM1 (through longer paths only). Over later windows the ratio falls (seed 42,
5.5-35 s: 18x): at times an unconnected region amplifies the tiny deviation that reached
it through longer paths for tens of seconds (seed 42, rCCS: 2.5 s means from 6e-5 mV at
5-7.5 s to 0.36 mV at 22.5-25 s, peak 1.4 mV at 23.3 s, back to 4e-5 mV at 32.5-35 s),
an episode of the columns' own dynamics, not investigated further; the check keeps the
first 4.5 s.
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


#: the file's seed and one other (16 seeds measured, module docstring)
SEEDS = (42, 1)
#: the scalp claim's band and window (s): module docstring
BAND_HZ, AFTER_S = (15.0, 40.0), 5.5


@pytest.fixture(scope="module", params=SEEDS, ids=lambda s: f"seed{s}")
def runs(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stroke")
    conditions = dict(variants(EXPERIMENT, {}))  # the file's own sweep.conditions
    seed = {"seed": request.param}
    return (run(tmp, "lesion", {**conditions["lesion"], **seed}),
            run(tmp, "control", {**conditions["control"], **seed}))  # fmt: skip


def test_virtual_lesion_of_rm1(runs):
    lesion, control = runs
    fs = lesion["fs"]
    onset = int(5.0 * fs)
    np.testing.assert_array_equal(lesion["eeg"][:onset], control["eeg"][:onset])
    r = lesion["labels"].index("rM1")
    after = slice(int(5.5 * fs), None)
    assert np.all(lesion["regions"][after, r] == 0.0)  # its EEG source is gone

    # the same claim on the measures the file declares (stored in each output)
    m = {"lesion": dict(lesion["measures"]), "control": dict(control["measures"])}
    assert m["lesion"]["rm1_moment_power"] == 0.0 < m["control"]["rm1_moment_power"]

    W = lesion["weights"]
    targets = [j for j in np.flatnonzero(W[:, r]) if j != r]
    unconnected = [j for j in range(len(W)) if j != r and W[j, r] == 0 and W[r, j] == 0]
    first = slice(int(5.5 * fs), int(10.0 * fs))  # the first 4.5 s (module docstring)
    diff = np.abs(lesion["regions"][first] - control["regions"][first]).mean(axis=0)
    print("targets / unconnected deviation:", diff[targets].mean() / diff[unconnected].mean())
    assert diff[targets].mean() > 100 * diff[unconnected].mean()  # measured 167-414x


def test_the_lesion_shows_most_on_the_sensors_that_see_rm1(runs):
    lesion, control = runs
    fs = lesion["fs"]
    r = lesion["labels"].index("rM1")
    after = slice(int(AFTER_S * fs), None)

    def power(x):
        f, P = power_spectrum(x, fs, resolution_hz=0.5)
        return band_power(f, P, BAND_HZ)

    change_db = 10 * np.log10(power(lesion["eeg"][after]) / power(control["eeg"][after]))
    g = lesion["gain"][:, r]
    seen = np.abs(g - g.mean())  # the average-referenced lead field to rM1
    top = seen >= np.quantile(seen, 0.75)
    corr = np.corrcoef(seen, change_db)[0, 1]
    print(f"correlation {corr:.3f}; top quartile {change_db[top].mean():.4f} dB, "
          f"the rest {change_db[~top].mean():.4f} dB")  # fmt: skip
    assert corr < -0.7  # measured -0.76 to -0.91 over 16 seeds
    assert change_db[top].mean() < change_db[~top].mean() - 0.02  # dB; -0.031 to -0.077
    most_lost = np.argsort(change_db)[:3]
    assert np.all(np.argsort(np.argsort(-seen))[most_lost] < 10)  # measured: among the 6

    # the same claim on the measures the file declares (15-40 Hz, 5.5-125 s)
    m = {"lesion": dict(lesion["measures"]), "control": dict(control["measures"])}
    over = m["lesion"]["eeg_power_over_rm1"] / m["control"]["eeg_power_over_rm1"]
    overall = m["lesion"]["eeg_power_all"] / m["control"]["eeg_power_all"]
    print("measures: power over rM1 x", over, "all sensors x", overall)
    assert over < overall - 0.01  # measured x0.954-0.979 against x0.9946-0.9988
    assert overall < 1.0
