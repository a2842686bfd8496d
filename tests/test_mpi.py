"""Real MPI jobs (mpiexec from the environment, through a subprocess): the same numbers on
1, 2 and 3 ranks, placement, per-rank output, and failures that stop the whole job."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from experiment_harness import start_writing

from multiscale.outputs import open_output
from multiscale.placement import place

pytestmark = pytest.mark.mpi

BIN = Path(sys.executable).parent
MPIEXEC = shutil.which("mpiexec", path=str(BIN)) or shutil.which("mpiexec")
MULTISCALE = shutil.which("multiscale", path=str(BIN))

EXPERIMENT = """
name: mpi
seed: 11
duration: 300 ms
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
  integrator: {{noise: {{y4: 1.0e-3}}}}
circuits:
  - {{name: a, model: {model_a}, region: R1, parameters: {{n_E: 120, n_I: 30}}, input_gain: 100}}
  - {{name: b, model: ei_network, region: R2, parameters: {{n_E: 80, n_I: 20}}, input_gain: 100}}
  - {{name: c, model: ei_network, region: R3, parameters: {{n_E: 60, n_I: 15}}, input_gain: 100}}
perturbations:
  - {{circuit: b, knob: g_GABA, scale: 0.5, at: 100 ms}}
record: {{eeg: {{file: lf.npz, unit: V/(A m)}}}}
brian: {{target: numpy}}
output: {{path: out.h5, figures: false}}
"""

FAILING_CIRCUIT = '''
from multiscale.circuits.ei_network import EINetwork


class Exploding(EINetwork):
    """Blows up at t = 100 ms (injected failure)."""

    def collect_window(self, start_ms, n_bins):
        if start_ms >= 100.0:
            raise FloatingPointError("circuit a diverged (injected)")
        return super().collect_window(start_ms, n_bins)
'''


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("mpi")
    W = np.zeros((5, 5))
    for i, j in [(1, 0), (2, 0), (3, 1), (2, 1), (4, 3), (0, 4), (3, 2), (1, 2)]:
        W[i, j] = 1.0
    np.save(d / "w.npy", W)
    np.save(d / "l.npy", np.full((5, 5), 12.0))  # 4 ms at 3 m/s
    gain = np.random.default_rng(0).normal(size=(8, 5))
    np.savez(d / "lf.npz", gain=gain, channels=np.array([f"S{i}" for i in range(8)]))
    (d / "x.yaml").write_text(EXPERIMENT.format(model_a="ei_network"))
    (d / "fail.yaml").write_text(EXPERIMENT.format(model_a="exploding.py:Exploding"))
    (d / "exploding.py").write_text(FAILING_CIRCUIT)
    (d / "bad.yaml").write_text(EXPERIMENT.format(model_a="ei_network").replace("300 ms", "3 Hz"))
    return d


def launch(workdir, n, yaml, out, timeout=600):
    cmd = [MULTISCALE, "run", yaml, "-q", "--no-figures", "-o", out]
    if n > 1:
        cmd = [MPIEXEC, "-n", str(n), *cmd]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    t0 = time.perf_counter()
    proc = subprocess.run(
        cmd, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env
    )
    return proc, time.perf_counter() - t0


@pytest.fixture(scope="module")
def runs(workdir):
    assert MPIEXEC, "mpiexec not found: install with the 'mpich' extra (see README)"
    out = {}
    for n in (1, 2, 3):
        proc, _ = launch(workdir, n, "x.yaml", f"n{n}.h5")
        assert proc.returncode == 0, proc.stderr[-3000:]
        out[n] = proc
    return out


KEYS = [
    "eeg/data",
    "regions/data",
    *[f"circuits/{c}/{v}" for c in "abc" for v in ("rate", "field")],
    *[f"circuits/{c}/spikes/{p}/{v}" for c in "abc" for p in "EI" for v in ("times", "indices")],
]


@pytest.mark.parametrize("n", [2, 3])
def test_same_numbers_on_any_rank_count(workdir, runs, n):
    with h5py.File(workdir / "n1.h5") as ref, h5py.File(workdir / f"n{n}.h5") as f:
        assert f.attrs["complete"]
        for key in KEYS:
            assert len(ref[key]) > 0, key
            np.testing.assert_array_equal(ref[key][:], f[key][:], err_msg=key)
        assert list(ref["perturbations"][:]) == list(f["perturbations"][:])


def test_placement_is_printed_written_and_spread(workdir, runs):
    text = runs[3].stdout
    assert "placement on 3 rank(s)" in text
    with h5py.File(workdir / "n3.h5") as f:
        placement = f.attrs["placement"]
    assert placement in text
    # largest circuit (a) off the engine's rank; one circuit per rank
    assert "circuit a on rank 1" in placement and "circuit b on rank 2" in placement
    assert "circuit c on rank 0" in placement
    # spikes of other ranks' circuits live in per-rank files that the main file links to
    assert (workdir / "n3.rank1.h5").exists() and (workdir / "n3.rank2.h5").exists()
    with h5py.File(workdir / "n3.h5") as f:
        link = f["circuits/a"].get("spikes", getlink=True)
        assert isinstance(link, h5py.ExternalLink) and link.filename == "n3.rank1.h5"


def test_bad_file_is_reported_once_before_anything_runs(workdir):
    proc, _ = launch(workdir, 2, "bad.yaml", "bad.h5", timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.count("problem(s) in the experiment file") == 1
    assert "duration: got '3 Hz'" in proc.stderr
    assert not (workdir / "bad.h5").exists()


def test_failure_on_one_rank_stops_every_rank(workdir):
    proc, wall = launch(workdir, 3, "fail.yaml", "fail.h5", timeout=300)
    assert proc.returncode != 0
    assert proc.stderr.count("circuit a diverged (injected)") >= 1
    assert proc.stderr.count("rank 1 failed; stopping all ranks") == 1
    assert not (workdir / "fail.h5").exists()
    with h5py.File(workdir / "fail.partial.h5") as f:
        assert not f.attrs["complete"]


def test_balanced_placement_by_size():
    p = place({"big": 4000, "mid": 2000, "s1": 1000, "s2": 1000}, 3, engine_cost=501)
    assert p.circuits == {"big": 1, "mid": 2, "s1": 0, "s2": 0}
    p1 = place({"x": 10, "y": 10}, 1, engine_cost=6)
    assert set(p1.circuits.values()) == {0}


def start_long(
    workdir: Path, out: str, n: int = 3, duration: str = "20 s", extra: str = ""
) -> subprocess.Popen:
    """A run of ``duration`` on n ranks in the background, returned once its main file
    holds a flushed second."""
    yaml = f"long_{out}.yaml"
    (workdir / yaml).write_text(
        EXPERIMENT.format(model_a="ei_network").replace("300 ms", duration) + extra
    )
    cmd = [MULTISCALE, "run", yaml, "-q", "--no-figures", "-o", out]
    cmd = [MPIEXEC, "-n", str(n), *cmd] if n > 1 else cmd
    partial = workdir / out.replace(".h5", ".partial.h5")
    return start_writing(cmd, workdir, partial, 1000, timeout=300)


def rank_pids(proc: subprocess.Popen) -> dict[int, int]:
    """MPI rank -> process id of the job started by ``proc`` (from PMI_RANK)."""
    out, todo = {}, [proc.pid]
    while todo:  # mpiexec -> its proxy -> the ranks
        pid = todo.pop()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        todo += [int(c) for c in children]
        env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        ranks = [e.split(b"=", 1)[1] for e in env if e.startswith(b"PMI_RANK=")]
        if ranks:
            out[int(ranks[0])] = pid
    return out


def all_files(workdir: Path, stem: str) -> list[Path]:
    return [workdir / f"{stem}.partial.h5", *sorted(workdir.glob(f"{stem}.partial.rank*.h5"))]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_to_mpiexec_stops_every_rank_at_one_boundary(workdir, runs, sig):
    stem = f"stop{sig.value}"
    proc = start_long(workdir, f"{stem}.h5")
    t0 = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert time.monotonic() - t0 < 10.0
    assert proc.returncode != 0
    assert f"stopped by {sig.name}" in err and "Traceback" not in err
    files = all_files(workdir, stem)
    assert len(files) == 3  # the main file and two rank files
    with h5py.File(files[0]) as f:  # closed properly: plain h5py opens them all
        assert not f.attrs["complete"] and f.attrs["ended"] == f"stopped by {sig.name}"
        held = f.attrs["simulated_ms"]
        assert f["regions/data"].shape[0] == held
        assert f["circuits/a/rate"].shape[0] == held  # 1 ms bins, every boundary recorded
        spikes = f["circuits/a/spikes/E/times"][:]  # through the link to rank 1's file
        assert 0 < spikes.max() < held
    for path in files[1:]:
        with h5py.File(path) as f:
            assert not f.attrs["complete"]


CHECKPOINTED = "checkpoint: {every: 1 s}\n"


@pytest.fixture(scope="module")
def six_seconds(workdir):
    """The 3-circuit experiment over 6 s, uninterrupted, on one process."""
    (workdir / "six.yaml").write_text(
        EXPERIMENT.format(model_a="ei_network").replace("300 ms", "6 s") + CHECKPOINTED
    )
    proc, _ = launch(workdir, 1, "six.yaml", "six.h5")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return workdir / "six.h5"


@pytest.mark.parametrize("n_cut, n_resume", [(3, 2), (1, 3)])
def test_a_run_stopped_on_n_ranks_resumes_on_another_count_to_the_bit(
    workdir, six_seconds, n_cut, n_resume
):
    from test_checkpoint import assert_same_output

    stem = f"cut{n_cut}{n_resume}"
    proc = start_long(workdir, f"{stem}.h5", n=n_cut, duration="6 s", extra=CHECKPOINTED)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "multiscale resume" in err, err[-2000:]
    cmd = [MULTISCALE, "resume", f"{stem}.partial.h5", "-q", "--no-figures"]
    if n_resume > 1:
        cmd = [MPIEXEC, "-n", str(n_resume), *cmd]
    done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "starting from the checkpoint at" in done.stdout
    assert not list(workdir.glob(f"{stem}.partial*"))
    assert_same_output(six_seconds, workdir / f"{stem}.h5")


def newest_checkpoint_ms(folder: Path) -> float:
    from multiscale.checkpoint import available

    try:
        return max((c.t_ms for c in available(folder)), default=0.0)
    except (OSError, ValueError):  # a set being replaced as we look
        return 0.0


@pytest.mark.parametrize("rank, checkpoints", [(0, 1), (1, 2)])
def test_kill_9_of_one_rank_leaves_readable_files_and_resumes(
    workdir, six_seconds, rank, checkpoints
):
    """kill -9 of the engine's rank after the first checkpoint, of a circuit's rank after
    the second: the job ends, every file opens, and the run resumes (on 2 ranks) to the
    same output as the uninterrupted one."""
    from test_checkpoint import assert_same_output

    stem = f"kill{rank}"
    proc = start_long(workdir, f"{stem}.h5", n=3, duration="6 s", extra=CHECKPOINTED)
    folder = workdir / f"{stem}.checkpoints"
    deadline = time.monotonic() + 120
    while newest_checkpoint_ms(folder) < 1000.0 * checkpoints:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    os.kill(rank_pids(proc)[rank], signal.SIGKILL)
    t0 = time.monotonic()
    proc.communicate(timeout=120)
    assert time.monotonic() - t0 < 10.0 and proc.returncode != 0
    files = all_files(workdir, stem)
    assert len(files) == 3
    for path in files:
        with open_output(path) if path == files[0] else h5py.File(path, "r", swmr=True) as f:
            assert not f.attrs["complete"]
            if path == files[0]:
                assert f["regions/data"].shape[0] >= 1000
            else:
                assert sum(len(f[f"circuits/{c}/spikes/E/times"]) for c in f["circuits"]) > 0
    cmd = [MPIEXEC, "-n", "2", MULTISCALE, "resume", f"{stem}.partial.h5", "-q", "--no-figures"]
    done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_output(six_seconds, workdir / f"{stem}.h5")


FIT = """
name: fitmpi
seed: 5
duration: 1200 ms
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
  integrator: {{noise: {{y4: 1.0e-3}}}}
circuits:
  - {{name: b, model: ei_network, region: R2, parameters: {{n_E: 80, n_I: 20, g_GABA: 0.5}},
     input_gain: 100}}
record: {{eeg: {{file: lf.npz, unit: V/(A m)}}, spikes: false}}
brian: {{target: numpy}}
output: {{path: target.h5, figures: false}}
fit:
  target: {{eeg: target.h5}}
  free:
    circuits.0.parameters.g_GABA: {{min: 0.2, max: 1.5}}
  budget: {{evaluations: 8}}
  population: 4
  skip: 200 ms
"""


MASSES_ONLY = FIT.format().split("circuits:")[0] + "record:" + FIT.format().split("record:")[1]


@pytest.mark.parametrize("kind", ["circuit", "masses"])
def test_a_fit_over_ranks_gives_the_single_process_fit(workdir, kind):
    """Candidates are dealt over the ranks (with a circuit: each run on one rank; masses
    only: a share of the batch per rank); every rank runs the optimiser, rank 0 writes: the
    table is the single-process fit's, row for row."""
    text = (
        FIT.format()
        if kind == "circuit"
        else MASSES_ONLY.replace(
            "circuits.0.parameters.g_GABA: {min: 0.2, max: 1.5}",
            "regions.parameters.B: {min: 15, max: 35}",
        )
    )
    assert ("circuits:" in text) == (kind == "circuit")
    (workdir / "fit.yaml").write_text(text.replace("target.h5", f"target_{kind}.h5"))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    made = subprocess.run(
        [MULTISCALE, "run", "fit.yaml", "-q"], cwd=workdir, capture_output=True, text=True, env=env
    )
    assert made.returncode == 0, made.stderr[-2000:]
    tables = {}
    for n in (1, 2):
        cmd = [MULTISCALE, "fit", "fit.yaml", "-o", f"fit{kind}{n}"]
        cmd = [MPIEXEC, "-n", str(n), *cmd] if n > 1 else cmd
        proc = subprocess.run(
            cmd, cwd=workdir, capture_output=True, text=True, env=env, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert proc.stdout.count("generation 1:") == 1  # one report, not one per rank
        assert ("(batched," in proc.stdout) == (kind == "masses")
        tables[n] = (workdir / f"fit{kind}{n}" / "evaluations.csv").read_text()
    assert tables[1] == tables[2] and tables[1].count("\n") == 9
