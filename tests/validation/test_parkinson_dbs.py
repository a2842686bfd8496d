"""experiments/parkinson_dbs.yaml against docs/science.md "Parkinsonian beta and DBS", inside the
full co-simulation: the Kumaravelu-Brocker-Grill circuit in rM1 of the TVB 76-region
Jansen-Rit network (seed 42, 5 s per condition), its GPi spikes read back from the output
HDF5 (/circuits/bg/spikes/GPi/times in ms, /indices).

Four conditions, the file's ``sweep.conditions``, each a run of the experiment: healthy
(parkinsonian 0, no DBS), parkinsonian (1, no DBS), parkinsonian + 130 Hz STN-DBS (the file
as it is) and parkinsonian + 20 Hz DBS. Targets: parkinsonian / healthy
GPi beta power > 1.5; 130 Hz DBS at least halves it; 20 Hz DBS changes it by < 20 %.

Beta power: the file's declared measure ``gpi_beta`` (multiscale/measures.py, stored in
each output's /measures): the 7-35 Hz power (Hz^2) of the GPi population activity (spikes
in 1 ms bins as a rate per cell, Welch PSD over 1 s Hann segments, 50 % overlap) from
0.5 s to the end: 4.5 s analysed per condition, one seed (42).

Measured (Hz^2; about 2 minutes for the four runs, compiled; cells by the exponential
midpoint step, circuits/basal_ganglia.py "Integration"; delays in NEST's convention,
multiscale/circuit.py "Delays"; the external drive drawn in generated code,
multiscale/poisson_drive.py): healthy 76.9, parkinsonian 685.6, 130 Hz DBS 177.3, 20 Hz
DBS 562.4: ratios 8.92, 0.26, 0.82 (KBG's per-cell measure, printed with -s, not asserted:
1.75, 0.30, 0.99). GPi rates 24.5, 43.3, 76.6, 46.5 Hz. The 20 Hz ratio is 0.02 inside
its bound (0.8). With the previous drive (drawn in Python; other realisations): 71.7,
698.9, 156.0, 670.9: ratios 9.74, 0.22, 0.96 (per cell 1.75, 0.29, 1.02); GPi 24.1, 42.7,
76.8, 46.0 Hz. With every connection acting one step earlier as well: 78.1, 710.1, 154.7,
596.3: ratios 9.09, 0.22, 0.84.
With the cells' earlier Rush-Larsen Euler step: 74.6, 534.3, 151.5, 575.3: ratios 7.16,
0.28, 1.08 (per cell 1.64, 0.32, 1.07); GPi 24.7, 41.2, 75.1, 45.3 Hz.
Before the delays were exact (each connection acted one 0.025 ms step late), with
scipy's Welch over the mean-removed whole series: 80.2, 581.4, 165.2, 550.8 Hz^2, ratios
7.25, 0.28, 0.95.
"""

from pathlib import Path

import h5py
import pytest

from multiscale import measures
from multiscale.analysis import per_cell_beta_power
from multiscale.config import load_experiment
from multiscale.cosim import Simulation
from multiscale.sweep import variants

pytestmark = pytest.mark.validation
EXPERIMENT = Path(__file__).resolve().parents[2] / "experiments" / "parkinson_dbs.yaml"
SKIP_MS = 500.0
CONDITIONS = dict(variants(EXPERIMENT, {}))  # the file's own sweep.conditions


@pytest.fixture(scope="module")
def beta(tmp_path_factory):
    """The file's declared measures per condition (gpi_beta in Hz^2, gpi_rate in Hz), as
    stored in each output, and KBG's per-cell measure (printed, not asserted)."""
    out = {}
    folder = tmp_path_factory.mktemp("parkinson_dbs")
    for name, overrides in CONDITIONS.items():
        path = folder / f"{name}.h5"
        exp = load_experiment(EXPERIMENT, {**overrides, "output.path": str(path)})
        assert Simulation(exp.plan, progress=False).run()
        with h5py.File(path) as f:
            assert f.attrs["complete"]
            t = f["circuits/bg/spikes/GPi/times"][:]
            i = f["circuits/bg/spikes/GPi/indices"][:]
            stop = float(f.attrs["duration_ms"])
            out[name] = {m.name: m.value for m in measures.read(f)}
        n = int(exp.circuits[0].parameters.get("n", 10))
        assert t.min() >= 0.0 and t.max() < stop and set(i) <= set(range(n))
        out[name]["per_cell"] = per_cell_beta_power(t, i, n, SKIP_MS, stop)
        m = out[name]
        print(f"{name}: GPi beta {m['gpi_beta']:.1f} Hz^2 (per cell {m['per_cell']:.1f}), "
              f"GPi rate {m['gpi_rate']:.1f} Hz")  # fmt: skip
    return out


def ratio(beta, condition: str, measure: str = "gpi_beta") -> float:
    r = beta[condition][measure] / beta["parkinsonian"][measure]
    print(f"{condition} / parkinsonian: {r:.3f}", "per cell",
          round(beta[condition]["per_cell"] / beta["parkinsonian"]["per_cell"], 3))  # fmt: skip
    return r


def test_parkinsonian_state_exaggerates_gpi_beta_in_the_cosimulation(beta):
    assert 1 / ratio(beta, "healthy") > 1.5


def test_130_hz_dbs_halves_gpi_beta_in_the_cosimulation(beta):
    assert ratio(beta, "dbs130") <= 0.5


def test_20_hz_dbs_leaves_gpi_beta_within_20_percent_in_the_cosimulation(beta):
    assert abs(ratio(beta, "dbs20") - 1.0) < 0.2
