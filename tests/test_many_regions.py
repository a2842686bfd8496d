"""Connectomes of thousands of regions: a sparse connectome with 3000 labels whose list is
larger than an HDF5 attribute's 64 kB runs, and its output reads back (labels, channels,
connectome, measures, report); outputs of the earlier layout (names as attributes, a
dense connectome) still read."""

import subprocess
import sys

import h5py
import numpy as np
import pytest
import scipy.sparse

import multiscale as ms
from multiscale.cli import main
from multiscale.outputs import names, read_connectome

N = 3000
LABELS = [f"region_with_a_long_name_{i:05d}" for i in range(N)]  # 87 kB of text


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("many")
    rng = np.random.default_rng(0)
    rows = np.repeat(np.arange(N), 10)
    cols = (rows + rng.integers(1, N, rows.size)) % N  # no self-connections
    keys = np.unique(rows * N + cols)
    rows, cols = keys // N, keys % N
    w = scipy.sparse.csr_array((rng.uniform(0.01, 0.1, keys.size), (rows, cols)), (N, N))
    lengths = scipy.sparse.csr_array((rng.uniform(10, 150, keys.size), (rows, cols)), (N, N))
    scipy.sparse.save_npz(folder / "w.npz", w)
    scipy.sparse.save_npz(folder / "l.npz", lengths)
    x = rng.normal(size=(N, 3))
    x *= (60 * rng.uniform(0.2, 1, N) ** (1 / 3) / np.linalg.norm(x, axis=1))[:, None]
    np.save(folder / "centres.npy", x)  # centres: the default EEG (sphere model) is recorded
    (folder / "labels.txt").write_text("".join(f"{lab}\n" for lab in LABELS))
    (folder / "x.yaml").write_text(
        f"""
name: many
seed: 1
duration: 600 ms
connectome: {{source: {{weights: w.npz, lengths: l.npz, centres: centres.npy,
                       labels: labels.txt}}}}
regions: {{model: jansen_rit, parameter_set: jansen_rit_1995}}
measures:
  - {{name: one_region, kind: band_power, signal: regions, regions: [{LABELS[2999]}],
     band: [1 Hz, 40 Hz]}}
output: {{path: out.h5, figures: false}}
"""
    )
    proc = subprocess.run(
        [sys.executable, "-m", "multiscale.cli", "run", "x.yaml", "-q"],
        cwd=folder, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return folder / "out.h5", w, lengths, proc.stdout


def test_a_label_list_beyond_64_kb_runs_and_reads_back(run):
    out, w, lengths, stdout = run
    assert len("".join(LABELS).encode()) > 65536
    assert "many: 0.6 s simulated" in stdout and "measure one_region" in stdout
    with h5py.File(out) as f:
        assert [x.decode() for x in f["connectome/labels"][()]] == LABELS
        for series in ("regions/data", "sources/data"):
            assert "labels" not in f[series].attrs  # a dataset, named by the series
            assert names(f[series]) == LABELS
        assert names(f["eeg/data"], "channels") == ms.open(out).eeg.channels
        assert len(ms.open(out).eeg.channels) == f["eeg/data"].shape[1] > 0
        conn = read_connectome(f)
        assert conn.labels == LABELS
        np.testing.assert_array_equal(conn.weights, w.toarray())
        np.testing.assert_array_equal(conn.lengths_mm, lengths.toarray())
        # the connectome is stored once, sparse: no (n, n) dataset anywhere
        shapes = []
        f.visititems(lambda name, obj: shapes.append((name, obj)) if isinstance(
            obj, h5py.Dataset) else None)  # fmt: skip
        assert all(obj.shape[:2] != (N, N) for _, obj in shapes)
        no_unit = [name for name, obj in shapes if "unit" not in obj.attrs]
        assert not no_unit, no_unit  # every array on disk says its unit
    result = ms.open(out)
    assert result.regions.labels == LABELS and result.regions.shape == (600, N)
    assert result.connectome.labels == LABELS and result.connectome.n_edges == w.nnz
    assert result.measures["one_region"].unit == "(mV)^2"


def test_report_of_a_many_region_output(run):
    out, *_ = run
    assert main(["report", str(out)]) == 0
    assert (out.with_suffix("") / "report.html").exists()


def test_outputs_of_the_earlier_layout_still_read(tmp_path):
    """Names as attributes, the connectome as dense datasets (outputs before this
    layout)."""
    dense = np.array([[0.0, 2.0], [0.5, 0.0]])
    with h5py.File(tmp_path / "old.h5", "w") as f:
        f.attrs.update({"format": "multiscale-output", "name": "old"})
        f.create_group("connectome").attrs["labels"] = ["A", "B"]
        f["connectome/weights"] = dense
        f["connectome/lengths"] = dense * 10
        f["regions/data"] = np.zeros((3, 2))
        f["regions/data"].attrs["labels"] = ["A", "B"]
        f["eeg/data"] = np.zeros((3, 1))
        f["eeg/data"].attrs["channels"] = ["Cz"]
    with h5py.File(tmp_path / "old.h5") as f:
        assert names(f["regions/data"]) == ["A", "B"]
        assert names(f["eeg/data"], "channels") == ["Cz"]
        assert names(f["eeg/data"]) is None
        conn = read_connectome(f)
        assert conn.labels == ["A", "B"]
        np.testing.assert_array_equal(conn.weights, dense)
        np.testing.assert_array_equal(conn.lengths_mm, dense * 10)
