"""TVB float32 compatibility (``Engine(..., tvb_compat=True)``): numpy's arithmetic as TVB
gets it, ported to numba bit for bit.

TVB stores the delay history and the weights in float32 and sums its sparse couplings
(Linear, Difference, Kuramoto) in float32, in ``numpy.add.reduceat`` order (first term +
numpy's pairwise sum of the others); its dense SigmoidalJansenRit coupling is a float64
pairwise sum over every source, zero weights included. The states, dfuns, Heun and
``post`` are float64. With ``tvb_compat`` the engine does the same: weights and history
values are rounded to float32 (the arrays stay float64; network.py), the sums follow TVB's
order (``pairwise`` below, called by the template's ``_k_input_tvb`` in kernel.py), and
``pre`` is ``Coupling.tvb_pre`` (TVB's float32 arithmetic, numpy's exp and float32 sin: the
``*_pre_tvb`` functions below). It then reproduces TVB 2.10 runs bit for bit
(tests/test_tvb_parity.py), on a CPU where numpy dispatches as where the fixtures were made
(x86-64 with AVX512_SKX). The default float64 mode differs from TVB by < 1e-6 relative
over 200 ms (TVB's float32 rounding). The compat mode has its own, slower loop
(``_k_advance_tvb``; it is for verification); the default loop has no compat code in it.

numpy's vectorised kernels differ from libm in the last bit: float64 ``exp`` is Intel
SVML's ``__svml_exp8_ha`` on CPUs with AVX512_SKX (numpy's dispatch on x86-64 Linux
wheels), float32 ``sin`` is numpy's own ``simd_sincos_f32``. ``svml_exp`` and
``numpy_sin_f32`` reproduce them bit for bit (checked against numpy on 10^7 inputs each).
On a CPU where numpy dispatches differently, TVB's own results differ in the last bit.
"""

from __future__ import annotations

import math
import struct

import numpy as np
from numba import njit

from multiscale.engine.numba_helpers import fma

# ---------------------------------------------------------------- numpy's pairwise sum


@njit(cache=True)
def pairwise_block(a, start, n):
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
def pairwise(a, start, n):
    """numpy's pairwise sum of a[start:start + n] (n >= 1), in a's dtype, operation for
    operation (``pairwise_sum`` in numpy/_core/src/umath/loops_utils.h.src): blocks of at
    most 128 terms, halved (to multiples of 8) above. The recursion is unrolled onto a
    stack, because numba cannot cache recursive functions."""
    if n <= 128:
        return pairwise_block(a, start, n)
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
            ret = pairwise_block(a, s, m)
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


# ---------------------------------------------------------------- numpy's exp and sin


def _d(lo: int, hi: int) -> float:
    return struct.unpack("<d", struct.pack("<II", lo, hi))[0]


# __svml_exp8_ha (Intel SVML in numpy/SVML, linux/avx512/svml_z0_exp_d_ha.s): 2^(j/16) as
# Th (1 + Tlr), a degree-6 polynomial, and the (lo, hi) words of its data table.
# fmt: off
_EXP_TH = np.array([_d(*w) for w in (
    (0, 1072693248), (1828292879, 1072739672), (1014845819, 1072788152),
    (1853186616, 1072838778), (171030293, 1072891646), (1276261410, 1072946854),
    (3577096743, 1073004506), (3712504873, 1073064711), (1719614413, 1073127582),
    (1944781191, 1073193236), (1110089947, 1073261797), (2191782032, 1073333393),
    (2572866477, 1073408159), (3716502172, 1073486235), (3707479175, 1073567768),
    (2728693978, 1073652911))])
_EXP_TLR = np.array([_d(*w) for w in (
    (0, 0), (1568897901, 1016568486), (3936719688, 3162512149), (3819481236, 1016499965),
    (1303423926, 1015238005), (2804567149, 1015390024), (3145379760, 1014403278),
    (3793507337, 1016095713), (3210617384, 3163796463), (3108873501, 3162190556),
    (3253791412, 1015920431), (730975783, 1014083580), (2462790535, 1015814775),
    (816778419, 1014197934), (2789017511, 1014276997), (2413007344, 3163551506))])
# fmt: on
_LOG2E = _d(1697350398, 1073157447)
_LN2_HI, _LN2_LO = _d(4277811695, 1072049730), _d(993624127, 1014676638)
_EC6, _EC5, _EC4 = _d(915672068, 1062682904), _d(3150079424, 1065422876), _d(606955774, 1067799895)
_EC3, _EC2, _EC1 = _d(1402181426, 1069897045), _d(53256, 1071644672), _d(4294967152, 1072693247)
_EXP_CALLOUT = _d(1287323204, 1082531232)  # |x| >= 707.7: SVML's scalar path; libm here


@njit(cache=True)
def svml_exp(x):
    """numpy's float64 exp on AVX512_SKX CPUs (SVML ``__svml_exp8_ha``), bit for bit for
    |x| < 707.7 (beyond, libm exp, which is then inf, 0 or subnormal anyway)."""
    if not abs(x) < _EXP_CALLOUT:
        return math.exp(x)
    # SVML rounds 1.5 2^48 + 1023 + x log2(e) toward zero, to 1/16 (one FMA): that is
    # N = floor(16 x log2(e)) of the exact product, x = (N / 16) ln 2 + r
    hi = x * _LOG2E
    lo = fma(x, _LOG2E, -hi)
    f = math.floor(hi * 16.0)
    if f == hi * 16.0 and lo < 0.0:
        f -= 1.0
    n = int(f)
    z = f * 0.0625
    j = n & 15
    r = fma(-z, _LN2_HI, x)
    r = fma(-_LN2_LO, z, r)
    r2 = r * r
    p = fma(r2, fma(_EC6, r, _EC5), fma(_EC4, r, _EC3))
    p = fma(r2, p, fma(_EC2, r, _EC1))
    p = fma(p, r, _EXP_TLR[j])
    return math.ldexp(fma(_EXP_TH[j], p, _EXP_TH[j]), n >> 4)


_f32 = np.float32
_TWO_OVER_PI = _f32(float.fromhex("0x1.45f306p-1"))
_PIO2_HI = _f32(-float.fromhex("0x1.921fb0p+00"))
_PIO2_MED = _f32(-float.fromhex("0x1.5110b4p-22"))
_PIO2_LO = _f32(-float.fromhex("0x1.846988p-48"))
_RINT_MAGIC = _f32(float.fromhex("0x1.800000p+23"))
_MAX_CODY = _f32(117435.992)
_CF8, _CF6 = _f32(float.fromhex("0x1.98e616p-16")), _f32(-float.fromhex("0x1.6c06dcp-10"))
_CF4, _CF2, _CF0 = _f32(float.fromhex("0x1.55553cp-05")), _f32(-0.5), _f32(1.0)
_SF9, _SF7 = _f32(float.fromhex("0x1.7d3bbcp-19")), _f32(-float.fromhex("0x1.a06bbap-13"))
_SF5, _SF3 = _f32(float.fromhex("0x1.11119ap-07")), _f32(-float.fromhex("0x1.555556p-03"))
_ZERO32 = _f32(0.0)


@njit(cache=True)
def numpy_sin_f32(x):
    """numpy 2.x float32 sin (``simd_sincos_f32``, Cody-Waite reduction and minimax
    polynomials; the compiler fuses x * 2/pi + magic into one FMA), bit for bit."""
    if x != x:
        return x
    if not abs(x) <= _MAX_CODY:
        return np.sin(x)  # numpy also falls back to libm sinf there
    q = fma(x, _TWO_OVER_PI, _RINT_MAGIC) - _RINT_MAGIC
    r = fma(q, _PIO2_HI, x)
    r = fma(q, _PIO2_MED, r)
    r = fma(q, _PIO2_LO, r)
    r2 = r * r
    c = fma(fma(fma(fma(_CF8, r2, _CF6), r2, _CF4), r2, _CF2), r2, _CF0)
    s = fma(fma(fma(fma(fma(_SF9, r2, _SF7), r2, _SF5), r2, _SF3), r2, _ZERO32), r, r)
    iq = int(q)
    out = s if (iq & 1) == 0 else c
    if (iq & 2) == 2:
        out = _ZERO32 - out
    return out


# ---------------------------------------------------------------- Coupling.tvb_pre functions
# They receive float32 values (TVB's history) and do TVB's float32 arithmetic.


@njit(cache=True)
def sigmoidal_jr_pre_tvb(xj, xi, q, out):
    # the difference is a float32 subtraction, the rest float64, as in TVB
    cmin, cmax, midpoint, r = q[1], q[2], q[3], q[4]
    diff = np.float32(xj[0]) - np.float32(xj[1])
    out[0] = cmin + (cmax - cmin) / (1.0 + svml_exp(r * (midpoint - np.float64(diff))))


@njit(cache=True)
def difference_pre_tvb(xj, xi, q, out):
    for k in range(out.shape[0]):
        out[k] = np.float32(xj[k]) - np.float32(xi[k])


@njit(cache=True)
def kuramoto_pre_tvb(xj, xi, q, out):
    for k in range(out.shape[0]):
        out[k] = numpy_sin_f32(np.float32(xj[k]) - np.float32(xi[k]))
