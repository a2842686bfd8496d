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
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from multiscale.quantities import QuantityError, to_float
from multiscale.yaml_safe import YamlError, load_file, loads

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
    dt_ms: float
    noise: dict[str, float]
    initial: dict[str, float]
    initial_history: str | None = None
    method: str = "heun"


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
class BoldSpec:
    tr_ms: float
    gain: float
    reference_ms: float


@dataclass
class RecordSpec:
    sampling_rate_hz: float
    eeg: str | None
    spikes: bool
    bold: BoldSpec | None
    #: state variables recorded raw at every integration step ("all" is expanded)
    states: list[str] = field(default_factory=list)


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
    #: filled by validation: the loaded connectome and derived quantities
    derived: dict[str, Any] = field(default_factory=dict)
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
        return replace(
            self,
            output=replace(self.output, path=path),
            resolved_text=_dump(data),
            overrides={**self.overrides, "output.path": str(path)},
        )


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
            self.error(self._at(key), value, f"one of {choices}{_suggest(value, choices)}")
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
                    f"{self._at(str(key))}: unknown field{_suggest(str(key), sorted(self.used))}"
                    f"; valid fields here: {sorted(self.used)}"
                )


def _suggest(word: str, options: list[str]) -> str:
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
        _check_semantics(exp, errors)
        from multiscale.resources import check_memory

        check_memory(exp, errors)
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
        parameters=_mapping(r, "parameters"),
        coupling=None,
        coupling_parameters={},
        dt_ms=integ.quantity("dt", "ms", 0.1, positive=True),
        noise=_mapping(integ, "noise"),
        initial=_mapping(r, "initial"),
        initial_history=r.string("initial_history", None),
        method=integ.string("method", "heun", choices=["heun", "euler"]),
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
        eeg=rec.raw("eeg", "tvb65"),
        spikes=rec.boolean("spikes", True),
        bold=bold,
        states=rec.raw("states", []),
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
    )


def _mapping(section: _Section, key: str) -> dict[str, Any]:
    sub = section.section(key, {})
    sub.used.update(sub.data)
    return {str(k): v for k, v in sub.data.items()}


# --- checks that need the registries and the connectome ----------------------------------
def _check_semantics(exp: Experiment, errors: list[str]) -> None:
    """Checks against the connectome, the region model, the coupling and the circuits'
    declarations; each part runs unless a field it depends on was already reported."""
    from multiscale.connectome import ConnectomeError, load_connectome

    base = exp.path.parent
    try:
        conn = load_connectome(exp.connectome.source, base_dir=base)
    except (ConnectomeError, ValueError, OSError, TypeError, KeyError) as err:
        errors.append(f"connectome.source: {err}")
        return
    exp.derived["connectome"] = conn
    model, coupling = _check_regions(exp, conn, errors)
    _check_record(exp, conn, model, errors)
    classes = _check_circuits(exp, conn, model, coupling, errors)
    _check_perturbations(exp, conn, model, classes, errors)
    _check_stimuli(exp, conn, model, classes, errors)
    _check_steps(exp, conn, model, errors)


def _check_regions(exp: Experiment, conn, errors: list[str]) -> tuple[Any, Any]:
    """The region model and coupling (None where unknown), their parameters, noise and
    initial state."""
    from multiscale.coupling import COUPLINGS
    from multiscale.regions import REGION_MODELS

    r = exp.regions
    model = REGION_MODELS.get(r.model) if isinstance(r.model, str) else None
    if model is None:
        if r.model is not None:  # a missing model is already reported
            errors.append(
                f"regions.model: got {r.model!r}; expected one of {sorted(REGION_MODELS)}"
                f"{_suggest(str(r.model), list(REGION_MODELS))}"
            )
        return None, None
    r.coupling = r.coupling or model.DEFAULT_COUPLING
    coupling = COUPLINGS.get(r.coupling)
    if coupling is None:
        errors.append(
            f"regions.coupling.kind: got {r.coupling!r}; expected one of {sorted(COUPLINGS)}"
            f"{_suggest(r.coupling, list(COUPLINGS))}"
        )
    else:
        r.coupling_parameters = _numbers(
            "regions.coupling", r.coupling_parameters, coupling.parameters, errors
        )
    values = {}
    for pname, value in r.parameters.items():
        where = f"regions.parameters.{pname}"
        if pname not in model.PARAMETERS:
            errors.append(
                f"{where}: unknown parameter of {r.model}{_suggest(pname, list(model.PARAMETERS))}"
                f"; parameters: {list(model.PARAMETERS)}"
            )
            continue
        values[pname] = _per_region(where, value, model.PARAMETERS[pname].unit, conn, errors)
    exp.derived["parameters"] = model.parameter_matrix(conn.n_regions, values)
    for group, where in ((r.noise, "regions.integrator.noise"), (r.initial, "regions.initial")):
        for sv, value in list(group.items()):
            if sv not in model.STATE_VARIABLES:
                errors.append(
                    f"{where}.{sv}: unknown state variable of {r.model}"
                    f"{_suggest(sv, list(model.STATE_VARIABLES))}; "
                    f"state variables: {list(model.STATE_VARIABLES)}"
                )
            elif isinstance(value, bool) or not isinstance(value, int | float):
                errors.append(f"{where}.{sv}: got {value!r}; expected a number")
            elif not _finite(value):
                errors.append(f"{where}.{sv}: got {value!r}; expected a finite number")
            elif where.endswith("noise") and value < 0:
                errors.append(f"{where}.{sv}: got {value!r}; expected a number >= 0")
            else:
                group[sv] = float(value)
    return model, coupling


def _check_record(exp: Experiment, conn, model, errors: list[str]) -> None:
    states = exp.record.states
    where = "record.states"
    if states == "all" and model is not None:
        exp.record.states = list(model.STATE_VARIABLES)
    elif not isinstance(states, list) or not all(isinstance(v, str) for v in states):
        if states != "all":
            errors.append(f"{where}: got {states!r}; expected 'all' or a list of state variables")
    elif model is not None:
        for sv in states:
            if sv not in model.STATE_VARIABLES:
                errors.append(
                    f"{where}: got {sv!r}, not a state variable of {exp.regions.model}"
                    f"{_suggest(sv, list(model.STATE_VARIABLES))}; "
                    f"state variables: {list(model.STATE_VARIABLES)}"
                )
        exp.record.states = list(dict.fromkeys(states))

    eeg = exp.record.eeg
    if eeg is not None:
        from multiscale.eeg import load_leadfield, tvb_eeg65_leadfield

        try:
            if eeg == "tvb65":
                exp.derived["leadfield"] = tvb_eeg65_leadfield(conn)
            else:
                exp.derived["leadfield"] = load_leadfield(eeg, conn, base_dir=exp.path.parent)
        except (ValueError, OSError, TypeError) as err:
            errors.append(f"record.eeg: got {eeg!r}; {err}")


def _check_circuits(exp: Experiment, conn, model, coupling, errors: list[str]) -> dict:
    """Names, models, regions and parameters of the circuits (each checked against its
    class's declarations and constraints); the classes by circuit name."""
    from multiscale.circuits import resolve_circuit

    names: set[str] = set()
    proxies: dict[str, int] = {}
    classes: dict[str, type] = {}
    exp.derived["circuit_classes"] = classes
    exp.derived["circuit_parameters"] = full = {}
    for k, c in enumerate(exp.circuits):
        where = f"circuits[{k}]"
        if c.name is not None:
            if c.name in names:
                errors.append(f"{where}.name: got {c.name!r}; expected a name not used before")
            if not str(c.name).isidentifier():
                errors.append(
                    f"{where}.name: got {c.name!r}; expected letters, digits and _ "
                    f"(it names Brian2 objects), not starting with a digit"
                )
            names.add(c.name)
        if c.model is None:
            continue
        try:
            cls = resolve_circuit(str(c.model), exp.path.parent)
        except Exception as err:  # a user's circuit file can fail in any way
            errors.append(
                f"{where}.model: got {c.model!r}; {err}{_suggest(str(c.model), ['ei_network'])}"
            )
            continue
        classes[c.name] = cls
        declared = {**cls.PARAMETERS, **cls.KNOBS}
        n_before = len(errors)
        c.parameters = _numbers(f"{where}.parameters", c.parameters, declared, errors)
        if len(errors) == n_before:  # constraints need every value read
            values = {key: p.default for key, p in declared.items()} | c.parameters
            problems = cls.check_parameters(values)
            errors += [f"{where}.parameters.{msg}" for msg in problems]
            if not problems:
                full[c.name] = values
        try:
            idx = conn.index(c.region)
        except (ValueError, TypeError) as err:
            errors.append(f"{where}.region: got {c.region!r}; {err}")
            continue
        if idx in proxies.values():
            errors.append(f"{where}.region: got {c.region!r}; another circuit already replaces it")
        proxies[c.name] = idx
        if model is not None and coupling is not None:
            try:
                model.proxy_coupling_state(
                    np.array([1.0]), exp.regions.coupling, coupling.parameter_vector()
                )
            except (ValueError, NotImplementedError) as err:
                errors.append(f"{where}: {err}")
    exp.derived["proxies"] = proxies
    return classes


def _check_perturbations(exp: Experiment, conn, model, classes: dict, errors: list[str]) -> None:
    circuit_by_name = {c.name: c for c in exp.circuits}
    for k, p in enumerate(exp.perturbations):
        where = f"perturbations[{k}]"
        if p.circuit is not None:
            c = circuit_by_name.get(p.circuit)
            if c is None:
                errors.append(
                    f"{where}.circuit: got {p.circuit!r}; expected one of "
                    f"{sorted(map(str, circuit_by_name))}"
                    f"{_suggest(p.circuit, list(map(str, circuit_by_name)))}"
                )
            elif c.name in classes and p.knob not in classes[c.name].KNOBS:
                knobs = list(classes[c.name].KNOBS)
                errors.append(
                    f"{where}.knob: got {p.knob!r}; expected a knob of {c.model}: "
                    f"{knobs}{_suggest(str(p.knob), knobs)}"
                )
            elif c.name in classes and p.value is not None:
                spec = classes[c.name].KNOBS[p.knob]
                current = exp.derived["circuit_parameters"].get(c.name, {}).get(p.knob)
                base_value = spec.default if current is None else current
                new = p.value if p.operation == "set" else p.value * base_value
                problem = spec.problem(new)
                if problem:
                    errors.append(
                        f"{where}.{p.operation}: got {p.value:g}, which makes {p.knob} "
                        f"{new:g}; {problem} for {p.knob}"
                    )
        elif p.regions is not None:
            p.regions = region_set(p.regions, conn, f"{where}.regions", errors)
            if model is not None and p.parameter not in model.PARAMETERS:
                errors.append(
                    f"{where}.parameter: got {p.parameter!r}; expected a parameter of "
                    f"{exp.regions.model}{_suggest(str(p.parameter), list(model.PARAMETERS))}"
                )
        elif isinstance(p.edges, dict):
            p.edges = {
                end: region_set(p.edges.get(end, "all"), conn, f"{where}.edges.{end}", errors)
                for end in ("from", "to")
            }
        elif p.edges is not None:
            errors.append(f"{where}.edges: got {p.edges!r}; expected {{from: ..., to: ...}}")
        elif p.lesion is not None:
            p.lesion = region_set(p.lesion, conn, f"{where}.lesion", errors)
        _check_times(where, p.at_ms, p.until_ms, exp.duration_ms, errors)


def _check_stimuli(exp: Experiment, conn, model, classes: dict, errors: list[str]) -> None:
    circuit_by_name = {c.name: c for c in exp.circuits}
    for k, s in enumerate(exp.stimuli):
        where = f"stimuli[{k}]"
        if s.until_ms is None:
            s.until_ms = exp.duration_ms
        _check_times(where, s.at_ms, s.until_ms, exp.duration_ms, errors)
        period = 1000.0 / s.frequency_hz if s.frequency_hz else None
        pulses = None if s.width_ms is None else s.width_ms * (2 if s.biphasic else 1)
        if s.regions is not None:
            for reg in s.regions:
                try:
                    conn.index(reg)
                except (ValueError, TypeError) as err:
                    errors.append(f"{where}.regions: got {reg!r}; {err}")
            if model is not None and s.variable not in model.STATE_VARIABLES:
                names = list(model.STATE_VARIABLES)
                errors.append(
                    f"{where}.variable: got {s.variable!r}; expected a state variable of "
                    f"{exp.regions.model}: {names}{_suggest(str(s.variable), names)}"
                )
            elif model is not None:
                s.amplitude = _region_stimulus_amplitude(where, s, model, errors)
            if s.kind == "pulse_train" and None not in (period, pulses) and pulses >= period:
                errors.append(
                    f"{where}.width: got {s.width_ms} ms; expected pulses shorter "
                    f"than the period ({period:g} ms)"
                )
            continue
        c = circuit_by_name.get(s.circuit)
        if c is None:
            if s.circuit is not None:
                errors.append(
                    f"{where}.circuit: got {s.circuit!r}; expected one of "
                    f"{sorted(map(str, circuit_by_name))}"
                    f"{_suggest(s.circuit, list(map(str, circuit_by_name)))}"
                )
        elif c.name in classes and s.population not in classes[c.name].POPULATIONS:
            pops = list(classes[c.name].POPULATIONS)
            errors.append(f"{where}.population: got {s.population!r}; expected one of {pops}")
        if s.width_ms is None or exp.brian_dt_ms is None:
            continue
        if s.width_ms < exp.brian_dt_ms:
            errors.append(
                f"{where}.width: got {s.width_ms} ms; expected at least the circuit "
                f"time step ({exp.brian_dt_ms} ms)"
            )
        elif period is not None and pulses >= period:
            errors.append(
                f"{where}.width: got {s.width_ms} ms; expected pulses shorter than "
                f"the period ({period:g} ms)"
            )


def _region_stimulus_amplitude(where: str, s: StimulusSpec, model, errors: list[str]) -> Any:
    """A region stimulus adds to d(variable)/dt: its unit is the variable's unit per ms; a
    bare number means that unit (the model's own, like its parameters)."""
    if s.amplitude is None:  # missing: already reported
        return None
    unit = model.STATE_VARIABLES[s.variable].unit
    unit = "1/ms" if unit == "1" else f"{unit}/ms"
    try:
        return to_float(s.amplitude, unit)
    except QuantityError as err:
        errors.append(
            f"{where}.amplitude: got {s.amplitude!r}; expected a quantity in {unit} ({err})"
        )
        return None


def _check_steps(exp: Experiment, conn, model, errors: list[str]) -> None:
    """Time steps, sampling, BOLD TR, delays and the co-simulation window."""
    dt = exp.regions.dt_ms
    res = exp.cosim.resolution_ms
    rate = exp.record.sampling_rate_hz
    if dt is not None and res is not None and not _multiple(res, dt):
        errors.append(
            f"cosim.resolution: got {res} ms; expected a multiple of the region "
            f"time step regions.integrator.dt ({dt} ms)"
        )
    if res is not None and exp.brian_dt_ms is not None and not _multiple(res, exp.brian_dt_ms):
        errors.append(
            f"cosim.resolution: got {res} ms; expected a multiple of brian.dt "
            f"({exp.brian_dt_ms} ms)"
        )
    if rate is not None and dt is not None and not _multiple(1000.0 / rate, dt):
        errors.append(
            f"record.sampling_rate: got {rate} Hz; expected a "
            f"rate whose period is a multiple of regions.integrator.dt ({dt} ms)"
        )
    speed = exp.connectome.speed_mm_per_ms
    if exp.regions.initial_history is not None and None not in (model, dt, speed):
        _read_initial_history(exp, model, conn, errors)
    bold = exp.record.bold
    if (
        bold is not None
        and None not in (bold.tr_ms, rate)
        and not _multiple(bold.tr_ms, 1000.0 / rate)
    ):
        errors.append(
            f"record.bold.tr: got {bold.tr_ms:g} ms; expected a multiple of the sampling "
            f"period ({1000.0 / rate:g} ms)"
        )
    if None in (dt, speed):
        return
    delays = conn.delay_steps(speed, dt)
    exp.derived["delays"] = delays
    proxies = exp.derived.get("proxies")
    if proxies and not errors:
        _choose_window(exp, conn, delays, proxies, errors)


def _choose_window(exp, conn, delays, proxies, errors) -> None:
    """Window = the smallest delay on an edge into or out of a spiking region, floored to a
    whole number of exchange bins (docs/design.md: then window k of either side needs only
    window k - 1 of the other)."""
    W = conn.weights
    dt = exp.regions.dt_ms
    res_steps = int(round(exp.cosim.resolution_ms / dt))
    idx = list(proxies.values())
    touching = np.zeros_like(W, dtype=bool)
    touching[idx, :] = True
    touching[:, idx] = True
    touching &= W != 0
    touching[idx, idx] = False  # self-edges of spiking regions are dropped (the circuit is local)
    zero = np.argwhere(touching & (delays == 0))
    if len(zero):
        pairs = ", ".join(f"{conn.labels[j]}->{conn.labels[i]}" for i, j in zero[:5])
        if exp.cosim.zero_delay == "error":
            errors.append(
                f"connectome: {len(zero)} edge(s) touching a spiking region have zero "
                f"delay ({pairs}); zero-delay edges cannot be co-simulated. Set "
                f"cosim.zero_delay_edges: clamp to give them one time step"
            )
            return
        delays[touching & (delays == 0)] = 1
        exp.derived["clamped_edges"] = pairs
    min_delay = int(delays[touching].min()) if touching.any() else int(10 * res_steps)
    if exp.cosim.window_ms is not None:
        steps = int(round(exp.cosim.window_ms / dt))
        if steps > min_delay:
            errors.append(
                f"cosim.window: got {exp.cosim.window_ms} ms; expected at most the "
                f"smallest delay on an edge touching a spiking region "
                f"({min_delay * dt:g} ms)"
            )
            return
        if steps % res_steps:
            errors.append(
                f"cosim.window: got {exp.cosim.window_ms} ms; expected a multiple of "
                f"cosim.resolution ({exp.cosim.resolution_ms} ms)"
            )
            return
    else:
        steps = (min_delay // res_steps) * res_steps
        if steps == 0:
            errors.append(
                f"cosim.resolution: got {exp.cosim.resolution_ms} ms; the smallest "
                f"delay touching a spiking region is {min_delay * dt:g} ms: choose a "
                f"resolution at most that"
            )
            return
    exp.derived["window_steps"] = steps
    exp.derived["min_delay_ms"] = min_delay * dt


def _read_initial_history(exp: Experiment, model, conn, errors: list[str]) -> None:
    """regions.initial_history: a .npy array (samples, regions, state variables), oldest
    first, the last sample being the state at t = 0 (TVB's convention); it must reach back
    over the longest delay."""
    path = Path(exp.regions.initial_history)
    if not path.is_absolute():
        path = exp.path.parent / path
    where = "regions.initial_history"
    try:
        hist = np.load(path)
    except (OSError, ValueError) as err:
        errors.append(f"{where}: got {str(path)!r}; cannot read it as a .npy array ({err})")
        return
    shape = (conn.n_regions, len(model.STATE_VARIABLES))
    delays = conn.delay_steps(exp.connectome.speed_mm_per_ms, exp.regions.dt_ms)
    longest = int(delays[conn.weights != 0].max(initial=0))
    if hist.ndim != 3 or hist.shape[1:] != shape:
        errors.append(
            f"{where}: {path} has shape {hist.shape}; expected (samples, "
            f"{shape[0]} regions, {shape[1]} state variables)"
        )
    elif len(hist) <= longest:
        errors.append(
            f"{where}: {path} has {len(hist)} samples; expected more than the "
            f"longest delay ({longest} steps of {exp.regions.dt_ms:g} ms)"
        )
    elif not np.isfinite(hist).all():
        errors.append(f"{where}: {path} contains NaN or infinite values")
    else:
        exp.derived["initial_history"] = hist.astype(float)


def region_set(value: Any, conn, where: str, errors: list[str]) -> np.ndarray:
    """Region indices from a label or index, a list of them, "all", or {hubs: N}: the N
    regions with the largest total (in + out) connection weight."""
    if value == "all":
        return np.arange(conn.n_regions)
    if isinstance(value, dict):
        n = value.get("hubs")
        if set(value) != {"hubs"} or isinstance(n, bool) or not isinstance(n, int) or n < 1:
            errors.append(f"{where}: got {value!r}; expected {{hubs: N}} with N >= 1")
            return np.zeros(0, dtype=int)
        strength = conn.weights.sum(axis=0) + conn.weights.sum(axis=1)
        return np.sort(np.argsort(-strength, kind="stable")[:n])
    items = value if isinstance(value, list) else [value]
    out = []
    for reg in items:
        try:
            out.append(conn.index(reg))
        except (ValueError, TypeError) as err:
            errors.append(f"{where}: got {reg!r}; {err}")
    return np.array(out, dtype=int)


def _numbers(where, given: dict[str, Any], declared: dict, errors: list[str]) -> dict[str, float]:
    out = {}
    for key, value in given.items():
        if key not in declared:
            errors.append(
                f"{where}.{key}: unknown parameter{_suggest(key, list(declared))}; "
                f"parameters: {list(declared)}"
            )
            continue
        try:
            out[key] = to_float(value, declared[key].unit)
        except QuantityError as err:
            errors.append(
                f"{where}.{key}: got {value!r}; expected a quantity in {declared[key].unit} ({err})"
            )
    return out


def _per_region(where, value, unit, conn, errors) -> Any:
    """A scalar, one value per region (list), or {label: value, ..., default: value}."""
    try:
        if isinstance(value, list):
            if len(value) != conn.n_regions:
                errors.append(
                    f"{where}: got a list of {len(value)} values; expected one per "
                    f"region ({conn.n_regions})"
                )
                return 0.0
            return np.array([to_float(v, unit) for v in value])
        if isinstance(value, dict):
            default = value.get("default")
            arr = np.full(conn.n_regions, np.nan)
            for label, v in value.items():
                if label == "default":
                    arr[:] = np.where(np.isnan(arr), to_float(v, unit), arr)
                    continue
                arr[conn.index(label)] = to_float(v, unit)
            if default is None and np.isnan(arr).any():
                errors.append(
                    f"{where}: got a mapping without 'default'; expected a value for "
                    f"every region, or a 'default' entry"
                )
            return arr
        return to_float(value, unit)
    except (QuantityError, ValueError) as err:
        errors.append(f"{where}: got {value!r}; expected a quantity in {unit} ({err})")
        return 0.0


def _check_times(where, at, until, duration, errors) -> None:
    if duration is None:  # missing or invalid: already reported
        return
    if at is not None and at >= duration:
        errors.append(
            f"{where}.at: got {at:g} ms; expected a time before the end ({duration:g} ms)"
        )
    if until is not None and at is not None and until <= at:
        errors.append(f"{where}.until: got {until:g} ms; expected a time after 'at' ({at:g} ms)")


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond the float range
        return False


def _multiple(a: float, b: float) -> bool:
    ratio = a / b
    return abs(ratio - round(ratio)) < 1e-6 and round(ratio) >= 1
