"""Quantities: usual spellings parse, bare numbers only where allowed, and an error never
suggests a spelling that is itself refused."""

import re

import pytest

from multiscale.circuits import CIRCUITS
from multiscale.coupling import COUPLINGS
from multiscale.quantities import QuantityError, to_float
from multiscale.regions import REGION_MODELS


@pytest.mark.parametrize("text", ["220 Hz", "220 /s", "220 1/s", "0.22 1/ms", "220 s^-1",
                                  "220 s**-1", "0.22 kHz", "220*Hz"])  # fmt: skip
def test_every_usual_spelling_of_a_rate(text):
    assert to_float(text, "Hz", bare=False) == pytest.approx(220.0)


def test_bare_numbers():
    with pytest.raises(QuantityError, match="a number without a unit"):
        to_float(10, "ms", bare=False)
    with pytest.raises(QuantityError, match="a number without a unit"):
        to_float("10", "ms", bare=False)
    assert to_float(0.5, "1", bare=False) == 0.5  # dimensionless: plain numbers
    assert to_float(0.22, "1/ms") == 0.22  # a model parameter in its declared unit


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "1e400 ms", 10**400, True])
def test_not_finite_or_not_a_number(value):
    with pytest.raises(QuantityError):
        to_float(value, "ms")


def test_powers_are_small_integers_of_a_unit():
    for text in ("10 2**2**2**2**2", "1 ms**999", "1 (ms**2)**99**99", "10 12", "1 ms*1000"):
        with pytest.raises(QuantityError):
            to_float(text, "ms")


def _declared_units() -> set[str]:
    units = {"ms", "Hz", "mm/ms", "nA", "1"}
    for m in REGION_MODELS.values():
        units |= {p.unit for p in m.PARAMETERS.values()}
        units |= {"1/ms" if v.unit == "1" else f"{v.unit}/ms" for v in m.STATE_VARIABLES.values()}
    for c in CIRCUITS.values():
        units |= {p.unit for p in {**c.PARAMETERS, **c.KNOBS}.values()}
    for c in COUPLINGS.values():
        units |= {p.unit for p in c.parameters.values()}
    return units


@pytest.mark.parametrize("unit", sorted(_declared_units()))
def test_the_suggested_spelling_is_accepted(unit):
    for bad in (7, "7", "seven", "7 furlongs"):
        try:
            to_float(bad, unit, bare=False)
        except QuantityError as err:
            for example in re.findall(r"'([^']*)'", str(err)):
                if example[:1].isdigit():  # a suggested spelling, not the unit name quoted
                    to_float(example, unit, bare=False)
