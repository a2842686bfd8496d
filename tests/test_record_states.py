"""Raw states at every step (record.states): the same numbers as a run without them, one
dataset per variable with its unit, and bad names rejected before anything runs."""

import h5py
import numpy as np
import pytest

from multiscale.config import ConfigError, load_experiment
from multiscale.cosim import Simulation
from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.regions import JansenRit

EXPERIMENT = """
name: s
seed: 3
duration: 200 ms
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
  integrator: {{dt: 0.1 ms, noise: {{y4: 1.0e-3}}}}
record: {{eeg: null, sampling_rate: 10000 Hz{states}}}
output: {{path: {out}, figures: false}}
"""


def write(tmp_path, name, states):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "w.npy", rng.random((3, 3)))
    np.save(tmp_path / "l.npy", rng.uniform(5, 30, (3, 3)))
    p = tmp_path / f"{name}.yaml"
    p.write_text(EXPERIMENT.format(out=tmp_path / f"{name}.h5", states=states))
    return p


def test_engine_states_path_gives_the_same_numbers():
    cp = COUPLINGS["sigmoidal_jansen_rit"]
    rng = np.random.default_rng(1)
    W, D = rng.random((4, 4)), rng.integers(1, 40, (4, 4))
    noise = np.zeros(len(JansenRit.state_names()))
    noise[4] = 1e-3

    def engine():
        return Engine(
            JansenRit, JansenRit.parameter_matrix(4), cp, cp.parameter_vector({"a": 1.0}),
            W, D, 0.1, noise=noise, rng=np.random.default_rng(5),
        )  # fmt: skip

    a, b = engine(), engine()
    states = np.empty((70, 4, len(JansenRit.state_names())))
    for _ in range(3):
        np.testing.assert_array_equal(a.advance(70), b.advance(70, states=states))
        np.testing.assert_array_equal(states[-1], b.X)
    with pytest.raises(ValueError, match="states must have shape"):
        b.advance(10, states=np.empty((9, 4, 6)))


def test_record_states_every_step_with_units(tmp_path):
    plain = write(tmp_path, "plain", "")
    Simulation(load_experiment(plain).plan, progress=False).run()
    rec = write(tmp_path, "rec", ", states: [y0, y1, y2]")
    Simulation(load_experiment(rec).plan, progress=False).run()
    with h5py.File(tmp_path / "plain.h5") as f0, h5py.File(tmp_path / "rec.h5") as f:
        obs = f["regions/data"][:]
        np.testing.assert_array_equal(obs, f0["regions/data"][:])  # recording changes nothing
        y1, y2 = f["regions/states/y1"], f["regions/states/y2"]
        assert y1.shape == (2000, 3)  # 200 ms at dt 0.1 ms, every region
        assert y1.attrs["unit"] == "mV" and y1.attrs["sampling_rate"] == 10000.0
        np.testing.assert_allclose(y1[:] - y2[:], obs, rtol=1e-12, atol=1e-12)
        assert "regions/states/y3" not in f


def test_record_states_all_and_bad_names(tmp_path):
    exp = load_experiment(write(tmp_path, "all", ", states: all"))
    assert exp.record.states == JansenRit.state_names()
    with pytest.raises(ConfigError) as err:
        load_experiment(write(tmp_path, "bad", ", states: [y1, yy4]"))
    assert "record.states: got 'yy4'" in str(err.value) and "y4" in str(err.value)
