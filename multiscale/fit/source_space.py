"""Features on the regions' sources instead of the channels (``sources: [rV1, lM1]`` on
a feature).

Each electrode sums many regions (on tvb76's coarse regions, a scalp channel's largest
region holds a small share of its lead field), so a loss over the channels' spectra barely
moves when one region's parameter does. A feature with ``sources`` is computed instead on
an estimate of each listed region's dipole moment (nA m): a linearly constrained
minimum-variance (LCMV) beamformer (Van Veen et al. 1997, IEEE Trans Biomed Eng 44:867),
w_r = C^-1 g_r / (g_r' C^-1 g_r), with g_r the region's lead field on the recording's
channels (the twin's own forward model, re-referenced as the data) and C the recording's
channel covariance. The weights come from the recording alone and are the same for the
recording and every run, so the feature is one fixed linear map of the channels: what
changes is only which mixtures the loss weighs.
"""

from __future__ import annotations

import weakref
from dataclasses import replace

import numpy as np

from multiscale.fit.signals import SensorData

#: diagonal loading of the covariance, as a share of its mean eigenvalue: the average
#: reference leaves an EEG covariance singular, and a few percent keeps the filters from
#: amplifying the sensors' noise (a usual choice for LCMV; MNE's default is 5 %)
REGULARISATION = 0.05
#: a stored signal unit in SI (the sensor kinds' units)
_SI = {"uV": 1e-6, "fT": 1e-15}


def with_lead_field(data: SensorData, gain) -> SensorData:
    """``data`` (a recording on the channels it shares with the model) with its rows of the
    twin's lead field ``gain`` (a ``multiscale.sensors.Gain``), EEG rows re-referenced to
    their average as the data are."""
    names = list(gain.channels)
    G = np.asarray(gain.matrix, dtype=float)[[names.index(c) for c in data.channels]]
    if data.kind == "eeg":
        G = G - G.mean(axis=0)
    return replace(data, lead_field=G, regions=tuple(gain.regions))


#: weights already computed: id(recording) -> (a weak reference to it, {regions: weights});
#: a fit's every evaluation projects onto the same recording's beamformer (an SEEG
#: implant's covariance costs tens of ms)
_WEIGHTS: dict[int, tuple[weakref.ref, dict[tuple[str, ...], np.ndarray]]] = {}


def beamformer(target: SensorData, regions: tuple[str, ...]) -> np.ndarray:
    """The (channels, regions) unit-gain LCMV weights of ``regions`` from the recording
    ``target`` (its covariance and lead field): column r maps the channels (SI) to region
    r's dipole moment (A m). Computed once per recording and regions (read-only)."""
    key = id(target)
    ref, known = _WEIGHTS.get(key, (None, None))
    if ref is None or ref() is not target:  # new, or another recording at a reused id
        known = {}
        _WEIGHTS[key] = (weakref.ref(target, lambda _: _WEIGHTS.pop(key, None)), known)
    if regions not in known:
        known[regions] = _lcmv(target, regions)
        known[regions].flags.writeable = False
    return known[regions]


def _lcmv(target: SensorData, regions: tuple[str, ...]) -> np.ndarray:
    if target.lead_field is None:
        raise ValueError(f"{target.kind}: no lead field to estimate the sources with")
    G = target.lead_field[:, [target.regions.index(r) for r in regions]]
    x = target.data - target.data.mean(axis=0)
    C = x.T @ x / max(len(x) - 1, 1)
    C[np.diag_indices_from(C)] += REGULARISATION * np.trace(C) / len(C)
    CiG = np.linalg.solve(C, G)
    return CiG / np.einsum("ij,ij->j", G, CiG)


def on_sources(data: SensorData, target: SensorData, regions: tuple[str, ...]) -> SensorData:
    """``data`` (channels as ``target``'s) as the estimated dipole moments (nA m) of
    ``regions``, with the beamformer of the recording ``target``."""
    if data.channels != target.channels:
        raise ValueError(f"{data.kind}: channels differ from the recording's")
    weights = beamformer(target, regions) * (_SI[data.unit] * 1e9)  # unit -> SI; A m -> nA m
    return SensorData(data.kind, regions, data.data @ weights, "nA m", data.sampling_rate_hz)
