"""Fitting an experiment to a recording (``multiscale fit``): the digital twin.

From Python: ``from multiscale.fit import fit; outcome = fit("file.yaml", "results/twin")``
(``outcome.fitted``: the fitted values; docs/fitting.md).

Modules, one concern each:

- ``spec.py``: the ``fit:`` section, typed, with precise errors;
- ``target.py``: the recording, read through MNE, its channels matched to the model's;
- ``features.py``: what is compared (spectra, band powers, peaks, envelope connectivity,
  evoked responses) and the loss;
- ``problem.py``: the experiment, its fit section, and the map from the search's unit cube
  to field overrides;
- ``evaluate.py``: running candidates (batched, one by one, or over MPI ranks);
- ``batch.py``: many masses-only variants of one experiment in one compiled call;
- ``signals.py``: ``SensorData``, one sensor kind's signals as the fit compares them;
- ``optimisers.py``: CMA-ES, Optuna, and the prior draws of an SBI fit, seeded;
- ``table.py``: the table of evaluations and their stored features;
- ``run.py``: the fit itself (the directory, the loop, resume, stop);
- ``inference.py``: posteriors by simulation-based inference (``method: sbi``);
- ``outputs.py`` and ``report.py``: the twin, check runs, fit.h5 and figures;
- ``predict.py``: interventions predicted on the twin, with their spread.
"""

from typing import Any


def __getattr__(name: str) -> Any:  # fit and predict_again without importing them eagerly
    if name in ("fit", "predict_again", "FitOutcome"):
        from multiscale.fit import run

        return getattr(run, name)
    raise AttributeError(f"module 'multiscale.fit' has no attribute {name!r}")
