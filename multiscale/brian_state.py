"""Capture and restore the run-time state of Brian2 objects as a flat ``{path: array}`` dict.

Why not ``Network.store``: it pickles (not HDF5), needs the ``Network`` (the co-simulation
owns it, with its exchange operation), and its spike-queue state differs between the numpy
and the cython target. This module captures what ``Network.store`` captures, per object:

- every array variable an object owns (``Group._full_state``): state variables, the
  spike space, refractoriness, synapse indices and delays, monitor buffers (dynamic arrays
  with their current size), clock-independent;
- the spikes in flight in every ``SynapticPathway`` queue, in one form for both targets
  (relative delivery step and synapse index, in delivery order), so a snapshot taken with
  one code-generation target restores into the other;
- Brian2's random state (numpy's global stream and the device's rand/randn buffers),
  which any ``rand()``/``randn()``/``xi`` evaluated during a run draws from.

Clocks are not restored: ``Network.run`` sets every clock from ``Network.t_`` at its start,
so the caller sets the new network's ``t_`` to the snapshot time (``set_network_time``).

Paths: ``brian/<object>/<variable>`` (``digest/...`` for constants left out),
``queue/<pathway>/<field>``, ``random/<field>``.
"""

from __future__ import annotations

import ctypes
import hashlib

import brian2 as b2
import numpy as np
from brian2.codegen.generators.cython_generator import _BUFFER_SIZE
from brian2.core.network import _get_all_objects
from brian2.core.variables import ArrayVariable, DynamicArrayVariable
from brian2.synapses.spikequeue import SpikeQueue as NumpySpikeQueue
from brian2.synapses.synapses import SynapticPathway

__all__ = [
    "capture_objects",
    "object_names",
    "capture_random",
    "restore_objects",
    "restore_random",
    "set_network_time",
]

State = dict[str, np.ndarray | str | float | int]


def _stateful(objects: list) -> dict[str, object]:
    """Every object (contained ones included) with run-time state, by unique name."""
    found = {}
    for obj in _get_all_objects(objects):
        # a Subgroup's values live in its parent group; its own name is numbered per
        # process, so it would not match between the run saved and the one restored
        if hasattr(obj, "_full_state") and not isinstance(obj, b2.Subgroup):
            found[obj.name] = obj
    return found


def object_names(objects: list) -> set[str]:
    """The names under which ``capture_objects`` stores ``objects``' state."""
    return set(_stateful(objects))


def capture_objects(objects: list, *, constants: bool = True) -> State:
    """Copies of the variables and queued spikes of ``objects`` and everything they contain.

    constants: store the variables Brian2 declares constant (connectivity, fixed weights,
    per-cell constants), most of a large circuit's snapshot. If False, store a digest of
    each instead: the circuit restored into must be built identically (same seed), and
    ``restore_objects`` checks that it is."""
    state: State = {}
    for name, obj in sorted(_stateful(objects).items()):
        full = obj._full_state()
        queue = full.pop("_spikequeue", None)
        for var, (values, _size) in full.items():
            if not constants and obj.variables[var].constant:
                state[f"digest/{name}/{var}"] = _digest(values)
            else:
                state[f"brian/{name}/{var}"] = values  # a copy already
        if isinstance(obj, SynapticPathway):
            state.update({f"queue/{name}/{k}": v for k, v in _queue_state(obj, queue).items()})
    return state


def restore_objects(objects: list, state: State) -> None:
    """Write a ``capture_objects`` snapshot into objects of the same names and structure
    (built the same way); raises if the two sets of objects differ."""
    objs = _stateful(objects)
    stored = {key.split("/")[1] for key in state if key.startswith(("brian/", "queue/", "digest/"))}
    expected = {name for name, obj in objs.items() if _has_state(obj)}
    if stored != expected:
        raise KeyError(
            "snapshot does not match the objects: not in the snapshot "
            f"{sorted(expected - stored)}, not among the objects {sorted(stored - expected)}"
        )
    by_object: dict[str, dict[str, dict]] = {}
    for key, value in state.items():
        kind, _, rest = key.partition("/")
        if kind in ("brian", "queue", "digest"):
            name, _, field = rest.partition("/")
            by_object.setdefault(name, {}).setdefault(kind, {})[field] = value
    for name, obj in objs.items():
        parts = by_object.get(name, {})
        for var_name, values in parts.get("brian", {}).items():
            var = obj.variables[var_name]
            values = np.asarray(values)
            if isinstance(var, DynamicArrayVariable):
                var.resize(values.shape if values.ndim > 1 else len(values))
            elif var.get_value().shape != values.shape:
                raise ValueError(
                    f"{name}.{var_name}: snapshot shape {values.shape}, "
                    f"object shape {var.get_value().shape}: built differently"
                )
            var.set_value(values)
        for var_name, digest in parts.get("digest", {}).items():
            if _digest(obj.variables[var_name].get_value()) != _text(digest):
                raise ValueError(
                    f"{name}.{var_name} differs from the snapshot's (stored as a digest): "
                    "the circuit was not built as the one saved (seed, parameters)"
                )
        if isinstance(obj, SynapticPathway):
            _restore_queue(obj, parts["queue"])


def _digest(values: np.ndarray) -> str:
    values = np.ascontiguousarray(values)
    h = hashlib.blake2b(values.tobytes(), digest_size=16).hexdigest()
    return f"{values.dtype.str}{list(values.shape)}:{h}"


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _has_state(obj) -> bool:
    """Whether ``capture_objects`` stores anything for obj (without copying its arrays)."""
    if isinstance(obj, SynapticPathway):
        return True
    return any(
        isinstance(v, ArrayVariable) and v.owner is not None and v.owner.name == obj.name
        for v in obj.variables.values()
    )


def _queue_state(pathway: SynapticPathway, queue) -> State:
    """Spikes in flight as (steps from now until delivery, synapse index), in delivery
    order, whatever the target's queue."""
    if queue is None:  # never run: nothing in flight
        return {"rows": 0, "delay": np.zeros(0, np.int64), "synapse": np.zeros(0, np.int32)}
    if isinstance(pathway.queue, NumpySpikeQueue):
        _dt, spikes, shape = queue
        spikes = np.asarray(spikes, dtype=np.int64).reshape(-1, 2)
        rows = int(shape[0])
        order = np.argsort(spikes[:, 0], kind="stable")
        delay, synapse = spikes[order, 0], spikes[order, 1].astype(np.int32)
    else:  # cython: (offset, one list of synapse indices per step of the ring)
        offset, ring = queue
        rows = len(ring)
        delays, synapses = [], []
        for d in range(rows):
            row = ring[(offset + d) % rows]
            delays.append(np.full(len(row), d, np.int64))
            synapses.append(np.asarray(row, dtype=np.int32))
        delay = np.concatenate(delays) if delays else np.zeros(0, np.int64)
        synapse = np.concatenate(synapses) if synapses else np.zeros(0, np.int32)
    return {"rows": rows, "delay": delay, "synapse": synapse}


def _restore_queue(pathway: SynapticPathway, q: dict) -> None:
    if pathway.queue is None:  # a network that has not run yet: Brian2 makes it at run
        pathway.queue = b2.get_device().spike_queue(pathway.source.start, pathway.source.stop)
    rows = int(q["rows"])
    delay = np.asarray(q["delay"], dtype=np.int64)
    synapse = np.asarray(q["synapse"], dtype=np.int32)
    if rows == 0:
        pathway.queue._restore_from_full_state(None)
        return
    if isinstance(pathway.queue, NumpySpikeQueue):
        width = max(1, int(np.bincount(delay, minlength=1).max()) if len(delay) else 1)
        spikes = np.stack([delay, synapse.astype(np.int64)], axis=1)
        pathway.queue._restore_from_full_state((pathway.source.clock.dt_, spikes, (rows, width)))
    else:
        ring = [[] for _ in range(rows)]
        for d, s in zip(delay.tolist(), synapse.tolist(), strict=True):
            ring[d].append(s)
        pathway.queue._restore_from_full_state((0, ring))


def capture_random() -> State:
    """Brian2's random state: numpy's global MT19937 stream (which ``b2.seed`` seeds and
    run-time ``rand()``/``randn()`` draw from) and, on the cython target, the contents of
    the buffers of 20000 numbers those functions read from and the position in them.
    (``Device.get_random_state`` keeps the buffers' addresses, which mean nothing in
    another process, so the numbers themselves are copied.)"""
    dev = b2.get_device()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: State = {
        "random/numpy_name": str(name),
        "random/numpy_keys": np.array(keys, dtype=np.uint32),
        "random/numpy_pos": int(pos),
        "random/numpy_has_gauss": int(has_gauss),
        "random/numpy_cached_gaussian": float(cached),
    }
    for kind in ("rand", "randn"):
        pointer = getattr(dev, f"{kind}_buffer", None)
        if pointer is None:  # not a runtime device
            continue
        index = int(getattr(dev, f"{kind}_buffer_index")[0])
        state[f"random/{kind}_index"] = index
        address = int(pointer[0])
        if address and index:  # index 0: the next draw refills the buffer from numpy
            buf = (ctypes.c_double * _BUFFER_SIZE).from_address(address)
            state[f"random/{kind}_buffer"] = np.ctypeslib.as_array(buf).copy()
    return state


def restore_random(state: State) -> None:
    """Restore ``capture_random`` (numpy's global stream included)."""
    name = state["random/numpy_name"]
    name = name.decode() if isinstance(name, bytes) else str(name)
    np.random.set_state(
        (
            name,
            np.asarray(state["random/numpy_keys"], dtype=np.uint32),
            int(state["random/numpy_pos"]),
            int(state["random/numpy_has_gauss"]),
            float(state["random/numpy_cached_gaussian"]),
        )
    )
    dev = b2.get_device()
    for kind in ("rand", "randn"):
        if f"random/{kind}_index" not in state or getattr(dev, f"{kind}_buffer", None) is None:
            continue
        pointer = getattr(dev, f"{kind}_buffer")
        values = state.get(f"random/{kind}_buffer")
        if values is not None:
            if not pointer[0]:  # the generated code frees it with free(): malloc it
                libc = ctypes.CDLL(None)
                libc.malloc.restype = ctypes.c_void_p
                address = libc.malloc(_BUFFER_SIZE * ctypes.sizeof(ctypes.c_double))
                if not address:
                    raise MemoryError("no memory for Brian2's random buffer")
                pointer[0] = address
            buf = (ctypes.c_double * _BUFFER_SIZE).from_address(int(pointer[0]))
            np.ctypeslib.as_array(buf)[:] = np.asarray(values, dtype=float)
        getattr(dev, f"{kind}_buffer_index")[0] = int(state[f"random/{kind}_index"])


def set_network_time(network: b2.Network, t_s: float) -> None:
    """Make ``network`` continue at ``t_s`` (seconds): its next ``run`` starts every clock
    there, as a run that had stopped at ``t_s`` would."""
    network.t_ = float(t_s)
