"""A run's output read from Python: typed, decoded, and lazy.

A :class:`Result` holds the output's path, never an open file: every access opens the
file read-only (in SWMR mode for a file a crashed run left, see ``multiscale.outputs``),
reads what was asked and closes it again. So a Result can be kept, copied to other
processes or opened while the run is still writing, and no handle is left behind; the
cost is an open (about a millisecond) per access, so read series in slices, not sample by
sample. Series are read on demand: ``result.eeg.data[1000:2000]`` or
``result.eeg.read(1.0, 2.0)`` (seconds) read those samples alone.

Strings come back as ``str`` whatever h5py returns (it gives bytes for some attributes),
times of series in seconds, spike and perturbation times in ms (as the file stores them).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

if TYPE_CHECKING:
    import h5py
    import mne
    import xarray

    from multiscale.measures import Measured
    from multiscale.storage import LogEntry


def open(path: str | Path) -> Result:  # noqa: A001 - multiscale.open, as h5py.File
    """The output at ``path`` (complete or not); an OutputError (a ConfigError) if it is
    missing or not an output of multiscale."""
    return Result(path)


@contextmanager
def _reading(path: Path) -> Iterator[h5py.File]:
    from multiscale.outputs import open_output

    f = open_output(path)
    try:
        yield f
    finally:
        f.close()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _decode(value: Any) -> Any:
    """An HDF5 attribute as Python: bytes as str, arrays of strings as lists of str,
    numpy scalars as Python numbers."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "OSU":
            return [_text(v) for v in value.tolist()]
        return value
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class LazyArray:
    """An HDF5 dataset read on demand: indexing reads only what it selects (h5py's
    indexing rules), ``np.asarray`` reads it whole."""

    file: Path
    name: str

    def __getitem__(self, key: Any) -> np.ndarray:
        with _reading(self.file) as f:
            return f[self.name][key]

    @property
    def shape(self) -> tuple[int, ...]:
        with _reading(self.file) as f:
            return tuple(f[self.name].shape)

    @property
    def dtype(self) -> np.dtype:
        with _reading(self.file) as f:
            return f[self.name].dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self[()]
        return data if dtype is None else data.astype(dtype)


@dataclass(frozen=True)
class Series:
    """A recorded signal sampled regularly: samples x columns (or samples).

    data: the samples, read on demand (slice it, or :meth:`read` a time span).
    unit: the unit of the values (the file's ``unit`` attribute).
    sampling_rate: samples per second (Hz); sample k is at k / sampling_rate s.
    labels: names of the columns (EEG channels, region labels); empty for one column.
    what: what the values are, as the file describes them.
    """

    data: LazyArray
    unit: str
    sampling_rate: float
    labels: list[str]
    what: str = ""

    def __repr__(self) -> str:
        shown = ", ".join(self.labels[:4]) + (", ..." if len(self.labels) > 4 else "")
        columns = f": {shown}" if self.labels else ""
        return (
            f"<Series {self.data.name} {self.shape} in {self.unit} at "
            f"{self.sampling_rate:g} Hz{columns}>"
        )

    @property
    def channels(self) -> list[str]:
        """The column names (for EEG: channel names)."""
        return self.labels

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __len__(self) -> int:
        return len(self.data)

    @property
    def times(self) -> np.ndarray:
        """Time of every sample (s)."""
        return np.arange(len(self)) / self.sampling_rate

    def read(self, start: float | None = None, stop: float | None = None) -> np.ndarray:
        """The samples at times in [start, stop) (s; None: from the first, to the last)."""
        i0 = None if start is None else max(0, math.ceil(start * self.sampling_rate - 1e-9))
        i1 = None if stop is None else max(0, math.ceil(stop * self.sampling_rate - 1e-9))
        return self.data[i0:i1]


class Spikes(NamedTuple):
    """Spikes of one population: times (ms) and the index of the cell that fired."""

    times_ms: np.ndarray
    indices: np.ndarray


@dataclass(frozen=True)
class CircuitRecord:
    """What one Brian2 circuit recorded.

    rate: rate of its output population per exchange bin (Hz).
    field: its field-potential proxy per bin (mV).
    populations: population -> number of cells, for those whose spikes were recorded.
    parameters: the circuit's parameters as given in the experiment (their declared units).
    """

    name: str
    model: str
    region: str
    parameters: dict[str, float]
    rate: Series
    field: Series
    populations: dict[str, int]
    file: Path

    def spikes(self, population: str) -> Spikes:
        """Every spike of ``population`` (read now; wherever the rank that ran the circuit
        wrote them: its rank file is linked from the main file)."""
        if population not in self.populations:
            raise KeyError(
                f"circuit {self.name}: no spikes of {population!r} recorded; populations "
                f"with spikes: {sorted(self.populations)} (record.spikes: false records none)"
            )
        base = f"circuits/{self.name}/spikes/{population}"
        with _reading(self.file) as f:
            return Spikes(f[f"{base}/times"][:], f[f"{base}/indices"][:])


def _series(f: h5py.File, name: str, file: Path) -> Series:
    from multiscale.outputs import names

    attrs = f[name].attrs
    labels = names(f[name], "labels")
    if labels is None:
        labels = names(f[name], "channels")
    what = attrs.get("what", attrs.get("observable", ""))
    return Series(
        data=LazyArray(file, name),
        unit=_text(attrs.get("unit", "")),
        sampling_rate=float(attrs["sampling_rate"]),
        labels=[] if labels is None else labels,
        what=_text(what),
    )


class Result:
    """The output of one run (see the module docstring: nothing is held open).

    The ``path`` given is kept as given; ``complete`` is False for a run that did not
    finish (``ended`` says why, ``simulated`` how much it holds).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with _reading(self.path):  # a clear error now for a missing or foreign file
            pass

    def __repr__(self) -> str:
        state = "complete" if self.complete else f"INCOMPLETE ({self.attrs.get('ended', '?')})"
        return f"<multiscale.Result {self.name!r} {state}: {self.path}>"

    # --- what ran ---------------------------------------------------------------------
    @property
    def attrs(self) -> dict[str, Any]:
        """Every root attribute (config, seed, versions, timings...), strings as str."""
        with _reading(self.path) as f:
            return {k: _decode(v) for k, v in f.attrs.items()}

    def _attr(self, key: str, default: Any = None) -> Any:
        with _reading(self.path) as f:
            return _decode(f.attrs[key]) if key in f.attrs else default

    @property
    def complete(self) -> bool:
        return bool(self._attr("complete", False))

    @property
    def ended(self) -> str:
        """How the run ended: ``complete``, ``stopped by SIGTERM``, ``failed: ...``."""
        return self._attr("ended", "complete" if self.complete else "did not finish")

    @property
    def name(self) -> str:
        return str(self._attr("name", self.path.stem))

    @property
    def config(self) -> str:
        """The experiment that ran, as YAML (the file after overrides)."""
        return str(self._attr("config", ""))

    @property
    def seed(self) -> int:
        return int(self._attr("seed"))

    @property
    def duration(self) -> float:
        """Simulated time asked for (s)."""
        return float(self._attr("duration_ms")) / 1000

    @property
    def simulated(self) -> float:
        """Simulated time the file holds (s): ``duration`` for a complete run."""
        from multiscale.report import held_ms

        with _reading(self.path) as f:
            return held_ms(f) / 1000

    # --- series -----------------------------------------------------------------------
    def _optional(self, name: str) -> Series | None:
        with _reading(self.path) as f:
            return _series(f, name, self.path) if name in f else None

    @property
    def eeg(self) -> Series | None:
        """Scalp EEG in uV (samples x channels, average reference); None if not recorded."""
        return self._optional("eeg/data")

    @property
    def meg(self) -> Series | None:
        """MEG in fT (fT/cm for planar gradiometers; samples x channels); None if not
        recorded."""
        return self._optional("meg/data")

    @property
    def seeg(self) -> Series | None:
        """SEEG in uV against infinity (samples x contacts); None if not recorded."""
        return self._optional("seeg/data")

    @property
    def sources(self) -> Series | None:
        """Every region's current dipole moment in nA m (samples x regions); None if not
        recorded."""
        return self._optional("sources/data")

    @property
    def connectome(self):
        """The connectome the run used (``multiscale.connectome.Connectome``: labels,
        sparse weights and tract lengths, centres), read now, from outputs of any
        version (``multiscale.outputs.read_connectome``)."""
        from multiscale.outputs import read_connectome

        with _reading(self.path) as f:
            return read_connectome(f)

    @property
    def regions(self) -> Series:
        """Every region's observable (samples x regions; a circuit's region holds its
        field proxy)."""
        with _reading(self.path) as f:
            return _series(f, "regions/data", self.path)

    @property
    def bold(self) -> Series | None:
        """Fractional BOLD change per TR (TRs x regions); None if not recorded."""
        return self._optional("bold/data")

    @property
    def states(self) -> dict[str, Series]:
        """State variable -> its value at every integration step (steps x regions), for
        the variables ``record.states`` asked for."""
        with _reading(self.path) as f:
            names = list(f["regions/states"]) if "regions/states" in f else []
            return {v: _series(f, f"regions/states/{v}", self.path) for v in names}

    @property
    def circuits(self) -> list[str]:
        """Names of the circuits."""
        with _reading(self.path) as f:
            return list(f.get("circuits", {}))

    def circuit(self, name: str) -> CircuitRecord:
        """What circuit ``name`` recorded; KeyError naming the circuits there are."""
        with _reading(self.path) as f:
            if name not in f.get("circuits", {}):
                raise KeyError(f"{self.path}: no circuit {name!r}; circuits: {self.circuits}")
            g = f[f"circuits/{name}"]
            populations = {}
            if "spikes" in g:
                for pop in g["spikes"]:
                    populations[pop] = int(g[f"spikes/{pop}"].attrs.get("n_cells", 0))
            return CircuitRecord(
                name=name,
                model=_text(g.attrs["model"]),
                region=_text(g.attrs["region"]),
                parameters=json.loads(_text(g.attrs.get("parameters", "{}"))),
                rate=_series(f, f"circuits/{name}/rate", self.path),
                field=_series(f, f"circuits/{name}/field", self.path),
                populations=populations,
                file=self.path,
            )

    @property
    def measures(self) -> dict[str, Measured]:
        """The experiment's declared outcome measures (``measures:``), by name: value, unit
        and what was measured (see `multiscale.measures`)."""
        from multiscale import measures

        with _reading(self.path) as f:
            return {m.name: m for m in measures.read(f)}

    @property
    def perturbations(self) -> list[LogEntry]:
        """Every perturbation, stimulus, checkpoint and resume, when it took effect: time
        (ms), name, event, circuit, regions, quantity, the value(s) it set, and what in
        words (see :class:`multiscale.storage.LogEntry`)."""
        from multiscale.storage import read_log

        with _reading(self.path) as f:
            return read_log(f)

    # --- views and figures ------------------------------------------------------------
    def summary(self) -> str:
        """The text ``multiscale report`` prints (EEG peak and bands, circuit rates,
        perturbation effects)."""
        from multiscale.report import summarize

        return summarize(self.path)

    def plot(self, out_dir: str | Path | None = None) -> list[Path]:
        """Write the figures (EEG traces, spectra, spectrogram, circuit rasters) as PNG
        files into ``out_dir`` (default: the folder next to the output); their paths."""
        from multiscale.report import make_figures

        return make_figures(self.path, out_dir)

    def report(self) -> Path:
        """Write the figures and the self-contained ``report.html`` next to the output,
        as ``multiscale report`` does; the page's path."""
        from multiscale.report import publish

        publish(self.path, True)
        return self.path.with_suffix("") / "report.html"

    def to_xarray(self) -> xarray.Dataset:
        """Every series (not spikes) in one xarray Dataset, read into memory, units and
        sampling rates in each variable's attrs, the run's name, seed and config in the
        Dataset's. Needs xarray (``pip install 'multiscale[xarray]'``)."""
        try:
            import xarray as xr
        except ImportError:
            raise ImportError(
                "Result.to_xarray needs xarray, an optional dependency: "
                "pip install 'multiscale[xarray]' (or pip install xarray)"
            ) from None
        variables: dict[str, Any] = {}
        coords: dict[str, Any] = {}

        def add(var: str, s: Series, time_dim: str, col_dim: str | None) -> None:
            if time_dim not in coords:
                coords[time_dim] = (time_dim, s.times, {"unit": "s"})
            dims = (time_dim,) if col_dim is None else (time_dim, col_dim)
            if col_dim is not None and col_dim not in coords:
                coords[col_dim] = (col_dim, s.labels)
            attrs = {"unit": s.unit, "sampling_rate": s.sampling_rate, "what": s.what}
            variables[var] = (dims, np.asarray(s.data), attrs)

        regions = self.regions
        add("regions", regions, "time", "region")
        sources = self.sources
        if sources is not None:
            add("sources", sources, "time", "region")
        for kind in ("eeg", "meg", "seeg"):
            s = getattr(self, kind)
            if s is not None:  # each kind has its own channels; all share the regions' time
                add(kind, s, "time", f"{kind}_channel")
        bold = self.bold
        if bold is not None:
            add("bold", bold, "bold_time", "region")
        for v, s in self.states.items():
            add(f"state_{v}", s, "step_time", "region")
        for name in self.circuits:
            c = self.circuit(name)
            add(f"{name}_rate", c.rate, "bin_time", None)
            add(f"{name}_field", c.field, "bin_time", None)
        attrs = {
            "name": self.name,
            "seed": self.seed,
            "complete": int(self.complete),
            "simulated_s": self.simulated,
            "config": self.config,
            "source": str(self.path),
        }
        return xr.Dataset(variables, coords=coords, attrs=attrs)

    def to_raw(self, kind: str = "eeg") -> mne.io.RawArray:
        """Sensor recording ``kind`` ("eeg", "meg", "seeg") as an ``mne.io.RawArray`` in SI
        units, with positions and annotations (see :func:`multiscale.export.to_raw`)."""
        from multiscale.export import to_raw

        return to_raw(self, kind)
