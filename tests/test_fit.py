"""multiscale fit: the fit section's checks, channel matching, features, and a small fit
end to end (files, the twin, resume after a kill reproducing the uninterrupted fit, the
directory's safety rules, Ctrl-C)."""

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from fit_files import brain, brain_fields

from multiscale import api
from multiscale.cli import main
from multiscale.config import ConfigError, load_experiment
from multiscale.fit import features as feat
from multiscale.fit.run import FitError, fit, predict_again
from multiscale.fit.signals import SensorData
from multiscale.fit.spec import Feature
from multiscale.fit.target import match, normalised
from multiscale.yaml_safe import loads

FIT = """
fit:
  target: {{eeg: {target}}}
  features: [{{kind: log_spectrum, band: [2 Hz, 30 Hz]}}]
  free:
    regions.parameters.B: {{min: 15 mV, max: 35 mV}}
  budget: {{evaluations: {evaluations}}}
  population: 4
  skip: 0.5 s
"""


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    """A recording of the brain at B = 25 mV (seed 11), 6 s, as an output file."""
    folder = tmp_path_factory.mktemp("target")
    exp = api.experiment(brain_fields("patient", 11, "6 s", "{B: 25 mV}"), base_dir=folder)
    return api.run(exp, folder / "patient.h5").path


def _twin(folder, target, evaluations=8, **extra):
    text = brain("twin", 3, "2 s", "{B: 22 mV}") + FIT.format(
        target=target, evaluations=evaluations
    )
    for key, value in extra.items():
        text = text.replace(key, value)
    path = folder / "twin.yaml"
    path.write_text(text)
    return path


# --- the fit section ---------------------------------------------------------------------
def test_every_problem_of_the_fit_section_is_named_at_once(tmp_path, target, capsys):
    path = _twin(
        tmp_path,
        target,
        **{
            "max: 35 mV": "max: 35 s",
            "kind: log_spectrum": "kind: log_spectra",
            "evaluations: 8": "evals: 8",
        },
    )
    assert main(["fit", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    for expected in (
        "fit.free.regions.parameters.B.max: got '35 s'",
        "fit.features[0].kind: got 'log_spectra'",
        "(did you mean 'log_spectrum'?)",
        "fit.budget.evals: unknown field",
        str(path),
    ):
        assert expected in err
    assert not (tmp_path / "out").exists()  # nothing written, nothing run


def test_a_free_path_the_experiment_refuses_is_reported(tmp_path, target, capsys):
    path = _twin(tmp_path, target, **{"regions.parameters.B:": "regions.parameters.BB:"})
    assert main(["fit", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "fit.free" in err and "regions.parameters.BB: unknown parameter" in err


def test_a_missing_or_unreadable_recording_is_reported(tmp_path, target, capsys):
    path = _twin(tmp_path, tmp_path / "nothere.edf")
    assert main(["fit", str(path)]) == 2
    assert "fit.target.eeg: got" in capsys.readouterr().err
    (tmp_path / "junk.edf").write_text("not an EDF file")
    path = _twin(tmp_path, tmp_path / "junk.edf")
    assert main(["fit", str(path)]) == 2
    assert "expected a recording MNE can read" in capsys.readouterr().err


def test_the_experiment_must_record_the_target_kind(tmp_path, target):
    path = _twin(tmp_path, target, **{"eeg: tvb65": "eeg: null"})
    with pytest.raises(ConfigError, match="record.eeg is off"):
        fit(path, tmp_path / "out", log=lambda _: None)


# --- channels and features ----------------------------------------------------------------
def test_channel_names_are_matched_across_recording_systems():
    assert [normalised(n) for n in ["EEG Fp1-REF", "FP1", "Fp1-A1", "T3", "EEG T5-LE", "Cz"]] == [
        "FP1",
        "FP1",
        "FP1",
        "T7",
        "P7",
        "CZ",
    ]
    m = match(
        ["Fp1", "Fp2", "T7", "P7", "Oz"],
        ["EEG FP1-REF", "EEG FP2-REF", "EEG T3-REF", "EEG T5-REF", "EKG", "EEG A1-REF"],
        bad=["EEG FP2-REF"],
        wanted=None,
    )
    assert m.pairs == (("Fp1", "EEG FP1-REF"), ("T7", "EEG T3-REF"), ("P7", "EEG T5-REF"))
    assert m.bad == ("EEG FP2-REF",)
    assert m.unmatched == ("EKG", "EEG A1-REF")
    assert m.missing == ("Oz",)


def _signals(x, fs=250.0):
    return SensorData("eeg", tuple(f"c{k}" for k in range(x.shape[1])), x, "uV", fs)


def test_features_measure_what_they_say():
    fs = 250.0
    t = np.arange(int(20 * fs)) / fs
    rng = np.random.default_rng(0)
    sine = np.sin(2 * np.pi * 10.3 * t)
    x = np.c_[sine, 2 * sine] + 0.1 * rng.standard_normal((len(t), 2))
    peak, spectrum, env = feat.compute(
        (
            Feature("peak_frequency", band_hz=(5.0, 15.0)),
            Feature("log_spectrum", band_hz=(2.0, 30.0)),
            Feature("envelope_connectivity", band_hz=(8.0, 13.0)),
        ),
        _signals(x, fs),
    )
    assert np.allclose(peak, 10.3, atol=0.1)  # parabola-refined, 1 Hz bins
    # the second channel has 4x the power: log10(4) = 0.60 above the first at the peak
    k = np.argmax(spectrum[0])
    assert spectrum[1, k] - spectrum[0, k] == pytest.approx(np.log10(4), abs=0.02)
    assert env.shape == (1,) and env[0] > 0.5  # one pair, envelopes of the same sine
    # an evoked response: a 20 uV bump 30 ms after each of 19 stimuli, 1 s apart
    y = 0.5 * rng.standard_normal((len(t), 1))
    for s in range(19):
        i = int((1.0 + s) * fs) + int(0.03 * fs)
        y[i : i + 5, 0] += 20.0
    (ev,) = feat.compute(
        (Feature("evoked", first_ms=1000, every_ms=1000, after_ms=100),), _signals(y)
    )
    assert ev.shape == (1, 25) and ev[0, 7:12].min() > 15 and np.abs(ev[0, :6]).max() < 2


def test_the_loss_is_zero_for_the_target_itself_and_grows_with_a_difference():
    rng = np.random.default_rng(1)
    x = _signals(rng.standard_normal((2500, 3)))
    fs = (Feature("log_spectrum"), Feature("band_power"))
    a = feat.compute(fs, x)
    assert np.all(feat.terms(fs, a, a) == 0)
    b = feat.compute(fs, _signals(2 * x.data))  # 4x the power: log10(4) everywhere
    assert feat.terms(fs, b, a) == pytest.approx([np.log10(4) ** 2] * 2, rel=1e-9)


def test_source_features_estimate_each_region_in_nA_m():
    """A recording of 4 regions (two active: 20 nA m at 10 Hz, 50 nA m at 4 Hz) through a
    12-channel lead field: the beamformer has unit gain at each region it estimates (and
    lets 1.6 % of the other through: the regularisation), and the estimates follow the
    active regions' moments in nA m."""
    from multiscale.fit.source_space import beamformer, on_sources

    rng = np.random.default_rng(2)
    fs = 250.0
    t = np.arange(int(20 * fs)) / fs
    G = rng.standard_normal((12, 4)) * 50.0  # V/(A m)
    s = np.zeros((len(t), 4))  # nA m
    s[:, 0] = 20.0 * np.sin(2 * np.pi * 10 * t)
    s[:, 1] = 50.0 * np.sin(2 * np.pi * 4 * t)
    s[:, 2:] = rng.standard_normal((len(t), 2))
    y = (s * 1e-9) @ G.T * 1e6 + 0.01 * rng.standard_normal((len(t), 12))  # uV
    names = tuple(f"c{k}" for k in range(12))
    target = SensorData("seeg", names, y, "uV", fs, G, ("r0", "r1", "r2", "r3"))
    w = beamformer(target, ("r0", "r1"))
    gains = w.T @ G[:, :2]
    assert np.diag(gains) == pytest.approx([1.0, 1.0], abs=1e-9)  # unit gain
    assert np.abs(gains[~np.eye(2, dtype=bool)]).max() < 0.05  # little cross-talk
    assert beamformer(target, ("r0", "r1")) is w  # once per recording and regions
    other = SensorData("seeg", names, y[::-1].copy() + 1.0, "uV", fs, G, target.regions)
    assert beamformer(other, ("r0", "r1")) is not w  # another recording, its own weights
    est = on_sources(target, target, ("r1", "r0"))
    assert est.unit == "nA m" and est.channels == ("r1", "r0")
    for k, r in enumerate((1, 0)):
        assert np.corrcoef(est.data[:, k], s[:, r])[0, 1] > 0.99
        assert est.data[:, k].std() == pytest.approx(s[:, r].std(), rel=0.05)
    f = Feature("log_spectrum", band_hz=(2.0, 30.0), sources=("r0", "r1"))
    (spectrum,) = feat.compute_segmented((f,), target, 10.0)
    assert spectrum.shape == (2, 29) and f.label == "log_spectrum[2-30 Hz]@r0+r1"
    assert np.argmax(spectrum[0]) == 8 and np.argmax(spectrum[1]) == 2  # 10 Hz and 4 Hz


def test_a_source_feature_names_regions_of_the_connectome(tmp_path, target, capsys):
    for sources, expected in (
        ("[rV1, nowhere]", "fit.features[0].sources: got 'nowhere'"),
        ("rV1", "fit.features[0].sources: got 'rV1'; expected a list of region labels"),
    ):
        band = "band: [2 Hz, 30 Hz]"
        path = _twin(tmp_path, target, **{band: f"{band}, sources: {sources}"})
        assert main(["fit", str(path), "-o", str(tmp_path / "out")]) == 2
        assert expected in capsys.readouterr().err
        assert not (tmp_path / "out").exists()


# --- a fit end to end -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def fitted(tmp_path_factory, target):
    folder = tmp_path_factory.mktemp("fit")
    path = _twin(folder, target, evaluations=8)
    outcome = fit(path, folder / "out", log=lambda _: None)
    return path, outcome


def test_a_fit_writes_its_table_twin_check_and_report(fitted):
    path, outcome = fitted
    out = outcome.directory
    assert outcome.complete and len(outcome.evaluations) == 8
    with open(out / "evaluations.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"done"}
    losses = [float(r["loss"]) for r in rows]
    assert outcome.best.loss == min(losses)
    assert len({r["seed"] for r in rows}) == 8  # every evaluation its own noise
    state = json.loads((out / "fit.json").read_text())
    assert state["status"] == "complete" and state["evaluations"] == 8
    # the twin runs as it is, with the best value written in
    twin = load_experiment(out / "fitted.yaml")
    b = twin.plan.masses.parameters[0, twin.plan.masses.model.parameter_names().index("B")]
    assert b == pytest.approx(outcome.fitted[0], rel=1e-9)
    assert "fit" not in (out / "fitted.yaml").read_text().split("\n# ")[-1].split("\n", 1)[1]
    with h5py.File(out / "fit.h5") as f:
        assert f["evaluations/loss"].shape == (8,)
        for name, ds in _datasets(f):
            assert "unit" in ds.attrs, name
        assert f["check/loss"].shape == (3,)
    assert len(list((out / "check").glob("*.h5"))) == 3
    for figure in ("loss", "parameters", "spectra", "topomaps"):
        assert (out / "report" / f"{figure}.png").stat().st_size > 10_000


def _datasets(f):
    found = []
    f.visititems(lambda n, o: found.append((n, o)) if isinstance(o, h5py.Dataset) else None)
    return [(n, o) for n, o in found if o.dtype.kind != "O"]


def test_resume_after_a_kill_reproduces_the_uninterrupted_fit(fitted, tmp_path):
    path, outcome = fitted
    cut = tmp_path / "cut"
    shutil.copytree(outcome.directory, cut)
    for name in ("fitted.yaml", "fit.h5"):
        (cut / name).unlink()
    shutil.rmtree(cut / "check")
    lines = (cut / "evaluations.csv").read_text().splitlines(keepends=True)
    # a kill during the second generation's write: its first row half written
    (cut / "evaluations.csv").write_text("".join(lines[:5]) + lines[5][:20])
    state = json.loads((cut / "fit.json").read_text())
    (cut / "fit.json").write_text(json.dumps({**state, "status": "stopped"}))
    again = fit(resume=cut, log=lambda _: None)
    assert again.complete
    assert (cut / "evaluations.csv").read_text() == (
        outcome.directory / "evaluations.csv"
    ).read_text()


def test_a_crash_while_writing_the_outputs_is_finished_by_resume(
    fitted, tmp_path, target, monkeypatch
):
    """A full disk (or any crash) after the search, while the twin's check runs, fit.h5 or
    the report are written, leaves the fit "searched": --resume writes them without
    searching again (the same table), and only then is the fit complete."""
    from multiscale.fit import report

    path, outcome = fitted
    out = tmp_path / "out"

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "report_figures", full)
    with pytest.raises(OSError, match="No space left"):
        fit(path, out, log=lambda _: None)
    assert json.loads((out / "fit.json").read_text())["status"] == "searched"
    monkeypatch.undo()
    again = fit(resume=out, log=lambda _: None)
    assert again.complete and len(again.evaluations) == 8
    assert json.loads((out / "fit.json").read_text())["status"] == "complete"
    table = (out / "evaluations.csv").read_text()
    assert table == (outcome.directory / "evaluations.csv").read_text()
    assert len(list((out / "check").glob("*.h5"))) == 3
    assert (out / "report" / "loss.png").exists()


def test_a_fit_directory_is_never_overwritten_by_mistake(fitted, tmp_path):
    path, outcome = fitted
    with pytest.raises(FitError, match="holds a fit already"):
        fit(path, outcome.directory, log=lambda _: None)
    with pytest.raises(FitError, match="complete already"):
        fit(resume=outcome.directory, log=lambda _: None)
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(FitError, match="not empty and not a fit directory"):
        fit(path, other, log=lambda _: None)
    assert (other / "notes.txt").read_text() == "mine"


def test_ctrl_c_stops_after_a_generation_and_resume_finishes(fitted, tmp_path, target):
    path = _twin(tmp_path, target, evaluations=40)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "multiscale.cli", "fit", str(path), "-o", str(out)]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    lines = []
    for line in proc.stdout:  # wait for the first generation to be on disk
        lines.append(line)
        if line.startswith("generation 0"):
            break
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=120)
    text = "".join(lines) + rest
    assert proc.returncode == 130, text
    assert "continue with: multiscale fit --resume" in text
    state = json.loads((out / "fit.json").read_text())
    assert state["status"] == "stopped" and 4 <= state["evaluations"] < 40
    with open(out / "evaluations.csv") as fh:
        assert len(list(csv.DictReader(fh))) == state["evaluations"]


PREDICT = """
predict:
  candidates: 2
  interventions:
    tone40:
      stimuli: [{name: tone, regions: [rPFCDL], variable: y4, kind: sinusoid,
                 frequency: 40 Hz, amplitude: 20 mV/ms/ms}]
"""


def test_predict_runs_an_intervention_on_the_best_candidates(fitted):
    path, outcome = fitted
    original = path.read_text()
    try:
        path.write_text(original + PREDICT.replace("rPFCDL", "nowhere"))
        with pytest.raises(ConfigError, match="predict.interventions.tone40"):
            predict_again(outcome.directory, log=lambda _: None)
        path.write_text(original + PREDICT)
        (p,) = predict_again(outcome.directory, log=lambda _: None)
    finally:
        path.write_text(original)
    assert len(p.change_db) == 2  # two candidates, each paired with its own twin run
    gamma = [np.mean(c["gamma"]) for c in p.change_db]
    alpha = [np.mean(c["alpha"]) for c in p.change_db]
    # a 40 Hz drive of one frontal region: gamma up by tens of dB on the scalp (measured
    # +43 dB), the alpha band within a few dB (measured -0.4 dB: same noise, paired runs)
    assert min(gamma) > 20 and max(np.abs(alpha)) < 3
    folder = outcome.directory / "predict"
    with open(folder / "summary.csv") as fh:
        rows = {r["quantity"]: r for r in csv.DictReader(fh)}
    assert float(rows["eeg:gamma"]["median"]) == pytest.approx(np.median(gamma))
    assert (folder / "tone40.png").exists() and len(list((folder / "tone40").glob("*.h5"))) == 4


def test_a_per_region_range_with_units_maps_to_that_region_alone(tmp_path, target):
    from multiscale.fit.problem import load_problem

    path = _twin(
        tmp_path,
        target,
        **{
            "regions.parameters.B: {min: 15 mV, max: 35 mV}": (
                "regions.parameters.mu: {min: 0.05 1/ms, max: 250 Hz, regions: [rV1, lM1]}"
            ),
            "parameters: {B: 22 mV}": "parameters: {B: 22 mV, mu: 0.15}",
        },
    )
    problem = load_problem(path)
    assert problem.names == ["regions.parameters.mu[rV1]", "regions.parameters.mu[lM1]"]
    # the file's 0.15 /ms is 1/2 of the way from 0.05 to 0.25 /ms: where the search starts
    assert problem.start() == pytest.approx([0.5, 0.5])
    exp = problem.load(problem.overrides(np.array([0.0, 1.0]), seed=5))
    conn, masses = exp.plan.connectome, exp.plan.masses
    mu = masses.parameters[:, masses.model.parameter_names().index("mu")]
    assert mu[conn.index("rV1")] == pytest.approx(0.05)
    assert mu[conn.index("lM1")] == pytest.approx(0.25)  # 250 Hz in the model's 1/ms
    others = np.delete(mu, [conn.index("rV1"), conn.index("lM1")])
    assert np.all(others == 0.15) and exp.seed == 5


def test_optuna_fits_and_resumes_like_cma(fitted, tmp_path, target):
    path = _twin(
        tmp_path, target, evaluations=8, **{"population: 4": "population: 4\n  method: optuna"}
    )
    whole = fit(path, tmp_path / "whole", log=lambda _: None)
    assert whole.complete and np.isfinite(whole.best.loss)
    cut = tmp_path / "cut"
    shutil.copytree(whole.directory, cut)
    lines = (cut / "evaluations.csv").read_text().splitlines(keepends=True)
    (cut / "evaluations.csv").write_text("".join(lines[:5]))  # the first generation only
    state = json.loads((cut / "fit.json").read_text())
    (cut / "fit.json").write_text(json.dumps({**state, "status": "stopped"}))
    fit(resume=cut, log=lambda _: None)
    assert (cut / "evaluations.csv").read_text() == (
        whole.directory / "evaluations.csv"
    ).read_text()


def test_a_simulation_too_short_for_the_spectrum_is_refused(tmp_path, target, capsys):
    path = _twin(tmp_path, target, **{"skip: 0.5 s": "skip: 1.5 s"})  # leaves 0.5 s
    assert main(["fit", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "fit.features[0]: log_spectrum at 1 Hz resolution needs at least 1 s" in err
    assert "leaves 0.5 s" in err


def test_sbi_gives_posterior_samples_and_resumes_to_the_same_table(
    fitted, tmp_path, target, monkeypatch
):
    """The mechanics of method: sbi (tests/validation/test_fit_sbi.py checks calibration):
    prior draws stored as generations, a posterior of samples inside the ranges, written
    with units, and a resumed fit identical to the uninterrupted one."""
    path = _twin(
        tmp_path, target, evaluations=24, **{"population: 4": "population: 8\n  method: sbi"}
    )
    if importlib.util.find_spec("sbi") is None:
        # sbi is an optional extra (torch is heavy): without it the fit is refused, saying
        # how to install it, before anything runs or is written
        with pytest.raises(ConfigError, match='pip install -e ".\\[sbi\\]"'):
            fit(path, tmp_path / "whole", log=lambda _: None)
        assert not (tmp_path / "whole").exists()
        return
    monkeypatch.chdir(tmp_path)
    whole = fit(path, tmp_path / "whole", log=lambda _: None)
    assert whole.complete and whole.posterior_u.shape == (2000, 1)
    assert not (tmp_path / "sbi-logs").exists()  # nothing written where the user stands
    samples = np.loadtxt(tmp_path / "whole" / "posterior.csv", delimiter=",", skiprows=1)
    assert samples.shape == (2000,) and samples.min() >= 15 and samples.max() <= 35
    assert whole.fitted[0] == pytest.approx(np.median(samples), rel=1e-9)
    with h5py.File(tmp_path / "whole" / "fit.h5") as f:
        assert f["posterior/values"].attrs["unit"] == "see /parameters/units"
    cut = tmp_path / "cut"
    shutil.copytree(whole.directory, cut)
    lines = (cut / "evaluations.csv").read_text().splitlines(keepends=True)
    (cut / "evaluations.csv").write_text("".join(lines[:9]))  # the first generation only
    state = json.loads((cut / "fit.json").read_text())
    (cut / "fit.json").write_text(json.dumps({**state, "status": "stopped"}))
    again = fit(resume=cut, log=lambda _: None)
    assert (cut / "evaluations.csv").read_text() == (
        whole.directory / "evaluations.csv"
    ).read_text()
    np.testing.assert_array_equal(again.posterior_u, whole.posterior_u)


def test_batched_and_one_by_one_evaluations_give_the_same_fit(fitted, tmp_path):
    """Masses-only candidates run as one batch by default; one run each gives the same
    table to the last digit (the batch's members are their runs, bit for bit)."""
    path, _ = fitted
    said = {"batched": [], "runs": []}
    outcomes = {
        mode: fit(path, tmp_path / mode, log=said[mode].append, batch=mode == "batched")
        for mode in said
    }
    assert any("(batched," in line for line in said["batched"])
    assert any("(runs," in line for line in said["runs"])
    tables = {mode: (tmp_path / mode / "evaluations.csv").read_text() for mode in said}
    assert tables["batched"] == tables["runs"]
    np.testing.assert_array_equal(outcomes["batched"].fitted, outcomes["runs"].fitted)


def test_a_generation_too_large_for_memory_runs_in_several_batches(fitted, tmp_path, monkeypatch):
    """A batch keeps every member's signals in memory: members_per_batch caps a batch to
    1 GiB (and a quarter of the free memory); a smaller cap gives the same fit."""
    from multiscale.fit import evaluate

    path, outcome = fitted
    assert evaluate.members_per_batch(load_experiment(path)) >= 8  # 2 s members: one batch
    monkeypatch.setattr(evaluate, "BATCH_MEMORY", 1)  # one member per batch
    assert evaluate.members_per_batch(load_experiment(path)) == 1
    fit(path, tmp_path / "small", log=lambda _: None)
    assert (tmp_path / "small" / "evaluations.csv").read_text() == (
        outcome.directory / "evaluations.csv"
    ).read_text()


# --- several target kinds at once ------------------------------------------------------------
def _with_seeg(text: str) -> str:
    return text.replace("eeg: tvb65}", "eeg: tvb65, seeg: tvb}")


@pytest.fixture(scope="module")
def scalp_and_depth(tmp_path_factory):
    """A recording of the brain at B = 25 mV with scalp EEG and SEEG (seed 11, 4 s)."""
    folder = tmp_path_factory.mktemp("depth")
    fields = loads(_with_seeg(brain("patient", 11, "4 s", "{B: 25 mV}")))
    return api.run(api.experiment(fields, base_dir=folder), folder / "patient.h5").path


def test_eeg_and_seeg_are_fitted_at_once_one_term_per_kind(tmp_path, scalp_and_depth):
    """A fit with an EEG and an SEEG target: each feature gives one term per kind unless it
    names its sensor; each term is the one a fit on that kind alone computes (same points,
    same seeds: the first generation of CMA-ES depends only on the seed); the loss is their
    sum; the report draws each kind."""
    p = scalp_and_depth
    both = _with_seeg(_twin(tmp_path, p, evaluations=4).read_text()).replace(
        f"target: {{eeg: {p}}}", f"target: {{eeg: {p}, seeg: {p}}}"
    ).replace(
        "features: [{kind: log_spectrum, band: [2 Hz, 30 Hz]}]",
        "features: [{kind: log_spectrum, band: [2 Hz, 30 Hz]},\n"
        "             {kind: peak_frequency, band: [6 Hz, 14 Hz], sensor: seeg}]",
    )  # fmt: skip
    (tmp_path / "both.yaml").write_text(both)
    outcome = fit(tmp_path / "both.yaml", tmp_path / "both", log=lambda _: None)
    with open(tmp_path / "both" / "evaluations.csv") as fh:
        rows = list(csv.DictReader(fh))
    terms = [c for c in rows[0] if c.startswith("term:")]
    assert terms == [
        "term:0:eeg:log_spectrum[2-30 Hz]",
        "term:1:seeg:log_spectrum[2-30 Hz]",
        "term:2:seeg:peak_frequency[6-14 Hz]",
    ]
    for r in rows:
        assert float(r["loss"]) == pytest.approx(sum(float(r[t]) for t in terms), rel=1e-12)
    # the EEG term is what an EEG-only fit computes at the same points and seeds
    eeg_only = fit(_twin(tmp_path, p, evaluations=4), tmp_path / "eeg", log=lambda _: None)
    assert [e.seed for e in eeg_only.evaluations] == [e.seed for e in outcome.evaluations]
    for a, b in zip(eeg_only.evaluations, outcome.evaluations, strict=True):
        np.testing.assert_array_equal(a.u, b.u)
        assert b.terms[0] == a.terms[0]
        assert b.terms[1] > 0 and b.terms[2] >= 0
    with h5py.File(tmp_path / "both" / "fit.h5") as f:
        assert f.attrs["target"] == f"{p}, {p}"
        assert f["target/feature1"].attrs["unit"] == "log10(uV^2/Hz)"
        assert f["target/feature0"].shape[0] == 63  # every EEG channel a run stores
        assert f["target/feature1"].shape[0] == 588  # every SEEG contact
    for figure in ("spectra_eeg", "spectra_seeg", "topomaps_eeg"):
        assert (tmp_path / "both" / "report" / f"{figure}.png").stat().st_size > 10_000


def test_a_feature_on_a_kind_the_fit_has_no_target_for_is_refused(tmp_path, scalp_and_depth):
    p = scalp_and_depth
    text = _with_seeg(_twin(tmp_path, p).read_text()).replace(
        f"target: {{eeg: {p}}}", f"target: {{eeg: {p}, seeg: {tmp_path / 'none.edf'}}}"
    ).replace("band: [2 Hz, 30 Hz]}", "band: [2 Hz, 30 Hz], sensor: meg}")  # fmt: skip
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(ConfigError) as err:
        fit(tmp_path / "bad.yaml", tmp_path / "out", log=lambda _: None)
    message = str(err.value)
    assert "fit.features[0].sensor: got 'meg'; expected one of ['eeg', 'seeg']" in message
    assert "fit.target.seeg: got" in message and "no such file" in message
