"""Batched masses-only runs (multiscale.fit.batch, multiscale.engine.batch): member k of a
batch is, to the bit, what a run of its experiment stores, whatever else is in its batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import multiscale.fit.batch as batch_module
from multiscale.api import experiment, load, run
from multiscale.fit.batch import batchable, simulate_batch

RESTING = Path(__file__).resolve().parents[1] / "experiments" / "resting_state.yaml"
#: resting_state without its circuit, shortened: the 76-region Jansen-Rit network with noise
MASSES = {"circuits": [], "measures": [], "duration": "0.5 s"}


def resting(**overrides) -> object:
    return load(RESTING, {**MASSES, **overrides})


def stored(exp, path: Path) -> dict[str, object]:
    """What a run of exp stores: kind -> Series (regions and each sensor recorded)."""
    result = run(exp, path)
    kinds = ["regions", *exp.plan.sensors]
    return {kind: getattr(result, kind) for kind in kinds}


def assert_member_is_run(member: dict, series: dict) -> None:
    assert set(member) == set(series)
    for kind, s in series.items():
        got = member[kind]
        np.testing.assert_array_equal(got.data, s.read(), err_msg=kind, strict=True)
        assert list(got.channels) == list(s.channels)
        assert (got.unit, got.sampling_rate_hz) == (s.unit, s.sampling_rate)


#: Jansen-Rit variants: a seed each, the coupling strength a, a region parameter for all
#: regions (B) and for one (mu of rM1), the noise intensity
VARIANTS = [
    {"seed": 1},
    {"seed": 2, "regions.coupling.a": 0.02},
    {"seed": 3, "regions.parameters.B": 25.0},
    {
        "seed": 4,
        "regions.parameters.mu": {"rM1": 0.26, "default": 0.22},
        "regions.integrator.noise": {"y4": 2.0e-3},
    },
]


@pytest.fixture(scope="module")
def jansen_rit(tmp_path_factory) -> tuple[list, list[dict]]:
    """The variants and what their runs store."""
    folder = tmp_path_factory.mktemp("runs")
    exps = [resting(**v) for v in VARIANTS]
    runs = [stored(e, folder / f"v{k}.h5") for k, e in enumerate(exps)]
    return exps, runs


def test_each_member_is_its_run_to_the_bit(jansen_rit):
    exps, runs = jansen_rit
    assert batchable(exps) is None
    batch = simulate_batch(exps)
    for member, series in zip(batch, runs, strict=True):
        assert_member_is_run(member, series)
    assert set(batch[0]) == {"regions", "eeg", "meg"}
    eeg = batch[0]["eeg"]
    np.testing.assert_allclose(eeg.data.mean(axis=1), 0.0, atol=1e-9)  # average reference
    assert eeg.data.shape == (500, len(eeg.channels)) and eeg.unit == "uV"
    assert not np.array_equal(batch[0]["eeg"].data, batch[1]["eeg"].data)


def test_a_members_signals_do_not_depend_on_its_batch(jansen_rit):
    """Permuted, resized, on one thread, alone: each member's noise is its own stream."""
    exps, runs = jansen_rit
    order = [3, 1, 0]
    permuted = simulate_batch([exps[k] for k in order], threads=1)
    for member, k in zip(permuted, order, strict=True):
        assert_member_is_run(member, runs[k])
    (alone,) = simulate_batch([exps[2]])
    assert_member_is_run(alone, runs[2])


def test_perturbations_and_region_stimuli_act_as_in_a_run(tmp_path, monkeypatch):
    """A ramped parameter change, an edge cut and a lesion, and pulse and sinusoid stimuli
    (one member deterministic, so its steps switch between with and without a term; one
    with noise on two variables). Then again with one member and one window per call, so
    that members take turns in the increments' slots."""
    changes = {
        "perturbations": [
            {"name": "slow", "regions": {"hubs": 10}, "parameter": "a_2", "scale": 0.7,
             "at": "100 ms", "ramp": "150 ms"},
            {"name": "cut", "edges": {"from": ["rV1"], "to": "all"}, "scale": 0.0,
             "at": "220 ms", "until": "330 ms"},
        ],
        "stimuli": [
            {"name": "dbs", "kind": "pulse_train", "regions": ["rM1", "lM1"], "variable": "y4",
             "amplitude": 2.0, "frequency": "50 Hz", "width": "2 ms", "at": "50 ms",
             "until": "200 ms"},
        ],
    }  # fmt: skip
    sinusoid = {
        "name": "flicker", "kind": "sinusoid", "regions": "rV1", "variable": "y4",
        "amplitude": 0.5, "frequency": "10 Hz", "at": "125 ms", "until": "400 ms",
    }  # fmt: skip
    lesion = {"name": "stroke", "lesion": ["rM1"], "at": "300 ms"}
    eeg_only = {"record.meg": None}
    exps = [
        resting(seed=5, **eeg_only, **changes),
        resting(
            seed=6,
            **eeg_only,
            **{**changes, "stimuli": [*changes["stimuli"], sinusoid]},
            **{"regions.integrator.noise": {"y1": 1.0e-4, "y4": 1.0e-3}},
        ),
        resting(
            seed=7,
            **eeg_only,
            **{"regions.integrator.noise": {}},
            stimuli=[sinusoid],
            perturbations=[lesion],
        ),
    ]
    assert batchable(exps) is None
    batch = simulate_batch(exps)
    for k, (member, exp) in enumerate(zip(batch, exps, strict=True)):
        assert_member_is_run(member, stored(exp, tmp_path / f"p{k}.h5"))
    assert np.all(batch[2]["regions"].data[300:, exps[2].plan.connectome.index("rM1")] == 0.0)
    monkeypatch.setattr(batch_module, "_BUFFER_BYTES", 1)
    for one_by_one, whole in zip(simulate_batch(exps, threads=1), batch, strict=True):
        for kind, data in whole.items():
            np.testing.assert_array_equal(one_by_one[kind].data, data.data, strict=True)


def wilson_cowan(**overrides) -> object:
    """A small deterministic experiment: Wilson-Cowan, linear coupling, windows of 15 ms
    sampled every 4 ms (so samples straddle windows), EEG and SEEG."""
    return experiment(
        {
            "name": "wc",
            "seed": 1,
            "duration": "0.3 s",
            "connectome": {"source": "tvb76"},
            "regions": {
                "model": "wilson_cowan",
                "coupling": {"kind": "linear", "a": 0.1},
                "integrator": {"dt": "0.1 ms"},
            },
            "cosim": {"resolution": "1.5 ms"},
            "record": {"sampling_rate": "250 Hz", "eeg": "auto", "seeg": "seeg:tvb"},
        },
        overrides=overrides,
    )


def test_a_deterministic_model_with_samples_across_windows(tmp_path):
    exps = [wilson_cowan(), wilson_cowan(**{"regions.coupling.a": 0.4, "seed": 9})]
    assert exps[0].plan.masses.noise is None
    batch = simulate_batch(exps)
    for k, (member, exp) in enumerate(zip(batch, exps, strict=True)):
        assert_member_is_run(member, stored(exp, tmp_path / f"wc{k}.h5"))
    assert set(batch[0]) == {"regions", "eeg", "seeg"}
    assert batch[0]["regions"].data.shape == (75, 76)


def test_what_cannot_be_batched_is_said_in_one_line():
    with_circuit = load(RESTING, {"duration": "0.5 s", "measures": []})
    reason = batchable([with_circuit])
    assert reason.startswith("circuits: rM1 is a spiking circuit (m1)")
    with pytest.raises(ValueError, match="circuits: rM1 is a spiking circuit"):
        simulate_batch([with_circuit])
    base = resting(**{"record.meg": None})
    for change, said in [
        (
            {"connectome.conduction_speed": "5 m/s"},
            "conduction delays (connectome.conduction_speed)",
        ),
        ({"duration": "0.4 s"}, "duration"),
        ({"regions.integrator.method": "euler"}, "regions.integrator.method"),
        ({"record.sampling_rate": "500 Hz"}, "record.sampling_rate"),
        ({"record.eeg": "sphere"}, "the sensors recorded (record.eeg, record.meg, record.seeg)"),
    ]:
        other = resting(**{"record.meg": None, **change})
        assert batchable([base, other]) == f"the variants differ in {said}; a batch shares it"
    compat = resting(**{"record.meg": None, "regions.integrator.tvb_compat": True})
    assert "tvb_compat" in batchable([base, compat])
    assert batchable([]) == "no experiments"


def test_a_diverging_member_is_nan_and_the_others_go_on(tmp_path):
    """Where a run would stop (its state not finite), the member's signals are NaN."""
    fine = wilson_cowan()
    wild = wilson_cowan(**{"regions.parameters.tau_e": 1.0e-300})  # dE/dt overflows
    with pytest.raises(FloatingPointError):
        run(wild, tmp_path / "wild.h5")
    good, bad = simulate_batch([fine, wild])
    assert np.isnan(bad["eeg"].data[-1]).all() and np.isnan(bad["regions"].data[-1]).all()
    assert_member_is_run(good, stored(fine, tmp_path / "fine.h5"))
