"""Physical quantities written as strings in experiment files ("10 s", "130 Hz", "3 m/s").

A value keeps its dimensions until it is converted, explicitly, into the unit a model works
in (the mass engine works in ms). The unit names are Brian2's (multiscale/unit_names.py, a
table written from Brian2's unit system and checked against it by the tests), read here
without importing Brian2, which takes seconds and is needed only by circuits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from multiscale.unit_names import TABLE

if TYPE_CHECKING:
    from brian2 import Quantity

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# the unit may start with "/" or "1/" ("220 /s", "220 1/s") and use ^ or ** with small
# integer exponents ("220 s^-1")
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z_/1*][A-Za-z0-9_/*^ .()+-]*)?\s*$")
# an exponent must follow a unit name (or a closing parenthesis) and be a small integer, so
# that eval never computes a huge power
_POWER = re.compile(r"\*\*\s*(\(\s*[-+]?\d{1,2}\s*\)|[-+]?\d{1,2}(?![\d.]))")
_MAX_UNIT_LENGTH = 40


class _Unit:
    """A value in SI and its dimensions (exponents of m, kg, s, A, K, mol, cd), with just
    the arithmetic a unit expression needs (*, /, integer **, unary and same-dimension + and
    -), computed as Brian2 computes it, so that every value is the same to the last bit:
    between units of a power of ten (``scale``, as Brian2's ``Unit``), the power is added
    and the value is ``10.0**scale`` (an OverflowError beyond the float range, a refused
    unit); anything else is numpy arithmetic on the values (as Brian2's ``Quantity``)."""

    __slots__ = ("dims", "scale", "value")

    def __init__(self, value, dims: tuple[int, ...], scale: int | None = None):
        self.value = 10.0**scale if scale is not None else np.float64(value)
        self.dims = dims
        self.scale = scale

    @staticmethod
    def _of(other) -> _Unit:
        if isinstance(other, _Unit):
            return other
        if isinstance(other, int | float) and not isinstance(other, bool):
            return _Unit(other, _NONE)
        raise TypeError(f"not a unit: {other!r}")

    def _dims(self, other: _Unit, sign: int) -> tuple[int, ...]:
        return tuple(a + sign * b for a, b in zip(self.dims, other.dims, strict=True))

    def __mul__(self, other):
        o = self._of(other)
        if self.scale is not None and o.scale is not None:
            return _Unit(None, self._dims(o, 1), self.scale + o.scale)
        return _Unit(np.multiply(self.value, o.value), self._dims(o, 1))

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._of(other)
        if self.scale is not None and o.scale is not None:
            return _Unit(None, self._dims(o, -1), self.scale - o.scale)
        if o.scale is not None and self.dims == _NONE and self.value == 1:  # 1/unit
            return _Unit(None, self._dims(o, -1), -o.scale)
        return _Unit(np.divide(self.value, o.value), self._dims(o, -1))

    def __rtruediv__(self, other):
        return self._of(other) / self

    def __pow__(self, n):
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("a power must be an integer")
        dims = tuple(a * n for a in self.dims)
        if self.scale is not None:
            return _Unit(None, dims, self.scale * n)
        return _Unit(np.asarray(self.value) ** n, dims)

    def __neg__(self):
        return _Unit(np.negative(self.value), self.dims)

    def __pos__(self):
        return _Unit(self.value, self.dims)

    def __add__(self, other):
        o = self._of(other)
        if o.dims != self.dims:
            raise ValueError("sum of different dimensions")
        return _Unit(np.add(self.value, o.value), self.dims)

    __radd__ = __add__

    def __sub__(self, other):
        o = self._of(other)
        if o.dims != self.dims:
            raise ValueError("difference of different dimensions")
        return _Unit(np.subtract(self.value, o.value), self.dims)

    def __rsub__(self, other):
        return self._of(other) - self


_NONE = (0,) * 7


def _table(text: str) -> dict[str, _Unit]:
    names: dict[str, _Unit] = {}
    dims = _NONE
    for line in text.splitlines():
        if line.endswith("|"):
            dims = tuple(int(d) for d in line[:-1].split())
            continue
        for entry in line.split():
            if "=" in entry:
                name, _, value = entry.partition("=")
                names[name] = _Unit(float(value), dims)
            else:
                name, _, scale = entry.partition(":")
                names[name] = _Unit(None, dims, int(scale))
    return names


_UNIT_NAMES = _table(TABLE)


class QuantityError(ValueError):
    """A string that is not a number with a known unit, or has the wrong dimensions."""


def _unit(text: str) -> _Unit:
    expr = text.replace("^", "**").strip()
    if expr.startswith("/"):
        expr = "1" + expr
    if len(expr) > _MAX_UNIT_LENGTH:
        raise QuantityError(f"unit {text!r} is longer than {_MAX_UNIT_LENGTH} characters")
    if expr.count("**") != len(_POWER.findall(expr)) or re.search(r"\d\s*\*\*", expr):
        raise QuantityError(f"cannot read unit {text!r}: powers must be small integers of a unit")
    # no numbers but powers and a leading "1/": "10 12" must not read as 120
    rest = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", "", _POWER.sub("", expr))
    if re.search(r"\d", re.sub(r"^\s*1\s*/", "", rest)):
        raise QuantityError(f"cannot read unit {text!r}: it may hold no numbers but powers")
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr)
    unknown = [n for n in names if n not in _UNIT_NAMES]
    if unknown:
        raise QuantityError(f"unknown unit {unknown[0]!r}")
    try:
        with np.errstate(all="ignore"):  # a huge power is inf, refused as not finite
            value = eval(expr, {"__builtins__": {}}, _UNIT_NAMES)  # noqa: S307 - names checked
        value = _Unit._of(value)
    except Exception as err:  # syntax errors in the unit part, sums of different dimensions
        raise QuantityError(f"cannot read unit {text!r}") from err
    return _Unit(value.value, value.dims)  # a quantity now: arithmetic on values from here


def is_dimensionless(unit: str) -> bool:
    """Whether ``unit`` ("1", "radian", "mV/mV"...) has no physical dimensions."""
    return unit == "1" or _unit(unit).dims == _NONE


def _example(unit: str) -> str:
    return "0.5" if is_dimensionless(unit) else f"'10 {unit}'"


def _read(value: str | float | int, unit: str, bare: bool) -> float:
    """``value`` in ``unit``, as number x (its unit / ``unit``): the ratio is taken first,
    so that a value in a model's unit never overflows on its way through SI."""
    expected = _unit(unit) if unit != "1" else _Unit(1.0, _NONE)
    dimensionless = expected.dims == _NONE
    if isinstance(value, bool):
        raise QuantityError(f"expected a quantity in {unit}, got a boolean")
    if isinstance(value, int | float):
        if not bare and not dimensionless:
            raise QuantityError(f"a number without a unit; write the unit, e.g. '{value} {unit}'")
        try:
            number, factor = float(value), 1.0
        except OverflowError as err:  # an integer beyond the float range
            raise QuantityError("not a finite number") from err
    elif not isinstance(value, str):
        raise QuantityError(f"expected {_example(unit)}")
    else:
        match = _QUANTITY.match(value)
        if not match:
            raise QuantityError(f"expected a number and a unit, e.g. {_example(unit)}")
        text, unit_text = match.groups()
        unit_text = (unit_text or "").strip().lstrip("*").strip()
        if not unit_text and not bare and not dimensionless:
            raise QuantityError(f"a number without a unit; write the unit, e.g. '{text} {unit}'")
        given = _unit(unit_text) if unit_text else _Unit(1.0, _NONE)
        if given.dims != expected.dims:
            want = "dimensionless" if dimensionless else f"a {unit} value"
            raise QuantityError(f"has the wrong dimensions: expected {want}")
        with np.errstate(all="ignore"):
            number, factor = float(text), float((given / expected).value)
    with np.errstate(over="ignore"):
        result = number * factor
    if not np.isfinite(result):
        raise QuantityError("not a finite number")
    return result


def parse_quantity(value: str | float | int, unit: str, *, bare: bool = True) -> Quantity:
    """Read ``value`` ("10 s", "0.5*ms", "220 /s") as a finite Quantity.

    ``unit`` is the expected unit ("ms", "Hz", "1" for dimensionless); a value in any unit
    of the same dimensions is accepted and converted. A bare number means ``unit`` if
    ``bare``; otherwise it is refused unless ``unit`` is dimensionless, so that
    ``duration: 10`` is never read as 10 ms.
    """
    from brian2.units.fundamentalunits import Quantity, get_or_create_dimension

    number = _read(value, unit, bare)
    if unit == "1":
        return Quantity(number)
    u = _unit(unit)
    return Quantity(number * u.value, dim=get_or_create_dimension(u.dims))


def to_float(value: str | float | int, unit: str, *, bare: bool = True) -> float:
    """``value`` converted to a plain float in ``unit`` (e.g. ``to_float("1 s", "ms") == 1000``);
    see :func:`parse_quantity` for ``bare``."""
    return _read(value, unit, bare)
