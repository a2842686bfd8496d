"""Applying an experiment's perturbations during a run.

Changes take effect at window boundaries: a perturbation at time t acts from the first
boundary at or after t (windows are a few ms). A ramp moves the target linearly from no
change to the full change, updated at every boundary (progressive degeneration); ``until``
removes the change. Perturbations of the same target compose, in the order they started:
scalings multiply, a ``set`` replaces what came before it; removing one recomputes the
target from its original value and the perturbations still active.

An edge weight multiplies the delayed activity as it arrives, so cutting an edge also
removes what was in flight on it. A lesion removes a region: every edge into or out of it,
and its EEG source. Region parameters and edges act on the engine's rank,
circuit knobs on the circuit's rank; every rank tracks every value, and the engine's rank
logs each change (start, end of ramp, removal) with its time.
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
        self.active: list[PerturbationSpec] = []  # in the order they started
        self.fraction: dict[str, float] = {}  # how much of each active change applies
        self.original: dict[tuple, np.ndarray] = {}  # target -> value before any change
        self.silenced = np.zeros(sim.conn.n_regions, dtype=bool)  # lesioned regions
        self._quiet = False  # replaying: change the targets, log nothing
        # every rank tracks every circuit's knobs, so all log the same values
        classes = sim.exp.derived.get("circuit_classes", {})
        self.knobs = {
            c.name: {k: c.parameters.get(k, d.default) for k, d in classes[c.name].KNOBS.items()}
            for c in sim.exp.circuits
        }

    def replay(self, times_ms: list[float], sides: tuple[str, ...]) -> None:
        """Apply, without logging, what was due at each of these earlier boundaries, so a
        resumed or branched run has the schedule (and the targets' original values) of the
        run it continues; the targets themselves are then overwritten by the checkpoint."""
        self._quiet = True
        try:
            for t in times_ms:
                for side in sides:
                    self.apply(t, side)
        finally:
            self._quiet = False

    @staticmethod
    def side(p: PerturbationSpec) -> str:
        return "circuits" if p.circuit is not None else "regions"

    def apply(self, t_ms: float, side: str) -> None:
        """Everything of ``side`` ("regions" or "circuits") due at boundary time t_ms."""
        eps = 1e-9
        for p in [p for p in self.pending if self.side(p) == side and p.at_ms <= t_ms + eps]:
            self.pending.remove(p)
            self.active.append(p)
            self.fraction[p.name] = self._fraction(p, t_ms)
            self._log(t_ms, p, self._update(p))
            self._silence()
        for p in [p for p in self.active if self.side(p) == side]:
            if p.until_ms is not None and p.until_ms <= t_ms + eps:
                self.active.remove(p)
                del self.fraction[p.name]
                self._log(t_ms, p, self._update(p) + " (removed)")
                self._silence()
            elif self.fraction[p.name] < 1.0 and t_ms > p.at_ms:
                self.fraction[p.name] = self._fraction(p, t_ms)
                what = self._update(p)
                if self.fraction[p.name] >= 1.0:
                    self._log(t_ms, p, what + " (end of ramp)")

    def _silence(self) -> None:
        self.silenced[:] = False
        for p in self.active:
            if p.lesion is not None:
                self.silenced[p.lesion] = True

    @staticmethod
    def _fraction(p: PerturbationSpec, t_ms: float) -> float:
        if not p.ramp_ms:
            return 1.0
        return float(np.clip((t_ms - p.at_ms) / p.ramp_ms, 0.0, 1.0))

    # --- targets ----------------------------------------------------------------------
    def _key(self, p: PerturbationSpec) -> tuple:
        if p.circuit is not None:
            return ("knob", p.circuit, p.knob)
        if p.regions is not None:
            return ("parameter", p.parameter)
        return ("edges",)

    def _where(self, p: PerturbationSpec) -> np.ndarray | slice:
        """Which entries of the target array p changes."""
        if p.circuit is not None:
            return slice(None)
        if p.regions is not None:
            return p.regions
        eng = self.sim.engine
        rows = np.repeat(np.arange(eng.n_regions), np.diff(eng.row_ptr))
        if p.edges is not None:
            mask = np.isin(rows, p.edges["to"]) & np.isin(eng.col, p.edges["from"])
        else:
            mask = np.isin(rows, p.lesion) | np.isin(eng.col, p.lesion)
        return np.flatnonzero(mask)

    def _read(self, key: tuple) -> np.ndarray:
        if key[0] == "knob":
            return np.array([self.knobs[key[1]][key[2]]], dtype=float)
        if key[0] == "parameter":
            return self.sim.engine.P[:, self.sim.model.parameter_names().index(key[1])].copy()
        return self.sim.engine.w.copy()

    def _write(self, key: tuple, value: np.ndarray) -> None:
        sim = self.sim
        if key[0] == "knob":
            self.knobs[key[1]][key[2]] = float(value[0])
            if key[1] in sim.circuits:  # else another rank's circuit: it applies it
                sim.circuits[key[1]].set_knob(key[2], float(value[0]))
        elif key[0] == "parameter":
            sim.engine.set_parameter(key[1], np.arange(sim.engine.n_regions), value)
        else:
            sim.engine.w[:] = value

    def _update(self, p: PerturbationSpec) -> str:
        """Recompute p's target from its original value and every active change of it."""
        key = self._key(p)
        if key not in self.original:
            self.original[key] = self._read(key)
        value = self.original[key].copy()
        for q in self.active:
            if self._key(q) != key:
                continue
            idx, frac = self._where(q), self.fraction[q.name]
            if q.operation == "scale":
                value[idx] *= 1.0 + (q.value - 1.0) * frac
            else:
                value[idx] += (q.value - value[idx]) * frac
        self._write(key, value)
        return self._describe(p, value)

    def _describe(self, p: PerturbationSpec, value: np.ndarray) -> str:
        if p.circuit is not None:
            return f"{p.circuit}.{p.knob} = {value[0]:g}"
        if p.regions is not None:
            labels = [self.sim.conn.labels[r] for r in p.regions]
            v = np.round(value[p.regions], 6).tolist()
            if len(labels) > 6:
                return f"{p.parameter}[{len(labels)} regions] = {min(v):g}..{max(v):g}"
            return f"{p.parameter}[{','.join(labels)}] = {v}"
        idx = self._where(p)
        factor = 1.0 + (p.value - 1.0) * self.fraction.get(p.name, 0.0)
        return f"{len(idx)} edge weights x {factor:g}"

    def _log(self, t_ms: float, p: PerturbationSpec, what: str) -> None:
        if self.sim.is_engine and not self._quiet:
            self.sim.recorder.store.log(t_ms, p.name, what)
            if self.sim.progress:
                print(f"\n[t = {t_ms / 1000:.3f} s] {p.name}: {what}", file=sys.stderr)
