"""What installing the package puts in site-packages, and how users' own models are found:
by file, by module, or through an installed package's entry point."""

import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
from multiscale.circuits import CIRCUITS, resolve_circuit
from multiscale.regions import REGION_MODELS, resolve_region_model

from multiscale.circuit import Circuit
from multiscale.region import RegionModel


def test_only_multiscale_lands_at_the_top_of_site_packages(tmp_path):
    top = distribution("multiscale").read_text("top_level.txt")
    assert top is not None and top.split() == ["multiscale"]
    # away from the repository, the names of unrelated PyPI projects stay free
    probe = "import importlib.util as u; print(u.find_spec('circuits'), u.find_spec('regions'))"
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["None", "None"]
    out = subprocess.run(
        [sys.executable, "-c", "import multiscale.circuits, multiscale.regions"],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr


def _fake_distribution(folder: Path, entry_points: str) -> None:
    """A package 'myplugins' as pip would leave it: a module and a dist-info folder."""
    (folder / "myplugins.py").write_text(
        "from multiscale.circuits import EINetwork\n"
        "from multiscale.regions import JansenRit\n"
        "class Thalamus(EINetwork):\n    NAME = 'thalamus'\n"
        "class MyMass(JansenRit):\n    NAME = 'my_mass'\n"
        "class NotAModel:\n    pass\n"
    )
    info = folder / "myplugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: myplugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_entry_point_groups_register_circuits_and_region_models(tmp_path, monkeypatch):
    _fake_distribution(
        tmp_path,
        "[multiscale.circuits]\nthalamus = myplugins:Thalamus\nbroken = myplugins:NotAModel\n"
        "[multiscale.regions]\nmy_mass = myplugins:MyMass\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    circuit = resolve_circuit("thalamus")
    assert issubclass(circuit, Circuit) and circuit.__name__ == "Thalamus"
    model = resolve_region_model("my_mass")
    assert issubclass(model, RegionModel) and model.__name__ == "MyMass"
    with pytest.raises(ValueError, match="'broken' is not a subclass of multiscale.circuit"):
        resolve_circuit("broken")
    with pytest.raises(ValueError, match="thalamus"):  # the error lists what is registered
        resolve_circuit("thalamos")


def test_models_by_file_and_module_path(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "")
    assert resolve_circuit("myplugins.py:Thalamus", tmp_path).__name__ == "Thalamus"
    assert resolve_region_model("myplugins.py:MyMass", tmp_path).__name__ == "MyMass"
    monkeypatch.syspath_prepend(str(tmp_path))
    assert resolve_region_model("myplugins:MyMass").__name__ == "MyMass"
    with pytest.raises(ValueError, match="not found"):
        resolve_region_model("nowhere.py:MyMass", tmp_path)
    with pytest.raises(ValueError, match="cannot import module 'nomodule'"):
        resolve_circuit("nomodule:X")
    # built-ins win over anything of the same name
    assert resolve_circuit("ei_network") is CIRCUITS["ei_network"]
    assert resolve_region_model("jansen_rit") is REGION_MODELS["jansen_rit"]
