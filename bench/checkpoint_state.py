"""How big and how slow a circuit snapshot is: ei_network at its default size and
potjans_diesmann at scale 0.1 (its default), cython target, compiled beforehand.

    python bench/checkpoint_state.py            # ~1-2 min once compiled

Each circuit is built and run for 100 ms as the co-simulation runs it (one Brian2 run, the
drive drawn and the outputs collected every 10 ms window); then, 3 times: the snapshot is
taken and written to a new HDF5 file (``Circuit.get_state`` + ``save_state``: "save"), and
read back into a second build of the same circuit (``load_state`` + ``Circuit.set_state``:
"load"), with every variable and without Brian2's constants (connectivity, fixed weights:
a digest of each instead). Prints the file size, the size of the arrays before
compression and the largest parts, the minimum and median save and load times, and the
load average of the machine (other work on a shared machine slows everything).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WINDOW_MS = 10.0
RUN_MS = 100.0
REPEATS = 3
CASES = [("ei_network", {}), ("potjans_diesmann", {"scale_N": 0.1, "scale_K": 0.1})]


def build(model: str, params: dict):
    import brian2 as b2

    from multiscale.circuits import CIRCUITS

    b2.start_scope()
    b2.defaultclock.dt = 0.1 * b2.ms
    b2.seed(1)
    return CIRCUITS[model](
        "bench", params, resolution_ms=1.0, window_ms=WINDOW_MS, rng=np.random.default_rng(1)
    )


def run(circuit, duration_ms: float):
    """Windowed run from t = 0, returns the network (its next run would continue)."""
    import brian2 as b2

    bins = int(WINDOW_MS)
    window = [0]

    @b2.network_operation(dt=WINDOW_MS * b2.ms, when="start")
    def exchange():
        k = window[0]
        if k:
            circuit.collect_window((k - 1) * WINDOW_MS, bins)
        circuit.set_input_window(np.full(bins, 2.0), k * WINDOW_MS)
        window[0] += 1

    net = b2.Network(*circuit.network_objects(), exchange)
    net.run(duration_ms * b2.ms)
    return net


def groups(state: dict) -> dict[str, int]:
    """Bytes per kind of entry (object for Brian2 variables), largest first."""
    sizes: dict[str, int] = {}
    for key, value in state.items():
        parts = key.split("/")
        kind = "/".join(parts[:2]) if parts[0] in ("brian", "queue", "arrays") else parts[0]
        sizes[kind] = sizes.get(kind, 0) + (
            np.asarray(value).nbytes if not isinstance(value, str) else len(value)
        )
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def measure(model: str, params: dict, folder: Path) -> None:

    t0 = time.perf_counter()
    a = build(model, params)
    run(a, RUN_MS)
    n_cells = sum(len(g) for g in a.populations.values())
    took = time.perf_counter() - t0
    print(
        f"{model} {params or '(defaults)'}: {n_cells} cells, built and ran 100 ms in {took:.1f} s"
    )
    for constants in (True, False):
        print(f"  constants={constants}" + ("" if constants else " (digests, same-seed rebuild)"))
        snapshot(a, model, params, folder, constants)


def snapshot(a, model: str, params: dict, folder: Path, constants: bool) -> None:
    import brian2 as b2

    from multiscale.checkpoint_state import load_state, save_state

    save_s, load_s, raw, size = [], [], 0, 0
    for r in range(REPEATS):
        path = folder / f"{model}_{r}_{constants}.h5"
        t = time.perf_counter()
        state = a.get_state(constants=constants)
        with h5py.File(path, "w") as f:
            raw = save_state(f.create_group("circuit"), state)
        save_s.append(time.perf_counter() - t)
        size = path.stat().st_size
        b = build(model, params)
        net = b2.Network(*b.network_objects())
        t = time.perf_counter()
        with h5py.File(path, "r") as f:
            b.set_state(load_state(f["circuit"]), network=net)
        load_s.append(time.perf_counter() - t)
        del b, net
    print(f"    file {size / 1e6:.2f} MB (arrays {raw / 1e6:.2f} MB before lzf); largest parts:")
    for kind, n in list(groups(state).items())[:4]:
        print(f"      {kind:38s} {n / 1e6:8.2f} MB")
    for what, times in (("save (get_state + HDF5)", save_s), ("load (HDF5 + set_state)", load_s)):
        print(f"    {what}: min {min(times):.3f} s, median {statistics.median(times):.3f} s")


def main() -> None:
    import brian2 as b2

    b2.prefs.codegen.target = "cython"
    # the restored builds are never run: Brian2 would warn about each of their objects
    b2.BrianLogger.suppress_name("unused_brian_object")
    with tempfile.TemporaryDirectory() as tmp:
        for model, params in CASES:
            measure(model, params, Path(tmp))
    print("load average (1, 5, 15 min):", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
