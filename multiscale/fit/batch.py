"""Many masses-only variants of one experiment in one compiled call: what a fit evaluates.

A fit scores thousands of candidate parameter sets. As runs, each costs a process start,
the set-up of a run, an HDF5 output and one core. ``simulate_batch`` integrates B
variants (``load_experiment(path, overrides)`` of one file, each with its own overrides)
together: one ``EngineBatch`` (multiscale.engine.batch) whose compiled loop spreads the
members over the cores, and the signals kept in memory.

Member k's signals are, to the bit, what ``multiscale.api.run(exps[k])`` stores (its
regions/data, eeg/data, meg/data, seeg/data), because every step of a run is redone the
same way here:

- its engine is built as the run builds it (``cosim.region_engine``): same parameters,
  initial history, and its own noise stream from its own seed, drawn in the same order
  (``Engine.draw_noise``; the stream of a member does not depend on the other members);
- the engine's loop is the single-run loop, called once per member (batch_kernel.py);
- perturbations act at the run's window boundaries (``PerturbationSchedule``), region
  stimuli are added as the run adds them (``Engine.with_stimulus``), window by window;
- the recording is the run's: block means over each sample (``TemporalAverage``), the
  source rule (``SourceModel.moments``), the sensor projection
  (``recording.sensor_projection``) applied to each window's samples as one matrix
  product of the same shape as the run's (BLAS sums a product's terms in an order that
  depends on its shape, so a product over a longer stretch would differ in the last bit).

Where a run would stop because a member's state stopped being finite (a
FloatingPointError naming the regions), that member's signals are NaN from the start of
the stretch in which it was found (at most ``_MAX_WINDOWS`` windows) and it is no longer
integrated; the other members go on.

What cannot be batched (``batchable`` says which, in one line): circuits (a batch has
no Brian2), TVB-compatible runs (the batch has only the float64 loop), and variants that
differ in anything the members share: model, coupling function, integration method, step,
duration, exchange window (cosim.resolution), connectome, conduction delays, sampling
rate, forward models, source rule. Variants may differ in region parameters (global or per
region), coupling parameters, noise, initial state, seed, region perturbations (parameters,
edges, lesions) and region stimuli.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from multiscale.config import Experiment
from multiscale.cosim import region_engine
from multiscale.engine import Engine
from multiscale.engine.batch import EngineBatch
from multiscale.fit.signals import SensorData
from multiscale.observers import TemporalAverage
from multiscale.perturbations import PerturbationSchedule
from multiscale.plan import Plan
from multiscale.recording import sample_steps, sensor_projection
from multiscale.stimuli import region_stimulus, stimulus_on

#: the most memory (bytes) the observable of one stretch of windows takes, and the members'
#: step increments (noise, stimuli) of one call: it sets how many windows one stretch
#: holds and how many members one call of the batched loop advances
_BUFFER_BYTES = 64 << 20
#: the most windows one call integrates (a call's own cost is then far below its work)
_MAX_WINDOWS = 20


def batchable(exps: Sequence[Experiment]) -> str | None:
    """None if these experiments (variants of one file: ``load_experiment(path,
    overrides)``) can be simulated as one batch by ``simulate_batch``; else why not, in
    one line a user can read (e.g. "circuits: rM1 is a spiking circuit (m1); ...")."""
    if not exps:
        return "no experiments"
    for exp in exps:
        reason = _not_batchable(exp)
        if reason is not None:
            return reason
    first = exps[0].plan
    for exp in exps[1:]:
        for field, same in _SHARED:
            if not same(first, exp.plan):
                return f"the variants differ in {field}; a batch shares it"
    return None


def simulate_batch(
    exps: Sequence[Experiment], *, threads: int | None = None
) -> list[dict[str, SensorData]]:
    """What a run of each experiment records, in memory, integrated as one batch.

    exps: validated experiments that ``batchable`` accepts (masses only; variants of one
        file).
    threads: threads for the batched loop (default: NUMBA_NUM_THREADS, by default the
        number of cores); also draws the members' noise.

    Returns, for each experiment in order, ``{"regions": ..., <kind>: ...}``: the region
    observable (samples x regions, in the model's observable unit) and each sensor kind
    the experiment records ("eeg" in uV average-referenced, "seeg" in uV, "meg" in fT), at
    record.sampling_rate, the same samples as the run's output file to the bit. Raises
    ValueError with ``batchable``'s reason if they cannot share a batch."""
    reason = batchable(exps)
    if reason is not None:
        raise ValueError(f"cannot simulate as one batch: {reason}")
    plans = [exp.plan for exp in exps]
    engines = [region_engine(plan) for plan in plans]
    batch = EngineBatch(engines, threads)
    record = _Recording(plans[0], len(plans))
    members = [_Member(plan, engine) for plan, engine in zip(plans, engines, strict=True)]
    _integrate(batch, members, record, plans[0])
    return record.signals()


# --- what members must share ---------------------------------------------------------------
def _not_batchable(exp: Experiment) -> str | None:
    """Why this experiment on its own cannot be a batch member, or None."""
    plan = exp.plan
    if plan is None:
        return f"{exp.name}: not validated (load it with load_experiment)"
    if plan.circuits:
        c = next(iter(plan.circuits.values()))
        return f"circuits: {c.label} is a spiking circuit ({c.name}); a batch runs masses only"
    if plan.masses.tvb_compat:
        return "regions.integrator.tvb_compat: the batch runs the float64 loop only"
    return None


def _same_sparse(a, b) -> bool:
    return a is b or (
        a.n == b.n
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


def _same_sensors(a: Plan, b: Plan) -> bool:
    if a.sensors.keys() != b.sensors.keys():
        return False
    return all(
        ga is gb
        or (list(ga.channels) == list(gb.channels) and np.array_equal(ga.matrix, gb.matrix))
        for ga, gb in ((a.sensors[k], b.sensors[k]) for k in a.sensors)
    )


def _same_sources(a: Plan, b: Plan) -> bool:
    sa, sb = a.sources, b.sources
    if sa is None or sb is None:
        return sa is sb
    return np.array_equal(sa.scale, sb.scale) and np.array_equal(sa.rest, sb.rest)


#: (what the user changed, whether two plans agree on it) for everything members share
_SHARED: tuple[tuple[str, Callable[[Plan, Plan], bool]], ...] = (
    ("regions.model", lambda a, b: a.masses.model is b.masses.model),
    ("regions.coupling.kind", lambda a, b: a.masses.coupling is b.masses.coupling),
    ("regions.integrator.method", lambda a, b: a.masses.method == b.masses.method),
    ("regions.integrator.dt", lambda a, b: a.masses.dt_ms == b.masses.dt_ms),
    ("duration", lambda a, b: a.window.total_steps == b.window.total_steps),
    (
        "cosim.resolution (the exchange window)",
        lambda a, b: (
            (a.window.steps, a.window.resolution_steps)
            == (b.window.steps, b.window.resolution_steps)
        ),
    ),
    (
        "connectome",
        lambda a, b: (
            a.connectome.labels == b.connectome.labels
            and _same_sparse(a.connectome.weights_sparse, b.connectome.weights_sparse)
        ),
    ),
    (
        "conduction delays (connectome.conduction_speed)",
        lambda a, b: _same_sparse(a.masses.delays, b.masses.delays),
    ),
    (
        "record.sampling_rate",
        lambda a, b: a.experiment.record.sampling_rate_hz == b.experiment.record.sampling_rate_hz,
    ),
    ("the sensors recorded (record.eeg, record.meg, record.seeg)", _same_sensors),
    ("the source rule (record.sources, the connectome's areas)", _same_sources),
)


# --- one member's run ----------------------------------------------------------------------
@dataclass
class _Member:
    """What a run of one member does besides integrating: its engine's noise, its region
    stimuli and its perturbations (their schedule, which writes into the batch's arrays
    through the engine)."""

    plan: Plan
    engine: Engine

    def __post_init__(self) -> None:
        self.schedule = PerturbationSchedule(self.plan, self.engine, {})
        self.stimuli = self.plan.region_stimuli
        noise = self.plan.masses.noise
        #: the state variables it draws noise for (what its increments may hold besides
        #: a stimulus)
        self.noisy = frozenset(() if noise is None else np.flatnonzero(noise).tolist())
        self.diverged = False

    def stimuli_on(self, first: int, n: int) -> tuple[bool, ...]:
        """Which of its stimuli reach into steps first .. first + n - 1."""
        dt = self.engine.dt
        return tuple(stimulus_on([s], first, n, dt) for s in self.stimuli)


class _Increments:
    """The step increments of the members advanced in one call: a slot (steps, regions,
    state variables) per member, reused call after call by other members. A slot keeps
    what its variables may hold, so it is zeroed only when a member needs zeros where the
    previous one left values (another noisy variable, a stimulus)."""

    def __init__(self, slots: int, steps: int, shape: tuple[int, ...]) -> None:
        self.array = np.zeros((slots, steps, *shape))
        #: per slot: the variables that may be non-zero (None: any)
        self.holds: list[frozenset | None] = [frozenset()] * slots

    def fill(self, a: int, m: _Member, first: int, n: int) -> bool:
        """Slot a := member m's additive terms of steps first .. first + n - 1, as its
        run's ``advance`` makes them (noise from its own stream, then dt x its stimulus);
        whether it adds them (its run's ``stochastic``). Its stimuli are on in all of
        these steps' windows or in none (``_integrate`` cuts the calls so)."""
        e, out = m.engine, self.array[a]
        if e.stochastic:
            held = self.holds[a]
            if held is None or not held <= m.noisy:
                out[:] = 0.0
            e.draw_noise(n, out=out[:n])
            self.holds[a] = m.noisy
        stim = region_stimulus(m.stimuli, first, n, e.dt, e.X.shape)
        if stim is None:
            return e.stochastic
        out[:n] = e.with_stimulus(n, out[:n], e.stochastic, stim)
        self.holds[a] = None
        return True

    def fill_many(self, slots: range, members: list[_Member], first: int, n: int) -> list[bool]:
        """``fill`` of several slots (one thread's share)."""
        return [self.fill(a, m, first, n) for a, m in zip(slots, members, strict=True)]


def _integrate(batch: EngineBatch, members: list[_Member], record: _Recording, plan: Plan) -> None:
    """The run's window loop for every member: perturbations at each window boundary,
    then as many windows as can share one call of the batched loop (none of the members'
    perturbations acts inside them, and each stimulus is on in all of them or in none),
    integrated a group of members at a time (each member's history stays in the cache
    over the whole stretch), then their record."""
    w = plan.window
    dt, steps, n_windows = w.dt_ms, w.steps, w.count
    B = len(members)
    shape = batch.X.shape[1:]

    def window(k: int) -> tuple[int, int]:  # first step and number of steps, as the run's
        first = k * steps
        return first, min(steps, w.total_steps - first)

    def events(k: int) -> list:  # which stimuli each member has on in window k
        return [m.stimuli_on(*window(k)) for m in members]

    # windows per call: the observable of every member over them in _BUFFER_BYTES
    most = max(1, min(_MAX_WINDOWS, _BUFFER_BYTES // (steps * B * batch.n_regions * 8)))
    needs = any(m.engine.stochastic or m.stimuli for m in members)
    # members per call: their increments over those windows in _BUFFER_BYTES, and at
    # least one per thread
    per_member = most * steps * int(np.prod(shape)) * 8
    group = min(B, max(batch.threads, _BUFFER_BYTES // per_member)) if needs else B
    increments = _Increments(group, most * steps, shape) if needs else None
    none = np.zeros((group, 1, 1, 1))
    with ThreadPoolExecutor(batch.threads) as pool:
        k = 0
        while k < n_windows:
            first = window(k)[0]
            for m in members:
                m.schedule.apply(first * dt, "regions")
            on = events(k)
            k1 = k + 1
            while (
                k1 < n_windows
                and k1 - k < most
                and not any(m.schedule.acts_at(window(k1)[0] * dt, "regions") for m in members)
                and events(k1) == on
            ):
                k1 += 1
            n = sum(window(j)[1] for j in range(k, k1))
            active = [b for b, m in enumerate(members) if not m.diverged]
            obs = np.full((n, B, batch.n_regions), np.nan)
            for g in range(0, len(active), group):
                ids = active[g : g + group]
                flags = np.zeros(len(ids), dtype=bool)
                if increments is not None:
                    flags[:] = _fill(
                        pool, batch.threads, increments, [members[b] for b in ids], first, n
                    )
                terms = none if increments is None else increments.array
                batch.advance(n, ids, terms[: len(ids)], flags, out=obs)
            finite = np.isfinite(batch.X[active]).all(axis=(1, 2))
            for b in np.asarray(active)[~finite]:
                members[b].diverged = True  # where its run stops (cosim's _check_finite)
            record.windows(obs, [window(j)[1] for j in range(k, k1)], members)
            k = k1


def _fill(
    pool: ThreadPoolExecutor,
    threads: int,
    increments: _Increments,
    members: list[_Member],
    first: int,
    n: int,
) -> list[bool]:
    """``_Increments.fill`` of slots 0 .. len(members) - 1, a share per thread (numpy
    lets go of the GIL while it draws); whether each member adds its increments."""
    shares = [s for s in np.array_split(np.arange(len(members)), threads) if len(s)]
    jobs = [(range(s[0], s[-1] + 1), [members[a] for a in s], first, n) for s in shares]
    if len(jobs) == 1:
        return increments.fill_many(*jobs[0])
    done = [pool.submit(increments.fill_many, *job) for job in jobs]
    return [flag for future in done for flag in future.result()]


class _Recording:
    """The run's record of every member, kept in memory: region samples (block means of
    the observable), their source moments and each sensor kind's rows."""

    def __init__(self, plan: Plan, n_members: int) -> None:
        exp = plan.experiment
        self.rate_hz = exp.record.sampling_rate_hz
        self.period = sample_steps(self.rate_hz, plan.window.dt_ms)
        self.decimate = TemporalAverage(self.period)
        self.sources = plan.sources
        self.labels = tuple(plan.connectome.labels)
        self.unit = plan.masses.model.OBSERVABLE[1]
        self.projections = {k: sensor_projection(k, g) for k, g in plan.sensors.items()}
        self.channels = {k: tuple(g.channels) for k, g in plan.sensors.items()}
        self.n_members = n_members
        self.steps_done = 0
        self.regions: list[np.ndarray] = []  # (samples, members, regions) per stretch
        self.sensors: dict[str, list[np.ndarray]] = {k: [] for k in plan.sensors}

    def windows(self, obs: np.ndarray, lengths: list[int], members: list[_Member]) -> None:
        """Record consecutive windows of ``lengths`` steps whose observable is obs
        (steps, members, regions), as the run records each window."""
        for b, m in enumerate(members):
            obs[:, b, m.schedule.silenced] = 0.0  # a lesioned region has no source
        samples = self.decimate(obs)  # the same blocks as the run's, window by window
        nan = [b for b, m in enumerate(members) if m.diverged]
        samples[:, nan] = np.nan
        self.regions.append(samples)
        if self.sources is None:
            self.steps_done += sum(lengths)
            return
        moments = self.sources.moments(samples)
        for b, m in enumerate(members):
            moments[:, b, m.schedule.silenced] = 0.0
        moments = np.ascontiguousarray(moments.transpose(1, 0, 2))  # members, samples, regions
        # the blocks start at step 0: window j ends at step ends[j] with ends[j] // period
        # samples done; the run projects each window's samples with one product
        first = self.steps_done // self.period
        ends = self.steps_done + np.cumsum(lengths)
        self.steps_done = int(ends[-1])
        cuts = [0, *(int(e) // self.period - first for e in ends)]
        for kind, (projection, _) in self.projections.items():
            parts = [
                moments[:, a:z] @ projection
                for a, z in zip(cuts[:-1], cuts[1:], strict=True)
                if z > a
            ]
            if parts:
                self.sensors[kind].append(np.concatenate(parts, axis=1))

    def signals(self) -> list[dict[str, SensorData]]:
        """Each member's signals, as SensorData by kind."""
        regions = np.concatenate(self.regions) if self.regions else np.zeros((0, 0, 0))
        sensors = {
            k: np.concatenate(parts, axis=1) if parts else None for k, parts in self.sensors.items()
        }
        out = []
        for b in range(self.n_members):
            member = {
                "regions": SensorData(
                    "regions",
                    self.labels,
                    np.ascontiguousarray(regions[:, b]),
                    self.unit,
                    self.rate_hz,
                )
            }
            for kind, (projection, unit) in self.projections.items():
                data = sensors[kind]
                rows = data[b] if data is not None else np.zeros((0, projection.shape[1]))
                member[kind] = SensorData(kind, self.channels[kind], rows, unit, self.rate_hz)
            out.append(member)
        return out
