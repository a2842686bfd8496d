"""Declarations shared by region models and circuits: a named value with unit and meaning."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Parameter:
    """A named value with its default, unit (as written in experiment files) and meaning.

    ``integer``, ``minimum``, ``maximum`` (inclusive) and ``positive`` (> 0) say which
    values the model can be built with; validation checks them before anything is built.
    """

    default: float
    unit: str
    description: str
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False

    def problem(self, value: float) -> str | None:
        """What is wrong with ``value`` ("expected ..."), or None if it is allowed."""
        if self.integer and value != round(value):
            return "expected a whole number"
        if self.positive and not value > 0:
            return "expected a value > 0"
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                return f"expected a value >= {low:g}"
            if low is None:
                return f"expected a value <= {high:g}"
            return f"expected a value in [{low:g}, {high:g}]"
        return None


@dataclass(frozen=True)
class StateVariable:
    """A state variable of a region model: initial value, unit, meaning, optional bounds
    (values are clipped to them after every step, as TVB does)."""

    initial: float
    unit: str
    description: str
    bounds: tuple[float, float] | None = None
