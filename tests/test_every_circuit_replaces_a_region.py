"""Every built-in circuit replaces a region of a connectome in an experiment file and
exchanges activity both ways (a small size of each, 300 ms, Brian2's numpy target: no
compiling for these one-off sizes).

R0 -> R1 (the circuit) -> R2; R0 -> R3. Two runs per circuit, identical but for the
circuit's input_gain: with the afferent input the circuit fires more, R2 (which only the
circuit reaches) changes, and R3 (fed by R0 alone) stays bit for bit the same.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from experiment_harness import write_tiny_connectome

from multiscale.circuits import CIRCUITS
from multiscale.config import load_experiment
from multiscale.cosim import Simulation

#: small but working sizes (default sizes: `multiscale info`)
SMALL = {
    "ei_network": {"n_E": 160, "n_I": 40},
    "hh_ei_network": {"n_E": 80, "n_I": 20},
    "brunel2000": {"n_E": 800, "n_I": 200, "C_E": 100},
    "potjans_diesmann": {"scale_N": 0.02, "scale_K": 0.1},
    "qif_population": {"n": 1000},
    "basal_ganglia": {"n": 10},
}

EXPERIMENT = """
name: {model}_in_a_connectome
seed: 5
duration: 300 ms
connectome:
  source: {{weights: w.npy, lengths: l.npy}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV, mu: 0.22}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
circuits:
  - name: c
    model: {model}
    region: R1
    parameters: {parameters}
    input_gain: {input_gain}
    output_gain: 0.05  # the Jansen-Rit sigmoid would saturate at Brunel's 100 Hz x 1
    field_gain: 0.01
record: {{eeg: null}}
brian: {{target: numpy}}
output: {{path: {out}}}
"""


def test_every_built_in_circuit_is_covered():
    assert set(SMALL) == set(CIRCUITS)


def run(folder, model: str, input_gain: float) -> dict:
    out = folder / f"{model}_{input_gain:g}.h5"
    path = folder / f"{model}_{input_gain:g}.yaml"
    parameters = "{" + ", ".join(f"{k}: {v}" for k, v in SMALL[model].items()) + "}"
    path.write_text(
        EXPERIMENT.format(model=model, parameters=parameters, input_gain=input_gain, out=out)
    )
    Simulation(load_experiment(path).plan, progress=False).run()
    with h5py.File(out, "r") as f:
        spikes = f["circuits/c/spikes"]
        return {
            "complete": bool(f.attrs["complete"]),
            "regions": f["regions/data"][:],
            "rate": f["circuits/c/rate"][:],
            "spike_count": sum(len(spikes[pop]["times"]) for pop in spikes),
            "populations": set(spikes),
        }


@pytest.mark.parametrize("model", sorted(SMALL))
def test_circuit_replaces_a_region_and_exchanges_both_ways(tmp_path, model):
    write_tiny_connectome(tmp_path)
    base = run(tmp_path, model, 0.0)
    driven = run(tmp_path, model, 30000.0)
    assert base["complete"] and driven["complete"]
    assert base["populations"] == set(CIRCUITS[model].POPULATIONS)
    assert np.all(np.isfinite(base["rate"])) and len(base["rate"]) == 300
    print(
        model, "spikes without / with afferent input:", base["spike_count"], driven["spike_count"]
    )
    assert driven["spike_count"] > 1.1 * base["spike_count"]
    # R3 hears only R0, which hears nothing: the same in both runs
    np.testing.assert_array_equal(base["regions"][:, 3], driven["regions"][:, 3])
    # R2 hears only the circuit
    assert not np.array_equal(base["regions"][:, 2], driven["regions"][:, 2])
