"""Writes multiscale/unit_names.py, the unit names that experiment files may use, from
Brian2's unit system: ``python tests/unit_table.py``. tests/test_quantities.py checks that
the written table still equals Brian2's (names, values and dimensions, exactly)."""

from __future__ import annotations

import textwrap
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "multiscale" / "unit_names.py"


def brian2_units() -> dict[str, tuple[int | None, float, tuple[int, ...]]]:
    """name -> (scale, value in SI, exponents of m, kg, s, A, K, mol, cd), as Brian2 has
    them: the scale is a Brian2 Unit's power of ten (its value is 10.0**scale), None for a
    plain Quantity ("min")."""
    import brian2
    from brian2.units.fundamentalunits import Quantity, Unit

    names = {
        name: value
        for name, value in vars(brian2.units).items()
        if isinstance(value, Quantity) and not name.startswith("_")
    }
    names.update({n: v for n, v in vars(brian2.units.allunits).items() if isinstance(v, Quantity)})
    # SI symbols that Brian2 spells out (it keeps one-letter names free for user variables)
    names.update(
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
    out = {}
    for name, value in names.items():
        dims = tuple(float(d) for d in value.dim._dims)
        assert all(d == int(d) for d in dims), (name, dims)
        scale = value.scale if isinstance(value, Unit) else None
        if scale is not None:
            assert scale == int(scale) and float(value) == 10.0**scale, (name, scale)
            scale = int(scale)
        out[name] = (scale, float(value), tuple(int(d) for d in dims))
    return out


def render(units: dict[str, tuple[int | None, float, tuple[int, ...]]], version: str) -> str:
    by_dims: dict[tuple[int, ...], list[str]] = {}
    for name, (scale, value, dims) in units.items():
        entry = f"{name}={value!r}" if scale is None else f"{name}:{scale}"
        by_dims.setdefault(dims, []).append(entry)
    lines = []
    for dims, entries in by_dims.items():
        lines.append(" ".join(map(str, dims)) + "|")
        lines += textwrap.wrap(" ".join(entries), 96, initial_indent="  ", subsequent_indent="  ")
    return (
        f'"""Unit names accepted in experiment files, with their values in SI and their\n'
        f"dimensions: Brian2 {version}'s names, so that a quantity reads without importing\n"
        f"Brian2. Written by tests/unit_table.py; tests/test_quantities.py checks it against\n"
        f'Brian2. Do not edit by hand."""\n\n'
        "# per dimension a line 'exponents of m kg s A K mol cd|', then its names: name:scale\n"
        "# for a unit of value 10.0**scale (a Brian2 Unit), name=value for another quantity\n"
        'TABLE = """\n' + "\n".join(lines) + '\n"""\n'
    )


if __name__ == "__main__":
    import brian2

    TARGET.write_text(render(brian2_units(), brian2.__version__))
    print(f"wrote {TARGET}")
