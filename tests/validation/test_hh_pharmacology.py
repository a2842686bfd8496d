"""docs/science.md "Hodgkin-Huxley pharmacology": the single cells of circuits/hh_ei_network.py
(Pospischil RS pyramidal cell "E", Wang-Buzsaki fast-spiking cell "I"), built with the
module's cell_group at the circuit's default step and method ('rk4', 0.05 ms), each cell
of a group held at one DC current (an f-I curve per group), the knobs' shared variables
set per group.

- TTX-like: scaling gNa down raises the rheobase and past some block abolishes repetitive
  firing.
- K+ block: scaling the delayed-rectifier gK down raises excitability.

Rheobase here: the smallest current (pA, on a 20 pA grid) at which a cell fires
repetitively, at least 3 spikes in the last 400 ms of a 600 ms step (no noise, no synapses).
A spike is an overshoot above 0 mV here, not the circuit's -20 mV detector: a cell with
little Na+ and a large current can be depolarised past -20 mV passively (the RS cell's input
resistance is 0.41 GOhm) and would count "spikes" that are K+-limited oscillations.

Measured (numpy, 'rk4' at 0.05 ms; rheobases in pA, rates in Hz):
- E: rheobase 100 at gNa x 1 and x 0.5, 120 at x 0.1, no repetitive firing up to 1 nA at
  x 0.03; gK x 0.5: rheobase 100 (unchanged), rate at 500 pA from 87.5 to 102.5 Hz (+17 %).
- I: rheobase 20 at gNa x 1, no repetitive firing up to 1 nA at x 0.5, 0.1, 0.03;
  gK x 0.5: rheobase 20 (unchanged), rate at 500 pA from 190 to 260 Hz (+37 %).
(With the exponential Euler at 0.025 ms of earlier versions, which the convergence check
tests/validation/test_hh_cells_convergence.py failed: E gK x 0.5 rheobase 120, 85 ->
97.5 Hz; I 177.5 -> 235 Hz; the rest as now.)
So "raises excitability" holds as a higher rate at a fixed suprathreshold current, not as a
lower rheobase, for this RS cell.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest

from multiscale.circuits.hh_ei_network import HHEINetwork, cell_group, cell_step

pytestmark = [pytest.mark.validation, pytest.mark.usefixtures("numpy_target")]

DT = cell_step(HHEINetwork.PARAMETERS["dt_cell"].default, 0.1 * b2.ms)  # the circuit's
DURATION_MS = 600.0
COUNT_FROM_MS = 200.0
CURRENTS_PA = np.arange(0.0, 1000.1, 20.0)  # one cell per current


#: (scale_Na, scale_K) per group: sodium block series, then the K+ block
SCALES = ((1.0, 1.0), (0.5, 1.0), (0.1, 1.0), (0.03, 1.0), (1.0, 0.5))
PROBE_PA = 500.0  # fixed current at which the K+ block's rate is compared


@pytest.fixture(scope="module", params=["E", "I"])
def curves(request):
    """pop, and rates (Hz, last 400 ms) per current of CURRENTS_PA for each SCALES entry,
    all groups in one run."""
    pop = request.param
    b2.start_scope()
    groups, monitors = [], []
    for k, (na, kdr) in enumerate(SCALES):
        g = cell_group(pop, len(CURRENTS_PA), DT, f"{pop}_cells_{k}")
        g.namespace["V_spike"] = 0.0 * b2.mV  # overshoot detector, see the module doc
        g.variables["scale_Na"].set_value(na)
        g.variables["scale_K"].set_value(kdr)
        g.I_stim = CURRENTS_PA * b2.pA
        groups.append(g)
        monitors.append(b2.SpikeMonitor(g))
    b2.Network(*groups, *monitors).run(DURATION_MS * b2.ms)
    rates = {}
    for scales, mon in zip(SCALES, monitors, strict=True):
        late = mon.t_[:] * 1e3 >= COUNT_FROM_MS
        counts = np.bincount(mon.i[:][late], minlength=len(CURRENTS_PA))
        rates[scales] = counts / ((DURATION_MS - COUNT_FROM_MS) * 1e-3)
    return pop, rates


def rheobase(rates):
    """Smallest current (pA) with repetitive firing (>= 3 spikes in 400 ms), or inf."""
    ok = rates >= 3 / ((DURATION_MS - COUNT_FROM_MS) * 1e-3)
    return float(CURRENTS_PA[np.argmax(ok)]) if ok.any() else np.inf


def test_sodium_block_raises_rheobase_then_abolishes_repetitive_firing(curves):
    """gNa x 1, 0.5, 0.1, 0.03 (currents 0-1000 pA in 20 pA steps).

    Tolerance: the rheobase never falls with more block and is higher at x 0.1 than intact
    by at least one grid step (20 pA, or no firing at all); at x 0.03 no current up to 1 nA
    gives repetitive firing. Measured: E 100, 100, 120, none pA; I 20, none, none, none pA."""
    pop, rates = curves
    rheo = [rheobase(rates[(na, 1.0)]) for na in (1.0, 0.5, 0.1, 0.03)]
    print(pop, "rheobase (pA) at gNa x 1, 0.5, 0.1, 0.03:", rheo)
    assert np.isfinite(rheo[0]) and rheo[0] > 0  # the intact cell fires, not at rest
    assert rheo[0] <= rheo[1] <= rheo[2] <= rheo[3]
    assert rheo[2] > rheo[0]
    assert rheo[3] == np.inf  # strong block: no repetitive firing at any current tested


def test_delayed_rectifier_block_raises_excitability(curves):
    """gK (delayed rectifier) x 1 and 0.5, currents 0-1000 pA in 20 pA steps.

    Tolerance: the rate at 500 pA higher by at least 5 %, and the rheobase not more than
    one grid step (20 pA) higher. Measured: E rheobase 100 -> 100 pA, 87.5 -> 102.5 Hz at
    500 pA; I 20 -> 20 pA, 190 -> 260 Hz."""
    pop, rates = curves
    intact, blocked = rates[(1.0, 1.0)], rates[(1.0, 0.5)]
    rheo = [rheobase(intact), rheobase(blocked)]
    probe = int(np.searchsorted(CURRENTS_PA, PROBE_PA))
    at_probe = [float(intact[probe]), float(blocked[probe])]
    print(pop, "gK x 1, x 0.5: rheobase (pA)", rheo, f"rate at {PROBE_PA} pA (Hz)", at_probe)
    assert rheo[1] <= rheo[0] + 20.0
    assert at_probe[1] > 1.05 * at_probe[0]
