"""The command line: info, validate, run (tiny), report."""

import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np

from multiscale.circuits import CIRCUITS
from multiscale.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_info_lists_models_circuits_and_knobs(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    for word in ("jansen_rit", "wilson_cowan", "epileptor", "sigmoidal_jansen_rit",
                 "ei_network", "g_GABA", "nu_bg"):  # fmt: skip
        assert word in out
    assert "v0: 5.52 mV" in out  # parameters with defaults and units
    for name, circuit in CIRCUITS.items():  # every circuit, with every knob
        assert name in out
        for knob in circuit.KNOBS:
            assert knob in out, (name, knob)


def test_validate_good_and_bad(tmp_path, capsys):
    assert main(["validate", str(ROOT / "experiments" / "gaba_loss.yaml")]) == 0
    assert "exchange window 7 ms" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "experiments" / "smoke.yaml").read_text().replace("rM1", "rM9"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: circuits[0].region: got 'rM9'" in err


def test_run_and_report_a_tiny_experiment(tmp_path):
    np.save(tmp_path / "w.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
    np.save(tmp_path / "l.npy", np.full((2, 2), 30.0))
    (tmp_path / "t.yaml").write_text(
        """
name: tiny_cli
seed: 1
duration: 1500 ms
connectome: {source: {weights: w.npy, lengths: l.npy}}
regions: {model: jansen_rit, parameters: {v0: 6 mV}}
record: {eeg: null, bold: {tr: 500 ms}}
output: {path: out.h5}
"""
    )
    proc = subprocess.run(
        [sys.executable, "-m", "multiscale.cli", "run", "t.yaml", "-q"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "tiny_cli: 1.5 s simulated" in proc.stdout
    with h5py.File(tmp_path / "out.h5") as f:
        assert f.attrs["complete"]
        assert f["regions/data"].shape == (1500, 2)
        assert f["bold/data"].shape == (3, 2)
    assert main(["report", str(tmp_path / "out.h5")]) == 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "tiny_cli: 1.5 s simulated" in page and "name: tiny_cli" in page  # summary, file


def _modules_after(code: str) -> set[str]:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return set(out.stdout.splitlines()[-1].split())


def test_validating_a_masses_only_experiment_imports_neither_brian2_nor_matplotlib():
    mods = _modules_after(
        "from multiscale.cli import main\n"
        "assert main(['validate', 'experiments/stroke_lesion.yaml']) == 0"
    )
    assert "multiscale.plan" in mods  # it did validate
    assert "brian2" not in mods and "matplotlib" not in mods


def test_a_masses_only_run_never_imports_brian2(tmp_path):
    out = tmp_path / "x.h5"
    mods = _modules_after(
        "from multiscale.cli import main\n"
        "assert main(['run', 'experiments/stroke_lesion.yaml', '-q', '--no-figures',"
        " '--set', 'duration=1 s', '--set', 'perturbations=[]', '-o', "
        f"{str(out)!r}]) == 0"
    )
    assert "multiscale.cosim" in mods and out.exists()
    assert "brian2" not in mods and "matplotlib" not in mods and "mne" not in mods


def test_a_masses_only_run_with_figures_imports_the_plotting_stack_only_for_them(tmp_path):
    """Figures are on by default: matplotlib and MNE are imported once the simulation has
    ended, for them; Brian2 never."""
    out, seen = tmp_path / "x.h5", tmp_path / "before_figures.txt"
    mods = _modules_after(
        "import sys\n"
        "import multiscale.report as report\n"
        "real = report.publish\n"
        "def publish(*args, **kwargs):\n"
        "    heavy = [m for m in ('brian2', 'matplotlib', 'mne') if m in sys.modules]\n"
        f"    open({str(seen)!r}, 'w').write(repr(heavy))\n"
        "    return real(*args, **kwargs)\n"
        "report.publish = publish\n"
        "from multiscale.cli import main\n"
        "assert main(['run', 'experiments/stroke_lesion.yaml', '-q', '--set', 'duration=2 s',"
        " '--set', 'perturbations=[]',"
        f" '-o', {str(out)!r}]) == 0"
    )
    assert (tmp_path / "x" / "eeg_traces.png").exists()  # figures were made
    assert seen.read_text() == "[]"  # nothing of it before the figures
    assert "matplotlib" in mods and "brian2" not in mods


def test_one_blas_thread_unless_the_user_chose(monkeypatch):
    import os

    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    assert main(["validate", str(ROOT / "experiments" / "stroke_lesion.yaml")]) == 0
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and os.environ["MKL_NUM_THREADS"] == "3"
