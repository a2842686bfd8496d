"""Physical quantities written as strings in experiment files ("10 s", "130 Hz", "3 m/s").

Parsing goes through Brian2's unit system, so a value keeps its dimensions until it is
converted, explicitly, into the unit a model works in (the mass engine works in ms).
"""

from __future__ import annotations

import re

import brian2
import numpy as np
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
# the unit may start with "/" or "1/" ("220 /s", "220 1/s") and use ^ or ** with small
# integer exponents ("220 s^-1")
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z_/1*][A-Za-z0-9_/*^ .()+-]*)?\s*$")
# an exponent must follow a unit name (or a closing parenthesis) and be a small integer, so
# that eval never computes a huge power
_POWER = re.compile(r"\*\*\s*(\(\s*[-+]?\d{1,2}\s*\)|[-+]?\d{1,2}(?![\d.]))")
_MAX_UNIT_LENGTH = 40
_UNIT_NAMES = {
    name: value
    for name, value in vars(brian2.units).items()
    if isinstance(value, Quantity) and not name.startswith("_")
}
_UNIT_NAMES.update(
    {
        name: value
        for name, value in vars(brian2.units.allunits).items()
        if isinstance(value, Quantity)
    }
)
# SI symbols that Brian2 spells out (it keeps one-letter names free for user variables).
_UNIT_NAMES.update(
    {
        "s": brian2.second,
        "m": brian2.metre,
        "V": brian2.volt,
        "A": brian2.amp,
        "S": brian2.siemens,
        "F": brian2.farad,
        "min": 60 * brian2.second,
    }
)


class QuantityError(ValueError):
    """A string that is not a number with a known unit, or has the wrong dimensions."""


def _unit(text: str) -> Quantity:
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
        value = eval(expr, {"__builtins__": {}}, _UNIT_NAMES)  # noqa: S307 - names checked above
    except Exception as err:  # syntax errors in the unit part
        raise QuantityError(f"cannot read unit {text!r}") from err
    return Quantity(value)


def is_dimensionless(unit: str) -> bool:
    """Whether ``unit`` ("1", "radian", "mV/mV"...) has no physical dimensions."""
    return unit == "1" or get_dimensions(_unit(unit)) is DIMENSIONLESS


def _example(unit: str) -> str:
    return "0.5" if is_dimensionless(unit) else f"'10 {unit}'"


def _read(value: str | float | int, unit: str, bare: bool) -> float:
    """``value`` in ``unit``, as number x (its unit / ``unit``): the ratio is taken first,
    so that a value in a model's unit never overflows on its way through SI."""
    expected = _unit(unit) if unit != "1" else Quantity(1.0)
    dimensionless = get_dimensions(expected) is DIMENSIONLESS
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
        given = _unit(unit_text) if unit_text else Quantity(1.0)
        if get_dimensions(given) != get_dimensions(expected):
            want = "dimensionless" if dimensionless else f"a {unit} value"
            raise QuantityError(f"has the wrong dimensions: expected {want}")
        number, factor = float(text), float(given / expected)
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
    return _read(value, unit, bare) * (_unit(unit) if unit != "1" else Quantity(1.0))


def to_float(value: str | float | int, unit: str, *, bare: bool = True) -> float:
    """``value`` converted to a plain float in ``unit`` (e.g. ``to_float("1 s", "ms") == 1000``);
    see :func:`parse_quantity` for ``bare``."""
    return _read(value, unit, bare)
