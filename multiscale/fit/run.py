"""``multiscale fit``: search the free parameters for the values whose simulated sensor
signals best match the recording, generation by generation, checkpointed as it goes.

The fit directory (``-o DIR``, default ``results/<name>_fit``):

- ``experiment.yaml``: the experiment file as it was when the fit started (``--resume``
  reads this copy, so editing the file later cannot change a fit half way);
- ``fit.json``: status ("running", "stopped", "searched": the search is done and the
  outputs below are being written, "complete"), the file's path, the method, the free
  parameters, the best evaluation so far. A fit stopped in any state but "complete" (a
  signal, a crash, a full disk) continues with ``--resume``: a "searched" one only writes
  its outputs and predictions again;
- ``evaluations.csv``: one row per evaluation: index, generation, seed, status, loss, one
  term per feature, the point searched (``u:`` columns, in [0, 1]) and the parameters'
  values; rows are written a generation at a time, flushed to disk, so a killed fit keeps
  every complete generation;
- ``features/generation_NNNN.npz``: every evaluation's feature arrays;
- at the end (multiscale.fit.outputs): ``fitted.yaml``, ``fit.h5``, the posterior-predictive
  runs in ``check/`` and the report figures.

Reproducible: the optimiser's random numbers come from the experiment's seed, and evaluation
i's noise seed from the experiment's seed and i. A resumed fit replays the stored
generations through the optimiser (checking that it proposes the same points) and goes on
exactly as the uninterrupted fit would have.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from multiscale.config import ConfigError
from multiscale.cosim import stream_seed
from multiscale.fit import features as feat
from multiscale.fit.evaluate import Evaluator
from multiscale.fit.optimisers import ask, make_optimiser
from multiscale.fit.predict import candidates, check_predict, predict, read_predict
from multiscale.fit.problem import Problem, load_problem
from multiscale.fit.signals import Signals
from multiscale.fit.source_space import with_lead_field
from multiscale.fit.table import (
    Evaluation,
    append_rows,
    read_evaluations,
    rewrite_table,
    save_features,
    stored_features,
)
from multiscale.fit.target import Matching, read_target

#: files of a fit directory (what --overwrite may remove)
FIT_FILES = ("experiment.yaml", "fit.json", "evaluations.csv", "fitted.yaml", "fit.h5")
FIT_DIRS = ("features", "check", "report", "scratch")
#: the loss given to the optimiser for a run that failed (it ranks candidates only)
_FAILED_LOSS = 1e30


class FitError(ConfigError):
    """A fit directory that cannot be used as asked (exists, or is not a fit)."""


@dataclass
class FitOutcome:
    """What a fit left: its directory, the evaluations, the best, and whether it finished
    (False: stopped by a signal; ``--resume`` continues it)."""

    directory: Path
    evaluations: list[Evaluation]
    best: Evaluation | None
    complete: bool
    #: the fitted values (each in its unit): the search's final mean, the estimate under
    #: noise (the single best evaluation is partly lucky noise), or an SBI fit's posterior
    #: medians; None if not complete
    fitted: np.ndarray | None = None
    #: an SBI fit's posterior samples in the unit cube (samples, parameters); else None
    posterior_u: np.ndarray | None = None


# --- the directory ---------------------------------------------------------------------
def default_directory(problem: Problem) -> Path:
    """``results/<name>_fit`` (relative to the working directory)."""
    return Path("results") / f"{problem.experiment.name}_fit"


def prepare_directory(out: Path, *, overwrite: bool) -> None:
    """Refuse a directory that holds a fit (unless ``overwrite``) or anything else."""
    if not out.exists():
        return
    if not out.is_dir():
        raise FitError(f"{out}: exists and is not a directory; expected a fit directory")
    if (out / "fit.json").exists():
        if not overwrite:
            raise FitError(
                f"{out}: holds a fit already; continue it with: multiscale fit --resume {out}"
                " (or start again with --overwrite, which deletes it)"
            )
        for name in FIT_FILES:
            (out / name).unlink(missing_ok=True)
        for name in FIT_DIRS:
            shutil.rmtree(out / name, ignore_errors=True)
    others = [p.name for p in out.iterdir() if p.name not in FIT_FILES + FIT_DIRS]
    if others:
        raise FitError(
            f"{out}: is not empty and not a fit directory ({', '.join(sorted(others)[:5])}); "
            "expected a new or empty directory"
        )


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=float))
    os.replace(tmp, path)


# --- the fit -------------------------------------------------------------------------------
def target_features(problem: Problem) -> tuple[Signals, dict[str, Matching], list]:
    """Each recording's signals on the channels it shares with the model, how they matched
    (both by sensor kind), and the recordings' features (in the order of the fit's)."""
    spec = problem.spec
    targets, matchings = {}, {}
    for target in spec.targets:
        gain = problem.experiment.plan.sensors.get(target.kind)
        model_channels = list(gain.channels) if gain is not None else []
        data, matchings[target.kind] = read_target(target, model_channels, str(problem.path))
        targets[target.kind] = with_lead_field(data, gain) if gain is not None else data
    segment_s = (problem.experiment.duration_ms - spec.skip_ms) / 1000.0
    try:
        values = [
            feat.compute_segmented((f,), targets[spec.kind_of(f)], segment_s)[0]
            for f in spec.features
        ]
    except ValueError as err:
        raise ConfigError(f"{problem.path}: fit.features: on the recording: {err}") from err
    return targets, matchings, values


def fit(
    path: str | Path | None = None,
    out_dir: str | Path | None = None,
    *,
    resume: str | Path | None = None,
    jobs: int = 1,
    comm=None,
    overwrite: bool = False,
    log=print,
    batch: bool = True,
) -> FitOutcome:
    """Run (or, with ``resume`` = a fit directory, continue) the fit of the experiment file
    at ``path``; see the module docstring for what the directory holds. Every problem with
    the file, the recording or the directory is a ConfigError before anything runs.
    ``batch``: False runs every candidate as its own run (the same numbers, slower)."""
    rank = 0 if comm is None else comm.Get_rank()
    if resume is not None:
        out = Path(resume)
        state = _read_state(out)
        problem = load_problem(state["experiment"], (out / "experiment.yaml").read_text())
    else:
        problem = load_problem(path)
        out = Path(out_dir) if out_dir is not None else default_directory(problem)
        if rank == 0:
            prepare_directory(out, overwrite=overwrite)
    if problem.spec.method == "sbi":  # refused before anything is written
        from multiscale.fit.inference import require_sbi

        require_sbi()
    targets, matchings, target_values = target_features(problem)
    prediction = read_predict(problem.data.get("predict"), str(problem.path))
    if prediction is not None:  # refused now, not after the fit
        check_predict(problem, prediction, problem.start())
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        if resume is None:
            (out / "experiment.yaml").write_text(problem.text)
        (out / "features").mkdir(exist_ok=True)
    for t in problem.spec.targets:
        data = targets[t.kind]
        log(f"target: {t.path} ({t.kind}, {data.duration_s:g} s at "
            f"{data.sampling_rate_hz:g} Hz); {matchings[t.kind].describe()}")  # fmt: skip
    searched = resume is not None and state.get("status") == "searched"
    outcome = _loop(
        problem, out, targets, target_values, matchings, jobs, comm, log, resume is not None,
        batch, searched,
    )  # fmt: skip
    if outcome.complete and rank == 0:
        if prediction is not None:
            points = candidates(outcome.evaluations, prediction.candidates, outcome.posterior_u)
            predict(problem, prediction, points, out, log)
        # only now: a crash in the outputs or predictions leaves "searched", which --resume
        # finishes
        state = json.loads((out / "fit.json").read_text())
        _write_json(out / "fit.json", state | {"status": "complete"})
    return outcome


def predict_again(out: str | Path, log=print) -> list:
    """Run the ``predict:`` section of the experiment file (as it is now) on the complete
    fit in ``out``: a new question asked of a finished twin needs no new fit."""
    out = Path(out)
    state = json.loads((out / "fit.json").read_text()) if (out / "fit.json").exists() else {}
    if state.get("status") != "complete":
        raise FitError(f"{out}: holds no complete fit; expected the directory of a finished fit")
    problem = load_problem(state["experiment"], (out / "experiment.yaml").read_text())
    # the fit is the copy's; the questions asked of it are the file's as it is now
    from multiscale.yaml_safe import YamlError, load_file

    try:
        current = load_file(problem.path)[0] or {}
    except (OSError, YamlError) as err:
        raise ConfigError(f"{problem.path}: cannot read the experiment file ({err})") from err
    spec = read_predict(current.get("predict"), str(problem.path))
    if spec is None:
        raise FitError(f"{problem.path}: has no predict: section; nothing to predict")
    posterior_u = None
    if (out / "fit.h5").exists():
        import h5py

        with h5py.File(out / "fit.h5") as f:
            posterior_u = f["posterior/u"][:] if "posterior/u" in f else None
    evaluations = read_evaluations(out / "evaluations.csv", problem)
    return predict(problem, spec, candidates(evaluations, spec.candidates, posterior_u), out, log)


def _read_state(out: Path) -> dict:
    state_file = out / "fit.json"
    if not state_file.exists():
        raise FitError(
            f"{out}: holds no fit (no fit.json); expected a directory made by multiscale fit"
        )
    state = json.loads(state_file.read_text())
    if state.get("status") == "complete":
        raise FitError(f"{out}: the fit is complete already; nothing to resume")
    return state


def _loop(
    problem, out, targets, target_values, matchings, jobs, comm, log, resumed, batch, searched
) -> FitOutcome:
    """The search, generation by generation (``searched``: replay only, the search was
    complete), then the outputs."""
    spec = problem.spec
    rank = 0 if comm is None else comm.Get_rank()
    table = out / "evaluations.csv"
    done = read_evaluations(table, problem) if resumed else []
    opt = make_optimiser(problem)
    # replay: the optimiser must propose exactly the stored points
    for g in range(len(done) // spec.population):
        rows = done[g * spec.population : (g + 1) * spec.population]
        asked = ask(opt, spec.population)
        if not all(
            np.allclose(a, r.u, rtol=0, atol=1e-12) for a, r in zip(asked, rows, strict=True)
        ):
            raise FitError(
                f"{table}: generation {g} is not what this fit proposes (the table or "
                "multiscale changed); start again with --overwrite"
            )
        opt.tell([_FAILED_LOSS if not np.isfinite(r.loss) else r.loss for r in rows])
    if resumed:
        log(
            f"resumed: {len(done)} evaluations "
            f"({len(done) // spec.population} generations) replayed"
        )
    if table.exists() and rank == 0:  # drop a torn last generation from the file too
        rewrite_table(table, problem, done)
    state = _state(problem, matchings, "running")
    evaluator = Evaluator(problem, out / "scratch", jobs=jobs, comm=comm, batch=batch)
    stop = {"signal": None}
    handlers = _catch(stop)
    started = time.monotonic()
    evaluations = list(done)
    try:
        while True:
            spent = _budget_spent(spec, len(evaluations), time.monotonic() - started)
            if comm is not None:  # rank 0's clock decides for all
                spent = comm.bcast(spent, root=0)
            if searched or spent or _agreed_stop(stop, comm):
                break
            g = len(evaluations) // spec.population
            points = ask(opt, spec.population)
            first = len(evaluations)
            seeds = [problem.evaluation_seed(first + i) for i in range(len(points))]
            candidates = [problem.overrides(u, s) for u, s in zip(points, seeds, strict=True)]
            t0 = time.perf_counter()
            results = evaluator(candidates, first)
            elapsed = time.perf_counter() - t0
            stopped = [r for r in results if isinstance(r, str) and r.startswith("stopped")]
            if stop["signal"] is not None or stopped:
                # a generation cut short is not recorded: --resume runs it again whole
                stop["signal"] = stop["signal"] or signal.SIGINT
                break
            rows, arrays = [], []
            for i, (u, s, r) in enumerate(zip(points, seeds, results, strict=True)):
                e, values = _score(problem, first + i, g, s, u, r, targets, target_values)
                rows.append(e)
                arrays.append(values)
            opt.tell([e.loss if np.isfinite(e.loss) else _FAILED_LOSS for e in rows])
            evaluations += rows
            if rank == 0:
                append_rows(table, problem, rows)
                save_features(out / "features" / f"generation_{g:04d}.npz", spec, arrays)
                state = _state(problem, matchings, "running", evaluations, opt)
                _write_json(out / "fit.json", state)
            best = min((e.loss for e in evaluations if np.isfinite(e.loss)), default=np.nan)
            failed = sum(1 for e in rows if not np.isfinite(e.loss))
            message = (
                f"generation {g}: {len(rows)} evaluations in {elapsed:.1f} s ({evaluator.mode}, "
                f"{len(rows) / max(elapsed, 1e-9):.2f}/s); best loss so far {best:.4g}"
            )
            log(message + (f"; {failed} failed (evaluations.csv says why)" if failed else ""))
    except KeyboardInterrupt:
        stop["signal"] = stop["signal"] or signal.SIGINT
    finally:
        evaluator.close()
        _restore(handlers)
        shutil.rmtree(out / "scratch", ignore_errors=True)
    complete = stop["signal"] is None
    finite = [e for e in evaluations if np.isfinite(e.loss)]
    best = min(finite, key=lambda e: e.loss) if finite else None
    if rank == 0:
        status = "searched" if complete else "stopped"
        _write_json(out / "fit.json", _state(problem, matchings, status, evaluations, opt))
    if not complete:
        log(f"stopped by {signal.Signals(stop['signal']).name} after {len(evaluations)} "
            f"evaluations; continue with: multiscale fit --resume {out}")  # fmt: skip
        return FitOutcome(out, evaluations, best, False)
    if best is None:
        raise FitError(f"{out}: every evaluation failed; see evaluations.csv for why")
    posterior_u = None
    if spec.method == "sbi":
        if rank != 0:  # rank 0 trains the posterior and writes everything
            return FitOutcome(out, evaluations, best, True)
        posterior_u = _posterior(problem, out, evaluations, target_values, log)
        spread = (np.median(posterior_u, axis=0), posterior_u.std(axis=0))
    else:
        spread = opt.spread()
    if rank == 0:
        from multiscale.fit.outputs import write_outputs

        write_outputs(
            problem, out, evaluations, best, spread, targets, target_values, log, posterior_u
        )
    return FitOutcome(
        out, evaluations, best, True, problem.values(spread[0]), posterior_u=posterior_u
    )


def _posterior(problem, out, evaluations, target_values, log) -> np.ndarray:
    """An SBI fit's posterior samples (unit cube), trained on every stored simulation;
    also written to posterior.csv (the parameters' values)."""
    from multiscale.fit.inference import flat, train

    u, X = stored_features(out, problem, evaluations)
    t0 = time.perf_counter()
    seed = stream_seed(problem.experiment.seed, "fit.sbi") % (2**31)
    sample, summary = train(np.array(u), np.array(X), seed)
    samples = sample(flat(target_values))
    log(
        f"posterior: NPE trained on {len(u)} simulations (summary: "
        f"{summary.components.shape[0]} principal components of {len(X[0])} feature values) "
        f"in {time.perf_counter() - t0:.1f} s; {len(samples)} samples"
    )
    with open(out / "posterior.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(problem.names)
        for s in samples:
            w.writerow([repr(float(v)) for v in problem.values(s)])
    return samples


def _score(problem, index, g, seed, u, result, targets, target_values):
    """The evaluation row and feature arrays of one candidate's result (its Signals, or
    why it failed)."""
    spec = problem.spec
    n_terms = len(spec.features)
    values = problem.values(u)
    if isinstance(result, str):
        return Evaluation(index, g, seed, u, values, result, np.nan, np.full(n_terms, np.nan)), []
    try:
        arrays = feat.model_features(spec, result, targets)
        terms = feat.terms(spec.features, arrays, target_values)
    except ValueError as err:
        return (
            Evaluation(
                index, g, seed, u, values, f"failed: {err}", np.nan, np.full(n_terms, np.nan)
            ),
            [],
        )
    loss = float(terms.sum())
    status = "done" if np.isfinite(loss) else "failed: non-finite features"
    return Evaluation(index, g, seed, u, values, status, loss, terms), arrays


def _agreed_stop(stop: dict, comm) -> bool:
    """Whether to stop before the next generation: on MPI, every rank stops if any rank
    was signalled (ranks that disagreed would wait for each other forever)."""
    mine = stop["signal"]
    if comm is None:
        return mine is not None
    signals = comm.allgather(mine)
    stop["signal"] = next((s for s in signals if s is not None), None)
    return stop["signal"] is not None


def _budget_spent(spec, n: int, elapsed_s: float) -> bool:
    b = spec.budget
    if b.evaluations is not None and n >= b.evaluations:
        return True
    return b.time_s is not None and elapsed_s >= b.time_s


def _state(problem, matchings, status, evaluations=(), opt=None) -> dict:
    spec = problem.spec
    finite = [e for e in evaluations if np.isfinite(e.loss)]
    best = min(finite, key=lambda e: e.loss) if finite else None
    state = {
        "status": status,
        "experiment": str(problem.path.absolute()),
        "method": spec.method,
        "population": spec.population,
        "free": problem.names,
        "units": [f.unit for f in spec.free],
        "evaluations": len(evaluations),
        "target": spec.paths,
        "channels": [m for k in spec.kinds for m, _ in matchings[k].pairs],
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    if best is not None:
        state["best"] = {
            "index": best.index,
            "loss": best.loss,
            "values": dict(zip(problem.names, best.values.tolist(), strict=True)),
        }
    return state


def _catch(stop: dict) -> dict:
    """SIGINT and SIGTERM end the fit after the generation running (a second one: at once)."""

    def on_signal(signum, frame):
        if stop["signal"] is not None:
            raise KeyboardInterrupt
        stop["signal"] = signum
        print(f"\nmultiscale fit: {signal.Signals(signum).name}: stopping after this "
              "generation (again to stop at once)", file=sys.stderr, flush=True)  # fmt: skip

    handlers = {}
    for s in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: no handlers
            handlers[s] = signal.signal(s, on_signal)
    return handlers


def _restore(handlers: dict) -> None:
    for s, h in handlers.items():
        signal.signal(s, h)
