"""End-to-end co-simulation on a tiny connectome: the exchange really happens, both ways."""

import h5py
import numpy as np
import pytest
from experiment_harness import write_tiny_connectome

from multiscale.config import load_experiment
from multiscale.cosim import Simulation
from multiscale.storage import read_log

# the tiny connectome: R0 -> R1 (the circuit) -> R2; R0 -> R3. Nothing leaves the circuit
# towards R0 or R3.

EXPERIMENT = """
name: tiny
seed: 3
duration: 600 ms
connectome:
  source: {{weights: w.npy, lengths: l.npy}}
regions:
  model: jansen_rit
  parameters: {{v0: 6 mV, mu: {mu}}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 1.0}}
circuits:
  - name: c
    model: ei_network
    region: R1
    parameters: {{n_E: 160, n_I: 40, nu_bg: {nu_bg}}}
    input_gain: {input_gain}
    output_gain: 1.0
    field_gain: 0.01
record: {{eeg: null}}
brian: {{target: numpy}}
output: {{path: {out}}}
{extra}
"""


def run(tmp_path, name, *, mu=0.22, nu_bg=2.5, input_gain=0.0, extra=""):
    write_tiny_connectome(tmp_path)
    out = tmp_path / f"{name}.h5"
    p = tmp_path / f"{name}.yaml"
    p.write_text(EXPERIMENT.format(mu=mu, nu_bg=nu_bg, input_gain=input_gain, out=out, extra=extra))
    exp = load_experiment(p)
    Simulation(exp.plan, progress=False).run()
    with h5py.File(out, "r") as f:
        return {
            "regions": f["regions/data"][:],
            "rate": f["circuits/c/rate"][:],
            "spikes": f["circuits/c/spikes/E/times"][:],
            "complete": bool(f.attrs["complete"]),
            "file": out,
        }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cosim")
    return {
        "base": run(tmp, "base", input_gain=0.0),
        "again": run(tmp, "again", input_gain=0.0),
        "driven": run(tmp, "driven", input_gain=3000.0),
        "quiet": run(tmp, "quiet", input_gain=0.0, nu_bg=1.0),
    }


def test_runs_complete_and_reproduce(runs):
    assert runs["base"]["complete"]
    np.testing.assert_array_equal(runs["base"]["regions"], runs["again"]["regions"])
    np.testing.assert_array_equal(runs["base"]["spikes"], runs["again"]["spikes"])


def test_circuit_rate_follows_the_mass_input(runs):
    """input_gain 0 cuts the circuit off from R0; with a gain the mass input drives it.
    This small network (160/40 cells) is inhibition-stabilised and its response to a
    moderate input is not monotonic: a drive that reaches E also reaches the I cells.
    Measured (E rate, Hz, this version's drive): 19.0 cut off, 18.8 at gain 30, 11.6 at
    100, 17.2 at 300, 32.5 at 3000 (the previous drive, other realisations: 15.8, 27.9 at
    30, 21.1 at 100, 29.7 at 300). Only a strong input raises the rate whatever the
    realisation, so that is the one tested (as in the afferent-edge test below)."""
    base, driven = runs["base"]["rate"][100:].mean(), runs["driven"]["rate"][100:].mean()
    assert driven > 1.2 * base + 1.0, (base, driven)


def test_masses_see_the_circuit_and_only_through_edges(runs):
    """A quieter circuit changes R2 (fed by the circuit) and leaves R0 and R3 (not fed by
    it) bit-identical: the circuit reaches the network through its edges and nowhere else."""
    base, quiet = runs["base"]["regions"], runs["quiet"]["regions"]
    assert runs["quiet"]["rate"][100:].mean() < runs["base"]["rate"][100:].mean()
    np.testing.assert_array_equal(base[:, 0], quiet[:, 0])
    np.testing.assert_array_equal(base[:, 3], quiet[:, 3])
    assert np.abs(base[100:, 2] - quiet[100:, 2]).max() > 0.1  # mV


def test_circuit_sees_masses_through_its_afferent_edges(tmp_path):
    """Changing R0's drive changes the circuit's spikes when input_gain > 0 (measured E
    rate, this version's drive: 18.3 Hz at mu 0.12, 60.1 Hz at 0.32; the previous drive
    gave 80.7 and 44.5 Hz: R0's output through the sigmoid coupling is not monotonic in mu,
    nor the circuit's rate in its input, hence no direction). The 160/40 network fluctuates
    strongly (inhibition-stabilised), so the gain is large enough for the input to
    dominate: at 300 the two rates were 26.2 and 28.6 Hz with the previous drive (16.1 and
    23.9 Hz with this one)."""
    a = run(tmp_path, "a", mu=0.12, input_gain=3000.0)
    b = run(tmp_path, "b", mu=0.32, input_gain=3000.0)
    ra, rb = a["rate"][100:].mean(), b["rate"][100:].mean()
    assert abs(ra - rb) > 0.2 * max(ra, rb), (ra, rb)


def test_output_layout_units_and_perturbation_log(tmp_path):
    extra = """
perturbations:
  - {name: gaba_loss, circuit: c, knob: g_GABA, scale: 0.3, at: 300 ms}
  - {name: slow, regions: [R2], parameter: B, set: 30, at: 200 ms, until: 400 ms}
"""
    r = run(tmp_path, "p", extra=extra)
    with h5py.File(r["file"], "r") as f:
        assert f.attrs["complete"] and f.attrs["seed"] == 3
        assert "tiny" in f.attrs["config"]
        assert f["regions/data"].shape == (600, 4)
        assert f["regions/data"].attrs["unit"] == "mV"
        assert f["regions/data"].attrs["sampling_rate"] == 1000.0
        assert f["circuits/c/rate"].attrs["unit"] == "Hz"
        assert f["circuits/c/field"].attrs["unit"] == "mV"
        assert f["circuits/c/spikes/E/times"].attrs["unit"] == "ms"
        log = [(e.time_ms, e.name, e.what) for e in read_log(f)]
    names = [(t, n) for t, n, _ in log]
    # applied at the first window boundary at or after the requested time (5 ms windows)
    assert names == [(200.0, "slow"), (300.0, "gaba_loss"), (400.0, "slow")]
    assert log[1][2] == "c.g_GABA = 0.3" and log[2][2].startswith("B[R2] = [22.0]")
    rate = r["rate"]
    assert rate[350:].mean() > rate[100:300].mean()  # GABA loss raises the E rate
