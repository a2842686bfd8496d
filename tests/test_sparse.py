"""multiscale.sparse: CSR matrices in numpy give the numbers of the dense matrices they
stand for (sums to the bit, the dense bytes for checkpoint digests), and the engine gets
its dense inputs built once."""

import hashlib

import numpy as np
import pytest

from multiscale import sparse
from multiscale.sparse import DenseOnDemand, SparseMatrix, repeated


@pytest.fixture
def dense():
    rng = np.random.default_rng(3)
    a = rng.random((150, 150)) * (rng.random((150, 150)) < 0.2)
    a[7] = 0.0  # an empty row
    a[:, 11] = 0.0  # an empty column
    return a


def test_round_trip_and_lookups(dense):
    m = SparseMatrix.from_dense(dense)
    assert m.nnz == np.count_nonzero(dense) and m.shape == dense.shape
    np.testing.assert_array_equal(m.toarray(), dense)
    i, j = np.nonzero(dense)
    np.testing.assert_array_equal(m.rows(), i)  # np.nonzero's order: row by row
    np.testing.assert_array_equal(m.indices, j)
    np.testing.assert_array_equal(m.at([0, 7, 3], [1, 2, 11]), dense[[0, 7, 3], [1, 2, 11]])
    np.testing.assert_array_equal(m.dense_rows(5, 9), dense[5:9])
    idx = [4, 99, 0, 11]
    np.testing.assert_array_equal(m.submatrix(idx).toarray(), dense[np.ix_(idx, idx)])
    assert m.max() == dense.max() and m.min() == 0.0
    shuffled = np.random.default_rng(0).permutation(m.nnz)
    back = SparseMatrix.from_entries(150, i[shuffled], j[shuffled], dense[i, j][shuffled])
    np.testing.assert_array_equal(back.toarray(), dense)


def test_sums_are_the_dense_sums_to_the_bit(dense):
    m = SparseMatrix.from_dense(dense)
    # numpy sums a row pairwise and a column in order: the hub ranking must not change
    assert np.array_equal(m.row_sums(), dense.sum(axis=1))
    assert np.array_equal(m.col_sums(), dense.sum(axis=0))


def test_dense_blocks_hash_as_the_dense_bytes(dense, monkeypatch):
    monkeypatch.setattr(sparse, "BLOCK_VALUES", 150 * 7)  # many blocks
    m = SparseMatrix.from_dense(dense)
    blocks = list(m.dense_blocks(np.int64))
    assert len(blocks) > 10 and max(b.size for b in blocks) <= 150 * 7
    h = hashlib.sha256()
    for b in blocks:
        h.update(b.tobytes())
    assert h.hexdigest() == hashlib.sha256(dense.astype(np.int64).tobytes()).hexdigest()


def test_dense_on_demand_is_built_once_and_not_copied(dense, monkeypatch):
    m = SparseMatrix.from_dense(dense)
    made = []
    real = SparseMatrix.toarray

    def counting(self, dtype=None):
        made.append(real(self, dtype))
        return made[-1]

    monkeypatch.setattr(SparseMatrix, "toarray", counting)
    w = np.array(DenseOnDemand(m, np.float64), dtype=float)  # as the engine takes it
    d = np.asarray(DenseOnDemand(m, np.int64), dtype=np.int64)
    assert len(made) == 2 and w is made[0] and d is made[1]  # no second copy
    np.testing.assert_array_equal(w, dense)
    assert d.dtype == np.int64 and DenseOnDemand(m, float).shape == (150, 150)


def test_repeated_pairs():
    assert repeated(4, [0, 1, 2], [1, 1, 1]) is None
    assert repeated(4, [0, 3, 0], [1, 2, 1]) == (0, 1)


def test_checkpoint_fingerprints_hash_the_dense_matrices_as_before():
    """Checkpoints written before connectomes were sparse still match their experiment:
    the digest is the sha256 of the dense weights, lengths and delays, as it was."""
    from pathlib import Path

    from multiscale import checkpoint
    from multiscale.config import load_experiment

    root = Path(__file__).resolve().parents[1]
    plan = load_experiment(root / "experiments" / "stroke_lesion.yaml").plan
    conn = plan.connectome
    dense = hashlib.sha256()
    for a in (conn.weights, conn.lengths_mm, plan.masses.delays.toarray(np.int64)):
        dense.update(np.ascontiguousarray(a).tobytes())
    got = checkpoint.fingerprint(plan)["connectome"]
    assert got == f"76 regions, sha256 {dense.hexdigest()[:16]}"
    assert dense.hexdigest()[:16] == "ebf337a210f7a76d"  # tvb76 at 3 m/s, dt 0.1 ms
