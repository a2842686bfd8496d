"""Applying an experiment's perturbations during a run.

Changes take effect at window boundaries: a perturbation at time t acts from the first
boundary at or after t (windows are a few ms). A ramp moves the target linearly from its
value before the perturbation to the full change, updated at every boundary (progressive
degeneration); ``until`` restores the value from before. An edge weight multiplies the
delayed activity as it arrives, so cutting an edge also removes what was in flight on it.
Region parameters and edges act on the engine's rank, circuit knobs on the circuit's rank;
every rank tracks every value, and the engine's rank logs each change (start, end of ramp,
restore) with its time.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from multiscale.config import PerturbationSpec
    from multiscale.cosim import Simulation


class PerturbationSchedule:
    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.pending = sorted(sim.exp.perturbations, key=lambda p: p.at_ms)
        self.active: list[PerturbationSpec] = []
        self.ramped: set[str] = set()  # perturbations whose ramp is complete
        self.base: dict[str, object] = {}
        # every rank tracks every circuit's knobs, so all log the same values
        classes = sim.exp.derived.get("circuit_classes", {})
        self.knobs = {
            c.name: {k: c.parameters.get(k, d.default) for k, d in classes[c.name].KNOBS.items()}
            for c in sim.exp.circuits
        }

    @staticmethod
    def side(p: PerturbationSpec) -> str:
        return "circuits" if p.circuit is not None else "regions"

    def apply(self, t_ms: float, side: str) -> None:
        """Everything of ``side`` ("regions" or "circuits") due at boundary time t_ms."""
        eps = 1e-9
        for p in [p for p in self.pending if self.side(p) == side and p.at_ms <= t_ms + eps]:
            self.pending.remove(p)
            self.active.append(p)
            self._log(t_ms, p, self._set(p, self._fraction(p, t_ms), start=True))
        for p in [p for p in self.active if self.side(p) == side]:
            if p.until_ms is not None and p.until_ms <= t_ms + eps:
                self.active.remove(p)
                self._log(t_ms, p, self._restore(p) + " (restored)")
            elif p.ramp_ms and p.name not in self.ramped and t_ms > p.at_ms:
                frac = self._fraction(p, t_ms)
                what = self._set(p, frac)
                if frac >= 1.0:  # ramp complete: log once, stop updating
                    self.ramped.add(p.name)
                    self._log(t_ms, p, what + " (end of ramp)")

    @staticmethod
    def _fraction(p: PerturbationSpec, t_ms: float) -> float:
        if not p.ramp_ms:
            return 1.0
        return float(np.clip((t_ms - p.at_ms) / p.ramp_ms, 0.0, 1.0))

    @staticmethod
    def _target(base, p: PerturbationSpec, frac: float):
        if p.operation == "scale":
            return base * (1.0 + (p.value - 1.0) * frac)
        return base + (p.value - base) * frac

    def _set(self, p: PerturbationSpec, frac: float, start: bool = False) -> str:
        sim = self.sim
        if p.circuit is not None:
            knobs = self.knobs[p.circuit]
            if start:
                self.base[p.name] = knobs[p.knob]
            new = float(self._target(self.base[p.name], p, frac))
            return self._set_knob(p, new)
        if p.regions is not None:
            col = sim.model.parameter_names().index(p.parameter)
            if start:
                self.base[p.name] = sim.engine.P[p.regions, col].copy()
            new = self._target(self.base[p.name], p, frac)
            sim.engine.set_parameter(p.parameter, p.regions, new)
            return self._describe_parameter(p, new)
        edges = self._edge_indices(p)
        if start:
            self.base[p.name] = sim.engine.w[edges].copy()
        sim.engine.w[edges] = self._target(self.base[p.name], p, frac)
        factor = 1.0 + (p.value - 1.0) * frac
        return f"{len(edges)} edge weights x {factor:g}"

    def _restore(self, p: PerturbationSpec) -> str:
        sim = self.sim
        base = self.base.pop(p.name)
        if p.circuit is not None:
            return self._set_knob(p, base)
        if p.regions is not None:
            sim.engine.set_parameter(p.parameter, p.regions, base)
            return self._describe_parameter(p, base)
        edges = self._edge_indices(p)
        sim.engine.w[edges] = base
        return f"{len(edges)} edge weights"

    def _set_knob(self, p: PerturbationSpec, value: float) -> str:
        self.knobs[p.circuit][p.knob] = value
        if p.circuit in self.sim.circuits:  # else another rank's circuit: it applies it
            self.sim.circuits[p.circuit].set_knob(p.knob, value)
        return f"{p.circuit}.{p.knob} = {value:g}"

    def _describe_parameter(self, p: PerturbationSpec, values) -> str:
        labels = [self.sim.conn.labels[r] for r in p.regions]
        values = np.round(np.asarray(values, dtype=float), 6).tolist()
        if len(labels) > 6:
            return f"{p.parameter}[{len(labels)} regions] = {min(values):g}..{max(values):g}"
        return f"{p.parameter}[{','.join(labels)}] = {values}"

    def _edge_indices(self, p: PerturbationSpec) -> np.ndarray:
        """Positions in the engine's incoming-edge list (CSR) of the edges concerned."""
        eng = self.sim.engine
        rows = np.repeat(np.arange(eng.n_regions), np.diff(eng.row_ptr))
        if p.edges is not None:
            mask = np.isin(rows, p.edges["to"]) & np.isin(eng.col, p.edges["from"])
        else:
            mask = np.isin(rows, p.lesion) | np.isin(eng.col, p.lesion)
        return np.flatnonzero(mask)

    def _log(self, t_ms: float, p: PerturbationSpec, what: str) -> None:
        if self.sim.is_engine:
            self.sim.recorder.store.log_perturbation(t_ms, p.name, what)
            if self.sim.progress:
                print(f"\n[t = {t_ms / 1000:.3f} s] {p.name}: {what}", file=sys.stderr)
