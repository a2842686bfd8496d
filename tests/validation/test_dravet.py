"""experiments/dravet.yaml against docs/science.md "Dravet syndrome": halving gNa in the PV
interneurons of the rM1 circuit (from t = 3 s) raises the excitatory rate, and the change
shows in the region's own source (its moment's spectrum) and in its
neighbours' activity, but, computed in physical units, not at the scalp.

Windows: before = 1-3 s, after = 4-6 s (the first second after the change left out).
Synchrony: Golomb's chi on the E cells' spike counts in 20 ms bins (sqrt of the variance of
the population-mean count over the mean of the single-cell count variances; 0.05 for 400
independent cells, 1 in lockstep).
EEG and regions: the file's sweep gives a control run (no perturbation, same seed, so the
same noise): every difference after 3 s is the Dravet change's. Per sensor, the EEG power
change (dB, 3.5-6 s, dravet against control) in each band.

Measured (seed 42; cells by rk4 at 0.05 ms, delays in NEST's convention, the external drive
drawn in generated code): E rate 1.96 -> 5.80 Hz (control 1.93 after); chi 0.083 -> 0.090
(control 0.087); rM1's moment gamma x1.62 and beta x0.46 (after against before; control
x0.89, x1.21). With the previous drive (drawn in Python; other realisations): 1.93 ->
5.71 Hz (control 1.88), chi 0.070 -> 0.083 (control 0.082), gamma x1.81, beta x0.37
(control x1.09, x1.18). With every synapse acting one step earlier as well: 1.98 ->
5.83 Hz, chi 0.072 -> 0.090 (control 0.079), gamma x1.75, beta x0.21 (control x0.68,
x1.33). Its moment is computed from the circuit's currents and cell counts
(multiscale.sources): SD 6.2 nA m against 252 nA m for the median mass region (control,
after 1 s), so the change does not reach the scalp (every sensor within 0.054 dB of the
control in every band). Earlier versions scaled the circuit by
a hand-chosen field_gain and found +0.9 dB gamma over rM1: the EEG effect was a choice, not
a result. The regions that receive rM1's output still deviate from the control far more than
the regions unconnected to it (through its rate).
"""

from pathlib import Path

import h5py
import numpy as np
import pytest
from circuit_harness import synchrony_chi
from experiment_harness import run_conditions

from multiscale import measures
from multiscale.analysis import band_power, power_spectrum
from multiscale.outputs import read_connectome

pytestmark = pytest.mark.validation
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "dravet.yaml"
BEFORE_MS, AFTER_MS = (1000.0, 3000.0), (4000.0, 6000.0)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dravet")
    runs = run_conditions(EXPERIMENT, tmp)  # dravet and control
    return {name: h5py.File(path, "r") for name, (path, _) in runs.items()}


@pytest.fixture(scope="module")
def run(runs):
    return runs["dravet"]


def test_dravet_raises_the_excitatory_rate_against_the_control(runs):
    """On the measures the experiment declares (stored in its output), checked against the
    same numbers computed here from the stored spikes. Tolerance: the E rate after the
    change x 1.5 or more the control's in the same window (same seed: identical before).
    Synchrony (chi) is declared and printed but not part of the claim: it drifts in the
    control too (0.083 -> 0.087 here), and against the control it moved x1.03 in this
    version, x1.02 with the previous drive and x1.14 before that, when the synaptic delays
    were one step shorter: within what one 400-cell realisation resolves."""
    run, control = runs["dravet"], runs["control"]
    t = run["circuits/m1/spikes/E/times"][:]
    i = run["circuits/m1/spikes/E/indices"][:]
    n = 400
    rates = [
        np.count_nonzero((t >= a) & (t < b)) / n / ((b - a) * 1e-3)
        for a, b in (BEFORE_MS, AFTER_MS)
    ]
    sync = [synchrony_chi(t, i, n, *BEFORE_MS), synchrony_chi(t, i, n, *AFTER_MS)]
    m = {x.name: x.value for x in measures.read(run)}
    c = {x.name: x.value for x in measures.read(control)}
    assert [m["e_rate_before"], m["e_rate_after"]] == pytest.approx(rates, rel=1e-12)
    assert [m["e_synchrony_before"], m["e_synchrony_after"]] == pytest.approx(sync, rel=1e-9)
    print("E rate (Hz)", rates, "control after", c["e_rate_after"])
    print("chi", sync, "control after", c["e_synchrony_after"])
    assert m["e_rate_before"] == c["e_rate_before"]
    assert 0.5 < m["e_rate_before"] < 10.0  # an asynchronous low-rate baseline
    assert m["e_rate_after"] > 1.5 * c["e_rate_after"]


def test_dravet_change_is_in_the_region_source_not_at_the_scalp(runs):
    """With the circuit's moment computed from its currents, the change shows in rM1's own
    source and not in the scalp EEG. Tolerances: identical to the control before 3 s; rM1's
    moment gamma (30-80 Hz) x1.3 or more and beta (13-30 Hz) x0.5 or less, after (4-6 s)
    against before (1-3 s) and over the control's same change, on the stored measures
    (measured x1.82, x0.38; x1.62 and x0.46 without the control); its SD under a
    tenth of the median mass region's (measured 6.2 against 252 nA m); every EEG sensor's
    band power within 0.2 dB of the control after 3.5 s, in each band (measured: 0.054 dB
    at most, in gamma)."""
    eeg, ctl = runs["dravet"]["eeg/data"][:], runs["control"]["eeg/data"][:]
    fs = float(runs["dravet"]["eeg/data"].attrs["sampling_rate"])
    np.testing.assert_array_equal(eeg[: int(3.0 * fs)], ctl[: int(3.0 * fs)])
    m = {x.name: x.value for x in measures.read(runs["dravet"])}
    c = {x.name: x.value for x in measures.read(runs["control"])}
    gamma = m["m1_source_gamma_change"] / c["m1_source_gamma_change"]
    beta = m["m1_source_beta_change"] / c["m1_source_beta_change"]
    print("rM1 moment against the control: gamma", gamma, "beta", beta)
    assert gamma > 1.3 and beta < 0.5

    labels = read_connectome(runs["dravet"]).labels
    k = labels.index("rM1")
    sd = runs["control"]["sources/data"][int(1.0 * fs) :].std(axis=0)
    assert sd[k] < 0.1 * np.median(np.delete(sd, k)), (sd[k], np.median(sd))

    after = slice(int(3.5 * fs), None)
    f, P1 = power_spectrum(eeg[after], fs, resolution_hz=1.0)
    _, P0 = power_spectrum(ctl[after], fs, resolution_hz=1.0)
    for band in ((1.0, 4.0), (4.0, 8.0), (8.0, 13.0), (13.0, 30.0), (30.0, 80.0)):
        change = 10 * np.log10(band_power(f, P1, band) / band_power(f, P0, band))
        print(band, "EEG change dB, largest", np.abs(change).max())
        assert np.abs(change).max() < 0.2, band


def test_dravet_change_reaches_the_regions_rm1_projects_to(runs):
    """Tolerance: the regions receiving rM1's output deviate from the control > 100x more
    than the regions with no edge to or from rM1."""
    reg, ctl = runs["dravet"]["regions/data"][:], runs["control"]["regions/data"][:]
    fs = float(runs["dravet"]["regions/data"].attrs["sampling_rate"])
    conn = read_connectome(runs["dravet"])
    k = conn.labels.index("rM1")
    w = conn.weights
    targets = [j for j in np.flatnonzero(w[:, k]) if j != k]
    unconnected = [j for j in range(len(w)) if j != k and w[j, k] == 0 and w[k, j] == 0]
    diff = np.abs(reg[int(3.5 * fs) :] - ctl[int(3.5 * fs) :]).mean(axis=0)
    assert diff[targets].mean() > 100 * diff[unconnected].mean()
    assert reg[int(3.5 * fs) :, k].mean() > ctl[int(3.5 * fs) :, k].mean()  # rM1's source
