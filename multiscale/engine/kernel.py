"""The kernel template: the engine's loop, written once for every (model, coupling) pair.

The ``_k_*`` functions are never called from this module. Their source is copied into the
module generated for a (model, coupling) pair (``compile._kernel_source``), where the
upper-case names below are that pair's functions and sizes, and compiled there. They are
defined here so that they are read, linted and hashed with the rest of the engine. Besides
those names, the template may read only numpy (``np``), ``prange``, ``stack_array`` and
``pairwise``: the generated module imports exactly these (an edit that needs more must
add it there). ``prange`` is ``range`` except in the copies of the blocked loop compiled
with ``parallel=True`` (``_kp_*``, in the batch module: compile.py, ``PARALLEL``).

H and Hp are the flat histories (n_regions, 2 horizon, N_CV) and (n_regions, 2 horizon,
N_C) (mirrored ring, ``multiscale.engine`` docstring); Hp caches pre(x_j) when pre ignores
the receiver (CACHED), and _k_advance then leaves H alone (less memory traffic).
row_ptr/cell/w: the incoming edges in CSR order, uint64 (unsigned indices need no
wrap-around tests), with ``cell[e] = j * 2 horizon + horizon - d_e``: edge e's delayed
value for the step that leaves slot s sits at position cell[e] + s of the flat history
(times its width). The hot loops index arrays element by element and pass the model's and
coupling's functions only vectors on the stack (state, parameters, q, scratch): an array
view made in a loop, or a heap array passed to a function that is not inlined by numba,
costs two atomic reference-count updates per call (these were once most of the time per
step).

The ``_tvb`` functions are the TVB-compatible loop (``tvb_compat.py``).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from multiscale.engine.numba_helpers import stack_array
from multiscale.engine.tvb_compat import pairwise

#: the integration methods the template implements (EULER: Euler, else Heun)
INTEGRATORS = ("heun", "euler")

# The generated module sets these (compile._kernel_source); here they only let the template
# be imported and linted.
DFUN = OBSERVE = PRE = TVB_PRE = POST = None
N_SV = N_CV = N_C = N_PAR = N_Q = 1
CVAR = (0,)
CACHED = True
EULER = False
HAS_BOUNDS = False
LO = HI = np.zeros(1)
U1 = np.uint64(1)
U_NC = U_NCV = np.uint64(1)
BLOCK = 16  # most steps _k_advance_blocked gathers together (compile._kernel_source sets it)
N_BLK = BLOCK * N_C
N_C4 = 4 * N_C
CHUNK = 64  # regions _k_block_whole steps together (compile._kernel_source sets it)


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


def _k_edge(e, us, H, Hp, cell, w, q, xj, xi, tmp, acc):
    """acc += edge e's term for the step that leaves slot us (xi: the receiver's coupling
    variables, read only when pre uses them): _k_input's loop body."""
    if CACHED:
        o = (cell[e] + us) * U_NC
        we = w[e]
        for k in range(N_C):
            acc[k] += we * Hp[o + np.uint64(k)]
    else:
        o = (cell[e] + us) * U_NCV
        for k in range(N_CV):
            xj[k] = H[o + np.uint64(k)]
        PRE(xj, xi, q, tmp)
        we = w[e]
        for k in range(N_C):
            acc[k] += we * tmp[k]


def _k_start(i, slot, hz, H, xi, acc):
    """acc = 0 and, when pre uses the receiver, xi = region i's coupling variables at slot."""
    for k in range(N_C):
        acc[k] = 0.0
    if not CACHED:
        oi = (i * 2 * hz + slot) * N_CV
        for k in range(N_CV):
            xi[k] = H[oi + k]


def _k_advance(
    n_steps,
    step0,
    hz,
    X,
    H,
    Hp,
    row_ptr,
    cell,
    w,
    P,
    q_in,
    dt,
    noise,
    stochastic,
    nodes,
    obs,
    states,
    record,
):
    """The float64 loop: for each step and region, its input, its Heun step, its history.
    With ``record``, each integrated region's state after step s goes to states[s].
    Regions go four at a time: their four inputs, each summed over its edges in its own
    order as _k_input sums it, but in step (four independent chains of additions, which
    the CPU overlaps: one sum alone is bound by the latency of an addition per edge), then
    their four steps. A step writes only slot nxt, which no input of its step reads, so
    this is one region after the other to the bit. The code is written out here rather
    than in inlined functions: numba's inlining of a function with this many arguments
    made the loop up to twice as slow."""
    q = stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    x = stack_array(N_SV)
    inter = stack_array(N_SV)
    dx1 = stack_array(N_SV)
    dx2 = stack_array(N_SV)
    nz = stack_array(N_SV)
    p = stack_array(N_PAR)
    c = stack_array(N_C)
    c4 = stack_array(N_C4)
    a0 = stack_array(N_C)
    a1 = stack_array(N_C)
    a2 = stack_array(N_C)
    a3 = stack_array(N_C)
    t0 = stack_array(N_C)
    t1 = stack_array(N_C)
    t2 = stack_array(N_C)
    t3 = stack_array(N_C)
    xj0 = stack_array(N_CV)
    xj1 = stack_array(N_CV)
    xj2 = stack_array(N_CV)
    xj3 = stack_array(N_CV)
    xi0 = stack_array(N_CV)
    xi1 = stack_array(N_CV)
    xi2 = stack_array(N_CV)
    xi3 = stack_array(N_CV)
    h = stack_array(N_CV)
    hp = stack_array(N_C)
    m = nodes.shape[0]
    slot = step0 % hz
    for s in range(n_steps):
        nxt = slot + 1
        if nxt == hz:
            nxt = 0
        us = np.uint64(slot)
        for a in range(0, m, 4):
            # the group's four regions (the last group repeats its last region: its input
            # is computed twice, read-only, and its step taken once)
            i0 = nodes[a]
            i1 = nodes[min(a + 1, m - 1)]
            i2 = nodes[min(a + 2, m - 1)]
            i3 = nodes[min(a + 3, m - 1)]
            _k_start(i0, slot, hz, H, xi0, a0)
            _k_start(i1, slot, hz, H, xi1, a1)
            _k_start(i2, slot, hz, H, xi2, a2)
            _k_start(i3, slot, hz, H, xi3, a3)
            b0, b1, b2, b3 = row_ptr[i0], row_ptr[i1], row_ptr[i2], row_ptr[i3]
            n0, n1 = row_ptr[i0 + 1] - b0, row_ptr[i1 + 1] - b1
            n2, n3 = row_ptr[i2 + 1] - b2, row_ptr[i3 + 1] - b3
            n = min(min(n0, n1), min(n2, n3))
            j = np.uint64(0)
            while j < n:
                _k_edge(b0 + j, us, H, Hp, cell, w, q, xj0, xi0, t0, a0)
                _k_edge(b1 + j, us, H, Hp, cell, w, q, xj1, xi1, t1, a1)
                _k_edge(b2 + j, us, H, Hp, cell, w, q, xj2, xi2, t2, a2)
                _k_edge(b3 + j, us, H, Hp, cell, w, q, xj3, xi3, t3, a3)
                j += U1
            for e in range(b0 + n, b0 + n0):
                _k_edge(e, us, H, Hp, cell, w, q, xj0, xi0, t0, a0)
            for e in range(b1 + n, b1 + n1):
                _k_edge(e, us, H, Hp, cell, w, q, xj1, xi1, t1, a1)
            for e in range(b2 + n, b2 + n2):
                _k_edge(e, us, H, Hp, cell, w, q, xj2, xi2, t2, a2)
            for e in range(b3 + n, b3 + n3):
                _k_edge(e, us, H, Hp, cell, w, q, xj3, xi3, t3, a3)
            POST(a0, q, t0)
            POST(a1, q, t1)
            POST(a2, q, t2)
            POST(a3, q, t3)
            for k in range(N_C):
                c4[k] = t0[k]
                c4[N_C + k] = t1[k]
                c4[2 * N_C + k] = t2[k]
                c4[3 * N_C + k] = t3[k]
            for r in range(min(4, m - a)):
                i = nodes[a + r]
                for k in range(N_C):
                    c[k] = c4[r * N_C + k]
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
                if record:
                    for k in range(N_SV):
                        states[s, i, k] = x[k]
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


def _k_gather_n(a, m, e0, e1, us, Hp, cell, w):
    """a[:m] += the terms of edges e0 .. e1 - 1 for m consecutive values (_k_gather)."""
    e = e0
    while e < e1:
        o = (cell[e] + us) * U_NC  # slot t0 + b - d_e <= t0: the mirror needs no wrap
        we = w[e]
        for b in range(m):
            a[b] += we * Hp[o + np.uint64(b)]
        e += U1


def _k_gather(i, t0, nb, hz, Hp, row_ptr, split, cell, w, acc):
    """acc[i, b] (b < nb) = the sum over row i's leading edges (those before split[i], each
    delayed by at least nb - 1 steps) for the step that leaves slot t0 + b. Each edge
    reads nb consecutive history values, one or two cache lines, once for the block
    instead of once per step; the sums are those of _k_input to the bit (same terms, same
    order), which the steps then continue with the edges from split[i] on."""
    a = stack_array(N_BLK)  # on the stack: no alias with Hp, so the inner loop is SIMD
    m = nb * N_C
    for b in range(m):
        a[b] = 0.0
    us = np.uint64(t0)
    e0 = row_ptr[i]
    e1 = split[i]
    # the usual lengths with a constant trip count (unrolled to SIMD, no loop overhead)
    if m == 16:
        _k_gather_n(a, 16, e0, e1, us, Hp, cell, w)
    elif m == 8:
        _k_gather_n(a, 8, e0, e1, us, Hp, cell, w)
    elif m == 4:
        _k_gather_n(a, 4, e0, e1, us, Hp, cell, w)
    else:
        _k_gather_n(a, m, e0, e1, us, Hp, cell, w)
    base = np.uint64(i * N_BLK)  # unsigned: no wrap-around test, a plain vector store
    for b in range(m):
        acc[base + np.uint64(b)] = a[b]


def _k_gather4_n(a0, a1, a2, a3, m, e0, e1, e2, e3, n, us, Hp, cell, w):
    """_k_gather_n of four rows at once over their first n edges: four independent
    chains of additions (one row's sum is one chain, bound by the latency of an addition
    per edge), each in its own row's order."""
    j = np.uint64(0)
    while j < n:
        o0 = (cell[e0 + j] + us) * U_NC
        o1 = (cell[e1 + j] + us) * U_NC
        o2 = (cell[e2 + j] + us) * U_NC
        o3 = (cell[e3 + j] + us) * U_NC
        w0, w1, w2, w3 = w[e0 + j], w[e1 + j], w[e2 + j], w[e3 + j]
        for b in range(m):
            ub = np.uint64(b)
            a0[b] += w0 * Hp[o0 + ub]
            a1[b] += w1 * Hp[o1 + ub]
            a2[b] += w2 * Hp[o2 + ub]
            a3[b] += w3 * Hp[o3 + ub]
        j += U1


def _k_gather4(i0, i1, i2, i3, t0, nb, hz, Hp, row_ptr, split, cell, w, acc):
    """_k_gather of regions i0 .. i3, their leading edges summed four rows at a time
    (_k_gather4_n) as far as the shortest goes, then each row's rest: the same sums."""
    a0 = stack_array(N_BLK)
    a1 = stack_array(N_BLK)
    a2 = stack_array(N_BLK)
    a3 = stack_array(N_BLK)
    m = nb * N_C
    for b in range(m):
        a0[b] = 0.0
        a1[b] = 0.0
        a2[b] = 0.0
        a3[b] = 0.0
    us = np.uint64(t0)
    b0, b1, b2, b3 = row_ptr[i0], row_ptr[i1], row_ptr[i2], row_ptr[i3]
    n0, n1, n2, n3 = split[i0] - b0, split[i1] - b1, split[i2] - b2, split[i3] - b3
    n = min(min(n0, n1), min(n2, n3))
    if m == 16:
        _k_gather4_n(a0, a1, a2, a3, 16, b0, b1, b2, b3, n, us, Hp, cell, w)
    elif m == 8:
        _k_gather4_n(a0, a1, a2, a3, 8, b0, b1, b2, b3, n, us, Hp, cell, w)
    elif m == 4:
        _k_gather4_n(a0, a1, a2, a3, 4, b0, b1, b2, b3, n, us, Hp, cell, w)
    else:
        _k_gather4_n(a0, a1, a2, a3, m, b0, b1, b2, b3, n, us, Hp, cell, w)
    _k_gather_n(a0, m, b0 + n, b0 + n0, us, Hp, cell, w)
    _k_gather_n(a1, m, b1 + n, b1 + n1, us, Hp, cell, w)
    _k_gather_n(a2, m, b2 + n, b2 + n2, us, Hp, cell, w)
    _k_gather_n(a3, m, b3 + n, b3 + n3, us, Hp, cell, w)
    for b in range(m):
        ub = np.uint64(b)
        acc[np.uint64(i0 * N_BLK) + ub] = a0[b]
        acc[np.uint64(i1 * N_BLK) + ub] = a1[b]
        acc[np.uint64(i2 * N_BLK) + ub] = a2[b]
        acc[np.uint64(i3 * N_BLK) + ub] = a3[b]


def _k_block_whole(
    whole,
    slot,
    s,
    nb,
    hz,
    X,
    Hp,
    row_ptr,
    split,
    cell,
    w,
    P,
    q_in,
    dt,
    noise,
    stochastic,
    obs,
    states,
    record,
    acc,
):
    """Part 1 of a block of _k_advance_blocked: the regions of ``whole`` in chunks of
    CHUNK, each chunk's gathers then its nb steps from step s (slot ``slot``), a step of
    every region of the chunk at a time (consecutive steps of one region depend on each
    other; those of different regions overlap in the CPU). Chunks are independent: the
    parallel copy spreads them over the threads. Why a function of its own, with the step
    written out: _k_block_stepped."""
    nw = whole.shape[0]
    for ch in prange((nw + CHUNK - 1) // CHUNK):
        c0 = ch * CHUNK
        c1 = min(nw, c0 + CHUNK)
        q = stack_array(N_Q)
        for k in range(N_Q):
            q[k] = q_in[k]
        a = c0
        while a + 4 <= c1:
            _k_gather4(
                whole[a],
                whole[a + 1],
                whole[a + 2],
                whole[a + 3],
                slot,
                nb,
                hz,
                Hp,
                row_ptr,
                split,
                cell,
                w,
                acc,
            )
            a += 4
        while a < c1:
            _k_gather(whole[a], slot, nb, hz, Hp, row_ptr, split, cell, w, acc)
            a += 1
        t = slot
        for b in range(nb):
            nxt = t + 1
            if nxt == hz:
                nxt = 0
            for a in range(c0, c1):
                i = whole[a]
                ss = s + b
                x = stack_array(N_SV)
                inter = stack_array(N_SV)
                dx1 = stack_array(N_SV)
                dx2 = stack_array(N_SV)
                nz = stack_array(N_SV)
                p = stack_array(N_PAR)
                c = stack_array(N_C)
                sm = stack_array(N_C)
                h = stack_array(N_CV)
                hp = stack_array(N_C)
                ob = np.uint64(i * N_BLK + b * N_C)
                for k in range(N_C):
                    sm[k] = acc[ob + np.uint64(k)]
                POST(sm, q, c)  # (no edges left: the gather took them all)
                for k in range(N_SV):
                    x[k] = X[i, k]
                for k in range(N_PAR):
                    p[k] = P[i, k]
                if stochastic:
                    for k in range(N_SV):
                        nz[k] = noise[ss, i, k]
                _k_step(x, c, p, dt, nz, stochastic, inter, dx1, dx2)
                for k in range(N_SV):
                    X[i, k] = x[k]
                if record:
                    for k in range(N_SV):
                        states[ss, i, k] = x[k]
                for k in range(N_CV):
                    h[k] = x[CVAR[k]]
                PRE(h, h, q, hp)
                op = (i * 2 * hz + nxt) * N_C
                for k in range(N_C):
                    Hp[op + k] = hp[k]
                    Hp[op + hz * N_C + k] = hp[k]
                obs[ss, i] = OBSERVE(x, p)
            t = nxt


def _k_block_stepped(
    stepped,
    slot,
    s,
    nb,
    hz,
    X,
    Hp,
    row_ptr,
    split,
    cell,
    w,
    P,
    q_in,
    dt,
    noise,
    stochastic,
    obs,
    states,
    record,
    acc,
):
    """Part 2 of a block of _k_advance_blocked: the gathers of ``stepped`` (over the
    threads in the parallel copy), then their nb steps one step at a time (one thread).
    The two parts are functions of their own, called once per block, and each writes the
    region's step out rather than calling an inlined function for it: numba's inlining of
    that function made the step twice as slow (Wilson-Cowan, 80 regions without edges:
    3.5 against 1.9 us per step)."""
    for a in prange(stepped.shape[0]):
        _k_gather(stepped[a], slot, nb, hz, Hp, row_ptr, split, cell, w, acc)
    q = stack_array(N_Q)
    for k in range(N_Q):
        q[k] = q_in[k]
    t = slot
    for b in range(nb):
        nxt = t + 1
        if nxt == hz:
            nxt = 0
        for a in range(stepped.shape[0]):
            i = stepped[a]
            ss = s + b
            x = stack_array(N_SV)
            inter = stack_array(N_SV)
            dx1 = stack_array(N_SV)
            dx2 = stack_array(N_SV)
            nz = stack_array(N_SV)
            p = stack_array(N_PAR)
            c = stack_array(N_C)
            sm = stack_array(N_C)
            h = stack_array(N_CV)
            hp = stack_array(N_C)
            ob = np.uint64(i * N_BLK + b * N_C)
            for k in range(N_C):
                sm[k] = acc[ob + np.uint64(k)]
            us = np.uint64(t)
            e = split[i]
            e1 = row_ptr[i + 1]
            while e < e1:
                o = (cell[e] + us) * U_NC
                we = w[e]
                for k in range(N_C):
                    sm[k] += we * Hp[o + np.uint64(k)]
                e += U1
            POST(sm, q, c)
            for k in range(N_SV):
                x[k] = X[i, k]
            for k in range(N_PAR):
                p[k] = P[i, k]
            if stochastic:
                for k in range(N_SV):
                    nz[k] = noise[ss, i, k]
            _k_step(x, c, p, dt, nz, stochastic, inter, dx1, dx2)
            for k in range(N_SV):
                X[i, k] = x[k]
            if record:
                for k in range(N_SV):
                    states[ss, i, k] = x[k]
            for k in range(N_CV):
                h[k] = x[CVAR[k]]
            PRE(h, h, q, hp)
            op = (i * 2 * hz + nxt) * N_C
            for k in range(N_C):
                Hp[op + k] = hp[k]
                Hp[op + hz * N_C + k] = hp[k]
            obs[ss, i] = OBSERVE(x, p)
        t = nxt


def _k_advance_blocked(
    n_steps,
    step0,
    hz,
    X,
    H,
    Hp,
    row_ptr,
    split,
    cell,
    w,
    P,
    q_in,
    dt,
    noise,
    stochastic,
    whole,
    stepped,
    obs,
    states,
    record,
    acc,
    blk,
):
    """_k_advance, the numbers to the bit, with the delayed reads gathered blk (<= BLOCK)
    steps at a time (CACHED couplings). Each block:

    1. (_k_block_whole) the regions of ``whole`` (all of whose edges are delayed by >=
       blk - 1 steps, and none of whose outgoing edges comes within blk slots of the
       horizon): each one's gather (_k_gather), then its whole block. The values its
       gather reads exist before the block, and no slot it writes is one another region's
       gather reads.
    2. (_k_block_stepped) the other regions, ``stepped``: their gathers (of their leading
       edges), then step by step, each adding its remaining edges (delay < blk - 1:
       values this block writes, all written by then: by 1., or by the step before).

    The regions of 1. are independent of each other, and so are the gathers of 2.: the
    parallel copies of the two parts (``_kp_*``, compiled with ``parallel=True``, called by
    ``_kp_advance``) spread them over the threads (two synchronisations per block), with
    the same numbers; the steps of 2. stay on one thread. acc: (n_regions * N_BLK)
    scratch."""
    slot = step0 % hz
    s = 0
    while s < n_steps:
        nb = min(blk, n_steps - s)
        if whole.shape[0] > 0:
            _k_block_whole(
                whole,
                slot,
                s,
                nb,
                hz,
                X,
                Hp,
                row_ptr,
                split,
                cell,
                w,
                P,
                q_in,
                dt,
                noise,
                stochastic,
                obs,
                states,
                record,
                acc,
            )
        if stepped.shape[0] > 0:
            _k_block_stepped(
                stepped,
                slot,
                s,
                nb,
                hz,
                X,
                Hp,
                row_ptr,
                split,
                cell,
                w,
                P,
                q_in,
                dt,
                noise,
                stochastic,
                obs,
                states,
                record,
                acc,
            )
        slot = (slot + nb) % hz
        s += nb


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
            acc[k] = pairwise(work[k], 0, m)
        elif m == 1:
            acc[k] = work32[k, 0]
        else:
            acc[k] = work32[k, 0] + pairwise(work32[k], 1, m - 1)
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
    states,
    record,
    work,
    work32,
):
    """The TVB-compatible loop: every region's input first, as TVB, then the steps, with
    the history rounded to float32 and pre evaluated as TVB does. ``states``, ``record``:
    as in _k_advance."""
    q = stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    x = stack_array(N_SV)
    inter = stack_array(N_SV)
    dx1 = stack_array(N_SV)
    dx2 = stack_array(N_SV)
    nz = stack_array(N_SV)
    p = stack_array(N_PAR)
    ci = stack_array(N_C)
    acc = stack_array(N_C)
    tmp = stack_array(N_C)
    xj = stack_array(N_CV)
    xi = stack_array(N_CV)
    h = stack_array(N_CV)
    hp = stack_array(N_C)
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
            if record:
                for k in range(N_SV):
                    states[s, i, k] = x[k]
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
    q = stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    c = stack_array(N_C)
    acc = stack_array(N_C)
    tmp = stack_array(N_C)
    xj = stack_array(N_CV)
    xi = stack_array(N_CV)
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
    q = stack_array(N_Q)  # the coupling's parameters, on the stack (note above)
    for k in range(N_Q):
        q[k] = q_in[k]
    h = stack_array(N_CV)
    hp = stack_array(N_C)
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


#: the blocked loop's functions, copied as ``_kp_*`` with ``parallel=True`` into the batch
#: module (the regions of a block over numba's threads)
PARALLEL = ("_k_block_whole", "_k_block_stepped", "_k_advance_blocked")

# (template function, whether numba inlines it into its callers)
TEMPLATE = (
    (_k_input, True),
    (_k_bounded, True),
    (_k_step, True),
    (_k_edge, True),
    (_k_start, True),
    (_k_input_tvb, False),
    (_k_gather_n, True),
    (_k_gather, True),
    (_k_gather4_n, True),
    (_k_gather4, True),
    (_k_advance, False),
    (_k_block_whole, False),
    (_k_block_stepped, False),
    (_k_advance_blocked, False),
    (_k_advance_tvb, False),
    (_k_afferent, False),
    (_k_fill_pre, False),
)
