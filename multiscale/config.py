"""Experiment files: YAML in, a validated :class:`Experiment` out, or one error listing
every problem, each with the file, the field path, the bad value and what is expected.

Nothing here simulates. Validation also loads the connectome and checks what can only be
checked against it (region labels, delays of edges touching spiking regions), so a bad
file is reported before any simulation starts or any MPI rank does work.

Quantities are strings with units ("10 s", "130 Hz", "0.5 ms", "3 m/s"). Fields of the
experiment itself (times, rates, speeds, electrode currents) must say their unit; a bare
number there is an error, never a silent default unit. Model parameters (region, coupling
and circuit parameters and knobs, region-stimulus amplitudes) may be bare numbers in the
unit the model declares (``multiscale info``). docs/experiment-files.md states every rule.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from multiscale.quantities import QuantityError, to_float
from multiscale.yaml_safe import YamlError, load_file, loads

if TYPE_CHECKING:
    from multiscale.plan import Plan

#: largest electrode current per cell (nA): 1 uA already drives a point neuron far beyond
#: any physiological range (3 nA is KBG's DBS); larger values are typing errors
MAX_ELECTRODE_NA = 1000.0
#: seeds go to numpy's legacy seeding (Brian2), which takes 32-bit values
MAX_SEED = 2**32 - 1
#: an experiment name usable as a file name (a dict's experiment is recorded as <name>.yaml)
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class ConfigError(ValueError):
    """An experiment file that cannot be run; the message lists every problem found."""


# --- the validated experiment ------------------------------------------------------------
@dataclass
class ConnectomeSpec:
    source: Any
    speed_mm_per_ms: float


@dataclass
class RegionsSpec:
    model: str
    parameters: dict[str, Any]
    coupling: str
    coupling_parameters: dict[str, float]
    #: the region step (ms); None until the plan fills in the model's DEFAULT_DT
    dt_ms: float | None
    noise: dict[str, float]
    initial: dict[str, float]
    initial_history: str | None = None
    method: str = "heun"
    #: reproduce TVB's float32 arithmetic (bit-parity with TVB runs; slower)
    tvb_compat: bool = False
    #: a named parameter set of the model (``parameters`` then change single values)
    parameter_set: str | None = None


@dataclass
class CircuitSpec:
    name: str
    model: str
    region: str | int
    parameters: dict[str, float]
    input_gain: float
    output_gain: float
    field_gain: float


@dataclass
class CosimSpec:
    resolution_ms: float
    window_ms: float | None
    zero_delay: str


@dataclass
class PerturbationSpec:
    """One change, on one of three kinds of target:

    - a circuit knob (circuit, knob): synapse or channel conductances, drive...;
    - a region-model parameter of a set of regions (regions, parameter);
    - connectome edges (edges: from/to region sets), or a lesion (lesion: region set: every
      edge into or out of them), scaled or set (weights are W[i, j], from j onto i).

    The change starts at ``at``; with ``ramp`` it grows linearly to its full size over that
    time (progressive degeneration); with ``until`` it is undone then. Region sets: a list
    of labels or indices, "all", or {hubs: N} (the N regions of largest total weight).
    """

    name: str
    circuit: str | None
    knob: str | None
    regions: Any
    parameter: str | None
    edges: dict | None
    lesion: Any
    operation: str  # "scale" | "set"
    value: float
    at_ms: float
    until_ms: float | None
    ramp_ms: float = 0.0


@dataclass
class StimulusSpec:
    """An electrode into a circuit population (circuit, population; a pulse train, current
    amplitude in nA) or a stimulus of region state variables (regions, variable; any kind,
    amplitude in the variable's unit per ms)."""

    name: str
    kind: str
    circuit: str | None
    population: str | None
    regions: list[str | int] | None
    variable: str | None
    frequency_hz: float
    amplitude: float
    width_ms: float
    phase_rad: float
    biphasic: bool
    at_ms: float
    until_ms: float

    @property
    def amplitude_na(self) -> float:
        return self.amplitude


@dataclass
class MeasureSpec:
    """An outcome measure the run computes from its output and stores in /measures
    (``multiscale.measures`` says how each kind is computed).

    kind: "band_power" | "peak_frequency" | "evoked" | "rate" | "synchrony". signal:
    "eeg", "meg", "seeg", "regions", "sources" or "circuit" (band_power, peak_frequency,
    evoked); channels / regions: which sensors or regions (default: all, their spectra
    averaged); circuit, quantity ("rate", "field" or "spikes"): a circuit's series, "spikes"
    being a population's activity (its spikes in bin_ms bins, per cell, in Hz); circuit,
    population: whose spikes a ``rate``, ``synchrony`` or "spikes" series counts (bin_ms:
    its bins). band_hz: (low, high) in Hz; window_ms: (start, end) in ms (default: the
    whole run); versus_ms: a second window: the measure is then the ratio of the two;
    relative: band power as a fraction of 1-80 Hz; resolution_hz: the spectra's resolution.
    evoked: events at first_ms + k every_ms (ms) inside the window; after_ms (ms): the
    response scored after each; baseline_ms (ms): the stretch before each whose mean is
    subtracted (0: none)."""

    name: str
    kind: str
    signal: str | None = None
    channels: list[str] | None = None
    regions: list[str] | None = None
    circuit: str | None = None
    quantity: str = "rate"
    population: str | None = None
    band_hz: tuple[float, float] | None = None
    window_ms: tuple[float, float] | None = None
    versus_ms: tuple[float, float] | None = None
    relative: bool = False
    #: spectral resolution (Hz): Welch segments of 1 / resolution s
    resolution_hz: float = 0.5
    #: synchrony, and a population's activity (quantity "spikes"): the spike-count bin (ms)
    bin_ms: float = 20.0
    #: evoked: the first event (ms), the events' period (ms), the response scored after
    #: each (ms) and the baseline before each (ms)
    first_ms: float | None = None
    every_ms: float | None = None
    after_ms: float = 250.0
    baseline_ms: float = 50.0


@dataclass
class BoldSpec:
    tr_ms: float
    gain: float
    reference_ms: float


@dataclass
class RecordSpec:
    sampling_rate_hz: float
    #: forward model per sensor kind ("eeg", "meg", "seeg"), as written: a name such as
    #: "sphere", "tvb65", "tvb276", "seeg:tvb", or {file: gain.npz, unit: "V/(A m)"};
    #: "auto" (EEG's default) = the sphere model where the connectome has centres
    eeg: str | dict | None
    spikes: bool
    bold: BoldSpec | None
    #: state variables recorded raw at every integration step ("all" is expanded)
    states: list[str] = field(default_factory=list)
    meg: str | dict | None = None
    seeg: str | dict | None = None
    #: record every region's current dipole moment (nA m) under /sources
    sources: bool = True

    def sensors(self) -> dict[str, str | dict]:
        """The sensor kinds recorded, each with its forward model as written."""
        chosen = {"eeg": self.eeg, "meg": self.meg, "seeg": self.seeg}
        return {kind: model for kind, model in chosen.items() if model is not None}


@dataclass
class OutputSpec:
    path: Path
    figures: bool


@dataclass
class CheckpointSpec:
    """``checkpoint: {every: 10 s, keep: [5 s]}``: a checkpoint at the first window boundary
    at or after every multiple of ``every`` (only the newest is kept), and those at the
    ``keep`` times (for branching); a stop signal always writes one."""

    every_ms: float | None = None
    keep_ms: list[float] = field(default_factory=list)


@dataclass
class Experiment:
    path: Path
    text: str
    name: str
    description: str
    seed: int
    duration_ms: float
    connectome: ConnectomeSpec
    regions: RegionsSpec
    circuits: list[CircuitSpec]
    cosim: CosimSpec
    perturbations: list[PerturbationSpec]
    stimuli: list[StimulusSpec]
    record: RecordSpec
    output: OutputSpec
    brian_target: str
    brian_dt_ms: float
    checkpoint: CheckpointSpec = field(default_factory=CheckpointSpec)
    #: outcome measures computed at the end of the run, stored in /measures
    measures: list[MeasureSpec] = field(default_factory=list)
    #: what the experiment resolves to (connectome, models, window...), made by validation
    plan: Plan | None = field(default=None, repr=False)
    #: the file's fields after ``overrides`` (YAML), and the overrides: what actually ran
    resolved_text: str = ""
    overrides: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        base_dir: str | Path = ".",
        overrides: dict[str, Any] | None = None,
    ) -> Experiment:
        """An experiment from the fields a file would hold, without writing one (Python
        users, generated variants): validated exactly as that file would be, each problem
        named ``<dict>: <field path>``. Relative paths in it (connectome, lead field) are
        relative to ``base_dir``; the run records it as the file ``base_dir/<name>.yaml``
        (which need not exist), the folder ``multiscale resume`` resolves them against."""
        text = dict_to_yaml(data)
        name = data.get("name") if isinstance(data, Mapping) else None
        stem = name if isinstance(name, str) and _FILE_NAME.fullmatch(name) else "experiment"
        path = Path(base_dir).absolute() / f"{stem}.yaml"
        return load_experiment(path, overrides, text=text, label="<dict>")

    def with_output(self, path: str | Path) -> Experiment:
        """A copy that writes to ``path``, recorded in ``overrides`` and ``resolved_text``
        as ``--set output.path=...`` would be (what ``-o`` does)."""
        path = Path(path)
        data = loads(self.resolved_text) if self.resolved_text else {}
        _set_dotted(data, "output.path", str(path), [])
        new = replace(
            self,
            output=replace(self.output, path=path),
            resolved_text=_dump(data),
            overrides={**self.overrides, "output.path": str(path)},
        )
        if self.plan is not None:
            new.plan = replace(self.plan, experiment=new)
        return new


# --- reading with precise errors ---------------------------------------------------------
_MISSING = object()


class _Section:
    """A mapping being read: remembers its path and which keys were used, and records an
    error (instead of raising) so that one run reports every problem."""

    def __init__(self, data: Any, path: str, errors: list[str], what: str = "a mapping"):
        self.path = path
        self.errors = errors
        self.used: set[str] = set()
        if data is None:
            data = {}
        if not isinstance(data, dict):
            self.error(path, data, what)
            data = {}
        self.data = data

    def error(self, where: str, value: Any, expected: str) -> None:
        shown = "(missing)" if value is _MISSING else repr(value)
        self.errors.append(f"{where or '(top level)'}: got {shown}; expected {expected}")

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        self.used.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING and default is _MISSING:
            self.error(self._at(key), _MISSING, "this field (it is required)")
            return None
        return default if value is _MISSING else value

    def _typed(self, key: str, default: Any) -> Any:
        """raw(), except that an explicit null is an error where null means nothing (the
        field is required, or its default is a value): it must not pass as "unset"."""
        value = self.raw(key, default)
        if key in self.data and self.data[key] is None and default is not None:
            self.error(self._at(key), None, "a value (null is not allowed here)")
            return None
        return value

    def string(self, key: str, default: Any = _MISSING, choices: list[str] | None = None) -> Any:
        value = self._typed(key, default)
        if value is None or value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            self.error(self._at(key), value, "a string")
            return None
        if choices is not None and value not in choices:
            self.error(self._at(key), value, f"one of {choices}{suggest(value, choices)}")
            return None
        return value

    def quantity(
        self,
        key: str,
        unit: str,
        default: Any = _MISSING,
        *,
        positive: bool = False,
        minimum: float | None = None,
        maximum: float | None = None,
    ) -> Any:
        """A quantity converted to ``unit``; a bare number is refused unless ``unit`` is
        dimensionless (experiment fields always say their unit)."""
        value = self._typed(key, default)
        if value is None or value is default and default is not _MISSING:
            return value
        try:
            number = to_float(value, unit, bare=False)
        except QuantityError as err:
            self.error(self._at(key), value, f"a quantity in {unit} ({err})")
            return None
        if not np.isfinite(number) or (positive and number <= 0):
            self.error(self._at(key), value, f"a {'positive ' if positive else ''}finite value")
            return None
        if minimum is not None and number < minimum:
            self.error(self._at(key), value, f"a value >= {minimum:g} {unit}")
            return None
        if maximum is not None and abs(number) > maximum:
            self.error(self._at(key), value, f"a magnitude of at most {maximum:g} {unit}")
            return None
        return number

    def integer(
        self,
        key: str,
        default: Any = _MISSING,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> Any:
        value = self._typed(key, default)
        if value is None or value is default and default is not _MISSING:
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(self._at(key), value, "an integer")
            return None
        if minimum is not None and value < minimum:
            self.error(self._at(key), value, f"an integer >= {minimum}")
            return None
        if maximum is not None and value > maximum:
            self.error(self._at(key), value, f"an integer <= {maximum}")
            return None
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> Any:
        value = self._typed(key, default)
        if value is not None and not isinstance(value, bool):
            self.error(self._at(key), value, "true or false")
            return None
        return value

    def section(self, key: str, default: Any = _MISSING) -> _Section:
        return _Section(self.raw(key, default), self._at(key), self.errors)

    def items(self, key: str) -> list[tuple[int, Any]]:
        value = self.raw(key, [])
        if not isinstance(value, list):
            self.error(self._at(key), value, "a list")
            return []
        return list(enumerate(value))

    def finish(self) -> None:
        """Unknown keys are errors: a typo must not silently fall back to a default."""
        for key in self.data:
            if key not in self.used:
                self.errors.append(
                    f"{self._at(str(key))}: unknown field{suggest(str(key), sorted(self.used))}"
                    f"; valid fields here: {sorted(self.used)}"
                )


def suggest(word: str, options: list[str]) -> str:
    """' (did you mean X?)' for the closest of ``options`` to a mistyped ``word``, or ''."""
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- the schema --------------------------------------------------------------------------
def load_experiment(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    *,
    text: str | None = None,
    label: str | None = None,
) -> Experiment:
    """Read, validate and return the experiment at ``path``; raise ConfigError listing every
    problem. ``overrides`` maps dotted field paths to values (used by sweeps and tests).
    ``text``: the file's contents as they were (an output's record of what ran), read as
    if they were at ``path`` (relative paths in it are relative to path's folder).
    ``label``: what messages call the source instead of ``path`` (an experiment built from
    a dict in Python has no file to name).

    Every phase runs (overrides, fields, checks against the connectome and models, the
    resource estimate), each skipping only what depends on a field already reported, so
    one message lists every problem. A file whose estimated memory exceeds what the
    machine has available is refused here, before any rank builds anything."""
    path = Path(path)
    where = label or str(path)
    try:
        data, text = load_file(path) if text is None else (loads(text), text)
    except OSError as err:
        raise ConfigError(f"{where}: cannot read the experiment file ({err.strerror})") from err
    except YamlError as err:
        raise ConfigError(f"{where}: {err}") from err
    errors: list[str] = []
    if overrides and data is None:
        data = {}
    for dotted, value in (overrides or {}).items():
        if isinstance(data, dict):
            _set_dotted(data, str(dotted), value, errors)
    exp = _read(data, path, text, errors)
    exp.overrides = dict(overrides or {})
    exp.resolved_text = _dump(data)
    if isinstance(data, dict):
        from multiscale import plan
        from multiscale.resources import check_memory

        got = plan.resolve(exp, errors)
        estimate = check_memory(exp, got, errors)
        if not errors:
            exp.plan = plan.build(exp, got, estimate)
    if errors:
        lines = "\n".join(f"  {where}: {e}" for e in errors)
        what = "the experiment file" if label is None else "the experiment"
        raise ConfigError(f"{where}: {len(errors)} problem(s) in {what}:\n{lines}")
    return exp


class _PlainDumper(yaml.SafeDumper):
    """Writes an object used twice in full: experiment files refuse anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: Any) -> str:
    try:
        return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return ""


def dict_to_yaml(data: Mapping[str, Any]) -> str:
    """The experiment file that ``data`` stands for: paths as strings, numpy values as
    Python numbers and lists; a value YAML cannot hold is a ConfigError naming its field."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"<dict>: got {type(data).__name__}; expected a mapping of fields")
    return _dump(_plain(data, ""))


def _plain(value: Any, where: str) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, f"{where}.{i}") for i, v in enumerate(value)]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist(), where)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | bool | int | float):
        return value
    raise ConfigError(
        f"<dict>: {where}: got {type(value).__name__} {value!r}; expected a string, number, "
        f"boolean, list or mapping (what an experiment file can hold)"
    )


def _set_dotted(data: dict, dotted: str, value: Any, errors: list[str]) -> None:
    """Set ``a.b.0.c`` in ``data`` (missing mappings are created); a path that cannot be
    followed is reported as an error naming the override."""
    where = f"--set {dotted}"
    keys = dotted.split(".")
    if not all(keys):
        errors.append(
            f"{where}: got {dotted!r}; expected a dotted field path such as "
            f"circuits.0.parameters.n_E"
        )
        return
    node: Any = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        here = ".".join(keys[:depth]) or "the top level"
        if isinstance(node, list):
            if not key.isdigit():
                errors.append(f"{where}: got {key!r}; {here} is a list: expected an index")
                return
            if int(key) >= len(node):
                errors.append(
                    f"{where}: got index {key}; {here} has {len(node)} item(s): expected "
                    f"an index below {len(node)}"
                )
                return
            index: Any = int(key)
        elif isinstance(node, dict):
            index = key
            if not last and node.get(key) is None:
                node[key] = {}
        else:
            errors.append(
                f"{where}: got {'.'.join(keys[depth:])!r} under {here}, which is "
                f"{node!r}; expected a path through mappings and lists"
            )
            return
        if last:
            node[index] = value
        else:
            node = node[index]


def _read(data: Any, path: Path, text: str, errors: list[str]) -> Experiment:
    top = _Section(data, "", errors, "a mapping of experiment fields")
    name = top.string("name", path.stem)
    description = top.string("description", "")
    seed = top.integer("seed", minimum=0, maximum=MAX_SEED)
    duration = top.quantity("duration", "ms", positive=True)

    c = top.section("connectome", {})
    connectome = ConnectomeSpec(
        source=c.raw("source", "tvb76"),
        speed_mm_per_ms=c.quantity("conduction_speed", "mm/ms", 3.0, positive=True),
    )
    c.finish()

    r = top.section("regions")
    integ = r.section("integrator", {})
    regions = RegionsSpec(
        model=r.string("model"),
        parameter_set=r.string("parameter_set", None),
        parameters=_mapping(r, "parameters"),
        coupling=None,
        coupling_parameters={},
        dt_ms=integ.quantity("dt", "ms", None, positive=True),
        noise=_mapping(integ, "noise"),
        initial=_mapping(r, "initial"),
        initial_history=r.string("initial_history", None),
        method=integ.string("method", "heun", choices=["heun", "euler"]),
        tvb_compat=integ.boolean("tvb_compat", False),
    )
    integ.finish()
    coup = r.section("coupling", {})
    regions.coupling = coup.string("kind", None)
    regions.coupling_parameters = {k: v for k, v in coup.data.items() if k != "kind"}
    coup.used.update(regions.coupling_parameters)
    coup.finish()
    r.finish()

    circuits = []
    for k, item in top.items("circuits"):
        s = _Section(item, f"circuits[{k}]", errors)
        circuits.append(
            CircuitSpec(
                name=s.string("name"),
                model=s.string("model"),
                region=s.raw("region"),
                parameters=_mapping(s, "parameters"),
                input_gain=s.quantity("input_gain", "1", 20.0, minimum=0.0),
                output_gain=s.quantity("output_gain", "1", 1.0, positive=True),
                field_gain=s.quantity("field_gain", "1", 1.0, positive=True),
            )
        )
        s.finish()

    co = top.section("cosim", {})
    window = co.raw("window", "auto")
    cosim = CosimSpec(
        resolution_ms=co.quantity("resolution", "ms", 1.0, positive=True),
        window_ms=None if window == "auto" else co.quantity("window", "ms", positive=True),
        zero_delay=co.string("zero_delay_edges", "error", ["error", "clamp"]),
    )
    co.finish()

    perturbations = []
    for k, item in top.items("perturbations"):
        s = _Section(item, f"perturbations[{k}]", errors)
        lesion = s.raw("lesion", None)
        ops = [op for op in ("scale", "set") if op in s.data]
        if lesion is not None:  # a lesion scales the region's edges to zero
            op, value = "scale", 0.0
            if ops:
                s.error(f"perturbations[{k}]", item, "no 'scale' or 'set' with 'lesion'")
        elif len(ops) != 1:
            s.error(f"perturbations[{k}]", item, "exactly one of 'scale' or 'set'")
            value, op = None, None
        else:
            op = ops[0]
            value = s.quantity(op, "1")
        s.used.update(("scale", "set"))
        edges = s.raw("edges", None)
        p = PerturbationSpec(
            name=s.string("name", f"perturbation{k}"),
            circuit=s.string("circuit", None),
            knob=s.string("knob", None),
            regions=s.raw("regions", None),
            parameter=s.string("parameter", None),
            edges=edges,
            lesion=lesion,
            operation=op,
            value=value,
            at_ms=s.quantity("at", "ms", 0.0, minimum=0.0),
            until_ms=s.quantity("until", "ms", None, positive=True),
            ramp_ms=s.quantity("ramp", "ms", 0.0, minimum=0.0),
        )
        perturbations.append(p)
        targets = [t for t in (p.circuit, p.regions, p.edges, p.lesion) if t is not None]
        if len(targets) != 1:
            s.error(
                f"perturbations[{k}]",
                item,
                "one target: 'circuit' (with 'knob'), 'regions' (with 'parameter'), "
                "'edges' ({from: regions, to: regions}) or 'lesion' (regions)",
            )
        elif p.circuit is not None and p.knob is None:
            s.error(f"perturbations[{k}].knob", _MISSING, "the circuit knob to change")
        elif p.regions is not None and p.parameter is None:
            s.error(f"perturbations[{k}].parameter", _MISSING, "the region parameter to change")
        elif p.edges is not None and (
            not isinstance(p.edges, dict) or set(p.edges) - {"from", "to"} or not p.edges
        ):
            s.error(f"perturbations[{k}].edges", p.edges, "{from: regions, to: regions}")
        elif p.edges is not None and op == "set":
            s.error(f"perturbations[{k}].set", value, "'scale' for edges (weights are scaled)")
        if p.ramp_ms and p.until_ms is not None and p.at_ms + p.ramp_ms > p.until_ms:
            s.error(f"perturbations[{k}].ramp", item.get("ramp"), "a ramp that ends by 'until'")
        s.finish()

    stimuli = []
    for k, item in top.items("stimuli"):
        s = _Section(item, f"stimuli[{k}]", errors)
        on_circuit = "regions" not in s.data
        kinds = ["pulse_train"] if on_circuit else ["pulse_train", "sinusoid", "step"]
        kind = s.string("kind", "pulse_train", kinds)
        periodic = kind in ("pulse_train", "sinusoid")
        regions_t = None if on_circuit else s.raw("regions")
        if not on_circuit and regions_t is None:
            s.error(f"stimuli[{k}].regions", None, "a region label or index, or a list of them")
            regions_t = []
        if regions_t is not None and not isinstance(regions_t, list):
            regions_t = [regions_t]
        stimuli.append(
            StimulusSpec(
                name=s.string("name", f"stimulus{k}"),
                kind=kind,
                circuit=s.string("circuit") if on_circuit else None,
                population=s.string("population") if on_circuit else None,
                regions=regions_t,
                variable=None if on_circuit else s.string("variable"),
                frequency_hz=s.quantity("frequency", "Hz", positive=True) if periodic else 0.0,
                # a region stimulus is in its variable's unit per ms: read once the model
                # is known (_region_stimulus_amplitude)
                amplitude=(
                    s.quantity("amplitude", "nA", maximum=MAX_ELECTRODE_NA)
                    if on_circuit
                    else s._typed("amplitude", _MISSING)
                ),
                width_ms=s.quantity("width", "ms", positive=True) if kind == "pulse_train" else 0.0,
                phase_rad=s.quantity("phase", "1", 0.0) if kind == "sinusoid" else 0.0,
                biphasic=s.boolean("biphasic", False) if kind == "pulse_train" else False,
                at_ms=s.quantity("at", "ms", 0.0, minimum=0.0),
                until_ms=s.quantity("until", "ms", None, positive=True),
            )
        )
        s.finish()

    measures = [_measure(top, k, item, errors) for k, item in top.items("measures")]

    rec = top.section("record", {})
    bold = None
    if rec.raw("bold", None) is not None:
        b = rec.section("bold")
        bold = BoldSpec(
            tr_ms=b.quantity("tr", "ms", 2000.0, positive=True),
            gain=b.quantity("gain", "1", 0.1, positive=True),
            reference_ms=b.quantity("reference", "ms", 20000.0, minimum=0.0),
        )
        b.finish()
    record = RecordSpec(
        sampling_rate_hz=rec.quantity("sampling_rate", "Hz", 1000.0, positive=True),
        eeg=_sensor(rec, "eeg", "auto"),
        spikes=rec.boolean("spikes", True),
        bold=bold,
        states=rec.raw("states", []),
        meg=_sensor(rec, "meg", None),
        seeg=_sensor(rec, "seeg", None),
        sources=rec.boolean("sources", True),
    )
    rec.finish()

    out = top.section("output", {})
    out_path = out.string("path", f"results/{name}.h5")
    output = OutputSpec(
        path=Path(out_path) if isinstance(out_path, str) else Path("results/out.h5"),
        figures=out.boolean("figures", True),
    )
    out.finish()

    sweep = top.raw("sweep", None)  # used by `multiscale sweep`; a run uses the base values
    if sweep is not None:
        axes = dict(sweep) if isinstance(sweep, dict) else None
        conditions = axes.pop("conditions", None) if axes is not None else None
        reference = axes.pop("reference", None) if axes is not None else None
        if axes is None or not all(isinstance(v, list) and v for v in axes.values()):
            top.error("sweep", sweep, "a mapping of field paths to non-empty lists of values")
        if conditions is not None and not (
            isinstance(conditions, dict)
            and conditions
            and all(isinstance(c, dict) for c in conditions.values())
        ):
            top.error(
                "sweep.conditions",
                conditions,
                "a mapping of condition names to mappings of field paths to values",
            )
        elif reference is not None and reference not in (conditions or {}):
            top.error(
                "sweep.reference", reference, f"one of sweep.conditions {list(conditions or {})}"
            )

    # read by `multiscale fit` (multiscale.fit.spec); a run uses the experiment as it is
    top.raw("fit", None)
    top.raw("predict", None)

    ck = top.section("checkpoint", {})
    checkpoint = CheckpointSpec(
        every_ms=ck.quantity("every", "ms", None, positive=True),
        keep_ms=[],
    )
    for k, value in ck.items("keep"):
        key = f"keep[{k}]"  # read as a field of its own, so messages say checkpoint.keep[k]
        kept = _Section({key: value}, "checkpoint", errors).quantity(key, "ms", positive=True)
        if kept is not None and duration is not None and kept >= duration:
            errors.append(
                f"checkpoint.{key}: got {value!r}; expected a time before the end "
                f"({duration / 1000:g} s)"
            )
        elif kept is not None:
            checkpoint.keep_ms.append(kept)
    ck.finish()

    br = top.section("brian", {})
    brian_target = br.string("target", "auto", ["auto", "cython", "numpy"])
    brian_dt = br.quantity("dt", "ms", 0.1, positive=True)
    br.finish()
    top.finish()

    return Experiment(
        path=path,
        text=text,
        name=name,
        description=description,
        seed=seed,
        duration_ms=duration,
        connectome=connectome,
        regions=regions,
        circuits=circuits,
        cosim=cosim,
        perturbations=perturbations,
        stimuli=stimuli,
        record=record,
        output=output,
        brian_target=brian_target,
        brian_dt_ms=brian_dt,
        checkpoint=checkpoint,
        measures=measures,
    )


def _sensor(rec: _Section, kind: str, default: str | None) -> str | dict | None:
    """``record.<kind>``: a forward model's name, ``{file: ..., unit: ...}``, or null/false
    for none; the plan builds it (and reports what cannot be built)."""
    value = rec.raw(kind, default)
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, dict):
        s = _Section(value, f"record.{kind}", rec.errors)
        spec = {"file": s.string("file"), "unit": s.string("unit", choices=list(GAIN_UNITS[kind]))}
        s.finish()
        return spec
    rec.error(f"record.{kind}", value, "a forward model name, {file: ..., unit: ...}, or null")
    return None


#: the units a user gain file may have, per sensor kind
GAIN_UNITS = {
    "eeg": ("V/(A m)",),
    "seeg": ("V/(A m)",),
    "meg": ("T/(A m)", "T/m/(A m)"),
}

MEASURE_KINDS = ("band_power", "peak_frequency", "evoked", "rate", "synchrony")
#: kinds that read a signal (a series in time)
SERIES_KINDS = ("band_power", "peak_frequency", "evoked")
SPIKING = ("rate", "synchrony")
#: what a spectral measure can read: sensor recordings, region observables or sources,
#: a circuit's series
SIGNALS = (
    "eeg",
    "meg",
    "seeg",
    "regions",
    "sources",
    "circuit",
)  # kinds that read a circuit population's spikes


def _measure(top: _Section, k: int, item: Any, errors: list[str]) -> MeasureSpec:
    """One entry of ``measures:``; what needs the connectome and the circuits is checked by
    the plan."""
    where = f"measures[{k}]"
    s = _Section(item, where, errors)
    kind = s.string("kind", None, list(MEASURE_KINDS))
    spectral = kind in ("band_power", "peak_frequency")
    series = kind in SERIES_KINDS
    evoked = kind == "evoked"
    signal = s.string("signal", None, list(SIGNALS)) if series else None
    if series and signal is None and "signal" not in s.data:
        s.error(f"{where}.signal", None, f"one of {list(SIGNALS)}")
    quantity = (
        s.string("quantity", "rate", ["rate", "field", "spikes"]) if signal == "circuit" else "rate"
    )
    counts_spikes = kind in SPIKING or quantity == "spikes"
    spec = MeasureSpec(
        name=s.string("name", f"measure{k}"),
        kind=kind,
        signal=signal,
        channels=_names(s, "channels") if signal in ("eeg", "meg", "seeg") else None,
        regions=_names(s, "regions") if signal in ("regions", "sources") else None,
        circuit=s.string("circuit") if signal == "circuit" or kind in SPIKING else None,
        quantity=quantity,
        population=s.string("population") if counts_spikes else None,
        band_hz=_pair(s, "band", "Hz", None if kind != "band_power" else _MISSING),
        window_ms=_pair(s, "window", "ms", None),
        versus_ms=_pair(s, "versus", "ms", None),
        relative=s.boolean("relative", False) if kind == "band_power" else False,
        resolution_hz=s.quantity("resolution", "Hz", 0.5, positive=True) if spectral else 0.5,
        bin_ms=(s.quantity("bin", "ms", 20.0, positive=True) if kind == "synchrony"
                else s.quantity("bin", "ms", 1.0, positive=True) if quantity == "spikes"
                else 20.0),
        first_ms=s.quantity("first", "ms", minimum=0.0) if evoked else None,
        every_ms=s.quantity("every", "ms", positive=True) if evoked else None,
        after_ms=s.quantity("after", "ms", 250.0, positive=True) if evoked else 250.0,
        baseline_ms=s.quantity("baseline", "ms", 50.0, minimum=0.0) if evoked else 50.0,
    )  # fmt: skip
    s.finish()
    if kind is None and "kind" not in s.data:
        s.error(f"{where}.kind", None, f"one of {list(MEASURE_KINDS)}")
    return spec


def _names(s: _Section, key: str) -> list[str] | None:
    value = s.raw(key, None)
    if value is None:
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        s.error(s._at(key), value, "a non-empty list of names")
        return None
    return value


def _pair(s: _Section, key: str, unit: str, default: Any) -> tuple[float, float] | None:
    """[low, high] of two quantities in ``unit``, low < high."""
    value = s.raw(key, default)
    if value is None or value is _MISSING:
        return None
    if not isinstance(value, list) or len(value) != 2:
        s.error(s._at(key), value, f"[low, high], two quantities in {unit}")
        return None
    pair = _Section({"low": value[0], "high": value[1]}, s._at(key), s.errors)
    lo = pair.quantity("low", unit, minimum=0.0)
    hi = pair.quantity("high", unit, positive=True)
    if None in (lo, hi):
        return None
    if lo >= hi:
        s.error(s._at(key), value, "[low, high] with low < high")
        return None
    return (lo, hi)


def _mapping(section: _Section, key: str) -> dict[str, Any]:
    sub = section.section(key, {})
    sub.used.update(sub.data)
    return {str(k): v for k, v in sub.data.items()}
