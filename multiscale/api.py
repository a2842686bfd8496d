"""Experiments from Python: what ``multiscale validate`` and ``multiscale run`` do, as
functions, with the same validation, messages and output rules as the command line.

``run`` returns only a complete result: a run that fails raises its error, one stopped by
a signal raises :class:`RunStopped`, so that code after ``run`` never analyses half a
run by mistake. Either way the unfinished output (``X.partial.h5``) stays on disk, marked
incomplete, and ``multiscale.open`` reads what it holds.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from multiscale.config import Experiment, load_experiment
from multiscale.result import Result


class RunStopped(KeyboardInterrupt):
    """A run stopped early by SIGINT or SIGTERM (Ctrl-C, a scheduler's notice).

    partial: the unfinished output (``X.partial.h5``, marked incomplete), which
        ``multiscale.open`` reads and ``multiscale resume`` continues; it may not exist if
        the signal came before anything was written.
    signum: the signal.
    """

    def __init__(self, partial: Path, signum: int) -> None:
        self.partial = partial
        self.signum = signum
        held = Result(partial).simulated if partial.exists() else 0.0
        super().__init__(
            f"stopped by {signal.Signals(signum).name} with {held:g} s simulated; {partial} "
            f"holds that much (multiscale.open reads it); continue with: multiscale resume "
            f"{partial}"
        )


def load(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Experiment:
    """The experiment file at ``path``, validated; ``overrides`` maps dotted field paths to
    values, as ``--set`` does (``{"duration": "2 s", "circuits.0.parameters.n_E": 400}``).
    Raises ConfigError listing every problem (file, field path, value, what is expected)."""
    return load_experiment(path, dict(overrides or {}))


def experiment(
    data: Mapping[str, Any] | None = None,
    *,
    base_dir: str | Path = ".",
    overrides: Mapping[str, Any] | None = None,
    **fields: Any,
) -> Experiment:
    """An experiment from a dict and/or keyword fields (keywords win), without a file:
    ``experiment(name="x", duration="1 s", regions={"model": "jansen_rit"})``. Validated
    as a file with those fields would be (docs/experiment-files.md lists them; problems are
    named ``<dict>: field.path``); relative paths are relative to ``base_dir``."""
    return Experiment.from_dict({**(data or {}), **fields}, base_dir, dict(overrides or {}))


def run(
    exp: Experiment | str | Path,
    output: str | Path | None = None,
    *,
    overwrite: bool = False,
    progress: bool = False,
) -> Result:
    """Run ``exp`` (an Experiment, or the path of an experiment file) in this process and
    return its complete output.

    output: the HDF5 file to write (default: the experiment's ``output.path``); a
        relative path is relative to the working directory, as on the command line.
    overwrite: replace an existing output (kept intact until the new run has completed);
        without it an existing output is refused before anything runs (OutputError, a
        ConfigError).
    progress: show a progress bar.

    Raises the run's error if it fails, RunStopped if a signal stops it; figures are not
    written (``Result.report()`` does)."""
    from multiscale.outputs import OutputError, check_outputs

    if not isinstance(exp, Experiment):
        exp = load(exp)
    path = Path(output) if output is not None else exp.output.path
    exp = exp.with_output(path if path.is_absolute() else Path.cwd() / path)
    try:
        check_outputs([exp.output.path], overwrite=overwrite, protect=(exp.path,))
    except OutputError as err:  # the same rule as the CLI; its hints in Python's words
        raise OutputError(_in_python_words(str(err))) from None
    from multiscale.cosim import Simulation, Stopped

    hook = sys.excepthook
    sim = Simulation(exp.plan, progress=progress, spare_core=True)
    try:
        complete = sim.run()
    except Stopped as stop:  # a signal during set-up, or a second one: stopped at once
        raise RunStopped(sim.files.partial, stop.signum) from None
    finally:
        sys.excepthook = hook  # Brian2 installs one that calls every error a Brian2 bug
    if not complete:
        raise RunStopped(sim.files.partial, sim.interrupted or signal.SIGTERM)
    return Result(exp.output.path)


def _in_python_words(message: str) -> str:
    """An output-check message with the command line's options named as run()'s keywords."""
    for cli, python in (
        ("pass --overwrite", "pass overwrite=True"),
        ("(with or without --overwrite)", "(with or without overwrite=True)"),
        ("choose another -o", "choose another output"),
    ):
        message = message.replace(cli, python)
    return message
