"""experiments/cortical_column.yaml: a Potjans-Diesmann column in rV1 of the whole-brain
network, an L4e volley every 500 ms from t = 2 s, against its paired control (the file's
sweep condition without the volley: same seed, same noise).

Claims and their tolerances (measured, seed 42, in brackets):
- the runs are identical before the first volley;
- inside the column the volley runs from L4e to L2/3e: the population PSTH (1 ms bins,
  summed over the 12 volleys) peaks in L4e before L23e and L6e (2, 3, 4 ms after the pulse
  onset), each peak more than 10x the pre-volley level (L4e 70x, L23e 588x, L6e 87x);
- the evoked EEG (volley minus control, averaged over the volleys, largest |deviation| in
  the 250 ms after each) follows the lead field to rV1: correlation > 0.9 (1.00) and, in
  the quartile of sensors that see rV1 most, more than twice the others' (4.2x), and of
  the size of an averaged visual evoked potential there: 2-30 uV (14.3 uV;
  averaged flash and pattern VEPs are a few to a few tens of uV at occipital electrodes,
  e.g. Odom et al. 2016, Doc Ophthalmol 133:1). Its moment is computed, not tuned
  (multiscale.sources): rV1's evoked moment peaks at 1137 nA m after a volley, against
  21 nA m in the control (the declared measures; Oz, Iz, O1, PO4: 25.1 against 15.8 uV);
- through the connectome: the regions receiving rV1's output deviate more than 100x as
  much as those with no edge to or from it (250x), and each starts to deviate within 6 ms
  after its conduction delay from rV1 (measured 1.2-1.9 ms after; 5.2-5.9 ms with the
  previous drive, drawn in Python; 1-2 ms before that, when the synapses acted one step
  earlier).
One run of each condition, about 45 s each once compiled.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
from experiment_harness import run_conditions

from multiscale import measures
from multiscale.outputs import read_connectome

pytestmark = pytest.mark.validation
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "cortical_column.yaml"
FIRST_MS, PERIOD_MS = 2000.0, 500.0  # the volley's onset and period, as in the file


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cortical_column")
    out = {}
    for name, (path, exp) in run_conditions(EXPERIMENT, folder).items():
        with h5py.File(path) as f:
            spikes = f["circuits/v1/spikes"]
            conn = read_connectome(f)
            labels = conn.labels
            out[name] = {
                "eeg": f["eeg/data"][:],
                "fs": float(f["eeg/data"].attrs["sampling_rate"]),
                "regions": f["regions/data"][:],
                "gain": f["eeg/gain"][:],
                "labels": labels,
                "weights": conn.weights,
                "lengths": conn.lengths_mm,
                "speed": exp.connectome.speed_mm_per_ms,
                "duration_ms": exp.duration_ms,
                "spikes": {p: spikes[p]["times"][:] for p in spikes},
                "measures": {m.name: m for m in measures.read(f)},
            }
    return out


def volley_onsets(run) -> np.ndarray:
    return np.arange(FIRST_MS, run["duration_ms"] - 250.0, PERIOD_MS)


def test_runs_are_identical_before_the_first_volley(runs):
    n = int(FIRST_MS * runs["volley"]["fs"] / 1000)
    np.testing.assert_array_equal(runs["volley"]["eeg"][:n], runs["control"]["eeg"][:n])


def test_volley_runs_from_l4e_to_l23e(runs):
    run = runs["volley"]
    onsets = volley_onsets(run)
    peaks, contrast = {}, {}
    for pop in ("L4e", "L23e", "L6e"):
        t = run["spikes"][pop]
        rel = np.concatenate([t[(t >= s - 50) & (t < s + 50)] - s for s in onsets])
        h, _ = np.histogram(rel, bins=np.arange(-50.0, 51.0, 1.0))
        before, after = h[:50], h[50:]
        peaks[pop] = int(np.argmax(after))
        contrast[pop] = after.max() / max(before.mean(), 1.0 / len(onsets))
    print("PSTH peak (ms after onset):", peaks, "peak / pre-volley:", contrast)
    assert peaks["L4e"] < peaks["L23e"]
    assert peaks["L4e"] < peaks["L6e"]
    assert contrast["L4e"] > 10 and contrast["L23e"] > 10


def test_evoked_eeg_follows_the_lead_field_to_rv1(runs):
    v, c = runs["volley"], runs["control"]
    fs = v["fs"]
    diff = v["eeg"] - c["eeg"]
    n = int(0.25 * fs)
    evoked = np.mean([diff[int(s * fs / 1000) :][:n] for s in volley_onsets(v)], axis=0)
    amplitude = np.abs(evoked).max(axis=0)
    r = v["labels"].index("rV1")
    g = v["gain"][:, r]
    seen = np.abs(g - g.mean())  # the average-referenced lead field to rV1
    top = seen >= np.quantile(seen, 0.75)
    spread = c["eeg"][int(FIRST_MS * fs / 1000) :].std(axis=0)
    corr = np.corrcoef(seen, amplitude)[0, 1]
    ratio = amplitude[top].mean() / amplitude[~top].mean()
    relative = (amplitude[top] / spread[top]).mean()
    print(
        f"corr {corr:.3f}; top quartile / others {ratio:.2f}; top quartile "
        f"{amplitude[top].mean():.1f} uV, {relative:.2f} of the EEG's std"
    )
    assert corr > 0.9
    assert ratio > 2.0
    assert 2.0 < amplitude[top].mean() < 30.0  # uV


def test_rv1_targets_respond_after_their_conduction_delay(runs):
    v, c = runs["volley"], runs["control"]
    fs = v["fs"]
    r = v["labels"].index("rV1")
    W = v["weights"]
    targets = [j for j in np.flatnonzero(W[:, r]) if j != r]
    unconnected = [j for j in range(len(W)) if j != r and W[j, r] == 0 and W[r, j] == 0]
    start = int(FIRST_MS * fs / 1000)
    deviation = np.abs(v["regions"] - c["regions"])
    mean_dev = deviation[start:].mean(axis=0)
    print("targets / unconnected:", mean_dev[targets].mean() / mean_dev[unconnected].mean())
    assert mean_dev[targets].mean() > 100 * mean_dev[unconnected].mean()
    sample_ms = 1000 / fs  # a sample averages [k, k + 1) samples' worth of steps
    for j in targets:
        onset_ms = np.flatnonzero(deviation[:, j] > 0)[0] * sample_ms - FIRST_MS
        delay_ms = v["lengths"][j, r] / v["speed"]
        print(f"{v['labels'][j]}: delay {delay_ms:.1f} ms, deviates from {onset_ms:.1f} ms")
        # the sample that starts at onset_ms holds the first deviating step
        assert delay_ms < onset_ms + sample_ms and onset_ms <= delay_ms + 6.0


def test_declared_measures_show_the_evoked_response_against_the_control(runs):
    """The file's measures, as stored in each output: event-related averages over the 12
    volley times, baseline-corrected; in the control the same average of ongoing activity
    (the floor 12 sweeps leave)."""
    v, c = runs["volley"]["measures"], runs["control"]["measures"]
    for name in v:
        print(f"{name}: volley {v[name].value:.4g}, control {c[name].value:.4g} {v[name].unit}")
    assert v["v1_evoked_moment"].unit == "nA m" and v["occipital_vep"].unit == "uV"
    assert v["v1_evoked_moment"].value > 10 * c["v1_evoked_moment"].value
    assert v["l23e_response"].value > 100 * c["l23e_response"].value
    # a visual evoked potential's size, above the floor 12 sweeps of ongoing alpha leave,
    # which depends on the noise realisation: measured 25.1 against 15.8 uV (25.0 against
    # 15.7 with the previous drive; 24.7 against 10.2 with an earlier noise stream)
    assert 2.0 < v["occipital_vep"].value < 30.0
    assert v["occipital_vep"].value > 1.2 * c["occipital_vep"].value
