"""The HDF5 output of a run, written window by window so memory does not grow with
simulated time.

Layout (every dataset carries its unit in the ``unit`` attribute):

    /                     attrs: config (YAML text), seed, versions, complete, ...
    /eeg/data             (samples, channels)  attrs: unit, sampling_rate, channels, reference
    /eeg/gain             (channels, regions)  the lead field used
    /regions/data         (samples, regions)   attrs: unit, sampling_rate, labels, observable
    /circuits/<name>/rate (samples,)           attrs: unit Hz, sampling_rate, population
    /circuits/<name>/field (samples,)          field-potential proxy, mV
    /circuits/<name>/spikes/<population>/times, /indices
    /perturbations        one row per change that took effect, in columns (``LogEntry``):
                          time (ms), name, event, circuit, regions, quantity,
                          value_min, value_max, what

``complete`` is False until the run has finished and everything was flushed, so a file
left by a crashed or interrupted run never looks complete.
"""

from __future__ import annotations

import json
import os
import platform
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np

from multiscale.outputs import FORMAT

_CHUNK_ROWS = 4096
_BUFFER_ROWS = 16384  # rows a series holds in memory before it writes them
_BUFFER_VALUES = 1 << 22  # and at most this many values (32 MB in float64): wide series


_TEXT = h5py.string_dtype()
#: the columns of /perturbations (see LogEntry)
_LOG_DTYPE = np.dtype(
    [
        ("time", "f8"),
        ("name", _TEXT),
        ("event", _TEXT),
        ("circuit", _TEXT),
        ("regions", _TEXT),
        ("quantity", _TEXT),
        ("value_min", "f8"),
        ("value_max", "f8"),
        ("what", _TEXT),
    ]
)


@dataclass(frozen=True)
class LogEntry:
    """One row of an output's /perturbations: a change that took effect during the run.

    time_ms: when (ms). name: the perturbation's or stimulus's name, or "checkpoint",
    "resumed". event: "start", "end of ramp", "removed", "stimulus on", "stimulus off",
    "checkpoint", "resumed". circuit: the circuit changed or stimulated ("" for the masses).
    regions: the regions changed (labels, or "N regions"; "" for a circuit). quantity: the
    knob, region parameter, "edge weight" x factor, or stimulated population/variable.
    value_min, value_max: the target's value(s) after the change, in its unit (NaN where
    none). what: the same in words."""

    time_ms: float
    name: str
    event: str
    what: str
    circuit: str = ""
    regions: str = ""
    quantity: str = ""
    value_min: float = float("nan")
    value_max: float = float("nan")

    def row(self) -> tuple:
        return (
            self.time_ms,
            self.name,
            self.event,
            self.circuit,
            self.regions,
            self.quantity,
            self.value_min,
            self.value_max,
            self.what,
        )


def read_log(f: h5py.File) -> list[LogEntry]:
    """The rows of an output's /perturbations (none if it has no log). Outputs written
    before the log had columns (time, name, what) read with the other fields empty."""
    if "perturbations" not in f:
        return []
    rows = f["perturbations"][:]

    def text(x) -> str:
        return x.decode() if isinstance(x, bytes) else str(x)

    if "event" not in rows.dtype.names:
        return [LogEntry(float(r["time"]), text(r["name"]), "", text(r["what"])) for r in rows]
    return [
        LogEntry(
            time_ms=float(r["time"]),
            name=text(r["name"]),
            event=text(r["event"]),
            what=text(r["what"]),
            circuit=text(r["circuit"]),
            regions=text(r["regions"]),
            quantity=text(r["quantity"]),
            value_min=float(r["value_min"]),
            value_max=float(r["value_max"]),
        )
        for r in rows
    ]


def reason(err: OSError | RuntimeError) -> str:
    """What a user should read for a failed write: a full disk said plainly."""
    text = str(err)
    if "No space left" in text or getattr(err, "errno", None) == 28:
        return "the disk is full"
    return text


def versions() -> dict[str, str]:
    """Versions of the packages a result depends on."""
    out = {"python": platform.python_version()}
    for pkg in ("multiscale", "brian2", "numpy", "numba", "scipy", "h5py", "networkx", "mpi4py"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


class WriteError(RuntimeError):
    """An output could not be written (a full disk, a vanished folder): names the file."""


class Store:
    """An HDF5 file being written by one process.

    Every dataset is created first; :meth:`start_streaming` then switches the file to
    HDF5's single-writer/multiple-reader mode, in which the file on disk stays readable
    whatever happens to the process (kill -9 included) and holds everything up to the last
    :meth:`flush`. Nothing can be created after that, only appended.
    """

    def __init__(self, path: str | Path, attrs: dict, *, log: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.failed = False
        with self._guard("create"):
            self.file = h5py.File(self.path, "w", libver="latest")
        self.file.attrs["format"] = FORMAT
        self.file.attrs["complete"] = False
        self.file.attrs["versions"] = json.dumps(versions())
        for key, value in attrs.items():
            self.file.attrs[key] = value
        self._pending: dict[str, list] = {}  # name -> [dataset, row blocks, row count]
        self.failed = False  # a write failed: the file is closed without further writes
        self._log = None
        if log:
            self._log = self.create_series(
                "perturbations", None, "time: ms", dtype=_LOG_DTYPE, chunk_rows=256
            )
            self._log.attrs["what"] = "every perturbation and stimulus, when it took effect"

    def rename(self, path: Path) -> None:
        """Give the open file its final name (POSIX: the open file follows)."""
        os.replace(self.path, path)
        self.path = path

    def start_streaming(self) -> None:
        """From now on the file on disk stays readable (SWMR); no new datasets."""
        with self._guard("switch to streaming mode"):
            self.file.swmr_mode = True

    @contextmanager
    def _guard(self, doing: str):
        try:
            yield
        except (OSError, RuntimeError) as err:  # h5py's flush raises RuntimeError (ENOSPC)
            self.failed = True
            raise WriteError(
                f"{self.path}: cannot {doing} ({reason(err)}); the file holds what was "
                f"written up to its last flush"
            ) from err

    def create_series(
        self,
        name: str,
        width: int | None,
        unit: str,
        attrs: dict | None = None,
        dtype: str | np.dtype = "f8",
        chunk_rows: int = _CHUNK_ROWS,
    ) -> h5py.Dataset:
        """An appendable dataset of rows (samples, width) or (samples,) if width is None."""
        shape = (0,) if width is None else (0, width)
        maxshape = (None,) if width is None else (None, width)
        chunks = (chunk_rows,) if width is None else (max(1, chunk_rows // max(width, 1)), width)
        ds = self.file.create_dataset(
            name, shape=shape, maxshape=maxshape, chunks=chunks, dtype=dtype
        )
        ds.attrs["unit"] = unit
        for key, value in (attrs or {}).items():
            ds.attrs[key] = value
        return ds

    def write_array(self, name: str, data: np.ndarray, unit: str, attrs: dict | None = None):
        ds = self.file.create_dataset(name, data=data)
        ds.attrs["unit"] = unit
        for key, value in (attrs or {}).items():
            ds.attrs[key] = value
        return ds

    def write_names(self, name: str, names, what: str) -> h5py.Dataset:
        """A list of names (region labels, channel names) as a dataset of strings: it
        grows with the connectome or montage, and an attribute holds at most 64 kB in
        HDF5's default layout. Its ``unit`` is ``text``."""
        data = np.array([str(x) for x in names], dtype=_TEXT)
        ds = self.file.create_dataset(name, data=data, dtype=_TEXT)
        ds.attrs["unit"] = "text"
        ds.attrs["what"] = what
        return ds

    def write_sparse(self, name: str, matrix, unit: str, attrs: dict | None = None):
        """A square sparse matrix (``multiscale.sparse.SparseMatrix``) as a group of CSR
        datasets: ``data`` (in ``unit``), ``indices`` (the column of each entry) and
        ``indptr`` (row i's entries are data[indptr[i]:indptr[i + 1]]); every other entry
        is 0. The group's attributes: ``format`` "csr", ``shape``, ``unit``."""
        g = self.file.create_group(name)
        g.attrs.update({"format": "csr", "shape": list(matrix.shape), "unit": unit})
        for key, value in (attrs or {}).items():
            g.attrs[key] = value
        g.create_dataset("data", data=matrix.data).attrs["unit"] = unit
        g.create_dataset("indices", data=matrix.indices).attrs["unit"] = "column index"
        g.create_dataset("indptr", data=matrix.indptr).attrs["unit"] = "offset into data"
        return g

    def append(self, ds: h5py.Dataset, rows: np.ndarray) -> None:
        """Append rows to a series. Rows are buffered and written in blocks (one HDF5 write
        per series per flush, not per window: h5py costs ~0.1 ms a call); a series writes
        itself once it holds _BUFFER_ROWS rows (fewer for a wide series: _BUFFER_VALUES
        values), so memory stays bounded whoever flushes."""
        if len(rows) == 0:
            return
        entry = self._pending.setdefault(ds.name, [ds, [], 0])
        entry[1].append(np.array(rows, copy=True))  # callers may reuse their buffers
        entry[2] += len(rows)
        width = int(np.prod(np.shape(rows)[1:], dtype=np.int64)) or 1  # the series' own
        if entry[2] >= min(_BUFFER_ROWS, max(1, _BUFFER_VALUES // width)):
            self._write(ds.name)

    def _write(self, name: str) -> None:
        ds, parts, _ = self._pending.pop(name)
        rows = np.concatenate(parts)
        n = ds.shape[0]
        with self._guard(f"write {name}"):
            ds.resize(n + len(rows), axis=0)
            ds[n:] = rows

    def rows(self, ds: h5py.Dataset) -> int:
        """Rows appended to a series so far, written or still buffered."""
        pending = self._pending.get(ds.name)
        return ds.shape[0] + (pending[2] if pending else 0)

    def write_rows(self, name: str, rows: np.ndarray) -> None:
        """Append rows to the series at path ``name`` (seeding a resumed run)."""
        self.append(self.file[name], rows)

    def positions(self) -> dict[str, int]:
        """Rows of every appendable series (``rows/<dataset path>``): where a resumed run
        takes over."""
        out = {}

        def visit(name: str, obj) -> None:
            if isinstance(obj, h5py.Dataset) and obj.maxshape[0] is None:
                out[f"rows/{name}"] = self.rows(obj)

        self.file.visititems(visit)
        return out

    def log(self, entry: LogEntry) -> None:
        """One row of the log of perturbations, stimuli, checkpoints and resumes."""
        self.append(self._log, np.array([entry.row()], dtype=_LOG_DTYPE))

    def _write_pending(self) -> None:
        for name in list(self._pending):
            self._write(name)

    def flush(self) -> None:
        self._write_pending()
        with self._guard("flush"):
            self.file.flush()

    def close(self, complete: bool, attrs: dict | None = None) -> None:
        """Write what is pending, mark the file complete or not, close it. After a write
        error, closing still releases the file (what was flushed stays readable)."""
        if not self.file:
            return
        try:
            if self.failed:
                return
            self._write_pending()
            for key, value in (attrs or {}).items():
                self.file.attrs[key] = value
            self.file.attrs["complete"] = bool(complete)
        finally:
            # the disk may refuse even the close; the SWMR file stays readable
            with suppress(OSError, RuntimeError):
                self.file.close()
