"""Whole-brain neural-mass engine: delayed coupling, Heun integration, proxy nodes.

One compiled loop serves every region model: the model's ``dfun`` and ``observe`` and
the coupling's ``pre``/``post`` are numba functions passed in, and numba specialises the
loop for them (see DESIGN.md: a generic loop runs close to a hand-fused one).

Conventions (those of TVB's simulator, so its trajectories can be reproduced):
- time in ms; state ``X`` (n_regions, n_state); step s holds the state at t = s dt;
- the history ring buffer ``H[i, s % horizon]`` holds the coupling variables of region i at
  step s (one row of time per region, so that a delayed read stays in cache for 8 steps);
- the coupling that moves step s to s + 1 is ``post(sum_j W_ij pre(H[j, s - d_ij], H[i, s]))``,
  computed once per step and used by both Heun stages; d = 0 reads step s itself;
- Heun: ``X* = X + dt f(X, c) + n``; ``X' = X + dt/2 (f(X, c) + f(X*, c)) + n`` with the
  additive noise increment ``n = sqrt(2 D dt) N(0, 1)`` per state variable (TVB's
  ``nsig`` = D); states are clipped to the model's bounds after each stage;
- an initial history (L, n, n_state) holds steps -(L-1) .. 0, its last sample is the
  initial state (TVB's ``initial_conditions``); every sample is clipped to the bounds.

TVB float32 compatibility (``tvb_compat=True``). TVB stores the delay history and the
weights in float32 and sums its sparse couplings (Linear, Difference, Kuramoto) in float32,
in ``numpy.add.reduceat`` order (first term + numpy's pairwise sum of the others); its dense
SigmoidalJansenRit coupling is a float64 pairwise sum over every source, zero weights
included. The states, dfuns, Heun and ``post`` are float64. With ``tvb_compat`` the engine
does the same: weights and history values are rounded to float32 (the arrays stay float64,
so both modes share one compiled loop), the sums follow TVB's order, and ``pre`` is
``Coupling.tvb_pre`` (TVB's float32 arithmetic, numpy's exp and float32 sin). It then
reproduces TVB 2.10 runs bit for bit (tests/test_tvb_parity.py), on a CPU where numpy
dispatches as where the fixtures were made (x86-64 with AVX512_SKX). The default float64
mode differs from TVB by < 1e-6 relative over 200 ms (TVB's float32 rounding). The compat
mode is slower (it is for verification) and takes no other code path in the default mode.

Proxy nodes (regions simulated by a spiking circuit) are not integrated: the
co-simulation writes their coupling variables into the history, a window late, which is
allowed because every edge touching them is delayed by at least one window.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from multiscale.coupling import Coupling
from multiscale.region import RegionModel

# _coupling (float64) and _coupling_tvb (TVB's arithmetic) share one signature: for each
# region nodes[a], the input that moves the step in ring slot ``slot`` forward goes to
# out[a, s]. H (n, horizon, n_cvar) is the history, Hp (n, horizon, n_c) the cached pre
# values, row_ptr/col/w/d the CSR connectivity, work/work32 scratch of one row (compat mode).
# The hot loops index arrays element by element and pass small scratch buffers to the
# model's functions: every array view made in a loop costs two atomic reference-count
# updates, which made up most of the time per step. Functions that take numba functions as
# arguments are not cached on disk: numba keys them by the functions' addresses, so a cache
# entry never matches in a later process, and the files only pile up.


@njit
def _coupling(nodes, slot, H, Hp, cached, row_ptr, col, w, d, q, pre, post, out, s, work, work32):
    hz, ncv = H.shape[1], H.shape[2]
    n_c = out.shape[2]
    acc = np.empty(n_c)
    tmp = np.empty(n_c)
    res = np.empty(n_c)
    xj = np.empty(ncv)
    xi = np.empty(ncv)
    for a in range(nodes.shape[0]):
        i = nodes[a]
        for k in range(n_c):
            acc[k] = 0.0
        if cached:  # pre(x_j) was computed once when x_j entered the history
            for e in range(row_ptr[i], row_ptr[i + 1]):
                t = slot - d[e]
                if t < 0:
                    t += hz
                j = col[e]
                we = w[e]
                for k in range(n_c):
                    acc[k] += we * Hp[j, t, k]
        else:
            for k in range(ncv):
                xi[k] = H[i, slot, k]
            for e in range(row_ptr[i], row_ptr[i + 1]):
                t = slot - d[e]
                if t < 0:
                    t += hz
                j = col[e]
                for k in range(ncv):
                    xj[k] = H[j, t, k]
                pre(xj, xi, q, tmp)
                we = w[e]
                for k in range(n_c):
                    acc[k] += we * tmp[k]
        post(acc, q, res)
        for k in range(n_c):
            out[a, s, k] = res[k]


@njit(cache=True)
def _pairwise_block(a, start, n):
    """numpy's pairwise_sum for 1 <= n <= 128: eight partial sums (n >= 8)."""
    if n < 8:
        res = a[start]
        for i in range(start + 1, start + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[start], a[start + 1], a[start + 2], a[start + 3]
    r4, r5, r6, r7 = a[start + 4], a[start + 5], a[start + 6], a[start + 7]
    i = 8
    while i < n - n % 8:
        b = start + i
        r0 += a[b]
        r1 += a[b + 1]
        r2 += a[b + 2]
        r3 += a[b + 3]
        r4 += a[b + 4]
        r5 += a[b + 5]
        r6 += a[b + 6]
        r7 += a[b + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i]
        i += 1
    return res


@njit(cache=True)
def _pairwise(a, start, n):
    """numpy's pairwise sum of a[start:start + n] (n >= 1), in a's dtype, operation for
    operation (``pairwise_sum`` in numpy/_core/src/umath/loops_utils.h.src): blocks of at
    most 128 terms, halved (to multiples of 8) above. The recursion is unrolled onto a
    stack, because numba cannot cache recursive functions."""
    if n <= 128:
        return _pairwise_block(a, start, n)
    S = np.empty(64, np.int64)
    N = np.empty(64, np.int64)
    stage = np.zeros(64, np.int64)
    left = np.empty(64, a.dtype)
    S[0], N[0] = start, n
    top = 0
    ret = a[start]
    while top >= 0:
        s, m = S[top], N[top]
        if m <= 128:
            ret = _pairwise_block(a, s, m)
            top -= 1
            continue
        m2 = m // 2
        m2 -= m2 % 8
        if stage[top] == 0:  # sum the first m2 terms
            stage[top] = 1
            top += 1
            S[top], N[top], stage[top] = s, m2, 0
        elif stage[top] == 1:  # then the others
            left[top] = ret
            stage[top] = 2
            top += 1
            S[top], N[top], stage[top] = s + m2, m - m2, 0
        else:
            ret = left[top] + ret
            top -= 1
    return ret


@njit
def _coupling_tvb(
    nodes, slot, H, Hp, cached, row_ptr, col, w, d, q, pre, post, out, s, work, work32
):
    """TVB's arithmetic. ``work32`` given (n_c, row length): its SparseCoupling, float32
    products w * pre and a float32 sum in ``numpy.add.reduceat`` order, p_0 + pairwise(p_1
    .. p_m). ``work32`` empty: its dense Coupling, float64 products (float32 weights) over
    every source j (zero weights included), summed by ``ndarray.sum``: pairwise(p_0 .. p_m)."""
    hz, ncv = H.shape[1], H.shape[2]
    n_c = out.shape[2]
    sparse = work32.shape[1] > 0
    acc = np.empty(n_c)
    tmp = np.empty(n_c)
    res = np.empty(n_c)
    xj = np.empty(ncv)
    xi = np.empty(ncv)
    for a in range(nodes.shape[0]):
        i = nodes[a]
        e0 = row_ptr[i]
        m = row_ptr[i + 1] - e0
        for k in range(ncv):
            xi[k] = H[i, slot, k]
        for e in range(e0, e0 + m):
            t = slot - d[e]
            if t < 0:
                t += hz
            j = col[e]
            if cached:
                for k in range(n_c):
                    tmp[k] = Hp[j, t, k]
            else:
                for k in range(ncv):
                    xj[k] = H[j, t, k]
                pre(xj, xi, q, tmp)
            for k in range(n_c):
                if sparse:  # w and pre are float32 values: one rounding, as in TVB
                    work32[k, e - e0] = np.float32(w[e] * tmp[k])
                else:
                    work[k, e - e0] = w[e] * tmp[k]
        for k in range(n_c):
            if m == 0:
                acc[k] = 0.0
            elif not sparse:
                acc[k] = _pairwise(work[k], 0, m)
            elif m == 1:
                acc[k] = work32[k, 0]
            else:
                acc[k] = work32[k, 0] + _pairwise(work32[k], 1, m - 1)
        post(acc, q, res)
        for k in range(n_c):
            out[a, s, k] = res[k]


@njit(inline="always")
def _clip(x, bounds):
    for k in range(x.shape[0]):
        if x[k] < bounds[k, 0]:
            x[k] = bounds[k, 0]
        elif x[k] > bounds[k, 1]:
            x[k] = bounds[k, 1]


@njit
def _advance(
    n_steps,
    step0,
    X,
    H,
    Hp,
    cached,
    row_ptr,
    col,
    w,
    d,
    P,
    q,
    dt,
    dfun,
    pre,
    tvb_pre,
    post,
    observe,
    noise,
    stochastic,
    cvar_idx,
    nodes,
    bounds,
    n_c,
    out_obs,
    compat,
    work,
    work32,
):
    nsv, n_par, ncv = X.shape[1], P.shape[1], cvar_idx.shape[0]
    hz = H.shape[1]
    c = np.zeros((nodes.shape[0], 1, n_c))
    x = np.empty(nsv)
    inter = np.empty(nsv)
    dx1 = np.empty(nsv)
    dx2 = np.empty(nsv)
    p = np.empty(n_par)
    ci = np.empty(n_c)
    h = np.empty(ncv)
    hp = np.empty(n_c)
    slot = step0 % hz
    row0 = np.int64(0)  # not a literal 0: _afferent's compiled _coupling serves here too
    for s in range(n_steps):
        if compat:
            _coupling_tvb(
                nodes,
                slot,
                H,
                Hp,
                cached,
                row_ptr,
                col,
                w,
                d,
                q,
                tvb_pre,
                post,
                c,
                row0,
                work,
                work32,
            )
        else:
            _coupling(
                nodes, slot, H, Hp, cached, row_ptr, col, w, d, q, pre, post, c, row0, work, work32
            )
        nxt = slot + 1
        if nxt == hz:
            nxt = 0
        for a in range(nodes.shape[0]):
            i = nodes[a]
            for k in range(nsv):
                x[k] = X[i, k]
            for k in range(n_par):
                p[k] = P[i, k]
            for k in range(n_c):
                ci[k] = c[a, 0, k]
            dfun(x, ci, p, dx1)
            for k in range(nsv):
                inter[k] = x[k] + dt * dx1[k]
                if stochastic:
                    inter[k] += noise[s, i, k]
            _clip(inter, bounds)
            dfun(inter, ci, p, dx2)
            for k in range(nsv):
                x[k] += 0.5 * dt * (dx1[k] + dx2[k])
                if stochastic:
                    x[k] += noise[s, i, k]
            _clip(x, bounds)
            for k in range(nsv):
                X[i, k] = x[k]
            for k in range(ncv):
                v = x[cvar_idx[k]]
                if compat:  # TVB's history is float32
                    v = np.float64(np.float32(v))
                H[i, nxt, k] = v
                h[k] = v
            if cached:
                if compat:
                    tvb_pre(h, h, q, hp)
                else:
                    pre(h, h, q, hp)
                for k in range(n_c):
                    Hp[i, nxt, k] = hp[k]
            out_obs[s, i] = observe(x, p)
        slot = nxt


@njit
def _afferent(
    nodes,
    step0,
    n_steps,
    H,
    Hp,
    cached,
    row_ptr,
    col,
    w,
    d,
    q,
    pre,
    tvb_pre,
    post,
    out,
    compat,
    work,
    work32,
):
    hz = H.shape[1]
    for s in range(n_steps):
        slot = (step0 + s) % hz
        if compat:
            _coupling_tvb(
                nodes,
                slot,
                H,
                Hp,
                cached,
                row_ptr,
                col,
                w,
                d,
                q,
                tvb_pre,
                post,
                out,
                s,
                work,
                work32,
            )
        else:
            _coupling(
                nodes, slot, H, Hp, cached, row_ptr, col, w, d, q, pre, post, out, s, work, work32
            )


@njit
def _fill_pre(H, Hp, slots, nodes, q, pre):
    h = np.empty(H.shape[2])
    hp = np.empty(Hp.shape[2])
    for b in range(nodes.shape[0]):
        for a in range(slots.shape[0]):
            for k in range(h.shape[0]):
                h[k] = H[nodes[b], slots[a], k]
            pre(h, h, q, hp)
            for k in range(hp.shape[0]):
                Hp[nodes[b], slots[a], k] = hp[k]


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
    initial: the initial state (n_state,) or (n, n_state), with the history before t = 0
        held at it; or an initial history (L, n, n_state) of steps -(L-1) .. 0, whose last
        sample is the initial state (TVB's convention; L > the largest delay). Clipped to
        the model's bounds.
    min_horizon: extra history depth the caller needs (the co-simulation window).
    tvb_compat: reproduce TVB's float32 history, weights and coupling sums (module
        docstring), to match TVB bit for bit; slower, for verification. Default: float64.
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
    ) -> None:
        n = weights.shape[0]
        nsv = len(model.STATE_VARIABLES)
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
        self.tvb_compat = bool(tvb_compat)
        W = np.array(weights, dtype=float)
        if self.tvb_compat:
            W = W.astype(np.float32).astype(float)
        # A spiking region models its own local connections: drop its self-edge.
        W[self.proxies, self.proxies] = 0.0
        D = np.asarray(delays, dtype=np.int64)
        dense = self.tvb_compat and coupling.tvb_dense
        rows, cols = np.nonzero(np.ones_like(W, dtype=bool) if dense else W)
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        self.row_ptr = np.searchsorted(rows, np.arange(n + 1)).astype(np.int64)
        self.col = cols.astype(np.int64)
        self.w = W[rows, cols]
        self.d = D[rows, cols]
        if self.d.size and self.d.min() < 0:
            raise ValueError("delays must be >= 0 steps")
        self.horizon = int(max(self.d.max(initial=0), min_horizon)) + 1
        self.bounds = model.bounds()
        hist = self._initial_history(initial, n, nsv)
        self.X = np.ascontiguousarray(hist[-1]).copy()
        if self.tvb_compat:  # TVB's history is float32
            hist = hist.astype(np.float32).astype(float)
        self.H = np.empty((n, self.horizon, len(self.cvar_idx)))
        L = hist.shape[0]
        for s in range(-min(L, self.horizon) + 1, 1):  # steps -(L-1) .. 0, in the ring
            self.H[:, s % self.horizon] = hist[L - 1 + s][:, self.cvar_idx]
        for s in range(-self.horizon + 1, -L + 1):  # older slots, never read: first sample
            self.H[:, s % self.horizon] = hist[0][:, self.cvar_idx]
        self._nodes = np.flatnonzero(self.integrate).astype(np.int64)
        self._tvb_pre = coupling.tvb_pre if coupling.tvb_pre is not None else coupling.pre
        self._pre = self._tvb_pre if self.tvb_compat else coupling.pre
        self._work = np.zeros((self.n_c, 0))
        self._work32 = np.zeros((self.n_c, 0), np.float32)
        if self.tvb_compat:
            row = max(1, int(np.diff(self.row_ptr).max(initial=0)))
            if dense:
                self._work = np.zeros((self.n_c, row))
            else:
                self._work32 = np.zeros((self.n_c, row), np.float32)
        # Couplings whose pre() ignores the receiving region are evaluated once per region
        # and step instead of once per edge and step; the sums are the same to the bit.
        self.cached = not coupling.pre_uses_receiver
        self.Hp = np.zeros((n, self.horizon, self.n_c) if self.cached else (1, 1, 1))
        if self.cached:
            _fill_pre(self.H, self.Hp, np.arange(self.horizon), np.arange(n), self.q, self._pre)
        self.stochastic = noise is not None and np.any(np.asarray(noise) > 0)
        if self.stochastic:
            D2 = np.broadcast_to(np.asarray(noise, dtype=float), self.X.shape)
            self.noise_scale = np.sqrt(2.0 * D2 * self.dt)
            self.rng = rng if rng is not None else np.random.default_rng()
        self.step = 0

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

    def advance(self, n_steps: int, increments: np.ndarray | None = None) -> np.ndarray:
        """Integrate n_steps; return the observable (n_steps, n_regions) of steps
        step+1 .. step+n_steps (proxy columns are NaN: the co-simulation fills them).

        increments: optional (n_steps, n_regions, n_state) additive noise increments to
        add in both Heun stages instead of drawing them (e.g. TVB's stored
        ``sqrt(2 nsig dt) z``, to reproduce a TVB stochastic run); the engine's own noise
        stream is then not used."""
        obs = np.full((n_steps, self.n_regions), np.nan)
        stochastic = self.stochastic or increments is not None
        if increments is not None:
            noise = np.ascontiguousarray(increments, dtype=float)
            if noise.shape != (n_steps, *self.X.shape):
                raise ValueError(f"increments must have shape {(n_steps, *self.X.shape)}")
        elif self.stochastic:
            noise = self.rng.standard_normal((n_steps, *self.X.shape)) * self.noise_scale
        else:
            noise = np.zeros((1, 1, 1))
        _advance(
            n_steps,
            self.step,
            self.X,
            self.H,
            self.Hp,
            self.cached,
            self.row_ptr,
            self.col,
            self.w,
            self.d,
            self.P,
            self.q,
            self.dt,
            self.model.dfun,
            self.coupling.pre,
            self._tvb_pre,
            self.coupling.post,
            self.model.observe,
            noise,
            stochastic,
            self.cvar_idx,
            self._nodes,
            self.bounds,
            self.n_c,
            obs,
            self.tvb_compat,
            self._work,
            self._work32,
        )
        self.step += n_steps
        return obs

    def afferent(self, nodes: np.ndarray, n_steps: int) -> np.ndarray:
        """Coupling input (len(nodes), n_steps, n_coupling) that ``nodes`` receive over
        the next n_steps. Needs every delay into them to be >= n_steps."""
        out = np.zeros((len(nodes), n_steps, self.n_c))
        _afferent(
            np.asarray(nodes, dtype=np.int64),
            self.step,
            n_steps,
            self.H,
            self.Hp,
            self.cached,
            self.row_ptr,
            self.col,
            self.w,
            self.d,
            self.q,
            self.coupling.pre,
            self._tvb_pre,
            self.coupling.post,
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
        if self.cached:
            _fill_pre(self.H, self.Hp, slots, np.array([node]), self.q, self._pre)

    def set_parameter(self, name: str, regions: np.ndarray, value: np.ndarray | float) -> None:
        self.P[regions, self.model.parameter_names().index(name)] = value
