"""Results are never lost: existing outputs need --overwrite and stay intact until the new
run has completed; foreign files are never written over; a stopped, killed or starved run
leaves readable files marked incomplete; every such case is a message, never a traceback.

Each case runs the real command line in a subprocess, as a user would."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from experiment_harness import start_writing, write_tiny_connectome

from multiscale.outputs import open_output

SHORT = """
name: safe
seed: 3
duration: {duration}
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: jansen_rit
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
  integrator: {{noise: {{y4: 1.0e-3}}}}
stimuli: {stimuli}
record: {{eeg: null}}
output: {{path: out.h5, figures: true}}
"""

#: 76 regions with EEG: long enough (about 1 s of wall time per 2-3 s simulated) to be
#: stopped halfway
LONG = """
name: long
seed: 5
duration: 200 s
regions:
  model: jansen_rit
  parameters: {v0: 6 mV}
  coupling: {kind: sigmoidal_jansen_rit, a: 0.01}
  integrator: {noise: {y4: 1.0e-6}}
output: {path: long.h5, figures: false}
"""

DIVERGING = "[{regions: [R2], variable: y4, kind: step, amplitude: 1.0e+307, at: 300 ms}]"


def cli(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "multiscale.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def no_traceback(proc: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr[-3000:]


@pytest.fixture
def folder(tmp_path):
    write_tiny_connectome(tmp_path)
    (tmp_path / "x.yaml").write_text(SHORT.format(duration="1 s", stimuli="[]"))
    (tmp_path / "bad.yaml").write_text(SHORT.format(duration="1 s", stimuli=DIVERGING))
    (tmp_path / "long.yaml").write_text(LONG)
    return tmp_path


def test_an_existing_output_is_kept_until_a_new_run_completes(folder):
    first = cli("run", "x.yaml", "-q", cwd=folder)
    assert first.returncode == 0, first.stderr
    out = folder / "out.h5"
    with h5py.File(out) as f:
        assert f.attrs["complete"] and f.attrs["format"] == "multiscale-output"
        before = f["regions/data"][:]
    stamp = out.stat().st_mtime_ns

    again = cli("run", "x.yaml", "-q", cwd=folder)
    assert again.returncode == 2
    assert f"{out} already holds an output" in again.stderr and "--overwrite" in again.stderr
    no_traceback(again)
    assert out.stat().st_mtime_ns == stamp

    # a replacement that fails leaves the old result as it was
    failed = cli("run", "bad.yaml", "-q", "--overwrite", cwd=folder)
    assert failed.returncode != 0 and "diverged" in failed.stderr
    no_traceback(failed)
    with h5py.File(out) as f:
        assert f.attrs["complete"]
        np.testing.assert_array_equal(f["regions/data"][:], before)
    with h5py.File(folder / "out.partial.h5") as f:
        assert not f.attrs["complete"] and "diverged" in f.attrs["ended"]

    # an unfinished run's file is not discarded silently either
    blocked = cli("run", "x.yaml", "-q", "--overwrite", "--set", "seed=4", cwd=folder)
    assert blocked.returncode == 0, blocked.stderr  # --overwrite allows both
    with h5py.File(out) as f:
        assert f.attrs["complete"] and "seed: 4" in f.attrs["config"]
        assert not np.array_equal(f["regions/data"][:], before)
    assert not (folder / "out.partial.h5").exists()


def test_the_partial_file_of_an_unfinished_run_needs_overwrite(folder):
    failed = cli("run", "bad.yaml", "-q", cwd=folder)
    assert failed.returncode != 0
    assert (folder / "out.partial.h5").exists() and not (folder / "out.h5").exists()
    again = cli("run", "x.yaml", "-q", cwd=folder)
    assert again.returncode == 2
    assert "out.partial.h5 already holds an unfinished run's output" in again.stderr
    no_traceback(again)


def test_stale_figures_never_describe_another_output(folder):
    (folder / "out").mkdir()
    stale = folder / "out" / "eeg_spectra.png"
    stale.write_bytes(b"old figure")
    mine = folder / "out" / "notes.txt"
    mine.write_text("the user's own file")
    proc = cli("run", "x.yaml", "-q", "--no-figures", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    assert not stale.exists()  # it described an earlier output
    assert mine.read_text() == "the user's own file"


@pytest.mark.parametrize(
    "output, expected",
    [
        ("x.yaml", "expected a file name ending in .h5"),
        ("out", "expected a file name ending in .h5"),
        ("foreign.h5", "is not an output of multiscale; refusing to write over it"),
        ("adir.h5", "is a directory"),
        ("afile.txt.d/sub/out.h5", "cannot create the folder"),
    ],
)
def test_outputs_that_would_damage_a_file_are_refused(folder, output, expected):
    (folder / "foreign.h5").write_bytes(b"someone else's data")
    (folder / "adir.h5").mkdir()
    (folder / "afile.txt.d").write_text("a file where a folder is needed")
    proc = cli("run", "x.yaml", "-q", "-o", output, "--overwrite", cwd=folder)
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr and output in proc.stderr
    no_traceback(proc)
    assert (folder / "foreign.h5").read_bytes() == b"someone else's data"
    assert "regions:" in (folder / "x.yaml").read_text()


def test_a_foreign_hdf5_file_is_not_an_output(folder):
    with h5py.File(folder / "data.h5", "w") as f:
        f["x"] = np.arange(3)
    for args, expected in [
        (("run", "x.yaml", "-o", "data.h5", "--overwrite"), "is not an output of multiscale"),
        (("report", "data.h5"), "not an output of multiscale"),
        (("report", "missing.h5"), "missing.h5: no such file"),
        (("report", "x.yaml"), "not a readable HDF5 file"),
    ]:
        proc = cli(*args, cwd=folder)
        assert proc.returncode == 2, (args, proc.stderr)
        assert expected in proc.stderr, (args, proc.stderr)
        no_traceback(proc)
    with h5py.File(folder / "data.h5") as f:
        np.testing.assert_array_equal(f["x"][:], np.arange(3))


def test_provenance_says_what_ran(folder):
    proc = cli("run", "x.yaml", "-q", "--set", "regions.coupling.a=0.5", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(folder / "out.h5") as f:
        a = f.attrs
        assert "a: 0.5" in a["config"] and "a: 1.0" in a["config_as_written"]
        assert '"regions.coupling.a": 0.5' in a["overrides"]
        assert "--set regions.coupling.a=0.5" in a["command_line"]
        assert a["n_ranks"] == 1 and a["host"] and a["started_at"]
        assert a["ended"] == "complete" and a["simulated_ms"] == 1000.0


def start(folder: Path) -> subprocess.Popen:
    """The long run in the background, returned once it has flushed two seconds."""
    cmd = [sys.executable, "-m", "multiscale.cli", "run", "long.yaml", "-q"]
    return start_writing(cmd, folder, folder / "long.partial.h5", 2000, timeout=120)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_ends_the_run_at_a_boundary_with_a_readable_file(folder, sig):
    proc = start(folder)
    t0 = time.monotonic()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 128 + sig, err
    assert elapsed < 10.0
    assert f"stopped by {sig.name}" in err and "marked incomplete" in err
    assert "Traceback" not in out + err
    assert not (folder / "long.h5").exists()
    with h5py.File(folder / "long.partial.h5") as f:  # closed properly: plain h5py opens it
        held = f.attrs["simulated_ms"]
        assert not f.attrs["complete"] and f.attrs["ended"] == f"stopped by {sig.name}"
        assert 2000.0 <= held < 200_000.0
        assert f["regions/data"].shape[0] == held  # 1 kHz: every boundary so far recorded
        assert np.isfinite(f["regions/data"][:]).all()
    report = cli("report", "long.partial.h5", cwd=folder)
    assert report.returncode == 0, report.stderr
    assert f"INCOMPLETE (stopped by {sig.name}): holds {held / 1000:g} s of the 200 s" in (
        report.stdout
    )


def test_kill_9_leaves_a_readable_file(folder):
    proc = start(folder)
    proc.kill()
    proc.communicate(timeout=60)
    partial = folder / "long.partial.h5"
    with open_output(partial) as f:
        rows = f["regions/data"].shape[0]
        assert not f.attrs["complete"] and rows >= 2000
        assert np.isfinite(f["regions/data"][:]).all()
    report = cli("report", "long.partial.h5", cwd=folder)
    assert report.returncode == 0, report.stderr
    assert "INCOMPLETE (the run did not finish (crashed or killed))" in report.stdout


SIZE = 6_000_000  # bytes of disk: a few seconds of the long run's data and checkpoints


def _small_disk(tmp_path: Path) -> Path | None:
    """A 6 MB file system (tmpfs), or None if this process may not mount one."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(disk)], capture_output=True
    )
    return disk if mounted.returncode == 0 else None


def test_a_full_disk_is_a_message_a_readable_file_and_a_resumable_run(folder, tmp_path):
    """The run fails when the disk fills (exit 1, the file named, no traceback); its file
    holds what was flushed; once there is room again it resumes from the last checkpoint
    written before, to the output of a run that never ran short. Without the right to mount
    a small disk, the full disk is simulated inside the process (the store's writes fail
    with ENOSPC after 2.5 s of data)."""
    from test_checkpoint import assert_same_output

    args = ["--set", "duration=5 s", "--checkpoint-every", "1 s", "-q", "--no-figures"]
    ref = cli("run", "long.yaml", "-o", "ref.h5", *args, cwd=folder)
    assert ref.returncode == 0, ref.stderr
    disk = _small_disk(tmp_path)
    if disk is None:
        disk = tmp_path / "disk"
        _simulated_full_disk(folder, disk / "full.h5")
    else:
        try:
            proc = cli("run", "long.yaml", "-o", str(disk / "full.h5"), *args, cwd=folder)
            assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
            assert f"{disk}/full." in proc.stderr and "the disk is full" in proc.stderr
            no_traceback(proc)
            subprocess.run(["mount", "-o", "remount,size=200M", str(disk)], check=True)
        except BaseException:
            subprocess.run(["umount", str(disk)], check=False)
            raise
    try:
        with open_output(disk / "full.partial.h5") as f:
            assert not f.attrs["complete"]
            assert f["regions/data"].shape[0] >= 1000  # flushed before the disk filled
        resumed = cli("resume", str(disk / "full.partial.h5"), "-q", "--no-figures", cwd=folder)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert_same_output(folder / "ref.h5", disk / "full.h5")
    finally:
        subprocess.run(["umount", str(disk)], check=False, capture_output=True)


def _simulated_full_disk(folder: Path, out: Path) -> None:
    import errno

    from multiscale.config import load_experiment
    from multiscale.cosim import Simulation
    from multiscale.storage import Store, WriteError

    exp = load_experiment(
        folder / "long.yaml",
        {"duration": "5 s", "checkpoint.every": "1 s", "output.path": str(out)},
    )
    real = Store._write

    def failing(store, name):
        if name == "/regions/data" and store.file[name].shape[0] >= 2500:
            with store._guard(f"write {name}"):
                raise OSError(errno.ENOSPC, "No space left on device")
        real(store, name)

    Store._write = failing
    try:
        with pytest.raises(WriteError, match="the disk is full"):
            Simulation(exp.plan, progress=False).run()
    finally:
        Store._write = real


def test_a_shortened_run_resumes_as_the_shortened_run(folder, tmp_path):
    """A run shortened with --set duration (its measure past the new end left out with a
    note) resumes after Ctrl-C with the same overrides, to a complete output."""
    import signal

    from experiment_harness import start_writing

    text = (
        LONG
        + "measures:\n  - {name: late, kind: peak_frequency, signal: eeg, window: [150 s, 200 s]}\n"
    )
    (tmp_path / "short.yaml").write_text(text)
    args = ["--set", "duration=8 s", "--checkpoint-every", "1 s", "-q", "--no-figures"]
    cmd = [sys.executable, "-m", "multiscale.cli", "run", "short.yaml", "-o", "s.h5", *args]
    proc = start_writing(cmd, tmp_path, tmp_path / "s.partial.h5", rows=2000, timeout=120)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGINT, err
    resumed = cli("resume", "s.partial.h5", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    with h5py.File(tmp_path / "s.h5") as f:
        assert f.attrs["complete"] and f["regions/data"].shape[0] == 8000
