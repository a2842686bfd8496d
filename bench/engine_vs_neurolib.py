"""The mass engine against neurolib 0.6 on the models both have, at equal work.

    NEUROLIB_PYTHON=/path/to/neurolibenv/bin/python python bench/engine_vs_neurolib.py

Network: neurolib's own 80-region dataset (``Dataset("hcp")``: Cmat normalised to its
maximum, fibre lengths Dmat in mm), the diagonals zeroed as neurolib does, signal speed
20 m/s (neurolib's default), delays rounded to steps of dt by neurolib (its
``Dmat_ndt``, which our engine is given). dt 0.1 ms, Euler (neurolib's only scheme; ours
``method="euler"``), 10 s simulated (``--duration``), no noise, the same constant initial
history (neurolib's ``*_init``, a random value per region) on both sides. Output on both
sides: both state variables of every region at every step (neurolib keeps every step when
``sampling_dt`` is unset; ours: ``advance(n, states=...)``).

Models:
- Wilson-Cowan: neurolib's ``WCModel`` (its defaults, K_gl = 0.6) against our
  ``wilson_cowan`` (TVB's equations) with the same constants: k = r = c = 1, no sigmoid
  shift, alpha = 1, theta = P = Q = 0, and ``linear`` coupling a = K_gl.
- FitzHugh-Nagumo: neurolib's ``FHNModel`` (its defaults: alpha 3, beta 4, gamma -1.5,
  delta 0, epsilon 0.5, tau 20, x_ext 1, diffusive coupling K_gl = 0.6) against our
  ``generic_2d_oscillator`` (TVB's G2D) set to the same equations: dV/dt = d tau (alpha W
  - f V^3 + e V^2 + g V + gamma I + gamma c) with d tau = 1 and d / tau = 1 / 20 (tau =
  sqrt(20), d = 1 / tau), alpha = -1, f = 3, e = 4, g = -1.5, I = 1, gamma = 1, a = 0,
  b = 1, c_W = 0, beta = 0.5, and ``difference`` coupling a = K_gl (a sum_j W_ij (x_j -
  x_i), neurolib's diffusive coupling).

Timing, per model, the two sides alternated (neurolib then ours) ``--pairs`` times
(default 3), neurolib in its own interpreter (``--neurolib-python``, default
$NEUROLIB_PYTHON), in a subprocess running this file with ``--neurolib-worker`` (it imports
only numpy and neurolib; neurolib is a tool here, never a dependency):
- ``run``: neurolib's ``model.run()`` (after a first, short run that compiles its loop),
  against our engine's construction plus ``advance``: from parameters to the recorded
  trajectories, what a user waits for;
- ``loop``: the compiled integration alone: neurolib's ``timeIntegration_njit_elementwise``
  (timed by wrapping it), against our ``advance``.
neurolib's ``run`` also draws two normal numbers per region and step for its noise even
when sigma_ou = 0, and its loop sums over every pair of regions (its coupling is dense);
those are its costs, and part of ``run`` and ``loop`` respectively.

Printed: each pair, then min and median of each side and the ratio of the medians, in
wall time and in CPU time (process_time: the time the process ran, which a loaded
machine disturbs less than the wall clock, though not the caches it shares), with the
load average; the largest relative error between the trajectories (per state
variable, max |x - x_neurolib| over time and regions / max |x_neurolib|): the two do the
same arithmetic up to the order of the sums and the rounding of the constants, so it
states that the work is the same. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DT = 0.1  # ms
SPEED = 20.0  # m/s = mm/ms, neurolib's signalV
K_GL = 0.6  # neurolib's default global coupling
MODELS = ("wc", "fhn")
WARMUP_MS = 5.0  # neurolib's first run, which compiles its loop


# ------------------------------------------------------------------------ neurolib side


def neurolib_worker(model_name: str, duration: float, output: str) -> None:
    """One neurolib run of ``model_name``: its timings, network, delays, initial values
    and trajectories to ``output``. Imports only numpy and neurolib."""
    import logging
    import warnings
    from importlib import metadata

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from neurolib.models.fhn import FHNModel
    from neurolib.models.wc import WCModel
    from neurolib.utils.loadData import Dataset

    ds = Dataset("hcp")
    cls = {"wc": WCModel, "fhn": FHNModel}[model_name]
    model = cls(Cmat=ds.Cmat, Dmat=ds.Dmat, seed=0)
    module = sys.modules[type(model).__module__.rsplit(".", 1)[0] + ".timeIntegration"]
    loop = module.timeIntegration_njit_elementwise
    spent = []

    def timed(*args):
        t, c = time.perf_counter(), time.process_time()
        out = loop(*args)
        spent.append((time.perf_counter() - t, time.process_time() - c))
        return out

    module.timeIntegration_njit_elementwise = timed
    model.params["dt"] = DT
    model.params["signalV"] = SPEED
    model.params["K_gl"] = K_GL
    model.params["duration"] = WARMUP_MS
    model.run()  # compiles the loop
    model.params["duration"] = duration
    t, c = time.perf_counter(), time.process_time()
    model.run()
    run_s, run_cpu = time.perf_counter() - t, time.process_time() - c
    names = {"wc": ("exc", "inh"), "fhn": ("x", "y")}[model_name]
    init = {"wc": ("exc_init", "inh_init"), "fhn": ("xs_init", "ys_init")}[model_name]
    np.savez(
        output,
        run_s=run_s,
        loop_s=spent[-1][0],
        run_cpu=run_cpu,
        loop_cpu=spent[-1][1],
        cmat=np.asarray(model.params["Cmat"], dtype=float),
        delays=np.asarray(model.params["Dmat_ndt"], dtype=np.int64),
        initial=np.stack([np.asarray(model.params[k], dtype=float)[:, 0] for k in init], 1),
        states=np.stack([np.asarray(model[k], dtype=float) for k in names], -1),  # (n, t, 2)
        version=metadata.version("neurolib"),
    )


def run_neurolib(python: str, model_name: str, duration: float, workdir: str) -> dict:
    out = os.path.join(workdir, f"{model_name}.npz")
    cmd = [python, __file__, "--neurolib-worker", model_name, str(duration), out]
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": ""})
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


# ----------------------------------------------------------------------------- our side


def our_engine(model_name: str, cmat: np.ndarray, delays: np.ndarray, initial: np.ndarray):
    """Our engine on neurolib's problem (module docstring), from the dense matrices
    neurolib used (its connectome is dense: 80 x 80)."""
    from multiscale.coupling import COUPLINGS
    from multiscale.engine import Engine
    from multiscale.regions import Generic2dOscillator, WilsonCowan

    n = cmat.shape[0]
    if model_name == "wc":
        model, coupling = WilsonCowan, COUPLINGS["linear"]
        values = dict(c_ee=16.0, c_ei=12.0, c_ie=15.0, c_ii=3.0, tau_e=2.5, tau_i=3.75)
        values |= dict(a_e=1.5, b_e=3.0, a_i=1.5, b_i=3.0, shift_sigmoid=0.0)
    else:
        model, coupling = Generic2dOscillator, COUPLINGS["difference"]
        tau = np.sqrt(20.0)
        values = dict(tau=tau, d=1.0 / tau, alpha=-1.0, f=3.0, e=4.0, g=-1.5, I=1.0)
        values |= dict(gamma=1.0, a=0.0, b=1.0, c_W=0.0, beta=0.5)
    return Engine(
        model,
        model.parameter_matrix(n, values),
        coupling,
        coupling.parameter_vector({"a": K_GL}),
        cmat,
        delays,
        DT,
        initial=initial,
        method="euler",
    )


def ours(model_name: str, nl: dict, n_steps: int) -> tuple[dict, np.ndarray]:
    """Wall and CPU seconds of run and loop, and the states (n_steps, n, 2). run:
    allocating and writing the output array (neurolib's run allocates its own and fills
    it with its noise draws), the engine's construction and ``advance``; loop: ``advance``
    alone."""
    n = nl["cmat"].shape[0]
    t0, c0 = time.perf_counter(), time.process_time()
    states = np.empty((n_steps, n, 2))
    states.fill(0.0)
    eng = our_engine(model_name, nl["cmat"], nl["delays"], nl["initial"])
    t1, c1 = time.perf_counter(), time.process_time()
    eng.advance(n_steps, states=states)
    t2, c2 = time.perf_counter(), time.process_time()
    return {"run_s": t2 - t0, "loop_s": t2 - t1, "run_cpu": c2 - c0, "loop_cpu": c2 - c1}, states


def rel_error(x: np.ndarray, ref: np.ndarray) -> float:
    """Largest over the last axis of max |x - ref| / max |ref| over the others."""
    axes = tuple(range(x.ndim - 1))
    return float((np.abs(x - ref).max(axis=axes) / np.abs(ref).max(axis=axes)).max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--neurolib-python", default=os.environ.get("NEUROLIB_PYTHON"))
    parser.add_argument("--duration", type=float, default=10000.0, help="ms (default 10 s)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--neurolib-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.neurolib_worker:
        name, duration, out = args.neurolib_worker
        neurolib_worker(name, float(duration), out)
        return
    if args.neurolib_python is None:
        sys.exit("give --neurolib-python or NEUROLIB_PYTHON (bench/README.md)")
    sys.path.insert(0, str(ROOT))
    n_steps = round(args.duration / DT)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"{n_steps} steps of {DT} ms, Euler, every state at every step, no noise")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            keys = ("run_s", "loop_s", "run_cpu", "loop_cpu")
            times = {side: {k: [] for k in keys} for side in ("neurolib", "ours")}
            load_seen = []
            first = True
            for pair in range(args.pairs):
                load = os.getloadavg()[0]
                nl = run_neurolib(args.neurolib_python, name, args.duration, tmp)
                n = nl["cmat"].shape[0]
                if first:  # our kernel compiled or loaded from the cache, not timed
                    first = False
                    our_engine(name, nl["cmat"], nl["delays"], nl["initial"]).advance(1)
                    print(
                        f"\n{name}: neurolib {nl['version']}, {n} regions, "
                        f"{int((nl['cmat'] > 0).sum())} edges, delays "
                        f"{int(nl['delays'].min())}-{int(nl['delays'].max())} steps"
                    )
                mine, states = ours(name, nl, n_steps)
                for k in keys:
                    times["neurolib"][k].append(float(nl[k]))
                    times["ours"][k].append(mine[k])
                load_seen += [load, os.getloadavg()[0]]
                print(
                    f"  pair {pair + 1}: neurolib run {nl['run_s']:.3f} s (loop "
                    f"{nl['loop_s']:.3f}), ours {mine['run_s']:.3f} s (loop "
                    f"{mine['loop_s']:.3f}); ratio run {nl['run_s'] / mine['run_s']:.1f}, loop "
                    f"{nl['loop_s'] / mine['loop_s']:.1f} (load {load:.2f})",
                    flush=True,
                )
            for k in keys:
                a, b = times["neurolib"][k], times["ours"][k]
                us = 1e6 / n_steps
                kind = k.replace("_s", " wall").replace("_cpu", " CPU")
                print(
                    f"  {kind:9s}: neurolib min {min(a) * us:6.2f} median "
                    f"{np.median(a) * us:6.2f} us/step; ours min {min(b) * us:5.2f} median "
                    f"{np.median(b) * us:5.2f}; neurolib / ours {np.median(a) / np.median(b):.1f}"
                    " (medians)"
                )
            print(f"  load {min(load_seen):.2f}-{max(load_seen):.2f}")
            ref = nl["states"].transpose(1, 0, 2)[-n_steps:]  # (steps, n, 2), after the history
            print(f"  max relative error of the trajectories: {rel_error(states, ref):.2e}")


if __name__ == "__main__":
    main()
