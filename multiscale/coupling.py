"""Long-range coupling functions, as TVB defines them.

The input of region i is ``post(sum_j W[i, j] * pre(x_j(t - d_ij), x_i(t)))`` where x are
the coupling variables of the region model. ``pre(xj, xi, q, out)`` and ``post(g, q, out)``
are numba functions; q holds the coupling's parameters in the order of ``parameters``.

TVB float32 compatibility (``Engine(..., tvb_compat=True)``): TVB evaluates some ``pre``
functions with numpy's vectorised kernels, which differ from libm in the last bit: float64
``exp`` is Intel SVML's ``__svml_exp8_ha`` on CPUs with AVX512_SKX (numpy's dispatch on
x86-64 Linux wheels), float32 ``sin`` is numpy's own ``simd_sincos_f32``. ``tvb_pre`` is the
``pre`` that reproduces them bit for bit (ports below, checked against numpy on 10^7 inputs
each). On a CPU where numpy dispatches differently, TVB's own results differ in the last bit.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import cgutils
from numba.extending import intrinsic

from multiscale.parameter import Parameter


@dataclass(frozen=True)
class Coupling:
    name: str
    description: str
    parameters: dict[str, Parameter]
    pre: Any
    post: Any
    #: number of coupling inputs given n coupling variables (None: one per variable)
    n_out: int | None = None
    #: False when pre() depends on the sending region only (lets the engine cache it)
    pre_uses_receiver: bool = False
    #: pre() as TVB evaluates it on its float32 history, in float32 arithmetic where TVB's is
    #: and with numpy's kernels (engine's tvb_compat mode); None: same as pre
    tvb_pre: Any = None
    #: True: TVB sums this coupling over every source j in float64 (its dense ``Coupling``);
    #: False: over the non-zero weights only, in float32 (its ``SparseCoupling``)
    tvb_dense: bool = False

    def n_inputs(self, n_cvars: int) -> int:
        return self.n_out if self.n_out is not None else n_cvars

    def parameter_vector(self, values: dict[str, float] | None = None) -> np.ndarray:
        values = values or {}
        return np.array([values.get(k, p.default) for k, p in self.parameters.items()], float)


@njit(cache=True)
def _linear_pre(xj, xi, q, out):
    for k in range(out.shape[0]):
        out[k] = xj[k]


@njit(cache=True)
def _linear_post(g, q, out):
    for k in range(out.shape[0]):
        out[k] = q[0] * g[k] + q[1]


@njit(cache=True)
def _sigmoidal_jr_pre(xj, xi, q, out):
    cmin, cmax, midpoint, r = q[1], q[2], q[3], q[4]
    out[0] = cmin + (cmax - cmin) / (1.0 + np.exp(r * (midpoint - (xj[0] - xj[1]))))


@njit(cache=True)
def _scaled_post(g, q, out):
    for k in range(out.shape[0]):
        out[k] = q[0] * g[k]


@njit(cache=True)
def _difference_pre(xj, xi, q, out):
    for k in range(out.shape[0]):
        out[k] = xj[k] - xi[k]


@njit(cache=True)
def _kuramoto_pre(xj, xi, q, out):
    for k in range(out.shape[0]):
        out[k] = np.sin(xj[k] - xi[k])


# ---------------------------------------------------------------- numpy's kernels, for TVB


@intrinsic
def fma(typingctx, a, b, c):
    """Fused multiply-add a * b + c with one rounding (llvm.fma), float32 or float64."""
    sig = a(a, a, a)

    def codegen(context, builder, signature, args):
        ty = context.get_value_type(signature.return_type)
        name = "llvm.fma.f64" if ty == ir.DoubleType() else "llvm.fma.f32"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3), name)
        return builder.call(fn, args)

    return sig, codegen


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


# The tvb_pre functions receive float32 values (TVB's history) and do TVB's float32 arithmetic.


@njit(cache=True)
def _sigmoidal_jr_pre_tvb(xj, xi, q, out):
    # the difference is a float32 subtraction, the rest float64, as in TVB
    cmin, cmax, midpoint, r = q[1], q[2], q[3], q[4]
    diff = np.float32(xj[0]) - np.float32(xj[1])
    out[0] = cmin + (cmax - cmin) / (1.0 + svml_exp(r * (midpoint - np.float64(diff))))


@njit(cache=True)
def _difference_pre_tvb(xj, xi, q, out):
    for k in range(out.shape[0]):
        out[k] = np.float32(xj[k]) - np.float32(xi[k])


@njit(cache=True)
def _kuramoto_pre_tvb(xj, xi, q, out):
    for k in range(out.shape[0]):
        out[k] = numpy_sin_f32(np.float32(xj[k]) - np.float32(xi[k]))


COUPLINGS: dict[str, Coupling] = {
    "linear": Coupling(
        "linear",
        "a * sum_j W_ij x_j + b",
        {
            "a": Parameter(0.00390625, "1", "global coupling scale"),
            "b": Parameter(0.0, "1", "offset"),
        },
        _linear_pre,
        _linear_post,
    ),
    "sigmoidal_jansen_rit": Coupling(
        "sigmoidal_jansen_rit",
        "a * sum_j W_ij (cmin + (cmax - cmin) / (1 + exp(r (midpoint - (y1_j - y2_j)))))"
        " : the firing rate (1/ms) of each afferent region's pyramidal cells",
        {
            "a": Parameter(1.0, "1", "global coupling scale"),
            "cmin": Parameter(0.0, "1/ms", "minimum rate"),
            "cmax": Parameter(0.005, "1/ms", "maximum rate (2 e0)"),
            "midpoint": Parameter(6.0, "mV", "potential at half-maximum rate"),
            "r": Parameter(0.56, "1/mV", "steepness"),
        },
        _sigmoidal_jr_pre,
        _scaled_post,
        n_out=1,
        tvb_pre=_sigmoidal_jr_pre_tvb,
        tvb_dense=True,
    ),
    "difference": Coupling(
        "difference",
        "a * sum_j W_ij (x_j - x_i)",
        {"a": Parameter(0.1, "1", "global coupling scale")},
        _difference_pre,
        _scaled_post,
        pre_uses_receiver=True,
        tvb_pre=_difference_pre_tvb,
    ),
    "kuramoto": Coupling(
        "kuramoto",
        # TVB's Kuramoto.post is a / gx.shape[0] * gx with gx.shape[0] the number of
        # coupling variables (1), not of regions: there is no 1/N. Put 1/N into a if wanted.
        "a * sum_j W_ij sin(x_j - x_i)",
        {"a": Parameter(1.0, "1", "global coupling scale (TVB does not divide by N)")},
        _kuramoto_pre,
        _scaled_post,
        pre_uses_receiver=True,
        tvb_pre=_kuramoto_pre_tvb,
    ),
}
