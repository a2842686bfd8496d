"""multiscale sweep: variants from --set and the file, validated first, one output each,
a summary table whose numbers reflect what was swept."""

import csv

import numpy as np
import pytest

from multiscale.config import ConfigError
from multiscale.sweep import parse_sets, run_sweep, variants

EXP = """
name: sw
seed: 1
duration: 3 s
connectome: {source: {weights: w.npy, lengths: l.npy}}
regions: {model: jansen_rit, parameters: {v0: 6 mV}, integrator: {noise: {y4: 1.0e-3}}}
record: {eeg: null}
sweep:
  regions.parameters.B: [22, 30]
"""


@pytest.fixture()
def exp(tmp_path):
    np.save(tmp_path / "w.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
    np.save(tmp_path / "l.npy", np.full((2, 2), 30.0))
    p = tmp_path / "sw.yaml"
    p.write_text(EXP)
    return p


def test_variants_are_the_product_of_file_and_command_line(exp):
    v = variants(exp, parse_sets(["seed=1,2"]))
    assert [label for label, _ in v] == [
        "B=22__seed=1",
        "B=22__seed=2",
        "B=30__seed=1",
        "B=30__seed=2",
    ]
    assert parse_sets(["a={x: 1, y: 2},[1, 2]"]) == {"a": [{"x": 1, "y": 2}, [1, 2]]}


def test_every_variant_is_validated_before_any_runs(exp, tmp_path):
    with pytest.raises(ConfigError, match="regions.parameters.A"):
        run_sweep(exp, parse_sets(["regions.parameters.A=3.25,x"]), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_sweep_runs_and_summarises(exp, tmp_path):
    result = run_sweep(exp, {}, tmp_path / "out", jobs=2)
    assert result.failed == {}
    with open(result.summary) as fh:
        rows = list(csv.DictReader(fh))
    peak = {
        r["variant"]: float(r["power"])
        for r in rows
        if r["group"] == "regions:all" and r["band"] == "peak_hz"
    }
    # Jansen-Rit: B = 22 mV alpha (10-11.5 Hz), B = 30 mV slow (4-6 Hz), docs/science.md
    assert 10.0 <= peak["B=22"] <= 11.5 and 4.0 <= peak["B=30"] <= 6.0
    assert (tmp_path / "out" / "B=22.h5").exists() and (
        tmp_path / "out" / "comparison.png"
    ).exists()
    assert not (tmp_path / "out" / "measures.csv").exists()  # none declared


def test_declared_measures_are_tabled_per_variant_against_the_reference(exp, tmp_path):
    text = exp.read_text() + (
        "measures:\n  - {name: peak, kind: peak_frequency, signal: regions, window: [1 s, 3 s]}\n"
    )
    exp.write_text(text.replace("[22, 30]", "[30, 22]"))  # the reference: the first, B = 30
    result = run_sweep(exp, {}, tmp_path / "out")
    with open(tmp_path / "out" / "measures.csv") as fh:
        rows = {r["variant"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"B=30", "B=22"}
    slow, alpha = float(rows["B=30"]["value"]), float(rows["B=22"]["value"])
    assert 4.0 <= slow <= 6.0 and 10.0 <= alpha <= 11.5 and rows["B=22"]["unit"] == "Hz"
    assert float(rows["B=30"]["ratio_to_B=30"]) == 1.0
    assert float(rows["B=22"]["ratio_to_B=30"]) == pytest.approx(alpha / slow)
    assert result.summary is not None


def test_named_conditions_change_several_fields_together(exp):
    exp.write_text(
        EXP.replace(
            "sweep:\n",
            "sweep:\n  conditions:\n    control: {regions.parameters.A: 3.25}\n"
            "    slowed: {regions.parameters.A: 3.5, duration: 2 s}\n",
        )
    )
    v = variants(exp, {})
    assert [label for label, _ in v] == [
        "control__B=22",
        "control__B=30",
        "slowed__B=22",
        "slowed__B=30",
    ]
    assert v[3][1] == {"regions.parameters.A": 3.5, "duration": "2 s", "regions.parameters.B": 30}
    exp.write_text(EXP.replace("sweep:\n", "sweep:\n  conditions: [a, b]\n"))
    with pytest.raises(ConfigError, match="sweep.conditions"):
        variants(exp, {})


def test_summary_has_each_circuit_population_activity(tmp_path):
    """A population firing in a 20 Hz rhythm: its row shows the beta band and the mean rate
    per cell (10 cells, one spike each per cycle: 20 Hz)."""
    import h5py

    from multiscale.sweep import band_table

    path = tmp_path / "v.h5"
    with h5py.File(path, "w") as f:
        f.attrs["duration_ms"] = 3000.0
        f.create_dataset("regions/data", data=np.zeros((3000, 2))).attrs["sampling_rate"] = 1e3
        g = f.create_group("circuits/c")
        g.attrs["region_index"] = 1
        f.create_dataset("circuits/c/rate", data=np.zeros(3000)).attrs["sampling_rate"] = 1e3
        times = np.repeat(np.arange(0.0, 3000.0, 50.0), 10)  # every 50 ms, all 10 cells
        f.create_dataset("circuits/c/spikes/P/times", data=times)
        f["circuits/c/spikes/P"].attrs["n_cells"] = 10
    rows = {(r["group"], r["band"]): r for r in band_table(path)}
    assert rows[("spikes:c:P", "mean")]["power"] == pytest.approx(20.0)
    beta = rows[("spikes:c:P", "beta")]["relative"]
    assert beta > max(rows[("spikes:c:P", b)]["relative"] for b in ("delta", "theta", "alpha"))
    assert np.isnan(rows[("regions:c", "alpha")]["relative"])  # a silent source: no 0/0 warning


def test_a_failing_variant_does_not_stop_the_others(exp, tmp_path):
    """One condition diverges: the other is still run and summarised, the failure is
    named, the command exits 1 without a traceback, and the control's output records the
    configuration it ran (no stimulus)."""
    import subprocess
    import sys

    import h5py

    exp.write_text(
        EXP.replace("duration: 3 s", "duration: 1 s").replace(
            "sweep:\n  regions.parameters.B: [22, 30]\n",
            "stimuli: [{name: kick, regions: [0], variable: y4, kind: step, amplitude: 1.0,"
            " at: 200 ms}]\n"
            "sweep:\n  conditions:\n    control: {stimuli: []}\n"
            "    blowup: {stimuli.0.amplitude: 1.0e+307}\n",
        )
    )
    proc = subprocess.run(
        [sys.executable, "-m", "multiscale.cli", "sweep", str(exp), "--out", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "variant blowup did not complete (failed: " in proc.stderr and "diverged" in proc.stderr
    with open(tmp_path / "out" / "summary.csv") as fh:
        assert {r["variant"] for r in csv.DictReader(fh)} == {"control"}
    with h5py.File(tmp_path / "out" / "control.h5") as f:
        assert "stimuli: []" in f.attrs["config"] and "kick" in f.attrs["config_as_written"]
    assert (tmp_path / "out" / "blowup.partial.h5").exists()


def test_the_reference_condition_can_be_named(exp):
    """``sweep.reference`` names the condition the others are compared with (measures.csv's
    ratios, the topographies); a name that is not a condition is an error before any run."""
    from multiscale.config import load_experiment
    from multiscale.sweep import named_reference, reference_variant

    conditions = (
        "sweep:\n  reference: slowed\n  conditions:\n    control: {regions.parameters.A: 3.25}\n"
        "    slowed: {regions.parameters.A: 3.5}\n"
    )
    exp.write_text(EXP.replace("sweep:\n", conditions))
    labels = [label for label, _ in variants(exp, {})]
    assert named_reference(exp) == "slowed"
    assert reference_variant(labels, named_reference(exp)) == "slowed__B=22"
    assert reference_variant(labels) == "control__B=22"  # unnamed: the control
    load_experiment(exp)
    exp.write_text(
        EXP.replace("sweep:\n", conditions.replace("reference: slowed", "reference: slow"))
    )
    with pytest.raises(ConfigError, match=r"sweep.reference: got 'slow'; expected one of"):
        load_experiment(exp)
