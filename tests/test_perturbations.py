"""The perturbation language on the mass side: ramps, region sets, edges, lesions."""

import h5py
import numpy as np
import pytest

from multiscale.config import ConfigError, load_experiment
from multiscale.cosim import Simulation
from multiscale.storage import read_log

BASE = """
name: p
seed: 2
duration: 1 s
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
record: {{eeg: null}}
output: {{path: {out}}}
perturbations:
{perturbations}
"""
# chain R0 -> R1 -> R2, and R3 -> R0; R3 has the largest total weight
W = np.array(
    [[0, 0, 0, 3.0], [1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 0, 0]],
)


def run(tmp_path, name, perturbations):
    np.save(tmp_path / "w.npy", W)
    np.save(tmp_path / "l.npy", np.full((4, 4), 15.0))
    p = tmp_path / f"{name}.yaml"
    p.write_text(BASE.format(out=tmp_path / f"{name}.h5", perturbations=perturbations))
    exp = load_experiment(p)
    sim = Simulation(exp.plan, progress=False)
    sim.run()
    with h5py.File(tmp_path / f"{name}.h5") as f:
        entries = read_log(f)
        sim.log = entries
        log = [(e.time_ms, e.name, e.what) for e in entries]
        return f["regions/data"][:], log, sim


def test_ramp_moves_a_parameter_linearly_and_logs_start_end_restore(tmp_path):
    _, log, sim = run(
        tmp_path, "ramp",
        "  - {name: slow, regions: [R1], parameter: B, set: 32, at: 200 ms, ramp: 400 ms,"
        " until: 900 ms}",
    )  # fmt: skip
    assert [(round(t), w) for t, _, w in log] == [
        (200, "B[R1] = [22.0]"),
        (600, "B[R1] = [32.0] (end of ramp)"),
        (900, "B[R1] = [22.0] (removed)"),
    ]
    # the same in columns: nothing to parse back out of the text
    assert [(e.event, e.regions, e.quantity, e.value_min) for e in sim.log] == [
        ("start", "R1", "B", 22.0),
        ("end of ramp", "R1", "B", 32.0),
        ("removed", "R1", "B", 22.0),
    ]
    assert sim.engine.P[1, 1] == 22.0


def test_hubs_select_the_strongest_regions(tmp_path):
    _, log, _ = run(
        tmp_path, "hubs", "  - {regions: {hubs: 2}, parameter: A, scale: 1.1, at: 100 ms}"
    )
    # total weight: R3 3, R0 4, R1 2, R2 1 -> hubs R0 and R3
    assert log[0][2] == "A[R0,R3] = [3.575, 3.575]"


def test_edge_cut_and_lesion_act_only_through_the_cut_edges(tmp_path):
    base, _, _ = run(tmp_path, "none", "  - {regions: [R3], parameter: A, scale: 1.0, at: 0 ms}")
    cut, log, sim = run(
        tmp_path, "cut", "  - {edges: {from: [R1], to: [R2]}, scale: 0, at: 300 ms}"
    )
    assert log[0][2] == "1 edge weights x 0"
    (e,) = sim.log
    assert (e.event, e.regions, e.quantity, e.value_min) == (
        "start",
        "R1,R2",
        "edge weight factor",
        0,
    )
    np.testing.assert_array_equal(base[:, :2], cut[:, :2])  # R0, R1 upstream: unchanged
    np.testing.assert_array_equal(base[:300, 2], cut[:300, 2])  # R2 before the cut
    assert np.abs(base[400:, 2] - cut[400:, 2]).max() > 0.1
    lesion, log, sim = run(tmp_path, "lesion", "  - {lesion: [R0], at: 500 ms}")
    assert log[0][2] == "2 edge weights x 0"  # R3 -> R0 and R0 -> R1
    assert (sim.engine.w[[0, 1]] == 0).all()
    assert np.abs(lesion[:500, 0]).min() > 0 and (lesion[500:, 0] == 0).all()  # no EEG source


def test_invalid_perturbations(tmp_path):
    np.save(tmp_path / "w.npy", W)
    np.save(tmp_path / "l.npy", np.full((4, 4), 15.0))

    def errors(perturbations):
        p = tmp_path / "bad.yaml"
        p.write_text(BASE.format(out="x.h5", perturbations=perturbations))
        with pytest.raises(ConfigError) as info:
            load_experiment(p)
        return str(info.value)

    msg = errors(
        "  - {lesion: [R1], scale: 2}\n"
        "  - {regions: [R1], parameter: A, scale: 2, at: 1 ms, ramp: 10 ms, until: 5 ms}"
    )
    assert "perturbations[0]: got" in msg and "no 'scale' or 'set' with 'lesion'" in msg
    assert "perturbations[1].ramp: got '10 ms'; expected a ramp that ends by 'until'" in msg
    msg = errors(
        "  - {edges: {from: [R9]}, scale: 0.5}\n  - {regions: {hubs: 0}, parameter: A, scale: 2}"
    )
    assert "perturbations[0].edges.from: got 'R9'" in msg
    assert "perturbations[1].regions: got {'hubs': 0}; expected {hubs: N} with N >= 1" in msg


def test_overlapping_changes_compose_and_are_removed_independently(tmp_path):
    _, log, sim = run(
        tmp_path, "compose",
        "  - {name: first, regions: [R0, R1], parameter: J, scale: 0.8, at: 100 ms,"
        " until: 700 ms}\n"
        "  - {name: second, regions: all, parameter: J, scale: 0.5, at: 300 ms}",
    )  # fmt: skip
    whats = [w for _, _, w in log]
    assert whats[0] == "J[R0,R1] = [108.0, 108.0]"
    assert whats[1] == "J[R0,R1,R2,R3] = [54.0, 54.0, 67.5, 67.5]"  # 135 x 0.8 x 0.5
    assert whats[2] == "J[R0,R1] = [67.5, 67.5] (removed)"
    np.testing.assert_allclose(sim.engine.P[:, 7], 67.5)


def test_region_stimulus_drives_only_its_regions_and_variable(tmp_path):
    """A sinusoid added to dy4/dt of R3 (nothing feeds R3): R3 follows it at its frequency,
    the regions R3 does not reach (R1, R2 reach only via R0) change only after the delay."""
    stim = (
        "stimuli:\n  - {regions: [R3], variable: y4, kind: sinusoid, amplitude: 0.2,"
        " frequency: 25 Hz, at: 200 ms}\n"
    )
    base, _, _ = run(tmp_path, "nostim", "  - {regions: [R3], parameter: A, scale: 1, at: 0 ms}")
    driven, _, _ = run(
        tmp_path, "stim", "  - {regions: [R3], parameter: A, scale: 1, at: 0 ms}\n" + stim
    )
    np.testing.assert_array_equal(base[:200], driven[:200])  # nothing before it starts
    x = driven[300:, 3] - base[300:, 3]
    f = np.fft.rfftfreq(len(x), 1e-3)
    assert abs(f[np.abs(np.fft.rfft(x - x.mean())).argmax()] - 25.0) < 1.5
    np.testing.assert_array_equal(base[:204, 0], driven[:204, 0])  # R3 -> R0 takes 5 ms


def test_a_diverging_region_stops_the_run_with_its_name_and_time(tmp_path):
    """A step of 1e307 mV/ms^2 on dy4/dt of R2 from 300 ms overflows R2's state: the run
    stops at that window, names R2, and the output stays marked incomplete."""
    stim = (
        "stimuli:\n  - {regions: [R2], variable: y4, kind: step, amplitude: 1.0e+307, at: 300 ms}\n"
    )
    with pytest.raises(FloatingPointError, match=r"state of R2 diverged .* by t = 3\d\d ms"):
        run(tmp_path, "blowup", "  - {regions: [R3], parameter: A, scale: 1, at: 0 ms}\n" + stim)
    assert not (tmp_path / "blowup.h5").exists()  # a failed run keeps its partial name
    with h5py.File(tmp_path / "blowup.partial.h5") as f:
        assert not f.attrs["complete"]
        assert f.attrs["ended"].startswith("failed: FloatingPointError")
        assert np.isfinite(f["regions/data"][:]).all()  # nothing non-finite was written
