"""``multiscale`` command line: run, validate, info, report, export."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path


def _overrides(pairs: list[str]) -> dict:
    """--set PATH=VALUE arguments as {path: value}, the value read as YAML; a malformed
    argument is a ConfigError (exit 2) naming it."""
    from multiscale.config import ConfigError
    from multiscale.yaml_safe import YamlError, loads

    out = {}
    for pair in pairs or []:
        key, eq, value = pair.partition("=")
        if not eq or not key.strip():
            raise ConfigError(
                f"--set {pair}: got {pair!r}; expected PATH=VALUE, e.g. --set duration='2 s'"
            )
        try:
            out[key.strip()] = loads(value)
        except YamlError as err:
            raise ConfigError(f"--set {pair}: got the value {value!r}; {err}") from err
    return out


def cmd_validate(args) -> int:
    from multiscale.config import load_experiment

    exp = load_experiment(args.file, _overrides(args.set))
    plan = exp.plan
    print(
        f"{args.file}: OK. {exp.name}: {exp.duration_ms / 1000:g} s, "
        f"{plan.connectome.n_regions} regions ({exp.regions.model}), "
        f"{len(exp.circuits)} circuit(s)",
        end="",
    )
    if plan.window.min_delay_ms is not None:
        print(
            f", exchange window {plan.window.ms:g} ms "
            f"(smallest delay touching a circuit: {plan.window.min_delay_ms:g} ms)",
            end="",
        )
    print()
    if plan.window.clamped_edges:
        print(f"note: zero-delay edges clamped to one step: {plan.window.clamped_edges}")
    for note in plan.notes:
        print(f"note: {note}")
    print(plan.estimate.describe())
    return 0


_LAUNCHER_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE")


def _world():
    """The MPI communicator when launched by mpirun/mpiexec with more than one rank.

    If a launcher started several processes but MPI sees one (mpi4py built against another
    MPI than the mpirun used), every process would run the whole experiment on its own:
    stop instead, saying why."""
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    launched = max((int(os.environ.get(v, "1") or 1) for v in _LAUNCHER_SIZE_VARS), default=1)
    if comm.Get_size() == 1 and launched > 1:
        raise SystemExit(
            f"multiscale: the launcher started {launched} processes but MPI sees 1 per "
            f"process: mpi4py uses another MPI library than this mpirun. Use the mpiexec of "
            f"the MPI that mpi4py was built with ({MPI.Get_library_version().splitlines()[0]})."
        )
    return comm if comm.Get_size() > 1 else None


def cmd_run(args) -> int:
    from multiscale.config import load_experiment
    from multiscale.outputs import check_outputs

    comm = _world()
    overrides = _overrides(args.set)
    if args.output:
        overrides["output.path"] = args.output
    if args.checkpoint_every:
        overrides["checkpoint.every"] = args.checkpoint_every
    # every rank validates (it is cheap and deterministic); only rank 0 speaks
    exp = load_experiment(args.file, overrides)
    if not exp.output.path.is_absolute():
        exp.output.path = Path.cwd() / exp.output.path
    check_outputs([exp.output.path], overwrite=args.overwrite, protect=(exp.path,), comm=comm)
    start, sources = None, None
    if args.from_output or args.at:
        start, sources = _branch_point(exp, args)
    return _execute(exp, comm, args, start, sources)


def _branch_point(exp, args):
    """The checkpoint of another run that ``--from A.h5 --at T`` starts this one from."""
    from multiscale.checkpoint import at, folder_of, sources_of
    from multiscale.config import ConfigError
    from multiscale.outputs import open_output
    from multiscale.quantities import QuantityError, to_float

    if not (args.from_output and args.at):
        raise ConfigError("--from and --at go together: --from A.h5 --at '5 s'")
    try:
        t_ms = to_float(args.at, "ms")
    except QuantityError as err:
        raise ConfigError(f"--at: got {args.at!r}; expected a time such as '5 s' ({err})") from err
    source = Path(args.from_output)
    open_output(source).close()
    return at(folder_of(source), t_ms), sources_of(source)


def cmd_resume(args) -> int:
    from multiscale.checkpoint import folder_of, latest, sources_of
    from multiscale.config import ConfigError, load_experiment
    from multiscale.outputs import OutputFiles, open_output

    comm = _world()
    given = Path(args.file).absolute()
    final = (
        given.with_name(given.name.replace(".partial.", "."))
        if ".partial." in given.name
        else given
    )
    files = OutputFiles(final)
    if not files.partial.exists():
        done = final.exists() and _complete(final)
        raise ConfigError(
            f"{given}: {'the run is complete: nothing to resume' if done else 'no such output'}"
            f" (an unfinished run leaves {files.partial.name})"
        )
    with open_output(files.partial) as f:
        config_path = str(f.attrs["config_path"])
        # the file as written and the run's overrides, as the run was loaded (so that a
        # run shortened with --set duration=... is checked as the shortened run it was)
        if "config_as_written" in f.attrs and "overrides" in f.attrs:
            text = str(f.attrs["config_as_written"])
            overrides = json.loads(str(f.attrs["overrides"]))
        else:
            text, overrides = str(f.attrs["config"]), {}
    exp = load_experiment(config_path, overrides, text=text)
    exp.output.path = final
    return _execute(exp, comm, args, latest(folder_of(final)), sources_of(files.partial))


def _complete(path: Path) -> bool:
    from multiscale.outputs import open_output

    with open_output(path) as f:
        return bool(f.attrs["complete"])


def _execute(exp, comm, args, start=None, sources=None) -> int:
    """Run ``exp`` on this rank (from a checkpoint if ``start``), print what a user needs,
    write the figures; the exit code."""
    from multiscale.checkpoint import CheckpointError
    from multiscale.cosim import Simulation

    rank = 0 if comm is None else comm.Get_rank()
    sim = Simulation(
        exp.plan,
        comm=comm,
        progress=not args.quiet,
        start=start,
        sources=sources,
        spare_core=True,
    )
    if start is not None:
        problems = sim.differences_from(start)
        if problems:
            raise CheckpointError(
                f"{start.folder}: the checkpoint does not fit {exp.path}:\n" + "\n".join(problems)
            )
    if rank == 0:
        print(sim.placement.describe())
        for c in exp.circuits:
            print(f"circuit {c.name}: {c.model} replaces region {c.region}")
        if exp.plan.circuits:
            print(f"exchange window: {exp.plan.window.ms:g} ms")
        for note in exp.plan.notes:
            print(f"note: {note}")
        if start is not None:
            print(f"starting from the checkpoint at {start.t_ms / 1000:g} s: {start.folder}")
    ok = sim.run()
    if sim.interrupted is not None:
        if rank == 0:
            print(
                f"multiscale: stopped by {signal.Signals(sim.interrupted).name} at "
                f"{sim.stopped_at_ms / 1000:g} s simulated of {exp.duration_ms / 1000:g} s; "
                f"{sim.files.partial} holds that much and is marked incomplete; a checkpoint "
                f"is in {sim.checkpoints}.\nContinue with: multiscale resume {sim.files.partial}",
                file=sys.stderr,
            )
        return 128 + sim.interrupted
    if rank != 0:
        return 0 if ok else 1
    return _publish(exp.output.path, exp.output.figures and not args.no_figures) or (0 if ok else 1)


def cmd_info(args) -> int:
    from multiscale.circuits import CIRCUITS
    from multiscale.coupling import COUPLINGS
    from multiscale.regions import REGION_MODELS

    print("Region models (regions.model); parameters as name: default unit - meaning")
    for name, m in REGION_MODELS.items():
        print(f"\n  {name}: {m.DESCRIPTION}\n    citation: {m.CITATION}")
        print(
            f"    state variables: {', '.join(m.STATE_VARIABLES)}; coupling variables: "
            f"{', '.join(m.COUPLING_VARIABLES)}; EEG source: {m.OBSERVABLE[0]} "
            f"({m.OBSERVABLE[1]}); default coupling: {m.DEFAULT_COUPLING}; default step "
            f"(regions.integrator.dt): {m.DEFAULT_DT:g} ms"
        )
        for p, spec in m.PARAMETERS.items():
            print(f"    {p}: {spec.default:g} {spec.unit} - {spec.description}")
        for set_name, chosen in m.PARAMETER_SETS.items():
            print(f"    parameter_set {set_name}: {chosen.description} ({chosen.citation})")
    print("\nCouplings (regions.coupling.kind)")
    for name, c in COUPLINGS.items():
        params = ", ".join(f"{k}={p.default:g} {p.unit}" for k, p in c.parameters.items())
        print(f"  {name}: {c.description}\n    parameters: {params}")
    print("\nCircuits (circuits[].model); knobs are what perturbations can turn")
    for name, c in CIRCUITS.items():
        print(f"\n  {name}: {c.DESCRIPTION}\n    citation: {c.CITATION}")
        print(
            f"    populations: {', '.join(c.POPULATIONS)} (output: {c.OUTPUT_POPULATION}); "
            f"input: {c.INPUT_DESCRIPTION}"
        )
        print("    parameters:")
        for p, spec in c.PARAMETERS.items():
            print(f"      {p}: {spec.default:g} {spec.unit} - {spec.description}")
        print("    knobs:")
        for p, spec in c.KNOBS.items():
            print(f"      {p}: {spec.default:g} {spec.unit} - {spec.description}")
    return 0


def cmd_sweep(args) -> int:
    from multiscale.sweep import parse_sets, run_sweep

    comm = _world()
    result = run_sweep(
        args.file, parse_sets(args.set), args.out, args.jobs, comm, overwrite=args.overwrite
    )
    if comm is not None and comm.Get_rank() != 0:
        return 0
    if result.summary is not None:
        print(f"summary: {result.summary}\nfigure: {result.summary.with_name('comparison.png')}")
        table = result.summary.with_name("measures.csv")
        if table.exists():
            print(f"measures: {table}\n" + table.read_text().rstrip())
    for label, why in result.failed.items():
        print(f"variant {label} did not complete ({why}); not in the summary", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_fit(args) -> int:
    from multiscale.fit.run import fit, predict_again

    given = [x for x in (args.file, args.resume, args.predict) if x is not None]
    if len(given) != 1:
        print(
            "error: multiscale fit takes one of FILE.yaml, --resume DIR, --predict DIR",
            file=sys.stderr,
        )
        return 2
    if args.predict is not None:
        predict_again(args.predict)
        return 0
    comm = _world()
    quiet = comm is not None and comm.Get_rank() != 0
    outcome = fit(
        args.file,
        args.out,
        resume=args.resume,
        jobs=args.jobs,
        comm=comm,
        overwrite=args.overwrite,
        log=(lambda *a: None) if quiet else (lambda text: print(text, flush=True)),
    )
    if not outcome.complete:
        return 130
    return 0


def cmd_report(args) -> int:
    from multiscale.outputs import open_output

    open_output(args.file).close()  # a clear error for a missing or foreign file
    return _publish(args.file, True)


def _publish(path, figures: bool) -> int:
    """Print the summary and write the figures; 1 if they could not be written."""
    from multiscale.report import publish

    try:
        print("\n".join(publish(path, figures)))
    except OSError as err:
        print(f"error: cannot write the figures of {path}: {err}", file=sys.stderr)
        return 1
    return 0


def cmd_export(args) -> int:
    import warnings

    from multiscale.export import export

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = export(args.file, args.format, args.output, args.kind, args.overwrite)
    for w in caught:  # an incomplete run, EDF's padding to whole seconds: one line each
        print(f"warning: {str(w.message).splitlines()[0]}", file=sys.stderr)
    print(out)
    return 0


#: BLAS libraries' thread counts, set to 1 unless the user set them
_BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def main(argv: list[str] | None = None) -> int:
    # One BLAS thread unless the user chose otherwise (before numpy is first imported):
    # the linear algebra of a run is small (a window's projection to the sensors, the
    # scalp maps' interpolation), and OpenBLAS's threads spinning on a loaded machine made
    # a 10 s masses-only run take up to twice as long. The numbers are the same.
    for var in _BLAS_THREADS:
        os.environ.setdefault(var, "1")
    parser = argparse.ArgumentParser(
        prog="multiscale",
        description="Multiscale brain simulation: Brian2 circuits in a neural-mass connectome",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run an experiment file")
    p.add_argument("file")
    p.add_argument("--output", "-o", help="HDF5 output path (overrides output.path)")
    p.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="override a field, e.g. --set duration='2 s'",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-figures", action="store_true")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output (kept intact until the new run has completed)",
    )
    p.add_argument(
        "--checkpoint-every",
        metavar="TIME",
        help="write a checkpoint every TIME of simulated time, e.g. '10 s'",
    )
    p.add_argument(
        "--from",
        dest="from_output",
        metavar="A.h5",
        help="start from a checkpoint of the run that wrote A.h5 (with --at)",
    )
    p.add_argument("--at", metavar="TIME", help="the checkpoint's time, e.g. '5 s'")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("resume", help="continue an unfinished run from its last checkpoint")
    p.add_argument("file", help="the unfinished output (X.partial.h5, or X.h5)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument("--no-figures", action="store_true")
    p.set_defaults(func=cmd_resume)
    p = sub.add_parser("validate", help="check an experiment file without running it")
    p.add_argument("file")
    p.add_argument("--set", action="append", metavar="PATH=VALUE")
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("info", help="list region models, couplings, circuits and knobs")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("sweep", help="run variants of an experiment and compare them")
    p.add_argument("file")
    p.add_argument(
        "--set",
        action="append",
        metavar="PATH=V1,V2,...",
        help="a field and its values; several --set give their product",
    )
    p.add_argument("--out", help="output folder (default results/<name>_sweep)")
    p.add_argument("--jobs", "-j", type=int, default=1, help="local processes (without mpirun)")
    p.add_argument("--overwrite", action="store_true", help="replace the variants' outputs")
    p.set_defaults(func=cmd_sweep)
    p = sub.add_parser("fit", help="fit an experiment's free parameters to a recording")
    p.add_argument("file", nargs="?", help="the experiment file, with a fit: section")
    p.add_argument("--out", "-o", help="fit directory (default results/<name>_fit)")
    p.add_argument("--jobs", "-j", type=int, default=1, help="local processes (without mpirun)")
    p.add_argument("--resume", metavar="DIR", help="continue the stopped fit in DIR")
    p.add_argument("--predict", metavar="DIR", help="run the predict: section on the fit in DIR")
    p.add_argument("--overwrite", action="store_true", help="replace the fit in the directory")
    p.set_defaults(func=cmd_fit)
    p = sub.add_parser("report", help="summary and figures of an output file")
    p.add_argument("file")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("export", help="sensor data as FIF, EDF, BrainVision or EEGLAB")
    p.add_argument("file", help="the output (X.h5)")
    p.add_argument("--format", required=True, help="fif, edf, brainvision or eeglab")
    p.add_argument("--output", "-o", help="file to write (default X_<kind>.<ext> beside X.h5)")
    p.add_argument("--kind", default="eeg", help="sensors: eeg (default), meg or seeg")
    p.add_argument("--overwrite", action="store_true", help="replace an existing export")
    p.set_defaults(func=cmd_export)
    args = parser.parse_args(argv)

    from multiscale.config import ConfigError
    from multiscale.storage import WriteError

    # Brian2 replaces the exception hook with one that calls every error a Brian2 bug
    sys.excepthook = sys.__excepthook__

    try:
        return args.func(args)
    except ConfigError as err:
        if (
            args.command not in ("run", "sweep", "fit") or _rank() == 0
        ):  # one report, not one per rank
            print(f"error: {err}", file=sys.stderr)
        return 2
    except FloatingPointError as err:  # a run that diverged: the message says where
        print(f"error: {err}", file=sys.stderr)
        return 1
    except WriteError as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        # HDF5 objects of a file whose writes failed can crash the interpreter as they
        # are freed at exit; what was flushed is safe on disk, so leave at once
        os._exit(1)
    except KeyboardInterrupt as err:
        print(f"multiscale: interrupted ({err or 'SIGINT'})", file=sys.stderr)
        return 128 + getattr(err, "signum", signal.SIGINT)
    except BrokenPipeError:  # `multiscale ... | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _rank() -> int:
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank()


if __name__ == "__main__":
    sys.exit(main())
