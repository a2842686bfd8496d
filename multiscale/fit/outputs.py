"""What a finished fit writes besides its table: the twin (``fitted.yaml``), the
posterior-predictive check, ``fit.h5`` and the report figures.

- ``fitted.yaml``: the experiment with the fitted values written in (its ``fit:`` and
  ``predict:`` sections left out, its name and output made the twin's, relative file
  paths rewritten to hold from the fit directory), runnable with ``multiscale run``;
- ``check/seed_K.h5``: the twin run with new noise seeds (full outputs, as ``multiscale
  run`` writes them): how far the fitted features are from the target beyond the noise;
- ``fit.h5``: every evaluation (points, values with units, loss, terms, seeds, status),
  the parameters' ranges, best values and the optimiser's spread, the target's features,
  and the check runs' features and losses;
- ``report/``: ``loss.png`` (loss per evaluation and best so far), ``parameters.png``
  (each parameter against the loss), ``spectra.png`` (the target's and the twin's power
  spectra per channel) and ``topomaps.png`` (band powers on the scalp: target, twin, and
  twin / target in dB); with several targets, one ``spectra_KIND.png`` and
  ``topomaps_KIND.png`` per sensor kind; ``sources.png``: the estimated sources' spectra
  per region, when features are computed on sources.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from multiscale.config import _set_dotted, dict_to_yaml
from multiscale.cosim import stream_seed
from multiscale.fit import features as feat
from multiscale.fit.problem import Problem
from multiscale.fit.signals import Signals, read_signals

#: posterior-predictive runs of the twin, each with its own noise seed
CHECK_RUNS = 3
#: what the fitted values are, and their sd, per method
_ESTIMATE = {
    "cma": ("the search's final mean", "its spread"),
    "optuna": ("the mean of the best tenth of the evaluations", "their spread"),
    "sbi": ("the posterior medians", "the posterior's"),
}
#: fields that name things, never files: left as they are
_NOT_PATHS = ("name", "description")


def write_outputs(
    problem: Problem,
    out: Path,
    evaluations: list,
    best,
    spread: tuple[np.ndarray, np.ndarray],
    targets: Signals,
    target_values: list,
    log=print,
    posterior_u: np.ndarray | None = None,
) -> None:
    """Write the twin, the check runs, fit.h5 and the report into ``out`` (with an SBI
    fit's posterior samples, ``posterior_u`` in the unit cube)."""
    twin = write_twin(problem, out, best, spread, len(evaluations))
    log(f"the twin: {twin}")
    checks = run_checks(problem, out, spread[0])
    check_values, check_terms = [], []
    for path in checks:
        values = feat.model_features(problem.spec, read_signals(path, problem.spec.kinds), targets)
        check_values.append(values)
        check_terms.append(feat.terms(problem.spec.features, values, target_values))
    _write_h5(
        out / "fit.h5", problem, evaluations, best, spread, targets, target_values, check_values,
        check_terms,
    )  # fmt: skip
    if posterior_u is not None:
        import h5py

        with h5py.File(out / "fit.h5", "a") as f:
            post = f.create_group("posterior")
            _array(post, "u", posterior_u, "1", "posterior samples, in [0, 1] per parameter")
            values = np.array([problem.values(x) for x in posterior_u])
            _array(post, "values", values, "see /parameters/units", "posterior samples")
    from multiscale.fit.report import report_figures

    figures = report_figures(problem, out, evaluations, best, targets, checks, posterior_u)
    mean, sd = _physical_spread(problem, spread)
    estimate, spread_of = _ESTIMATE[problem.spec.method]
    what = f"{estimate}; sd {spread_of}"
    lines = [
        f"fitted ({what}); best single evaluation {best.index} of {len(evaluations)} at "
        f"loss {best.loss:.4g}:"
    ]
    for f, v, m, s in zip(problem.spec.free, best.values, mean, sd, strict=True):
        unit = f" {f.unit}" if f.unit else ""
        lines.append(f"  {f.name} = {m:.5g}{unit} (sd {s:.3g}{unit}; best evaluation {v:.5g})")
    losses = [float(t.sum()) for t in check_terms]
    lines.append(
        f"check: the twin with {len(checks)} new noise seeds: loss "
        + ", ".join(f"{x:.4g}" for x in losses)
    )
    lines.append(f"report: {', '.join(str(p) for p in figures)}")
    log("\n".join(lines))


def _physical_spread(problem: Problem, spread) -> tuple[np.ndarray, np.ndarray]:
    """The optimiser's mean and sd, in the parameters' units (sd: half the image of mean
    +- sd in the unit cube)."""
    mean_u, sd_u = spread
    mean = problem.values(mean_u)
    sd = (
        np.abs(
            problem.values(np.clip(mean_u + sd_u, 0, 1))
            - problem.values(np.clip(mean_u - sd_u, 0, 1))
        )
        / 2
    )
    return mean, sd


# --- the twin ------------------------------------------------------------------------------
def write_twin(problem: Problem, out: Path, best, spread, n_evaluations: int) -> Path:
    """``fitted.yaml``: the experiment with the fitted values (the search's final mean,
    ``spread[0]``); returns its path."""
    data = _plain_copy(problem.data)
    data.pop("fit", None)
    data.pop("predict", None)
    errors: list[str] = []
    for path, value in problem.overrides(spread[0]).items():
        _set_dotted(data, path, value, errors)
    if errors:  # the overrides were validated when the fit was loaded
        raise RuntimeError("; ".join(errors))
    name = f"{problem.experiment.name}_twin"
    data["name"] = name
    data.setdefault("output", {})
    data["output"]["path"] = f"results/{name}.h5"
    _rebase_paths(data, problem.path.parent.absolute(), out.absolute())
    mean, sd = _physical_spread(problem, spread)
    header = [
        f"The twin fitted by `multiscale fit` from {problem.path} to",
        f"{problem.spec.paths} on {time.strftime('%Y-%m-%d')} after {n_evaluations}",
        f"evaluations ({problem.spec.method}). The values are {{}} (sd: {{}});".format(
            *_ESTIMATE[problem.spec.method]
        ),
        f"the best single evaluation, partly lucky noise, had loss {best.loss:.4g}.",
        "Free parameters:",
    ]
    for f, v, m, s in zip(problem.spec.free, best.values, mean, sd, strict=True):
        unit = f" {f.unit}" if f.unit else ""
        header.append(f"  {f.name}: {m:.5g}{unit} (sd {s:.3g}{unit}; best evaluation {v:.5g})")
    text = "".join(f"# {line}\n" for line in header) + dict_to_yaml(data)
    path = out / "fitted.yaml"
    tmp = out / "fitted.yaml.tmp"
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def _plain_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _plain_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain_copy(v) for v in data]
    return data


def _rebase_paths(node: Any, old: Path, new: Path, key: str = "") -> None:
    """Relative paths to existing files, written for ``old``'s folder, rewritten to hold
    from ``new``."""
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for k, v in list(items):
        if isinstance(v, dict | list):
            _rebase_paths(v, old, new, str(k))
        elif isinstance(v, str) and str(k) not in _NOT_PATHS and key != "output":
            p = Path(v).expanduser()
            if not p.is_absolute() and v.strip() and (old / p).exists():
                node[k] = os.path.relpath(old / p, new)


# --- the posterior-predictive check ---------------------------------------------------------
def run_checks(problem: Problem, out: Path, u: np.ndarray) -> list[Path]:
    """The twin (``u``: its point) run ``CHECK_RUNS`` times with new seeds, as full
    outputs."""
    from multiscale.cosim import Simulation

    folder = out / "check"
    folder.mkdir(exist_ok=True)
    paths = []
    for k in range(CHECK_RUNS):
        seed = stream_seed(problem.experiment.seed, f"fit.check.{k}") % (2**31)
        path = folder / f"seed_{seed}.h5"
        overrides = {**problem.overrides(u, seed), "output.figures": False}
        exp = problem.load(overrides).with_output(path)
        sim = Simulation(exp.plan, progress=False)
        if sim.run():
            paths.append(path)
    return paths


# --- fit.h5 -----------------------------------------------------------------------------------
def _write_h5(
    path, problem, evaluations, best, spread, targets, target_values, check_values, check_terms
):
    import h5py

    spec = problem.spec
    mean, sd = _physical_spread(problem, spread)
    units = [f.unit or "1" for f in spec.free]
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["experiment"] = str(problem.path)
        f.attrs["target"] = spec.paths
        f.attrs["method"] = spec.method
        f.attrs["features"] = [x.label for x in spec.features]
        ev = f.create_group("evaluations")
        _array(
            ev,
            "u",
            np.array([e.u for e in evaluations]),
            "1",
            "the point searched, in [0, 1] per parameter",
        )
        _array(
            ev,
            "values",
            np.array([e.values for e in evaluations]),
            "see /parameters/units",
            "each parameter's value",
        )
        _array(
            ev,
            "loss",
            np.array([e.loss for e in evaluations]),
            "1",
            "the weighted sum of the terms (nan: failed)",
        )
        _array(
            ev,
            "terms",
            np.array([e.terms for e in evaluations]),
            "1",
            "each feature's weighted loss term",
        )
        _array(
            ev, "seed", np.array([e.seed for e in evaluations]), "1", "the evaluation's noise seed"
        )
        ev.create_dataset("status", data=[e.status for e in evaluations], dtype=h5py.string_dtype())
        p = f.create_group("parameters")
        p.create_dataset("names", data=problem.names, dtype=h5py.string_dtype())
        p.create_dataset("units", data=units, dtype=h5py.string_dtype())
        for name, values, what in (
            ("low", [x.low for x in spec.free], "the range's bottom"),
            ("high", [x.high for x in spec.free], "the range's top"),
            ("best", best.values, "the best evaluation's values"),
            ("mean", mean, "the optimiser's search mean at the end: the fitted values"),
            ("sd", sd, "the optimiser's search standard deviation at the end"),
        ):
            _array(p, name, np.asarray(values, dtype=float), "see /parameters/units", what)
        units = [
            _feature_unit(x, "nA m" if x.sources else targets[spec.kind_of(x)].unit)
            for x in spec.features
        ]
        t = f.create_group("target")
        for k, a in enumerate(target_values):
            _array(t, f"feature{k}", a, units[k], spec.features[k].label)
        c = f.create_group("check")
        _array(
            c, "loss", np.array([float(x.sum()) for x in check_terms]), "1", "each check run's loss"
        )
        for r, values in enumerate(check_values):
            for k, a in enumerate(values):
                _array(c, f"run{r}/feature{k}", a, units[k], spec.features[k].label)
    os.replace(tmp, path)


def _array(group, name: str, data: np.ndarray, unit: str, what: str) -> None:
    ds = group.create_dataset(name, data=data)
    ds.attrs["unit"] = unit
    ds.attrs["description"] = what


def _feature_unit(f, signal_unit: str) -> str:
    """A feature array's unit; ``signal_unit``: its sensor signal's (uV, fT)."""
    return {
        "log_spectrum": f"log10({signal_unit}^2/Hz)" if not f.relative else "log10(1/Hz)",
        "band_power": f"log10({signal_unit}^2)" if not f.relative else "log10(1)",
        "peak_frequency": "Hz",
        "envelope_connectivity": "1",
        "evoked": signal_unit,
    }[f.kind]
