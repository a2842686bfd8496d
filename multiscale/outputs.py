"""The files of a run's output, and the rules that keep a user's results safe.

A run writes ``X.partial.h5`` (and ``X.partial.rank<r>.h5`` for circuits on other MPI
ranks) and renames them to ``X.h5`` (``X.rank<r>.h5``) only once every rank has finished,
so an existing result stays intact until its replacement is complete, and a run that
stops early leaves its data under a name that says so.

- An existing output is never replaced without ``overwrite``; a file that is not an output
  of this program (an experiment file, another program's data) is never written over.
- Files are written in HDF5's single-writer/multiple-reader mode (SWMR) and flushed as the
  run goes: after a crash or ``kill -9`` they open (read-only, in SWMR mode, which
  :func:`open_output` falls back to) and hold everything up to the last flush. Other tools
  may need ``h5clear -s FILE`` (HDF5's tools) first, because the file was not closed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from multiscale.config import ConfigError

#: the root attribute that marks a file as this program's output
FORMAT = "multiscale-output"
SUFFIXES = (".h5", ".hdf5")
#: sensor kinds an output may hold (/<kind>/data), and the figures ``report`` draws of each
SENSOR_KINDS = ("eeg", "meg", "seeg")
SENSOR_FIGURES = ("traces", "spectra", "spectrogram", "topomap", "evoked")
#: files written next to an output by ``report`` (removed when the output is replaced);
#: also ``circuit_<name>.png`` and ``<kind>_evoked_<stimulus>.png``
FIGURE_FILES = (
    *(f"{kind}_{fig}.png" for kind in SENSOR_KINDS for fig in SENSOR_FIGURES),
    "report.html",
)


class OutputError(ConfigError):
    """An output path that cannot or must not be written, or a file that is not an output."""


@dataclass(frozen=True)
class OutputFiles:
    """The paths of one output: the final file, the file being written, rank files."""

    final: Path

    @property
    def partial(self) -> Path:
        return self.final.with_name(f"{self.final.stem}.partial{self.final.suffix}")

    def rank_file(self, rank: int, *, partial: bool) -> Path:
        main = self.partial if partial else self.final
        return main.with_name(f"{main.stem}.rank{rank}{main.suffix}")

    def final_rank_files(self) -> list[Path]:
        stem, suffix = re.escape(self.final.stem), re.escape(self.final.suffix)
        pattern = re.compile(rf"^{stem}\.rank\d+{suffix}$")
        if not self.final.parent.is_dir():
            return []
        return sorted(p for p in self.final.parent.iterdir() if pattern.match(p.name))

    @property
    def figures(self) -> Path:
        return self.final.with_suffix("")


def is_output(path: Path) -> bool:
    """True if ``path`` is an HDF5 file written by this program (any version)."""
    try:
        f = open_hdf5(path)
    except OSError:
        return False
    with f:
        return _marked(f.attrs)


def check_output(final: Path, *, overwrite: bool, protect: tuple[Path, ...] = ()) -> None:
    """Refuse, before anything runs, an output path that would lose or damage a file.

    final: the output the user asked for (``-o`` or ``output.path``).
    overwrite: the user's explicit permission to replace an existing output.
    protect: files that must never be written over (the experiment file).
    """
    files = OutputFiles(Path(final))
    where = f"output path {str(final)!r}"
    if files.final.suffix.lower() not in SUFFIXES:
        raise OutputError(
            f"{where}: expected a file name ending in .h5 or .hdf5 (outputs are HDF5 files)"
        )
    for p in protect:
        if Path(p).resolve() in (files.final.resolve(), files.partial.resolve()):
            raise OutputError(f"{where}: that is the experiment file; choose another output path")
    if files.final.is_dir():
        raise OutputError(f"{where}: is a directory; expected a file name ending in .h5")
    for path, what in ((files.final, "an output"), (files.partial, "an unfinished run's output")):
        if not path.exists():
            continue
        if not path.is_file() or not is_output(path):
            raise OutputError(
                f"{where}: {path} exists and is not an output of multiscale; refusing to "
                f"write over it (with or without --overwrite): choose another path"
            )
        if not overwrite:
            hint = (
                "pass --overwrite to replace it once the new run has completed"
                if path == files.final
                else "look at it with `multiscale report`, or pass --overwrite to discard it"
            )
            raise OutputError(f"{where}: {path} already holds {what}; {hint}, or choose another -o")
    for p in files.final_rank_files():
        if not is_output(p):
            raise OutputError(
                f"{where}: {p} exists and is not an output of multiscale; refusing to "
                f"write over it: choose another path"
            )
    parent = files.final.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{where}: cannot create the folder {parent} ({err.strerror})") from err
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{where}: the folder {parent} is not writable")


def check_outputs(
    paths: list[Path], *, overwrite: bool, protect: tuple[Path, ...] = (), comm=None
) -> None:
    """:func:`check_output` for each path, looked at by rank 0 alone (the other ranks may
    already see files of this run), its verdict raised on every rank."""
    message = None
    if comm is None or comm.Get_rank() == 0:
        try:
            for path in paths:
                check_output(path, overwrite=overwrite, protect=protect)
        except OutputError as err:
            message = str(err)
    if comm is not None and comm.Get_size() > 1:
        message = comm.bcast(message, root=0)
    if message is not None:
        raise OutputError(message)


def finalize(files: OutputFiles) -> None:
    """Give a finished run's files their final names (rank files first, then the main file,
    whose links are pointed at them), replacing an older output and its stale pieces."""
    renamed = {}
    with h5py.File(files.partial, "r+") as f:
        for name in _external_links(f):
            link = f.get(name, getlink=True)
            old = files.partial.with_name(link.filename)
            rank = int(re.search(r"\.rank(\d+)\.", link.filename).group(1))
            new = files.rank_file(rank, partial=False)
            if old.exists() and old not in renamed:
                os.replace(old, new)
                renamed[old] = new
            del f[name]
            f[name] = h5py.ExternalLink(new.name, link.path)
    kept = set(renamed.values())
    for stale in files.final_rank_files():
        if stale not in kept:
            stale.unlink()
    for leftover in files.partial.parent.glob(f"{files.partial.stem}.rank*{files.partial.suffix}"):
        leftover.unlink()  # rank files of an interrupted run that a resumed run replaced
    os.replace(files.partial, files.final)
    remove_figures(files)


def remove_figures(files: OutputFiles) -> None:
    """Remove figures and the report page of an output that has been replaced: figures
    beside an output always describe that output."""
    folder = files.figures
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        drawn = ("circuit_", *(f"{kind}_evoked_" for kind in SENSOR_KINDS))
        if p.name in FIGURE_FILES or (p.name.startswith(drawn) and p.suffix == ".png"):
            p.unlink()


def _external_links(f: h5py.File) -> list[str]:
    out = []
    for name in f.get("circuits", {}):
        g = f[f"circuits/{name}"]
        if isinstance(g.get("spikes", getlink=True), h5py.ExternalLink):
            out.append(f"circuits/{name}/spikes")
    return out


def _marked(attrs) -> bool:
    """This program's mark (or, in files of earlier versions, its two oldest attributes)."""
    return attrs.get("format") == FORMAT or ("config" in attrs and "complete" in attrs)


def open_hdf5(path: Path) -> h5py.File:
    """Open an HDF5 file read-only; a file whose writer did not close it (a crash, a
    killed rank) opens in SWMR read mode."""
    try:
        return h5py.File(path, "r")
    except OSError:
        return h5py.File(path, "r", swmr=True)


def open_output(path: str | Path) -> h5py.File:
    """An output file for reading, or an OutputError naming the problem."""
    path = Path(path)
    if not path.exists():
        raise OutputError(f"{path}: no such file")
    if path.is_dir():
        raise OutputError(f"{path}: is a directory; expected an output .h5 file")
    try:
        f = open_hdf5(path)
    except OSError as err:
        raise OutputError(f"{path}: not a readable HDF5 file ({err})") from err
    if not _marked(f.attrs):
        f.close()
        raise OutputError(f"{path}: an HDF5 file, but not an output of multiscale")
    return f


# --------------------------------------------------------------------------- reading
def _text(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def names(ds: h5py.Dataset, key: str = "labels") -> list[str] | None:
    """The region labels (``key`` "labels") or channel names ("channels") of a series of
    an output: the dataset its attribute ``<key>_dataset`` names (outputs since names
    became datasets: a 5000-region list does not fit an attribute's 64 kB), or its
    attribute ``<key>`` (earlier outputs). None if it has neither."""
    where = ds.attrs.get(f"{key}_dataset")
    if where is not None:
        return [_text(x) for x in ds.file[_text(where)][()]]
    if key in ds.attrs:
        return [_text(x) for x in ds.attrs[key]]
    return None


def read_matrix(f: h5py.File, name: str):
    """A square matrix of an output (``connectome/weights``, ``connectome/lengths``) as
    a ``multiscale.sparse.SparseMatrix``: the CSR group of current outputs, or the dense
    dataset of earlier ones, read a block of rows at a time."""
    from multiscale.sparse import SparseMatrix

    obj = f[name]
    if isinstance(obj, h5py.Group):
        n = int(obj.attrs["shape"][0])
        return SparseMatrix(
            n, obj["indptr"][()].astype(np.int64), obj["indices"][()].astype(np.int64),
            obj["data"][()],
        )  # fmt: skip
    n = obj.shape[0]
    step = max(1, (1 << 22) // max(n, 1))
    rows, cols, values = [], [], []
    for a in range(0, n, step):
        block = obj[a : a + step]
        r, c = np.nonzero(block)
        rows.append(r + a)
        cols.append(c)
        values.append(block[r, c])
    return SparseMatrix.from_entries(
        n, np.concatenate(rows), np.concatenate(cols), np.concatenate(values)
    )


def read_connectome(f: h5py.File):
    """The connectome an output ran on (``multiscale.connectome.Connectome``: labels,
    weights, tract lengths, centres), from either layout (``read_matrix``)."""
    from multiscale.connectome import Connectome

    g = f["connectome"]
    labels = [_text(x) for x in g["labels"][()]] if "labels" in g else names(g, "labels")
    centres = g["centres"][()] if "centres" in g else None
    return Connectome(
        _text(f.attrs.get("name", "output")),
        labels,
        read_matrix(f, "connectome/weights"),
        read_matrix(f, "connectome/lengths"),
        centres_mm=centres,
    )
