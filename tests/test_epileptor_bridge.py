"""The circuit -> Epileptor bridge (regions/epileptor.py): a circuit's rate becomes its
proxy node's x1, and its neighbours feel it through the Difference coupling's permittivity
term (Ks), exactly as they would feel a mass region."""

import h5py
import numpy as np
import pytest

from multiscale.config import load_experiment
from multiscale.cosim import Simulation
from multiscale.regions import Epileptor
from multiscale.regions.epileptor import RATE_SCALE_HZ, X1_MAX, X1_REST, X2_REST

EXPERIMENT = """
name: epi
seed: 5
duration: 400 ms
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions:
  model: epileptor
  parameters: {{x0: -2.2, Ks: -2.0}}
  coupling: {{kind: difference, a: 1.0}}
circuits:
  - {{name: c, model: ei_network, region: R0, parameters: {{n_E: 160, n_I: 40, nu_bg: {nu_bg}}},
      output_gain: 1.0, field_gain: 0.01}}
record: {{eeg: null, states: [x1, z]}}
brian: {{target: numpy}}
output: {{path: {out}, figures: false}}
"""


def test_rate_maps_to_x1_between_rest_and_its_ceiling():
    x = Epileptor.proxy_coupling_state(np.array([0.0, 25.0, 1e4]), "difference", None)
    np.testing.assert_allclose(x[:, 0], [X1_REST, X1_REST + 25.0 / RATE_SCALE_HZ, X1_MAX])
    np.testing.assert_allclose(x[:, 1], X2_REST)
    with pytest.raises(ValueError, match="difference coupling"):
        Epileptor.proxy_coupling_state(np.zeros(2), "linear", None)


def run(tmp_path, name, nu_bg):
    # R0 (the circuit) -> R1; R2 receives nothing from it
    W = np.array([[0, 0, 0], [1.0, 0, 0], [0, 0, 0]])
    np.save(tmp_path / "w.npy", W)
    np.save(tmp_path / "l.npy", np.full((3, 3), 15.0))
    p = tmp_path / f"{name}.yaml"
    p.write_text(EXPERIMENT.format(out=tmp_path / f"{name}.h5", nu_bg=nu_bg))
    assert Simulation(load_experiment(p).plan, progress=False).run()
    with h5py.File(tmp_path / f"{name}.h5") as f:
        states = f["regions/states"]
        return states["x1"][:], states["z"][:], f["circuits/c/rate"][:]


def test_a_firing_circuit_recruits_its_neighbour_into_a_seizure(tmp_path):
    """Measured (seed 5, the drive drawn in generated code): the silent circuit (0 Hz)
    leaves R1 interictal (x1 about -1.5); the circuit at ~48 Hz pulls R1's z down (2.89
    against 2.98 at 200 ms; at 100 ms, where it is asserted, 2.932 against 2.987, 0.005
    beyond the 0.05 asked) until R1 starts seizure discharges (x1 above 0 from 267 ms),
    which then raise z again. (With the previous drive: ~77 Hz, z 2.85 against 2.97 at
    200 ms, discharges after ~300 ms.)"""
    x1_slow, z_slow, rate_slow = run(tmp_path, "slow", 1.0)
    x1_fast, z_fast, rate_fast = run(tmp_path, "fast", 8.0)
    assert rate_fast[100:].mean() > rate_slow[100:].mean() + 20.0  # Hz
    assert np.isnan(z_fast[:, 0]).all()  # the proxy's own state is not integrated
    # Ks < 0: the proxy's higher x1 drives the neighbour's permittivity z down ...
    assert z_fast[2000, 1] < z_slow[2000, 1] - 0.05
    # ... into a seizure, which the silent circuit never causes
    assert x1_fast[:, 1].max() > 0.0 and x1_slow[:, 1].max() < -1.0
    np.testing.assert_array_equal(z_fast[:, 2], z_slow[:, 2])  # not connected: untouched
