"""Physical quantities written as strings in experiment files ("10 s", "130 Hz", "3 m/s").

Parsing goes through Brian2's unit system, so a value keeps its dimensions until it is
converted, explicitly, into the unit a model works in (the mass engine works in ms).
"""

from __future__ import annotations

import re

import brian2
from brian2.units.fundamentalunits import DIMENSIONLESS, Quantity, get_dimensions

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z_][A-Za-z0-9_/*^ .()]*)?\s*$")
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
    names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr)
    unknown = [n for n in names if n not in _UNIT_NAMES]
    if unknown:
        raise QuantityError(f"unknown unit {unknown[0]!r}")
    try:
        value = eval(expr, {"__builtins__": {}}, _UNIT_NAMES)  # noqa: S307 - names checked above
    except Exception as err:  # syntax errors in the unit part
        raise QuantityError(f"cannot read unit {text!r}") from err
    return Quantity(value)


def parse_quantity(value: str | float | int, unit: str | Quantity) -> Quantity:
    """Read ``value`` ("10 s", "0.5*ms", or a bare number meaning ``unit``) as a Quantity.

    ``unit`` is the expected unit ("ms", "Hz", "1" for dimensionless); a value in any unit
    of the same dimensions is accepted and converted.
    """
    expected = _unit(unit) if isinstance(unit, str) and unit != "1" else Quantity(1.0)
    if isinstance(unit, Quantity):
        expected = unit
    if isinstance(value, bool):
        raise QuantityError(f"expected a quantity in {unit}, got a boolean")
    if isinstance(value, int | float):
        return float(value) * expected
    if not isinstance(value, str):
        raise QuantityError(f"expected a quantity in {unit} such as '10 {unit}'")
    match = _QUANTITY.match(value)
    if not match:
        raise QuantityError(f"expected a number and a unit such as '10 {unit}'")
    number, unit_text = match.groups()
    unit_text = (unit_text or "").strip().lstrip("*").strip()
    q = float(number) * (_unit(unit_text) if unit_text else Quantity(1.0))
    if get_dimensions(q) != get_dimensions(expected):
        want = "dimensionless" if get_dimensions(expected) is DIMENSIONLESS else f"a {unit} value"
        raise QuantityError(f"has the wrong dimensions: expected {want}")
    return q


def to_float(value: str | float | int, unit: str) -> float:
    """``value`` converted to a plain float in ``unit`` (e.g. ``to_float("1 s", "ms") == 1000``)."""
    q = parse_quantity(value, unit)
    if unit == "1":
        return float(q)
    return float(q / _unit(unit))
