"""The ``fit:`` section of an experiment file, read into typed form with precise errors.

::

    fit:
      target: {eeg: recordings/patient.edf, window: [10 s, 70 s]}
      # several kinds at once: {eeg: scalp.edf, seeg: depth.edf}, each feature on every
      # kind unless it names one (sensor: seeg)
      features:                      # default: one log_spectrum over [2 Hz, 40 Hz]
        - {kind: log_spectrum, band: [2 Hz, 40 Hz]}
        - {kind: peak_frequency, band: [6 Hz, 14 Hz], weight: 0.5}
        # on the estimated sources of these regions, not the channels (source_space)
        - {kind: log_spectrum, band: [2 Hz, 30 Hz], sources: [rV1, lV1]}
      free:                          # dotted field paths, as --set takes them
        regions.parameters.B: {min: 15 mV, max: 30 mV}
        regions.coupling.a: {min: 0.001, max: 0.05, scale: log}
        regions.parameters.mu: {min: 0.05, max: 0.15, regions: [rV1, lV1]}
      method: cma                    # cma (default), optuna or sbi
      budget: {evaluations: 400}     # and/or time: 30 min
      skip: 1 s                      # each simulation's transient, left out of the features

What needs the recording (its channels, rate, length) is checked by ``target.read_target``;
what needs the experiment (that each free path is a field the experiment accepts over its
whole range) by ``multiscale.fit.problem``. Every problem is reported at once, naming the
file, the field and the value, before anything is simulated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from multiscale.config import _MISSING, ConfigError, _pair, _Section
from multiscale.quantities import QuantityError, to_float

#: feature kinds, each documented in multiscale.fit.features
FEATURE_KINDS = ("log_spectrum", "band_power", "peak_frequency", "envelope_connectivity", "evoked")
#: methods: CMA-ES through ``cma`` (installed with multiscale), TPE through ``optuna`` (the
#: ``optuna`` extra), posteriors by neural posterior estimation through ``sbi`` (the ``sbi``
#: extra; multiscale.fit.inference)
METHODS = ("cma", "optuna", "sbi")
#: sensor kinds a target can be
TARGET_KINDS = ("eeg", "meg", "seeg")
#: the most evaluations a budget may ask for: each evaluation keeps a row and its features
MAX_EVALUATIONS = 100_000


@dataclass(frozen=True)
class Target:
    """One recording to fit (a fit has one per sensor kind). kind: sensor kind; path: its
    file (absolute); channels: the channels to use (None: every channel the model and
    recording share); window_s: the part of the recording to use (s), None for all of it."""

    kind: str
    path: Path
    channels: tuple[str, ...] | None
    window_s: tuple[float, float] | None


@dataclass(frozen=True)
class Feature:
    """One term of the loss (multiscale.fit.features says how each kind is computed).

    band_hz: the band (Hz) of a spectral kind; bands_hz: band_power's named bands (Hz);
    relative: spectra normalised to their total power in the band (absolute amplitude left
    out of the fit); resolution_hz: spectral resolution (Hz); weight: the term's weight;
    first_ms, every_ms, after_ms, baseline_ms: an evoked response's stimulus times and epoch
    (ms); sensor: the target kind the term compares (None: the fit's only target; a fit
    with several targets gives every feature its kind, one term per kind unless the file
    names one); sources: region labels: the feature is computed on those regions' dipole
    moments, estimated from the channels (multiscale.fit.source_space), not on the
    channels."""

    kind: str
    weight: float = 1.0
    band_hz: tuple[float, float] = (2.0, 40.0)
    bands_hz: dict[str, tuple[float, float]] = field(default_factory=dict)
    relative: bool = False
    resolution_hz: float = 1.0
    first_ms: float | None = None
    every_ms: float | None = None
    after_ms: float = 250.0
    baseline_ms: float = 50.0
    sensor: str | None = None
    sources: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """A short name for tables: kind and band (and the sensor kind, if set; the
        regions, if computed on their sources)."""
        name = self.kind
        if self.kind in ("log_spectrum", "peak_frequency", "envelope_connectivity"):
            name = f"{self.kind}[{self.band_hz[0]:g}-{self.band_hz[1]:g} Hz]"
        if self.sources:
            shown = self.sources if len(self.sources) <= 3 else (f"{len(self.sources)} regions",)
            name += "@" + "+".join(shown)
        return name if self.sensor is None else f"{self.sensor}:{name}"


@dataclass(frozen=True)
class Free:
    """One free parameter: the experiment field at ``path`` (dotted, as --set takes it),
    or, with ``region``, that region's value of a per-region region parameter.

    low, high: its range, in ``unit`` ("" for a bare number); scale: "linear" or "log"
    (searched uniformly in the logarithm; needs low > 0)."""

    path: str
    low: float
    high: float
    unit: str = ""
    scale: str = "linear"
    region: str | None = None

    @property
    def name(self) -> str:
        """The column name: the path, with the region in brackets for a per-region one."""
        return self.path if self.region is None else f"{self.path}[{self.region}]"

    def value(self, u: float) -> float:
        """The parameter's value (in ``unit``) at ``u`` in [0, 1] of its range."""
        u = min(max(float(u), 0.0), 1.0)
        if self.scale == "log":
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def unit_interval(self, value: float) -> float:
        """Where ``value`` (in ``unit``) lies in [0, 1] of the range (the inverse of value)."""
        if self.scale == "log":
            u = (math.log(value) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        else:
            u = (value - self.low) / (self.high - self.low)
        return min(max(u, 0.0), 1.0)

    def written(self, value: float) -> str | float:
        """The value as the experiment file takes it: a quantity string with the unit."""
        return f"{value:.10g} {self.unit}" if self.unit else float(f"{value:.10g}")


@dataclass(frozen=True)
class Budget:
    """When the fit stops: after ``evaluations`` simulations or ``time_s`` seconds of wall
    clock, whichever comes first (at least one is given)."""

    evaluations: int | None
    time_s: float | None


@dataclass(frozen=True)
class FitSpec:
    """The ``fit:`` section. population: candidates per generation (evaluated together);
    skip_ms: the start of every simulation left out of its features (the transient);
    sigma: the optimiser's initial step, as a fraction of each range. targets: one per
    sensor kind, in the order eeg, meg, seeg; features: one per loss term, each on one
    target (``kind_of``)."""

    targets: tuple[Target, ...]
    features: tuple[Feature, ...]
    free: tuple[Free, ...]
    method: str
    budget: Budget
    population: int
    skip_ms: float
    sigma: float

    @property
    def kinds(self) -> tuple[str, ...]:
        """The targets' sensor kinds."""
        return tuple(t.kind for t in self.targets)

    def kind_of(self, feature: Feature) -> str:
        """The sensor kind a feature's term compares."""
        return feature.sensor or self.targets[0].kind

    @property
    def paths(self) -> str:
        """The recordings, for messages and file headers."""
        return ", ".join(str(t.path) for t in self.targets)


def read_fit(data: Any, where: str, base_dir: Path, duration_ms: float | None) -> FitSpec:
    """The ``fit:`` section ``data`` of the file named ``where`` (relative paths against
    ``base_dir``); a ConfigError lists every problem."""
    errors: list[str] = []
    spec = _read(data, base_dir, duration_ms, errors)
    if errors:
        lines = "\n".join(f"  {where}: {e}" for e in errors)
        raise ConfigError(f"{where}: {len(errors)} problem(s) in the fit section:\n{lines}")
    return spec


def _read(data: Any, base_dir: Path, duration_ms: float | None, errors: list[str]) -> FitSpec:
    if data is None:
        errors.append("fit: got (missing); expected a fit: section (docs/fitting.md)")
        data = {}
    top = _Section(data, "fit", errors, "a mapping (target, features, free, method, budget)")
    targets = _targets(top.section("target"), base_dir)
    kinds = [t.kind for t in targets]
    features = tuple(_feature(top, k, item, kinds) for k, item in top.items("features")) or (
        Feature("log_spectrum"),
    )
    if "features" in top.data and not top.data["features"]:
        top.error("fit.features", top.data["features"], "a non-empty list of features")
    if len(kinds) > 1:  # one term per target kind, unless a feature names its kind
        features = tuple(
            replace(f, sensor=k) for f in features for k in kinds if f.sensor in (None, k)
        )
    free = _free(top)
    method = top.string("method", "cma", list(METHODS))
    b = top.section("budget")
    evaluations = b.integer("evaluations", None, minimum=1, maximum=MAX_EVALUATIONS)
    time_s = b.quantity("time", "s", None, positive=True)
    if "budget" in top.data and not any(k in b.data for k in ("evaluations", "time")):
        b.error("fit.budget", b.data, "{evaluations: N} and/or {time: duration}")
    b.finish()
    population = top.integer("population", _default_population(len(free)), minimum=2, maximum=4096)
    skip_ms = top.quantity("skip", "ms", 1000.0, minimum=0.0)
    if skip_ms is not None and duration_ms is not None and skip_ms >= duration_ms:
        errors.append(
            f"fit.skip: got {top.data.get('skip', '1 s')!r}; expected less than the "
            f"experiment's duration ({duration_ms / 1000:g} s), which leaves nothing to fit"
        )
    sigma = top.quantity("sigma", "1", 0.3, positive=True, maximum=1.0)
    top.finish()
    return FitSpec(
        targets=targets,
        features=features,
        free=free,
        method=method or "cma",
        budget=Budget(evaluations, time_s),
        population=population or 2,
        skip_ms=skip_ms or 0.0,
        sigma=sigma or 0.3,
    )


def _default_population(n_free: int) -> int:
    """CMA-ES's default population, 4 + 3 ln n, rounded up to an even number (at least 8)."""
    n = 4 + int(3 * math.log(max(n_free, 1)))
    return max(8, n + n % 2)


def _targets(t: _Section, base_dir: Path) -> tuple[Target, ...]:
    """One Target per sensor kind named; ``channels`` and ``window`` apply to each."""
    kinds = [k for k in TARGET_KINDS if k in t.data]
    if not kinds:
        t.error("fit.target", t.data or _MISSING, f"one or more of {list(TARGET_KINDS)}: PATH")
    for k in TARGET_KINDS:
        t.used.add(k)
    paths = {}
    for kind in kinds:
        raw = t.data.get(kind)
        path = Path("")
        if not isinstance(raw, str) or not raw.strip():
            t.error(
                f"fit.target.{kind}", raw, "the path of a recording (EDF, FIF, ...) or an output"
            )
        else:
            path = Path(raw).expanduser()
            path = path if path.is_absolute() else (base_dir / path)
            if not path.exists():
                t.error(f"fit.target.{kind}", raw, f"an existing file (no such file: {path})")
        paths[kind] = path
    channels = t.raw("channels", None)
    if channels is not None and (
        not isinstance(channels, list)
        or not channels
        or not all(isinstance(c, str) for c in channels)
    ):
        t.error("fit.target.channels", channels, "a non-empty list of channel names")
        channels = None
    window = _pair(t, "window", "s", None)
    t.finish()
    chosen = tuple(channels) if channels else None
    return tuple(Target(k, p, chosen, window) for k, p in paths.items()) or (
        Target("eeg", Path(""), chosen, window),
    )


def _feature(top: _Section, k: int, item: Any, kinds: list[str]) -> Feature:
    where = f"fit.features[{k}]"
    s = _Section(item, where, top.errors)
    kind = s.string("kind", "log_spectrum", list(FEATURE_KINDS))
    sensor = s.string("sensor", None, kinds) if kinds else None
    weight = s.quantity("weight", "1", 1.0, positive=True)
    band = _pair(s, "band", "Hz", None)
    bands: dict[str, tuple[float, float]] = {}
    if kind == "band_power":
        raw = s.raw("bands", None)
        if raw is None:
            from multiscale.analysis import BANDS_HZ

            bands = dict(BANDS_HZ)
        elif not isinstance(raw, dict) or not raw:
            s.error(f"{where}.bands", raw, "a mapping of band names to [low, high] in Hz")
        else:
            b = _Section(raw, f"{where}.bands", top.errors)
            for name in raw:
                got = _pair(b, str(name), "Hz", None)
                if got is not None:
                    bands[str(name)] = got
    evoked = kind == "evoked"
    feature = Feature(
        kind=kind or "log_spectrum",
        weight=weight or 1.0,
        band_hz=band or (2.0, 40.0),
        bands_hz=bands,
        relative=s.boolean("relative", False) if kind in ("log_spectrum", "band_power") else False,
        resolution_hz=s.quantity("resolution", "Hz", 1.0, positive=True)
        if kind in ("log_spectrum", "band_power", "peak_frequency")
        else 1.0,
        first_ms=s.quantity("first", "ms", minimum=0.0) if evoked else None,
        every_ms=s.quantity("every", "ms", positive=True) if evoked else None,
        after_ms=s.quantity("after", "ms", 250.0, positive=True) if evoked else 250.0,
        baseline_ms=s.quantity("baseline", "ms", 50.0, minimum=0.0) if evoked else 50.0,
        sensor=sensor if len(kinds) > 1 else None,
        sources=_sources(s, where),
    )
    s.finish()
    return feature


def _sources(s: _Section, where: str) -> tuple[str, ...]:
    """A feature's ``sources``: a non-empty list of region labels (checked against the
    connectome with the experiment)."""
    raw = s.raw("sources", None)
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw or not all(isinstance(r, str) for r in raw):
        s.error(f"{where}.sources", raw, "a list of region labels, e.g. [rV1, lM1]")
        return ()
    if len(set(raw)) != len(raw):
        s.error(f"{where}.sources", raw, "each region once")
        return ()
    return tuple(raw)


def _free(top: _Section) -> tuple[Free, ...]:
    raw = top.raw("free")
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        top.error("fit.free", raw, "a mapping of field paths to {min: ..., max: ...}")
        return ()
    out: list[Free] = []
    for path, bounds in raw.items():
        where = f"fit.free.{path}"
        s = _Section(bounds, where, top.errors, "{min: ..., max: ...} (with units)")
        low, lunit = _bound(s, "min")
        high, hunit = _bound(s, "max")
        scale = s.string("scale", "linear", ["linear", "log"])
        regions = s.raw("regions", None)
        s.finish()
        if None in (low, high):
            continue
        unit = lunit or hunit
        if lunit != hunit and lunit and hunit:
            high = _converted(s, "max", bounds.get("max"), lunit)
            if high is None:
                continue
        if low >= high:
            s.error(where, bounds, "min < max")
            continue
        if scale == "log" and low <= 0:
            s.error(f"{where}.min", bounds.get("min"), "a positive min (scale: log)")
            continue
        if regions is None:
            out.append(Free(str(path), low, high, unit, scale or "linear"))
        elif isinstance(regions, list) and regions and all(isinstance(r, str) for r in regions):
            if not str(path).startswith("regions.parameters."):
                s.error(f"{where}.regions", regions, "regions only on regions.parameters.NAME")
                continue
            out += [Free(str(path), low, high, unit, scale or "linear", r) for r in regions]
        else:
            s.error(f"{where}.regions", regions, "a non-empty list of region labels")
    names = [f.name for f in out]
    for n in {n for n in names if names.count(n) > 1}:
        top.errors.append(f"fit.free: {n} is free twice; expected each parameter once")
    return tuple(out)


def _bound(s: _Section, key: str) -> tuple[float | None, str]:
    """A range end: a number, or a quantity string, kept in the unit it was written in."""
    value = s.raw(key)
    if value is None:
        return None, ""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        s.error(s._at(key), value, "a number or a quantity such as '20 mV'")
        return None, ""
    try:
        q = (float(value), "") if not isinstance(value, str) else _own_unit(value)
    except (QuantityError, ValueError) as err:
        s.error(s._at(key), value, f"a number or a quantity ({err})")
        return None, ""
    if not math.isfinite(q[0]):
        s.error(s._at(key), value, "a finite value")
        return None, ""
    return q


def _own_unit(text: str) -> tuple[float, str]:
    """'20 mV' -> (20.0, 'mV'); '0.01' -> (0.01, '')."""
    parts = text.strip().split(None, 1)
    unit = parts[1].strip() if len(parts) > 1 else ""
    return to_float(text, unit or "1"), unit  # QuantityError for an unknown unit


def _converted(s: _Section, key: str, value: Any, unit: str) -> float | None:
    try:
        return to_float(value, unit)
    except (QuantityError, ValueError) as err:
        s.error(s._at(key), value, f"a quantity in {unit}, the unit of min ({err})")
        return None
