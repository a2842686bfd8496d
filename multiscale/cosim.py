"""Windowed co-simulation of the whole-brain engine and Brian2 circuits, on one process or
on MPI ranks, through one code path.

The protocol (docs/design.md): every edge into or out of a spiking region is delayed by at
least one window T, so window k of either side needs only window k - 1 of the other.
At each window boundary k:

1. every circuit hands over its output for window k - 1 (rate and field proxy per
   exchange bin; its spikes go to its rank's store);
2. the engine writes those outputs into the proxy nodes' history, finishes the record of
   window k - 1 (region traces, EEG), computes the delayed, weighted input each circuit
   receives during window k, sends it, applies the perturbations due, and integrates
   window k;
3. every circuit receives its input for window k, applies its perturbations, and Brian2
   integrates window k.

On one process the steps run in that order. On several ranks the engine and the circuits
compute window k at the same time; only the window-sized arrays of step 1 and 3 travel.
Brian2 runs the whole duration with one ``Network.run``; the boundary work happens in a
``network_operation`` every window, never as a loop of short runs.

Bridges (per circuit, in the experiment file):
- mass -> circuit: rate per afferent fibre (Hz) = input_gain x the region's coupling input
  (the coupling's unit, 1/ms for Jansen-Rit), averaged over each exchange bin;
- circuit -> mass: the proxy's coupling variables are set so that the coupling passes on
  output_gain x the circuit's output-population rate (Hz), per exchange bin; the node's
  recorded signal is the circuit's field proxy (mV, see multiscale.circuit), which
  multiscale.sources turns into the region's current dipole moment (nA m) from the
  circuit's cell count, the region's area and a dendritic length (field_gain, default 1,
  multiplies it).

Random streams derive from the experiment seed and a name (the circuit's, "regions.noise"),
never from the rank, so a run gives the same numbers on any number of ranks.
"""

from __future__ import annotations

import datetime
import json
import os
import shlex
import shutil
import signal
import socket
import sys
import time
import traceback
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from multiscale import checkpoint
from multiscale.checkpoint import Checkpoint, folder_of
from multiscale.checkpoint_state import substate
from multiscale.engine import Engine
from multiscale.outputs import OutputFiles, finalize
from multiscale.perturbations import PerturbationSchedule
from multiscale.placement import Placement, place
from multiscale.plan import Plan
from multiscale.recording import NoSpikes, Recorder, SpikeStore, run_attributes
from multiscale.sparse import DenseOnDemand
from multiscale.stimuli import region_stimulus, stimulus_log
from multiscale.storage import LogEntry, Store
from multiscale.transport import LocalTransport, MPITransport, RemoteRankError

_GRACE_S = 2.0  # how long a failing rank lets the others close their files
_FLUSH_EVERY_MS = 1000.0  # simulated time between flushes: what a crash can lose at most
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stream_seed(seed: int, name: str) -> int:
    """A 32-bit seed for the random stream called ``name``: derived from the experiment seed
    and the name only, never from the rank or placement."""
    ss = np.random.SeedSequence([seed, zlib.crc32(name.encode())])
    return int(ss.generate_state(1)[0])


def region_engine(plan: Plan, noise_ahead: bool = False) -> Engine:
    """The mass engine of a run of ``plan``, as the engine's rank builds it: the plan's
    masses, the circuits' regions as proxies, history deep enough for the exchange window,
    and the noise stream named "regions.noise" of the experiment seed (so a run of the
    same plan elsewhere, a batch member included, draws the same noise); ``noise_ahead``:
    that stream drawn a window ahead on a second thread (the same numbers)."""
    m = plan.masses
    # the engine takes dense (n, n) weights and delays (it keeps them as CSR arrays):
    # built only as it reads them, and freed once it has (multiscale.sparse)
    return Engine(
        m.model,
        m.parameters.copy(),
        m.coupling,
        m.coupling_parameters,
        DenseOnDemand(plan.connectome.weights_sparse, np.float64),
        DenseOnDemand(m.delays, np.int64),
        m.dt_ms,
        proxies=sorted(plan.proxies.values()),
        noise=m.noise,
        rng=np.random.default_rng(stream_seed(plan.experiment.seed, "regions.noise")),
        initial=m.initial,
        min_horizon=plan.window.steps,
        method=m.method,
        tvb_compat=m.tvb_compat,
        noise_ahead=noise_ahead,
    )


def _usable_cores() -> int:
    """The cores this process may run on (its affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class Stopped(KeyboardInterrupt):
    """A stop signal that could not wait for a window boundary (during set-up, or the
    second one): the run ends at once, its files marked incomplete."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class Timing:
    """Where wall-clock time went on this rank (s)."""

    setup: float = 0.0  # from the start to the first window (building, Brian2's before_run)
    compile: float = 0.0  # numba compiling the engine's kernels
    engine: float = 0.0  # integrating the neural masses
    boundaries: float = 0.0  # all window-boundary work, engine included
    waiting: float = 0.0  # blocked on receives
    checkpoints: float = 0.0  # writing checkpoints
    total: float = 0.0  # the whole run; minus boundaries: Brian2 integrating circuits

    def attrs(self) -> dict[str, float]:
        """The output's attributes for these times (s)."""
        return {
            "wall_time_s": self.total,
            "setup_time_s": self.setup,
            "boundary_time_s": self.boundaries,
            "engine_time_s": self.engine,
            "engine_compile_s": self.compile,
            "waiting_s": self.waiting,
            "checkpoint_time_s": self.checkpoints,
        }


def make_placement(plan: Plan, n_ranks: int) -> Placement:
    sizes = {name: c.n_neurons for name, c in plan.circuits.items()}
    # the engine's cost in neuron-equivalents: enough to keep circuits off its rank while
    # others are free, not so much that it never shares (measured: 76 regions ~ 1000 LIF)
    engine_cost = min(sizes.values(), default=0) // 2 + 1
    return place(sizes, n_ranks, engine_cost)


class Simulation:
    """This rank's share of one run of a :class:`~multiscale.plan.Plan` (an experiment's
    ``plan``). ``comm`` is an mpi4py communicator or None."""

    def __init__(
        self,
        plan: Plan,
        *,
        comm=None,
        progress: bool = True,
        start: Checkpoint | None = None,
        sources: dict[str, Path] | None = None,
        spare_core: bool = False,
    ) -> None:
        """start: a checkpoint to continue from (resume, or branch), its recorded rows read
        from ``sources`` (see ``multiscale.checkpoint.sources_of``).
        spare_core: this process may use a second core, if it has one: a run of masses only
        in a single process then draws its noise a window ahead on a thread (the same
        numbers). Not for runs in a pool of processes or under MPI, which hold the cores."""
        if not isinstance(plan, Plan):
            raise TypeError(f"Simulation runs a Plan (an experiment's .plan), got {plan!r}")
        self.plan = plan
        self.exp = exp = plan.experiment
        self.start = start
        self.sources = sources or {}
        n_ranks = 1 if comm is None else comm.Get_size()
        self.placement = make_placement(plan, n_ranks)
        if comm is None or n_ranks == 1:
            self.transport = LocalTransport()
        else:
            self.transport = MPITransport(comm, self.placement.engine_rank, self.placement.circuits)
        self.rank = self.transport.rank
        self._noise_ahead = (
            spare_core and self.transport.size == 1 and not plan.proxies and _usable_cores() > 1
        )
        self.is_engine = self.rank == self.placement.engine_rank
        self.local_circuits = sorted(
            n for n, r in self.placement.circuits.items() if r == self.rank
        )
        self.progress = progress and self.is_engine
        self.conn = plan.connectome
        self.model = plan.masses.model
        self.dt = plan.masses.dt_ms
        w = plan.window
        self.res_steps = w.resolution_steps
        self.total_steps = w.total_steps
        self.window_steps = w.steps
        self.n_windows = w.count
        self.proxy_of = plan.proxies  # circuit name -> region index
        self.specs = plan.circuits
        self.sample_steps = int(round(1000.0 / exp.record.sampling_rate_hz / self.dt))
        self.timing = Timing()
        self.circuits: dict = {}
        self.engine = None
        self.recorder = None
        self.spike_store = None
        self.files = OutputFiles(exp.output.path)
        #: the signal that stopped the run early (SIGINT, SIGTERM), if one did
        self.interrupted: int | None = None
        #: the declared measures, once a complete run has computed them
        self.measured: list = []
        #: simulated time (ms) the output holds when the run ends
        self.stopped_at_ms: float | None = None
        self._signal: int | None = None
        self._looping = False
        self._last_flush_ms = 0.0
        self._stop_at: int | None = None  # the boundary where a stop signal ends the run
        self.checkpoints = folder_of(exp.output.path)
        ck = exp.checkpoint
        self._every_steps = None if ck.every_ms is None else round(ck.every_ms / self.dt)
        self._keep_steps = [round(t / self.dt) for t in ck.keep_ms]

    # --- construction ------------------------------------------------------------------
    def _build_engine(self) -> None:
        self.engine = region_engine(self.plan, noise_ahead=self._noise_ahead)
        t0 = time.perf_counter()  # compile the kernels now, so engine time is compute only
        self.engine.advance(0)
        self.engine.afferent(np.array(sorted(self.proxy_of.values()), dtype=np.int64), 0)
        self.timing.compile += time.perf_counter() - t0

    def _build_circuits(self) -> None:
        import brian2 as b2

        exp = self.exp
        b2.prefs.codegen.target = exp.brian_target
        b2.defaultclock.dt = exp.brian_dt_ms * b2.ms
        same_class: dict[type, int] = {}  # circuits of a class so far on this rank
        for name in self.local_circuits:
            spec = self.specs[name]
            b2.seed(stream_seed(exp.seed, f"circuit.{name}"))
            # one Network holds this rank's circuits: the second of a class and later get
            # a numbered tag (their Brian2 names must differ); the first the class's own,
            # whose compiled code is cached from any earlier run of the class
            k = same_class[spec.cls] = same_class.get(spec.cls, -1) + 1
            tag = {"tag": f"{spec.cls.NAME}_{k}"} if k else {}
            self.circuits[name] = spec.cls(
                name,
                spec.given,
                resolution_ms=exp.cosim.resolution_ms,
                window_ms=self.window_steps * self.dt,
                rng=np.random.default_rng(stream_seed(exp.seed, f"circuit.{name}.drive")),
                **tag,
            )
        for st in exp.stimuli:
            if st.circuit is not None and st.circuit in self.circuits:
                self.circuits[st.circuit].add_pulse_train(
                    st.population,
                    frequency_hz=st.frequency_hz,
                    amplitude_na=st.amplitude_na,
                    width_ms=st.width_ms,
                    start_ms=st.at_ms,
                    stop_ms=st.until_ms,
                    biphasic=st.biphasic,
                )

    # --- the run -----------------------------------------------------------------------
    def run(self) -> bool:
        """Run this rank's share; True if the run completed (on the engine rank: on every
        rank). On MPI, an exception on any rank aborts the whole job.

        SIGINT and SIGTERM (Ctrl-C, a batch scheduler's notice) stop every rank at the
        next window boundary: the output is closed, marked incomplete, and keeps its
        partial name; ``interrupted`` says which signal. A second signal, or one during
        set-up, stops at once."""
        t0 = self._t0 = time.perf_counter()
        ok = False
        failure = None
        handlers = self._catch_signals()
        try:
            if self.is_engine:
                self._build_engine()
                attrs = self._provenance() | run_attributes(self.plan)
                store = Store(self.writing(self.files.partial), attrs, log=True)
                store.file.attrs["placement"] = self.placement.describe()
                self.recorder = Recorder(self.plan, store, self._spike_files())
            self.schedule = PerturbationSchedule(
                self.plan,
                self.engine,
                self.circuits,
                log=self.recorder.store.log if self.is_engine else None,
                announce=self.progress,
            )
            if self.local_circuits:
                self._build_circuits()
                self.spike_store = self._spike_store()
            k0 = self._restore() if self.start is not None else 0
            for store in self._stores():
                store.start_streaming()
            self._bar = _progress(self.progress, self.total_steps * self.dt, k0 * self._t_window)
            self._looping = True
            if self.local_circuits:
                self._run_with_brian(k0)
            else:
                for k in range(k0, self.n_windows + 1):
                    if not self._boundary(k):
                        break
            self._looping = False
            ok = self.interrupted is None
        except RemoteRankError as err:
            failure = err
        except BaseException as err:
            failure = err
            if self.transport.size > 1:
                print(
                    f"\nmultiscale: rank {self.rank} failed; stopping all ranks.\n{_describe(err)}",
                    file=sys.stderr,
                    flush=True,
                )
                self.transport.notify_failure()
        finally:
            self._restore_signals(handlers)
            if getattr(self, "_bar", None) is not None:
                self._bar.close()
            self.timing.total = time.perf_counter() - t0
            if self.spike_store is not None:
                self.spike_store.close(complete=ok)
            if failure is not None and self.recorder is not None:
                self.recorder.close(False, self.timing.attrs() | self._end_attrs(failure))
        if failure is not None:
            if self.transport.size > 1:
                # the failing rank gives the others a moment to close their files, then
                # ends the job whatever state they are in (a hung rank included). A rank
                # that was told of a failure must not abort first: that would kill the
                # engine rank before it has closed the output; it waits for the failing
                # rank's abort and aborts itself only if that never comes.
                time.sleep(_GRACE_S if not isinstance(failure, RemoteRankError) else 3 * _GRACE_S)
                self.transport.comm.Abort(1)
            raise failure
        all_ok = self.transport.finish(ok)
        if self.recorder is not None:
            self.recorder.close(all_ok, self.timing.attrs() | self._end_attrs(None))
            if all_ok:
                self.measured = self._measure(self.recorder.store.path)
                finalize(self.files)
                self._drop_stale_checkpoints()
        return all_ok

    def _measure(self, path: Path) -> list:
        """The experiment's declared measures, stored in the closed output before it takes
        its final name. A failure here is reported, never allowed to cost the run."""
        if not self.exp.measures:
            return []
        from multiscale import measures

        try:
            return measures.write(path, self.exp.measures)
        except Exception as err:  # our bug: the output itself is complete and kept
            print(
                f"multiscale: the measures could not be computed ({_describe(err).strip()}); "
                f"the output is complete. `multiscale report` still reads it.",
                file=sys.stderr,
            )
            return []

    def _drop_stale_checkpoints(self) -> None:
        """Checkpoints beside a replaced output belong to the run that wrote it: a run that
        wrote none of its own (and did not resume from them) removes them."""
        resumed = self.start is not None and self.start.folder.parent == self.checkpoints
        if not resumed and self.timing.checkpoints == 0.0 and self.checkpoints.is_dir():
            shutil.rmtree(self.checkpoints, ignore_errors=True)

    def _spike_files(self) -> dict[str, str]:
        """Circuit name -> the file another rank writes its spikes into."""
        if not self.exp.record.spikes:
            return {}
        return {
            name: self.files.rank_file(rank, partial=True).name
            for name, rank in self.placement.circuits.items()
            if rank != self.rank
        }

    def _spike_store(self) -> SpikeStore | NoSpikes:
        """Where this rank's circuits write their spikes: the main file on the engine's
        rank, else this rank's own file beside it."""
        if not self.exp.record.spikes:
            return NoSpikes()
        if self.is_engine:
            return SpikeStore(self.recorder.store, own=False, circuits=self.circuits)
        path = self.writing(self.files.rank_file(self.rank, partial=True))
        store = Store(path, {"rank": self.rank, "main_file": self.files.final.name})
        return SpikeStore(store, own=True, circuits=self.circuits)

    def _stores(self) -> list:
        stores = [self.recorder.store] if self.recorder is not None else []
        own = getattr(self.spike_store, "own", False)
        return stores + ([self.spike_store.store] if own else [])

    def _provenance(self) -> dict:
        """Root attributes that say exactly what ran, where and how."""
        exp = self.exp
        return {
            "config": exp.resolved_text or exp.text,
            "config_as_written": exp.text,
            "overrides": json.dumps(exp.overrides),
            "command_line": " ".join(shlex.quote(a) for a in sys.argv),
            "host": socket.gethostname(),
            "n_ranks": self.transport.size,
            "started_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        }

    def _end_attrs(self, failure: BaseException | None) -> dict:
        """How the run ended: simulated time held, and why it stopped early if it did."""
        held = self.stopped_at_ms if self.stopped_at_ms is not None else self.total_steps * self.dt
        attrs = {"simulated_ms": held}
        if self.interrupted is not None:
            attrs["ended"] = f"stopped by {signal.Signals(self.interrupted).name}"
        elif failure is not None:
            attrs["ended"] = f"failed: {_describe(failure).strip().splitlines()[-1]}"
            attrs["simulated_ms"] = self._recorded_ms()
        else:
            attrs["ended"] = "complete"
        return attrs

    def _recorded_ms(self) -> float:
        rec = self.recorder
        if rec is None:
            return 0.0
        return rec.store.rows(rec.regions) * 1000.0 / self.exp.record.sampling_rate_hz

    # --- signals -----------------------------------------------------------------------
    def _catch_signals(self) -> dict:
        """Turn SIGINT and SIGTERM into a request to stop at the next window boundary (only
        possible in the main thread; elsewhere the defaults stay)."""
        handlers = {}
        try:
            for sig in _STOP_SIGNALS:
                handlers[sig] = signal.signal(sig, self._on_signal)
        except ValueError:  # not the main thread
            pass
        return handlers

    @staticmethod
    def _restore_signals(handlers: dict) -> None:
        for sig, old in handlers.items():
            signal.signal(sig, old)

    def _on_signal(self, signum, frame) -> None:
        if not self._looping or self._signal is not None:
            # during set-up there is nothing to save; a second signal means now
            raise Stopped(signum)
        self._signal = signum
        if self.is_engine and self.progress:
            print(
                f"\nmultiscale: {signal.Signals(signum).name}: stopping at the next window "
                f"boundary (again to stop at once)",
                file=sys.stderr,
                flush=True,
            )

    def _run_with_brian(self, k0: int) -> None:
        import brian2 as b2

        from multiscale.brian_state import set_network_time

        objects = [obj for c in self.circuits.values() for obj in c.network_objects()]
        state = {"k": k0}

        @b2.network_operation(dt=self.window_steps * self.dt * b2.ms, when="start")
        def exchange():
            if not self._boundary(state["k"]):
                net.stop()  # the rest of this step is integrated, never recorded
            state["k"] += 1

        net = b2.Network(*objects, exchange)
        t0 = self._window(k0)[0] * self.dt
        if k0:
            set_network_time(net, t0 / 1000.0)
        net.run((self.total_steps * self.dt - t0) * b2.ms)
        if self.interrupted is None:
            self._boundary(self.n_windows)

    def _window(self, k: int) -> tuple[int, int]:
        """First step and number of steps of window k."""
        first = k * self.window_steps
        return first, min(self.window_steps, self.total_steps - first)

    def _boundary(self, k: int) -> bool:
        """The work at the start of window k (see the module docstring). False if the run
        stops here, at t_k: everything up to t_k is recorded, nothing after."""
        t_start = time.perf_counter()
        if k == 0:
            self.timing.setup = t_start - self._t0
        tr = self.transport
        if self._signal is not None:
            tr.request_stop(self._signal)
        if self._checkpoint_due(k):
            self._write_checkpoint(k)
        # the last boundary, or the one a stop signal chose: hand over and record the
        # window before, start no other
        last = k == self.n_windows or k == self._stop_at
        if k > 0 and self.circuits:  # 1. circuits hand over window k - 1
            first, n = self._window(k - 1)
            packed = {}
            for name, c in self.circuits.items():
                out = c.collect_window(first * self.dt, n // self.res_steps)
                self.spike_store.write(name, out.spikes)
                packed[name] = np.concatenate([out.rate, out.field])
            tr.send_outputs(k - 1, packed)
            if not last:
                tr.post_next_inputs(self._window(k)[1] // self.res_steps)
        if self.is_engine:  # 2. the engine
            if k > 0:
                first, n = self._window(k - 1)
                t_wait = time.perf_counter()
                outputs = tr.recv_outputs(k - 1, n // self.res_steps)
                self.timing.waiting += time.perf_counter() - t_wait
                self._ingest(k - 1, outputs)
            if not last:
                first, n = self._window(k)
                # a stop is decided here, for the next boundary: every rank then writes a
                # checkpoint before that boundary's work, and ends after handing over
                stop = tr.stop_requested() if k + 1 < self.n_windows else 0
                tr.send_inputs(k, self._afferent(n), stop)
                if stop and self._stop_at is None:
                    self._stop_at, self.interrupted = k + 1, stop
                tr.post_outputs(n // self.res_steps)
                self.schedule.apply(first * self.dt, "regions")
                self._log_stimuli(first, n)
                t_engine = time.perf_counter()
                stim = region_stimulus(
                    self.plan.region_stimuli, first, n, self.dt, self.engine.X.shape
                )
                states = None
                if self.recorder.states:
                    states = np.empty((n, *self.engine.X.shape))
                self._pending = self.engine.advance(n, stimulus=stim, states=states)
                self._pending_states = states
                self.timing.engine += time.perf_counter() - t_engine
                self._check_finite(first + n)
            if self._bar is not None and k > 0:
                # from the step count, so float sums never pass the total (tqdm warns then)
                done = min(sum(self._window(k - 1)) * self.dt / 1000.0, self._bar.total)
                self._bar.update(done - self._bar.n)
        if self.circuits and not last:  # 3. circuits receive window k
            first, n = self._window(k)
            t_wait = time.perf_counter()
            inputs, stop = tr.recv_inputs(k, n // self.res_steps)
            self.timing.waiting += time.perf_counter() - t_wait
            if stop and self._stop_at is None:
                self._stop_at, self.interrupted = k + 1, stop
            self.schedule.apply(first * self.dt, "circuits")
            for name, rates in inputs.items():
                self.circuits[name].set_input_window(rates, first * self.dt)
        elif self.is_engine and not last:  # track the other ranks' knobs
            self.schedule.apply(self._window(k)[0] * self.dt, "circuits")
        stopping = k == self._stop_at
        if stopping:
            self.stopped_at_ms = self._window(k)[0] * self.dt
        self._flush_if_due(self._window(min(k, self.n_windows - 1))[0] * self.dt, stopping)
        self.timing.boundaries += time.perf_counter() - t_start
        return not stopping

    # --- checkpoints -------------------------------------------------------------------
    @property
    def _t_window(self) -> float:
        return self.window_steps * self.dt

    def _checkpoint_due(self, k: int) -> bool:
        """At boundary k: the one a stop signal chose, the first at or after each multiple
        of checkpoint.every, and the first at or after each checkpoint.keep time."""
        if not 0 < k < self.n_windows or (self.start is not None and k == self.start.k):
            return False  # nothing to save at the ends, nor again where this run began
        if k == self._stop_at:
            return True
        step, prev = k * self.window_steps, (k - 1) * self.window_steps
        if self._every_steps and step // self._every_steps > prev // self._every_steps:
            return True
        return any(prev < keep <= step for keep in self._keep_steps)

    def _write_checkpoint(self, k: int) -> None:
        """Every rank writes its part of the checkpoint at boundary k (the state before
        this boundary's work); the engine's rank declares it done once all have."""
        t0 = time.perf_counter()
        t_ms = self._window(k)[0] * self.dt
        for store in self._stores():
            store.flush()  # the rows the checkpoint counts are on disk
        rows = {}
        for store in self._stores():
            rows |= store.positions()
        for name in self.local_circuits:
            mine = {r: n for r, n in rows.items() if r.startswith(f"rows/circuits/{name}/spikes/")}
            state = {
                f"circuit/{key}": v
                for key, v in self.circuits[name].get_state(constants=False).items()
            }
            checkpoint.write_part(self.checkpoints, t_ms, f"circuit_{name}", state | mine)
        self.transport.checkpoint_part_written(k)
        if self.is_engine:
            engine = {f"engine/{key}": v for key, v in self.engine.get_state().items()}
            engine["pending/observable"] = self._pending
            if self._pending_states is not None:
                engine["pending/states"] = self._pending_states
            engine |= {f"recorder/{key}": v for key, v in self.recorder.get_state().items()}
            engine |= {r: n for r, n in rows.items() if "/spikes/" not in r}
            checkpoint.write_part(self.checkpoints, t_ms, "engine", engine)
            self.transport.wait_checkpoint_parts(k)
            info = {
                "boundary": k,
                "window_ms": self._t_window,
                "duration_ms": self.exp.duration_ms,
                "experiment": self.exp.name,
                "circuits": sorted(self.specs),
                "fingerprint": checkpoint.fingerprint(self.plan),
                "events": checkpoint.events_before(self.exp, float("inf")),
            }
            keep = tuple(
                self._window(int(-(-s // self.window_steps)))[0] * self.dt for s in self._keep_steps
            )
            checkpoint.mark_done(self.checkpoints, t_ms, info, keep)
            self.recorder.store.log(
                LogEntry(t_ms, "checkpoint", "checkpoint", what=str(self.checkpoints))
            )
        self.timing.checkpoints += time.perf_counter() - t0

    def writing(self, path: Path) -> Path:
        """Where a file of this run is written first: a run from a checkpoint fills new
        files beside the old ones and puts them in place only once every rank has copied
        what it needs from the old (which may have the same names)."""
        return path.with_name(path.name + ".new") if self.start is not None else path

    def differences_from(self, start: Checkpoint) -> list[str]:
        """Why this run cannot continue ``start`` (empty if it can): anything the state
        depends on, and every perturbation or stimulus before the checkpoint must be
        the same."""
        problems = checkpoint.differences(
            start.info["fingerprint"], checkpoint.fingerprint(self.plan)
        )
        before = checkpoint.events_before(self.exp, start.t_ms)
        saved = start.info.get("events", [])
        saved_before = [e for e in saved if e["at_ms"] < start.t_ms]
        for e in before:
            if e not in saved_before:
                problems.append(f"  {e['kind']} {e['name']!r} acts before the checkpoint here only")
        for e in saved_before:
            if e not in before:
                problems.append(
                    f"  {e['kind']} {e['name']!r} acted before the checkpoint there only"
                )
        if start.t_ms >= self.exp.duration_ms:
            problems.append(
                f"  the checkpoint at {start.t_ms / 1000:g} s is not before the end "
                f"({self.exp.duration_ms / 1000:g} s)"
            )
        return problems

    def _restore(self) -> int:
        """Put every local object into the state of ``self.start`` and copy the rows the
        earlier run had recorded; returns the boundary to continue from."""
        start = self.start
        sides = ("regions", "circuits") if self.is_engine else ("circuits",)
        self.schedule.replay([self._window(j)[0] * self.dt for j in range(start.k)], sides)
        if self.is_engine:
            engine = start.part("engine")
            self.engine.set_state(substate(engine, "engine/"))
            self._pending = np.array(engine["pending/observable"])
            self._pending_states = (
                np.array(engine["pending/states"]) if "pending/states" in engine else None
            )
            self.recorder.set_state(substate(engine, "recorder/"))
            rows = {k: v for k, v in engine.items() if k.startswith("rows/")}
            checkpoint.copy_rows(self.sources, self.recorder.store, rows)
            self.recorder.store.log(
                LogEntry(start.t_ms, "resumed", "resumed", f"from the checkpoint {start.folder}")
            )
        for name in self.local_circuits:
            part = start.part(f"circuit_{name}")
            self.circuits[name].set_state(substate(part, "circuit/"))
            rows = {k: v for k, v in part.items() if k.startswith("rows/")}
            checkpoint.copy_rows(self.sources, self.spike_store.store, rows)
        for store in self._stores():
            store.flush()
        self.transport.barrier()  # every rank has read the old files: replace them
        for store in self._stores():
            store.rename(store.path.with_name(store.path.name.removesuffix(".new")))
        self._last_flush_ms = start.t_ms
        return start.k

    def _flush_if_due(self, t_ms: float, force: bool = False) -> None:
        """Flush this rank's files every _FLUSH_EVERY_MS of simulated time: a crash loses
        at most that much."""
        if force or t_ms - self._last_flush_ms >= _FLUSH_EVERY_MS:
            for store in self._stores():
                store.flush()
            self._last_flush_ms = t_ms

    def _log_stimuli(self, first: int, n: int) -> None:
        """Log each stimulus when it starts and when it ends (exact times, in ms)."""
        t0, t1 = first * self.dt, (first + n) * self.dt
        for entry in stimulus_log(self.exp.stimuli, t0, t1, self.exp.duration_ms):
            self.recorder.store.log(entry)

    def _check_finite(self, step: int) -> None:
        """Stop at the first window whose end state is not finite (a region model pushed out
        of its valid range, or a step too large), naming the regions, instead of writing
        NaN for the rest of the run."""
        X = self.engine.X[self.engine.integrate]
        if np.isfinite(X).all():
            return
        bad = np.flatnonzero(self.engine.integrate)[~np.isfinite(X).all(axis=1)]
        labels = [self.conn.labels[i] for i in bad]
        shown = ", ".join(labels[:8]) + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
        raise FloatingPointError(
            f"{self.exp.path}: the {self.exp.regions.model} state of {shown} diverged "
            f"(not finite) by t = {step * self.dt:g} ms; check the coupling strength, the "
            f"perturbations and stimuli, or use a smaller regions.integrator.dt"
        )

    def _afferent(self, n_steps: int) -> dict[str, np.ndarray]:
        """Input rate per fibre (Hz) per exchange bin for each circuit, for the next window."""
        if not self.proxy_of:
            return {}
        names = sorted(self.proxy_of)
        nodes = np.array([self.proxy_of[n] for n in names])
        c = self.engine.afferent(nodes, n_steps)[:, :, 0]
        bins = c.reshape(len(names), n_steps // self.res_steps, self.res_steps).mean(axis=2)
        return {name: self.specs[name].input_gain * bins[a] for a, name in enumerate(names)}

    def _ingest(self, k: int, packed: dict[str, np.ndarray]) -> None:
        """Write circuit outputs of window k into the proxies and record window k."""
        first, n = self._window(k)
        obs = self._pending
        outputs = {}
        for name, buf in packed.items():
            rate, field = np.split(buf, 2)
            outputs[name] = (rate, field)
            spec = self.specs[name]
            node = self.proxy_of[name]
            cvars = self.model.proxy_coupling_state(
                spec.output_gain * np.repeat(rate, self.res_steps),
                self.exp.regions.coupling,
                self.plan.masses.coupling_parameters,
            )
            # the bin [t, t + res) gives the states at the ends of its steps
            self.engine.write_history(node, first + 1, cvars)
            obs[:, node] = np.repeat(field, self.res_steps)  # mV: sources scale it
        obs[:, self.schedule.silenced] = 0.0  # a lesioned region has no EEG source
        self.recorder.record_window(
            obs, outputs, self._pending_states, silenced=self.schedule.silenced
        )


def _describe(err: BaseException) -> str:
    """A traceback for our bugs; one line for what the user or the machine caused."""
    from multiscale.config import ConfigError
    from multiscale.storage import WriteError

    if isinstance(err, ConfigError | WriteError | FloatingPointError | KeyboardInterrupt):
        return f"{type(err).__name__}: {err}"
    return "".join(traceback.format_exception(err))


def _progress(enabled: bool, total_ms: float, done_ms: float = 0.0):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total_ms / 1000.0,
        initial=done_ms / 1000.0,
        unit="s sim",
        mininterval=0.5,
        bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} s simulated [{elapsed}<{remaining}]",
        file=sys.stderr,
    )
