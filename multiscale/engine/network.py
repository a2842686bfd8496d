"""The network object: ``Engine`` integrates the whole brain's neural masses.

It holds the state, the mirrored history rings, the weights and delays in CSR order, the
noise stream and the proxy nodes (conventions: the ``multiscale.engine`` docstring), and
runs the compiled loop of its (model, coupling, method) (``compile.load_kernel``) on them.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numba
import numpy as np

from multiscale.engine.compile import load_kernel
from multiscale.engine.kernel import BLOCK, INTEGRATORS
from multiscale.engine.noise import NormalStream
from multiscale.region import RegionModel
from multiscale.sparse import DenseOnDemand, SparseMatrix

if TYPE_CHECKING:  # multiscale.coupling imports the engine (tvb_compat): its type only
    from multiscale.coupling import Coupling


def _sparse(m) -> SparseMatrix | None:
    """The SparseMatrix behind ``m``, if it is one (or a DenseOnDemand of one)."""
    if isinstance(m, DenseOnDemand):
        return m.matrix
    return m if isinstance(m, SparseMatrix) else None


def _edge_arrays(
    weights, delays, proxies: np.ndarray, float32: bool, dense: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The engine's edges in CSR order (row, then column): receiver, source, weight
    (float64; rounded to float32 first when ``float32``, TVB's weights) and delay (int64
    steps) of every non-zero weight (of every pair when ``dense``), the self-edges of
    proxies left out (a circuit models its own local connections). From sparse inputs
    without any (n, n) array."""
    Ws, Ds = _sparse(weights), _sparse(delays)
    if Ws is None or dense:
        W = np.array(weights, dtype=float)
        if float32:
            W = W.astype(np.float32).astype(float)
        W[proxies, proxies] = 0.0
        rows, cols = np.nonzero(np.ones_like(W, dtype=bool) if dense else W)
        w = W[rows, cols]
    else:
        rows, cols = Ws.rows(), Ws.indices.astype(np.int64)
        w = np.asarray(Ws.data, dtype=np.float32 if float32 else float).astype(float)
        keep = (w != 0) & ~((rows == cols) & np.isin(rows, proxies))
        rows, cols, w = rows[keep], cols[keep], w[keep]
    if Ds is None:
        d = np.asarray(delays, dtype=np.int64)[rows, cols]
    else:
        d = Ds.at(rows, cols).astype(np.int64)
    return rows, cols.astype(np.int64), w, d


#: edges from which an engine gathers its delayed reads a block at a time by default
#: (``Engine(blocked=None)``): 1000 regions at 5 % density have 50000
BLOCKED_EDGES = 10_000

#: the block sizes an engine chooses from (steps; at most kernel.BLOCK)
BLOCK_SIZES = (16, 8, 4)

#: edges from which an engine uses every thread by default (``Engine(threads=None)``): below
#: this a step (a few hundred us at 100000 edges) is too short to share between threads
PARALLEL_EDGES = 100_000


class Engine:
    """Integrates a network of identical region models (parameters may differ per region).

    model: the RegionModel class.
    parameters: (n_regions, n_parameters) in the model's declared units.
    coupling, coupling_parameters: a Coupling and its parameter vector.
    weights: (n, n), W[i, j] from j onto i. delays: (n, n) integer steps of dt. Either may
        be a ``multiscale.sparse.SparseMatrix`` (or a ``DenseOnDemand`` of one): the edges
        are then taken from it as they are, and no (n, n) array is made.
    dt: step (ms). proxies: indices of regions simulated elsewhere (not integrated).
    noise: per-state-variable additive noise intensity D (n_state,) or (n, n_state), in
        state units^2 per ms, or None for a deterministic run.
    rng: the generator of this engine's noise stream.
    initial: the initial state (n_state,) or (n, n_state), with the history before t = 0
        held at it; or an initial history (L, n, n_state) of steps -(L-1) .. 0, whose last
        sample is the initial state (TVB's convention; L > the largest delay). Clipped to
        the model's bounds.
    min_horizon: extra history depth the caller needs (the co-simulation window).
    method: "heun" (default) or "euler"; with noise, Heun stochastic or Euler-Maruyama,
        both with increments sqrt(2 D dt) z as in TVB.
    tvb_compat: reproduce TVB's float32 history, weights and coupling sums (tvb_compat.py),
        to match TVB bit for bit; slower, for verification. Default: float64.
    blocked: gather the delayed reads a block of 16, 8 or 4 steps at a time (when the
        coupling's ``pre`` ignores the receiver; the size that leaves fewest reads), so
        that each edge's history is read once per block rather than once per step (for a
        large network, from memory) and summed for the block's steps at once (SIMD); the
        numbers are those of the step-by-step loop (``blocked=False``) to the bit. None
        (default): blocked from ``BLOCKED_EDGES`` edges on, or when blocks take at least
        half of the edge reads away (below both it gains nothing: 76 regions, whose
        self-edges have no delay, take 4.95 us per step either way).
    threads: how many of numba's threads the blocked loop spreads the regions over (1 to
        NUMBA_NUM_THREADS; default 1); None: all of them once the network has
        ``PARALLEL_EDGES`` edges (below that a step is too short to share), else 1. The
        numbers do not depend on it: each region's arithmetic is the same on any thread.
        Not the default: on a shared 2-core machine it did not pay (bench/README.md), and
        under MPI the other ranks hold the other cores.
    noise_ahead: draw the next window's noise on a second thread while the compiled loop
        integrates this one (``noise.NormalStream``): the same numbers, for a process with
        a core to spare (a single-process run of masses only; not under MPI or a pool).
    """

    def __init__(
        self,
        model: type[RegionModel],
        parameters: np.ndarray,
        coupling: Coupling,
        coupling_parameters: np.ndarray,
        weights: np.ndarray,
        delays: np.ndarray,
        dt: float,
        *,
        proxies: list[int] | tuple[int, ...] = (),
        noise: np.ndarray | None = None,
        rng: np.random.Generator | None = None,
        initial: np.ndarray | None = None,
        min_horizon: int = 0,
        tvb_compat: bool = False,
        method: str = "heun",
        blocked: bool | None = None,
        threads: int | None = 1,
        noise_ahead: bool = False,
    ) -> None:
        n = weights.shape[0]
        if method not in INTEGRATORS:
            raise ValueError(f"integration method {method!r}: expected one of {INTEGRATORS}")
        self.method = method
        nsv = len(model.STATE_VARIABLES)
        self.model = model
        self.n_regions = n
        self.dt = float(dt)
        self.P = np.ascontiguousarray(parameters, dtype=float)
        self.coupling = coupling
        self.q = np.ascontiguousarray(coupling_parameters, dtype=float)
        if self.q.shape != (len(coupling.parameters),):
            raise ValueError(
                f"{coupling.name} coupling takes {len(coupling.parameters)} parameters "
                f"({', '.join(coupling.parameters)}), not {self.q.shape}"
            )
        self.cvar_idx = model.coupling_indices()
        self.n_c = coupling.n_inputs(len(self.cvar_idx))
        self.proxies = np.asarray(proxies, dtype=np.int64)
        self.integrate = np.ones(n, dtype=np.bool_)
        self.integrate[self.proxies] = False
        self.tvb_compat = bool(tvb_compat)
        dense = self.tvb_compat and coupling.tvb_dense
        rows, self.col, self.w, self.d = _edge_arrays(
            weights, delays, self.proxies, self.tvb_compat, dense
        )
        self.row_ptr = np.searchsorted(rows, np.arange(n + 1)).astype(np.int64)
        if self.d.size and self.d.min() < 0:
            raise ValueError("delays must be >= 0 steps")
        # one slot more than the longest read: the slot a step writes is never read by it
        self.horizon = hz = int(max(self.d.max(initial=0) + 1, min_horizon)) + 1
        self._row_ptr_u = self.row_ptr.astype(np.uint64)
        self._cell = (self.col * 2 * hz + hz - self.d).astype(np.uint64)
        self.bounds = model.bounds()
        hist = self._initial_history(initial, n, nsv)
        self.X = np.ascontiguousarray(hist[-1]).copy()
        if self.tvb_compat:  # TVB's history is float32
            hist = hist.astype(np.float32).astype(float)
        self.H = np.empty((n, 2 * hz, len(self.cvar_idx)))
        L = hist.shape[0]
        for s in range(-min(L, hz) + 1, 1):  # steps -(L-1) .. 0, in the ring
            self.H[:, s % hz] = hist[L - 1 + s][:, self.cvar_idx]
        for s in range(-hz + 1, -L + 1):  # older slots, never read: first sample
            self.H[:, s % hz] = hist[0][:, self.cvar_idx]
        self.H[:, hz:] = self.H[:, :hz]
        self._nodes = np.flatnonzero(self.integrate).astype(np.int64)
        self._work = np.zeros((self.n_c, 0))
        self._work32 = np.zeros((self.n_c, 0), np.float32)
        if self.tvb_compat:
            row = max(1, int(np.diff(self.row_ptr).max(initial=0)))
            if dense:
                self._work = np.zeros((self.n_c, row))
            else:
                self._work32 = np.zeros((self.n_c, row), np.float32)
        self._k = load_kernel(model, coupling, method)
        # Couplings whose pre() ignores the receiving region are evaluated once per region
        # and step instead of once per edge and step; the sums are the same to the bit.
        self.cached = not coupling.pre_uses_receiver
        self.Hp = np.zeros((n, 2 * hz, self.n_c) if self.cached else (1, 1, 1))
        self._Hf, self._Hpf = self.H.reshape(-1), self.Hp.reshape(-1)
        if self.cached:
            self._fill_pre(np.arange(hz), np.arange(n))
        # The blocked loop sums each row's edges up to its first one delayed by less than
        # BLOCK - 1 steps for a whole block at once (their values exist when it starts).
        self.block, cost = self._block_size()
        if blocked is None:
            blocked = self.w.size >= BLOCKED_EDGES or cost <= 0.5
        self.blocked = bool(blocked) and self.cached and not self.tvb_compat
        self._split = self.row_ptr[1:].copy()
        if self.blocked:
            short = np.flatnonzero(self.d < self.block - 1)
            receivers = np.repeat(np.arange(n), np.diff(self.row_ptr))
            np.minimum.at(self._split, receivers[short], short)
        self._split = self._split.astype(np.uint64)
        self._acc = np.zeros(n * BLOCK * self.n_c if self.blocked else 1)
        self._partition()
        pool = numba.config.NUMBA_NUM_THREADS
        if threads is None:
            threads = pool if self.w.size >= PARALLEL_EDGES else 1
        elif not 1 <= threads <= pool:
            raise ValueError(f"threads: got {threads}; expected 1 to {pool} (NUMBA_NUM_THREADS)")
        self.threads = int(threads) if self.blocked else 1
        self._kp = None  # the parallel loop's module, loaded on first use
        self.stochastic = noise is not None and np.any(np.asarray(noise) > 0)
        if self.stochastic:
            D2 = np.broadcast_to(np.asarray(noise, dtype=float), self.X.shape)
            self.noise_scale = np.sqrt(2.0 * D2 * self.dt)
            self.rng = rng if rng is not None else np.random.default_rng()
            self._normals = NormalStream(self.rng, ahead=noise_ahead)
            self._noisy = self._noisy_variables()
        self._no_noise = np.zeros((1, 1, 1))
        self._noise_buffer: np.ndarray | None = None
        self._no_states = np.zeros((1, 1, 1))
        self.step = 0

    def _block_size(self) -> tuple[int, float]:
        """The steps to gather together (16, 8 or 4) and the edge reads per edge and step
        it leaves: a row's edges from its first one delayed by less than block - 1 steps
        are read every step, the others once per block (sizes: BLOCK_SIZES)."""
        receivers = np.repeat(np.arange(self.n_regions), np.diff(self.row_ptr))
        best = (BLOCK, np.inf)
        for size in BLOCK_SIZES:
            split = self.row_ptr[1:].copy()
            short = np.flatnonzero(self.d < size - 1)
            np.minimum.at(split, receivers[short], short)
            ahead = int((split - self.row_ptr[:-1]).sum())
            cost = (ahead / size + self.w.size - ahead) / max(1, self.w.size)
            if cost < best[1]:
                best = (size, cost)
        return best

    def _partition(self) -> None:
        """The integrated regions the blocked loop runs a whole block at a time, and those
        it steps (kernel._k_advance_blocked): a region is run whole if all its edges are
        taken by its gather and none of its outgoing edges is delayed by horizon - block
        steps or more (so its block's writes meet no gather's read)."""
        nodes = self._nodes
        whole = np.zeros(self.n_regions, dtype=np.bool_)
        if self.blocked:
            whole[nodes] = self._split[nodes] == self._row_ptr_u[nodes + 1]
            whole[self.col[self.d >= self.horizon - self.block]] = False
        self._whole = np.flatnonzero(whole).astype(np.int64)
        self._stepped = nodes[~whole[nodes]]

    def _noisy_variables(self) -> np.ndarray:
        """The state variables with noise in any region: the only ones drawn for."""
        return np.flatnonzero((self.noise_scale > 0).any(axis=0))

    def _initial_history(self, initial: np.ndarray | None, n: int, nsv: int) -> np.ndarray:
        """(L, n, n_state) float64 history of steps -(L-1) .. 0, clipped to the bounds."""
        x0 = self.model.initial_state() if initial is None else np.asarray(initial, dtype=float)
        if x0.ndim == 3:
            hist = np.array(np.broadcast_to(x0, (x0.shape[0], n, nsv)))
            max_delay = int(self.d.max(initial=0))
            if hist.shape[0] <= max_delay:
                raise ValueError(
                    f"an initial history of {hist.shape[0]} samples is too short for the "
                    f"largest delay ({max_delay} steps): it needs {max_delay + 1}"
                )
        else:
            hist = np.array(np.broadcast_to(x0, (n, nsv)))[None]
        return np.clip(hist, self.bounds[:, 0], self.bounds[:, 1])

    def _fill_pre(self, slots: np.ndarray, nodes: np.ndarray) -> None:
        self._k._k_fill_pre(
            self.horizon,
            self._Hf,
            self._Hpf,
            np.asarray(slots, dtype=np.int64),
            np.asarray(nodes, dtype=np.int64),
            self.q,
            self.tvb_compat,
        )

    def advance(
        self,
        n_steps: int,
        increments: np.ndarray | None = None,
        stimulus: np.ndarray | None = None,
        states: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Integrate n_steps; return the observable (n_steps, n_regions) of steps
        step+1 .. step+n_steps (proxy columns are NaN: the co-simulation fills them).

        increments: optional (n_steps, n_regions, n_state) additive noise increments to
        add in both Heun stages instead of drawing them (e.g. TVB's stored
        ``sqrt(2 nsig dt) z``, to reproduce a TVB stochastic run); the engine's own noise
        stream is then not used.
        stimulus: optional (n_steps, n_regions, n_state) term added to dx/dt (state unit
        per ms) during each step, in both Heun stages, as TVB adds its stimuli; it draws
        nothing from the noise stream, so a stimulus leaves the noise unchanged.
        states: optional (n_steps, n_regions, n_state) array that receives the raw state
        after every step (each variable in its declared unit), written by the compiled
        loop itself (regions not integrated here, the circuits' proxies, keep their
        state).
        out: optional (n_steps, n_regions) float64 array to write the observable into (and
        return) instead of a new one: a long run's new array costs a page fault per 4 kB
        the loop first writes (~10 % of a 76-region step)."""
        if out is None:
            obs = np.empty((n_steps, self.n_regions))
        elif out.shape != (n_steps, self.n_regions) or out.dtype != np.float64:
            raise ValueError(f"out must be a float64 array of shape {(n_steps, self.n_regions)}")
        else:
            obs = out
        obs[:, self.proxies] = np.nan  # every other column is written
        stochastic = self.stochastic or increments is not None
        if increments is not None:
            noise = np.ascontiguousarray(increments, dtype=float)
            if noise.shape != (n_steps, *self.X.shape):
                raise ValueError(f"increments must have shape {(n_steps, *self.X.shape)}")
        elif self.stochastic:
            # one buffer for every window of this length: its variables without noise stay
            # zero, and a new array would cost a page fault per 4 kB at every window
            if self._noise_buffer is None or len(self._noise_buffer) != n_steps:
                self._noise_buffer = np.zeros((n_steps, *self.X.shape))
            noise = self.draw_noise(n_steps, out=self._noise_buffer)
        else:
            noise = self._no_noise
        if stimulus is not None:
            noise = self.with_stimulus(n_steps, noise, stochastic, stimulus)
            stochastic = True
        if states is None:
            record, states = False, self._no_states
        else:
            if states.shape != (n_steps, *self.X.shape):
                raise ValueError(f"states must have shape {(n_steps, *self.X.shape)}")
            record = True
            states[:, self.proxies] = self.X[self.proxies]
        self._run_kernel(n_steps, self.step, noise, stochastic, obs, states, record)
        self.step += n_steps
        return obs

    def draw_noise(self, n_steps: int, out: np.ndarray | None = None) -> np.ndarray:
        """The additive noise increments (n_steps, n_regions, n_state) of the next n_steps
        (state units), drawn from this engine's stream: sqrt(2 D dt) N(0, 1), drawn only
        for the state variables that have noise (Jansen-Rit: 1 of 6), the others zero.
        out: an array of that shape to fill instead of a new one (the batch's buffer); its
        other variables are left as they are, so they must be zero. Only for a stochastic
        engine."""
        noise = np.zeros((n_steps, *self.X.shape)) if out is None else out
        z = self._normals.take((n_steps, self.X.shape[0], len(self._noisy)))
        for j, k in enumerate(self._noisy):
            np.multiply(z[:, :, j], self.noise_scale[:, k], out=noise[:, :, k])
        return noise

    def with_stimulus(
        self, n_steps: int, noise: np.ndarray, stochastic: bool, stimulus: np.ndarray
    ) -> np.ndarray:
        """The additive term of n_steps under a stimulus: dt x stimulus (n_steps,
        n_regions, n_state), in state unit per ms, plus the noise increments ``noise`` of
        those steps when ``stochastic``. A new array; the noise stream is not touched."""
        drive = self.dt * np.asarray(stimulus, dtype=float)
        if drive.shape != (n_steps, *self.X.shape):
            raise ValueError(f"stimulus must have shape {(n_steps, *self.X.shape)}")
        return drive + (noise if stochastic else 0.0)

    def _run_kernel(
        self,
        n: int,
        step: int,
        noise: np.ndarray,
        stochastic: bool,
        out: np.ndarray,
        states: np.ndarray,
        record: bool,
    ) -> None:
        """n steps of the compiled loop from ``step``; observable into ``out``, and with
        ``record`` each step's state into ``states``."""
        if self.tvb_compat:
            self._k._k_advance_tvb(
                n,
                step,
                self.horizon,
                self.X,
                self._Hf,
                self._Hpf,
                self.row_ptr,
                self.col,
                self.w,
                self.d,
                self.P,
                self.q,
                self.dt,
                noise,
                stochastic,
                self._nodes,
                out,
                states,
                record,
                self._work,
                self._work32,
            )
        elif self.blocked and self.threads > 1:
            if self._kp is None:
                self._kp = load_kernel(self.model, self.coupling, self.method, batch=True)
            before = numba.get_num_threads()
            numba.set_num_threads(self.threads)
            try:
                self._kp._kp_advance(
                    *self._blocked_args(n, step, noise, stochastic, out, states, record)
                )
            finally:
                numba.set_num_threads(before)
        elif self.blocked:
            self._k._k_advance_blocked(
                *self._blocked_args(n, step, noise, stochastic, out, states, record)
            )
        else:
            self._k._k_advance(
                n,
                step,
                self.horizon,
                self.X,
                self._Hf,
                self._Hpf,
                self._row_ptr_u,
                self._cell,
                self.w,
                self.P,
                self.q,
                self.dt,
                noise,
                stochastic,
                self._nodes,
                out,
                states,
                record,
            )

    def _blocked_args(self, n, step, noise, stochastic, out, states, record) -> tuple:
        """The arguments of the blocked loop (serial or parallel)."""
        return (
            n,
            step,
            self.horizon,
            self.X,
            self._Hf,
            self._Hpf,
            self._row_ptr_u,
            self._split,
            self._cell,
            self.w,
            self.P,
            self.q,
            self.dt,
            noise,
            stochastic,
            self._whole,
            self._stepped,
            out,
            states,
            record,
            self._acc,
            self.block,
        )

    def afferent(self, nodes: np.ndarray, n_steps: int) -> np.ndarray:
        """Coupling input (len(nodes), n_steps, n_coupling) that ``nodes`` receive over
        the next n_steps. Needs every delay into them to be >= n_steps."""
        out = np.zeros((len(nodes), n_steps, self.n_c))
        self._k._k_afferent(
            np.asarray(nodes, dtype=np.int64),
            self.step,
            n_steps,
            self.horizon,
            self._Hf,
            self._Hpf,
            self._row_ptr_u,
            self._cell,
            self.w,
            self.row_ptr,
            self.col,
            self.d,
            self.q,
            out,
            self.tvb_compat,
            self._work,
            self._work32,
        )
        return out

    def write_history(self, node: int, first_step: int, cvars: np.ndarray) -> None:
        """Set the coupling variables (n_steps, n_cvar) of ``node`` for steps
        first_step, first_step + 1, ... (how a proxy node's activity enters the network)."""
        slots = (first_step + np.arange(len(cvars))) % self.horizon
        cvars = np.asarray(cvars, dtype=float)
        if self.tvb_compat:
            cvars = cvars.astype(np.float32).astype(float)
        self.H[node, slots] = cvars
        self.H[node, slots + self.horizon] = cvars
        if self.cached:
            self._fill_pre(slots, np.array([node]))

    # --- what perturbations change ----------------------------------------------------
    def parameter(self, name: str) -> np.ndarray:
        """A copy of one region parameter, per region (in the model's unit)."""
        return self.P[:, self.model.parameter_names().index(name)].copy()

    def set_parameter(self, name: str, regions: np.ndarray, value: np.ndarray | float) -> None:
        """Set one region parameter of ``regions`` (the model's unit), from the next step."""
        self.P[regions, self.model.parameter_names().index(name)] = value

    def edge_weights(self) -> np.ndarray:
        """A copy of the weight of every edge the engine integrates (indexed as ``edges``
        returns them)."""
        return self.w.copy()

    def set_edge_weights(self, weights: np.ndarray) -> None:
        """New weights for every edge; activity in flight on an edge arrives with its new
        weight."""
        self.w[:] = weights

    def edges(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Indices of the edges from any region of ``sources`` onto any of ``targets``."""
        receivers = np.repeat(np.arange(self.n_regions), np.diff(self.row_ptr))
        return np.flatnonzero(np.isin(receivers, targets) & np.isin(self.col, sources))

    def edges_touching(self, regions: np.ndarray) -> np.ndarray:
        """Indices of the edges into or out of any of ``regions``."""
        receivers = np.repeat(np.arange(self.n_regions), np.diff(self.row_ptr))
        return np.flatnonzero(np.isin(receivers, regions) | np.isin(self.col, regions))

    # --- checkpoints ------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray | int | float | str]:
        """Everything that determines the future of this engine, as copies: state, both
        history rings, step, the noise stream, and what perturbations change (P, w, q) or
        what decides which regions are integrated. With ``set_state`` on an engine built
        with the same model, coupling, connectome and delays, the continuation is the same
        to the bit (tests/test_state_snapshot.py)."""
        state: dict[str, np.ndarray | int | float | str] = {
            "X": self.X.copy(),
            "H": self.H.copy(),
            "Hp": self.Hp.copy(),
            "step": int(self.step),
            "P": self.P.copy(),
            "q": self.q.copy(),
            "w": self.w.copy(),
            "integrate": self.integrate.copy(),
            "proxies": self.proxies.copy(),
            "horizon": int(self.horizon),
            "stochastic": int(self.stochastic),
        }
        if self.stochastic:
            state["noise_scale"] = self.noise_scale.copy()
            self._normals.settle()  # the stream where the windows run so far left it
            state["rng"] = json.dumps(self.rng.bit_generator.state)
        return state

    def set_state(self, state: dict) -> None:
        """Restore a ``get_state`` snapshot. Arrays are written in place: the compiled loop
        reads H and Hp through flat views taken at construction."""
        if int(state["horizon"]) != self.horizon:
            raise ValueError(
                f"snapshot history horizon {int(state['horizon'])} != this engine's "
                f"{self.horizon}: built with other delays or window"
            )
        for name in ("X", "H", "Hp", "P", "q", "w", "integrate"):
            mine, theirs = getattr(self, name), np.asarray(state[name])
            if mine.shape != theirs.shape:
                raise ValueError(f"snapshot {name} has shape {theirs.shape}, not {mine.shape}")
            np.copyto(mine, theirs, casting="same_kind")
        self.proxies = np.asarray(state["proxies"], dtype=np.int64).copy()
        self._nodes = np.flatnonzero(self.integrate).astype(np.int64)
        self._partition()
        self.step = int(state["step"])
        if bool(int(state["stochastic"])) != bool(self.stochastic):
            raise ValueError("snapshot and engine disagree on whether there is noise")
        if self.stochastic:
            self.noise_scale = np.array(state["noise_scale"], dtype=float)
            self._noisy = self._noisy_variables()
            self._noise_buffer = None  # its zero variables may have changed
            rng_state = state["rng"]
            if isinstance(rng_state, bytes):
                rng_state = rng_state.decode()
            self._normals.settle()
            self.rng.bit_generator.state = json.loads(rng_state)
