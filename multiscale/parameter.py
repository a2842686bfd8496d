"""Declarations shared by region models and circuits: a named value with unit and meaning."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """A named value with its default, unit (as written in experiment files) and meaning."""

    default: float
    unit: str
    description: str


@dataclass(frozen=True)
class StateVariable:
    """A state variable of a region model: initial value, unit, meaning, optional bounds
    (values are clipped to them after every step, as TVB does)."""

    initial: float
    unit: str
    description: str
    bounds: tuple[float, float] | None = None
