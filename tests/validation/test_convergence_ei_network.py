"""Convergence in time step of ei_network (resting_state, gaba_loss): the design and the
measured numbers are in tests/validation/test_convergence_networks.py's docstring; this
check has a file of its own so that the test workers can run it beside the others."""

from __future__ import annotations

import numpy as np
import pytest
from circuit_harness import build, run_windows
from convergence_harness import (  # noqa: F401 (fixture)
    cython_target,
    paired_check,
    population_rates,
    welch,
)

from multiscale.circuits.ei_network import EINetwork

pytestmark = pytest.mark.validation

EI_SEEDS, EI_MS, EI_SKIP_MS = tuple(range(1, 41)), 2500.0, 500.0


def ei_quantities(dt_cell_ms: float) -> dict[str, np.ndarray]:
    """Per seed: E and I rates (Hz) over [EI_SKIP_MS, EI_MS), and the field proxy's SD,
    the share of its 2-200 Hz power in the gamma band (30-80 Hz) and the centroid of its
    20-120 Hz spectrum over the same span."""
    out: dict[str, list[float]] = {}
    for seed in EI_SEEDS:
        circuit = build(EINetwork, "ei", {"dt_cell": dt_cell_ms}, seed=seed, brian_dt_ms=0.1)
        run = run_windows(circuit, EI_MS)
        for key, value in population_rates(circuit, run, EI_SKIP_MS, EI_MS).items():
            out.setdefault(key, []).append(value)
        f = run["field"][int(EI_SKIP_MS) :]
        freq, power = welch(f)
        out.setdefault("field SD (mV)", []).append(f.std())
        out.setdefault("field gamma share", []).append(
            power[(freq >= 30) & (freq < 80)].sum() / power[(freq >= 2) & (freq < 200)].sum()
        )
        band = (freq >= 20) & (freq <= 120)
        out.setdefault("field 20-120 Hz centroid (Hz)", []).append(
            (power[band] * freq[band]).sum() / power[band].sum()
        )
    return {key: np.asarray(values) for key, values in out.items()}


def test_ei_network_rates_and_field_converge():
    """The E and I rates and the field proxy's SD, gamma share and spectral centroid of the
    circuit as resting_state.yaml and gaba_loss.yaml use it (800 E / 200 I cells), at the
    cells' default step (exponential Euler, dt_cell 0.1 ms) against 0.025 ms, within 5 %,
    each with a standard error under 2 %.

    Design, as hh_ei_network's: brian.dt stays 0.1 ms, so a seed gives the same network,
    initial state and external spikes at both steps and only the cells' step differs; each
    seed's two runs are paired. The network is chaotic, so the two runs part within a few
    hundred ms and the E rate of a 2 s run varies by ~10 % from one seed to another (slow
    fluctuations: the rate of 500 ms blocks varies more than Poisson spiking would give);
    resolving 5 % therefore takes ~40 seeds (docstring of the module)."""
    paired_check(
        "ei_network",
        ei_quantities(0.1),
        ei_quantities(0.025),
        f"seeds {EI_SEEDS[0]}-{EI_SEEDS[-1]}",
    )
