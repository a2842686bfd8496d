"""A fit problem: the experiment, its ``fit:`` section, and the map from a point of the
unit cube (one coordinate per free parameter, what the optimiser searches) to the
experiment's field overrides (what a run takes, as ``--set`` does).

Loading checks, before anything is simulated, that the experiment is valid with every free
parameter at the bottom and at the top of its range, so that a typo in a path, a range in
the wrong unit or a value the model refuses is reported at once, naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from multiscale.config import ConfigError, Experiment, load_experiment
from multiscale.cosim import stream_seed
from multiscale.fit.spec import FitSpec, read_fit
from multiscale.quantities import to_float
from multiscale.yaml_safe import loads

#: what every evaluation overrides: no figures, no declared measures, no checkpoints
_QUIET = {"output.figures": False, "measures": [], "checkpoint": {}}


@dataclass(frozen=True, eq=False)
class Problem:
    """path: the experiment file; text: its contents when the fit started (a resumed fit
    reads these, not the file as it is now); experiment: the file as it is, validated;
    spec: its fit section; data: the file's fields (YAML, as read)."""

    path: Path
    text: str
    experiment: Experiment
    spec: FitSpec
    data: dict

    @property
    def names(self) -> list[str]:
        """The free parameters' column names, in order."""
        return [f.name for f in self.spec.free]

    def values(self, u: np.ndarray) -> np.ndarray:
        """The free parameters' values (each in its own unit) at ``u`` in the unit cube."""
        return np.array([f.value(x) for f, x in zip(self.spec.free, u, strict=True)])

    def start(self) -> np.ndarray:
        """The experiment's own values of the free parameters in the unit cube (the middle
        of a range for a value outside it or not given): where the search starts."""
        out = []
        for f in self.spec.free:
            here = self._current(f)
            out.append(
                0.5 if here is None or not f.low <= here <= f.high else f.unit_interval(here)
            )
        return np.array(out)

    def overrides(self, u: np.ndarray, seed: int | None = None) -> dict[str, Any]:
        """The field overrides that set the free parameters to ``u`` (and the seed)."""
        out: dict[str, Any] = {}
        per_region: dict[str, np.ndarray] = {}
        for f, x in zip(self.spec.free, u, strict=True):
            value = f.value(x)
            if f.region is None:
                out[f.path] = f.written(value)
                continue
            name = f.path.rsplit(".", 1)[1]
            arr = per_region.setdefault(f.path, self._region_values(name).copy())
            conn = self.experiment.plan.connectome
            arr[conn.index(f.region)] = to_float(f.written(value), self._unit(name))
        for path, arr in per_region.items():
            out[path] = [float(f"{v:.10g}") for v in arr]
        if seed is not None:
            out["seed"] = int(seed)
        return out

    def evaluation_seed(self, index: int) -> int:
        """The noise seed of evaluation ``index``: from the experiment's seed and the index
        only, so a fit is reproducible from its file and its budget."""
        return stream_seed(self.experiment.seed, f"fit.evaluation.{index}") % (2**31)

    def load(self, overrides: dict[str, Any], output: Path | None = None) -> Experiment:
        """The experiment with ``overrides`` (and the quiet settings of an evaluation, its
        output at ``output``), validated."""
        extra = {} if output is None else {**_QUIET, "output.path": str(output)}
        return load_experiment(self.path, {**overrides, **extra}, text=self.text)

    def _region_values(self, name: str) -> np.ndarray:
        model = self.experiment.plan.masses.model
        return self.experiment.plan.masses.parameters[:, model.parameter_names().index(name)]

    def _unit(self, name: str) -> str:
        return self.experiment.plan.masses.model.PARAMETERS[name].unit

    def _current(self, f) -> float | None:
        """The free parameter's value in the experiment (in its unit), if it has one."""
        if f.region is not None:
            name = f.path.rsplit(".", 1)[1]
            conn = self.experiment.plan.connectome
            value = self._region_values(name)[conn.index(f.region)]
            if not f.unit:  # a bare range is in the model's unit
                return float(value)
            return to_float(f"{float(value)!r} {self._unit(name)}", f.unit)
        node: Any = self.data
        for key in f.path.split("."):
            if isinstance(node, dict) and key in node:
                node = node[key]
            elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            else:
                return None
        try:
            return to_float(node, f.unit or "1")
        except (ValueError, TypeError):
            return None


def load_problem(path: str | Path, text: str | None = None) -> Problem:
    """The fit problem of the experiment file at ``path`` (``text``: its contents as they
    were, for a resumed fit). ConfigError lists every problem, naming file and field."""
    path = Path(path)
    exp = load_experiment(path, text=text)
    data = loads(exp.text) or {}
    spec = read_fit(data.get("fit"), str(path), path.parent.absolute(), exp.duration_ms)
    problem = Problem(path, exp.text, exp, spec, data)
    _check(problem)
    return problem


def _check(problem: Problem) -> None:
    """The experiment records every target's sensors, has free parameters, and is valid at
    both ends of every range."""
    where, spec, exp = str(problem.path), problem.spec, problem.experiment
    errors = []
    if not spec.free:
        errors.append("fit.free: got (missing); expected at least one free parameter")
    for kind in spec.kinds:
        if getattr(exp.record, kind) is None:
            errors.append(
                f"fit.target.{kind}: the experiment records no {kind} "
                f"(record.{kind} is off); expected record.{kind} set"
            )
    for f in spec.free:
        if f.region is not None:
            name = f.path.rsplit(".", 1)[1]
            model = exp.plan.masses.model
            if name not in model.PARAMETERS:
                errors.append(
                    f"fit.free.{f.path}: {name} is not a parameter of {model.NAME}; "
                    f"parameters: {model.parameter_names()}"
                )
                continue
            try:
                exp.plan.connectome.index(f.region)
                to_float(f.written(f.low), problem._unit(name))
            except (ValueError, KeyError) as err:
                errors.append(f"fit.free.{f.path}.regions: got {f.region!r}; {err}")
    left_s = (exp.duration_ms - spec.skip_ms) / 1000.0
    for k, feature in enumerate(spec.features):
        for region in feature.sources:
            try:
                exp.plan.connectome.index(region)
            except (ValueError, KeyError) as err:
                errors.append(f"fit.features[{k}].sources: got {region!r}; {err}")
        spectral = feature.kind in ("log_spectrum", "band_power", "peak_frequency")
        if spectral and left_s < 1.0 / feature.resolution_hz:
            errors.append(
                f"fit.features[{k}]: {feature.kind} at {feature.resolution_hz:g} Hz "
                f"resolution needs at least {1 / feature.resolution_hz:g} s of each "
                f"simulation after fit.skip; the experiment's duration leaves {left_s:g} s"
            )
    if errors:
        lines = "\n".join(f"  {where}: {e}" for e in errors)
        raise ConfigError(f"{where}: {len(errors)} problem(s) in the fit section:\n{lines}")
    for end, u in (("min", 0.0), ("max", 1.0)):
        point = np.full(len(spec.free), u)
        try:
            problem.load(problem.overrides(point))
        except ConfigError as err:
            raise ConfigError(
                f"{where}: fit.free: with every free parameter at its {end} the experiment "
                f"is not valid:\n{err}"
            ) from err
