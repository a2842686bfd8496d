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


def test_the_unit_table_is_brian2s():
    """multiscale/unit_names.py (read without Brian2) holds Brian2's names, values and
    dimensions exactly; rewrite it with `python tests/unit_table.py` if this fails."""
    from unit_table import brian2_units

    from multiscale.quantities import _UNIT_NAMES

    ref = brian2_units()
    assert set(_UNIT_NAMES) == set(ref)
    for name, (scale, value, dims) in ref.items():
        u = _UNIT_NAMES[name]
        assert (u.scale, float(u.value), u.dims) == (scale, value, dims), name


def test_unit_expressions_read_as_brian2_reads_them():
    """Values to the last bit and dimensions, as Brian2's unit arithmetic gave them (the
    parser used Brian2 until the table replaced it)."""
    import random

    import brian2
    from brian2.units.fundamentalunits import Quantity

    from multiscale.quantities import _UNIT_NAMES, _unit

    names = sorted(_UNIT_NAMES)
    b2 = {n: v for n, v in vars(brian2.units).items() if isinstance(v, Quantity)}
    b2.update({n: v for n, v in vars(brian2.units.allunits).items() if isinstance(v, Quantity)})
    b2.update({"s": brian2.second, "m": brian2.metre, "V": brian2.volt, "A": brian2.amp,
               "S": brian2.siemens, "F": brian2.farad, "min": 60 * brian2.second})  # fmt: skip
    rng = random.Random(1)
    exprs = ["1/s", "1/ms", "mV/ms", "m/s", "mm/ms", "(m/s)**2", "s**(-1)", "min/s", "ms+s"]
    exprs += [f"{rng.choice(names)}{rng.choice('*/')}{rng.choice(names)}" for _ in range(2000)]
    bases = [n for n in names if not n[-1].isdigit()]  # "cm2**2" is refused before eval
    exprs += [f"{rng.choice(bases)}**{rng.choice([-3, -2, -1, 2, 3])}" for _ in range(2000)]
    for e in exprs:
        try:
            want = Quantity(eval(e, {"__builtins__": {}}, b2))
        except OverflowError:
            with pytest.raises(QuantityError, match="cannot read unit"):
                _unit(e)
            continue
        got = _unit(e)
        assert float(got.value) == float(want), e
        assert got.dims == tuple(int(d) for d in want.dim._dims), e
    # a value in another unit: the ratio of the two, as Brian2's quantities divided
    assert to_float("1 s", "ms") == float(Quantity(brian2.second) / Quantity(brian2.ms))
    assert to_float("10 A", "nA") == 10 * float(Quantity(brian2.amp) / Quantity(brian2.nA))
