"""The mass engine against TVB 2.10 at equal recording, and its cost per edge up to 20000
regions.

    TVB_PYTHON=/path/to/tvbenv/bin/python python bench/engine_vs_tvb.py    # ~10 min
    python bench/engine_vs_tvb.py --skip-tvb                               # scaling only

Problem: tvb_data connectivity_76, Jansen-Rit (TVB defaults), SigmoidalJansenRit coupling
(a = 1), conduction speed 3 mm/ms, dt 0.1 ms, deterministic Heun, 10 s simulated, the same
constant initial history (a different state per region) in both.

Two recordings, each done by both sides (the same arrays come out):
(a) ``states``: every state variable of every region at every step (TVB: a Raw monitor of
    the six variables, each sample copied into a preallocated array; ours:
    ``advance(n, states=..., out=...)`` into preallocated arrays, one call: the states and
    the observable). Both sides' output arrays are written once before the timing
    (mapping 365 MB of fresh pages costs ~4 us per step, which neither side should be
    charged for).
(b) ``eeg``: 1 ms averages of the observable y1 - y2 of every region and the 65-channel
    EEG (tvb_data's projection_eeg_65_surface_16k, reduced to regions by TVB) at 1 ms.
    TVB: TemporalAverage and EEG monitors (period 1 ms, no observation noise) of y1 and y2,
    whose difference is the output (TVB's JR has no y1 - y2 variable; its EEG monitor
    projects each variable: 2 x 65 x 76 per step, a few us of its ~250). Ours: windows of
    100 steps (10 ms, a masses-only run's), the observable averaged over each 1 ms and
    multiplied by TVB's gain matrix (the worker returns it), as numpy calls per window.

The two sides alternate, TVB then ours, ``--pairs`` times (default 3) for each recording;
printed: each pair's us/step and ratio with the load average, then min and median of
each side and the ratio of the medians, in wall time and in CPU time (process_time: the
time the process ran, which a loaded machine disturbs less than the wall clock, though
not the caches it shares). TVB runs in its own interpreter
(``--tvb-python``, default $TVB_PYTHON, else this one if it has tvb), in a subprocess that
runs this file with ``--tvb-worker``: that part imports only numpy and tvb, so the TVB
environment needs nothing of ours (not even tvb_data: the files' paths are passed). TVB's
us/step is timed after its first 100 steps (its numba compilation); ours is the float64
engine, compiled beforehand, engine construction not timed (nor TVB's configure()).

Checked, not timed: the error between the trajectories (per state variable, max |x -
x_TVB| over time and regions / max |x_TVB|, the largest over variables; TVB's sample k is
our step k + 1) over the first 200 ms and the whole run, the same for the averages and
EEG of (b), and ``tvb_compat=True`` against TVB over the whole run (0: bit for bit).

Scaling (``--regions``, default 76 192 1000 2000 5000 10000 20000): each size in its own
process, our step cost per edge for the blocked loop (``blocked=True``), the step-by-step
loop (``blocked=False``, the engine before the blocked gather) and, from 100000 edges, the
blocked loop on every thread (``threads=NUMBA_NUM_THREADS``), alternated, min and median
of ``--turns`` turns, with the engine's arrays in MB and the process's peak RSS. 76 and
192: tvb_data's connectivities; above, synthetic (each pair with probability
``--density``, 5 %; weights uniform, scaled to the 76-region mean in-strength; tract
lengths the distances between random points in a 140 mm ball), built as sparse matrices
(no (n, n) array anywhere).

Timings are wall clock on a machine that may be shared: the load average is printed. No
timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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
FULL_MS = 200.0  # errors: every step up to here, and the whole run
WARMUP = 100  # TVB steps excluded from its timing (numba compilation of its dfuns)
AVG = 10  # steps per 1 ms average (recording b)
WINDOW = 100  # our window in recording b (steps)
MODES = {
    "states": "(a) every state variable of every region at every step",
    "eeg": "(b) 1 ms averages of y1 - y2 and 65-channel EEG at 1 ms",
}


# ----------------------------------------------------------------------------- TVB side


def tvb_worker(inputs: str, output: str) -> None:
    """Run TVB on the problem in ``inputs`` with one recording; write its timing and, if
    asked, its outputs to ``output``. Imports only numpy and tvb."""
    import logging
    import warnings
    from importlib import metadata

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from tvb.datatypes.connectivity import Connectivity
    from tvb.simulator import coupling, integrators, models, monitors, simulator

    inp = np.load(inputs)
    n_steps, mode = int(inp["n_steps"]), str(inp["mode"])
    init = inp["initial_history"]  # (H, n, n_state)
    conn = Connectivity.from_file(str(inp["connectivity"]))
    conn.speed = np.array([SPEED])
    conn.configure()
    model = models.JansenRit()
    if mode == "states":
        model.variables_of_interest = tuple(model.state_variables)
        mons = [monitors.Raw()]
    else:
        model.variables_of_interest = ("y1", "y2")
        eeg = monitors.EEG.from_file(
            str(inp["sensors"]),
            str(inp["projection"]),
            rm_f_name=str(inp["region_mapping"]),
            period=AVG * DT,
            obsnoise=None,
        )
        mons = [monitors.TemporalAverage(period=AVG * DT), eeg]
    sim = simulator.Simulator(
        model=model,
        connectivity=conn,
        coupling=coupling.SigmoidalJansenRit(a=np.array([A])),
        integrator=integrators.HeunDeterministic(dt=DT),
        conduction_speed=SPEED,
        monitors=mons,
        initial_conditions=init.transpose(0, 2, 1)[..., None].copy(),
        simulation_length=n_steps * DT,
    ).configure()
    n = init.shape[1]
    result = {}
    if mode == "states":
        states = np.empty((n_steps, init.shape[2], n))
        states.fill(0.0)  # its pages mapped before the timing, as ours
        for k, ((_, y),) in enumerate(sim(simulation_length=n_steps * DT)):
            if k == WARMUP:
                t0, c0 = time.perf_counter(), time.process_time()
            states[k] = y[..., 0]
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert k == n_steps - 1, k
        timed = n_steps - WARMUP
        result["states"] = states
    else:
        rows = n_steps // AVG
        avg = np.zeros((rows, 2, n)) + 0.0  # written: pages mapped before the timing
        sensors = np.zeros((rows, 2, eeg.gain.shape[0])) + 0.0
        for k, ((_, a), (_, e)) in enumerate(sim(simulation_length=n_steps * DT)):
            if k == WARMUP // AVG:
                t0, c0 = time.perf_counter(), time.process_time()
            avg[k] = a[..., 0]
            sensors[k] = e[..., 0]
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        assert k == rows - 1, k
        timed = n_steps - WARMUP
        result.update(avg=avg, eeg=sensors, gain=np.asarray(eeg.gain, dtype=float))
    if not int(inp["keep"]):
        result = {}
    np.savez(
        output,
        us_per_step=elapsed / timed * 1e6,
        cpu_us_per_step=cpu / timed * 1e6,
        weights=np.asarray(conn.weights, dtype=float),
        idelays=np.asarray(conn.idelays, dtype=np.int64),
        tvb_version=metadata.version("tvb-library"),
        **result,
    )


def run_tvb(python: str, inputs: dict, workdir: str) -> dict:
    inp, out = os.path.join(workdir, "inputs.npz"), os.path.join(workdir, "tvb.npz")
    np.savez(inp, **inputs)
    cmd = [python, __file__, "--tvb-worker", inp, out]
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": ""})
    with np.load(out) as f:
        return {k: f[k] for k in f.files}


# ----------------------------------------------------------------------------- our side


def jansen_rit_engine(
    weights, delays, initial, min_horizon=70, tvb_compat=False, blocked=None, threads=1
):
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
        blocked=blocked,
        threads=threads,
    )


def ours_states(make, n_steps: int, states: np.ndarray, obs: np.ndarray) -> tuple[float, float]:
    """Recording (a): us/step (wall, CPU) of one advance that writes every state into
    ``states`` (and the observable into ``obs``: preallocated, as TVB's array)."""
    eng = make()
    t0, c0 = time.perf_counter(), time.process_time()
    eng.advance(n_steps, states=states, out=obs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall / n_steps * 1e6, cpu / n_steps * 1e6


def ours_eeg(
    make, n_steps: int, gain: np.ndarray, avg: np.ndarray, eeg: np.ndarray
) -> tuple[float, float]:
    """Recording (b): us/step of windows of WINDOW steps, each averaged to 1 ms (into
    ``avg``) and projected by ``gain`` (into ``eeg``); (wall, CPU)."""
    eng = make()
    n = eng.n_regions
    t0, c0 = time.perf_counter(), time.process_time()
    for first in range(0, n_steps, WINDOW):
        obs = eng.advance(WINDOW)
        rows = slice(first // AVG, (first + WINDOW) // AVG)
        a = obs.reshape(WINDOW // AVG, AVG, n).mean(axis=1)
        avg[rows] = a
        np.matmul(a, gain.T, out=eeg[rows])
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall / n_steps * 1e6, cpu / n_steps * 1e6


def rel_error(x: np.ndarray, ref: np.ndarray) -> float:
    """Largest over the second axis of max |x - ref| / max |ref| over the others."""
    axes = tuple(k for k in range(x.ndim) if k != 1)
    return float((np.abs(x - ref).max(axis=axes) / np.abs(ref).max(axis=axes)).max())


def initial_history(n: int, horizon: int) -> np.ndarray:
    """Constant history (horizon, n, 6): JR's initial state, a different one per region."""
    from multiscale.regions import JansenRit

    rng = np.random.default_rng(1)
    x0 = JansenRit.initial_state() + rng.uniform(-1, 1, (n, 6)) * [0.05, 2.0, 2.0, 0.1, 0.5, 0.5]
    return np.repeat(x0[None], horizon, axis=0)


def synthetic_connectome(n: int, density: float, mean_in_strength: float, seed: int = 0):
    """Sparse random connectome (SparseMatrix weights and tract lengths in mm): each
    ordered pair (no self-pairs) with probability ``density``, weights uniform scaled to
    ``mean_in_strength``, lengths the distances between random points in a 140 mm ball.
    Drawn a block of rows at a time: no (n, n) array."""
    from multiscale.sparse import SparseMatrix

    rng = np.random.default_rng(seed)
    pos = rng.normal(size=(n, 3))
    pos *= 70.0 * rng.uniform(0, 1, (n, 1)) ** (1 / 3) / np.linalg.norm(pos, axis=1, keepdims=True)
    rows, cols = [], []
    step = max(1, (1 << 22) // n)
    for start in range(0, n, step):
        r, c = np.nonzero(rng.uniform(size=(min(step, n - start), n)) < density)
        r += start
        keep = r != c
        rows.append(r[keep])
        cols.append(c[keep])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    weights = rng.uniform(1e-3, 1.0, rows.size)
    weights *= mean_in_strength * n / weights.sum()
    lengths = np.linalg.norm(pos[rows] - pos[cols], axis=1)
    W = SparseMatrix.from_entries(n, rows, cols, weights)
    return W, W.with_data(lengths[np.lexsort((cols, rows))])


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: since its exec, unlike ru_maxrss,
    which a child starts with its parent's), in MB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scaling_worker(n: int, density: float, turns: int) -> None:
    """One size of the scaling section: prints a JSON line."""
    sys.path.insert(0, str(ROOT))
    from multiscale.connectome import load_connectome

    c76 = load_connectome("tvb76")
    t0 = time.perf_counter()
    if n in (76, 192):
        c = c76 if n == 76 else load_connectome("tvb192")
        W, L = c.weights_sparse, c.lengths_sparse
        source = f"tvb_data connectivity_{n}"
    else:
        W, L = synthetic_connectome(n, density, c76.weights.sum(axis=1).mean())
        source = f"synthetic, {density:.0%} density"
    D = L.with_data(np.rint(L.data / SPEED / DT).astype(np.int64))
    hist = initial_history(n, 1)[0]
    import numba

    from multiscale.engine.network import PARALLEL_EDGES

    kinds = {"blocked": (True, 1), "step": (False, 1)}
    pool = numba.config.NUMBA_NUM_THREADS
    if pool > 1 and W.nnz >= PARALLEL_EDGES:
        kinds["parallel"] = (True, pool)
    engines = {
        k: jansen_rit_engine(W, D, hist, blocked=b, threads=t) for k, (b, t) in kinds.items()
    }
    built = time.perf_counter() - t0
    m = int(engines["blocked"].w.size)
    k = max(2 * 16, int(3e7 / m) // 16 * 16)  # steps per turn: ~50-500 ms
    times = {kind: [] for kind in engines}
    cpu = {kind: [] for kind in engines}
    for e in engines.values():
        e.advance(16)
    for _ in range(turns):
        for kind, e in engines.items():
            t, c = time.perf_counter(), time.process_time()
            e.advance(k)
            times[kind].append((time.perf_counter() - t) / k * 1e6)
            cpu[kind].append((time.process_time() - c) / k * 1e6)
    eng = engines["blocked"]
    arrays = [eng.X, eng.H, eng.Hp, eng.P, eng.w, eng.d, eng.col, eng._cell, eng.row_ptr]
    arrays += [eng._row_ptr_u, eng._split, eng._acc]
    out = {
        "n": n,
        "edges": m,
        "source": source,
        "build_s": built,
        "steps_per_turn": k,
        "us": times,
        "cpu_us": cpu,
        "threads": pool,
        "same": all(
            np.array_equal(eng.X, e.X) and np.array_equal(eng.Hp, e.Hp) for e in engines.values()
        ),
        "engine_mb": sum(a.nbytes for a in arrays) / 2**20,
        "peak_rss_mb": peak_rss_mb(),
        "load": os.getloadavg()[0],
    }
    print(json.dumps(out))


def _summary(label: str, values: list[float]) -> str:
    return f"{label} min {min(values):.2f} median {float(np.median(values)):.2f}"


def compare_with_tvb(args, python: str) -> None:
    from multiscale.connectome import load_connectome, tvb_data_dir

    n_steps = round(args.duration / DT)
    if n_steps % WINDOW:
        sys.exit(f"--duration must be a multiple of {WINDOW * DT:g} ms")
    c76 = load_connectome("tvb76")
    D76 = c76.delay_steps(SPEED, DT)
    # TVB numbers its first step after the initial history's length L; its TemporalAverage
    # groups steps by that number, so L - 1 a multiple of AVG aligns its averages to ours
    hist = initial_history(76, -(-int(D76.max()) // AVG) * AVG + 1)
    data = tvb_data_dir()
    inputs = {
        "n_steps": n_steps,
        "initial_history": hist,
        "connectivity": str(data / "connectivity" / "connectivity_76.zip"),
        "sensors": str(data / "sensors" / "eeg_brainstorm_65.txt"),
        "projection": str(data / "projectionMatrix" / "projection_eeg_65_surface_16k.npy"),
        "region_mapping": str(data / "regionMapping" / "regionMapping_16k_76.txt"),
    }
    print(f"76 regions, {c76.weights.astype(bool).sum()} edges, {n_steps} steps of {DT} ms")

    def make():
        return jansen_rit_engine(c76.weights, D76, hist)

    t0 = time.perf_counter()
    make().advance(1)
    print(f"engine set-up and compilation (or kernel cache load): {time.perf_counter() - t0:.2f} s")
    states = np.zeros((n_steps, 76, 6)) + 0.0  # written: pages mapped before any timing
    obs = np.zeros((n_steps, 76)) + 0.0
    rows = n_steps // AVG
    avg, eeg = np.zeros((rows, 76)) + 0.0, None
    runs = {
        mode: {"tvb": [], "ours": [], "tvb_cpu": [], "ours_cpu": [], "load": []} for mode in MODES
    }
    ref = {}
    with tempfile.TemporaryDirectory() as tmp:
        for pair in range(args.pairs):
            for mode in MODES:
                load = os.getloadavg()[0]
                tvb = run_tvb(python, {**inputs, "mode": mode, "keep": int(pair == 0)}, tmp)
                if pair == 0:
                    assert np.array_equal(tvb["weights"], c76.weights), "not the same connectome"
                    assert np.array_equal(tvb["idelays"], D76), "not the same delays"
                    ref[mode] = tvb
                    ref["version"] = str(tvb["tvb_version"])
                if mode == "states":
                    ours, ours_cpu = ours_states(make, n_steps, states, obs)
                else:
                    gain = ref["eeg"]["gain"]
                    if eeg is None:
                        eeg = np.zeros((rows, gain.shape[0])) + 0.0
                    ours, ours_cpu = ours_eeg(make, n_steps, gain, avg, eeg)
                r = runs[mode]
                r["tvb"].append(float(tvb["us_per_step"]))
                r["ours"].append(ours)
                r["tvb_cpu"].append(float(tvb["cpu_us_per_step"]))
                r["ours_cpu"].append(ours_cpu)
                r["load"] += [load, os.getloadavg()[0]]
                print(
                    f"  pair {pair + 1} {mode:6s}: TVB {r['tvb'][-1]:8.2f} us/step, ours "
                    f"{ours:6.2f}, ratio {r['tvb'][-1] / ours:6.1f} (load {load:.2f})",
                    flush=True,
                )
    print(f"\nTVB {ref['version']} against ours (us/step; {args.pairs} pairs, alternated):")
    for mode, text in MODES.items():
        r = runs[mode]
        ratios = [t / o for t, o in zip(r["tvb"], r["ours"], strict=True)]
        print(text)
        print(f"  {_summary('TVB', r['tvb'])}; {_summary('ours', r['ours'])}")
        print(
            f"  TVB / ours: {float(np.median(r['tvb']) / np.median(r['ours'])):.1f} (medians);"
            f" per pair min {min(ratios):.1f}, median {float(np.median(ratios)):.1f};"
            f" load {min(r['load']):.2f}-{max(r['load']):.2f} on {os.cpu_count()} cores"
        )
        print(
            f"  CPU time: {_summary('TVB', r['tvb_cpu'])}; {_summary('ours', r['ours_cpu'])};"
            f" TVB / ours {float(np.median(r['tvb_cpu']) / np.median(r['ours_cpu'])):.1f}"
            " (medians)"
        )

    # errors (not timed): the last runs' outputs against TVB's first
    n_full = round(FULL_MS / DT)
    ref_states = ref["states"]["states"]  # (steps, 6, n)
    ours_t = states.transpose(0, 2, 1)
    compat = np.empty_like(states)
    eng = jansen_rit_engine(c76.weights, D76, hist, tvb_compat=True)
    eng.advance(n_steps, states=compat)
    ref_avg = ref["eeg"]["avg"][:, 0] - ref["eeg"]["avg"][:, 1]
    ref_eeg = ref["eeg"]["eeg"][:, 0] - ref["eeg"]["eeg"][:, 1]
    print("\nmax relative error against TVB:")
    first = rel_error(ours_t[:n_full], ref_states[:n_full])
    print(f"  (a) float64 engine, first {FULL_MS:.0f} ms, every step: {first:.2e}")
    print(f"  (a) float64 engine, whole run, every step: {rel_error(ours_t, ref_states):.2e}")
    same = np.array_equal(compat.transpose(0, 2, 1), ref_states)
    print(f"  (a) tvb_compat=True, whole run: bit for bit {same}")
    print(
        f"  (b) 1 ms averages: {rel_error(avg[:, None], ref_avg[:, None]):.2e}, EEG: "
        f"{rel_error(eeg[:, None], ref_eeg[:, None]):.2e} (whole run; max |diff| / max |TVB|)"
    )


def scaling(args) -> None:
    print(
        f"\nscaling: our cost per edge (us/step / edges, in ns), min / median of {args.turns}"
        " turns; the blocked loop (the default from 10000 edges), the step-by-step loop, and"
        " the blocked loop on every thread; alternated; one process per size"
    )
    head = f"{'regions':>7s}{'edges':>11s}{'blocked':>16s}{'step':>16s}{'parallel':>16s}"
    print(head + f"{'step/bl':>8s}{'engine MB':>10s}{'peak RSS':>9s}{'load':>6s}  same")
    for n in args.regions:
        cmd = [sys.executable, __file__, "--scaling-worker", str(n), str(args.density)]
        p = subprocess.run(cmd + [str(args.turns)], capture_output=True, text=True, check=True)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        ns = {k: np.array(v) * 1e3 / r["edges"] for k, v in r["us"].items()}
        cpu = {k: np.array(v) * 1e3 / r["edges"] for k, v in r["cpu_us"].items()}
        cols = ""
        for kind in ("blocked", "step", "parallel"):
            v = ns.get(kind)
            cols += f"{v.min():9.2f} /{np.median(v):5.2f}" if v is not None else f"{'-':>16s}"
        print(
            f"{n:7d}{r['edges']:11d}{cols}{np.median(ns['step']) / np.median(ns['blocked']):8.1f}"
            f"{r['engine_mb']:10.0f}{r['peak_rss_mb']:9.0f}{r['load']:6.2f}  {r['same']}"
            f"  ({r['source']}; blocked {np.median(r['us']['blocked']):.0f} us/step)",
        )
        print(
            f"{'CPU time':>18s}{cpu['blocked'].min():9.2f} /{np.median(cpu['blocked']):5.2f}"
            f"{cpu['step'].min():9.2f} /{np.median(cpu['step']):5.2f}"
            f"{'(both threads)':>16s}{np.median(cpu['step']) / np.median(cpu['blocked']):8.1f}",
            flush=True,
        )
    print("(engine MB: the blocked engine's arrays; peak RSS, MB: the worker process, which")
    print(" holds the connectome and every engine of the row; parallel: on NUMBA_NUM_THREADS")
    print(" threads, from 100000 edges; same: every engine ends in the same state to the bit)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tvb-python", default=os.environ.get("TVB_PYTHON"))
    parser.add_argument("--duration", type=float, default=10000.0, help="ms (default 10 s)")
    parser.add_argument("--pairs", type=int, default=3, help="TVB/ours pairs per recording")
    parser.add_argument("--skip-tvb", action="store_true", help="the scaling only")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument(
        "--regions", type=int, nargs="+", default=[76, 192, 1000, 2000, 5000, 10000, 20000]
    )
    parser.add_argument("--density", type=float, default=0.05)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument(
        "--tvb-worker", nargs=2, metavar=("INPUTS", "OUTPUT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--scaling-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tvb_worker:
        tvb_worker(*args.tvb_worker)
        return
    if args.scaling_worker:
        n, density, turns = args.scaling_worker
        scaling_worker(int(n), float(density), int(turns))
        return
    sys.path.insert(0, str(ROOT))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if not args.skip_tvb:
        python = args.tvb_python
        if python is None:
            try:
                import tvb  # noqa: F401

                python = sys.executable
            except ImportError:
                sys.exit("no TVB: give --tvb-python or TVB_PYTHON (bench/README.md), or --skip-tvb")
        compare_with_tvb(args, python)
    if not args.skip_scaling:
        scaling(args)


if __name__ == "__main__":
    main()
