"""The interface every neural-mass region model follows.

A region model file (``regions/<name>.py``) defines a subclass of :class:`RegionModel`
that states only what is its own: parameters with defaults and units, state variables,
which of them other regions see (coupling variables), its derivative ``dfun`` and its
EEG observable. Delays, coupling, noise, stimuli and integration are the engine's job,
done once for every model (``multiscale.engine``).

``dfun(x, c, p, dx)`` and ``observe(x, p)`` are numba ``njit`` functions of one region:
x is its state (n_state,), c its long-range coupling input (n_coupling,), p its parameter
vector in the order of ``PARAMETERS``; dx receives dx/dt in state units per ms.
Time is in ms everywhere in the mass engine.

dfun reads its parameters by name, never by position: the model file builds
``PAR = parameter_index(Model.PARAMETERS)`` (the column of each parameter in p, taken
from the table) and dfun starts with ``c_ee = p[PAR.c_ee]``, ... so that a reordering of
the table cannot silently swap two parameters.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from multiscale.parameter import Parameter, StateVariable


def parameter_index(parameters: dict[str, Parameter]) -> tuple:
    """The column of each parameter in a model's parameter vector p, by name: a namedtuple of
    ints built from the ``PARAMETERS`` table (``PAR.c_ee`` is the position of ``c_ee`` in it).

    numba freezes a global tuple into the compiled code as a constant, so in a dfun
    ``p[PAR.c_ee]`` compiles to the same load as a literal ``p[0]`` (the arithmetic, and so
    the results, are unchanged), and the engine's kernel cache fingerprints it by value."""
    columns = namedtuple("ParameterIndex", tuple(parameters))
    return columns(*range(len(parameters)))


@dataclass(frozen=True)
class ParameterSet:
    """A named set of parameter values from one source (a paper, a simulator's defaults):
    ``regions.parameter_set`` in an experiment picks one, and ``regions.parameters`` then
    changes single values of it. values: parameter -> value, in the declared units; the
    parameters it leaves out keep the table's defaults."""

    description: str
    citation: str
    values: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DipoleScale:
    """How a model's observable becomes a current dipole moment (:mod:`multiscale.sources`):
    the moment density is the physiological maximum when the observable is ``full_scale``
    away from ``rest``. Both in the observable's unit, for the model's default parameters;
    ``why`` says where they come from."""

    rest: float
    full_scale: float
    why: str


class RegionModel:
    """Base class; see the module docstring."""

    NAME: ClassVar[str] = ""
    CITATION: ClassVar[str] = ""
    DESCRIPTION: ClassVar[str] = ""
    PARAMETERS: ClassVar[dict[str, Parameter]] = {}
    STATE_VARIABLES: ClassVar[dict[str, StateVariable]] = {}
    COUPLING_VARIABLES: ClassVar[tuple[str, ...]] = ()
    DEFAULT_COUPLING: ClassVar[str] = "linear"
    #: the step (ms, or the model's time unit) used when an experiment gives no
    #: ``regions.integrator.dt``: the largest that keeps the model's quantities within 5 %
    #: of a converged integration (tests/validation/test_convergence_regions.py)
    DEFAULT_DT: ClassVar[float] = 0.1
    #: named parameter sets (``regions.parameter_set``); the table's defaults are always
    #: there, unnamed
    PARAMETER_SETS: ClassVar[dict[str, ParameterSet]] = {}
    #: what observe() returns, and its unit (the EEG source of the region)
    OBSERVABLE: ClassVar[tuple[str, str]] = ("", "")
    #: how the observable becomes the region's current dipole moment (nA m)
    DIPOLE: ClassVar[DipoleScale]
    dfun: ClassVar[Any]
    observe: ClassVar[Any]

    @classmethod
    def parameter_names(cls) -> list[str]:
        return list(cls.PARAMETERS)

    @classmethod
    def state_names(cls) -> list[str]:
        return list(cls.STATE_VARIABLES)

    @classmethod
    def coupling_indices(cls) -> np.ndarray:
        names = cls.state_names()
        return np.array([names.index(v) for v in cls.COUPLING_VARIABLES], dtype=np.int64)

    @classmethod
    def initial_state(cls) -> np.ndarray:
        return np.array([sv.initial for sv in cls.STATE_VARIABLES.values()], dtype=float)

    @classmethod
    def bounds(cls) -> np.ndarray:
        """(n_state, 2) lower and upper bounds, +-inf where unbounded."""
        b = np.full((len(cls.STATE_VARIABLES), 2), [-np.inf, np.inf])
        for k, sv in enumerate(cls.STATE_VARIABLES.values()):
            if sv.bounds is not None:
                b[k] = sv.bounds
        return b

    @classmethod
    def parameter_matrix(cls, n_regions: int, values: dict[str, Any] | None = None) -> np.ndarray:
        """(n_regions, n_parameters) matrix of defaults, with ``values`` (a scalar or one
        value per region, in the parameter's declared unit) filled in."""
        P = np.tile([p.default for p in cls.PARAMETERS.values()], (n_regions, 1)).astype(float)
        for name, value in (values or {}).items():
            P[:, cls.parameter_names().index(name)] = value
        return P

    @classmethod
    def proxy_coupling_state(cls, rate_hz: np.ndarray, coupling: str, q: np.ndarray) -> np.ndarray:
        """Coupling-variable values (..., n_coupling_variables) under which ``coupling``
        (with parameter vector q) passes on ``rate_hz``, the firing rate of a spiking region
        that stands in for a node: the bridge from circuits to masses. Each model says how
        its coupling variables encode a rate."""
        raise NotImplementedError(f"{cls.NAME} cannot host spiking regions yet")
