"""Parameter sweeps: one experiment, several variants, one output each, a summary table.

Variants come from ``--set path=v1,v2,...`` on the command line (or a ``sweep:`` mapping of
field paths to value lists in the experiment file); several paths give their product.
Every variant is validated before the first one runs. Variants run in parallel: over MPI
ranks when launched with mpirun (each variant on one rank, single-process), else over
``jobs`` local processes. Random streams derive from the experiment's seed, so two
variants differ only by what was swept.

Outputs: ``<dir>/<variant>.h5`` per variant, ``<dir>/measures.csv`` (the experiment's
declared measures per variant, with their ratio to a control variant),
``<dir>/summary.csv`` (band powers of the EEG per sensor group, of the region signals per
region group, circuit rates, and the mean rate and band powers of every circuit
population's activity, ``spikes:<circuit>:<pop>``, e.g. the beta power of GPi in a
Parkinson's study), ``<dir>/comparison.png`` and, for EEG and MEG,
``<dir>/sweep_<kind>_topomap.png`` (band powers per variant on the scalp, and their ratio
to the reference variant in dB).
"""

from __future__ import annotations

import csv
import itertools
import os
import re
import signal
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from multiscale.analysis import (
    BANDS_HZ,
    Rows,
    band_power,
    mean_of,
    near_far_channels,
    power_spectrum,
    sensor_positions,
)
from multiscale.config import ConfigError, load_experiment
from multiscale.measures import SPIKE_BLOCK
from multiscale.outputs import check_outputs
from multiscale.sensor_figures import sweep_topomaps
from multiscale.yaml_safe import YamlError, load_file, loads


def parse_sets(pairs: list[str]) -> dict[str, list]:
    """``["a.b=1,2", "c=x"]`` -> {"a.b": [1, 2], "c": ["x"]} (values read as YAML)."""
    out = {}
    for pair in pairs or []:
        key, eq, values = pair.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set {pair}: got {pair!r}; expected PATH=V1,V2,...")
        try:
            out[key.strip()] = [loads(v) for v in _split(values)]
        except YamlError as err:
            raise ConfigError(f"--set {pair}: got the values {values!r}; {err}") from err
    return out


def _split(values: str) -> list[str]:
    """Split on commas outside brackets and braces ("{a: 1, b: 2},[1, 2]" -> two items)."""
    parts, depth, cur = [], 0, ""
    for ch in values:
        depth += ch in "[{"
        depth -= ch in "]}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def variants(path: str | Path, sets: dict[str, list]) -> list[tuple[str, dict]]:
    """(label, overrides) for every combination; the file's own ``sweep:`` first.

    ``sweep.conditions`` (file only) names sets of fields that change together, e.g.
    ``{healthy: {circuits.0.parameters.parkinsonian: 0, stimuli: []}, dbs130: {...}}``:
    one axis whose values are those sets, labelled by their names."""
    try:
        data = load_file(Path(path))[0] or {}
    except (OSError, YamlError) as err:
        raise ConfigError(f"{path}: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("sweep") or {}, dict):
        raise ConfigError(f"{path}: sweep: expected a mapping of field paths to lists of values")
    axes = dict(data.get("sweep") or {})
    conditions = axes.pop("conditions", None) or {}
    axes.pop("reference", None)
    axes.update(sets)
    if not axes and not conditions:
        raise ConfigError(f"{path}: nothing to sweep: give --set path=v1,v2 or a 'sweep:' section")
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{path}: sweep.{key}: expected a non-empty list of values")
    if not isinstance(conditions, dict) or not all(
        isinstance(c, dict) for c in conditions.values()
    ):
        raise ConfigError(
            f"{path}: sweep.conditions: expected a mapping of names to mappings of field paths"
        )
    named = list(conditions.items()) or [("", {})]
    out = []
    for cond_name, cond in named:
        for combo in itertools.product(*axes.values()):
            overrides = {**cond, **dict(zip(axes, combo, strict=True))}
            parts = [cond_name] if cond_name else []
            parts += [f"{k.split('.')[-1]}={_short(v)}" for k, v in zip(axes, combo, strict=True)]
            out.append((re.sub(r"[^A-Za-z0-9_.=+-]", "_", "__".join(parts)), overrides))
    return out


def _short(v) -> str:
    return str(v).replace(" ", "")


@dataclass
class SweepResult:
    """Where the summary went (None if no variant completed), and the variants that did
    not complete, with why."""

    summary: Path | None
    failed: dict[str, str]


def run_sweep(
    path: str | Path,
    sets: dict[str, list],
    out_dir: str | Path | None = None,
    jobs: int = 1,
    comm=None,
    *,
    overwrite: bool = False,
) -> SweepResult:
    """Validate and run every variant, then summarise the completed ones (on rank 0). An
    existing variant output is an error unless ``overwrite``; a variant that fails does
    not stop the others; a stop signal stops the sweep after the variant it hit."""
    path = Path(path)
    todo = variants(path, sets)
    name = load_experiment(path).name
    out_dir = Path(out_dir or Path("results") / f"{name}_sweep").resolve()
    jobs_list = []
    for label, overrides in todo:  # validate all before running any
        overrides = {**overrides, "output.path": str(out_dir / f"{label}.h5")}
        load_experiment(path, overrides)
        jobs_list.append((str(path), label, overrides))
    outputs = [out_dir / f"{label}.h5" for _, label, _ in jobs_list]
    check_outputs(outputs, overwrite=overwrite, protect=(path,), comm=comm)
    out_dir.mkdir(parents=True, exist_ok=True)
    if comm is not None and comm.Get_size() > 1:
        rank, size = comm.Get_rank(), comm.Get_size()
        mine = _run_all(jobs_list[rank::size])
        gathered = comm.gather(mine, root=0)
        if rank != 0:
            return SweepResult(None, {})
        statuses = {k: v for part in gathered for k, v in part.items()}
    elif jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            statuses = dict(pool.map(_run_one, jobs_list))
    else:
        statuses = _run_all(jobs_list)
    failed = {label: why for label, why in statuses.items() if why != "done"}
    files = [(label, out_dir / f"{label}.h5") for _, label, _ in jobs_list if label not in failed]
    if not files:
        return SweepResult(None, failed)
    summary = out_dir / "summary.csv"
    reference = reference_variant([label for label, _ in files], named_reference(path))
    write_summary(files, summary)
    write_measures(files, out_dir / "measures.csv", reference)
    comparison_figure(files, out_dir / "comparison.png")
    sweep_topomaps(files, reference, out_dir)
    return SweepResult(summary, failed)


def _run_all(jobs_list: list) -> dict[str, str]:
    statuses = {}
    for job in jobs_list:
        label, status = _run_one(job)
        statuses[label] = status
        if status.startswith("stopped"):
            break  # the user asked to stop: no further variants
    return statuses


def _run_one(job) -> tuple[str, str]:
    """Run one variant; its label and "done", or why not."""
    from multiscale.cosim import Simulation
    from multiscale.storage import WriteError

    path, label, overrides = job
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    exp = load_experiment(path, overrides)
    sim = Simulation(exp.plan, progress=False)
    try:
        ok = sim.run()
    except (FloatingPointError, WriteError) as err:  # this variant's own failure
        status = f"failed: {err}"
    else:
        if sim.interrupted is not None:
            status = f"stopped by {signal.Signals(sim.interrupted).name}"
        else:
            status = "done" if ok else "failed"
    where = exp.output.path if status == "done" else sim.files.partial
    print(f"variant {label}: {status} -> {where}", flush=True)
    return label, status


def band_table(file: Path, skip_ms: float = 500.0) -> list[dict]:
    """Rows of (group, band, absolute power, relative power) for one output: the EEG
    averaged over all sensors, over the sensors near and far from each circuit's region;
    the region signal averaged over all regions and for each circuit's region."""
    rows = []
    with h5py.File(file) as f:
        skip_ms = min(skip_ms, 0.2 * float(f.attrs["duration_ms"]))
        groups = {}
        if "eeg" in f:
            eeg = f["eeg/data"]  # read a chunk at a time (analysis.Rows)
            fs = eeg.attrs["sampling_rate"]
            groups["eeg:all"] = (Rows(eeg), fs)
            positions = sensor_positions(f, "eeg")
            centres = f["connectome/centres"][:] if "connectome/centres" in f else None
            for name in f.get("circuits", {}):
                r = int(f[f"circuits/{name}"].attrs["region_index"])
                near, far = near_far_channels(positions, centres, r, f["eeg/gain"][:])
                groups[f"eeg:near_{name}"] = (Rows(eeg, cols=near), fs)
                groups[f"eeg:far_{name}"] = (Rows(eeg, cols=far), fs)
        reg = f["regions/data"]
        fs_r = reg.attrs["sampling_rate"]
        groups["regions:all"] = (Rows(reg), fs_r)
        for name in f.get("circuits", {}):
            r = int(f[f"circuits/{name}"].attrs["region_index"])
            groups[f"regions:{name}"] = (Rows(reg, cols=[r]), fs_r)
            rate = f[f"circuits/{name}/rate"]
            s = int(skip_ms * rate.attrs["sampling_rate"] / 1000)
            rows.append(
                {
                    "group": f"rate:{name}",
                    "band": "mean",
                    "power": mean_of(Rows(rate)[s:]),
                    "relative": float("nan"),
                }
            )
            # each population's activity: spikes in 1 ms bins as a rate per cell (Hz)
            duration_ms = float(f.attrs["duration_ms"])
            for pop, g in f[f"circuits/{name}"].get("spikes", {}).items():
                edges = np.arange(0.0, duration_ms + 0.5, 1.0)
                block = SPIKE_BLOCK
                counts = sum(  # integer counts: the same read in chunks
                    np.histogram(g["times"][a : a + block], bins=edges)[0]
                    for a in range(0, max(len(g["times"]), 1), block)
                )
                activity = counts / (int(g.attrs.get("n_cells", 1)) * 1e-3)
                groups[f"spikes:{name}:{pop}"] = (Rows(activity[:, None]), 1000.0)
        for group, (x, fs) in groups.items():
            s = int(skip_ms * fs / 1000)
            fr, P = power_spectrum(x[s:], fs, resolution_hz=1.0)
            P = P.mean(axis=1)
            total = band_power(fr, P, (1.0, 80.0))
            for band, lims in BANDS_HZ.items():
                bp = float(band_power(fr, P, lims))
                rel = bp / total if total > 0 else float("nan")
                rows.append({"group": group, "band": band, "power": bp, "relative": rel})
            if group.startswith("spikes:"):
                rows.append(
                    {
                        "group": group,
                        "band": "mean",
                        "power": mean_of(x[s:]),
                        "relative": float("nan"),
                    }
                )
            m = (fr >= 1) & (fr <= 40)
            rows.append(
                {
                    "group": group,
                    "band": "peak_hz",
                    "power": float(fr[m][P[m].argmax()]),
                    "relative": float("nan"),
                }
            )
    return rows


def write_summary(files: list[tuple[str, Path]], out: Path) -> None:
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["variant", "group", "band", "power", "relative"])
        w.writeheader()
        for label, file in files:
            for row in band_table(file):
                w.writerow({"variant": label, **row})


def reference_variant(labels: list[str], named: str | None = None) -> str:
    """The variant others are compared with: the first of the condition ``named``
    (``sweep.reference``) if given, else one whose label names a control condition, else
    the first."""
    if named is not None:
        mine = [lab for lab in labels if lab == named or lab.startswith(f"{named}__")]
        if mine:
            return mine[0]
    return next((lab for lab in labels if "control" in re.split(r"[_=,-]+", lab)), labels[0])


def named_reference(path: str | Path) -> str | None:
    """The file's ``sweep.reference`` (a condition's name), if it gives one."""
    data = load_file(Path(path))[0] or {}
    sweep = data.get("sweep") if isinstance(data, dict) else None
    return sweep.get("reference") if isinstance(sweep, dict) else None


def write_measures(
    files: list[tuple[str, Path]], out: Path, reference: str | None = None
) -> list[dict]:
    """``measures.csv``: each variant's declared measures (their /measures rows) and each
    value's ratio to the ``reference`` variant's (default: ``reference_variant``). Nothing
    is written when the experiment declares no measures. The rows, as written."""
    from multiscale import measures

    values = {}
    for label, file in files:
        with h5py.File(file) as f:
            values[label] = {m.name: m for m in measures.read(f)}
    if not any(values.values()):
        return []
    ref = reference or reference_variant([label for label, _ in files])
    rows = []
    for label, measured in values.items():
        for name, m in measured.items():
            base = values[ref].get(name)
            ratio = m.value / base.value if base is not None and base.value != 0 else np.nan
            rows.append({"variant": label, "measure": name, "value": m.value, "unit": m.unit,
                         f"ratio_to_{ref}": ratio, "what": m.what})  # fmt: skip
    with open(out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return rows


def comparison_figure(files: list[tuple[str, Path]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    bands = list(BANDS_HZ)
    width = 0.8 / max(len(files), 1)
    units = set()
    for k, (label, file) in enumerate(files):
        with h5py.File(file) as f:
            key = "eeg/data" if "eeg" in f else "regions/data"
            fs = f[key].attrs["sampling_rate"]
            unit = f[key].attrs.get("unit", "")
            units.add(unit.decode() if isinstance(unit, bytes) else str(unit))
            skip = int(min(500.0, 0.2 * float(f.attrs["duration_ms"])) * fs / 1000)
            fr, P = power_spectrum(Rows(f[key])[skip:], fs, resolution_hz=1.0)
        P = P.mean(axis=1)
        m = (fr >= 1) & (fr <= 80)
        a1.semilogy(fr[m], P[m], label=label)
        total = band_power(fr, P, (1.0, 80.0))
        rel = [band_power(fr, P, BANDS_HZ[b]) / total for b in bands]
        a2.bar(np.arange(len(bands)) + k * width, rel, width, label=label)
    a1.set_xlabel("frequency (Hz)")
    unit = units.pop() if len(units) == 1 else ""
    unit = f"({unit})²" if "/" in unit or " " in unit else f"{unit}²"
    a1.set_ylabel("mean power spectral density" + (f" ({unit}/Hz)" if unit != "²" else ""))
    a1.legend(fontsize=7)
    a2.set_xticks(np.arange(len(bands)) + 0.4 - width / 2, bands)
    a2.set_ylabel("relative band power")
    fig.suptitle("sweep: EEG (or region) spectra per variant")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
