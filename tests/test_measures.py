"""Declared outcome measures (``measures:``): computed at the end of a run from its output,
stored in /measures, printed in the summary; each value checked here against the same
quantity computed independently from the stored data."""

import h5py
import numpy as np
import pytest
from circuit_harness import synchrony_chi
from scipy.signal import welch

import multiscale as ms

TWO_NODES = {"weights": [[0, 1], [1, 0]], "lengths": [[0, 30], [30, 0]], "labels": ["A", "B"]}


def masses(tmp_path, measures, **fields):
    return ms.experiment(
        {
            "name": "measured",
            "seed": 4,
            "duration": "6 s",
            "connectome": {"source": TWO_NODES},
            "regions": {
                "model": "jansen_rit",
                "parameter_set": "jansen_rit_1995",
                "coupling": {"kind": "sigmoidal_jansen_rit", "a": 0.01},
                "integrator": {"noise": {"y4": 1e-3}},
            },
            # B raised at 3 s: the rhythm slows (docs/science.md)
            "perturbations": [
                {"name": "slow", "regions": "all", "parameter": "B", "set": 30, "at": "3 s"}
            ],  # fmt: skip
            "record": {"eeg": None},
            "measures": measures,
            "output": {"path": str(tmp_path / "m.h5"), "figures": False},
        }
        | fields
    )


def spectrum(x, fs):
    """Welch, 2 s segments (0.5 Hz), averaged over columns: computed here with scipy."""
    f, P = welch(x, fs=fs, nperseg=min(len(x), int(2 * fs)), axis=0)
    return f, P.reshape(len(f), -1).mean(axis=1)


def test_band_power_peak_and_ratio_equal_an_independent_computation(tmp_path):
    declared = [
        {"name": "alpha_before", "kind": "band_power", "signal": "regions",
         "band": ["8 Hz", "13 Hz"], "window": ["1 s", "3 s"]},
        {"name": "alpha_change", "kind": "band_power", "signal": "regions", "regions": ["A"],
         "band": ["8 Hz", "13 Hz"], "window": ["4 s", "6 s"], "versus": ["1 s", "3 s"]},
        {"name": "relative_theta_after", "kind": "band_power", "signal": "regions",
         "band": ["4 Hz", "8 Hz"], "window": ["4 s", "6 s"], "relative": True},
        {"name": "peak_before", "kind": "peak_frequency", "signal": "regions",
         "window": ["1 s", "3 s"]},
        {"name": "peak_after", "kind": "peak_frequency", "signal": "regions",
         "window": ["4 s", "6 s"]},
    ]  # fmt: skip
    result = ms.run(masses(tmp_path, declared))
    got = result.measures
    assert list(got) == [m["name"] for m in declared]
    with h5py.File(result.path) as f:
        x = f["regions/data"][:]
        fs = f["regions/data"].attrs["sampling_rate"]
    before, after = x[1000:3000], x[4000:6000]

    def band(sig, lo, hi):
        f, P = spectrum(sig, fs)
        m = (f >= lo) & (f < hi)
        return np.trapezoid(P[m], f[m])

    assert got["alpha_before"].value == pytest.approx(band(before, 8, 13), rel=1e-12)
    assert got["alpha_before"].unit == "(mV)^2"
    ratio = band(after[:, 0], 8, 13) / band(before[:, 0], 8, 13)
    assert got["alpha_change"].value == pytest.approx(ratio, rel=1e-12)
    assert got["alpha_change"].unit == "1"
    rel = band(after, 4, 8) / band(after, 1, 80)
    assert got["relative_theta_after"].value == pytest.approx(rel, rel=1e-12)
    for name, sig in (("peak_before", before), ("peak_after", after)):
        f, P = spectrum(sig, fs)
        inside = (f >= 1) & (f <= 40)
        assert got[name].value == f[inside][P[inside].argmax()]
    # the perturbation does what the model predicts: alpha before, slower after
    assert 9.5 <= got["peak_before"].value <= 11.5
    assert got["peak_after"].value < got["peak_before"].value - 2
    # printed with the summary, as `multiscale run` and `report` show it
    summary = result.summary()
    assert "measure alpha_change = " in summary and "against 1-3 s" in summary


def test_a_rate_counts_the_population_s_spikes_in_its_window(tmp_path):
    exp = masses(
        tmp_path,
        [
            {
                "name": "e_rate",
                "kind": "rate",
                "circuit": "c",
                "population": "E",
                "window": ["100 ms", "400 ms"],
            },
            {
                "name": "e_chi",
                "kind": "synchrony",
                "circuit": "c",
                "population": "E",
                "window": ["100 ms", "400 ms"],
                "bin": "10 ms",
            },
            {
                "name": "field_beta",
                "kind": "band_power",
                "signal": "circuit",
                "circuit": "c",
                "quantity": "field",
                "band": ["13 Hz", "30 Hz"],
            },
            {
                "name": "e_beta",
                "kind": "band_power",
                "signal": "circuit",
                "circuit": "c",
                "quantity": "spikes",
                "population": "E",
                "bin": "2 ms",
                "band": ["13 Hz", "30 Hz"],
                "resolution": "2.5 Hz",
            },
            {
                "name": "e_evoked",
                "kind": "evoked",
                "signal": "circuit",
                "circuit": "c",
                "quantity": "spikes",
                "population": "E",
                "bin": "2 ms",
                "first": "100 ms",
                "every": "100 ms",
                "after": "20 ms",
                "baseline": "10 ms",
            },
        ],  # fmt: skip
        duration="400 ms",
        perturbations=[],
        circuits=[
            {
                "name": "c",
                "model": "ei_network",
                "region": "A",
                "parameters": {"n_E": 160, "n_I": 40},
            }
        ],  # fmt: skip
        brian={"target": "numpy"},
    )
    got = ms.run(exp).measures
    with h5py.File(tmp_path / "m.h5") as f:
        t = f["circuits/c/spikes/E/times"][:]
        i = f["circuits/c/spikes/E/indices"][:]
        n = f["circuits/c/spikes/E"].attrs["n_cells"]
    expected = np.count_nonzero((t >= 100) & (t < 400)) / n / 0.3
    assert expected > 0 and got["e_rate"].value == pytest.approx(expected, rel=1e-12)
    # the streamed chi against the whole-array definition the circuit tests use
    chi = synchrony_chi(t, i, n, 100.0, 400.0, bin_ms=10.0)
    assert 0 < chi < 1 and got["e_chi"].value == pytest.approx(chi, rel=1e-9)
    assert got["e_rate"].unit == "Hz" and got["field_beta"].unit == "(mV)^2"
    # the population activity: spikes in 2 ms bins per cell (Hz), its 13-30 Hz power
    activity = np.bincount((t // 2).astype(int), minlength=200)[:200] / n / 0.002
    f, P = welch(activity, fs=500.0, nperseg=200, detrend="constant")
    m = (f >= 13) & (f < 30)
    assert got["e_beta"].value == pytest.approx(np.trapezoid(P[m], f[m]), rel=1e-12)
    assert got["e_beta"].unit == "(Hz)^2" and "E activity of circuit c" in got["e_beta"].what
    # its response to events every 100 ms from 100 ms: 20 ms after each, 10 ms baseline
    responses = [activity[t0 // 2 : (t0 + 20) // 2] - activity[(t0 - 10) // 2 : t0 // 2].mean()
                 for t0 in (100, 200, 300)]  # fmt: skip
    assert got["e_evoked"].value == pytest.approx(np.abs(np.mean(responses, 0)).max(), rel=1e-12)
    assert "average over 3 events" in got["e_evoked"].what


def test_an_evoked_response_is_the_baseline_corrected_event_average(tmp_path):
    """Events every 500 ms from 1 s inside 1-6 s: 9 of them (1 s has its baseline before the
    window; 5.5 s is the last whose response ends inside it); 200 ms after each, 50 ms
    baseline; the largest |deviation| per region,
    averaged over the regions; with ``versus``, the ratio of two windows' values."""
    declared = [
        {"name": "erp", "kind": "evoked", "signal": "regions", "first": "1 s",
         "every": "500 ms", "after": "200 ms", "window": ["1 s", "6 s"]},
        {"name": "erp_late", "kind": "evoked", "signal": "regions", "regions": ["B"],
         "first": "1 s", "every": "500 ms", "after": "200 ms", "baseline": "0 ms",
         "window": ["3.5 s", "6 s"], "versus": ["0 s", "3 s"]},
    ]  # fmt: skip
    got = ms.run(masses(tmp_path, declared)).measures
    with h5py.File(tmp_path / "m.h5") as f:
        x = f["regions/data"][:]
    onsets = [1500 + 500 * k for k in range(9)]
    erp = np.mean([x[t : t + 200] - x[t - 50 : t].mean(0) for t in onsets], axis=0)
    assert got["erp"].value == pytest.approx(np.abs(erp).max(0).mean(), rel=1e-12)
    assert got["erp"].unit == "mV" and "average over 9 events" in got["erp"].what

    def late(t0s):
        return np.abs(np.mean([x[t : t + 200, 1] for t in t0s], axis=0)).max()

    expected = late(range(3500, 5801, 500)) / late(range(1000, 2801, 500))
    assert got["erp_late"].value == pytest.approx(expected, rel=1e-12)


def test_the_streamed_synchrony_holds_across_spike_blocks(tmp_path, monkeypatch):
    """Blocks of 7 spikes split bins everywhere: the same chi as one block."""
    import multiscale.measures as measures

    exp = masses(
        tmp_path,
        [{"name": "chi", "kind": "synchrony", "circuit": "c", "population": "E"}],
        duration="300 ms", perturbations=[],
        circuits=[{"name": "c", "model": "ei_network", "region": "A",
                   "parameters": {"n_E": 80, "n_I": 20}}],
        brian={"target": "numpy"},
    )  # fmt: skip
    whole = ms.run(exp).measures["chi"].value
    monkeypatch.setattr(measures, "SPIKE_BLOCK", 7)
    with h5py.File(tmp_path / "m.h5") as f:
        split = measures.evaluate(exp.measures[0], f).value
        t = f["circuits/c/spikes/E/times"][:]
        i = f["circuits/c/spikes/E/indices"][:]
    assert len(t) > 50 and split == pytest.approx(whole, rel=1e-12)
    assert whole == pytest.approx(synchrony_chi(t, i, 80, 0.0, 300.0), rel=1e-9)


@pytest.mark.parametrize(
    "measure, message",
    [
        ({"name": "x", "kind": "power"}, "measures[0].kind: got 'power'; expected one of"),
        ({"name": "x", "kind": "band_power", "signal": "regions"},
         "measures[0].band: got (missing)"),
        ({"name": "x", "kind": "band_power", "signal": "regions", "band": ["13 Hz", "8 Hz"]},
         "measures[0].band: got ['13 Hz', '8 Hz']; expected [low, high] with low < high"),
        ({"name": "x", "kind": "band_power", "signal": "regions", "band": [8, 13]},
         "measures[0].band.low: got 8; expected a quantity in Hz"),
        ({"name": "x", "kind": "peak_frequency", "signal": "regions", "regions": ["Q"]},
         "measures[0].regions: got 'Q'"),
        ({"name": "x", "kind": "peak_frequency", "signal": "eeg"},
         "measures[0].signal: got 'eeg'; the experiment records no EEG"),
        ({"name": "x", "kind": "peak_frequency", "signal": "regions",
          "window": ["1 s", "9 s"]}, "measures[0].window: got 1000-9000 ms; expected a window"),
        ({"name": "x", "kind": "band_power", "signal": "regions", "band": ["8 Hz", "900 Hz"]},
         "measures[0].band: got up to 900 Hz; expected at most the Nyquist frequency"),
        ({"name": "x", "kind": "rate", "circuit": "m1", "population": "E"},
         "measures[0].circuit: got 'm1'; expected one of []"),
        ({"name": "x", "kind": "evoked", "signal": "regions", "every": "1 s"},
         "measures[0].first: got (missing)"),
        ({"name": "x", "kind": "evoked", "signal": "regions", "first": "5.9 s",
          "every": "1 s"}, "measures[0].first: got 5.9 s (every 1 s); expected at least one"),
        ({"name": "x", "kind": "band_power", "signal": "circuit", "quantity": "spike",
          "band": ["8 Hz", "13 Hz"]}, "measures[0].quantity: got 'spike'"),
    ],
)  # fmt: skip
def test_a_wrong_measure_is_named_before_anything_runs(tmp_path, measure, message):
    with pytest.raises(ms.ConfigError) as err:
        masses(tmp_path, [measure])
    assert message in str(err.value)


def test_a_shortened_run_leaves_out_the_measures_that_no_longer_fit(tmp_path):
    """Past the end in the file as written: an error (above). Past the end because the
    duration was overridden (a quick look): left out, with a note saying so."""
    declared = [
        {"name": "early", "kind": "peak_frequency", "signal": "regions", "window": ["0 s", "1 s"]},
        {"name": "late", "kind": "peak_frequency", "signal": "regions", "window": ["4 s", "6 s"]},
    ]
    full = masses(tmp_path, declared, perturbations=[])
    assert [m.name for m in full.measures] == ["early", "late"] and full.plan.notes == ()
    data = {"name": "measured", "seed": 4, "duration": "6 s", "perturbations": [],
            "connectome": {"source": TWO_NODES}, "regions": {"model": "jansen_rit"},
            "record": {"eeg": None}, "measures": declared,
            "output": {"path": str(tmp_path / "short.h5"), "figures": False}}  # fmt: skip
    short = ms.experiment(data, overrides={"duration": "2 s"})
    assert [m.name for m in short.measures] == ["early"]
    assert short.plan.notes == (
        "measures[1] (late) left out: its window ends at 6 s, after this run's 2 s",
    )
    assert list(ms.run(short).measures) == ["early"]
