"""Long-range coupling functions, as TVB defines them.

The input of region i is ``post(sum_j W[i, j] * pre(x_j(t - d_ij), x_i(t)))`` where x are
the coupling variables of the region model. ``pre(xj, xi, q, out)`` and ``post(g, q, out)``
are numba functions; q holds the coupling's parameters in the order of ``parameters``.

TVB float32 compatibility (``Engine(..., tvb_compat=True)``): a coupling's ``tvb_pre`` is its
``pre`` as TVB evaluates it, in TVB's float32 arithmetic and with numpy's kernels; those
functions, and why they are needed, are in ``multiscale.engine.tvb_compat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from multiscale.engine.tvb_compat import (
    difference_pre_tvb,
    kuramoto_pre_tvb,
    sigmoidal_jr_pre_tvb,
)
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
        tvb_pre=sigmoidal_jr_pre_tvb,
        tvb_dense=True,
    ),
    "difference": Coupling(
        "difference",
        "a * sum_j W_ij (x_j - x_i)",
        {"a": Parameter(0.1, "1", "global coupling scale")},
        _difference_pre,
        _scaled_post,
        pre_uses_receiver=True,
        tvb_pre=difference_pre_tvb,
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
        tvb_pre=kuramoto_pre_tvb,
    ),
}
