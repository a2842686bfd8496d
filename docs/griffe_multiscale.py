"""Griffe extensions for the API reference (mkdocs.yml).

PackageDir: subpackages that setuptools' ``package_dir`` maps to folders outside the
package. ``circuits/`` and ``regions/`` at the top of the repository install as
``multiscale.circuits`` and ``multiscale.regions`` (setup.cfg, ``[options] package_dir``).
Griffe reads source statically and looks for submodules inside the package's own folder
only, so without this it does not find them (and an editable install does not help: griffe
takes the folders of setuptools' mapping as search paths, not as submodules). When the
top-level package has been loaded, this reads the mapping from setup.cfg and visits each
mapped folder's modules as submodules, so ``::: multiscale.circuits.ei_network`` resolves
and cross-references between the package and those modules work.

ParameterTables: a model's declarations (``PARAMETERS``, ``KNOBS``, ``STATE_VARIABLES``: dicts
of ``Parameter(...)`` / ``StateVariable(...)``) appended to its class docstring as tables,
read from the source as ``multiscale info`` prints them from the classes.

ProjectDocstrings: this project's docstrings are prose, with two conventions of their own
that a Markdown page would show raw: lines ``name: meaning`` (continued on indented lines)
for the parameters of a function or the fields of a class, and Sphinx roles
(``:class:`Result```). The first become an ``Args:`` / ``Attributes:`` section when
``name`` is one of the object's parameters or attributes (so the reference shows them as a
table, and a documented parameter that no longer exists is a warning); roles become
cross-references (``[`Result`][]``, resolved in the object's scope: one that does not
resolve fails ``mkdocs build --strict``); a trailing ``::`` becomes ``:``.
"""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path
from typing import Any

import griffe

ROOT = Path(__file__).resolve().parents[1]


def package_dirs(setup_cfg: Path = ROOT / "setup.cfg") -> dict[str, Path]:
    """Dotted package name -> folder, for every ``package_dir`` entry of setup.cfg that maps
    a subpackage to a folder other than its parent's subfolder of the same name."""
    cfg = configparser.ConfigParser()
    cfg.read(setup_cfg)
    out = {}
    for line in cfg.get("options", "package_dir", fallback="").splitlines():
        if "=" not in line:
            continue
        name, folder = (s.strip() for s in line.split("=", 1))
        if "." in name:
            out[name] = ROOT / folder
    return out


class PackageDir(griffe.Extension):
    """Adds the package_dir-mapped subpackages to a package once it is loaded."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        for name, folder in package_dirs().items():
            parent_path, _, leaf = name.rpartition(".")
            if parent_path.split(".")[0] != pkg.name or not folder.is_dir():
                continue
            parent = pkg if parent_path == pkg.name else pkg.modules_collection[parent_path]
            sub = self._visit(leaf, folder / "__init__.py", parent, loader)
            for path in sorted(folder.glob("*.py")):
                if path.name != "__init__.py":
                    self._visit(path.stem, path, sub, loader)

    @staticmethod
    def _visit(
        name: str, path: Path, parent: griffe.Module, loader: griffe.GriffeLoader
    ) -> griffe.Module:
        module = griffe.visit(
            name,
            filepath=path,
            code=path.read_text(encoding="utf-8"),
            parent=parent,
            extensions=loader.extensions,
            docstring_parser=loader.docstring_parser,
            docstring_options=loader.docstring_options,
            lines_collection=loader.lines_collection,
            modules_collection=loader.modules_collection,
        )
        loader.lines_collection[path] = path.read_text(encoding="utf-8").splitlines()
        parent.set_member(name, module)
        return module


#: declaration -> (title, the declaration's fields in order; the first three are columns)
TABLES = {
    "PARAMETERS": (
        "Parameters (fixed at build time)",
        ("default", "unit", "meaning", "integer", "minimum", "maximum", "positive"),
    ),
    "KNOBS": (
        "Knobs (perturbations change them during a run)",
        ("default", "unit", "meaning", "integer", "minimum", "maximum", "positive"),
    ),
    "STATE_VARIABLES": ("State variables", ("initial", "unit", "meaning", "bounds")),
}
#: how a constraint field reads in the table
CONSTRAINTS = {
    "integer": lambda v: "integer" if v == "True" else "",
    "positive": lambda v: "> 0" if v == "True" else "",
    "minimum": lambda v: f">= {v}" if v != "None" else "",
    "maximum": lambda v: f"<= {v}" if v != "None" else "",
    "bounds": lambda v: f"clipped to {v}" if v != "None" else "",
}


def _cell(node: ast.expr, names: dict[str, str]) -> str:
    if isinstance(node, ast.Name) and node.id in names:  # a module constant: its value
        return names[node.id]
    text = node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None
    text = text if text is not None else ast.unparse(node)
    return text.replace("|", "\\|").replace("\n", " ")


def declaration_table(
    source: str, fields: tuple[str, ...], names: dict[str, str] | None = None
) -> str | None:
    """A markdown table of a dict literal of declarations (``{"n": Parameter(200, "1",
    "cells", minimum=1)}``): the name, the first three fields as columns and the others
    as constraints; ``names`` gives the values of module constants the declarations use.
    None if ``source`` is not such a literal."""
    try:
        tree = ast.parse(source, mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(tree, ast.Dict) or not tree.keys:
        return None
    rows = []
    for key, call in zip(tree.keys, tree.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(call, ast.Call)):
            return None
        given = dict(zip(fields, (_cell(a, names or {}) for a in call.args), strict=False))
        given |= {k.arg: _cell(k.value, names or {}) for k in call.keywords if k.arg in fields}
        value, unit, meaning = (given.get(f, "") for f in fields[:3])
        constraints = [CONSTRAINTS[f](given[f]) for f in fields[3:] if f in given]
        rows.append(
            [
                f"`{key.value}`",
                f"`{value}`",
                f"`{unit}`",
                meaning,
                ", ".join(filter(None, constraints)),
            ]
        )
    header = ["name", *fields[:3], "allowed"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class ParameterTables(griffe.Extension):
    """Appends a table per declaration dict of a class to its docstring."""

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        sections = []
        names = {
            name: str(member.value)
            for name, member in cls.module.members.items()
            if not member.is_alias and member.is_attribute and member.value is not None
        }
        for name, (title, fields) in TABLES.items():
            attr = cls.members.get(name)
            if attr is None or attr.is_alias or getattr(attr, "value", None) is None:
                continue
            table = declaration_table(str(attr.value), fields, names)
            if table:
                sections.append(f"**{title}**\n\n{table}")
        if not sections:
            return
        text = "\n\n".join(sections)
        if cls.docstring is None:
            cls.docstring = griffe.Docstring(text, parent=cls)
        else:
            cls.docstring.value = f"{cls.docstring.value}\n\n{text}"


_ITEM = re.compile(r"^(\*{0,2}\w+): (\S.*)$")
_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):`~?([\w.]+)`")


def project_docstring(text: str, params: set[str], attributes: set[str]) -> str:
    """``text`` with this project's conventions in Google/Markdown form (see the module
    docstring): runs of ``name: meaning`` lines whose names are all in ``params`` or all in
    ``attributes`` become an ``Args:`` or ``Attributes:`` section."""
    text = _ROLE.sub(lambda m: f"[`{m.group(1).split('.')[-1]}`][{m.group(1)}]", text)
    text = re.sub(r"::$", ":", text, flags=re.M)
    lines, out, k = text.splitlines(), [], 0
    while k < len(lines):
        start, run = k, []
        while k < len(lines) and (m := _ITEM.match(lines[k])):
            name = m.group(1).lstrip("*")
            run.append(f"    {name}: {m.group(2)}")
            k += 1
            while k < len(lines) and lines[k][:1] in (" ", "\t") and lines[k].strip():
                run.append("        " + lines[k].strip())
                k += 1
        names = {_ITEM.match(line.strip()).group(1) for line in run if line[4] != " "}
        title = "Args:" if names and names <= params else None
        title = "Attributes:" if names and not title and names <= attributes else title
        if title:
            if out and out[-1].strip():
                out.append("")
            out += [title, *run]
        else:  # not a list of this object's names: as written
            out += lines[start:k]
        if k == start:
            out.append(lines[k])
            k += 1
    return "\n".join(out)


class ProjectDocstrings(griffe.Extension):
    """Rewrites docstrings from this project's conventions (see the module docstring)."""

    @staticmethod
    def _rewrite(obj: griffe.Object, params: set[str], attributes: set[str]) -> None:
        if obj.docstring is not None:
            obj.docstring.value = project_docstring(obj.docstring.value, params, attributes)

    def on_module(self, *, mod: griffe.Module, **kwargs: Any) -> None:
        self._rewrite(mod, set(), set())

    def on_function(self, *, func: griffe.Function, **kwargs: Any) -> None:
        self._rewrite(func, {p.name for p in func.parameters}, set())

    def on_attribute(self, *, attr: griffe.Attribute, **kwargs: Any) -> None:
        self._rewrite(attr, set(), set())

    def on_class(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        init = cls.members.get("__init__")
        params = (
            {p.name for p in init.parameters} if init is not None and init.is_function else set()
        )
        attributes = {name for name, m in cls.members.items() if not m.is_alias and m.is_attribute}
        self._rewrite(cls, params - attributes, attributes)
