"""``EngineBatch``: many engines of one network integrated in one compiled call.

A fit evaluates thousands of parameter sets of one experiment. Run one by one, each pays a
process, the set-up and a loop on one core; batched, B members share one call of the
batched loop (batch_kernel.py), which spreads them over numba's threads. The members are
ordinary ``Engine`` objects, built as a run builds its engine; the batch stacks their
arrays (state, history rings, region and coupling parameters, edge weights) along a first
axis of length B and leaves each engine looking at its own slice, so what changes an
engine (a perturbation's ``set_parameter``, ``set_edge_weights``) changes its member, and a
member's arithmetic is its engine's to the bit.

What members must share: the model, the coupling function, the integration method, the
step, the edges and their delays (one CSR pattern: the connectome), the history depth,
the float64 loop (no ``tvb_compat``) and no proxy nodes (no circuits).
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np

from multiscale.engine.compile import load_kernel
from multiscale.engine.network import Engine


class EngineBatch:
    """B engines (``engines``, each built on its own) advanced together.

    threads: how many threads the batched loop may use (default: numba's, i.e.
        NUMBA_NUM_THREADS or the number of cores); members are spread over them.
    """

    def __init__(self, engines: Sequence[Engine], threads: int | None = None) -> None:
        if not engines:
            raise ValueError("a batch needs at least one engine")
        self.engines = list(engines)
        first = self.engines[0]
        for b, e in enumerate(self.engines):
            problem = _not_shared(first, e)
            if problem:
                raise ValueError(f"engine {b} cannot share a batch with engine 0: {problem}")
        self.threads = _thread_count(threads)
        self.model, self.coupling, self.method = first.model, first.coupling, first.method
        self.dt, self.horizon, self.n_regions = first.dt, first.horizon, first.n_regions
        #: each member's step: the state X[b] is that at t = steps[b] dt
        self.steps = np.array([e.step for e in self.engines], dtype=np.int64)
        self._row_ptr_u, self._cell, self._nodes = first._row_ptr_u, first._cell, first._nodes
        # stacked copies of every member's own arrays; each engine then reads its slice
        self.X = np.stack([e.X for e in self.engines])
        self.H = np.stack([e._Hf for e in self.engines])
        self.Hp = np.stack([e._Hpf for e in self.engines])
        self.P = np.stack([e.P for e in self.engines])
        self.Q = np.stack([e.q for e in self.engines])
        self.W = np.stack([e.w for e in self.engines])
        for b, e in enumerate(self.engines):
            e.X, e.P, e.q, e.w = self.X[b], self.P[b], self.Q[b], self.W[b]
            e._Hf, e._Hpf = self.H[b], self.Hp[b]
            e.H, e.Hp = self.H[b].reshape(e.H.shape), self.Hp[b].reshape(e.Hp.shape)
        self._no_states = np.zeros((1, 1, 1))
        self._k = load_kernel(self.model, self.coupling, self.method, batch=True)

    def __len__(self) -> int:
        return len(self.engines)

    def advance(
        self,
        n_steps: int,
        members: Sequence[int] | np.ndarray,
        increments: np.ndarray,
        stochastic: Sequence[bool] | np.ndarray,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Integrate n_steps of each of ``members`` (indices into the batch), each from its
        own step (members keep their own clocks, so a batch can be advanced a group of
        members at a time: each member's history then stays in the cache for longer).

        increments: (len(members), >= n_steps, n_regions, n_state) the additive terms of
        members[a]'s steps, in state units: its noise ``sqrt(2 D dt) N(0, 1)``
        (``Engine.draw_noise``) plus dt x a stimulus (``Engine.with_stimulus``); or a
        (len(members), 1, 1, 1) dummy when none has any. stochastic: (len(members),)
        whether members[a] adds its increments (as its engine's ``advance`` would).
        out: (n_steps, B, n_regions) to write the observable into (each member's column;
        default: a new array, NaN for the others). Returns out: the observable of each
        member's next n_steps steps."""
        B = len(self.engines)
        members = np.asarray(members, dtype=np.int64)
        stochastic = np.asarray(stochastic, dtype=np.bool_)
        if stochastic.shape != members.shape:
            raise ValueError(f"stochastic must have shape {members.shape}")
        shape = increments.shape
        fits = shape[0] == len(members) and shape[1] >= n_steps and shape[2:] == self.X.shape[1:]
        if stochastic.any() and not fits:
            want = (len(members), n_steps, *self.X.shape[1:])
            raise ValueError(f"increments must have shape {want} (or more steps)")
        if out is None:
            out = np.full((n_steps, B, self.n_regions), np.nan)
        elif out.shape != (n_steps, B, self.n_regions):
            raise ValueError(f"out must have shape {(n_steps, B, self.n_regions)}")
        before = numba.get_num_threads()
        # no more threads than members; members handed out one at a time, so that a thread
        # the machine holds back (other work on the cores) does not hold back the call
        numba.set_num_threads(max(1, min(self.threads, len(members))))
        chunk = numba.set_parallel_chunksize(1)
        try:
            self._k._kb_advance(
                n_steps,
                self.steps,
                self.horizon,
                self.X,
                self.H,
                self.Hp,
                self._row_ptr_u,
                self._cell,
                self.W,
                self.P,
                self.Q,
                self.dt,
                np.ascontiguousarray(increments, dtype=float),
                stochastic,
                members,
                self._nodes,
                out,
                self._no_states,
            )
        finally:
            numba.set_parallel_chunksize(chunk)
            numba.set_num_threads(before)
        self.steps[members] += n_steps
        for b in members:
            self.engines[b].step = int(self.steps[b])
        return out


def _not_shared(a: Engine, b: Engine) -> str | None:
    """What engine b does not share with engine a (that a batch needs), or None."""
    if (a.model, a.coupling, a.method) != (b.model, b.coupling, b.method):
        return "another model, coupling or integration method"
    if a.tvb_compat or b.tvb_compat:
        return "tvb_compat: the batch runs the float64 loop only"
    if len(a.proxies) or len(b.proxies):
        return "proxy nodes (circuits): a batch runs neural masses only"
    if a.dt != b.dt:
        return "another time step"
    if a.horizon != b.horizon or a.n_regions != b.n_regions:
        return "another history depth or number of regions"
    if not (np.array_equal(a.row_ptr, b.row_ptr) and np.array_equal(a.col, b.col)):
        return "other edges (another connectome)"
    if not np.array_equal(a.d, b.d):
        return "other delays"
    return None


def _thread_count(threads: int | None) -> int:
    """The threads a batch may use: ``threads``, at most numba's pool (NUMBA_NUM_THREADS,
    by default the number of cores), which is also the default."""
    pool = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        return pool
    if not 1 <= threads <= pool:
        raise ValueError(
            f"threads: got {threads}; expected 1 to {pool} (NUMBA_NUM_THREADS, by default "
            "the number of cores)"
        )
    return int(threads)
