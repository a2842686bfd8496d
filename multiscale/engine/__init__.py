"""Whole-brain neural-mass engine: delayed coupling, Heun integration, proxy nodes.

One loop serves every region model. It is written once (the ``_k_*`` functions of
kernel.py) and compiled for each (model, coupling) pair into a small generated module in
which the model's ``dfun``/``observe``, the coupling's ``pre``/``post`` and the sizes (state
variables, coupling variables, parameters) are module constants: numba inlines the model
into the loop, unrolls the short loops over state variables and keeps the per-region
scratch vectors in registers. That module is cached on disk (``kernel_cache_dir()``), so
a later process loads the compiled loop instead of compiling it (``compile.load_kernel``).

The modules, one concern each:

- ``network.py``: ``Engine``, the network object (state, history rings, CSR edges, noise,
  proxies, snapshots); what the rest of multiscale uses.
- ``kernel.py``: the kernel template, the loop itself (float64 step by step, float64
  blocked, TVB-compatible), as source that is copied into the generated modules.
- ``compile.py``: code generation from the template, and the disk cache of compiled
  kernels with its key (``kernel_cache_dir``, ``KERNEL_FILES``).
- ``numba_helpers.py``: LLVM-level numba intrinsics (stack scratch vectors, fused
  multiply-add).
- ``tvb_compat.py``: TVB float32 compatibility: numpy's pairwise sum, exp and float32 sin
  ported bit for bit, and the couplings' ``tvb_pre`` functions.
- ``batch.py``: ``EngineBatch``, many engines of one network (one connectome, one step)
  stacked along a first axis and advanced in one call, members over numba's threads; what
  ``multiscale.fit.batch`` runs.
- ``batch_kernel.py``: the batch template, ``_kb_advance``: the single-run loop of each
  member under ``prange``, compiled into the batch module of a (model, coupling, method)
  (``load_kernel(..., batch=True)``).

The coupling definitions stay in ``multiscale.coupling`` and the region-model interface in
``multiscale.region``: the engine takes both as inputs.

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

The blocked loop (``Engine(blocked=...)``, by default for large networks) gives the same
numbers with fewer memory reads: for a block of 16, 8 or 4 steps it first sums, for each
region, its incoming edges up to its first one delayed by less than block - 1 steps (their
values all exist when the block starts), reading each edge's history once for the block,
then takes the block's steps one at a time, adding each region's remaining edges per step.
Every sum has the same terms in the same order as in the step-by-step loop. Regions with
no edge left for the steps, none of whose outgoing edges comes within a block of the
horizon, are run a whole block at a time; with ``threads`` > 1 those and the gathers are
spread over numba's threads (kernel.py, ``_k_advance_blocked``).

TVB float32 compatibility (``tvb_compat=True``): TVB's float32 history, weights and
coupling sums, and numpy's exp and sin, so that TVB 2.10 runs are reproduced bit for bit
(tests/test_tvb_parity.py); the default float64 mode differs from TVB by < 1e-6 relative
over 200 ms. How, and on which CPUs: tvb_compat.py. The compat mode has its own, slower
loop (it is for verification); the default loop has no compat code in it.

Proxy nodes (regions simulated by a spiking circuit) are not integrated: the
co-simulation writes their coupling variables into the history, a window late, which is
allowed because every edge touching them is delayed by at least one window.
"""

from multiscale.engine.batch import EngineBatch
from multiscale.engine.compile import kernel_cache_dir, load_kernel
from multiscale.engine.kernel import INTEGRATORS
from multiscale.engine.network import Engine

__all__ = ["INTEGRATORS", "Engine", "EngineBatch", "kernel_cache_dir", "load_kernel"]
