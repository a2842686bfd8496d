"""Running a fit's candidates: each is the experiment with a few fields overridden, and
what comes back is its sensor signals of the targets' kinds (or why the run failed).

Two ways, chosen per generation:

- batched: a masses-only experiment whose candidates differ only in what the batched
  engine can vary runs as one compiled call over all of them (``multiscale.fit.batch``),
  on every core, with no output file;
- one run each: anything else (circuits included) runs as ``multiscale run`` would, into a
  scratch file that is read and deleted, on ``jobs`` local processes or over MPI ranks.

Either way a candidate's result depends only on its own fields and seed, never on which
other candidates share its generation or on how many processes there are.
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from multiscale.fit.problem import Problem
from multiscale.fit.signals import Signals, read_signals


class Evaluator:
    """Runs candidates of ``problem``: scratch outputs go to ``scratch``; ``jobs`` local
    processes, or the ranks of ``comm`` (an mpi4py communicator) when it has several."""

    def __init__(
        self, problem: Problem, scratch: Path, *, jobs: int = 1, comm=None, batch: bool = True
    ) -> None:
        """batch: run masses-only candidates as one batch where they can be (False: one
        run each, always; the results are the same to the bit either way)."""
        self.problem = problem
        self.batch = batch
        self.scratch = Path(scratch)
        self.jobs = max(1, int(jobs))
        self.comm = comm if comm is not None and comm.Get_size() > 1 else None
        self._pool: ProcessPoolExecutor | None = None
        #: how the last generation ran: "batched" or "runs"
        self.mode = ""

    def __call__(self, candidates: list[dict[str, Any]], first_index: int) -> list[Signals | str]:
        """Each candidate's sensor signals of the targets' kinds, or a failure message;
        ``first_index`` numbers their scratch files (evaluation indices)."""
        batched = self._batched(candidates)
        if batched is not None:
            self.mode = "batched"
            return batched
        self.mode = "runs"
        self.scratch.mkdir(parents=True, exist_ok=True)
        p = self.problem
        jobs = [
            (str(p.path), p.text, c, str(self.scratch / f"evaluation_{first_index + i}.h5"),
             p.spec.kinds)
            for i, c in enumerate(candidates)
        ]  # fmt: skip
        if self.comm is not None:
            return _over_ranks(self.comm, jobs)
        if self.jobs > 1 and len(jobs) > 1:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.jobs)
            return list(self._pool.map(run_candidate, jobs))
        return [run_candidate(j) for j in jobs]

    def _batched(self, candidates: list[dict[str, Any]]) -> list[Signals | str] | None:
        """The candidates run as one batch, or None when they cannot be."""
        if not self.batch or self.problem.experiment.circuits:
            return None
        from multiscale.fit import batch

        exps = [self.problem.load(c) for c in candidates]
        if batch.batchable(exps) is not None:
            return None
        kinds = self.problem.spec.kinds
        rank, size = (0, 1) if self.comm is None else (self.comm.Get_rank(), self.comm.Get_size())
        # over MPI: each rank a share of the batch on one thread (a rank per core)
        mine = list(range(rank, len(exps), size))
        step = members_per_batch(exps[0])
        done = []
        for a in range(0, len(mine), step):  # batches that fit in memory
            part = [exps[i] for i in mine[a : a + step]]
            done += batch.simulate_batch(part, threads=None if size == 1 else 1)
        results = {i: {k: r[k] for k in kinds} for i, r in zip(mine, done, strict=True)}
        if self.comm is not None:
            for part in self.comm.allgather(results):
                results.update(part)
        return [results[i] for i in range(len(exps))]

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


#: the most memory one batch may hold (bytes; also at most a quarter of what is free)
BATCH_MEMORY = 1 << 30


def members_per_batch(exp) -> int:
    """How many members of ``exp``'s kind one batch may hold: a member keeps its signals
    (every recorded sample of its regions and sensors) and its history ring in memory."""
    from multiscale.resources import available_memory

    plan = exp.plan
    samples = exp.duration_ms / 1000.0 * exp.record.sampling_rate_hz + 1
    columns = plan.connectome.n_regions + sum(g.n_channels for g in plan.sensors.values())
    longest = max(int(plan.masses.delays.max()) if plan.masses.delays.nnz else 0, plan.window.steps)
    history = plan.connectome.n_regions * 2 * (longest + 2) * len(plan.masses.model.STATE_VARIABLES)
    member = 8 * (samples * columns + history)
    free = available_memory()
    budget = BATCH_MEMORY if free is None else min(BATCH_MEMORY, free // 4)
    return max(1, int(budget // member))


def run_candidate(job: tuple[str, str, dict, str, tuple[str, ...]]) -> Signals | str:
    """Run one candidate (experiment path, its text, overrides, scratch output, sensor
    kinds) in this process; its sensor signals, or "failed: why". The scratch output is
    deleted either way."""
    from multiscale.config import load_experiment
    from multiscale.cosim import Simulation
    from multiscale.fit.problem import _QUIET
    from multiscale.storage import WriteError

    path, text, overrides, output, kinds = job
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    exp = load_experiment(path, {**overrides, **_QUIET, "output.path": output}, text=text)
    sim = Simulation(exp.plan, progress=False)
    try:
        try:
            ok = sim.run()
        except (FloatingPointError, WriteError) as err:
            return f"failed: {err}"
        if sim.interrupted is not None:
            return f"stopped by {signal.Signals(sim.interrupted).name}"
        if not ok:
            return "failed: the run did not complete"
        return read_signals(output, kinds)
    finally:
        for f in (Path(output), sim.files.partial):
            f.unlink(missing_ok=True)


def _over_ranks(comm, jobs: list) -> list[Signals | str]:
    """Candidates dealt round-robin over the ranks, results gathered on every rank."""
    rank, size = comm.Get_rank(), comm.Get_size()
    mine = {i: run_candidate(j) for i, j in enumerate(jobs) if i % size == rank}
    merged: dict[int, Any] = {}
    for part in comm.allgather(mine):
        merged.update(part)
    return [merged[i] for i in range(len(jobs))]
