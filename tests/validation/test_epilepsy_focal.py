"""experiments/epilepsy_focal.yaml: a GABA_A block in the hippocampal HH circuit (rHC) turns
the amygdala's contained seizure into one that spreads through the propagation zone.

Both conditions of the file's sweep (same seed: identical until the block at 3 s):
control (inhibition intact) and gaba_block. Seizure onset of a region: the first time
after 1 s (the start-up transient) that its x1 exceeds -0.5 (interictal x1 is about -1.5,
seizure discharges reach 0 to 1). EEG: 1-40 Hz power over 3-7 s, block against control,
per sensor.

Measured (seed 42, Heun at dt 0.05, the circuit's drive drawn in generated code): circuit
2.0 Hz before, 326 Hz after the block (control: 2.0 Hz). Control: only rAMYG seizes
(2.44 s). Block: rAMYG 2.44 s, rPHC 4.26 s, rTCI 4.54 s, rTCV 4.61 s, rTCPOL 4.65 s, rIA
4.72 s; nothing else (with the previous drive, seeds 1 and 2: rPHC 4.26 and 4.25 s; with
each seed the PZ followed 0.3-0.65 s after rPHC). EEG, block against control: the change
per sensor correlates 0.48 with how much it sees the seizing regions (sum of
|average-referenced gain| to rPHC and the PZ); top quartile +9.7 dB, the others +6.6 dB
(0.56, +9.8 and +6.6 dB with the HH cells' former, unconverged step; the bound on the
correlation was then 0.5, now 0.4: still p < 0.001). Declared measures, block / control:
circuit rate x162, parahippocampal contacts x27.8 (+14.4 dB), right temporal sensors
x29.7 (+14.7 dB). SEEG (tvb-data's 588 contacts, uV): the change per contact correlates
0.72 with the share of its gain that comes from rPHC and the PZ; the tenth of contacts
most dominated by them +13.4 dB, the others +4.6 dB; largest at FCA9 +17.4, FCA8
+17.3 dB; SD up to 932 uV after the block (GPH7).
About 1.5 minutes a condition.

At dt 0.1, the file's step before tests/validation/test_convergence_regions.py, rPHC
seized 0.22 s after the block (seeds 42, 1, 2) and the PZ 0.3-2.4 s after it (not all of
it with seed 2). There x1 cannot follow the post-ictal state (it returns to ~-1.2
instead of -2), likely why: through the difference coupling (Ks < 0) a neighbour's x1
above a region's own lowers that region's z, towards seizure, and a converged post-ictal
x1 of -2 raises it instead. Converged, recruitment takes 1.2 s, and the bound below is
2 s (it was 1 s).
"""

from pathlib import Path

import h5py
import numpy as np
import pytest
from experiment_harness import run_conditions

from multiscale import measures
from multiscale.analysis import band_power, power_spectrum
from multiscale.outputs import read_connectome

pytestmark = pytest.mark.validation
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "epilepsy_focal.yaml"
EZ = ("rAMYG", "rPHC")
PZ = ("rTCV", "rTCPOL", "rTCI", "rIA")
BLOCK_S = 3.0


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("epilepsy")
    out = {}
    for name, (path, _) in run_conditions(EXPERIMENT, tmp).items():
        with h5py.File(path) as f:
            x1 = f["regions/states/x1"]
            step = int(round(x1.attrs["sampling_rate"] / 1000.0))  # to 1 ms
            out[name] = {
                "x1": x1[::step],
                "labels": read_connectome(f).labels,
                "rate": f["circuits/hc/rate"][:],
                "eeg": f["eeg/data"][:],
                "fs": float(f["eeg/data"].attrs["sampling_rate"]),
                "gain": f["eeg/gain"][:],
                "seeg": f["seeg/data"][:],
                "seeg_gain": f["seeg/gain"][:],
                "seeg_unit": f["seeg/data"].attrs["unit"],
                "measures": {x.name: x.value for x in measures.read(f)},
            }
    return out


def power(x: np.ndarray, fs: float) -> np.ndarray:
    """1-40 Hz power per channel (the signal's unit squared)."""
    f, P = power_spectrum(x, fs, resolution_hz=0.5)
    return band_power(f, P, (1.0, 40.0))


def onsets(run) -> dict[str, float]:
    """Seizure onset (s) of every region that seizes after the 1 s start-up transient."""
    x1 = run["x1"][1000:]
    found = {}
    for j, label in enumerate(run["labels"]):
        above = np.flatnonzero(x1[:, j] > -0.5)  # NaN (the circuit's node) compares False
        if len(above):
            found[label] = 1.0 + above[0] / 1000.0
    return found


def test_circuit_runs_away_only_after_the_block(runs):
    block, control = runs["gaba_block"]["rate"], runs["control"]["rate"]
    np.testing.assert_array_equal(block[:3000], control[:3000])
    assert 0.5 < control[1000:].mean() < 10.0  # Hz, asynchronous low rate
    assert block[3500:].mean() > 20 * control[3500:].mean()


def test_intact_inhibition_keeps_the_seizure_contained(runs):
    seized = onsets(runs["control"])
    assert set(seized) <= set(EZ), seized  # the EZ may seize on its own, nothing else does
    assert "rAMYG" in seized


def test_after_the_block_the_seizure_spreads_from_the_focus(runs):
    seized = onsets(runs["gaba_block"])
    assert set(seized) <= set(EZ) | set(PZ), seized  # healthy regions are spared
    assert set(PZ) <= set(seized), seized  # the whole propagation zone is recruited
    assert BLOCK_S < seized["rPHC"] < BLOCK_S + 2.0  # the focus' target first ...
    assert all(seized[r] > seized["rPHC"] for r in PZ)  # ... then the propagation zone


def test_the_seizures_show_on_the_sensors_that_see_them(runs):
    block, control = runs["gaba_block"], runs["control"]
    fs = block["fs"]
    after = slice(int(BLOCK_S * fs), None)

    change_db = 10 * np.log10(power(block["eeg"][after], fs) / power(control["eeg"][after], fs))
    idx = [block["labels"].index(r) for r in ("rPHC", *PZ)]
    g = block["gain"][:, idx]
    seen = np.abs(g - g.mean(axis=0)).sum(axis=1)  # average reference, summed over them
    # a clearly positive correlation: r > 0.4 over 65 sensors has p < 0.001 (measured 0.48)
    assert np.corrcoef(seen, change_db)[0, 1] > 0.4
    top = seen >= np.quantile(seen, 0.75)
    assert change_db[top].mean() > change_db[~top].mean() + 1.0  # dB


def test_the_seizures_show_on_the_depth_contacts_near_them(runs):
    """SEEG in uV: the 1-40 Hz power change per contact (block against control, after 3 s)
    correlates > 0.6 with the share of the contact's |gain| that comes from rPHC and the
    PZ, and the tenth of contacts most dominated by them gains > 4 dB more than the rest."""
    block, control = runs["gaba_block"], runs["control"]
    assert block["seeg_unit"] == "uV"
    fs = block["fs"]
    after = slice(int(BLOCK_S * fs), None)

    change_db = 10 * np.log10(power(block["seeg"][after], fs) / power(control["seeg"][after], fs))
    g = np.abs(block["seeg_gain"])
    idx = [block["labels"].index(r) for r in ("rPHC", *PZ)]
    share = g[:, idx].sum(axis=1) / g.sum(axis=1)
    assert np.corrcoef(share, change_db)[0, 1] > 0.6
    top = share >= np.quantile(share, 0.9)
    assert change_db[top].mean() > change_db[~top].mean() + 4.0  # dB


def test_the_declared_measures_state_the_claim(runs):
    """The file's measures, block against control: the circuit's rate x20 or more after
    the block (identical before); 1-40 Hz power x4 or more on the parahippocampal contacts
    and x3 or more on the right temporal sensors (measured: GPH6-8 +14.4 dB, TP10, P8, FT10
    +14.7 dB)."""
    b, c = runs["gaba_block"]["measures"], runs["control"]["measures"]
    assert b["hc_rate_before"] == c["hc_rate_before"]
    assert b["hc_rate_after"] > 20 * c["hc_rate_after"]
    print({k: b[k] / c[k] for k in b})
    assert b["seeg_power_gph"] > 4 * c["seeg_power_gph"]
    assert b["eeg_power_right_temporal"] > 3 * c["eeg_power_right_temporal"]
