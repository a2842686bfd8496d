"""Whole-brain neural-mass engine: delayed coupling, Heun integration, proxy nodes.

One compiled loop serves every region model: the model's ``dfun`` and ``observe`` and
the coupling's ``pre``/``post`` are numba functions passed in, and numba specialises the
loop for them (see DESIGN.md: a generic loop runs close to a hand-fused one).

Conventions (those of TVB's simulator, so its trajectories can be reproduced):
- time in ms; state ``X`` (n_regions, n_state); step s holds the state at t = s dt;
- the history ring buffer ``H[s % horizon]`` holds the coupling variables of step s;
- the coupling that moves step s to s + 1 is ``post(sum_j W_ij pre(H[s - d_ij, j], H[s, i]))``,
  computed once per step and used by both Heun stages;
- Heun: ``X* = X + dt f(X, c) + n``; ``X' = X + dt/2 (f(X, c) + f(X*, c)) + n`` with the
  additive noise increment ``n = sqrt(2 D dt) N(0, 1)`` per state variable (TVB's
  ``nsig`` = D); states are clipped to the model's bounds after each stage.

Proxy nodes (regions simulated by a spiking circuit) are not integrated: the
co-simulation writes their coupling variables into the history, a window late, which is
allowed because every edge touching them is delayed by at least one window.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from multiscale.coupling import Coupling
from multiscale.region import RegionModel


@njit(cache=True)
def _node_coupling(i, step, H, Hp, cached, row_ptr, col, w, d, q, pre, post, acc, tmp, out):
    hz = H.shape[0]
    acc[:] = 0.0
    if cached:  # pre(x_j) was computed once when x_j entered the history
        for e in range(row_ptr[i], row_ptr[i + 1]):
            hp = Hp[(step - d[e]) % hz, col[e]]
            for k in range(acc.shape[0]):
                acc[k] += w[e] * hp[k]
    else:
        xi = H[step % hz, i]
        for e in range(row_ptr[i], row_ptr[i + 1]):
            pre(H[(step - d[e]) % hz, col[e]], xi, q, tmp)
            for k in range(acc.shape[0]):
                acc[k] += w[e] * tmp[k]
    post(acc, q, out)


@njit(cache=True)
def _clip(x, bounds):
    for k in range(x.shape[0]):
        if x[k] < bounds[k, 0]:
            x[k] = bounds[k, 0]
        elif x[k] > bounds[k, 1]:
            x[k] = bounds[k, 1]


@njit(cache=True)
def _advance(
    n_steps, step0, X, H, Hp, cached, row_ptr, col, w, d, P, q, dt, dfun, pre, post, observe,
    noise, stochastic, cvar_idx, integrate, bounds, n_c, out_obs,
):  # fmt: skip
    n, nsv = X.shape
    hz = H.shape[0]
    c = np.zeros((n, n_c))
    acc = np.zeros(n_c)
    tmp = np.zeros(n_c)
    dx1 = np.zeros(nsv)
    dx2 = np.zeros(nsv)
    inter = np.zeros(nsv)
    for s in range(n_steps):
        step = step0 + s
        for i in range(n):
            if integrate[i]:
                _node_coupling(i, step, H, Hp, cached, row_ptr, col, w, d, q, pre, post, acc,
                               tmp, c[i])  # fmt: skip
        nxt = (step + 1) % hz
        for i in range(n):
            if not integrate[i]:
                continue
            x = X[i]
            dfun(x, c[i], P[i], dx1)
            for k in range(nsv):
                inter[k] = x[k] + dt * dx1[k]
                if stochastic:
                    inter[k] += noise[s, i, k]
            _clip(inter, bounds)
            dfun(inter, c[i], P[i], dx2)
            for k in range(nsv):
                x[k] += 0.5 * dt * (dx1[k] + dx2[k])
                if stochastic:
                    x[k] += noise[s, i, k]
            _clip(x, bounds)
            for k in range(cvar_idx.shape[0]):
                H[nxt, i, k] = x[cvar_idx[k]]
            if cached:
                pre(H[nxt, i], H[nxt, i], q, Hp[nxt, i])
            out_obs[s, i] = observe(x, P[i])


@njit(cache=True)
def _afferent(nodes, step0, n_steps, H, Hp, cached, row_ptr, col, w, d, q, pre, post, out):
    n_c = out.shape[2]
    acc = np.zeros(n_c)
    tmp = np.zeros(n_c)
    for s in range(n_steps):
        for a in range(nodes.shape[0]):
            _node_coupling(nodes[a], step0 + s, H, Hp, cached, row_ptr, col, w, d, q, pre, post,
                           acc, tmp, out[a, s])  # fmt: skip


@njit(cache=True)
def _fill_pre(H, Hp, slots, nodes, q, pre):
    for a in range(slots.shape[0]):
        for b in range(nodes.shape[0]):
            pre(H[slots[a], nodes[b]], H[slots[a], nodes[b]], q, Hp[slots[a], nodes[b]])


class Engine:
    """Integrates a network of identical region models (parameters may differ per region).

    model: the RegionModel class.
    parameters: (n_regions, n_parameters) in the model's declared units.
    coupling, coupling_parameters: a Coupling and its parameter vector.
    weights: (n, n), W[i, j] from j onto i. delays: (n, n) integer steps of dt.
    dt: step (ms). proxies: indices of regions simulated elsewhere (not integrated).
    noise: per-state-variable additive noise intensity D (n_state,) or (n, n_state), in
        state units^2 per ms, or None for a deterministic run.
    rng: the generator of this engine's noise stream.
    initial: initial state (n_state,) or (n, n_state); the history before t = 0 is held
        at it (constant initial history), or a (horizon, n, n_cvar) history may be set.
    min_horizon: extra history depth the caller needs (the co-simulation window).
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
    ) -> None:
        n = weights.shape[0]
        self.model = model
        self.n_regions = n
        self.dt = float(dt)
        self.P = np.ascontiguousarray(parameters, dtype=float)
        self.coupling = coupling
        self.q = np.ascontiguousarray(coupling_parameters, dtype=float)
        self.cvar_idx = model.coupling_indices()
        self.n_c = coupling.n_inputs(len(self.cvar_idx))
        self.proxies = np.asarray(proxies, dtype=np.int64)
        self.integrate = np.ones(n, dtype=np.bool_)
        self.integrate[self.proxies] = False
        W = np.array(weights, dtype=float)
        # A spiking region models its own local connections: drop its self-edge.
        W[self.proxies, self.proxies] = 0.0
        D = np.asarray(delays, dtype=np.int64)
        rows, cols = np.nonzero(W)
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        self.row_ptr = np.searchsorted(rows, np.arange(n + 1)).astype(np.int64)
        self.col = cols.astype(np.int64)
        self.w = W[rows, cols]
        self.d = D[rows, cols]
        self.horizon = int(max(self.d.max(initial=0), min_horizon)) + 1
        x0 = model.initial_state() if initial is None else np.asarray(initial, dtype=float)
        self.X = np.ascontiguousarray(np.broadcast_to(x0, (n, len(model.STATE_VARIABLES))))
        self.X = self.X.copy()
        self.H = np.empty((self.horizon, n, len(self.cvar_idx)))
        self.H[:] = self.X[:, self.cvar_idx]
        # Couplings whose pre() ignores the receiving region are evaluated once per region
        # and step instead of once per edge and step; the sums are the same to the bit.
        self.cached = not coupling.pre_uses_receiver
        self.Hp = np.zeros((self.horizon, n, self.n_c) if self.cached else (1, 1, 1))
        if self.cached:
            _fill_pre(self.H, self.Hp, np.arange(self.horizon), np.arange(n), self.q, coupling.pre)
        self.bounds = model.bounds()
        self.stochastic = noise is not None and np.any(np.asarray(noise) > 0)
        if self.stochastic:
            D2 = np.broadcast_to(np.asarray(noise, dtype=float), self.X.shape)
            self.noise_scale = np.sqrt(2.0 * D2 * self.dt)
            self.rng = rng if rng is not None else np.random.default_rng()
        self.step = 0

    def advance(self, n_steps: int) -> np.ndarray:
        """Integrate n_steps; return the observable (n_steps, n_regions) of steps
        step+1 .. step+n_steps (proxy columns are NaN: the co-simulation fills them)."""
        obs = np.full((n_steps, self.n_regions), np.nan)
        if self.stochastic:
            noise = self.rng.standard_normal((n_steps, *self.X.shape)) * self.noise_scale
        else:
            noise = np.zeros((1, 1, 1))
        _advance(
            n_steps, self.step, self.X, self.H, self.Hp, self.cached, self.row_ptr, self.col,
            self.w, self.d,
            self.P, self.q, self.dt, self.model.dfun, self.coupling.pre, self.coupling.post,
            self.model.observe, noise, self.stochastic, self.cvar_idx, self.integrate,
            self.bounds, self.n_c, obs,
        )  # fmt: skip
        self.step += n_steps
        return obs

    def afferent(self, nodes: np.ndarray, n_steps: int) -> np.ndarray:
        """Coupling input (len(nodes), n_steps, n_coupling) that ``nodes`` receive over
        the next n_steps. Needs every delay into them to be >= n_steps."""
        out = np.zeros((len(nodes), n_steps, self.n_c))
        _afferent(
            np.asarray(nodes, dtype=np.int64), self.step, n_steps, self.H, self.Hp, self.cached,
            self.row_ptr, self.col, self.w, self.d, self.q, self.coupling.pre, self.coupling.post,
            out,
        )  # fmt: skip
        return out

    def write_history(self, node: int, first_step: int, cvars: np.ndarray) -> None:
        """Set the coupling variables (n_steps, n_cvar) of ``node`` for steps
        first_step, first_step + 1, ... (how a proxy node's activity enters the network)."""
        slots = (first_step + np.arange(len(cvars))) % self.horizon
        self.H[slots, node] = cvars
        if self.cached:
            _fill_pre(self.H, self.Hp, slots, np.array([node]), self.q, self.coupling.pre)

    def set_parameter(self, name: str, regions: np.ndarray, value: np.ndarray | float) -> None:
        self.P[regions, self.model.parameter_names().index(name)] = value
