"""Fit throughput: evaluations per second of one candidate parameter set, run one by one
against batched (multiscale.fit.batch), and TVB 2.10 where it is installed.

    python bench/fit_throughput.py                       # ~5 min on 2 cores
    python bench/fit_throughput.py --rounds 5 --sizes 1 8 32 64
    TVB_PYTHON=/path/to/tvbenv/bin/python python bench/fit_throughput.py

One evaluation: experiments/resting_state.yaml without its circuit and measures (76
regions, Jansen-Rit, sigmoidal coupling, noise on y4, dt 0.1 ms), 2 s simulated, EEG
(tvb65, average reference, uV) at the run's 1000 Hz. Candidate k changes the global
coupling strength a and the seed. The sides:

(a) ``multiscale.api.run`` in this process, one candidate after another (each writes its
    HDF5 output, as a run does); and, for scale, ``multiscale run`` as a process per
    candidate (no figures), as a fit that starts commands would (its load is inside);
(b) ``simulate_batch`` of B candidates in one call, for each B of ``--sizes`` (threads:
    numba's default, NUMBA_NUM_THREADS or the cores), and the largest B on one thread
    (what batching saves per core, whatever share of the cores other work leaves);
(c) TVB 2.10 (``tvb-library``): the same network, model parameters, coupling, noise,
    delays and step (HeunStochastic), a TemporalAverage monitor at 1 ms of y1 - y2 and the
    same EEG projection, one candidate after another. TVB runs in this interpreter if it
    can import tvb, else in ``--tvb-python`` / $TVB_PYTHON (a subprocess that runs this file
    with ``--tvb-worker`` and imports only numpy and tvb); without either it is skipped.
    Its first evaluation in each process (numba compiling its functions) is not timed.

Each side makes its experiments with ``load_experiment(path, overrides)``, as a fit does;
that time is printed apart ("load") and the rates are given with and without it. The sides
take turns (a, b at each B, c; then again), ``--rounds`` times; for each side the script
prints the min and median seconds per evaluation over the rounds, the evaluations per
second at the median, and the load average before and after. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "experiments" / "resting_state.yaml"
#: the evaluation's experiment: masses only, EEG only (the file also records MEG)
BASE = {"circuits": [], "measures": [], "record.meg": None}


def candidates(first: int, n: int, duration_s: float) -> list[dict]:
    """Overrides of candidates first .. first + n - 1: coupling strength a, seed."""
    return [
        {
            **BASE,
            "duration": f"{duration_s} s",
            "seed": 1000 + k,
            "regions.coupling.a": 0.005 + 0.015 * ((k * 0.618) % 1.0),
        }
        for k in range(first, first + n)
    ]


def load_all(overrides: list[dict]) -> tuple[list, float]:
    from multiscale.api import load

    t = time.perf_counter()
    exps = [load(EXPERIMENT, o) for o in overrides]
    return exps, time.perf_counter() - t


def sequential(overrides: list[dict], folder: Path) -> tuple[float, float]:
    """(load s, simulation s) per evaluation, run by run."""
    from multiscale.api import run

    exps, loading = load_all(overrides)
    t = time.perf_counter()
    for k, exp in enumerate(exps):
        run(exp, folder / f"candidate{k}.h5", overwrite=True).eeg.read()
    return loading / len(exps), (time.perf_counter() - t) / len(exps)


def as_set(key: str, value: object) -> str:
    """One ``--set`` argument of the command line."""
    if value is None:
        return f"{key}=null"
    if isinstance(value, list):
        return f"{key}=[]" if not value else f"{key}={value!r}"
    return f"{key}={value}"


def processes(overrides: list[dict], folder: Path) -> float:
    """Simulation s per evaluation, each a ``multiscale run`` process (no figures): what a
    fit that starts runs as commands pays (loading the experiment is inside)."""
    t = time.perf_counter()
    for k, over in enumerate(overrides):
        sets = [a for key, v in over.items() for a in ("--set", as_set(key, v))]
        cmd = [sys.executable, "-m", "multiscale.cli", "run", str(EXPERIMENT), "-q"]
        cmd += ["--no-figures", "--overwrite", "-o", str(folder / f"process{k}.h5"), *sets]
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) / len(overrides)


def batched(overrides: list[dict], threads: int | None = None) -> tuple[float, float]:
    """(load s, simulation s) per evaluation, as one batch."""
    from multiscale.fit.batch import simulate_batch

    exps, loading = load_all(overrides)
    t = time.perf_counter()
    out = simulate_batch(exps, threads=threads)
    assert all(m["eeg"].data.shape[0] == out[0]["eeg"].data.shape[0] for m in out)
    return loading / len(exps), (time.perf_counter() - t) / len(exps)


# ----------------------------------------------------------------------------- TVB side


def tvb_problem(overrides: list[dict]) -> dict:
    """What TVB needs of each candidate, as arrays (so the worker needs nothing of ours)."""
    from multiscale.api import load
    from multiscale.recording import sensor_projection

    exps = [load(EXPERIMENT, o) for o in overrides]
    plan = exps[0].plan
    m, conn = plan.masses, plan.connectome
    lengths = conn.lengths_sparse.toarray()
    return {
        "weights": conn.weights_sparse.toarray(),
        "lengths": lengths,
        "speed": exps[0].connectome.speed_mm_per_ms,
        "dt": m.dt_ms,
        "duration": exps[0].duration_ms,
        "names": np.array(m.model.parameter_names()),
        "parameters": m.parameters,
        "a": np.array([e.plan.masses.coupling_parameters[0] for e in exps]),
        "coupling": m.coupling_parameters,
        "nsig": m.noise,
        "initial": np.asarray(m.initial, dtype=float),
        "seeds": np.array([e.seed for e in exps]),
        "projection": sensor_projection("eeg", plan.sensors["eeg"])[0],
        "scale": plan.sources.scale,
        "rest": plan.sources.rest,
        "period": 1000.0 / exps[0].record.sampling_rate_hz,
    }


def tvb_evaluations(p: dict) -> list[float]:
    """Seconds per TVB evaluation of each candidate (the first, numba compiling, also
    timed but to be dropped by the caller). Imports only numpy and tvb."""
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from tvb.datatypes.connectivity import Connectivity
    from tvb.simulator import coupling, integrators, models, monitors, noise, simulator

    n = p["weights"].shape[0]
    times = []
    for k in range(len(p["a"])):
        t = time.perf_counter()
        conn = Connectivity(
            weights=p["weights"],
            tract_lengths=p["lengths"],
            region_labels=np.array([f"r{i}" for i in range(n)]),
            centres=np.zeros((n, 3)),
            speed=np.array([float(p["speed"])]),
        )
        conn.configure()
        conn.set_idelays(float(p["dt"]))  # its horizon, for the initial history below
        model = models.JansenRit(
            **{str(name): np.array([p["parameters"][0, j]]) for j, name in enumerate(p["names"])}
        )
        model.variables_of_interest = ("y1", "y2")
        _, cmin, cmax, midpoint, r = p["coupling"]
        sim = simulator.Simulator(
            model=model,
            connectivity=conn,
            coupling=coupling.SigmoidalJansenRit(
                a=np.array([p["a"][k]]),
                cmin=np.array([cmin]),
                cmax=np.array([cmax]),
                midpoint=np.array([midpoint]),
                r=np.array([r]),
            ),
            integrator=integrators.HeunStochastic(
                dt=float(p["dt"]),
                noise=noise.Additive(
                    nsig=np.asarray(p["nsig"], dtype=float),  # (nvar,): TVB reshapes it
                    noise_seed=int(p["seeds"][k]),
                ),
            ),
            monitors=[monitors.TemporalAverage(period=float(p["period"]))],
            initial_conditions=np.tile(p["initial"][None, :, None, None], (conn.horizon, 1, n, 1)),
            simulation_length=float(p["duration"]),
        ).configure()
        ((_, y),) = sim.run()
        signal = y[:, 0, :, 0] - y[:, 1, :, 0]  # y1 - y2 (mV), the observable
        eeg = ((signal - p["rest"]) * p["scale"]) @ p["projection"]
        assert eeg.shape == (
            round(float(p["duration"]) / float(p["period"])),
            len(p["projection"].T),
        )
        times.append(time.perf_counter() - t)
    return times


def tvb_worker(inputs: str, output: str) -> None:
    with np.load(inputs) as f:
        p = {k: f[k] for k in f.files}
    np.save(output, np.array(tvb_evaluations(p)))


def tvb_side(python: str | None, overrides: list[dict], folder: Path) -> list[float] | None:
    """Seconds per TVB evaluation (its first, compiling, left out); None if no TVB."""
    p = tvb_problem(overrides)
    warm = {**p, "a": np.concatenate([p["a"][:1], p["a"]]), "seeds": np.r_[7, p["seeds"]]}
    if python is None:
        return tvb_evaluations(warm)[1:]
    inputs, output = folder / "tvb_inputs.npz", folder / "tvb_times.npy"
    np.savez(inputs, **warm)
    cmd = [python, __file__, "--tvb-worker", str(inputs), str(output)]
    subprocess.run(cmd, check=True, env={**os.environ, "PYTHONPATH": ""})
    return list(np.load(output)[1:])


def tvb_python(given: str | None) -> tuple[bool, str | None, str]:
    """(available, interpreter or None for this one, what to print)."""
    try:
        from importlib import metadata

        import tvb  # noqa: F401

        return True, None, f"TVB {metadata.version('tvb-library')} in this interpreter"
    except ImportError:
        pass
    python = given or os.environ.get("TVB_PYTHON")
    if not python:
        return False, None, "TVB: tvb-library is not installed here and no --tvb-python: skipped"
    check = "from importlib import metadata; print(metadata.version('tvb-library'))"
    try:
        version = subprocess.run(
            [python, "-c", check], check=True, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": ""},
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return False, None, f"TVB: {python} cannot import tvb-library: skipped"
    return True, python, f"TVB {version} in {python}"


# ----------------------------------------------------------------------------- report


def summary(name: str, loads: list[float], sims: list[float]) -> str:
    med_sim, min_sim = statistics.median(sims), min(sims)
    line = (
        f"{name:<26} {min_sim:8.4f} {med_sim:8.4f} s/eval   {1 / med_sim:7.2f} eval/s"
        f" (best {1 / min_sim:6.2f})"
    )
    if loads:
        med_load = statistics.median(loads)
        line += f"   load {med_load:.3f} s/eval -> {1 / (med_sim + med_load):6.2f} eval/s with it"
    return line


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 32, 64])
    p.add_argument("--sequential", type=int, default=4, help="runs per round of side (a)")
    p.add_argument("--processes", type=int, default=1, help="`multiscale run` per round")
    p.add_argument("--tvb-evals", type=int, default=2, help="TVB evaluations per round")
    p.add_argument("--duration", type=float, default=2.0, help="simulated seconds")
    p.add_argument("--tvb-python", help="interpreter with tvb-library (default $TVB_PYTHON)")
    p.add_argument("--skip-tvb", action="store_true")
    p.add_argument("--tvb-worker", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.tvb_worker:
        tvb_worker(*args.tvb_worker)
        return
    sys.path.insert(0, str(ROOT))
    import numba

    have_tvb, python, said = (
        (False, None, "TVB: skipped") if args.skip_tvb else tvb_python(args.tvb_python)
    )
    print(f"{said}")
    print(
        f"{args.duration:g} s simulated per evaluation; numba threads "
        f"{numba.config.NUMBA_NUM_THREADS}; cores {os.cpu_count()}; "
        f"load average before {os.getloadavg()}"
    )
    results: dict[str, tuple[list[float], list[float]]] = {}
    first = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        # compile (or load) the kernels, outside the timing
        sequential(candidates(first, 1, 0.1), folder)
        batched(candidates(first, 2, 0.1))
        for r in range(args.rounds):
            sides = [("multiscale run processes", args.processes, "process")]
            sides += [("api.run, one by one", args.sequential, "run")]
            sides += [(f"simulate_batch B={b}", b, "batch") for b in args.sizes]
            # the largest batch on one thread: what batching saves per core, apart from
            # how many cores the machine gives this process
            sides.append((f"simulate_batch B={max(args.sizes)} 1 thr", max(args.sizes), "one"))
            if have_tvb:
                sides.append(("TVB 2.10, one by one", args.tvb_evals, "tvb"))
            for name, n, how in sides:
                over = candidates(first, n, args.duration)
                first += n
                if how == "process":
                    load_s, sim_s = None, processes(over, folder)
                elif how == "run":
                    load_s, sim_s = sequential(over, folder)
                elif how in ("batch", "one"):
                    load_s, sim_s = batched(over, 1 if how == "one" else None)
                else:
                    times = tvb_side(python, over, folder)
                    load_s, sim_s = None, statistics.median(times)
                loads, sims = results.setdefault(name, ([], []))
                if load_s is not None:
                    loads.append(load_s)
                sims.append(sim_s)
                print(f"  round {r + 1} {name}: {sim_s:.4f} s/eval", flush=True)
    print(f"load average after {os.getloadavg()}")
    print(f"{'side':<26} {'min':>8} {'median':>8}")
    for name, (loads, sims) in results.items():
        print(summary(name, loads, sims))


if __name__ == "__main__":
    main()
