"""Finding a model class from what an experiment file names: a built-in name, a user's file
(``path/to/file.py:Class``, relative to the experiment file), a module (``package.module:Class``),
or a name another installed package registers in an entry-point group.

Entry-point groups: ``multiscale.circuits`` for circuits and ``multiscale.regions`` for region
models. A package registers ``thalamus = my_package.thalamus:Thalamus`` in one of them (for
setuptools, under ``[options.entry_points]``), and experiments then name it ``thalamus``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from importlib.metadata import entry_points
from pathlib import Path

CIRCUIT_GROUP = "multiscale.circuits"
REGION_GROUP = "multiscale.regions"


def registered(group: str) -> dict[str, str]:
    """Names registered by installed packages in an entry-point group, with their targets."""
    return {ep.name: ep.value for ep in entry_points(group=group)}


def load_class(
    spec: str, *, base: type, builtins: Mapping[str, type], group: str, base_dir: Path | None = None
) -> type:
    """The subclass of ``base`` that ``spec`` names. Raises ValueError saying what is wrong."""
    if spec in builtins:
        return builtins[spec]
    plugins = {ep.name: ep for ep in entry_points(group=group)}
    if spec in plugins:
        try:
            cls = plugins[spec].load()
        except Exception as err:  # a broken plugin is the user's to fix: say which
            raise ValueError(f"entry point {spec!r} ({plugins[spec].value}) failed: {err}") from err
        return _checked(cls, spec, base)
    if ":" not in spec:
        names = sorted(builtins) + sorted(plugins)
        raise ValueError(f"expected one of {names}, or 'file.py:Class' / 'module:Class'")
    where, cls_name = spec.rsplit(":", 1)
    module = _module_from_file(where, base_dir) if where.endswith(".py") else _import(where)
    return _checked(getattr(module, cls_name, None), spec, base)


def _module_from_file(where: str, base_dir: Path | None):
    path = Path(where)
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.is_file():
        raise ValueError(f"file {path} not found")
    # one module per file, loaded once however many experiments name it
    name = f"_multiscale_user_{path.stem}_{abs(hash(str(path.resolve())))}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


def _import(where: str):
    try:
        return importlib.import_module(where)
    except ImportError as err:
        raise ValueError(f"cannot import module {where!r}: {err}") from err


def _checked(cls, spec: str, base: type) -> type:
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f"{spec!r} is not a subclass of {base.__module__}.{base.__qualname__}")
    return cls
