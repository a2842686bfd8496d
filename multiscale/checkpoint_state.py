"""Write a snapshot (``Engine.get_state``, ``Circuit.get_state``: a flat dict of numpy
arrays, numbers and strings keyed by ``/``-separated paths) into an HDF5 group and read it
back unchanged, dtype and shape included, so a restored run continues to the bit.

Each path becomes a dataset under the group (the path's folders become subgroups); strings
(JSON of random-generator states, knobs) are variable-length UTF-8 scalars. Arrays above
``min_compress_bytes`` are stored with lzf compression: drive tables and monitor buffers
are mostly zeros, and lzf costs little time.
"""

from __future__ import annotations

import h5py
import numpy as np

__all__ = ["load_state", "save_state", "substate"]

Value = np.ndarray | str | bytes | float | int | bool


def save_state(
    group: h5py.Group,
    state: dict[str, Value],
    *,
    compression: str | None = "lzf",
    min_compress_bytes: int = 1 << 16,
) -> int:
    """Write ``state`` under ``group``; returns the number of bytes of data written
    (before compression)."""
    total = 0
    for path, value in state.items():
        if path in group:
            del group[path]
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, str):
            group.create_dataset(path, data=value, dtype=h5py.string_dtype())
            total += len(value)
            continue
        array = np.asarray(value)
        if array.dtype == object:
            raise TypeError(f"{path}: cannot store an object array in HDF5")
        big = array.ndim > 0 and array.nbytes >= min_compress_bytes
        group.create_dataset(
            path,
            data=array,
            compression=compression if big else None,
            chunks=True if big and compression else None,
        )
        group[path].attrs["python_scalar"] = _scalar_kind(value)
        total += array.nbytes
    return total


def load_state(group: h5py.Group) -> dict[str, Value]:
    """Read back what ``save_state`` wrote: numpy arrays, Python scalars where a Python
    scalar was stored, str for strings."""
    state: dict[str, Value] = {}

    def visit(path: str, obj) -> None:
        if not isinstance(obj, h5py.Dataset):
            return
        if h5py.check_string_dtype(obj.dtype) is not None:
            state[path] = obj.asstr()[()]
            return
        value = obj[()]
        kind = obj.attrs.get("python_scalar", "")
        if kind:
            value = {"int": int, "float": float, "bool": bool}[kind](value)
        state[path] = value

    group.visititems(visit)
    return state


def substate(state: dict[str, Value], prefix: str) -> dict[str, Value]:
    """The entries of ``state`` under ``prefix`` (e.g. "engine/"), with the prefix removed:
    one holder's part of a combined snapshot."""
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


def _scalar_kind(value: Value) -> str:
    """Which Python scalar type to give back (empty for numpy values)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return ""
