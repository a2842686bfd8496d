"""docs/science.md, Epileptor (Jirsa et al. 2014; Proix et al. 2014), as defined in TVB.

Nodes whose epileptogenicity x0 is above the threshold seize, nodes below do not; with
coupling, seizures recruit connected nodes.

Run cheaply: TVB's defaults (r = 0.00035, so a seizure cycle lasts ~2000-2500 model time
units), Heun at dt = 0.05 for 8000 time units, 160 000 steps of a few regions: well under
a second once compiled. (At 0.1, the step of TVB's Epileptor demos, the seizure period is
3-8 % too long and x1 cannot follow the post-ictal state: docs/science.md, "Time step of
the region models".) The first 1000 time units (the transient from the initial state) are
not scored.

Seizure detector: the field potential x2 - x1 (the model's EEG source) swings by more than
1 within a 100-unit window during a seizure and is flat in the interictal state.
"""

import numpy as np
import pytest

from multiscale.coupling import COUPLINGS
from multiscale.engine import Engine
from multiscale.regions import Epileptor

pytestmark = pytest.mark.validation

DT = 0.05  # model time units (TVB: ms); experiments/epilepsy_focal.yaml's step
T = 8000.0
WINDOW = 100.0
TRANSIENT = 1000.0


def seizure_windows(x0, W=None, K=0.0, delay_steps=0):
    """(n_windows, n) True where a region is in a seizure, after the transient.
    K is the permittivity coupling (Ks = -K, Proix et al.) of a Difference coupling a = 1."""
    x0 = np.asarray(x0, dtype=float)
    n = len(x0)
    W = np.zeros((n, n)) if W is None else np.asarray(W, dtype=float)
    cp = COUPLINGS["difference"]
    eng = Engine(
        Epileptor,
        Epileptor.parameter_matrix(n, {"x0": x0, "Ks": -K}),
        cp,
        cp.parameter_vector({"a": 1.0}),
        W,
        np.full((n, n), delay_steps),
        DT,
    )
    obs = eng.advance(int(round(T / DT)))
    assert np.isfinite(obs).all()
    w = int(round(WINDOW / DT))
    swing = np.ptp(obs.reshape(-1, w, n), axis=1)
    return swing[int(TRANSIENT / WINDOW) :] > 1.0


def test_nodes_above_the_epileptogenicity_threshold_seize_and_others_do_not():
    """Uncoupled regions: x0 >= -2.0 seize (recurrently), x0 <= -2.3 stay interictal; the
    threshold lies near x0 = -2.05 (Proix et al. 2014)."""
    x0 = [-1.4, -1.6, -1.8, -2.0, -2.3, -2.6]
    on = seizure_windows(x0)
    onsets = np.diff(on.astype(int), axis=0).clip(0).sum(axis=0) + on[0]
    for i, x in enumerate(x0):
        if x >= -2.0:
            assert onsets[i] >= 2, f"x0 = {x}: {onsets[i]} seizures in {T - TRANSIENT:g} units"
        else:
            assert not on[:, i].any(), f"x0 = {x} seized"


@pytest.mark.parametrize("delay_steps", [0, 200])
def test_coupling_recruits_a_connected_subthreshold_region(delay_steps):
    """A (x0 = -1.6, epileptogenic) <-> B (x0 = -2.2): with permittivity coupling B seizes,
    after A does; C (x0 = -2.2, unconnected) does not; without coupling B does not either."""
    x0 = [-1.6, -2.2, -2.2]
    W = [[0, 1, 0], [1, 0, 0], [0, 0, 0]]
    on = seizure_windows(x0, W, K=1.0, delay_steps=delay_steps)
    assert on[:, 0].any() and on[:, 1].any() and not on[:, 2].any()
    assert np.argmax(on[:, 1]) >= np.argmax(on[:, 0])  # recruited, not leading
    off = seizure_windows(x0, W, K=0.0, delay_steps=delay_steps)
    assert off[:, 0].any() and not off[:, 1].any()
