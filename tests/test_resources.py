"""The resource estimate: synapse counts match what build() creates, and a file that needs
more memory than is available is refused before anything is built."""

import brian2 as b2
import pytest

from multiscale import resources
from multiscale.circuits import CIRCUITS
from multiscale.config import ConfigError, load_experiment

SMALL = {
    "ei_network": {"n_E": 160, "n_I": 40},
    "hh_ei_network": {"n_E": 80, "n_I": 20},
    "brunel2000": {"n_E": 400, "n_I": 100, "C_E": 40},
    "potjans_diesmann": {"scale_N": 0.02, "scale_K": 0.02},
    "qif_population": {"n": 200},
    "basal_ganglia": {"n": 12},
}


@pytest.fixture
def numpy_target():
    before = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    b2.BrianLogger.suppress_name("unused_brian_object")  # built to be counted, never run
    yield
    b2.prefs.codegen.target = before


@pytest.mark.parametrize("name", sorted(CIRCUITS))
def test_estimate_counts_what_build_creates(name, numpy_target):
    b2.start_scope()
    b2.seed(1)
    cls = CIRCUITS[name]
    params = {k: p.default for k, p in {**cls.PARAMETERS, **cls.KNOBS}.items()} | SMALL[name]
    neurons, synapses = cls.estimate(params)
    circuit = cls("c", SMALL[name])
    built = sum(len(o) for o in circuit.objects if isinstance(o, b2.Synapses))
    cells = sum(len(o) for o in circuit.objects if isinstance(o, b2.NeuronGroup))
    assert synapses == pytest.approx(built, rel=0.2)
    assert neurons == pytest.approx(cells, rel=0.2)


GOOD = """
name: r
seed: 1
duration: 1 s
regions: {model: jansen_rit}
circuits:
  - {name: m1, model: ei_network, region: rM1, parameters: {n_E: 800, n_I: 200}}
"""


def test_refused_when_it_does_not_fit(tmp_path, monkeypatch):
    path = tmp_path / "e.yaml"
    path.write_text(GOOD)
    exp = load_experiment(path)
    est = exp.plan.estimate
    assert est.circuits[0].synapses == pytest.approx(0.2 * 1000 * 999)
    monkeypatch.setattr(resources, "available_memory", lambda: est.memory_bytes - 1)
    with pytest.raises(ConfigError, match=r"circuits\[0\].parameters: got .* expected at most"):
        load_experiment(path)
    # under MPI a process holds the engine and one circuit
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setattr(resources, "available_memory", lambda: est.largest_process_bytes)
    load_experiment(path)


def test_available_memory_reads_the_machine():
    avail = resources.available_memory()
    assert avail is None or avail > 0
