"""The shipped twin study (experiments/twin_stimulation.yaml) end to end: the fit recovers
the synthetic patient's true parameters from its clinical EDF, and the twin's predicted
response to the stimulation matches the true patient's.

The patient (experiments/data/make_patient_slowing.py) is the 76-region Jansen-Rit brain
with B = 25 mV and mu = 0.2 /ms, recorded on 19 clinical 10-20 electrodes. The truth of
the prediction is that brain itself under the same stimulation, paired with itself on the
same noise, over as many seeds as the prediction has candidates. A twin that learned
nothing (the healthy default brain, B = 22 mV and mu = 0.22 /ms) is scored the same way,
to show that the fit is what makes the prediction right.

Measured when written (the fit is reproducible from the file, so these are the numbers
every run gives on this machine): B 24.86 mV and mu 0.1986 /ms recovered (truth 25 and
0.2), 96 evaluations, about 1 minute; the predictions in the assertions' comments.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from multiscale.analysis import BANDS_HZ
from multiscale.fit.predict import _band_powers
from multiscale.fit.problem import load_problem
from multiscale.fit.run import fit

pytestmark = pytest.mark.validation

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "experiments" / "twin_stimulation.yaml"
TRUE_B, TRUE_MU = 25.0, 0.2


def _response(problem, values: dict, seeds: list[int], folder: Path) -> dict[str, float]:
    """The channel-mean change (dB) per band of the file's intervention on the brain with
    ``values`` (field -> value), paired on each seed; the mean over the seeds."""
    from multiscale.config import load_experiment
    from multiscale.cosim import Simulation
    from multiscale.fit.predict import read_predict

    spec = read_predict(problem.data["predict"], str(FILE))
    (name, overrides), window = next(iter(spec.interventions.items())), spec.window_s
    changes = {b: [] for b in BANDS_HZ}
    for seed in seeds:
        powers = {}
        for arm, extra in (("twin", {}), ("intervention", overrides)):
            path = folder / f"{name}_{seed}_{arm}.h5"
            exp = load_experiment(
                FILE, {**values, **extra, "seed": seed, "output.figures": False}
            ).with_output(path)
            assert Simulation(exp.plan, progress=False).run()
            _, powers[arm] = _band_powers(path, "eeg", window)
        for b in BANDS_HZ:
            changes[b].append(np.mean(10 * np.log10(powers["intervention"][b] / powers["twin"][b])))
    return {b: float(np.mean(v)) for b, v in changes.items()}


def test_the_twin_recovers_the_patient_and_predicts_its_response(tmp_path):
    outcome = fit(FILE, tmp_path / "twin", jobs=2, log=print)
    b, mu = outcome.fitted
    print(f"fitted B {b:.2f} mV (truth {TRUE_B}), mu {mu:.4f} /ms (truth {TRUE_MU})")
    assert b == pytest.approx(TRUE_B, rel=0.10)
    assert mu == pytest.approx(TRUE_MU, rel=0.10)

    import csv

    with open(tmp_path / "twin" / "predict" / "summary.csv") as fh:
        rows = {r["quantity"]: r for r in csv.DictReader(fh)}
    problem = load_problem(FILE)
    seeds = [101, 102, 103]
    truth = _response(
        problem, {"regions.parameters.B": "25 mV", "regions.parameters.mu": 0.2}, seeds, tmp_path
    )
    naive = _response(problem, {}, seeds, tmp_path)
    for band in ("alpha", "beta"):
        predicted = float(rows[f"eeg:{band}"]["median"])
        lo, hi = float(rows[f"eeg:{band}"]["min"]), float(rows[f"eeg:{band}"]["max"])
        print(
            f"{band}: twin {predicted:+.2f} dB ({lo:+.2f} to {hi:+.2f}), true patient "
            f"{truth[band]:+.2f} dB, untrained default brain {naive[band]:+.2f} dB"
        )
        # measured: alpha +30.84 dB (twin, +30.46 to +31.40) against +31.12 (truth),
        # beta +0.47 (+0.30 to +0.90) against +0.57; the untrained brain: +30.13, +2.05
        assert abs(predicted - truth[band]) < 0.5
    # the fit is what makes the beta prediction right: the untrained brain is 1.5 dB off
    assert abs(naive["beta"] - truth["beta"]) > 1.0
