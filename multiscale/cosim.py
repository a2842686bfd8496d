"""Windowed co-simulation of the whole-brain engine and Brian2 circuits.

The protocol (DESIGN.md): every edge into or out of a spiking region is delayed by at
least one window T, so window k of either side needs only window k - 1 of the other.
At each window boundary k:

1. every circuit hands over its output for window k - 1 (rate and field proxy per
   exchange bin, and its spikes for the store);
2. the engine writes those outputs into the proxy nodes' history, finishes the record of
   window k - 1 (region traces, EEG), computes the delayed, weighted input each circuit
   receives during window k, applies the perturbations due, and integrates window k;
3. every circuit receives its input for window k, applies its perturbations, and Brian2
   integrates window k.

On one process the steps run in that order; on several MPI ranks the engine and the
circuits compute window k at the same time (the transport decides). Brian2 runs the
whole duration with one ``Network.run``; the boundary work happens in a
``network_operation`` every exchange bin, never as a loop of short runs.

Bridges (both stated in the experiment file, per circuit):
- mass -> circuit: rate per afferent fibre (Hz) = input_gain x the region's coupling input
  (the coupling's unit, 1/ms for Jansen-Rit), averaged over each exchange bin;
- circuit -> mass: the proxy's coupling variables are set so that the coupling passes on
  output_gain x the circuit's output-population rate (Hz), per exchange bin; its EEG
  source is field_gain x the circuit's field proxy (mV, see multiscale.circuit). The
  proxy is a per-cell synaptic current over g_L, so it is in mV like Jansen-Rit's
  y1 - y2, but its size depends on the circuit's synchrony: field_gain says how much of
  it the region's EEG source carries (the experiment files state how they chose it).
"""

from __future__ import annotations

import sys
import time
import zlib
from dataclasses import dataclass

import numpy as np

from multiscale.config import Experiment
from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.observers import TemporalAverage
from multiscale.storage import Store
from regions import REGION_MODELS


def stream_seed(seed: int, name: str) -> int:
    """A 32-bit seed for the random stream called ``name``: derived from the experiment seed
    and the name only, never from the rank or placement."""
    ss = np.random.SeedSequence([seed, zlib.crc32(name.encode())])
    return int(ss.generate_state(1)[0])


@dataclass
class Timing:
    """Where wall-clock time went (s)."""

    engine: float = 0.0  # integrating the neural masses
    boundaries: float = 0.0  # all window-boundary work, engine included
    total: float = 0.0  # the whole run; minus boundaries: Brian2 integrating circuits


class Simulation:
    """One run of an experiment in this process (single-process path)."""

    def __init__(self, exp: Experiment, *, progress: bool = True) -> None:
        self.exp = exp
        self.progress = progress
        d = exp.derived
        self.conn = d["connectome"]
        self.model = REGION_MODELS[exp.regions.model]
        self.coupling = COUPLINGS[exp.regions.coupling]
        self.q = self.coupling.parameter_vector(exp.regions.coupling_parameters)
        self.dt = exp.regions.dt_ms
        self.res_steps = int(round(exp.cosim.resolution_ms / self.dt))
        self.total_steps = int(np.ceil(exp.duration_ms / self.dt / self.res_steps)) * self.res_steps
        self.window_steps = d.get("window_steps") or min(self.total_steps, 1000 * self.res_steps)
        self.n_windows = int(np.ceil(self.total_steps / self.window_steps))
        self.proxy_of = dict(d.get("proxies", {}))  # circuit name -> region index
        self.timing = Timing()
        self.circuits: dict = {}
        self._build_engine()
        self.sample_steps = int(round(1000.0 / exp.record.sampling_rate_hz / self.dt))
        self.decimator = TemporalAverage(self.sample_steps)

    # --- construction ------------------------------------------------------------------
    def _build_engine(self) -> None:
        exp = self.exp
        names = self.model.state_names()
        noise = None
        if exp.regions.noise:
            noise = np.zeros(len(names))
            for sv, D in exp.regions.noise.items():
                noise[names.index(sv)] = D
        initial = self.model.initial_state()
        for sv, v in exp.regions.initial.items():
            initial[names.index(sv)] = v
        self.engine = Engine(
            self.model,
            exp.derived["parameters"].copy(),
            self.coupling,
            self.q,
            self.conn.weights,
            exp.derived["delays"],
            self.dt,
            proxies=sorted(self.proxy_of.values()),
            noise=noise,
            rng=np.random.default_rng(stream_seed(exp.seed, "regions.noise")),
            initial=initial,
            min_horizon=self.window_steps,
        )

    def _build_circuits(self) -> None:
        import brian2 as b2

        from circuits import CIRCUITS

        exp = self.exp
        b2.prefs.codegen.target = exp.brian_target
        b2.defaultclock.dt = exp.brian_dt_ms * b2.ms
        self.circuits = {}
        for spec in exp.circuits:
            b2.seed(stream_seed(exp.seed, f"circuit.{spec.name}"))
            self.circuits[spec.name] = CIRCUITS[spec.model](
                spec.name, spec.parameters, resolution_ms=exp.cosim.resolution_ms
            )
        for st in exp.stimuli:
            self.circuits[st.circuit].add_pulse_train(
                st.population, frequency_hz=st.frequency_hz, amplitude_na=st.amplitude_na,
                width_ms=st.width_ms, start_ms=st.at_ms, stop_ms=st.until_ms,
                biphasic=st.biphasic,
            )  # fmt: skip
        b2.seed(stream_seed(exp.seed, "circuits.run"))

    # --- the run -----------------------------------------------------------------------
    def run(self) -> Store:
        from multiscale.recording import Recorder

        t0 = time.perf_counter()
        self.recorder = Recorder(self)
        self.schedule = PerturbationSchedule(self)
        self._bar = _progress(self.progress, self.total_steps * self.dt)
        ok = False
        try:
            if self.exp.circuits:
                self._build_circuits()
                self._run_with_brian()
            else:
                for k in range(self.n_windows + 1):
                    self._boundary(k)
            ok = True
        finally:
            if self._bar is not None:
                self._bar.close()
            self.timing.total = time.perf_counter() - t0
            self.recorder.close(complete=ok)
        return self.recorder.store

    def _run_with_brian(self) -> None:
        import brian2 as b2

        objects = [obj for c in self.circuits.values() for obj in c.network_objects()]
        bins_per_window = self.window_steps // self.res_steps
        state = {"bin": 0}

        @b2.network_operation(dt=self.exp.cosim.resolution_ms * b2.ms, when="start")
        def exchange():
            b = state["bin"]
            if b % bins_per_window == 0:
                self._boundary(b // bins_per_window)
            for c in self.circuits.values():
                c.tick()
            state["bin"] = b + 1

        net = b2.Network(*objects, exchange)
        net.run(self.total_steps * self.dt * b2.ms)
        self._boundary(self.n_windows)

    def _window(self, k: int) -> tuple[int, int]:
        """First step and number of steps of window k."""
        first = k * self.window_steps
        return first, min(self.window_steps, self.total_steps - first)

    def _boundary(self, k: int) -> None:
        t_start = time.perf_counter()
        outputs = {}
        if k > 0:
            first, n = self._window(k - 1)
            for name, c in self.circuits.items():
                outputs[name] = c.collect_window(first * self.dt, n // self.res_steps)
            self._ingest(k - 1, outputs)
        if k < self.n_windows:
            first, n = self._window(k)
            inputs = self._afferent(n)
            self.schedule.apply(first * self.dt)
            t_engine = time.perf_counter()
            self._pending = self.engine.advance(n)
            self.timing.engine += time.perf_counter() - t_engine
            for name, rates in inputs.items():
                self.circuits[name].set_input_window(rates, first * self.dt)
        if self._bar is not None and k > 0:
            self._bar.update(self._window(k - 1)[1] * self.dt / 1000.0)
        self.timing.boundaries += time.perf_counter() - t_start

    def _afferent(self, n_steps: int) -> dict[str, np.ndarray]:
        """Input rate per fibre (Hz) per exchange bin for each circuit, for the next window."""
        if not self.proxy_of:
            return {}
        names = list(self.proxy_of)
        nodes = np.array([self.proxy_of[n] for n in names])
        c = self.engine.afferent(nodes, n_steps)[:, :, 0]
        bins = c.reshape(len(names), n_steps // self.res_steps, self.res_steps).mean(axis=2)
        gains = {s.name: s.input_gain for s in self.exp.circuits}
        return {name: gains[name] * bins[a] for a, name in enumerate(names)}

    def _ingest(self, k: int, outputs: dict) -> None:
        """Write circuit outputs of window k into the proxies and record window k."""
        first, n = self._window(k)
        obs = self._pending
        gains = {s.name: s.output_gain for s in self.exp.circuits}
        field_gains = {s.name: s.field_gain for s in self.exp.circuits}
        for name, out in outputs.items():
            node = self.proxy_of[name]
            rate = np.repeat(out.rate, self.res_steps)
            cvars = self.model.proxy_coupling_state(gains[name] * rate, self.exp.regions.coupling,
                                                    self.q)  # fmt: skip
            # the bin [t, t + res) maps to the states at the end of its steps
            self.engine.write_history(node, first + 1, cvars)
            obs[:, node] = field_gains[name] * np.repeat(out.field, self.res_steps)
        self.recorder.record_window(obs, outputs)


class PerturbationSchedule:
    """Applies the experiment's perturbations at window boundaries (a perturbation at time
    t takes effect at the first boundary at or after t; the store logs the actual time)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        events = []
        for p in sim.exp.perturbations:
            events.append((p.at_ms, p, "start"))
            if p.until_ms is not None:
                events.append((p.until_ms, p, "stop"))
        self.events = sorted(events, key=lambda e: e[0])
        self.saved: dict[str, object] = {}

    def apply(self, t_ms: float) -> None:
        while self.events and self.events[0][0] <= t_ms + 1e-9:
            _, p, kind = self.events.pop(0)
            what = self._apply(p, kind)
            self.sim.recorder.store.log_perturbation(t_ms, p.name, what)
            if self.sim.progress:
                print(f"\n[t = {t_ms / 1000:.3f} s] {p.name}: {what}", file=sys.stderr)

    def _apply(self, p, kind: str) -> str:
        sim = self.sim
        if p.circuit is not None:
            circuit = sim.circuits[p.circuit]
            if kind == "start":
                self.saved[p.name] = circuit.knobs[p.knob]
                new = p.value * circuit.knobs[p.knob] if p.operation == "scale" else p.value
            else:
                new = self.saved.pop(p.name)
            circuit.set_knob(p.knob, new)
            return f"{p.circuit}.{p.knob} = {new:g}"
        regions = np.array([sim.conn.index(r) for r in p.regions])
        col = sim.model.parameter_names().index(p.parameter)
        if kind == "start":
            self.saved[p.name] = sim.engine.P[regions, col].copy()
            old = sim.engine.P[regions, col]
            new = p.value * old if p.operation == "scale" else np.full(len(regions), p.value)
        else:
            new = self.saved.pop(p.name)
        sim.engine.set_parameter(p.parameter, regions, new)
        labels = ",".join(sim.conn.labels[r] for r in regions)
        return f"{p.parameter}[{labels}] = {np.round(new, 6).tolist()}"


def _progress(enabled: bool, total_ms: float):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total_ms / 1000.0,
        unit="s sim",
        unit_scale=False,
        bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} s simulated [{elapsed}<{remaining}]",
        file=sys.stderr,
    )
