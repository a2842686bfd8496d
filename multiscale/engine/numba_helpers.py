"""numba intrinsics, written at the LLVM level, that the engine's code calls.

``stack_array`` gives the compiled loop its scratch vectors (kernel.py); ``fma`` is the
fused multiply-add that numpy's own kernels use, for their ports in tvb_compat.py.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types as nbtypes
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array


@intrinsic
def stack_array(typingctx, n):
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
