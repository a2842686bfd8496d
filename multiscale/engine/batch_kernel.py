"""The batch template: many members of one (model, coupling, method) in one compiled call.

A batch is B engines that share their edges and delays (one connectome, one step) and
differ in everything else: state, history rings, region parameters, coupling parameters,
edge weights, noise. ``_kb_advance`` runs the single-run loop ``_k_advance`` of the kernel
template (kernel.py) on each member, members spread over numba's threads (``prange``): the
arithmetic of a member is that of a run, to the bit, whatever else shares its batch.

Like kernel.py, this module is a template: ``compile._kernel_source(..., batch=True)``
copies ``_kb_advance`` into the generated module of its (model, coupling, method), next to
the single-run functions it calls, and compiles it there with ``parallel=True``. It may
read only ``_k_advance`` and ``prange``.

Arrays (b: member, a: position in ``members``; flat histories as in kernel.py):
steps0 (B,) each member's step (members keep their own clocks); X (B, n_regions, N_SV); H
(B, n_regions * 2 horizon * N_CV); Hp (B, n_regions * 2 horizon * N_C); W (B, n_edges)
weights in the shared CSR order of row_ptr/cell; P (B, n_regions, N_PAR); Q (B, N_Q);
members: the members to advance (the others are left as they are); noise (len(members),
n_steps, n_regions, N_SV) the increments of members[a] (a (len(members), 1, 1, 1) dummy
when none has any); stochastic (len(members),) whether members[a] adds them; obs
(n_steps, B, n_regions), in the layout the recording averages over time (a member's
slice is strided).
"""

from __future__ import annotations

from numba import prange

_k_advance = None  # the generated module's single-run loop (kernel.py)


def _kb_advance(
    n_steps,
    steps0,
    hz,
    X,
    H,
    Hp,
    row_ptr,
    cell,
    W,
    P,
    Q,
    dt,
    noise,
    stochastic,
    members,
    nodes,
    obs,
    no_states,
):
    """n_steps of every member in ``members``, each from its own step, members spread over
    the threads."""
    for a in prange(members.shape[0]):
        b = members[a]
        _k_advance(
            n_steps,
            steps0[b],
            hz,
            X[b],
            H[b],
            Hp[b],
            row_ptr,
            cell,
            W[b],
            P[b],
            Q[b],
            dt,
            noise[a],
            stochastic[a],
            nodes,
            obs[:, b],
            no_states,
            False,
        )


# (template function, numba options of its compiled copy)
BATCH_TEMPLATE = ((_kb_advance, "parallel=True, nogil=True"),)
