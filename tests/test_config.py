"""Experiment files: every problem is reported with file, field, value and expectation."""

from pathlib import Path

import pytest

from multiscale.config import ConfigError, load_experiment

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"

GOOD = """
name: t
seed: 1
duration: 1 s
regions:
  model: jansen_rit
circuits:
  - name: m1
    model: ei_network
    region: rM1
"""


def write(tmp_path, text, name="exp.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def errors_of(tmp_path, text) -> str:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_experiment(p)
    msg = str(info.value)
    assert str(p) in msg  # every error names the file
    return msg


@pytest.mark.parametrize("path", sorted(EXPERIMENTS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_experiments_validate(path):
    exp = load_experiment(path)
    assert exp.duration_ms > 0


def test_good_file_derives_window_from_smallest_delay(tmp_path):
    exp = load_experiment(write(tmp_path, GOOD))
    # rM1's closest connected region is 22.8 mm away: 7.6 ms at 3 m/s, floored to 1 ms bins
    assert exp.plan.window.min_delay_ms == pytest.approx(7.6)
    assert exp.plan.window.steps == 70
    assert exp.plan.proxies == {"m1": exp.plan.connectome.index("rM1")}


def test_unknown_key_suggests_the_closest(tmp_path):
    msg = errors_of(tmp_path, GOOD.replace("duration:", "duratoin:"))
    assert "duratoin: unknown field (did you mean 'duration'?)" in msg
    assert "duration: got (missing); expected this field (it is required)" in msg


def test_bad_quantities(tmp_path):
    text = GOOD.replace("duration: 1 s", "duration: 10 Hz") + "cosim: {resolution: fast}\n"
    msg = errors_of(tmp_path, text)
    assert "duration: got '10 Hz'; expected a quantity in ms (has the wrong dimensions" in msg
    assert "cosim.resolution: got 'fast'; expected a quantity in ms" in msg


def test_unknown_models_and_region(tmp_path):
    msg = errors_of(tmp_path, GOOD.replace("jansen_rit", "jansen_rti").replace("rM1", "rM2"))
    assert "regions.model: got 'jansen_rti'" in msg and "did you mean 'jansen_rit'" in msg
    msg = errors_of(tmp_path, GOOD.replace("region: rM1", "region: rM2"))
    assert "circuits[0].region: got 'rM2'" in msg and "rM1" in msg
    msg = errors_of(tmp_path, GOOD.replace("model: ei_network", "model: ei_netwrk"))
    assert "circuits[0].model: got 'ei_netwrk'" in msg and "did you mean 'ei_network'" in msg


def test_bad_parameters_and_knobs(tmp_path):
    text = GOOD.replace("  model: jansen_rit", "  model: jansen_rit\n  parameters: {BB: 30, A: x}")
    text += """
perturbations:
  - circuit: m1
    knob: g_GABBA
    scale: 0.3
    at: 2 s
"""
    msg = errors_of(tmp_path, text)
    assert "regions.parameters.BB: unknown parameter of jansen_rit" in msg
    assert "regions.parameters.A: got 'x'" in msg
    assert "perturbations[0].knob: got 'g_GABBA'" in msg and "did you mean 'g_GABA'" in msg
    assert "perturbations[0].at: got 2000 ms; expected a time before the end (1000 ms)" in msg


def test_perturbation_needs_exactly_one_operation_and_a_target(tmp_path):
    msg = errors_of(tmp_path, GOOD + "perturbations:\n  - {circuit: m1, knob: g_GABA, at: 0.5 s}\n")
    assert "perturbations[0]: got" in msg and "exactly one of 'scale' or 'set'" in msg
    msg = errors_of(tmp_path, GOOD + "perturbations:\n  - {scale: 2, at: 0.5 s}\n")
    assert "expected one target" in msg


def test_window_longer_than_smallest_delay_is_rejected(tmp_path):
    msg = errors_of(tmp_path, GOOD + "cosim: {window: 10 ms}\n")
    assert "cosim.window: got 10.0 ms; expected at most the smallest delay" in msg
    assert "(7.6 ms)" in msg


def test_zero_delay_edges_are_rejected_or_clamped(tmp_path):
    import numpy as np

    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    L = np.array([[0.0, 0.0], [0.0, 0.0]])
    np.save(tmp_path / "w.npy", W)
    np.save(tmp_path / "l.npy", L)
    base = GOOD.replace("region: rM1", "region: R1") + (
        "connectome:\n  source: {weights: w.npy, lengths: l.npy}\nrecord: {eeg: null}\n"
    )
    msg = errors_of(tmp_path, base)
    assert "have zero delay (R1->R0, R0->R1)" in msg and "zero_delay_edges: clamp" in msg
    exp = load_experiment(
        write(tmp_path, base + "cosim: {zero_delay_edges: clamp, resolution: 0.1 ms}\n", "b.yaml")
    )
    assert exp.plan.window.steps == 1 and exp.plan.window.clamped_edges


def test_the_window_is_the_smallest_delay_on_an_edge_touching_a_circuit(tmp_path):
    """Edges between two circuits' regions count; a circuit region's self-edge does not
    (its circuit is local); a clamped zero delay reaches the delays the engine gets."""
    import numpy as np

    W = np.array([[2.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0],
                  [0.0, 0.0, 1.0, 0.0]])  # fmt: skip
    L = np.array([[0.0, 6.0, 0.0, 0.0], [6.0, 0.0, 15.0, 0.0], [0.0, 15.0, 0.0, 1.5],
                  [0.0, 0.0, 1.5, 0.0]])  # mm at 3 m/s: 2 ms, 5 ms, 0.5 ms  # fmt: skip
    np.save(tmp_path / "w.npy", W)
    np.save(tmp_path / "l.npy", L)
    two = GOOD.replace("region: rM1", "region: R0") + (
        "  - {name: m2, model: ei_network, region: R1}\n"
        "connectome:\n  source: {weights: w.npy, lengths: l.npy}\nrecord: {eeg: null}\n"
    )
    exp = load_experiment(write(tmp_path, two))
    assert exp.plan.window.min_delay_ms == 2.0 and exp.plan.window.ms == 2.0  # R0 <-> R1
    one = GOOD.replace("region: rM1", "region: R2") + (
        "connectome:\n  source: {weights: w.npy, lengths: l.npy}\nrecord: {eeg: null}\n"
        "cosim: {resolution: 0.5 ms}\n"
    )
    assert load_experiment(write(tmp_path, one, "one.yaml")).plan.window.min_delay_ms == 0.5
    L[0, 1] = L[1, 0] = 0.0
    np.save(tmp_path / "l.npy", L)
    clamped = load_experiment(
        write(tmp_path, two + "cosim: {zero_delay_edges: clamp, resolution: 0.1 ms}\n", "c.yaml")
    )
    d = clamped.plan.masses.delays.toarray()
    assert d[0, 1] == d[1, 0] == 1 and d[0, 0] == 0  # the self-edge is not clamped
    assert clamped.plan.window.clamped_edges == "R1->R0, R0->R1"


def test_stimulus_checks(tmp_path):
    text = (
        GOOD
        + """
stimuli:
  - circuit: m1
    population: STN
    frequency: 130 Hz
    amplitude: 1 nA
    width: 10 ms
"""
    )
    msg = errors_of(tmp_path, text)
    assert "stimuli[0].population: got 'STN'; expected one of ['E', 'I']" in msg
    assert "stimuli[0].width: got 10.0 ms; expected pulses shorter than the period" in msg


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_experiment(write(tmp_path, "name: [unclosed"))
    with pytest.raises(ConfigError, match="cannot read the experiment file"):
        load_experiment(tmp_path / "nope.yaml")


def test_overrides_apply_before_validation(tmp_path):
    p = write(tmp_path, GOOD)
    exp = load_experiment(p, {"duration": "3 s", "circuits.0.parameters": {"n_E": 100}})
    assert exp.duration_ms == 3000 and exp.circuits[0].parameters == {"n_E": 100.0}


def test_readme_example_validates(tmp_path):
    import re

    readme = (EXPERIMENTS.parent / "README.md").read_text()
    block = re.findall(r"```yaml\n(.*?)```", readme, re.S)[0]
    exp = load_experiment(write(tmp_path, block))
    assert [s.name for s in exp.stimuli] == ["dbs", "drive"]
    assert exp.record.bold is not None and exp.record.states == ["y0", "y3"]
    from multiscale.sweep import variants

    path = write(tmp_path, block)
    labels = []
    for label, overrides in variants(path, {}):
        load_experiment(path, overrides)  # every variant of its sweep is valid too
        labels.append(label)
    assert labels == ["control__a=0.005", "control__a=0.01", "stroke__a=0.005", "stroke__a=0.01"]


def test_initial_history_file(tmp_path):
    import numpy as np

    np.save(tmp_path / "w.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
    np.save(tmp_path / "l.npy", np.full((2, 2), 3.0))  # 10 steps at 3 m/s, dt 0.1 ms
    base = (
        "name: h\nseed: 1\nduration: 100 ms\nconnectome: {source: {weights: w.npy, "
        "lengths: l.npy}}\nrecord: {eeg: null}\nregions:\n  model: wilson_cowan\n"
        "  initial_history: h.npy\n"
    )
    np.save(tmp_path / "h.npy", np.full((5, 2, 2), 0.3))
    msg = errors_of(tmp_path, base)
    assert "regions.initial_history: " in msg and "has 5 samples; expected more than" in msg
    np.save(tmp_path / "h.npy", np.full((11, 2, 3), 0.3))
    assert "expected (samples, 2 regions, 2 state variables)" in errors_of(tmp_path, base)
    hist = np.random.default_rng(0).uniform(0, 0.5, (11, 2, 2))
    np.save(tmp_path / "h.npy", hist)
    exp = load_experiment(write(tmp_path, base))
    np.testing.assert_array_equal(exp.plan.masses.initial, hist)


def test_a_parameter_set_by_name_and_single_values_over_it(tmp_path):
    """regions.parameter_set picks a model's named set; regions.parameters change single
    values of it; an unknown set is named with the choices."""
    base = {
        "name": "sets", "seed": 1, "duration": "1 s",
        "connectome": {"source": {"weights": [[0]], "lengths": [[0]]}},
        "record": {"eeg": None},
    }  # fmt: skip
    from multiscale.config import Experiment
    from multiscale.regions import JansenRit

    v0 = list(JansenRit.PARAMETERS).index("v0")
    mu = list(JansenRit.PARAMETERS).index("mu")
    tvb = Experiment.from_dict(base | {"regions": {"model": "jansen_rit"}}, tmp_path)
    assert tvb.plan.masses.parameters[0, v0] == 5.52  # the table's defaults: TVB's
    paper = Experiment.from_dict(
        base | {"regions": {"model": "jansen_rit", "parameter_set": "jansen_rit_1995"}}, tmp_path
    )
    assert paper.plan.masses.parameters[0, v0] == 6.0
    mixed = Experiment.from_dict(
        base | {"regions": {"model": "jansen_rit", "parameter_set": "jansen_rit_1995",
                            "parameters": {"v0": "5.8 mV", "mu": 0.2}}},
        tmp_path,
    )  # fmt: skip
    assert mixed.plan.masses.parameters[0, [v0, mu]].tolist() == [5.8, 0.2]
    with pytest.raises(ConfigError) as err:
        Experiment.from_dict(
            base | {"regions": {"model": "jansen_rit", "parameter_set": "jansen_rit_1996"}},
            tmp_path,
        )
    assert "regions.parameter_set: got 'jansen_rit_1996'" in str(err.value)
    assert "did you mean 'jansen_rit_1995'" in str(err.value)


def test_a_left_out_region_step_is_the_model_s_converged_default(tmp_path):
    """No regions.integrator.dt: the model's DEFAULT_DT (the Epileptor needs 0.05, at 0.1 its
    seizure period is 3-8 % too long); a step written in the file is kept."""
    import multiscale as ms

    nodes = {"weights": [[0, 1], [1, 0]], "lengths": [[0, 30], [30, 0]], "labels": ["A", "B"]}

    def step(model, integrator):
        data = {"name": "x", "seed": 1, "duration": "1 s", "connectome": {"source": nodes},
                "regions": {"model": model, "integrator": integrator}, "record": {"eeg": None},
                "output": {"path": str(tmp_path / "x.h5")}}  # fmt: skip
        return ms.experiment(data).regions.dt_ms

    assert step("epileptor", {}) == 0.05
    assert step("jansen_rit", {}) == 0.1
    assert step("epileptor", {"dt": "0.1 ms"}) == 0.1
