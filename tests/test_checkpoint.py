"""Checkpoint, resume and branch: a run stopped (by a signal, or a crash after a periodic
checkpoint) and resumed from its checkpoint writes the same output, bit for bit, as a run
that was never stopped: masses only (noise, a ramped perturbation, a region stimulus,
BOLD and raw states) and every built-in circuit (numpy target, small sizes). A branch
from another run's checkpoint equals the branched experiment run from the start; files
that do not fit are refused, listing the differences.

Stops are injected in-process at a chosen window boundary (the path a SIGINT takes);
tests/test_output_safety.py and tests/test_mpi.py send real signals."""

from __future__ import annotations

import signal

import h5py
import numpy as np
import pytest
from experiment_harness import write_tiny_connectome
from test_every_circuit_replaces_a_region import SMALL

from multiscale.checkpoint import CheckpointError, at, folder_of, latest, sources_of
from multiscale.config import load_experiment
from multiscale.cosim import Simulation
from multiscale.outputs import OutputFiles
from multiscale.storage import read_log

MASSES = """
name: masses
seed: 8
duration: 1200 ms
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
  integrator: {{noise: {{y4: 1.0e-3}}}}
perturbations:
  - {{name: slow, regions: [R2], parameter: B, scale: 1.3, at: 200 ms, ramp: 600 ms}}
  - {{name: cut, lesion: [R3], at: 900 ms}}
stimuli:
  - {{name: drive, regions: [R0], variable: y4, kind: sinusoid, amplitude: 0.05 mV/ms^2,
     frequency: 8 Hz, at: 100 ms, until: 700 ms}}
record: {{eeg: null, bold: {{tr: 100 ms, reference: 1 s}}, states: [y0, y4]}}
checkpoint: {{every: 250 ms}}
output: {{path: {out}}}
"""

CIRCUIT = """
name: {model}_resumed
seed: 5
duration: 240 ms
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV, mu: 0.22}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
  integrator: {{noise: {{y4: 1.0e-3}}}}
circuits:
  - {{name: c, model: {model}, region: R1, parameters: {parameters}, input_gain: 50,
     output_gain: 0.05, field_gain: 0.01}}
perturbations:
  - {{name: knob, circuit: c, knob: {knob}, scale: 0.5, at: 150 ms}}
record: {{eeg: null}}
checkpoint: {{every: 100 ms}}
brian: {{target: numpy}}
output: {{path: {out}}}
"""

KNOB = {
    "ei_network": "g_GABA",
    "hh_ei_network": "g_GABA",
    "brunel2000": "g",
    "potjans_diesmann": "g_I",
    "qif_population": "J",
    "basal_ganglia": "nu_bg",
}


def datasets(path) -> dict[str, np.ndarray]:
    """Every dataset of an output, following links to rank files."""
    out = {}
    with h5py.File(path) as f:

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                out[name] = obj[()]

        f.visititems(visit)
        for c in f.get("circuits", {}):
            if isinstance(f[f"circuits/{c}"].get("spikes", getlink=True), h5py.ExternalLink):
                f[f"circuits/{c}/spikes"].visititems(
                    lambda n, o, c=c: (
                        out.__setitem__(f"circuits/{c}/spikes/{n}", o[()])
                        if isinstance(o, h5py.Dataset)
                        else None
                    )
                )
    return out


def assert_same_output(ref, other) -> None:
    a, b = datasets(ref), datasets(other)
    log = "perturbations"
    assert set(a) == set(b)
    for name in a:
        if name == log:
            continue
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    # the log: the same changes at the same times (checkpoint rows name their folder)
    keep = [r for r in a[log] if r["name"] not in (b"checkpoint", b"resumed")]
    assert keep == [r for r in b[log] if r["name"] not in (b"checkpoint", b"resumed")]
    assert len(a["regions/data"]) > 0


def stopping_at(boundary: int, how: str):
    """A Simulation subclass that, at ``boundary``, acts as if it received SIGINT there
    ("signal") or crashes there ("crash")."""

    class Stopping(Simulation):
        def _boundary(self, k):
            if k == boundary and how == "signal":
                self._signal = signal.SIGINT
            if k == boundary and how == "crash":
                raise RuntimeError("injected crash")
            return super()._boundary(k)

    return Stopping


def run(path, out, cls=Simulation, **kw):
    exp = load_experiment(path, {"output.path": str(out)})
    sim = cls(exp.plan, progress=False, **kw)
    return sim, sim.run()


def resume(path, out) -> Simulation:
    """What `multiscale resume` does: the latest checkpoint, the unfinished files."""
    exp = load_experiment(path, {"output.path": str(out)})
    files = OutputFiles(out)
    start = latest(folder_of(out))
    sim = Simulation(exp.plan, progress=False, start=start, sources=sources_of(files.partial))
    assert sim.differences_from(start) == []
    assert sim.run()
    return sim


@pytest.fixture
def masses(tmp_path):
    write_tiny_connectome(tmp_path)
    path = tmp_path / "masses.yaml"
    path.write_text(MASSES.format(out="unused.h5"))
    ref = tmp_path / "ref.h5"
    _, ok = run(path, ref)
    assert ok
    return path, ref


def test_a_run_stopped_by_a_signal_resumes_to_the_bit(masses, tmp_path):
    path, ref = masses
    out = tmp_path / "cut.h5"
    sim, ok = run(path, out, stopping_at(47, "signal"))
    assert not ok and sim.interrupted == signal.SIGINT
    # the stop takes effect one boundary later, after a checkpoint there (10 ms windows)
    assert sim.stopped_at_ms == 480.0
    assert latest(folder_of(out)).t_ms == 480.0
    with h5py.File(OutputFiles(out).partial) as f:
        assert not f.attrs["complete"] and f["regions/data"].shape[0] == 480
    resume(path, out)
    assert not OutputFiles(out).partial.exists()
    assert_same_output(ref, out)
    with h5py.File(out) as f:
        log = [(e.time_ms, e.name) for e in read_log(f)]
        assert (480.0, "resumed") in log


def test_a_crashed_run_resumes_from_its_last_periodic_checkpoint(masses, tmp_path):
    path, ref = masses
    out = tmp_path / "crash.h5"
    with pytest.raises(RuntimeError, match="injected crash"):
        run(path, out, stopping_at(63, "crash"))
    assert latest(folder_of(out)).t_ms == 500.0  # every 250 ms: 250 and 500, newest kept
    assert [c.name for c in folder_of(out).iterdir()] == ["t000000000500000us"]
    resume(path, out)
    assert_same_output(ref, out)


def test_a_branch_equals_its_experiment_run_from_the_start(masses, tmp_path):
    """One warm-up (the control, checkpoint kept at 500 ms), a what-if branched from it:
    the same as the what-if run whole."""
    path, _ = masses
    write = tmp_path / "whatif.yaml"
    text = path.read_text()
    write.write_text(text.replace("lesion: [R3], at: 900 ms", "lesion: [R0], at: 600 ms"))
    control = tmp_path / "control.yaml"
    control.write_text(text.replace("checkpoint: {every: 250 ms}", "checkpoint: {keep: [500 ms]}"))
    warm = tmp_path / "warm.h5"
    assert run(control, warm)[1]
    whole = tmp_path / "whole.h5"
    assert run(write, whole)[1]
    branch = tmp_path / "branch.h5"
    start = at(folder_of(warm), 500.0)
    exp = load_experiment(write, {"output.path": str(branch)})
    sim = Simulation(exp.plan, progress=False, start=start, sources=sources_of(warm))
    assert sim.differences_from(start) == []
    assert sim.run()
    assert_same_output(whole, branch)


def test_a_checkpoint_that_does_not_fit_is_refused_with_the_differences(masses, tmp_path):
    path, ref = masses
    start = latest(folder_of(ref))  # the reference kept its last one (1000 ms)
    other = tmp_path / "other.yaml"
    other.write_text(
        path.read_text()
        .replace("seed: 8", "seed: 9")
        .replace("scale: 1.3, at: 200 ms", "scale: 1.5, at: 200 ms")
    )
    exp = load_experiment(other, {"output.path": str(tmp_path / "x.h5")})
    problems = Simulation(exp.plan, progress=False, start=start).differences_from(start)
    text = "\n".join(problems)
    assert "seed: checkpoint 8, now 9" in text
    assert "perturbation 'slow' acts before the checkpoint here only" in text
    with pytest.raises(CheckpointError, match="no checkpoint at 0.3 s; checkpoints there: 1 s"):
        at(folder_of(ref), 300.0)


@pytest.mark.parametrize("model", sorted(SMALL))
def test_every_circuit_resumes_to_the_bit(tmp_path, model):
    write_tiny_connectome(tmp_path)
    parameters = "{" + ", ".join(f"{k}: {v}" for k, v in SMALL[model].items()) + "}"
    path = tmp_path / "c.yaml"
    path.write_text(
        CIRCUIT.format(model=model, parameters=parameters, knob=KNOB[model], out="unused.h5")
    )
    ref = tmp_path / "ref.h5"
    assert run(path, ref)[1]
    out = tmp_path / "cut.h5"
    sim, ok = run(path, out, stopping_at(20, "signal"))
    window = sim.window_steps * sim.dt
    assert not ok and sim.stopped_at_ms == 21 * window
    resume(path, out)
    assert_same_output(ref, out)


def test_resume_and_branch_mistakes_are_messages(masses, tmp_path):
    """Through the command line: exit code 2, the file and the problem named."""
    import subprocess
    import sys

    path, ref = masses

    def cli(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "multiscale.cli", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc

    cases = [
        (("resume", str(ref)), "the run is complete: nothing to resume"),
        (("resume", "nothing.h5"), "no such output"),
        (("run", str(path), "-o", "b.h5", "--from", str(ref)), "--from and --at go together"),
        (("run", str(path), "-o", "b.h5", "--from", str(ref), "--at", "soon"), "--at: got 'soon'"),
        (("run", str(path), "-o", "b.h5", "--from", "nope.h5", "--at", "1 s"), "nope.h5: no such"),
        (("run", str(path), "-o", "b.h5", "--from", str(ref), "--at", "0.3 s"), "no checkpoint at"),
        (
            ("run", str(path), "-o", "b.h5", "--from", str(ref), "--at", "1 s", "--set", "seed=2"),
            "seed: checkpoint 8, now 2",
        ),
    ]
    for args, expected in cases:
        proc = cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert expected in proc.stderr, (args, proc.stderr)
    assert not (tmp_path / "b.h5").exists()


def test_checkpoints_of_a_replaced_output_go_with_it(masses, tmp_path):
    """A run that writes no checkpoint of its own over an output that had some removes
    them: they describe the replaced run, and a later --from would read the wrong data."""
    path, ref = masses
    assert folder_of(ref).is_dir()
    exp = load_experiment(path, {"output.path": str(ref), "checkpoint": {}, "seed": 9})
    assert Simulation(exp.plan, progress=False).run()
    assert not folder_of(ref).exists()
