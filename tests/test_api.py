"""The Python front door (multiscale/__init__.py, api.py, result.py, drive.py): building
experiments without files, running them, reading outputs lazily and decoded, driving one
circuit alone; and docs/python.md, whose code blocks are run here so they cannot rot."""

from __future__ import annotations

import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest
from circuit_harness import build, run_windows
from experiment_harness import write_tiny_connectome

import multiscale as ms
from multiscale.circuits.ei_network import EINetwork
from multiscale.config import load_experiment
from multiscale.storage import LogEntry

REPO = Path(__file__).resolve().parents[1]
SMALL = {"n_E": 160, "n_I": 40}

pytestmark = pytest.mark.usefixtures("numpy_target")


def tiny(**fields) -> dict:
    """A 500 ms masses-only experiment on the tiny connectome (w.npy, l.npy) with a
    3-channel lead field (lf.npz), a region perturbation and a recorded state."""
    return {
        "name": "tiny",
        "seed": 3,
        "duration": "500 ms",
        "connectome": {"source": {"weights": "w.npy", "lengths": "l.npy"}},
        "regions": {
            "model": "jansen_rit",
            "parameters": {"v0": "6 mV", "mu": 0.22},
            "coupling": {"kind": "sigmoidal_jansen_rit", "a": 1.0},
        },
        "perturbations": [
            {"name": "slow", "regions": ["R2"], "parameter": "B", "set": 30, "at": "200 ms"}
        ],
        "record": {"eeg": {"file": "lf.npz", "unit": "V/(A m)"}, "states": ["y0"]},
        "output": {"path": "out/tiny.h5", "figures": False},
    } | fields


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("api")
    write_tiny_connectome(d)
    gain = np.arange(12.0).reshape(3, 4) - 5.0
    np.savez(d / "lf.npz", gain=gain, channels=np.array(["Fz", "Cz", "Pz"]))
    return d


@pytest.fixture(scope="module")
def masses(folder) -> ms.Result:
    exp = ms.experiment(tiny(), base_dir=folder)
    return ms.run(exp, folder / "masses.h5")


@pytest.fixture(scope="module")
def with_circuit(folder) -> ms.Result:
    circuit = {
        "name": "c",
        "model": "ei_network",
        "region": "R1",
        "parameters": SMALL,
        "input_gain": 300.0,
        "output_gain": 1.0,
        "field_gain": 0.01,
    }
    exp = ms.experiment(
        tiny(circuits=[circuit], brian={"target": "numpy"}, record={"eeg": None}),
        base_dir=folder,
    )
    return ms.run(exp, folder / "circuit.h5")


def test_import_multiscale_loads_neither_brian2_nor_h5py_nor_matplotlib():
    code = (
        "import sys, multiscale as ms\n"
        "heavy = [m for m in ('brian2', 'h5py', 'matplotlib', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert ms.__version__ and 'run' in dir(ms)\n"
        "ms.Result\n"  # names resolve on first use
        "assert 'h5py' not in sys.modules or 'multiscale.result' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ms.nope  # noqa: B018


def test_an_experiment_from_a_dict_is_validated_with_paths_relative_to_base_dir(
    folder, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # elsewhere: w.npy must be found through base_dir
    exp = ms.experiment(tiny(), base_dir=folder, seed=9)
    assert isinstance(exp, ms.Experiment)
    assert exp.seed == 9 and exp.duration_ms == 500.0  # keywords win over the dict
    assert exp.plan.connectome.n_regions == 4
    assert exp.path == folder / "tiny.yaml"  # what resume resolves paths against
    same = ms.Experiment.from_dict(tiny(seed=9), base_dir=folder)
    assert same.resolved_text == exp.resolved_text


def test_a_wrong_field_in_a_dict_is_a_config_error_naming_the_field(folder):
    with pytest.raises(ms.ConfigError) as err:
        ms.experiment(tiny(duration="500", regons={}), base_dir=folder)
    text = str(err.value)
    assert text.startswith("<dict>: 2 problem(s) in the experiment:")
    assert "<dict>: duration: got '500'" in text and "write the unit" in text
    assert "regons" in text and "did you mean 'regions'" in text
    with pytest.raises(ms.ConfigError, match=r"<dict>: regions\.parameters\.mu: got object"):
        ms.experiment(tiny(regions={"model": "jansen_rit", "parameters": {"mu": object()}}))


def test_numpy_values_paths_and_shared_objects_serialise(folder):
    shared = ["R2"]
    exp = ms.experiment(
        tiny(
            seed=np.int64(4),
            connectome={"source": {"weights": folder / "w.npy", "lengths": folder / "l.npy"}},
            perturbations=[
                {"name": "a", "regions": shared, "parameter": "B", "set": 30, "at": "100 ms"},
                {"name": "b", "regions": shared, "parameter": "B", "set": 20, "at": "300 ms"},
            ],
            record={"eeg": {"file": folder / "lf.npz", "unit": "V/(A m)"}},
        )
    )
    assert exp.seed == 4 and "&" not in exp.text  # a list used twice is not a YAML alias


def test_load_applies_overrides_with_the_command_lines_messages(folder):
    path = folder / "tiny_file.yaml"
    path.write_text(ms.experiment(tiny(), base_dir=folder).text)
    exp = ms.load(path, {"duration": "300 ms", "regions.parameters.mu": 0.2})
    assert exp.duration_ms == 300.0 and exp.overrides["duration"] == "300 ms"
    bad = {"duration": "3", "duration.x": 1}
    with pytest.raises(ms.ConfigError) as err:
        ms.load(path, bad)
    with pytest.raises(ms.ConfigError) as direct:
        load_experiment(path, bad)
    assert str(err.value) == str(direct.value)
    assert f"{path}: --set duration.x: got" in str(err.value)
    cli = subprocess.run(
        [sys.executable, "-m", "multiscale.cli", "validate", str(path), "--set", "duration=3"],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2
    with pytest.raises(ms.ConfigError) as one:
        ms.load(path, {"duration": 3})
    assert cli.stderr.strip() == f"error: {one.value}"


def test_run_returns_the_complete_result_decoded(masses, folder):
    assert isinstance(masses, ms.Result) and masses.complete and masses.ended == "complete"
    assert masses.path == folder / "masses.h5"
    assert masses.name == "tiny" and masses.seed == 3
    assert masses.duration == 0.5 and masses.simulated == 0.5
    assert "name: tiny" in masses.config and "output:" in masses.config
    assert str(folder / "masses.h5") in masses.config  # the output override is recorded
    attrs = masses.attrs
    assert isinstance(attrs["versions"], str) and isinstance(attrs["host"], str)
    assert "tiny" in masses.summary()
    assert pickle.loads(pickle.dumps(masses)).path == masses.path  # holds no open file


def test_series_have_shapes_units_labels_and_read_lazily(masses):
    eeg = masses.eeg
    assert eeg.shape == (500, 3) and eeg.sampling_rate == 1000.0
    assert eeg.channels == ["Fz", "Cz", "Pz"] and all(type(c) is str for c in eeg.channels)
    assert eeg.unit == "uV" and masses.sources.unit == "nA m"
    # uV = (gain - channel mean) [V/(A m)] x moments [nA m] x 1e-9 [A m/nA m] x 1e6 [uV/V]
    gain = np.arange(12.0).reshape(3, 4) - 5.0
    expected = masses.sources.data[:] @ (gain - gain.mean(axis=0)).T * 1e-3
    np.testing.assert_allclose(eeg.data[:], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(eeg.times[:3], [0.0, 0.001, 0.002])
    regions = masses.regions
    assert regions.labels == ["R0", "R1", "R2", "R3"] and regions.unit == "mV"
    with h5py.File(masses.path, "r") as f:
        np.testing.assert_array_equal(eeg.data[100:200, 1], f["eeg/data"][100:200, 1])
        np.testing.assert_array_equal(eeg.read(0.1, 0.2), f["eeg/data"][100:200])
        np.testing.assert_array_equal(np.asarray(regions.data), f["regions/data"][:])
        np.testing.assert_array_equal(masses.states["y0"].data[:5], f["regions/states/y0"][:5])
    assert masses.states["y0"].sampling_rate == 10000.0  # every 0.1 ms step
    assert masses.bold is None and masses.circuits == []


def test_the_perturbation_log_is_typed_and_decoded(masses):
    (p,) = masses.perturbations
    assert p == LogEntry(
        200.0, "slow", "start", "B[R2] = [30.0]",
        regions="R2", quantity="B", value_min=30.0, value_max=30.0,
    )  # fmt: skip


def test_an_existing_output_is_refused_without_overwrite(masses, folder):
    stamp = masses.path.stat().st_mtime_ns
    exp = ms.experiment(tiny(seed=5), base_dir=folder)
    with pytest.raises(ms.ConfigError, match="already holds an output; pass overwrite=True"):
        ms.run(exp, masses.path)
    assert masses.path.stat().st_mtime_ns == stamp
    other = folder / "replaced.h5"
    ms.run(exp, other)
    again = ms.run(ms.experiment(tiny(seed=6), base_dir=folder), other, overwrite=True)
    assert again.seed == 6 and again.complete


def test_a_failed_run_raises_and_leaves_a_readable_incomplete_file(folder):
    diverging = {
        "regions": ["R2"],
        "variable": "y4",
        "kind": "step",
        "amplitude": 1.0e307,
        "at": "300 ms",
    }
    exp = ms.experiment(tiny(stimuli=[diverging]), base_dir=folder)
    with pytest.raises(FloatingPointError, match="diverged"):
        ms.run(exp, folder / "diverged.h5")
    partial = ms.open(folder / "diverged.partial.h5")
    assert not partial.complete and "diverged" in partial.ended
    assert 0 < partial.simulated < 0.5
    assert "INCOMPLETE" in repr(partial)


def test_a_stopped_run_raises_run_stopped_naming_its_partial_file(folder):
    """SIGINT during the run (as Ctrl-C): the run stops at a window boundary and ms.run
    raises RunStopped; the partial file is readable and says why it is incomplete."""
    exp = ms.experiment(tiny(duration="600 s", perturbations=[]), base_dir=folder)
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(ms.RunStopped) as err:
            ms.run(exp, folder / "stopped.h5")
    finally:
        timer.cancel()
    assert isinstance(err.value, KeyboardInterrupt) and err.value.signum == signal.SIGINT
    assert err.value.partial == folder / "stopped.partial.h5"
    assert "multiscale resume" in str(err.value)
    partial = ms.open(err.value.partial)
    assert not partial.complete and partial.ended == "stopped by SIGINT"
    assert 0 < partial.simulated < 600
    assert not (folder / "stopped.h5").exists()


def test_report_writes_the_figures_and_the_page(masses):
    page = masses.report()
    assert page.is_file() and "tiny" in page.read_text()
    assert (page.parent / "eeg_traces.png").is_file()


def test_open_refuses_what_is_not_an_output(folder):
    with pytest.raises(ms.ConfigError, match="no such file"):
        ms.open(folder / "missing.h5")
    with pytest.raises(ms.ConfigError, match="not a readable HDF5 file"):
        ms.open(folder / "w.npy")


def test_a_circuits_spikes_rate_and_field(with_circuit):
    assert with_circuit.complete and with_circuit.circuits == ["c"] and with_circuit.eeg is None
    c = with_circuit.circuit("c")
    assert (c.model, c.region) == ("ei_network", "R1") and c.parameters == SMALL
    assert c.populations == {"E": 160, "I": 40}
    assert c.rate.unit == "Hz" and c.field.unit == "mV" and c.rate.shape == (500,)
    t, i = c.spikes("E")
    assert len(t) > 100 and t.min() >= 0 and t.max() < 500 and i.max() < 160
    with h5py.File(with_circuit.path, "r") as f:
        np.testing.assert_array_equal(t, f["circuits/c/spikes/E/times"][:])
        np.testing.assert_array_equal(c.rate.data[:], f["circuits/c/rate"][:])
    with pytest.raises(KeyError, match="populations with spikes"):
        c.spikes("X")
    with pytest.raises(KeyError, match="circuits: \\['c'\\]"):
        with_circuit.circuit("d")


@pytest.mark.mpi
def test_spikes_of_a_circuit_on_another_rank_are_read_through_the_main_file(folder):
    """On 2 MPI ranks a circuit's spikes live in the rank file, linked from the main file;
    the Result reads them as if they were in it, equal to the 1-rank run's."""
    binary = Path(sys.executable).parent
    mpiexec = shutil.which("mpiexec", path=str(binary)) or shutil.which("mpiexec")
    assert mpiexec, "mpiexec not found: install with the 'mpich' extra (see README)"
    circuits = [
        {"name": n, "model": "ei_network", "region": r, "parameters": SMALL, "input_gain": 100}
        for n, r in (("a", "R1"), ("b", "R2"))
    ]
    exp = ms.experiment(
        tiny(circuits=circuits, duration="300 ms", brian={"target": "numpy"}), base_dir=folder
    )
    (folder / "two.yaml").write_text(exp.text)
    results = {}
    for n in (1, 2):
        cmd = [str(binary / "multiscale"), "run", "two.yaml", "-q", "-o", f"two_{n}.h5"]
        proc = subprocess.run(
            [mpiexec, "-n", "2", *cmd] if n > 1 else cmd,
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        results[n] = ms.open(folder / f"two_{n}.h5")
    with h5py.File(results[2].path, "r") as f:
        linked = [
            c
            for c in "ab"
            if isinstance(f[f"circuits/{c}"].get("spikes", getlink=True), h5py.ExternalLink)
        ]
    assert linked, "no circuit ran on the second rank"
    for c in "ab":
        one, two = results[1].circuit(c), results[2].circuit(c)
        assert two.populations == {"E": 160, "I": 40}
        for pop in ("E", "I"):
            np.testing.assert_array_equal(one.spikes(pop).times_ms, two.spikes(pop).times_ms)
            np.testing.assert_array_equal(one.spikes(pop).indices, two.spikes(pop).indices)


def test_drive_circuit_f_i_rises_and_equals_the_harness():
    """320/80 cells: the 160/40 network is inhibition-stabilised and fluctuates so much
    (its E rate 54.9, 80.5, 67.3, 77.0, 80.5 Hz at 0, 0.5, 1, 2, 5 Hz of input) that it
    has no rising f-I curve; this one: 17.6, 21.0, 32.9 Hz at 0, 2, 5 Hz (seed 1; with the
    previous drive 5.0, 7.4, 21.7 Hz)."""
    net = {"n_E": 320, "n_I": 80}
    runs = [
        ms.drive_circuit("ei_network", net, input_hz=x, duration="500 ms", seed=1, target="numpy")
        for x in (0.0, 2.0, 5.0)
    ]
    rates = [r.population_rate("E", start=0.1) for r in runs]
    assert rates[0] + 2 < rates[1] < rates[2] - 2, rates
    assert runs[1].rate.shape == runs[1].field.shape == (500,)
    np.testing.assert_allclose(runs[1].binned_rate("E"), runs[1].rate)  # E is the output

    harness = run_windows(build(EINetwork, "c", net, seed=1), 500.0, input_hz=2.0)
    np.testing.assert_array_equal(runs[1].rate, harness["rate"])
    np.testing.assert_array_equal(runs[1].field, harness["field"])
    for pop in ("E", "I"):
        np.testing.assert_array_equal(runs[1].spikes[pop].times_ms, harness[pop][0])
        np.testing.assert_array_equal(runs[1].spikes[pop].indices, harness[pop][1])


def test_drive_circuit_input_series_and_knobs():
    """The input follows the function of time; knobs turned at 200 ms (background drive
    and every AMPA conductance off, with the input) silence the circuit from then on.
    (The drive alone does not: this small network can hold itself at ~90 Hz once there.)"""
    off = ms.drive_circuit(
        "ei_network",
        SMALL,
        input_hz=lambda t: 0.5 * (t < 0.2),
        duration="400 ms",
        knobs={"200 ms": {"nu_bg": 0.0, "g_AMPA": 0.0}},
        seed=2,
        target="numpy",
    )
    assert off.input_hz[199] == 0.5 and off.input_hz[200] == 0.0
    assert off.circuit.knobs["nu_bg"] == off.circuit.knobs["g_AMPA"] == 0.0
    before, after = off.population_rate("E", 0.1, 0.2), off.population_rate("E", 0.25)
    assert before > 10 and after < 0.2 * before, (before, after)


def test_drive_circuit_names_every_bad_argument():
    with pytest.raises(ms.ConfigError, match="duration: got '300'.*write the unit"):
        ms.drive_circuit("ei_network", duration="300")
    with pytest.raises(ms.ConfigError) as err:
        ms.drive_circuit(
            "ei_network",
            {"n_E": 0, "n_X": 1},
            input_hz=[1.0, 2.0],
            duration="100 ms",
            knobs={"5 ms": {"g_X": 1.0}},
        )
    text = str(err.value)
    for part in ("parameters.n_X", "parameters.n_E: got 0", "input_hz: got 2 values", "5 ms"):
        assert part in text, (part, text)
    assert "knobs['5 ms'].g_X: not a knob of ei_network" in text
    assert text.startswith("drive_circuit: 5 problem(s):")
    with pytest.raises(ms.ConfigError, match="model: got 'nope'"):
        ms.drive_circuit("nope")


def test_to_xarray_carries_units(masses):
    import xarray as xr  # in the test extra, so that this runs in CI

    ds = masses.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert ds["eeg"].dims == ("time", "eeg_channel") and ds["eeg"].shape == (500, 3)
    assert list(ds["eeg_channel"].values) == ["Fz", "Cz", "Pz"]
    assert ds["regions"].attrs["unit"] == "mV" and ds["time"].attrs["unit"] == "s"
    assert ds["state_y0"].dims == ("step_time", "region") and ds.attrs["seed"] == 3


def test_to_xarray_without_xarray_says_how_to_install(masses, monkeypatch):
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ImportError, match=r"multiscale\[xarray\]"):
        masses.to_xarray()


def test_the_python_tutorial_runs(tmp_path, monkeypatch):
    """Every ```python block of docs/python.md, in order, in one namespace, in an empty
    folder next to the shipped experiments."""
    text = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)
    assert len(blocks) >= 4
    os.symlink(REPO / "experiments", tmp_path / "experiments")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for k, code in enumerate(blocks):
        exec(compile(code, f"docs/python.md block {k + 1}", "exec"), namespace)
    assert namespace["result"].complete


def test_a_single_region_study_needs_no_connectome_file(tmp_path):
    """One isolated Jansen-Rit node, its connectome written in the experiment: the alpha
    rhythm of Jansen & Rit 1995 (p = 220/s, v0 = 6 mV, no noise: peak at 10-11.5 Hz, as
    the engine's own test finds it)."""
    exp = ms.experiment(
        name="one_node",
        seed=1,
        duration="5 s",
        connectome={"source": {"weights": [[0]], "lengths": [[0]], "labels": ["M1"]}},
        regions={"model": "jansen_rit", "parameters": {"v0": "6 mV", "mu": 0.22}},
        record={"eeg": None},
        output={"path": str(tmp_path / "one.h5"), "figures": False},
    )
    assert exp.plan.connectome.labels == ["M1"]
    result = ms.run(exp)
    x = np.asarray(result.regions.data)[1000:, 0]  # after 1 s
    f = np.fft.rfftfreq(len(x), 1 / result.regions.sampling_rate)
    P = np.abs(np.fft.rfft(x - x.mean())) ** 2
    assert 10.0 <= f[P.argmax()] <= 11.5
    bad = {"weights": [[0, 1]], "lengths": [[0, 1]]}
    with pytest.raises(ms.ConfigError, match="weights must be a non-empty square matrix"):
        ms.experiment(name="bad", seed=1, duration="1 s", regions={"model": "jansen_rit"},
                      connectome={"source": bad})  # fmt: skip


def test_a_circuit_alone_in_one_region(tmp_path):
    """A circuit in an isolated region: no dummy connectome file, no input from other
    regions; its rate and spikes are recorded."""
    exp = ms.experiment(
        name="alone",
        seed=3,
        duration="300 ms",
        connectome={"source": {"weights": [[0]], "lengths": [[0]], "labels": ["M1"]}},
        regions={"model": "jansen_rit"},
        circuits=[
            {
                "name": "c",
                "model": "ei_network",
                "region": "M1",
                "parameters": {"n_E": 160, "n_I": 40},
            }
        ],  # fmt: skip
        record={"eeg": None},
        brian={"target": "numpy"},
        output={"path": str(tmp_path / "alone.h5"), "figures": False},
    )
    assert exp.plan.window.ms == 10.0  # no edge touches the circuit: 10 exchange bins
    result = ms.run(exp)
    c = result.circuit("c")
    assert c.rate.data.shape[0] == 300  # one bin per ms
    t, _ = c.spikes("E")
    assert len(t) > 0 and t.max() < 300.0
