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

The schedule sees only what it changes: the engine (through its methods), this rank's
circuits (``set_knob``) and a function that logs a change.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from multiscale.storage import LogEntry

if TYPE_CHECKING:
    from multiscale.circuit import Circuit
    from multiscale.config import PerturbationSpec
    from multiscale.engine import Engine
    from multiscale.plan import Plan


class PerturbationSchedule:
    """The perturbations of ``plan``, applied to ``engine`` (None on a rank without it)
    and to the circuits of this rank; ``log`` (None: log nothing) receives every change,
    and ``announce`` prints it as well."""

    def __init__(
        self,
        plan: Plan,
        engine: Engine | None,
        circuits: dict[str, Circuit],
        log: Callable[[LogEntry], None] | None = None,
        announce: bool = False,
    ) -> None:
        self.engine = engine
        self.circuits = circuits
        self.labels = plan.connectome.labels
        self.log = log
        self.announce = announce
        self.pending = sorted(plan.experiment.perturbations, key=lambda p: p.at_ms)
        self.active: list[PerturbationSpec] = []  # in the order they started
        self.fraction: dict[str, float] = {}  # how much of each active change applies
        self.original: dict[tuple, np.ndarray] = {}  # target -> value before any change
        self.silenced = np.zeros(plan.connectome.n_regions, dtype=bool)  # lesioned regions
        self._quiet = False  # replaying: change the targets, log nothing
        # every rank tracks every circuit's knobs, so all log the same values
        self.knobs = {
            name: {k: c.values[k] for k in c.cls.KNOBS} for name, c in plan.circuits.items()
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
        for p in [p for p in self.pending if self.side(p) == side and _starts(p, t_ms)]:
            self.pending.remove(p)
            self.active.append(p)
            self.fraction[p.name] = self._fraction(p, t_ms)
            self._log(t_ms, p, "start", self._update(p))
            self._silence()
        for p in [p for p in self.active if self.side(p) == side]:
            if _ends(p, t_ms):
                self.active.remove(p)
                del self.fraction[p.name]
                self._log(t_ms, p, "removed", self._update(p))
                self._silence()
            elif self._ramps(p, t_ms):
                self.fraction[p.name] = self._fraction(p, t_ms)
                value = self._update(p)
                if self.fraction[p.name] >= 1.0:
                    self._log(t_ms, p, "end of ramp", value)

    def acts_at(self, t_ms: float, side: str) -> bool:
        """Whether ``apply(t_ms, side)`` would change anything (a perturbation starts,
        ends or ramps then): where a batch of runs must stop to apply it."""
        if any(self.side(p) == side and _starts(p, t_ms) for p in self.pending):
            return True
        return any(
            self.side(p) == side and (_ends(p, t_ms) or self._ramps(p, t_ms)) for p in self.active
        )

    def _ramps(self, p: PerturbationSpec, t_ms: float) -> bool:
        """Whether active p is still ramping at t_ms (its fraction moves then)."""
        return self.fraction[p.name] < 1.0 and t_ms > p.at_ms

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
    @staticmethod
    def _key(p: PerturbationSpec) -> tuple:
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
        if p.edges is not None:
            return self.engine.edges(sources=p.edges["from"], targets=p.edges["to"])
        return self.engine.edges_touching(p.lesion)

    def _read(self, key: tuple) -> np.ndarray:
        if key[0] == "knob":
            return np.array([self.knobs[key[1]][key[2]]], dtype=float)
        if key[0] == "parameter":
            return self.engine.parameter(key[1])
        return self.engine.edge_weights()

    def _write(self, key: tuple, value: np.ndarray) -> None:
        if key[0] == "knob":
            self.knobs[key[1]][key[2]] = float(value[0])
            if key[1] in self.circuits:  # else another rank's circuit: it applies it
                self.circuits[key[1]].set_knob(key[2], float(value[0]))
        elif key[0] == "parameter":
            self.engine.set_parameter(key[1], np.arange(len(value)), value)
        else:
            self.engine.set_edge_weights(value)

    def _update(self, p: PerturbationSpec) -> np.ndarray:
        """Recompute p's target from its original value and every active change of it;
        the target's new value."""
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
        return value

    # --- the log ----------------------------------------------------------------------
    def _log(self, t_ms: float, p: PerturbationSpec, event: str, value: np.ndarray) -> None:
        if self._quiet or self.log is None:
            return
        entry = self._entry(t_ms, p, event, value)
        self.log(entry)
        if self.announce:
            print(f"\n[t = {t_ms / 1000:.3f} s] {p.name}: {entry.what}", file=sys.stderr)

    def _entry(self, t_ms: float, p: PerturbationSpec, event: str, value: np.ndarray) -> LogEntry:
        """The log row of a change of p's target to ``value``."""
        suffix = {"start": "", "end of ramp": " (end of ramp)", "removed": " (removed)"}[event]
        row = dict(time_ms=t_ms, name=p.name, event=event)
        if p.circuit is not None:
            v = float(value[0])
            what = f"{p.circuit}.{p.knob} = {v:g}"
            return LogEntry(
                **row, circuit=p.circuit, quantity=p.knob, value_min=v, value_max=v,
                what=what + suffix,
            )  # fmt: skip
        if p.regions is not None:
            labels = [self.labels[r] for r in p.regions]
            v = np.round(value[p.regions], 6)
            lo, hi = (float(v.min()), float(v.max())) if len(v) else (np.nan, np.nan)
            if len(labels) > 6:
                regions = f"{len(labels)} regions"
                what = f"{p.parameter}[{regions}] = {lo:g}..{hi:g}"
            else:
                regions = ",".join(labels)
                what = f"{p.parameter}[{regions}] = {v.tolist()}"
            return LogEntry(
                **row, regions=regions, quantity=p.parameter, value_min=lo, value_max=hi,
                what=what + suffix,
            )  # fmt: skip
        idx = self._where(p)
        factor = 1.0 + (p.value - 1.0) * self.fraction.get(p.name, 0.0)
        ends = p.lesion if p.lesion is not None else np.union1d(p.edges["from"], p.edges["to"])
        regions = (
            ",".join(self.labels[r] for r in ends) if len(ends) <= 6 else f"{len(ends)} regions"
        )
        return LogEntry(
            **row, regions=regions, quantity="edge weight factor", value_min=factor,
            value_max=factor, what=f"{len(idx)} edge weights x {factor:g}{suffix}",
        )  # fmt: skip


#: boundary times within this of a perturbation's time count as that time (ms)
_EPS_MS = 1e-9


def _starts(p: PerturbationSpec, t_ms: float) -> bool:
    """Whether pending p starts at the boundary at t_ms (or has started before it)."""
    return p.at_ms <= t_ms + _EPS_MS


def _ends(p: PerturbationSpec, t_ms: float) -> bool:
    """Whether active p is removed at the boundary at t_ms."""
    return p.until_ms is not None and p.until_ms <= t_ms + _EPS_MS
