"""Region sources as current dipole moments (nA m): what every forward model projects.

A run turns each region's signal into the current dipole moment of the region, in nA m,
by one linear rule per region: ``moment = scale x (signal - rest)`` (``SourceModel``).
The rules, their constants and where those come from:

**Neural masses.** A mass's observable is a population average, so it stands for the
whole region at once. Its moment is the region's cortical area times a moment density
that reaches ``MAX_MOMENT_DENSITY`` when the observable is ``full_scale`` away from
``rest`` (both declared by the model, ``DIPOLE``, :class:`multiscale.region.DipoleScale`,
from its default parameters: a disease that weakens a region shows as a smaller moment,
not a rescaled one):

    moment = area x MAX_MOMENT_DENSITY x (observable - rest) / full_scale

``MAX_MOMENT_DENSITY`` = 1 nA m/mm^2: Murakami & Okada (2015, NeuroImage 111:49) measured
maximal current dipole moment densities of 0.16-0.77 nA m/mm^2 across structures and
species, and give about 1-2 nA m/mm^2 as the physiological ceiling for human EEG/MEG.

**Circuits.** A circuit's source comes from the synaptic currents of its pyramidal cells
(the ``FIELD`` group): the Mazzoni et al. (2015) current proxy per cell
``I = |I_AMPA(t - 6 ms)| - 1.65 |I_GABA(t)|`` (A; the field proxy in mV times g_L) times an
effective dendritic length ``DIPOLE_LENGTH_M`` = 0.5 mm gives the cell's dipole (a layer
2/3 or 5 pyramidal cell makes 0.2-0.9 pA m: Murakami & Okada 2006, J Physiol 575:925;
Hamalainen et al. 1993, Rev Mod Phys 65:413). The region holds
``N = area x NEURONS_PER_MM2 x fraction`` such cells (about 1e5 neurons under each mm^2
of neocortex: Rockel, Hiorns & Powell 1980, Brain 103:221; ``fraction``: the share of
them the FIELD group stands for, declared by the circuit, 0.8 for all excitatory cells:
Braitenberg & Schuz 1998).

The simulated network has ``n`` cells in that group, so the region is ``N / n`` copies of
it. Summing them as if they were one synchronous network (``N x`` the mean cell dipole)
makes a 1000-cell network in right M1 a source of ~1.7e5 nA m: forty times the
physiological ceiling of the whole region, a scalp EEG in millivolts. The copies are
instead taken as independent (each with its own noise): their fluctuations add in
quadrature, so

    moment = sqrt(N / n) x n x DIPOLE_LENGTH_M x I_mean = sqrt(N n) x DIPOLE_LENGTH_M x I_mean

This is right for what the network generates itself (its rhythms and noise) and
underestimates, by up to sqrt(N / n), what is common to all copies: the constant part of
the currents and responses locked to an input that reaches the whole region at once (a
thalamic volley). ``field_gain`` in the experiment file multiplies the result, for a study
that needs another assumption (1 = this rule).

**Areas.** The connectome's region areas (tvb76, tvb96 and tvb192 have them). A region of
area zero (white matter, the subcortical regions of tvb96) has no source. A connectome
without areas gives each cortical region (every region if it has no cortical flags)
``DEFAULT_AREA_MM2``, the median region area of tvb76 (2581 mm^2; tvb76 covers 2.7e5
mm^2 of cortex in 76 regions).

A lesioned (silenced) region's moment is zero. The sign is that of the observable
(positive for net excitatory input to the pyramidal cells): EEG polarity relative to the
cortical surface depends on the forward model's orientations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from multiscale.connectome import Connectome
    from multiscale.plan import CircuitPlan
    from multiscale.region import RegionModel

#: nA m per mm^2 of cortex at full scale (Murakami & Okada 2015)
MAX_MOMENT_DENSITY = 1.0
#: neurons under each mm^2 of neocortex (Rockel et al. 1980)
NEURONS_PER_MM2 = 1.0e5
#: effective dendritic length of a pyramidal cell's current dipole (m)
DIPOLE_LENGTH_M = 0.5e-3
#: region area (mm^2) where the connectome gives none: tvb76's median region area
DEFAULT_AREA_MM2 = 2581.0


@dataclass(frozen=True, eq=False)
class SourceModel:
    """Per-region rule ``moment (nA m) = scale x (signal - rest)``.

    scale: (regions,) nA m per unit of the region's signal (the mass observable's unit, or
        mV of a circuit's field proxy). rest: (regions,) the signal at rest, same units.
    areas_mm2: (regions,) the areas used. rules: the rule of each region, in words."""

    scale: np.ndarray
    rest: np.ndarray
    areas_mm2: np.ndarray
    rules: tuple[str, ...]

    def moments(self, signals: np.ndarray) -> np.ndarray:
        """(samples, regions) current dipole moments (nA m) of (samples, regions) signals."""
        return (signals - self.rest) * self.scale


def region_areas(connectome: Connectome) -> tuple[np.ndarray, str]:
    """Areas (mm^2) per region and where they come from."""
    if connectome.areas_mm2 is not None:
        return np.asarray(connectome.areas_mm2, dtype=float), "the connectome's areas"
    cortical = (
        np.ones(connectome.n_regions, bool)
        if connectome.cortical is None
        else np.asarray(connectome.cortical, bool)
    )
    return (
        np.where(cortical, DEFAULT_AREA_MM2, 0.0),
        f"no areas in the connectome: {DEFAULT_AREA_MM2:g} mm^2 per cortical region",
    )


def circuit_scale(area_mm2: float, cells: int, fraction: float, g_leak_nS: float) -> float:
    """nA m per mV of a circuit's field proxy: sqrt(N n) x DIPOLE_LENGTH_M x g_L, with
    N = area x NEURONS_PER_MM2 x fraction cells in the region and n in the network."""
    n_region = area_mm2 * NEURONS_PER_MM2 * fraction
    amps_per_mV = g_leak_nS * 1e-9 * 1e-3  # field proxy (mV) x g_L = mean current (A)
    return float(np.sqrt(n_region * cells) * DIPOLE_LENGTH_M * amps_per_mV * 1e9)


def source_model(
    connectome: Connectome,
    model: type[RegionModel],
    circuits: dict[str, CircuitPlan],
) -> SourceModel:
    """The source rule of every region (module docstring): masses by the model's
    ``DIPOLE`` declaration, circuits from their FIELD group."""
    areas, where = region_areas(connectome)
    dipole, (observable, unit) = model.DIPOLE, model.OBSERVABLE
    scale = areas * MAX_MOMENT_DENSITY / dipole.full_scale
    rest = np.full(connectome.n_regions, float(dipole.rest))
    rules = [
        f"{model.NAME}: area x {MAX_MOMENT_DENSITY:g} nA m/mm^2 x ({observable} - "
        f"{dipole.rest:g} {unit}) / {dipole.full_scale:g} {unit}; areas: {where}"
    ] * connectome.n_regions
    for c in circuits.values():
        group = c.cls.field_group(c.values)
        r = c.region
        rest[r] = 0.0
        if group is None:
            scale[r] = 0.0
            rules[r] = f"circuit {c.name} ({c.cls.NAME}): no field group (closed field): no source"
            continue
        scale[r] = c.field_gain * circuit_scale(
            areas[r], group.cells, group.fraction, group.g_leak_nS
        )
        rules[r] = (
            f"circuit {c.name} ({c.cls.NAME}): sqrt(N n) x {DIPOLE_LENGTH_M * 1e3:g} mm x "
            f"g_L x field proxy; n = {group.cells} {group.name} cells, N = "
            f"{areas[r]:.0f} mm^2 x {NEURONS_PER_MM2:g}/mm^2 x {group.fraction:g}, g_L = "
            f"{group.g_leak_nS:g} nS"
            + (f", x field_gain {c.field_gain:g}" if c.field_gain != 1 else "")
        )
    return SourceModel(scale=scale, rest=rest, areas_mm2=areas, rules=tuple(rules))
