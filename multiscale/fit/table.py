"""The table of a fit's evaluations (``evaluations.csv``) and their feature arrays
(``features/generation_NNNN.npz``): written a generation at a time, flushed to disk, read
back whole generations only (a row torn by a kill is dropped with its generation)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from multiscale.config import ConfigError
from multiscale.fit.problem import Problem


class TableError(ConfigError):
    """A table that is not this fit's (its columns differ)."""


@dataclass
class Evaluation:
    """One evaluated candidate. u: its point in the unit cube; values: the parameters (each
    in its unit); terms: the features' loss terms; loss: their sum (nan if it failed)."""

    index: int
    generation: int
    seed: int
    u: np.ndarray
    values: np.ndarray
    status: str
    loss: float
    terms: np.ndarray


def columns(problem: Problem) -> list[str]:
    labels = [f.label for f in problem.spec.features]
    return (
        ["index", "generation", "seed", "status", "loss"]
        + [f"term:{k}:{label}" for k, label in enumerate(labels)]
        + [f"u:{n}" for n in problem.names]
        + problem.names
    )


def append_rows(path: Path, problem: Problem, rows: list[Evaluation]) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(columns(problem))
        for e in rows:
            w.writerow(
                [e.index, e.generation, e.seed, e.status, repr(float(e.loss))]
                + [repr(float(t)) for t in e.terms]
                + [repr(float(x)) for x in e.u]
                + [repr(float(v)) for v in e.values]
            )
        fh.flush()
        os.fsync(fh.fileno())


def read_evaluations(path: Path, problem: Problem) -> list[Evaluation]:
    """The complete generations of a fit's table (a torn last generation is dropped)."""
    if not path.exists():
        return []
    n_terms, n_free = len(problem.spec.features), len(problem.spec.free)
    rows = []
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header != columns(problem):
            raise TableError(f"{path}: its columns are not this fit's (was the file changed?)")
        for r in reader:
            if len(r) != len(header):
                break  # a row cut short by a kill
            t0 = 5
            rows.append(
                Evaluation(
                    index=int(r[0]),
                    generation=int(r[1]),
                    seed=int(r[2]),
                    status=r[3],
                    loss=float(r[4]),
                    terms=np.array([float(x) for x in r[t0 : t0 + n_terms]]),
                    u=np.array([float(x) for x in r[t0 + n_terms : t0 + n_terms + n_free]]),
                    values=np.array([float(x) for x in r[t0 + n_terms + n_free :]]),
                )
            )
    population = problem.spec.population
    complete = len(rows) // population * population
    return rows[:complete]


def rewrite_table(table: Path, problem: Problem, rows: list[Evaluation]) -> None:
    tmp = table.with_suffix(".csv.tmp")
    tmp.unlink(missing_ok=True)
    if rows:
        append_rows(tmp, problem, rows)
        os.replace(tmp, table)
    else:
        table.unlink(missing_ok=True)


def save_features(path: Path, spec, arrays: list[list]) -> None:
    data = {}
    for i, per in enumerate(arrays):
        for k, a in enumerate(per):
            data[f"evaluation{i}_feature{k}"] = a
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, **data)
    os.replace(tmp, path)


def stored_features(out: Path, problem: Problem, evaluations: list[Evaluation]):
    """The points (unit cube) and flattened feature arrays of every stored evaluation that
    did not fail, in order: (evaluations, parameters), (evaluations, feature values)."""
    from multiscale.fit.inference import flat

    spec = problem.spec
    u, X = [], []
    for g in range(len(evaluations) // spec.population):
        with np.load(out / "features" / f"generation_{g:04d}.npz") as z:
            for i in range(spec.population):
                keys = [f"evaluation{i}_feature{k}" for k in range(len(spec.features))]
                if all(k in z for k in keys):
                    u.append(evaluations[g * spec.population + i].u)
                    X.append(flat([z[k] for k in keys]))
    return np.array(u), np.array(X)
