"""Shared fixtures; a test module opts in with
``pytestmark = pytest.mark.usefixtures("numpy_target")``."""

from __future__ import annotations

import os

# two pytest-xdist workers on two cores: one BLAS thread each (set before numpy loads here,
# inherited by the workers), else MNE's topography triangulation crawls under contention
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import brian2 as b2  # noqa: E402
import pytest


@pytest.fixture(scope="module")
def numpy_target():
    """Brian2's numpy code-generation target (no compiler) for a whole module, so that the
    target does not change between its tests; the previous target is restored after."""
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    yield
    b2.prefs.codegen.target = old


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long validation files first. With ``--dist loadfile`` the two workers take whole
    files in this order, so the short files come last and fill both workers' tails evenly,
    instead of one worker running a minutes-long check alone at the end (stable sort: the
    order within each part is pytest's)."""
    items.sort(key=lambda item: 0 if item.path.parent.name == "validation" else 1)
