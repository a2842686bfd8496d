"""Predicting an intervention on a fitted twin: ``predict:`` in the experiment file, run by
``multiscale fit`` once the fit is complete, or again with ``multiscale fit --predict DIR``.

::

    predict:
      candidates: 5                  # the fit's best 5 evaluations (default)
      interventions:                 # name -> field overrides, as --set takes them
        stimulation:
          stimuli: [{name: tacs, regions: [rPFCDL], variable: y4, kind: sinusoid,
                     frequency: 10 Hz, amplitude: 0.5, at: 2 s}]
      window: [2 s, 6 s]             # where the change is measured (default: after skip)

Each candidate (one of the fit's best parameter sets, or of an SBI fit's posterior samples)
runs twice with the same noise seed:
as the twin, and with the intervention's overrides on top (a paired design: the noise is
the same, so the difference is the intervention's). The prediction per candidate is the
change in each channel's band power (dB, per band) in the window, on the sensors of the
fit's first target kind (EEG, else MEG, else SEEG), and the change of every measure the
experiment declares. Over the candidates: the median and the range,
which is the spread the fit leaves.

Writes ``DIR/predict/<intervention>/candidate_K_{twin,intervention}.h5`` (full outputs),
``DIR/predict/predictions.csv`` (one row per intervention, candidate, band and channel)
and ``DIR/predict/summary.csv`` (per intervention and band: the median over candidates of
the channel-mean change, and its minimum and maximum), and one scalp map per intervention
of the median change (``DIR/predict/<intervention>.png``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from multiscale.analysis import BANDS_HZ, band_power, power_spectrum
from multiscale.config import ConfigError, _pair, _Section
from multiscale.cosim import stream_seed
from multiscale.fit.problem import Problem

#: how many of the fit's best evaluations a prediction runs by default
DEFAULT_CANDIDATES = 5


@dataclass(frozen=True)
class PredictSpec:
    """The ``predict:`` section: interventions (name -> overrides), how many of the best
    evaluations to run, and the window (s) the change is measured in (None: after the
    fit's skip)."""

    interventions: dict[str, dict[str, Any]]
    candidates: int
    window_s: tuple[float, float] | None


def read_predict(data: Any, where: str) -> PredictSpec | None:
    """The ``predict:`` section of the file named ``where``, or None if it has none."""
    if data is None:
        return None
    errors: list[str] = []
    s = _Section(data, "predict", errors, "a mapping (interventions, candidates, window)")
    raw = s.raw("interventions")
    interventions: dict[str, dict[str, Any]] = {}
    if not isinstance(raw, dict) or not raw:
        if raw is not None:
            s.error("predict.interventions", raw, "a mapping of names to field overrides")
    else:
        for name, overrides in raw.items():
            if not isinstance(overrides, dict) or not overrides:
                s.error(
                    f"predict.interventions.{name}", overrides, "a mapping of field paths to values"
                )
            else:
                interventions[str(name)] = dict(overrides)
    candidates = s.integer("candidates", DEFAULT_CANDIDATES, minimum=1, maximum=100)
    window = _pair(s, "window", "s", None)
    s.finish()
    if errors:
        lines = "\n".join(f"  {where}: {e}" for e in errors)
        raise ConfigError(f"{where}: {len(errors)} problem(s) in the predict section:\n{lines}")
    return PredictSpec(interventions, candidates or DEFAULT_CANDIDATES, window)


def check_predict(problem: Problem, spec: PredictSpec, u: np.ndarray) -> None:
    """Every intervention is valid on the twin at ``u`` (before anything runs)."""
    for name, overrides in spec.interventions.items():
        try:
            problem.load({**problem.overrides(u), **overrides})
        except ConfigError as err:
            raise ConfigError(
                f"{problem.path}: predict.interventions.{name}: the twin with these "
                f"overrides is not valid:\n{err}"
            ) from err


def candidates(evaluations: list, n: int, posterior_u: np.ndarray | None = None) -> list:
    """The points (unit cube) a prediction runs: the first ``n`` posterior samples of an
    SBI fit, else the ``n`` best evaluations with distinct parameter values."""
    if posterior_u is not None:
        return list(posterior_u[:n])
    return [e.u for e in _best_distinct(evaluations, n)]


def _best_distinct(evaluations: list, n: int) -> list:
    """The ``n`` best evaluations with distinct parameter values."""
    done = sorted((e for e in evaluations if np.isfinite(e.loss)), key=lambda e: e.loss)
    out, seen = [], set()
    for e in done:
        key = tuple(np.round(e.values, 12))
        if key not in seen:
            seen.add(key)
            out.append(e)
        if len(out) == n:
            break
    return out


@dataclass
class Prediction:
    """One intervention's predicted change: per candidate, band -> per-channel dB change;
    the channels; and per candidate the declared measures' ratio (intervention / twin)."""

    name: str
    channels: list[str]
    change_db: list[dict[str, np.ndarray]]
    measures: list[dict[str, float]]


def predict(
    problem: Problem, spec: PredictSpec, points: list[np.ndarray], out: Path, log=print
) -> list[Prediction]:
    """Run every intervention on the candidates at ``points`` (unit cube; see
    :func:`candidates`); write and return the predictions."""
    from multiscale.cosim import Simulation

    chosen = points
    check_predict(problem, spec, chosen[0])
    folder = out / "predict"
    folder.mkdir(exist_ok=True)
    kind = problem.spec.kinds[0]  # the first target's sensors: eeg, else meg, else seeg
    window = spec.window_s or (
        problem.spec.skip_ms / 1000.0,
        problem.experiment.duration_ms / 1000.0,
    )
    results = []
    for name, overrides in spec.interventions.items():
        (folder / name).mkdir(exist_ok=True)
        changes, measures, channels = [], [], []
        for k, u in enumerate(chosen):
            seed = stream_seed(problem.experiment.seed, f"fit.predict.{k}") % (2**31)
            base = {**problem.overrides(u, seed), "output.figures": False}
            powers, declared = {}, {}
            for arm, extra in (("twin", {}), ("intervention", overrides)):
                path = folder / name / f"candidate_{k}_{arm}.h5"
                path.unlink(missing_ok=True)
                exp = problem.load({**base, **extra}).with_output(path)
                sim = Simulation(exp.plan, progress=False)
                if not sim.run():
                    raise RuntimeError(f"predict {name}: candidate {k} ({arm}) did not complete")
                channels, powers[arm] = _band_powers(path, kind, window)
                declared[arm] = {m.name: m.value for m in sim.measured}
            with np.errstate(divide="ignore", invalid="ignore"):
                changes.append(
                    {
                        b: 10 * np.log10(powers["intervention"][b] / powers["twin"][b])
                        for b in BANDS_HZ
                    }
                )
                measures.append(
                    {m: declared["intervention"][m] / declared["twin"][m] for m in declared["twin"]}
                )
        results.append(Prediction(name, channels, changes, measures))
        log(_describe(results[-1], len(chosen)))
    _write_tables(folder, results)
    _figures(folder, results, kind)
    return results


def _band_powers(path: Path, kind: str, window_s) -> tuple[list[str], dict[str, np.ndarray]]:
    from multiscale.result import Result

    series = getattr(Result(path), kind)
    x = series.read(window_s[0], window_s[1])
    fr, P = power_spectrum(x, series.sampling_rate, 1.0)
    return list(series.channels), {b: band_power(fr, P, lims) for b, lims in BANDS_HZ.items()}


def _describe(p: Prediction, n: int) -> str:
    lines = [f"prediction {p.name} ({n} candidates; change of the channel-mean band power):"]
    for b in BANDS_HZ:
        v = np.array([np.nanmean(c[b]) for c in p.change_db])
        lines.append(
            f"  {b}: median {np.median(v):+.2f} dB (range {v.min():+.2f} to {v.max():+.2f})"
        )
    for m in p.measures[0] if p.measures else {}:
        v = np.array([x[m] for x in p.measures])
        lines.append(f"  measure {m}: x{np.median(v):.3g} (range x{v.min():.3g} to x{v.max():.3g})")
    return "\n".join(lines)


def _write_tables(folder: Path, results: list[Prediction]) -> None:
    with open(folder / "predictions.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["intervention", "candidate", "band", "channel", "change_db"])
        for p in results:
            for k, c in enumerate(p.change_db):
                for b in BANDS_HZ:
                    for ch, v in zip(p.channels, c[b], strict=True):
                        w.writerow([p.name, k, b, ch, repr(float(v))])
    with open(folder / "summary.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["intervention", "quantity", "unit", "median", "min", "max", "candidates"])
        for p in results:
            for b in BANDS_HZ:
                v = np.array([np.nanmean(c[b]) for c in p.change_db])
                w.writerow([p.name, f"eeg:{b}", "dB", np.median(v), v.min(), v.max(), len(v)])
            for m in p.measures[0] if p.measures else {}:
                v = np.array([x[m] for x in p.measures])
                w.writerow(
                    [p.name, f"measure:{m}", "ratio", np.median(v), v.min(), v.max(), len(v)]
                )


def _figures(folder: Path, results: list[Prediction], kind: str) -> None:
    import h5py

    from multiscale.fit.report import _plt, _save
    from multiscale.sensor_figures import layout, sensors, topomap_grid

    _plt()
    for p in results:
        with h5py.File(folder / p.name / "candidate_0_twin.h5") as f:
            s = sensors(f, kind)
            lay = None if s is None else layout(f, s)
        if lay is None:
            continue
        median = {b: np.median([c[b] for c in p.change_db], axis=0) for b in BANDS_HZ}
        fig = topomap_grid(
            [("median change", median, True)],
            lay,
            "dB",
            f"{p.name}: predicted change (intervention / twin, dB), median over "
            f"{len(p.change_db)} candidates",
        )
        _save(fig, folder / f"{p.name}.png")
