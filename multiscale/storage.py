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
    /perturbations        one row per change applied: time (ms), name, what

``complete`` is False until the run has finished and everything was flushed, so a file
left by a crashed or interrupted run never looks complete.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

import h5py
import numpy as np

_CHUNK_ROWS = 4096
_BUFFER_ROWS = 16384  # rows a series holds in memory before it writes them


def versions() -> dict[str, str]:
    """Versions of the packages a result depends on."""
    out = {"python": platform.python_version()}
    for pkg in ("multiscale", "brian2", "numpy", "numba", "scipy", "h5py", "networkx", "mpi4py"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


class Store:
    """An HDF5 file being written by one process."""

    def __init__(self, path: str | Path, attrs: dict) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = h5py.File(self.path, "w")
        self.file.attrs["complete"] = False
        self.file.attrs["versions"] = json.dumps(versions())
        for key, value in attrs.items():
            self.file.attrs[key] = value
        self._log = []
        self._pending: dict[str, list] = {}  # name -> [dataset, row blocks, row count]

    def create_series(
        self,
        name: str,
        width: int | None,
        unit: str,
        attrs: dict | None = None,
        dtype: str = "f8",
    ) -> h5py.Dataset:
        """An appendable dataset of rows (samples, width) or (samples,) if width is None."""
        shape = (0,) if width is None else (0, width)
        maxshape = (None,) if width is None else (None, width)
        chunks = (_CHUNK_ROWS,) if width is None else (max(1, _CHUNK_ROWS // max(width, 1)), width)
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

    def append(self, ds: h5py.Dataset, rows: np.ndarray) -> None:
        """Append rows to a series. Rows are buffered and written in blocks (one HDF5 write
        per series per flush, not per window: h5py costs ~0.1 ms a call); a series writes
        itself once it holds _BUFFER_ROWS rows, so memory stays bounded whoever flushes."""
        if len(rows) == 0:
            return
        entry = self._pending.setdefault(ds.name, [ds, [], 0])
        entry[1].append(np.array(rows, copy=True))  # callers may reuse their buffers
        entry[2] += len(rows)
        if entry[2] >= _BUFFER_ROWS:
            self._write(ds.name)

    def _write(self, name: str) -> None:
        ds, parts, _ = self._pending.pop(name)
        rows = np.concatenate(parts)
        n = ds.shape[0]
        ds.resize(n + len(rows), axis=0)
        ds[n:] = rows

    def log_perturbation(self, time_ms: float, name: str, what: str) -> None:
        self._log.append((time_ms, name, what))

    def _write_pending(self) -> None:
        for name in list(self._pending):
            self._write(name)

    def flush(self) -> None:
        self._write_pending()
        self.file.flush()

    def close(self, complete: bool) -> None:
        if not self.file:
            return
        self._write_pending()
        if self._log:
            dt = np.dtype(
                [("time", "f8"), ("name", h5py.string_dtype()), ("what", h5py.string_dtype())]
            )
            ds = self.file.create_dataset("perturbations", data=np.array(self._log, dtype=dt))
            ds.attrs["unit"] = "time: ms"
        self.file.attrs["complete"] = bool(complete)
        self.file.close()
