"""External Poisson spikes drawn inside Brian2's generated code, from a counter-based stream.

Why: the drive used to be drawn in Python at every window boundary, one Poisson count per
cell and time step (10 % of the default run), into a table the cells read. Brian2's own
``poisson()`` would be faster but draws from one stream per process, so a circuit's noise
would depend on which circuits share its rank. Here the count of cell ``i`` at step ``n``
is a pure function of (key, n, i): the key is drawn once from the circuit's own stream
(``circuit.<name>.drive``), so the numbers are the same on any rank count, need no state
in a checkpoint beyond the key, and cost a hash and a compare per cell and step.

The stream: SplitMix64 (Steele, Lea & Flood 2014) of ``key + n * gamma`` gives the step's
word, SplitMix64 of ``word + (i + 1) * gamma`` the cell's, its top 53 bits a uniform u in
[0, 1). The count is Poisson(lam) by inversion (the smallest k with CDF(k) > u), exact up
to double rounding; for lam > 30 it is the sum of ceil(lam / 30) Poisson counts of
lam / ceil(lam / 30) each (exact too), each from its own uniform. The words travel as
doubles below 2**52 (exact), since Brian2's expression types are int32 or double.

The three targets compute the same numbers: the C code below (cython and C++ standalone)
and the numpy version (``numpy`` target) do the same operations in the same order.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np

__all__ = ["KEY_LIMIT", "drive_events", "drive_stream", "events_numpy", "stream_numpy"]

#: keys and step words are integers below this (exact as doubles)
KEY_LIMIT = 2**52
_GAMMA = 0x9E3779B97F4A7C15
_CHUNK = 30.0  # largest lam drawn by one inversion
_MASK64 = (1 << 64) - 1

_C_CODE = r"""
#ifndef MULTISCALE_POISSON_DRIVE
#define MULTISCALE_POISSON_DRIVE
#include <stdint.h>
#include <math.h>
static inline uint64_t _msd_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static inline double _msd_stream(double key, double step) {
    uint64_t z = (uint64_t)(int64_t)key + (uint64_t)(int64_t)step * 0x9e3779b97f4a7c15ULL;
    return (double)(int64_t)(_msd_mix(z) >> 12);
}
static inline double _msd_invert(double u, double p0, double lam) {
    if (u < p0) return 0.0;  /* most cells, most steps: no division */
    double k = 0.0, p = p0, s = p0;
    while (u >= s && p > 0.0) {
        k += 1.0;
        p = p * (lam / k);
        s = s + p;
    }
    return k;
}
static inline double _msd_uniform(uint64_t z) {
    return (double)(int64_t)(z >> 11) * (1.0 / 9007199254740992.0);
}
static inline double _msd_events(double stream, double cell, double p0, double lam) {
    if (!(lam > 0.0)) return 0.0;
    uint64_t z = _msd_mix((uint64_t)(int64_t)stream
                          + ((uint64_t)(int64_t)cell + 1ULL) * 0x9e3779b97f4a7c15ULL);
    if (lam <= 30.0) return _msd_invert(_msd_uniform(z), p0, lam);
    double m = ceil(lam / 30.0), part = lam / m, q = exp(-part), n = 0.0;
    for (double j = 0.0; j < m; j += 1.0) {
        uint64_t y = _msd_mix(z + (uint64_t)(int64_t)j * 0x9e3779b97f4a7c15ULL);
        n += _msd_invert(_msd_uniform(y), q, part);
    }
    return n;
}
#endif
"""


def _cython_code(declaration: str) -> str:
    """The C code as Cython verbatim C (guarded: each function brings it) and one
    declaration."""
    return (
        'cdef extern from *:\n    """'
        + _C_CODE.replace("\\", "\\\\")
        + '"""\n    '
        + declaration
        + " nogil\n"
    )


def _mix(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stream_numpy(key, step) -> np.ndarray | float:
    """The word of step ``step`` (double below 2**52) for ``key``: as ``_msd_stream``."""
    with np.errstate(over="ignore"):
        k = np.asarray(key, dtype=np.float64).astype(np.uint64)
        n = np.asarray(step, dtype=np.float64).astype(np.uint64)
        out = (_mix(k + n * np.uint64(_GAMMA)) >> np.uint64(12)).astype(np.float64)
    return out


def _invert(u: np.ndarray, p0: np.ndarray, lam: np.ndarray) -> np.ndarray:
    k = np.zeros_like(u)
    p = np.array(p0, dtype=float, copy=True)
    s = p.copy()
    todo = (u >= s) & (p > 0.0)
    while todo.any():
        k[todo] += 1.0
        p[todo] = p[todo] * (lam[todo] / k[todo])
        s[todo] = s[todo] + p[todo]
        todo &= (u >= s) & (p > 0.0)
    return k


def _uniform(z: np.ndarray) -> np.ndarray:
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def events_numpy(stream, cell, p0, lam) -> np.ndarray:
    """External spike counts (as doubles) of cells ``cell`` for a step's word ``stream``,
    with p0 = exp(-lam): as ``_msd_events``, vectorised over any argument."""
    stream, cell, p0, lam = np.broadcast_arrays(
        np.asarray(stream, float),
        np.asarray(cell, float),
        np.asarray(p0, float),
        np.asarray(lam, float),
    )
    out = np.zeros(stream.shape)
    with np.errstate(over="ignore"):
        z = _mix(
            stream.astype(np.uint64) + (cell.astype(np.uint64) + np.uint64(1)) * np.uint64(_GAMMA)
        )
        small = (lam > 0.0) & (lam <= _CHUNK)
        if small.any():
            out[small] = _invert(_uniform(z[small]), p0[small], lam[small])
        big = lam > _CHUNK
        if big.any():  # the sum of m draws of lam / m, in the C code's order
            m = np.ceil(lam[big] / _CHUNK)
            part = lam[big] / m
            q, zb, total = np.exp(-part), z[big], np.zeros(len(m))
            for j in range(int(m.max())):
                on = j < m
                y = _mix(zb[on] + np.uint64(j) * np.uint64(_GAMMA))
                total[on] += _invert(_uniform(y), q[on], part[on])
            out[big] = total
    return out


def _function(name: str, pyfunc, args: int, c_name: str, declaration: str) -> b2.Function:
    f = b2.Function(
        pyfunc,
        arg_units=[1] * args,
        return_unit=1,
        arg_types=["any"] * args,
        return_type="float",
        stateless=True,
        auto_vectorise=False,
    )
    # numpy target: called as is; Brian2's default wrapper checks the result's units with
    # a message it formats on every call, which prints the whole array: 60 % of a numpy run
    f.implementations.add_numpy_implementation(pyfunc, discard_units=True)
    f.implementations.add_implementation("cython", code=_cython_code(declaration), name=c_name)
    f.implementations.add_implementation("cpp", code={"support_code": _C_CODE}, name=c_name)
    f.__name__ = name
    return f


#: drive_stream(key, step): the word of one time step, a double below 2**52
drive_stream = _function(
    "drive_stream", stream_numpy, 2, "_msd_stream", "double _msd_stream(double key, double step)"
)
#: drive_events(word, cell, exp(-lam), lam): external spikes of a cell in that step
drive_events = _function(
    "drive_events",
    events_numpy,
    4,
    "_msd_events",
    "double _msd_events(double stream, double cell, double p0, double lam)",
)
