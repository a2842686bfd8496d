"""Checkpoints: the complete state of a run at a window boundary, from which it resumes
(after a crash, a scheduler's time limit, Ctrl-C) or branches (several what-ifs from one
warm-up), continuing to the bit as if it had never stopped.

A checkpoint at boundary k is the state at t_k before that boundary's work, on every rank:
the engine's state and delay history, the window it has integrated but not yet recorded,
the recorder's averaging and BOLD state, the perturbation schedule, and every circuit's
Brian2 state (spikes in flight and random streams included), plus how many rows each
output series held. Each part is one HDF5 file, written beside the output under a
temporary name and renamed; the engine's rank writes ``done.json`` last, once every rank
has written its part, so a checkpoint without it is ignored:

    X.checkpoints/t000000005000000us/engine.h5
    X.checkpoints/t000000005000000us/circuit_<name>.h5
    X.checkpoints/t000000005000000us/done.json

Parts are named by what they hold, never by rank, so a run resumes on any number of ranks.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np

from multiscale.checkpoint_state import load_state, save_state
from multiscale.config import ConfigError
from multiscale.outputs import OutputFiles, open_hdf5, open_output
from multiscale.storage import WriteError, reason

if TYPE_CHECKING:
    from multiscale.plan import Plan


class CheckpointError(ConfigError):
    """No usable checkpoint, or one that does not fit the experiment (exit code 2)."""


def folder_of(output: Path) -> Path:
    """Where the checkpoints of the output ``X.h5`` live: ``X.checkpoints/``."""
    files = OutputFiles(Path(output))
    return files.final.with_name(f"{files.final.stem}.checkpoints")


def _set_name(t_ms: float) -> str:
    return f"t{int(round(t_ms * 1000)):015d}us"


def write_part(root: Path, t_ms: float, part: str, state: dict) -> int:
    """Write one part of the checkpoint at t_ms; returns its size in bytes."""
    folder = root / _set_name(t_ms)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{part}.h5"
    tmp = path.with_suffix(".h5.tmp")
    # built in memory, written as plain bytes: HDF5 itself never meets a full disk (it can
    # crash the process then), and a failed write leaves the previous checkpoint the newest
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        save_state(f, state)
    try:
        with open(tmp, "wb") as out:
            out.write(buffer.getbuffer())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise WriteError(f"{path}: cannot write the checkpoint ({reason(err)})") from err
    return path.stat().st_size


def mark_done(root: Path, t_ms: float, info: dict, keep_ms: tuple[float, ...]) -> None:
    """Declare the checkpoint at t_ms complete, then remove older ones not asked to be
    kept: a new checkpoint replaces the last only once it is whole."""
    folder = root / _set_name(t_ms)
    tmp = folder / "done.json.tmp"
    try:
        tmp.write_text(json.dumps(info | {"t_ms": t_ms}, indent=1))
        os.replace(tmp, folder / "done.json")
    except OSError as err:
        raise WriteError(f"{folder}: cannot complete the checkpoint ({reason(err)})") from err
    keep = {_set_name(t) for t in keep_ms} | {folder.name}
    for other in root.iterdir():
        if other.is_dir() and other.name.startswith("t") and other.name not in keep:
            shutil.rmtree(other, ignore_errors=True)


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint on disk."""

    folder: Path
    info: dict

    @property
    def t_ms(self) -> float:
        return float(self.info["t_ms"])

    @property
    def k(self) -> int:
        return int(self.info["boundary"])

    def part(self, name: str) -> dict:
        path = self.folder / f"{name}.h5"
        if not path.exists():
            raise CheckpointError(f"{self.folder}: the checkpoint has no part {name!r}")
        with h5py.File(path, "r") as f:
            return load_state(f)


def available(root: Path) -> list[Checkpoint]:
    """Complete checkpoints in ``root``, oldest first."""
    if not root.is_dir():
        return []
    out = []
    for folder in sorted(root.iterdir()):
        done = folder / "done.json"
        if folder.is_dir() and done.exists():
            out.append(Checkpoint(folder, json.loads(done.read_text())))
    return out


def latest(root: Path) -> Checkpoint:
    found = available(root)
    if not found:
        raise CheckpointError(
            f"{root}: no complete checkpoint to resume from (a run writes them with "
            f"--checkpoint-every or checkpoint.every, and at SIGINT or SIGTERM); the "
            f"unfinished output can still be read, or run again with --overwrite"
        )
    return found[-1]


def at(root: Path, t_ms: float) -> Checkpoint:
    found = available(root)
    for c in found:
        if abs(c.t_ms - t_ms) < 1e-6:
            return c
    times = ", ".join(f"{c.t_ms / 1000:g} s" for c in found) or "none"
    raise CheckpointError(
        f"{root}: no checkpoint at {t_ms / 1000:g} s; checkpoints there: {times} (keep one "
        f"with checkpoint.keep: [{t_ms / 1000:g} s] in the experiment that makes it)"
    )


# --- what must match ---------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def _connectome_digest(plan: Plan) -> str:
    """sha256 of the bytes of the dense weights and lengths (float64) and delays (int64),
    as checkpoints have always hashed them, built a block of rows at a time; once per plan
    (a plan does not change), since at 10^4 regions it hashes gigabytes."""
    digest = hashlib.sha256()
    conn = plan.connectome
    for m, dtype in (
        (conn.weights_sparse, np.float64),
        (conn.lengths_sparse, np.float64),
        (plan.masses.delays, np.int64),
    ):
        for block in m.dense_blocks(dtype):
            digest.update(block.tobytes())
    return digest.hexdigest()


def fingerprint(plan: Plan) -> dict:
    """What a checkpoint's state depends on: continuing it under anything else would give
    another run. Compared field by field, so a mismatch can be listed."""
    exp, conn = plan.experiment, plan.connectome
    return {
        "connectome": f"{conn.n_regions} regions, sha256 {_connectome_digest(plan)[:16]}",
        "region model": exp.regions.model,
        "coupling": f"{exp.regions.coupling} {json.dumps(exp.regions.coupling_parameters)}",
        "region parameters": hashlib.sha256(
            np.ascontiguousarray(plan.masses.parameters).tobytes()
        ).hexdigest()[:16],
        "integrator": f"{exp.regions.method}, dt {exp.regions.dt_ms} ms, "
        f"noise {json.dumps(exp.regions.noise, sort_keys=True)}",
        "seed": exp.seed,
        "window": f"{plan.window.ms:g} ms, resolution {exp.cosim.resolution_ms} ms",
        "circuits": json.dumps(
            {
                c.name: [c.model, str(c.region), c.parameters, c.input_gain, c.output_gain]
                for c in exp.circuits
            },
            sort_keys=True,
        ),
        "brian": f"{exp.brian_target}, dt {exp.brian_dt_ms} ms",
        "record": json.dumps(
            [
                exp.record.sampling_rate_hz,
                str(exp.record.eeg),
                exp.record.spikes,
                exp.record.states,
                None if exp.record.bold is None else vars(exp.record.bold),
            ]
        ),
    }


def events_before(exp, t_ms: float) -> list[dict]:
    """Perturbations and stimuli that start before t_ms, as plain comparable records."""

    def plain(spec) -> dict:
        return json.loads(json.dumps(asdict(spec), default=_jsonable, sort_keys=True))

    out = []
    for kind, specs in (("perturbation", exp.perturbations), ("stimulus", exp.stimuli)):
        out += [{"kind": kind, **plain(s)} for s in specs if s.at_ms < t_ms]
    return out


def _jsonable(value):
    return value.tolist() if hasattr(value, "tolist") else str(value)


def differences(saved: dict, now: dict) -> list[str]:
    return [
        f"  {key}: checkpoint {saved.get(key)!r}, now {now.get(key)!r}"
        for key in sorted(set(saved) | set(now))
        if saved.get(key) != now.get(key)
    ]


# --- the recorded rows up to the checkpoint ----------------------------------------------
def copy_rows(sources: dict[str, Path], store, positions: dict[str, int]) -> None:
    """Fill a new output's series with the first rows of an earlier run's, as many as the
    checkpoint says it held (``rows/<dataset>``). ``sources`` maps a dataset path prefix
    (``""`` for the main file, ``circuits/<name>/spikes`` for a rank file) to its file."""
    opened: dict[Path, h5py.File] = {}
    try:
        for key, n in positions.items():
            name = key[len("rows/") :]
            prefix = max((p for p in sources if name.startswith(p)), key=len)
            path = sources[prefix]
            if path not in opened:
                opened[path] = open_output(path) if prefix == "" else open_hdf5(path)
            rows = opened[path][name][: int(n)]
            if len(rows) != int(n):
                raise CheckpointError(
                    f"{path}: {name} holds {len(rows)} rows, the checkpoint needs {int(n)}"
                )
            store.write_rows(name, rows)
    finally:
        for f in opened.values():
            f.close()


def sources_of(main: Path) -> dict[str, Path]:
    """The files an output's datasets live in: the main file, and for each circuit on
    another rank the rank file its spikes link to."""
    out = {"": main}
    with open_output(main) as f:
        for name in f.get("circuits", {}):
            link = f[f"circuits/{name}"].get("spikes", getlink=True)
            if isinstance(link, h5py.ExternalLink):
                out[f"circuits/{name}/spikes"] = main.with_name(link.filename)
    return out
