"""The mass engine against TVB 2.10 on one problem, and how its step cost scales.

    TVB_PYTHON=/path/to/tvbenv/bin/python python bench/engine_vs_tvb.py    # ~1-2 min

Problem: tvb_data connectivity_76, Jansen-Rit (TVB defaults), SigmoidalJansenRit coupling
(a = 1), conduction speed 3 mm/ms, dt 0.1 ms, deterministic Heun, 10 s simulated, the same
constant initial history (a different state per region) in both.

TVB runs in its own interpreter (``--tvb-python``, default $TVB_PYTHON, else this one if it
has tvb), in a subprocess that runs this file with ``--tvb-worker``: that part imports only
numpy and tvb, so the TVB environment needs nothing of ours (bench/README.md). It writes
its timing and trajectory to a file; this process runs our engine and compares.

Printed:
1. us/step of TVB (Simulator loop with a Raw monitor, after its first 100 steps, so its
   numba compilation is excluded) and of ours (float64 engine, compiled beforehand) as one
   advance() over the run and in windows of 70 steps (as the co-simulation calls it), and
   the ratios; each of ours is the best of 3 runs.
2. The max relative error between the trajectories (every state variable of every region:
   per state variable max |x - x_TVB| over time and regions / max |x_TVB|, the largest over
   state variables; TVB's k-th sample is our step k + 1): of the float64 engine over the
   first 200 ms (every step) and over the whole run (every step to 200 ms, then every
   1 ms), and until when it stays <= 1e-6 (TVB's float32 rounding grows along the
   trajectory); and of ``tvb_compat=True`` over the whole run, which should be 0.
3. Our step cost at 192 regions (tvb_data connectivity_192) and at 1000 regions (synthetic:
   5 % density, weights uniform and scaled to the mean in-strength of the 76-region
   connectome, tract lengths the distances between random points in a 140 mm ball), as
   ratios to the 76-region cost: the three are timed in turns of ~5 ms, interleaved in
   random order, best turn of each, so that a change of load hits them alike.

Timings are wall clock on a machine that may be shared: the load average is printed; the
ratios compare runs made minutes apart in the same conditions. No timing is asserted.
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
SPEED = 3.0  # mm/ms
DT = 0.1  # ms
A = 1.0  # SigmoidalJansenRit global coupling
FULL_MS = 200.0  # every step compared up to here
STRIDE = 10  # then every STRIDE steps
WARMUP = 100  # TVB steps excluded from its timing (numba compilation of its dfuns)
TURNS = 60  # scaling: timed turns per connectome, interleaved


def recorded_steps(n_steps: int) -> np.ndarray:
    """TVB sample indices k kept: every step to FULL_MS, then every STRIDE steps."""
    k = np.arange(n_steps)
    return k[(k < round(FULL_MS / DT)) | (k % STRIDE == 0)]


# ----------------------------------------------------------------------------- TVB side


def tvb_worker(inputs: str, output: str) -> None:
    """Run TVB on the problem in ``inputs``; write its timing and trajectory to ``output``.
    Imports only numpy and tvb (it runs in the TVB environment)."""
    import logging
    import warnings
    from importlib import metadata

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import tvb_data
    from tvb.datatypes.connectivity import Connectivity
    from tvb.simulator import coupling, integrators, models, monitors, simulator

    inp = np.load(inputs)
    n_steps = int(inp["n_steps"])
    init = inp["initial_history"]  # (H, n, n_state)
    path = Path(tvb_data.__file__).parent / "connectivity" / "connectivity_76.zip"
    conn = Connectivity.from_file(str(path))
    conn.speed = np.array([SPEED])
    conn.configure()
    model = models.JansenRit()
    model.variables_of_interest = tuple(model.state_variables)
    sim = simulator.Simulator(
        model=model,
        connectivity=conn,
        coupling=coupling.SigmoidalJansenRit(a=np.array([A])),
        integrator=integrators.HeunDeterministic(dt=DT),
        conduction_speed=SPEED,
        monitors=[monitors.Raw()],
        initial_conditions=init.transpose(0, 2, 1)[..., None].copy(),
        simulation_length=n_steps * DT,
    ).configure()
    keep = recorded_steps(n_steps)
    states = np.empty((len(keep), *init.shape[1:][::-1]))
    row = 0
    t0 = None
    for k, ((_, y),) in enumerate(sim(simulation_length=n_steps * DT)):
        if k == WARMUP:
            t0 = time.perf_counter()
        if row < len(keep) and keep[row] == k:
            states[row] = y[..., 0]
            row += 1
    elapsed = time.perf_counter() - t0
    assert row == len(keep) and k == n_steps - 1, (row, k)
    np.savez(
        output,
        us_per_step=elapsed / (n_steps - WARMUP) * 1e6,
        states=states,  # (samples, n_state, n)
        weights=np.asarray(conn.weights, dtype=float),
        idelays=np.asarray(conn.idelays, dtype=np.int64),
        tvb_version=metadata.version("tvb-library"),
    )


def run_tvb(python: str, inputs: dict, workdir: str) -> dict:
    inp, out = os.path.join(workdir, "inputs.npz"), os.path.join(workdir, "tvb.npz")
    np.savez(inp, **inputs)
    cmd = [python, __file__, "--tvb-worker", inp, out]
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": ""})
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


# ----------------------------------------------------------------------------- our side


def jansen_rit_engine(weights, delays, initial, min_horizon=70, tvb_compat=False):
    from multiscale.coupling import COUPLINGS
    from multiscale.engine import Engine
    from multiscale.regions import JansenRit

    sig = COUPLINGS["sigmoidal_jansen_rit"]
    n = weights.shape[0]
    return Engine(
        JansenRit,
        JansenRit.parameter_matrix(n),
        sig,
        sig.parameter_vector({"a": A}),
        weights,
        delays,
        DT,
        initial=initial,
        min_horizon=min_horizon,
        tvb_compat=tvb_compat,
    )


def us_per_step(make, n_steps: int, window: int | None = None, repeats: int = 3) -> float:
    """Best of ``repeats`` fresh runs of n_steps, in one advance or in windows."""
    best = np.inf
    for _ in range(repeats):
        eng = make()
        t0 = time.perf_counter()
        if window is None:
            eng.advance(n_steps)
        else:
            for first in range(0, n_steps, window):
                eng.advance(min(window, n_steps - first))
        best = min(best, (time.perf_counter() - t0) / n_steps * 1e6)
    return best


def trajectory(make, n_steps: int) -> np.ndarray:
    """Our full state at the recorded TVB samples: TVB's sample k is our step k + 1."""
    eng = make()
    keep = recorded_steps(n_steps)
    out = np.empty((len(keep), *eng.X.T.shape))
    for row, k in enumerate(keep):
        eng.advance(k + 1 - eng.step)
        out[row] = eng.X.T
    return out


def rel_error(x: np.ndarray, ref: np.ndarray) -> float:
    return float((np.abs(x - ref).max(axis=(0, 2)) / np.abs(ref).max(axis=(0, 2))).max())


def initial_history(n: int, horizon: int) -> np.ndarray:
    """Constant history (horizon, n, 6): JR's initial state, a different one per region."""
    from multiscale.regions import JansenRit

    rng = np.random.default_rng(1)
    x0 = JansenRit.initial_state() + rng.uniform(-1, 1, (n, 6)) * [0.05, 2.0, 2.0, 0.1, 0.5, 0.5]
    return np.repeat(x0[None], horizon, axis=0)


def synthetic_connectome(n: int, mean_in_strength: float, seed: int = 0):
    """Sparse random connectome: 5 % of the off-diagonal pairs, tract lengths the distances
    between random points in a ball of 140 mm diameter."""
    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(n, 3))
    pos *= 70.0 * rng.uniform(0, 1, (n, 1)) ** (1 / 3) / np.linalg.norm(pos, axis=1, keepdims=True)
    lengths = np.linalg.norm(pos[:, None] - pos[None], axis=2)
    mask = rng.uniform(size=(n, n)) < 0.05
    np.fill_diagonal(mask, False)
    weights = np.where(mask, rng.uniform(size=(n, n)), 0.0)
    weights *= mean_in_strength / weights.sum(axis=1).mean()
    return weights, lengths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tvb-python", default=os.environ.get("TVB_PYTHON"))
    parser.add_argument("--duration", type=float, default=10000.0, help="ms (default 10 s)")
    parser.add_argument("--skip-tvb", action="store_true", help="ours and the scaling only")
    parser.add_argument(
        "--tvb-worker", nargs=2, metavar=("INPUTS", "OUTPUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.tvb_worker:
        tvb_worker(*args.tvb_worker)
        return
    sys.path.insert(0, str(ROOT))
    from multiscale.connectome import load_connectome

    n_steps = round(args.duration / DT)
    c76 = load_connectome("tvb76")
    D76 = c76.delay_steps(SPEED, DT)
    hist = initial_history(76, int(D76.max()) + 1)
    print(f"76 regions, {c76.weights.astype(bool).sum()} edges, {n_steps} steps of {DT} ms")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    def make76():
        return jansen_rit_engine(c76.weights, D76, hist)

    t0 = time.perf_counter()
    make76().advance(1)
    setup = time.perf_counter() - t0
    print(f"engine set-up and compilation (or load from the kernel cache): {setup:.2f} s")

    tvb = None
    if not args.skip_tvb:
        python = args.tvb_python
        if python is None:
            try:
                import tvb  # noqa: F401

                python = sys.executable
            except ImportError:
                sys.exit("no TVB: give --tvb-python or TVB_PYTHON (bench/README.md), or --skip-tvb")
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            tvb = run_tvb(python, {"n_steps": n_steps, "initial_history": hist}, tmp)
            print(f"TVB {tvb['tvb_version']} run: {time.perf_counter() - t0:.1f} s")
        assert np.array_equal(tvb["weights"], c76.weights), "not the same connectome"
        assert np.array_equal(tvb["idelays"], D76), "not the same delays"

    ours_whole = us_per_step(make76, n_steps)
    ours_win = us_per_step(make76, n_steps, window=70)
    print()
    print(f"{'':34s}{'us/step':>10s}" + (f"{'TVB / ours':>12s}" if tvb is not None else ""))
    if tvb is not None:
        t = float(tvb["us_per_step"])
        print(f"{'TVB 2.10 (Raw monitor)':34s}{t:10.2f}")
        print(f"{'ours, one advance':34s}{ours_whole:10.2f}{t / ours_whole:12.1f}")
        print(f"{'ours, windows of 70 steps':34s}{ours_win:10.2f}{t / ours_win:12.1f}")
        ref = tvb["states"]
        t_ms = (recorded_steps(n_steps) + 1) * DT  # time since the initial state
        n_full = round(FULL_MS / DT)
        ours = trajectory(make76, n_steps)
        # per sample: the running max relative error (same normalisation as rel_error)
        scale = np.abs(ref).max(axis=(0, 2))
        running = np.maximum.accumulate((np.abs(ours - ref).max(axis=2) / scale).max(axis=1))
        below = t_ms[running <= 1e-6]
        compat = trajectory(
            lambda: jansen_rit_engine(c76.weights, D76, hist, tvb_compat=True), n_steps
        )
        print()
        print("max relative error against TVB (all state variables and regions):")
        first = rel_error(ours[:n_full], ref[:n_full])
        print(f"  float64 engine, first {FULL_MS:.0f} ms (every step): {first:.2e}")
        print(f"  float64 engine, whole run (every {STRIDE * DT:g} ms after): {running[-1]:.2e}")
        print(f"  float64 engine, <= 1e-6 up to t = {below[-1] if below.size else 0:.0f} ms")
        same = np.array_equal(compat, ref)
        print(f"  tvb_compat=True, whole run: {rel_error(compat, ref):.2e} (bit for bit: {same})")
    else:
        print(f"{'ours, one advance':34s}{ours_whole:10.2f}")
        print(f"{'ours, windows of 70 steps':34s}{ours_win:10.2f}")

    # scaling: step cost against the 76-region one, measured again now, in turns
    c192 = load_connectome("tvb192")
    D192 = c192.delay_steps(SPEED, DT)
    W1k, L1k = synthetic_connectome(1000, c76.weights.sum(axis=1).mean())
    D1k = np.rint(L1k / SPEED / DT).astype(np.int64)
    cases = [  # label, weights, delays, steps per turn (~5 ms each)
        ("76 (tvb_data connectivity_76)", c76.weights, D76, 600),
        ("192 (tvb_data connectivity_192)", c192.weights, D192, 250),
        ("1000 (synthetic, 5 % density)", W1k, D1k, 25),
    ]
    engines = []
    for _, W, D, _ in cases:
        engines.append(jansen_rit_engine(W, D, initial_history(W.shape[0], int(D.max()) + 1)))
        engines[-1].advance(1)
    times = [[] for _ in cases]
    order = list(range(len(cases)))
    rng = np.random.default_rng(0)
    for _ in range(TURNS):
        rng.shuffle(order)
        for k in order:
            t0 = time.perf_counter()
            engines[k].advance(cases[k][3])
            times[k].append((time.perf_counter() - t0) / cases[k][3] * 1e6)
    best = [min(t) for t in times]
    n0, m0 = cases[0][1].shape[0], int(cases[0][1].astype(bool).sum())
    print()
    print(f"scaling of our step cost (best of {TURNS} turns of ~5 ms each), against 76 regions:")
    print(f"{'regions':34s}{'edges':>8s}{'us/step':>10s}{'cost':>8s}{'regions':>9s}{'edges':>8s}")
    for (label, W, _, _), us in zip(cases, best, strict=True):
        n, m = W.shape[0], int(W.astype(bool).sum())
        print(f"{label:34s}{m:8d}{us:10.2f}{us / best[0]:8.2f}{n / n0:9.2f}{m / m0:8.2f}")
    print("(cost, regions, edges: ratios to the 76-region case)")


if __name__ == "__main__":
    main()
