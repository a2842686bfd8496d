"""Code generation and the disk cache of compiled kernels.

``load_kernel(model, coupling, method)`` writes the kernel template (kernel.py) into a
small module of its own, in which the model's ``dfun``/``observe``, the coupling's
``pre``/``post`` and the sizes (state variables, coupling variables, parameters) are module
constants: numba inlines the model into the loop, unrolls the short loops over state
variables and keeps the per-region scratch vectors in registers. That module is cached on
disk (``kernel_cache_dir()``), so a later process loads the compiled loop instead of
compiling it. Its file name is a digest of everything the loop is compiled from: the
engine files that make it (``KERNEL_FILES``), the sources the model's and coupling's
functions reach (``_fingerprint``), the generated text and the versions of Python, numba,
llvmlite and numpy; an edit of any of them makes a new module.

``load_kernel(..., batch=True)`` makes the batch module of the same triple: the same
single-run functions plus the batch template (batch_kernel.py) and ``_kp_advance`` (the
blocked loop with its regions on numba's threads) compiled with ``parallel=True``. It is
a module (and a cache file) of its own, so a run on one thread never compiles the
parallel loops, and its generated text, hence its key, differs from the single-run
module's.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import inspect
import os
import re
import sys
import tempfile
import types
from pathlib import Path
from typing import TYPE_CHECKING

import llvmlite
import numba
import numpy as np
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic

from multiscale.engine import kernel, numba_helpers, tvb_compat
from multiscale.engine.batch_kernel import BATCH_TEMPLATE
from multiscale.engine.kernel import TEMPLATE
from multiscale.region import RegionModel

if TYPE_CHECKING:  # multiscale.coupling imports the engine (tvb_compat): its type only
    from multiscale.coupling import Coupling

#: the engine's files every kernel is made from (the template, what its module imports, and
#: this code generator): part of every kernel's cache key. The model's and coupling's files
#: (coupling.py, regions/...) are in it through ``_fingerprint``.
KERNEL_FILES = tuple(
    Path(f) for f in (kernel.__file__, numba_helpers.__file__, tvb_compat.__file__, __file__)
)

_KERNELS: dict[tuple, types.ModuleType] = {}


def kernel_cache_dir() -> Path | None:
    """Where compiled kernels are kept: $MULTISCALE_CACHE_DIR/kernels, else
    $XDG_CACHE_HOME/multiscale/kernels, else ~/.cache/multiscale/kernels. None (compile in
    memory, every process) when MULTISCALE_KERNEL_CACHE=0 or the folder is not writable.
    Deleting the folder is always safe."""
    if os.environ.get("MULTISCALE_KERNEL_CACHE", "1") == "0":
        return None
    base = os.environ.get("MULTISCALE_CACHE_DIR")
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        base = os.path.join(xdg, "multiscale")
    path = Path(base) / "kernels"
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "__pycache__").mkdir(exist_ok=True)
    except OSError:
        return None
    ok = os.access(path, os.W_OK) and os.access(path / "__pycache__", os.W_OK)
    return path if ok else None


_SIMPLE = (bool, int, float, complex, str, bytes, type(None), np.generic)


def _fingerprint(roots: list) -> str | None:
    """Digest of the code a kernel is compiled from: the source files of ``roots`` and of
    every numba function, intrinsic or Python function they reach through their globals and
    closures, with the values of the constants they read and the compile options. None when
    some of it cannot be pinned down (no source file, an unknown global): such kernels are
    not cached on disk."""
    digest = hashlib.sha256()
    files: set[str] = set()
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, Dispatcher):
            digest.update(repr(sorted(obj.targetoptions.items())).encode())
            func = obj.py_func
        elif isinstance(obj, _Intrinsic):
            func = obj._defn
        elif isinstance(obj, types.FunctionType):
            func = obj
        else:
            return None
        try:
            src = inspect.getsourcefile(func)
        except TypeError:
            src = None
        if src is None or not os.path.isfile(src):
            return None
        if src not in files:
            files.add(src)
            digest.update(src.encode() + Path(src).read_bytes())
        digest.update(f"{func.__module__}.{func.__qualname__}".encode())
        values = []
        codes = [func.__code__]
        while codes:
            code = codes.pop()
            values += [func.__globals__[n] for n in code.co_names if n in func.__globals__]
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        values += [cell.cell_contents for cell in func.__closure__ or ()]
        values += list(func.__defaults__ or ())
        for v in values:
            if isinstance(v, (Dispatcher, _Intrinsic, types.FunctionType)):
                todo.append(v)
            elif isinstance(v, types.ModuleType):
                continue  # np, math, ...: their attributes are library code
            elif isinstance(v, type):  # a class: by name and, if it has one, source file
                digest.update(f"{v.__module__}.{v.__qualname__}".encode())
                try:
                    src = inspect.getsourcefile(v)
                except (TypeError, OSError):
                    src = None
                if src is not None and os.path.isfile(src) and src not in files:
                    files.add(src)
                    digest.update(src.encode() + Path(src).read_bytes())
            elif isinstance(v, np.ndarray):
                digest.update(repr((v.dtype.str, v.shape)).encode() + v.tobytes())
            elif isinstance(v, _SIMPLE) or (
                isinstance(v, tuple) and all(isinstance(u, _SIMPLE) for u in v)
            ):
                digest.update(repr(v).encode())
            else:
                return None
    return digest.hexdigest()


@functools.cache
def _source(func) -> str:
    """A template function's source (``inspect`` tokenizes its file each time: the kernel
    source is built twice per kernel, once for its key)."""
    return inspect.getsource(func)


def _kernel_source(
    model: type[RegionModel],
    coupling: Coupling,
    method: str,
    cache: bool,
    key: str,
    batch: bool = False,
) -> str:
    bounds = model.bounds()
    n_c = coupling.n_inputs(len(model.COUPLING_VARIABLES))
    lines = [
        f'"""Engine kernel for {model.__module__}.{model.__qualname__} with {coupling.name}'
        f" coupling and {method} steps, generated by multiscale.engine (key {key})."
        ' Safe to delete."""',
        "import numpy as np",
        "from numba import njit",
        "from multiscale.engine.numba_helpers import stack_array",
        "from multiscale.engine.tvb_compat import pairwise",
        f"N_SV = {len(model.STATE_VARIABLES)}",
        f"N_CV = {len(model.COUPLING_VARIABLES)}",
        f"N_C = {n_c}",
        f"N_PAR = {len(model.PARAMETERS)}",
        f"N_Q = {len(coupling.parameters)}",
        f"CVAR = {tuple(int(k) for k in model.coupling_indices())!r}",
        f"CACHED = {not coupling.pre_uses_receiver}",
        f"EULER = {method == 'euler'}",
        "inf = np.inf",
        f"HAS_BOUNDS = {bool(np.isfinite(bounds).any())}",
        f"LO = np.array({[float(v) for v in bounds[:, 0]]!r})",
        f"HI = np.array({[float(v) for v in bounds[:, 1]]!r})",
        "U1 = np.uint64(1)",
        "U_NC = np.uint64(N_C)",
        "U_NCV = np.uint64(N_CV)",
        f"BLOCK = {kernel.BLOCK}",
        "N_BLK = BLOCK * N_C",
        "N_C4 = 4 * N_C",
        f"CHUNK = {kernel.CHUNK}",
        "DFUN = OBSERVE = PRE = TVB_PRE = POST = None  # set by the engine before use",
    ]
    lines.insert(lines.index("from numba import njit") + 1, "from numba import prange")
    if batch:
        lines[0] = lines[0].replace("generated by", "batched (batch_kernel.py), generated by")
    for func, inline in TEMPLATE:
        opts = f"cache={cache}, nogil=True" + (', inline="always"' if inline else "")
        lines += ["", "", f"@njit({opts})", _source(func).rstrip()]
    for func, options in BATCH_TEMPLATE if batch else ():
        lines += ["", "", f"@njit(cache={cache}, {options})", _source(func).rstrip()]
    if batch:  # the blocked loop with its regions on numba's threads (Engine(threads=...))
        rename = {name: "_kp_" + name.removeprefix("_k_") for name in kernel.PARALLEL}
        rename["_k_advance_blocked"] = "_kp_advance"
        for name in kernel.PARALLEL:
            source = _source(getattr(kernel, name)).rstrip()
            for old, new in rename.items():
                source = re.sub(rf"\b{old}\(", f"{new}(", source)
            par = ", parallel=True" if name != "_k_advance_blocked" else ""  # its parts are
            lines += ["", "", f"@njit(cache={cache}{par}, nogil=True)", source]
    return "\n".join(lines) + "\n"


def _load_kernel_file(path: Path, modname: str, source: str) -> types.ModuleType:
    """Import the kernel module at ``path``, writing it first if it is not there (or not
    whole). The file is written once, atomically: numba keys its index on the file's
    modification time, so rewriting an identical file would only force a recompilation."""
    try:
        ok = path.read_text() == source
    except (FileNotFoundError, UnicodeDecodeError):
        ok = False
    if not ok:
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(source)
            if path.exists():
                os.replace(tmp, path)
            else:
                try:
                    os.link(tmp, path)  # fails if another process was first: keep its file
                except FileExistsError:
                    pass
                except OSError:  # no hard links on this file system
                    os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    spec.loader.exec_module(module)
    return module


def load_kernel(
    model: type[RegionModel], coupling: Coupling, method: str, *, batch: bool = False
) -> types.ModuleType:
    """The compiled loop for (model, coupling, integration method): a generated module,
    loaded from the kernel cache when an identical one (same ``KERNEL_FILES``, same sources
    of model and coupling, same numba) was compiled before. Its file name is a digest of
    everything it is compiled from, so an edit of any of them makes a new module and a
    stale compiled loop is never used. batch: the module that also has the batched loop
    ``_kb_advance`` (batch_kernel.py)."""
    funcs = {
        "DFUN": model.dfun,
        "OBSERVE": model.observe,
        "PRE": coupling.pre,
        "TVB_PRE": coupling.tvb_pre if coupling.tvb_pre is not None else coupling.pre,
        "POST": coupling.post,
    }
    memo = (
        tuple(funcs.values()),
        tuple(model.STATE_VARIABLES),
        tuple(model.COUPLING_VARIABLES),
        tuple(model.PARAMETERS),
        model.bounds().tobytes(),
        coupling.n_inputs(len(model.COUPLING_VARIABLES)),
        coupling.pre_uses_receiver,
        method,
        batch,
    )
    if memo in _KERNELS:
        return _KERNELS[memo]
    folder = kernel_cache_dir()
    deps = _fingerprint(list(funcs.values())) if folder is not None else None
    cache = deps is not None
    versions = f"{sys.version} numba {numba.__version__} llvmlite {llvmlite.__version__}"
    versions += f" numpy {np.__version__}"
    key = hashlib.sha256(
        (
            _kernel_source(model, coupling, method, cache, "", batch) + versions + (deps or "")
        ).encode()
        + b"".join(p.name.encode() + p.read_bytes() for p in KERNEL_FILES)
    ).hexdigest()[:24]
    source = _kernel_source(model, coupling, method, cache, key, batch)
    kind = "_batch" if batch else ""
    name = re.sub(r"\W", "_", f"k{kind}_{model.__name__.lower()}_{coupling.name}_{method}_{key}")
    modname = f"_multiscale_kernel_{name}"
    module = None
    if cache:
        try:
            module = _load_kernel_file(folder / f"{name}.py", modname, source)
        except OSError:  # the cache folder went away or is full: compile in memory
            source = _kernel_source(model, coupling, method, False, key, batch)
    if module is None:
        module = types.ModuleType(modname)
        module.__dict__["__file__"] = f"<{name}>"
        exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    for k, f in funcs.items():
        setattr(module, k, f)
    _KERNELS[memo] = module
    return module
