"""Digital twins recover the parameters of a synthetic patient from its EEG alone.

The "patient" is the 76-region Jansen-Rit brain (tvb-data's connectome, TVB's 65-electrode
EEG) simulated for 21 s with noise seed 11 and exported to EDF, as a clinical recording
would arrive. The twin is the same model with another noise seed (3 and the fit's own
evaluation seeds), so no fit can match the recording sample by sample: only its spectra.
The fit reads the EDF back through MNE, matches the channels by name and fits the
per-channel log power spectrum (2-30 Hz, 1 Hz resolution) of 20 s of recording with
CMA-ES.

Measured when written: global B and mu (truth 25 mV, 0.15 /ms), 96 evaluations of 11 s:
B 25.64 mV, mu 0.1528 /ms (the search's final mean): within 2.6 % and 1.9 %. Tolerance: 10 %
of the true value (the loss is flat within a few percent of the optimum at the noise
floor of 10 s spectra; the search's final sd was 1.4 mV and 0.006 /ms).

Not recovered yet, measured with this set-up: an excitability map (mu in 3 of the 76
regions, truth 0.09, 0.22, 0.12 /ms; fitted 0.05, 0.30, 0.05 with independent noise and
0.118, 0.05, 0.136 with one noise realisation for all evaluations) and a focal slowing
map (B in rTCS, rV1, lPFCDL, truth 28, 28, 22 mV; fitted 30.3, 34, 18.6): the loss over
the 63 channels' spectra changes with one region's parameter by less than its noise
between evaluations, so the search drifts. docs/fitting.md says so.
"""

from __future__ import annotations

import numpy as np
import pytest
from fit_files import brain, brain_fields

from multiscale import api
from multiscale.export import export
from multiscale.fit.run import fit

pytestmark = pytest.mark.validation


def _patient(folder, parameters: str):
    """The patient's 21 s recording, exported to EDF."""
    exp = api.experiment(
        brain_fields("patient", 11, "21 s", parameters),
        base_dir=folder,
    )
    result = api.run(exp, folder / "patient.h5")
    return export(result.path, "edf", folder / "patient.edf")


def _fit(folder, target, parameters: str, free: str, evaluations: int):
    text = (
        brain("twin", 3, "11 s", parameters)
        + f"""
fit:
  target: {{eeg: {target}, window: [1 s, 21 s]}}
  features: [{{kind: log_spectrum, band: [2 Hz, 30 Hz]}}]
  free:
{free}
  budget: {{evaluations: {evaluations}}}
  population: 8
"""
    )
    path = folder / "twin.yaml"
    path.write_text(text)
    return fit(path, folder / "fit", jobs=2, log=print)


def test_global_excitability_and_inhibition_are_recovered(tmp_path):
    target = _patient(tmp_path, "{B: 25 mV, mu: 0.15}")
    outcome = _fit(
        tmp_path,
        target,
        "{}",
        "    regions.parameters.B: {min: 15 mV, max: 35 mV}\n"
        "    regions.parameters.mu: {min: 0.05, max: 0.3}",
        96,
    )
    b, mu = outcome.fitted
    print(f"recovered B {b:.2f} mV (truth 25), mu {mu:.4f} /ms (truth 0.15)")
    assert b == pytest.approx(25.0, rel=0.10)
    assert mu == pytest.approx(0.15, rel=0.10)
    assert np.isfinite(outcome.best.loss)
