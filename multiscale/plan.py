"""The plan of a run: what a validated experiment resolves to once its connectome, region
model, coupling and circuits are known, as small typed objects.

``config`` reads a file's fields (syntax, units, ranges) into an `Experiment`; this
module checks them against the connectome and the models' declarations, and builds the
:class:`Plan` a `multiscale.cosim.Simulation` runs: the connectome, the mass
model with its parameter matrix, delays and initial state, each circuit with its class,
region and parameters, the exchange window (chosen here and nowhere else), the lead field
and the region stimuli. Nothing here simulates; every problem found becomes one line of
the ConfigError that ``config.load_experiment`` raises, before any rank does work.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from multiscale.config import Experiment, StimulusSpec
from multiscale.config import suggest as _suggest
from multiscale.measures import evoked_onsets
from multiscale.quantities import QuantityError, to_float

if TYPE_CHECKING:
    from multiscale.circuit import Circuit
    from multiscale.connectome import Connectome
    from multiscale.coupling import Coupling
    from multiscale.region import RegionModel
    from multiscale.resources import Estimate
    from multiscale.sensors import Gain
    from multiscale.sources import SourceModel
    from multiscale.sparse import SparseMatrix
    from multiscale.stimuli import RegionStimulus

#: a masses-only window's noise, drive and observable (values per array): ~16 MB at most
_WINDOW_VALUES = 2**21


@dataclass(frozen=True, eq=False)
class Window:
    """The exchange window: how many region steps each side runs before the two swap
    what they produced (docs/design.md)."""

    steps: int  #: region steps per window
    dt_ms: float  #: the region time step (ms)
    resolution_steps: int  #: region steps per exchange bin (cosim.resolution)
    total_steps: int  #: region steps of the whole run, a whole number of bins
    #: the smallest delay on an edge touching a spiking region (ms); None without circuits
    min_delay_ms: float | None
    #: edges touching a spiking region whose zero delay was clamped to one step
    clamped_edges: str | None = None

    @property
    def ms(self) -> float:
        """The window's length (ms)."""
        return self.steps * self.dt_ms

    @property
    def count(self) -> int:
        """How many windows the run has (the last may be cut short)."""
        return math.ceil(self.total_steps / self.steps)


@dataclass(frozen=True, eq=False)
class Masses:
    """The neural masses on every node: the engine's inputs."""

    model: type[RegionModel]
    coupling: Coupling
    #: the coupling's parameters, in the order of ``coupling.parameters``
    coupling_parameters: np.ndarray
    #: (regions, parameters), in the model's declared units
    parameters: np.ndarray
    #: conduction delays in region steps on every weighted pair
    #: (``Connectome.delay_matrix``; zero delays clamped if asked); ``delays.toarray()``
    #: is the dense (n, n) matrix the engine takes
    delays: SparseMatrix
    dt_ms: float
    method: str  #: "heun" or "euler"
    #: noise intensity per state variable, or None (deterministic)
    noise: np.ndarray | None
    #: the state at t = 0 per state variable, or a history (samples, regions, variables)
    initial: np.ndarray
    #: reproduce TVB's float32 history, weights and coupling sums (see the engine)
    tvb_compat: bool = False


@dataclass(frozen=True, eq=False)
class CircuitPlan:
    """One Brian2 circuit and the region it replaces."""

    name: str
    cls: type[Circuit]
    region: int  #: index of the region in the connectome
    label: str  #: the region's label
    #: parameters and knobs as the experiment gives them, in their declared units
    given: dict[str, float]
    #: every parameter and knob, defaults filled in
    values: dict[str, float]
    input_gain: float
    output_gain: float
    field_gain: float

    @property
    def n_neurons(self) -> int:
        return self.cls.n_neurons(self.given)


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything a run needs, resolved and checked."""

    experiment: Experiment
    connectome: Connectome
    masses: Masses
    #: circuits by name, in the experiment's order
    circuits: dict[str, CircuitPlan]
    window: Window
    #: sensor kind ("eeg", "meg", "seeg") -> its forward model, for each kind recorded
    sensors: dict[str, Gain]
    #: how each region's signal becomes its current dipole moment (nA m); None when
    #: nothing needs it (no sensors, record.sources false)
    sources: SourceModel | None
    region_stimuli: tuple[RegionStimulus, ...]
    estimate: Estimate
    #: what a user should know that is not an error (a measure left out of a shortened run)
    notes: tuple[str, ...] = ()

    @property
    def proxies(self) -> dict[str, int]:
        """Circuit name -> index of the region it replaces."""
        return {name: c.region for name, c in self.circuits.items()}


@dataclass
class Resolved:
    """What the checks have resolved so far; a part stays None (or empty) where a field it
    depends on was reported. The memory estimate reads it even when there are errors."""

    connectome: Connectome | None = None
    model: type[RegionModel] | None = None
    coupling: Coupling | None = None
    parameters: np.ndarray | None = None
    sensors: dict[str, Gain] = field(default_factory=dict)
    circuit_classes: dict[str, type[Circuit]] = field(default_factory=dict)
    #: circuit name -> every parameter and knob (defaults filled), where all are valid
    circuit_values: dict[str, dict[str, float]] = field(default_factory=dict)
    proxies: dict[str, int] = field(default_factory=dict)
    delays: SparseMatrix | None = None
    window: Window | None = None
    initial_history: np.ndarray | None = None
    #: what a user should know that is not an error (printed by validate and run)
    notes: list[str] = field(default_factory=list)


def build(exp: Experiment, got: Resolved, estimate: Estimate) -> Plan:
    """The Plan of an experiment whose checks found no problem."""
    from multiscale.stimuli import RegionStimulus, Waveform

    r, conn, model = exp.regions, got.connectome, got.model
    names = model.state_names()
    noise = None
    if r.noise:
        noise = np.zeros(len(names))
        for sv, D in r.noise.items():
            noise[names.index(sv)] = D
    initial = model.initial_state()
    for sv, v in r.initial.items():
        initial[names.index(sv)] = v
    masses = Masses(
        model=model,
        coupling=got.coupling,
        coupling_parameters=got.coupling.parameter_vector(r.coupling_parameters),
        parameters=got.parameters,
        delays=got.delays,
        dt_ms=r.dt_ms,
        method=r.method,
        noise=noise,
        initial=initial if got.initial_history is None else got.initial_history,
        tvb_compat=r.tvb_compat,
    )
    circuits = {
        c.name: CircuitPlan(
            name=c.name,
            cls=got.circuit_classes[c.name],
            region=got.proxies[c.name],
            label=conn.labels[got.proxies[c.name]],
            given=dict(c.parameters),
            values=got.circuit_values[c.name],
            input_gain=c.input_gain,
            output_gain=c.output_gain,
            field_gain=c.field_gain,
        )
        for c in exp.circuits
    }
    stimuli = tuple(
        RegionStimulus(
            regions=np.array([conn.index(reg) for reg in st.regions]),
            variable=names.index(st.variable),
            waveform=Waveform(
                st.kind,
                st.amplitude,
                st.at_ms,
                st.until_ms,
                st.frequency_hz,
                st.width_ms,
                st.phase_rad,
                st.biphasic,
            ),
        )
        for st in exp.stimuli
        if st.regions is not None
    )
    return Plan(
        experiment=exp,
        connectome=conn,
        masses=masses,
        circuits=circuits,
        window=got.window,
        sensors=dict(got.sensors),
        sources=_sources(exp, got, circuits),
        region_stimuli=stimuli,
        estimate=estimate,
        notes=tuple(got.notes),
    )


def resolve(exp: Experiment, errors: list[str]) -> Resolved:
    """Checks against the connectome, the region model, the coupling and the circuits'
    declarations; each part runs unless a field it depends on was already reported. What
    could be resolved is returned, even with errors (the memory estimate reads it)."""
    from multiscale.connectome import ConnectomeError, load_connectome

    got = Resolved()
    try:
        got.connectome = load_connectome(exp.connectome.source, base_dir=exp.path.parent)
    except (ConnectomeError, ValueError, OSError, TypeError, KeyError) as err:
        errors.append(f"connectome.source: {err}")
        return got
    _check_regions(exp, got, errors)
    _check_record(exp, got, errors)
    _check_circuits(exp, got, errors)
    _check_perturbations(exp, got, errors)
    _check_stimuli(exp, got, errors)
    _check_measures(exp, got, errors)
    _check_steps(exp, got, errors)
    return got


def _check_regions(exp: Experiment, got: Resolved, errors: list[str]) -> None:
    """The region model and coupling (None where unknown), their parameters, noise and
    initial state."""
    from multiscale.coupling import COUPLINGS
    from multiscale.regions import REGION_MODELS, resolve_region_model

    r = exp.regions
    conn = got.connectome
    if r.model is None:  # missing: already reported
        return
    try:
        model = resolve_region_model(str(r.model), exp.path.parent)
    except Exception as err:  # a user's model file can fail in any way
        errors.append(
            f"regions.model: got {r.model!r}; {err}{_suggest(str(r.model), list(REGION_MODELS))}"
        )
        return
    got.model = model
    if r.dt_ms is None:  # the step that keeps this model converged
        r.dt_ms = float(model.DEFAULT_DT)
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
        got.coupling = coupling
    values = {}
    if r.parameter_set is not None:
        chosen = model.PARAMETER_SETS.get(r.parameter_set)
        if chosen is None:
            sets = list(model.PARAMETER_SETS)
            errors.append(
                f"regions.parameter_set: got {r.parameter_set!r}; expected one of {r.model}'s "
                f"sets {sets}{_suggest(r.parameter_set, sets)}"
            )
        else:
            values.update(chosen.values)
    for pname, value in r.parameters.items():
        where = f"regions.parameters.{pname}"
        if pname not in model.PARAMETERS:
            errors.append(
                f"{where}: unknown parameter of {r.model}{_suggest(pname, list(model.PARAMETERS))}"
                f"; parameters: {list(model.PARAMETERS)}"
            )
            continue
        values[pname] = _per_region(where, value, model.PARAMETERS[pname].unit, conn, errors)
    got.parameters = model.parameter_matrix(conn.n_regions, values)
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


def _check_record(exp: Experiment, got: Resolved, errors: list[str]) -> None:
    conn, model = got.connectome, got.model
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

    from multiscale.region import DipoleScale

    for kind, spec in exp.record.sensors().items():
        gain = _forward_model(exp, kind, spec, conn, got.notes, errors)
        if gain is not None:
            got.sensors[kind] = gain
    needs_dipole = (got.sensors or exp.record.sources) and model is not None
    if needs_dipole and not isinstance(getattr(model, "DIPOLE", None), DipoleScale):
        errors.append(
            f"regions.model: {exp.regions.model} declares no DIPOLE (how its observable "
            "becomes a current dipole moment), which sensors and record.sources need; "
            "add DIPOLE = DipoleScale(rest, full_scale, why) or set record.eeg: null "
            "and record.sources: false"
        )


def _forward_model(exp: Experiment, kind: str, spec, conn, notes: list[str], errors: list[str]):
    """The Gain of ``record.<kind>``, or None (reported in errors, or a note for the
    default EEG on a connectome without centres)."""
    from multiscale.sensors import ForwardModelError, forward_model, gain_file

    where = f"record.{kind}"
    try:
        if isinstance(spec, dict):
            gain = gain_file(
                spec["file"], conn, spec["unit"], sensor_kind=kind, base_dir=exp.path.parent
            )
        elif spec.endswith((".npy", ".npz")):
            units = "V/(A m)" if kind != "meg" else "T/(A m)"
            raise ForwardModelError(
                f"a gain file needs its unit: record.{kind}: {{file: {spec}, unit: {units}}}"
            )
        elif spec == "auto":
            if conn.centres_mm is None:
                notes.append(
                    f"{where}: no EEG: connectome {conn.name!r} has no region centres for the "
                    "default sphere model (give it centres, or a gain file: "
                    "record.eeg: {file: gain.npz, unit: V/(A m)})"
                )
                return None
            gain = forward_model("sphere", conn)
        elif kind == "seeg":
            contacts = spec.removeprefix("seeg:")
            gain = forward_model(f"seeg:{contacts}", conn, base_dir=exp.path.parent)
        else:
            gain = forward_model(spec, conn)
    except (ForwardModelError, ValueError, OSError, TypeError) as err:
        errors.append(f"{where}: got {spec!r}; {err}")
        return None
    if gain.kind != kind:
        errors.append(
            f"{where}: got {spec!r}, a {gain.kind.upper()} forward model; "
            f"put it under record.{gain.kind}"
        )
        return None
    return gain


def _sources(exp: Experiment, got: Resolved, circuits: dict[str, CircuitPlan]):
    """The source rule of every region, where sensors or record.sources need it."""
    if not (got.sensors or exp.record.sources):
        return None
    from multiscale.sources import source_model

    return source_model(got.connectome, got.model, circuits)


def _check_circuits(exp: Experiment, got: Resolved, errors: list[str]) -> None:
    """Names, models, regions and parameters of the circuits (each checked against its
    class's declarations and constraints); the classes by circuit name."""
    from multiscale.circuits import resolve_circuit

    names: set[str] = set()
    proxies: dict[str, int] = {}
    classes: dict[str, type] = {}
    conn, model, coupling = got.connectome, got.model, got.coupling
    classes, full = got.circuit_classes, got.circuit_values
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
    got.proxies = proxies


def _check_perturbations(exp: Experiment, got: Resolved, errors: list[str]) -> None:
    conn, model, classes = got.connectome, got.model, got.circuit_classes
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
                current = got.circuit_values.get(c.name, {}).get(p.knob)
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


def _check_stimuli(exp: Experiment, got: Resolved, errors: list[str]) -> None:
    conn, model, classes = got.connectome, got.model, got.circuit_classes
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


def _check_measures(exp: Experiment, got: Resolved, errors: list[str]) -> None:
    """Each measure's signal exists in the output this experiment writes, its windows lie
    in the run and its band below the signal's Nyquist frequency.

    A window past the end is an error in the file as written; when the duration was
    overridden (``--set duration=...``, a sweep), the measures that no longer fit are left
    out with a note: shortening a run for a quick look is not a mistake."""
    conn, classes = got.connectome, got.circuit_classes
    circuit_names = [str(c.name) for c in exp.circuits]
    seen: set[str] = set()
    shortened = "duration" in exp.overrides
    kept = []
    for k, m in enumerate(exp.measures):
        where = f"measures[{k}]"
        if m.name in seen:
            errors.append(f"{where}.name: got {m.name!r}; expected a name not used before")
        seen.add(m.name)
        late = [
            (key, w) for key, w in (("window", m.window_ms), ("versus", m.versus_ms))
            if w is not None and exp.duration_ms is not None and w[1] > exp.duration_ms
        ]  # fmt: skip
        if late and shortened:
            got.notes.append(
                f"{where} ({m.name}) left out: its {late[0][0]} ends at "
                f"{late[0][1][1] / 1000:g} s, after this run's {exp.duration_ms / 1000:g} s"
            )
            continue
        kept.append(m)
        for key, window in late:
            errors.append(
                f"{where}.{key}: got {window[0]:g}-{window[1]:g} ms; expected a window "
                f"within the run ({exp.duration_ms:g} ms)"
            )
        rate_hz = exp.record.sampling_rate_hz
        if m.signal in ("eeg", "meg", "seeg"):
            gain = got.sensors.get(m.signal)
            if exp.record.sensors().get(m.signal) is None:
                errors.append(
                    f"{where}.signal: got {m.signal!r}; the experiment records no "
                    f"{m.signal.upper()} (record.{m.signal})"
                )
            elif gain is not None and m.channels is not None:
                missing = [c for c in m.channels if c not in gain.channels]
                if missing:
                    errors.append(
                        f"{where}.channels: got {missing}, not channels of "
                        f"record.{m.signal} ({exp.record.sensors()[m.signal]})"
                        f"{_suggest(missing[0], list(gain.channels))}"
                    )
        elif m.signal == "sources" and not exp.record.sources:
            errors.append(f"{where}.signal: got 'sources'; record.sources is false")
        if m.signal in ("regions", "sources") and m.regions is not None:
            for label in m.regions:
                try:
                    conn.index(label)
                except (ValueError, TypeError) as err:
                    errors.append(f"{where}.regions: got {label!r}; {err}")
        if m.circuit is not None:
            if m.circuit not in circuit_names:
                errors.append(
                    f"{where}.circuit: got {m.circuit!r}; expected one of {circuit_names}"
                    f"{_suggest(m.circuit, circuit_names)}"
                )
            elif m.population is not None and m.circuit in classes:
                pops = list(classes[m.circuit].POPULATIONS)
                if m.population not in pops:
                    errors.append(
                        f"{where}.population: got {m.population!r}; expected one of {pops}"
                        f"{_suggest(str(m.population), pops)}"
                    )
                if not exp.record.spikes:
                    what = "population activity" if m.quantity == "spikes" else m.kind
                    errors.append(f"{where}: a {what} counts spikes; record.spikes is false")
            if m.quantity == "spikes":
                rate_hz = 1000.0 / m.bin_ms
            elif exp.cosim.resolution_ms is not None:
                rate_hz = 1000.0 / exp.cosim.resolution_ms
        if m.kind == "evoked" and None not in (m.first_ms, m.every_ms, exp.duration_ms):
            window = m.window_ms or (0.0, exp.duration_ms)
            if not evoked_onsets(m, window):
                errors.append(
                    f"{where}.first: got {m.first_ms / 1000:g} s (every "
                    f"{m.every_ms / 1000:g} s); expected at least one event whose baseline "
                    f"({m.baseline_ms:g} ms before) and response ({m.after_ms:g} ms after) "
                    f"lie in {_window_words(window)}"
                )
        if m.band_hz is not None and rate_hz is not None and m.band_hz[1] > rate_hz / 2:
            errors.append(
                f"{where}.band: got up to {m.band_hz[1]:g} Hz; expected at most the Nyquist "
                f"frequency of the signal ({rate_hz / 2:g} Hz)"
            )
    exp.measures = kept


def _window_words(window: tuple[float, float]) -> str:
    return f"the window {window[0] / 1000:g}-{window[1] / 1000:g} s"


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


def _check_steps(exp: Experiment, got: Resolved, errors: list[str]) -> None:
    """Time steps, sampling, BOLD TR, delays and the co-simulation window."""
    conn, model = got.connectome, got.model
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
        got.initial_history = _read_initial_history(exp, model, conn, errors)
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
    got.delays = conn.delay_matrix(speed, dt)
    if not errors:
        got.window = _choose_window(
            exp, conn, len(model.STATE_VARIABLES), got.delays, got.proxies, errors
        )


def _choose_window(exp, conn, n_states, delays, proxies, errors) -> Window | None:
    """The one place the exchange window is chosen. With circuits: the smallest delay on an
    edge into or out of a spiking region, floored to a whole number of exchange bins (then
    window k of either side needs only window k - 1 of the other: docs/design.md); zero
    delays there are clamped to one step (``cosim.zero_delay_edges: clamp``), in
    ``delays``. Without circuits: 10 exchange bins, so perturbations act within 10 bins of
    their time; with no perturbation either, nothing happens at a boundary but Python's
    bookkeeping (about 0.2 ms a window), so up to 100 bins, as long as a window's noise,
    drive and observable stay within _WINDOW_VALUES values. The window changes no result:
    the noise stream is drawn in order whatever its chunks."""
    W = conn.weights_sparse
    dt = exp.regions.dt_ms
    res_steps = int(round(exp.cosim.resolution_ms / dt))
    total = int(np.ceil(exp.duration_ms / dt / res_steps)) * res_steps
    if not proxies:
        bins = 10
        if not exp.perturbations:
            per_bin = res_steps * conn.n_regions * n_states
            bins = max(bins, min(100, _WINDOW_VALUES // per_bin))
        steps = min(total, bins * res_steps)
        return Window(steps, dt, res_steps, total, min_delay_ms=None)
    # the weighted edges into or out of a spiking region, in row-major order; the
    # self-edges of spiking regions are dropped (the circuit is local)
    spiking = np.zeros(conn.n_regions, dtype=bool)
    spiking[list(proxies.values())] = True
    rows, cols = W.rows(), W.indices
    touching = (spiking[rows] | spiking[cols]) & (rows != cols)
    rows, cols = rows[touching], cols[touching]
    # delays holds every weighted pair (Connectome.delay_matrix): the entries of these edges
    entry = np.searchsorted(delays.keys(), rows * conn.n_regions + cols)
    edge_delays = delays.data[entry]
    zero = edge_delays == 0
    clamped = None
    if zero.any():
        pairs = ", ".join(
            f"{conn.labels[j]}->{conn.labels[i]}"
            for i, j in zip(rows[zero][:5], cols[zero][:5], strict=True)
        )
        if exp.cosim.zero_delay == "error":
            errors.append(
                f"connectome: {int(zero.sum())} edge(s) touching a spiking region have zero "
                f"delay ({pairs}); zero-delay edges cannot be co-simulated. Set "
                f"cosim.zero_delay_edges: clamp to give them one time step"
            )
            return None
        delays.data[entry[zero]] = 1
        edge_delays = delays.data[entry]
        clamped = pairs
    min_delay = int(edge_delays.min()) if len(edge_delays) else int(10 * res_steps)
    if exp.cosim.window_ms is not None:
        steps = int(round(exp.cosim.window_ms / dt))
        if steps > min_delay:
            errors.append(
                f"cosim.window: got {exp.cosim.window_ms} ms; expected at most the "
                f"smallest delay on an edge touching a spiking region "
                f"({min_delay * dt:g} ms)"
            )
            return None
        if steps % res_steps:
            errors.append(
                f"cosim.window: got {exp.cosim.window_ms} ms; expected a multiple of "
                f"cosim.resolution ({exp.cosim.resolution_ms} ms)"
            )
            return None
    else:
        steps = (min_delay // res_steps) * res_steps
        if steps == 0:
            errors.append(
                f"cosim.resolution: got {exp.cosim.resolution_ms} ms; the smallest "
                f"delay touching a spiking region is {min_delay * dt:g} ms: choose a "
                f"resolution at most that"
            )
            return None
    return Window(steps, dt, res_steps, total, min_delay_ms=min_delay * dt, clamped_edges=clamped)


def _read_initial_history(exp: Experiment, model, conn, errors: list[str]) -> np.ndarray | None:
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
        return None
    shape = (conn.n_regions, len(model.STATE_VARIABLES))
    delays = conn.delay_matrix(exp.connectome.speed_mm_per_ms, exp.regions.dt_ms)
    w = conn.weights_sparse
    longest = int(delays.at(w.rows(), w.indices).max(initial=0))
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
        return hist.astype(float)
    return None


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
        w = conn.weights_sparse  # the dense sums (axis 0 + axis 1), to the bit
        strength = w.col_sums() + w.row_sums()
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
