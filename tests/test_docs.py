"""The documentation: the mkdocs site builds with --strict (a docstring reference that no
longer resolves, a page missing from the nav or a broken link fails the suite), and the
tutorials' code runs as written.

A tutorial is run as a reader would: every ```python block of the page in order, in one
namespace, in an empty folder that sees the shipped experiments/. A block whose info
string names a file (```python title="my_circuit.py"```) is the content of that file, the
way the page tells the reader to save it: it is written there, not run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = ["python.md", "tutorials/perturbation-study.md", "tutorials/own-circuit.md"]

pytestmark = pytest.mark.usefixtures("numpy_target")

BLOCK = re.compile(r'^```python(?:[ \t]+title="([^"]+)")?[ \t]*\n(.*?)^```', flags=re.S | re.M)


def run_markdown(page: str, folder: Path, monkeypatch) -> dict:
    """Run the ```python blocks of docs/<page> in ``folder`` (see the module docstring);
    returns the namespace they ran in."""
    text = (REPO / "docs" / page).read_text()
    blocks = BLOCK.findall(text)
    assert blocks, f"docs/{page} has no python block"
    os.symlink(REPO / "experiments", folder / "experiments")
    monkeypatch.chdir(folder)
    namespace: dict = {"__name__": "__tutorial__"}
    for k, (filename, code) in enumerate(blocks):
        if filename:
            (folder / filename).write_text(code)
        else:
            exec(compile(code, f"docs/{page} block {k + 1}", "exec"), namespace)
    return namespace


def test_the_documentation_builds_strict(tmp_path):
    """`mkdocs build --strict` succeeds, in seconds, and the reference has the pages and
    the model tables."""
    if importlib.util.find_spec("mkdocs") is None or not importlib.util.find_spec("mkdocstrings"):
        pytest.skip("mkdocs and mkdocstrings[python] are not installed (the test extra has them)")
    site = tmp_path / "site"
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", "mkdocs.yml", "-d", site],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    took = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert took < 120, f"mkdocs build took {took:.0f} s"
    circuits = (site / "reference" / "circuits" / "index.html").read_text()
    for name in ("EINetwork", "HHEINetwork", "Brunel2000", "PotjansDiesmann", "BasalGanglia"):
        assert name in circuits
    assert "g_GABA" in circuits and "Knobs (perturbations change them during a run)" in circuits
    regions = (site / "reference" / "regions" / "index.html").read_text()
    assert "JansenRit" in regions and "State variables" in regions
    front = (site / "reference" / "multiscale" / "index.html").read_text()
    for name in ("multiscale.load", "multiscale.experiment", "multiscale.run", "multiscale.open"):
        assert name in front
    for page in TUTORIALS:
        assert (site / page.replace(".md", "") / "index.html").exists()


def test_every_tutorial_is_in_the_nav_and_the_readme():
    nav = (REPO / "mkdocs.yml").read_text()
    readme = (REPO / "README.md").read_text()
    for page in TUTORIALS:
        assert page in nav, page
        assert f"docs/{page}" in readme, page


def test_the_perturbation_study_tutorial_runs(tmp_path, monkeypatch, capsys):
    ns = run_markdown("tutorials/perturbation-study.md", tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert all(r.complete for r in ns["results"].values())
    assert set(ns["results"]) == {"control", "gaba_loss"}
    rates = ns["rates"]  # condition -> (E rate before, after) in Hz
    assert rates["gaba_loss"][1] > 1.5 * rates["gaba_loss"][0]
    change = {n: r.measures["e_rate_change"].value for n, r in ns["results"].items()}
    assert change["gaba_loss"] > 1.5 and change["gaba_loss"] > 2 * change["control"]
    assert rates["control"][1] < 1.5 * rates["control"][0]
    assert "gamma" in out and "near rM1" in out
    assert (tmp_path / "gaba_vs_control.png").stat().st_size > 10_000


def test_the_own_circuit_tutorial_runs(tmp_path, monkeypatch, capsys):
    ns = run_markdown("tutorials/own-circuit.md", tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert (tmp_path / "my_circuit.py").exists()
    rates = ns["rates"]  # the f-I curve: rises with the input
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False)), rates
    assert "parameters.n_E: got 0" in out and "parameters.p: got 1.5" in out
    assert ns["after"] > 1.5 * ns["before"]  # the GABA block
    assert ns["result"].complete and ns["m1"].model == "my_circuit.py:TinyEI"
    assert 0.5 < ns["e_before"] < 20 and ns["e_after"] > 1.5 * ns["e_before"]
