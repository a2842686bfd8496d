"""Whole-brain neural-mass engine: delayed coupling, Heun integration, proxy nodes.

One loop serves every region model. It is written once, below (the ``_k_*`` functions),
and compiled for each (model, coupling) pair into a small generated module in which the
model's ``dfun``/``observe``, the coupling's ``pre``/``post`` and the sizes (state
variables, coupling variables, parameters) are module constants: numba inlines the model
into the loop, unrolls the short loops over state variables and keeps the per-region
scratch vectors in registers. That module is cached on disk (``kernel_cache_dir()``), so
a later process loads the compiled loop instead of compiling it (``_kernel``).

Conventions (those of TVB's simulator, so its trajectories can be reproduced):
- time in ms; state ``X`` (n_regions, n_state); step s holds the state at t = s dt;
- the history ring buffer holds the coupling variables of region i at step s in slot
  ``s % horizon`` of row i, twice: ``H[i, slot]`` and ``H[i, slot + horizon]`` (a mirror,
  so that a delayed read is one add with no wrap-around test; one row of time per region,
  so a delayed read stays in cache for 8 steps). When the coupling's ``pre`` ignores the
  receiver, ``Hp`` (same layout) holds ``pre`` of those values, computed once per region
  and step, and the default loop reads and writes only Hp (H then keeps the initial history
  and what ``write_history`` wrote);
- the coupling that moves step s to s + 1 is ``post(sum_j W_ij pre(x_j(s - d_ij), x_i(s)))``,
  summed over the incoming edges in column order, computed once per step and used by both
  Heun stages; d = 0 reads step s itself;
- Heun: ``X* = X + dt f(X, c) + n``; ``X' = X + dt/2 (f(X, c) + f(X*, c)) + n`` with the
  additive noise increment ``n = sqrt(2 D dt) N(0, 1)`` per state variable (TVB's
  ``nsig`` = D); states are clipped to the model's bounds after each stage;
- an initial history (L, n, n_state) holds steps -(L-1) .. 0, its last sample is the
  initial state (TVB's ``initial_conditions``); every sample is clipped to the bounds.

The default (float64) loop integrates region by region: region i's input is summed and
its step taken before region i + 1's input is summed. That is the same as summing every
input first, because a step writes slot s + 1 and reads slots s - d with d <= horizon - 2
(the horizon has one slot to spare for this).

TVB float32 compatibility (``tvb_compat=True``). TVB stores the delay history and the
weights in float32 and sums its sparse couplings (Linear, Difference, Kuramoto) in float32,
in ``numpy.add.reduceat`` order (first term + numpy's pairwise sum of the others); its dense
SigmoidalJansenRit coupling is a float64 pairwise sum over every source, zero weights
included. The states, dfuns, Heun and ``post`` are float64. With ``tvb_compat`` the engine
does the same: weights and history values are rounded to float32 (the arrays stay
float64), the sums follow TVB's order, and ``pre`` is ``Coupling.tvb_pre`` (TVB's float32
arithmetic, numpy's exp and float32 sin). It then reproduces TVB 2.10 runs bit for bit
(tests/test_tvb_parity.py), on a CPU where numpy dispatches as where the fixtures were made
(x86-64 with AVX512_SKX). The default float64 mode differs from TVB by < 1e-6 relative
over 200 ms (TVB's float32 rounding). The compat mode has its own, slower loop (it is
for verification); the default loop has no compat code in it.

Proxy nodes (regions simulated by a spiking circuit) are not integrated: the
co-simulation writes their coupling variables into the history, a window late, which is
allowed because every edge touching them is delayed by at least one window.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import os
import re
import sys
import tempfile
import types
from pathlib import Path

import llvmlite
import numba
import numpy as np
from llvmlite import ir
from numba import njit
from numba import types as nbtypes
from numba.core import cgutils
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from multiscale.coupling import Coupling
from multiscale.region import RegionModel

# ------------------------------------------------------------------ helpers (cached here)


@intrinsic
def _stack_array(typingctx, n):
    """A float64 vector of literal length n on the stack (not zeroed): scratch that, once
    the callees are inlined, LLVM keeps in registers. It must not outlive the function."""
    if not isinstance(n, nbtypes.IntegerLiteral):
        return None
    size = n.literal_value
    arrty = nbtypes.Array(nbtypes.float64, 1, "C")

    def codegen(context, builder, signature, args):
        intp = context.get_value_type(nbtypes.intp)
        dbl = context.get_value_type(nbtypes.float64)
        data = cgutils.alloca_once(builder, dbl, size=max(size, 1))
        ary = context.make_array(arrty)(context, builder)
        populate_array(
            ary,
            data=data,
            shape=[ir.Constant(intp, size)],
            strides=[ir.Constant(intp, 8)],
            itemsize=ir.Constant(intp, 8),
            meminfo=None,
        )
        return ary._getvalue()

    return arrty(n), codegen


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


# ------------------------------------------------------------------ the kernel template
# The _k_* functions are never called from this module. Their source is copied into the
# module generated for a (model, coupling) pair (``_kernel_source``), where the names below
# are that pair's functions and sizes, and compiled there. They are defined here so that
# they are read, linted and hashed with the rest of the engine.
#
# H and Hp are the flat histories (n_regions, 2 horizon, N_CV) and (n_regions, 2 horizon,
# N_C) (mirrored ring, module docstring); Hp caches pre(x_j) when pre ignores the receiver
# (CACHED), and _k_advance then leaves H alone (less memory traffic). row_ptr/cell/w: the
# incoming edges in CSR order, uint64 (unsigned indices need no wrap-around tests), with
# ``cell[e] = j * 2 horizon + horizon - d_e``: edge e's delayed value for the step that
# leaves slot s sits at position cell[e] + s of the flat history (times its width).
# The hot loops index arrays element by element and pass the model's and coupling's
# functions only vectors on the stack (state, parameters, q, scratch): an array view made
# in a loop, or a heap array passed to a function that is not inlined by numba, costs two
# atomic reference-count updates per call (these were once most of the time per step).

DFUN = OBSERVE = PRE = TVB_PRE = POST = None
N_SV = N_CV = N_C = N_PAR = N_Q = 1
CVAR = (0,)
CACHED = True
EULER = False
HAS_BOUNDS = False
LO = HI = np.zeros(1)
U1 = np.uint64(1)
U_NC = U_NCV = np.uint64(1)


def _k_input(i, slot, hz, H, Hp, row_ptr, cell, w, q, xj, xi, tmp, acc, out):
    """out = the coupling input of region i for the step that leaves ring slot ``slot``."""
    for k in range(N_C):
        acc[k] = 0.0
    us = np.uint64(slot)
    e = row_ptr[i]
    e1 = row_ptr[i + 1]
    if CACHED:  # pre(x_j) was computed once when x_j entered the history
        while e < e1:
            o = (cell[e] + us) * U_NC
            we = w[e]
            for k in range(N_C):
                acc[k] += we * Hp[o + np.uint64(k)]
            e += U1
    else:
        oi = (i * 2 * hz + slot) * N_CV
        for k in range(N_CV):
            xi[k] = H[oi + k]
        while e < e1:
            o = (cell[e] + us) * U_NCV
            for k in range(N_CV):
                xj[k] = H[o + np.uint64(k)]
            PRE(xj, xi, q, tmp)
            we = w[e]
            for k in range(N_C):
                acc[k] += we * tmp[k]
            e += U1
    POST(acc, q, out)


def _k_bounded(v, k):
    """v clipped to the bounds of state variable k (when the model has any)."""
    if HAS_BOUNDS:
        if v < LO[k]:
            return LO[k]
        if v > HI[k]:
            return HI[k]
    return v


def _k_step(x, c, p, dt, nz, stochastic, inter, dx1, dx2):
    """One step of one region, x in place; nz: its noise increments. Heun (TVB's
    HeunDeterministic / HeunStochastic), or Euler / Euler-Maruyama when EULER (TVB's
    EulerDeterministic / EulerStochastic: x + dt f(x) + nz, Heun's predictor)."""
    DFUN(x, c, p, dx1)
    pred = x if EULER else inter
    for k in range(N_SV):
        v = x[k] + dt * dx1[k]
        if stochastic:
            v += nz[k]
        pred[k] = _k_bounded(v, k)
    if EULER:
        return
    DFUN(inter, c, p, dx2)
    for k in range(N_SV):
        v = x[k] + 0.5 * dt * (dx1[k] + dx2[k])
        if stochastic:
            v += nz[k]
        x[k] = _k_bounded(v, k)


def _k_advance(
    n_steps, step0, hz, X, H, Hp, row_ptr, cell, w, P, q_in, dt, noise, stochastic, nodes, obs
):
    """The float64 loop: for each step and region, its input, its Heun step, its history."""
    q = _stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    x = _stack_array(N_SV)
    inter = _stack_array(N_SV)
    dx1 = _stack_array(N_SV)
    dx2 = _stack_array(N_SV)
    nz = _stack_array(N_SV)
    p = _stack_array(N_PAR)
    c = _stack_array(N_C)
    acc = _stack_array(N_C)
    tmp = _stack_array(N_C)
    xj = _stack_array(N_CV)
    xi = _stack_array(N_CV)
    h = _stack_array(N_CV)
    hp = _stack_array(N_C)
    slot = step0 % hz
    for s in range(n_steps):
        nxt = slot + 1
        if nxt == hz:
            nxt = 0
        for a in range(nodes.shape[0]):
            i = nodes[a]
            _k_input(i, slot, hz, H, Hp, row_ptr, cell, w, q, xj, xi, tmp, acc, c)
            for k in range(N_SV):
                x[k] = X[i, k]
            for k in range(N_PAR):
                p[k] = P[i, k]
            if stochastic:  # (noise itself would be reference-counted per call)
                for k in range(N_SV):
                    nz[k] = noise[s, i, k]
            _k_step(x, c, p, dt, nz, stochastic, inter, dx1, dx2)
            for k in range(N_SV):
                X[i, k] = x[k]
            oh = (i * 2 * hz + nxt) * N_CV
            for k in range(N_CV):
                v = x[CVAR[k]]
                h[k] = v
                if not CACHED:  # else only Hp is read (and H kept out of the cache)
                    H[oh + k] = v
                    H[oh + hz * N_CV + k] = v
            if CACHED:
                PRE(h, h, q, hp)
                op = (i * 2 * hz + nxt) * N_C
                for k in range(N_C):
                    Hp[op + k] = hp[k]
                    Hp[op + hz * N_C + k] = hp[k]
            obs[s, i] = OBSERVE(x, p)
        slot = nxt


def _k_input_tvb(i, slot, hz, H, Hp, row_ptr, col, w, d, q, work, work32, xj, xi, tmp, acc, out):
    """_k_input in TVB's arithmetic. ``work32`` given (n_c, row length): its SparseCoupling,
    float32 products w * pre and a float32 sum in ``numpy.add.reduceat`` order, p_0 +
    pairwise(p_1 .. p_m). ``work32`` empty: its dense Coupling, float64 products (float32
    weights) over every source j (zero weights included), summed by ``ndarray.sum``:
    pairwise(p_0 .. p_m). row_ptr, col, d: int64 CSR arrays."""
    sparse = work32.shape[1] > 0
    e0 = row_ptr[i]
    m = row_ptr[i + 1] - e0
    oi = (i * 2 * hz + slot) * N_CV
    for k in range(N_CV):
        xi[k] = H[oi + k]
    for e in range(e0, e0 + m):
        t = slot - d[e]
        if t < 0:
            t += hz
        j = col[e]
        if CACHED:
            op = (j * 2 * hz + t) * N_C
            for k in range(N_C):
                tmp[k] = Hp[op + k]
        else:
            oj = (j * 2 * hz + t) * N_CV
            for k in range(N_CV):
                xj[k] = H[oj + k]
            TVB_PRE(xj, xi, q, tmp)
        for k in range(N_C):
            if sparse:  # w and pre are float32 values: one rounding, as in TVB
                work32[k, e - e0] = np.float32(w[e] * tmp[k])
            else:
                work[k, e - e0] = w[e] * tmp[k]
    for k in range(N_C):
        if m == 0:
            acc[k] = 0.0
        elif not sparse:
            acc[k] = _pairwise(work[k], 0, m)
        elif m == 1:
            acc[k] = work32[k, 0]
        else:
            acc[k] = work32[k, 0] + _pairwise(work32[k], 1, m - 1)
    POST(acc, q, out)


def _k_advance_tvb(
    n_steps,
    step0,
    hz,
    X,
    H,
    Hp,
    row_ptr,
    col,
    w,
    d,
    P,
    q_in,
    dt,
    noise,
    stochastic,
    nodes,
    obs,
    work,
    work32,
):
    """The TVB-compatible loop: every region's input first, as TVB, then the steps, with
    the history rounded to float32 and pre evaluated as TVB does."""
    q = _stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    x = _stack_array(N_SV)
    inter = _stack_array(N_SV)
    dx1 = _stack_array(N_SV)
    dx2 = _stack_array(N_SV)
    nz = _stack_array(N_SV)
    p = _stack_array(N_PAR)
    ci = _stack_array(N_C)
    acc = _stack_array(N_C)
    tmp = _stack_array(N_C)
    xj = _stack_array(N_CV)
    xi = _stack_array(N_CV)
    h = _stack_array(N_CV)
    hp = _stack_array(N_C)
    c = np.empty((nodes.shape[0], N_C))
    slot = step0 % hz
    for s in range(n_steps):
        for a in range(nodes.shape[0]):
            _k_input_tvb(
                nodes[a], slot, hz, H, Hp, row_ptr, col, w, d, q, work, work32, xj, xi, tmp, acc, ci
            )
            for k in range(N_C):
                c[a, k] = ci[k]
        nxt = slot + 1
        if nxt == hz:
            nxt = 0
        for a in range(nodes.shape[0]):
            i = nodes[a]
            for k in range(N_SV):
                x[k] = X[i, k]
            for k in range(N_PAR):
                p[k] = P[i, k]
            for k in range(N_C):
                ci[k] = c[a, k]
            if stochastic:
                for k in range(N_SV):
                    nz[k] = noise[s, i, k]
            _k_step(x, ci, p, dt, nz, stochastic, inter, dx1, dx2)
            for k in range(N_SV):
                X[i, k] = x[k]
            oh = (i * 2 * hz + nxt) * N_CV
            for k in range(N_CV):
                v = np.float64(np.float32(x[CVAR[k]]))  # TVB's history is float32
                H[oh + k] = v
                H[oh + hz * N_CV + k] = v
                h[k] = v
            if CACHED:
                TVB_PRE(h, h, q, hp)
                op = (i * 2 * hz + nxt) * N_C
                for k in range(N_C):
                    Hp[op + k] = hp[k]
                    Hp[op + hz * N_C + k] = hp[k]
            obs[s, i] = OBSERVE(x, p)
        slot = nxt


def _k_afferent(
    nodes,
    step0,
    n_steps,
    hz,
    H,
    Hp,
    row_ptr,
    cell,
    w,
    row_ptr_i,
    col,
    d,
    q_in,
    out,
    compat,
    work,
    work32,
):
    """out[a, s] = the input of region nodes[a] for the step leaving step0 + s."""
    q = _stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    c = _stack_array(N_C)
    acc = _stack_array(N_C)
    tmp = _stack_array(N_C)
    xj = _stack_array(N_CV)
    xi = _stack_array(N_CV)
    for s in range(n_steps):
        slot = (step0 + s) % hz
        for a in range(nodes.shape[0]):
            if compat:
                _k_input_tvb(
                    nodes[a],
                    slot,
                    hz,
                    H,
                    Hp,
                    row_ptr_i,
                    col,
                    w,
                    d,
                    q,
                    work,
                    work32,
                    xj,
                    xi,
                    tmp,
                    acc,
                    c,
                )
            else:
                _k_input(nodes[a], slot, hz, H, Hp, row_ptr, cell, w, q, xj, xi, tmp, acc, c)
            for k in range(N_C):
                out[a, s, k] = c[k]


def _k_fill_pre(hz, H, Hp, slots, nodes, q_in, compat):
    """Hp = pre(H) at the given slots of the given regions (both copies)."""
    q = _stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    h = _stack_array(N_CV)
    hp = _stack_array(N_C)
    for b in range(nodes.shape[0]):
        for a in range(slots.shape[0]):
            oh = (nodes[b] * 2 * hz + slots[a]) * N_CV
            for k in range(N_CV):
                h[k] = H[oh + k]
            if compat:
                TVB_PRE(h, h, q, hp)
            else:
                PRE(h, h, q, hp)
            op = (nodes[b] * 2 * hz + slots[a]) * N_C
            for k in range(N_C):
                Hp[op + k] = hp[k]
                Hp[op + hz * N_C + k] = hp[k]


# (template function, whether numba inlines it into its callers)
_TEMPLATE = (
    (_k_input, True),
    (_k_bounded, True),
    (_k_step, True),
    (_k_input_tvb, False),
    (_k_advance, False),
    (_k_advance_tvb, False),
    (_k_afferent, False),
    (_k_fill_pre, False),
)

# ------------------------------------------------------------------ kernel modules

_KERNELS: dict[tuple, types.ModuleType] = {}
INTEGRATORS = ("heun", "euler")


def kernel_cache_dir() -> Path | None:
    """Where compiled kernels are kept: $MULTISCALE_CACHE_DIR/kernels, else
    $XDG_CACHE_HOME/multiscale/kernels, else ~/.cache/multiscale/kernels. None (compile in
    memory, every process) when MULTISCALE_KERNEL_CACHE=0 or the folder is not writable.
    Deleting the folder is always safe."""
    if os.environ.get("MULTISCALE_KERNEL_CACHE", "1") == "0":
        return None
    base = os.environ.get("MULTISCALE_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "multiscale")
    path = Path(base) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "__pycache__").mkdir(exist_ok=True)
    except OSError:
        return None
    ok = os.access(path, os.W_OK) and os.access(path / "__pycache__", os.W_OK)
    return path if ok else None


_SIMPLE = (bool, int, float, complex, str, bytes, type(None), np.generic)


def _fingerprint(roots: list) -> str | None:
    """Digest of the code a kernel is compiled from: the source files of ``roots`` and of
    every numba function, intrinsic or Python function they reach through their globals and
    closures, with the values of the constants they read and the compile options. None when
    some of it cannot be pinned down (no source file, an unknown global): such kernels are
    not cached on disk."""
    digest = hashlib.sha256()
    files: set[str] = set()
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Dispatcher):
            digest.update(repr(sorted(obj.targetoptions.items())).encode())
            func = obj.py_func
        elif isinstance(obj, _Intrinsic):
            func = obj._defn
        elif isinstance(obj, types.FunctionType):
            func = obj
        else:
            return None
        try:
            src = inspect.getsourcefile(func)
        except TypeError:
            src = None
        if src is None or not os.path.isfile(src):
            return None
        if src not in files:
            files.add(src)
            digest.update(src.encode() + Path(src).read_bytes())
        digest.update(f"{func.__module__}.{func.__qualname__}".encode())
        values = []
        codes = [func.__code__]
        while codes:
            code = codes.pop()
            values += [func.__globals__[n] for n in code.co_names if n in func.__globals__]
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        values += [cell.cell_contents for cell in func.__closure__ or ()]
        values += list(func.__defaults__ or ())
        for v in values:
            if isinstance(v, (Dispatcher, _Intrinsic, types.FunctionType)):
                todo.append(v)
            elif isinstance(v, types.ModuleType):
                continue  # np, math, ...: their attributes are library code
            elif isinstance(v, type):  # a class: by name and, if it has one, source file
                digest.update(f"{v.__module__}.{v.__qualname__}".encode())
                try:
                    src = inspect.getsourcefile(v)
                except (TypeError, OSError):
                    src = None
                if src is not None and os.path.isfile(src) and src not in files:
                    files.add(src)
                    digest.update(src.encode() + Path(src).read_bytes())
            elif isinstance(v, np.ndarray):
                digest.update(repr((v.dtype.str, v.shape)).encode() + v.tobytes())
            elif isinstance(v, _SIMPLE) or (
                isinstance(v, tuple) and all(isinstance(u, _SIMPLE) for u in v)
            ):
                digest.update(repr(v).encode())
            else:
                return None
    return digest.hexdigest()


def _kernel_source(
    model: type[RegionModel], coupling: Coupling, method: str, cache: bool, key: str
) -> str:
    bounds = model.bounds()
    n_c = coupling.n_inputs(len(model.COUPLING_VARIABLES))
    lines = [
        f'"""Engine kernel for {model.__module__}.{model.__qualname__} with {coupling.name}'
        f" coupling and {method} steps, generated by multiscale.engine (key {key})."
        ' Safe to delete."""',
        "import numpy as np",
        "from numba import njit",
        "from multiscale.engine import _pairwise, _stack_array",
        f"N_SV = {len(model.STATE_VARIABLES)}",
        f"N_CV = {len(model.COUPLING_VARIABLES)}",
        f"N_C = {n_c}",
        f"N_PAR = {len(model.PARAMETERS)}",
        f"N_Q = {len(coupling.parameters)}",
        f"CVAR = {tuple(int(k) for k in model.coupling_indices())!r}",
        f"CACHED = {not coupling.pre_uses_receiver}",
        f"EULER = {method == 'euler'}",
        "inf = np.inf",
        f"HAS_BOUNDS = {bool(np.isfinite(bounds).any())}",
        f"LO = np.array({[float(v) for v in bounds[:, 0]]!r})",
        f"HI = np.array({[float(v) for v in bounds[:, 1]]!r})",
        "U1 = np.uint64(1)",
        "U_NC = np.uint64(N_C)",
        "U_NCV = np.uint64(N_CV)",
        "DFUN = OBSERVE = PRE = TVB_PRE = POST = None  # set by the engine before use",
    ]
    for func, inline in _TEMPLATE:
        opts = f"cache={cache}" + (', inline="always"' if inline else "")
        lines += ["", "", f"@njit({opts})", inspect.getsource(func).rstrip()]
    return "\n".join(lines) + "\n"


def _load_kernel_file(path: Path, modname: str, source: str) -> types.ModuleType:
    """Import the kernel module at ``path``, writing it first if it is not there (or not
    whole). The file is written once, atomically: numba keys its index on the file's
    modification time, so rewriting an identical file would only force a recompilation."""
    try:
        ok = path.read_text() == source
    except (FileNotFoundError, UnicodeDecodeError):
        ok = False
    if not ok:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(source)
            if path.exists():
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)  # fails if another process was first: keep its file
                except FileExistsError:
                    pass
                except OSError:  # no hard links on this file system
                    os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    return module


def _kernel(model: type[RegionModel], coupling: Coupling, method: str) -> types.ModuleType:
    """The compiled loop for (model, coupling, integration method): a generated module,
    loaded from the kernel cache when an identical one (same sources of engine, model and
    coupling, same numba) was compiled before. Its file name is a digest of everything it
    is compiled from, so an edit of any of them makes a new module and a stale compiled
    loop is never used."""
    funcs = {
        "DFUN": model.dfun,
        "OBSERVE": model.observe,
        "PRE": coupling.pre,
        "TVB_PRE": coupling.tvb_pre if coupling.tvb_pre is not None else coupling.pre,
        "POST": coupling.post,
    }
    memo = (
        tuple(funcs.values()),
        tuple(model.STATE_VARIABLES),
        tuple(model.COUPLING_VARIABLES),
        tuple(model.PARAMETERS),
        model.bounds().tobytes(),
        coupling.n_inputs(len(model.COUPLING_VARIABLES)),
        coupling.pre_uses_receiver,
        method,
    )
    if memo in _KERNELS:
        return _KERNELS[memo]
    folder = kernel_cache_dir()
    deps = _fingerprint(list(funcs.values())) if folder is not None else None
    cache = deps is not None
    versions = f"{sys.version} numba {numba.__version__} llvmlite {llvmlite.__version__}"
    versions += f" numpy {np.__version__}"
    key = hashlib.sha256(
        (_kernel_source(model, coupling, method, cache, "") + versions + (deps or "")).encode()
        + Path(__file__).read_bytes()
    ).hexdigest()[:24]
    source = _kernel_source(model, coupling, method, cache, key)
    name = re.sub(r"\W", "_", f"k_{model.__name__.lower()}_{coupling.name}_{method}_{key}")
    modname = f"_multiscale_kernel_{name}"
    module = None
    if cache:
        try:
            module = _load_kernel_file(folder / f"{name}.py", modname, source)
        except OSError:  # the cache folder went away or is full: compile in memory
            source = _kernel_source(model, coupling, method, False, key)
    if module is None:
        module = types.ModuleType(modname)
        module.__dict__["__file__"] = f"<{name}>"
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    for k, f in funcs.items():
        setattr(module, k, f)
    _KERNELS[memo] = module
    return module


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
    method: "heun" (default) or "euler"; with noise, Heun stochastic or Euler-Maruyama,
        both with increments sqrt(2 D dt) z as in TVB.
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
        method: str = "heun",
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
        self._k = _kernel(model, coupling, method)
        # Couplings whose pre() ignores the receiving region are evaluated once per region
        # and step instead of once per edge and step; the sums are the same to the bit.
        self.cached = not coupling.pre_uses_receiver
        self.Hp = np.zeros((n, 2 * hz, self.n_c) if self.cached else (1, 1, 1))
        self._Hf, self._Hpf = self.H.reshape(-1), self.Hp.reshape(-1)
        if self.cached:
            self._fill_pre(np.arange(hz), np.arange(n))
        self.stochastic = noise is not None and np.any(np.asarray(noise) > 0)
        if self.stochastic:
            D2 = np.broadcast_to(np.asarray(noise, dtype=float), self.X.shape)
            self.noise_scale = np.sqrt(2.0 * D2 * self.dt)
            self.rng = rng if rng is not None else np.random.default_rng()
        self._no_noise = np.zeros((1, 1, 1))
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
        after every step (each variable in its declared unit); the loop then returns to
        Python every step, which costs a few microseconds per step, not accuracy."""
        obs = np.empty((n_steps, self.n_regions))
        obs[:, self.proxies] = np.nan  # every other column is written
        stochastic = self.stochastic or increments is not None
        if increments is not None:
            noise = np.ascontiguousarray(increments, dtype=float)
            if noise.shape != (n_steps, *self.X.shape):
                raise ValueError(f"increments must have shape {(n_steps, *self.X.shape)}")
        elif self.stochastic:
            noise = self.rng.standard_normal((n_steps, *self.X.shape)) * self.noise_scale
        else:
            noise = self._no_noise
        if stimulus is not None:
            drive = self.dt * np.asarray(stimulus, dtype=float)
            if drive.shape != (n_steps, *self.X.shape):
                raise ValueError(f"stimulus must have shape {(n_steps, *self.X.shape)}")
            noise = drive + (noise if stochastic else 0.0)
            stochastic = True
        if states is None:
            self._run_kernel(n_steps, self.step, noise, stochastic, obs)
        else:  # one step at a time, copying the state: the same kernel, the same numbers
            if states.shape != (n_steps, *self.X.shape):
                raise ValueError(f"states must have shape {(n_steps, *self.X.shape)}")
            one = noise.shape[0] == n_steps
            for k in range(n_steps):
                self._run_kernel(
                    1, self.step + k, noise[k : k + 1] if one else noise, stochastic, obs[k : k + 1]
                )
                states[k] = self.X
        self.step += n_steps
        return obs

    def _run_kernel(
        self, n: int, step: int, noise: np.ndarray, stochastic: bool, out: np.ndarray
    ) -> None:
        """n steps of the compiled loop from ``step``; observable into ``out``."""
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
                self._work,
                self._work32,
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
        self.step = int(state["step"])
        if bool(int(state["stochastic"])) != bool(self.stochastic):
            raise ValueError("snapshot and engine disagree on whether there is noise")
        if self.stochastic:
            self.noise_scale = np.array(state["noise_scale"], dtype=float)
            rng_state = state["rng"]
            if isinstance(rng_state, bytes):
                rng_state = rng_state.decode()
            self.rng.bit_generator.state = json.loads(rng_state)
