"""Square matrices in compressed sparse rows (CSR), in plain numpy: a connectome's weights,
tract lengths and delays cost memory in proportion to their edges, not to regions
squared (a 20000-region connectome holds 4e8 pairs, 3.2 GB as a dense float64 matrix).

Entry (i, j) of row i is ``data[indptr[i]:indptr[i + 1]]`` at the columns
``indices[indptr[i]:indptr[i + 1]]``, increasing within a row. Only the pairs in the
pattern are stored; every other entry is zero. Scipy is not needed (its sparse module is
imported only to read a scipy ``.npz`` file)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: entries expanded at once when a dense block is built (rows x n): 32 MB in float64
BLOCK_VALUES = 1 << 22


@dataclass(frozen=True, eq=False)
class SparseMatrix:
    """An (n, n) matrix in CSR order (module docstring). ``data`` keeps its dtype."""

    n: int
    indptr: np.ndarray  #: (n + 1,) int64
    indices: np.ndarray  #: (nnz,) int64, increasing within each row
    data: np.ndarray  #: (nnz,)

    # --------------------------------------------------------------------- building
    @classmethod
    def from_dense(cls, a: np.ndarray) -> SparseMatrix:
        """The non-zero entries of a square array (row by row, so the same order as
        ``np.nonzero``)."""
        a = np.asarray(a)
        n = a.shape[0]
        indptr = np.zeros(n + 1, dtype=np.int64)
        rows, cols, vals = [], [], []
        step = max(1, BLOCK_VALUES // max(n, 1))
        for start in range(0, n, step):  # a block at a time: no (n, n) boolean mask
            block = a[start : start + step]
            r, c = np.nonzero(block)
            rows.append(r + start)
            cols.append(c)
            vals.append(block[r, c])
        r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(r, minlength=n))
        data = np.concatenate(vals) if vals else np.zeros(0, dtype=a.dtype)
        cols_all = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
        return cls(n, indptr, cols_all.astype(np.int64), data)

    @classmethod
    def from_entries(cls, n: int, rows, cols, values, *, keep_zeros: bool = False) -> SparseMatrix:
        """From (row, column, value) triples, in any order; pairs must not repeat (see
        :func:`repeated`). Zeros are dropped unless ``keep_zeros``."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        values = np.asarray(values)
        if not keep_zeros:
            keep = values != 0
            rows, cols, values = rows[keep], cols[keep], values[keep]
        order = np.lexsort((cols, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        indptr = np.zeros(n + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(np.bincount(rows, minlength=n))
        return cls(n, indptr, cols, values)

    @classmethod
    def from_scipy(cls, m) -> SparseMatrix:
        """From any scipy.sparse matrix or array (duplicates summed, zeros dropped)."""
        csr = m.tocsr(copy=True)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        csr.sort_indices()
        return cls(
            int(csr.shape[0]),
            np.asarray(csr.indptr, dtype=np.int64),
            np.asarray(csr.indices, dtype=np.int64),
            np.asarray(csr.data),
        )

    def with_data(self, data: np.ndarray) -> SparseMatrix:
        """The same pattern with other values."""
        return SparseMatrix(self.n, self.indptr, self.indices, np.asarray(data))

    # ------------------------------------------------------------------- reading
    @property
    def shape(self) -> tuple[int, int]:
        return (self.n, self.n)

    @property
    def nnz(self) -> int:
        return int(self.indices.size)

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.indices.nbytes + self.data.nbytes

    def max(self):
        """The largest entry (the implicit zeros count when some pair is not stored)."""
        zero = self.data.dtype.type(0)
        if self.nnz == 0:
            return zero
        top = self.data.max()
        return max(top, zero) if self.nnz < self.n * self.n else top

    def min(self):
        """The smallest entry (the implicit zeros count when some pair is not stored)."""
        zero = self.data.dtype.type(0)
        if self.nnz == 0:
            return zero
        low = self.data.min()
        return min(low, zero) if self.nnz < self.n * self.n else low

    def rows(self) -> np.ndarray:
        """The row of every stored entry."""
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.indptr))

    def keys(self) -> np.ndarray:
        """row * n + column of every stored entry (increasing)."""
        return self.rows() * self.n + self.indices

    def toarray(self, dtype=None) -> np.ndarray:
        """The dense (n, n) matrix. Costs n x n values: for the engine and small cases."""
        out = np.zeros((self.n, self.n), dtype=dtype or self.data.dtype)
        out[self.rows(), self.indices] = self.data
        return out

    def dense_rows(self, start: int, stop: int, dtype=None) -> np.ndarray:
        """Rows start..stop of the dense matrix."""
        out = np.zeros((stop - start, self.n), dtype=dtype or self.data.dtype)
        a, b = self.indptr[start], self.indptr[stop]
        r = np.repeat(np.arange(stop - start), np.diff(self.indptr[start : stop + 1]))
        out[r, self.indices[a:b]] = self.data[a:b]
        return out

    def dense_blocks(self, dtype=None):
        """The dense matrix a block of rows at a time (at most BLOCK_VALUES values each):
        what hashing the dense bytes needs without holding them."""
        step = max(1, BLOCK_VALUES // max(self.n, 1))
        for start in range(0, self.n, step):
            yield self.dense_rows(start, min(self.n, start + step), dtype)

    def at(self, rows, cols) -> np.ndarray:
        """The values at the pairs (rows[k], cols[k]) (0 where not stored)."""
        want = np.asarray(rows, dtype=np.int64) * self.n + np.asarray(cols, dtype=np.int64)
        keys = self.keys()
        out = np.zeros(want.shape, dtype=self.data.dtype)
        if keys.size == 0:
            return out
        pos = np.minimum(np.searchsorted(keys, want), keys.size - 1)
        found = keys[pos] == want
        out[found] = self.data[pos[found]]
        return out

    def row_sums(self) -> np.ndarray:
        """Sum of each row (the in-strength of a connectome's weights): the numbers of the
        dense ``sum(axis=1)`` to the bit (numpy sums a row pairwise), a block of dense
        rows at a time, so n x n time but bounded memory."""
        return np.concatenate([b.sum(axis=1) for b in self.dense_blocks()] or [np.zeros(0)])

    def col_sums(self) -> np.ndarray:
        """Sum of each column (the out-strength): the dense ``sum(axis=0)`` to the bit
        (rows added in order; the zeros left out add nothing)."""
        return np.bincount(self.indices, weights=self.data, minlength=self.n)

    def submatrix(self, idx) -> SparseMatrix:
        """The matrix restricted to rows and columns ``idx``, in that order."""
        idx = np.asarray(idx, dtype=np.int64)
        where = np.full(self.n, -1, dtype=np.int64)
        where[idx] = np.arange(len(idx))
        rows, cols = where[self.rows()], where[self.indices]
        keep = (rows >= 0) & (cols >= 0)
        return SparseMatrix.from_entries(
            len(idx), rows[keep], cols[keep], self.data[keep], keep_zeros=True
        )

    def union_pattern(self, other: SparseMatrix) -> np.ndarray:
        """Keys (row * n + column) of the pairs stored in either matrix, increasing."""
        return np.union1d(self.keys(), other.keys())


def repeated(n: int, rows, cols) -> tuple[int, int] | None:
    """The first (row, column) pair given more than once, or None."""
    keys = np.asarray(rows, dtype=np.int64) * n + np.asarray(cols, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    same = np.flatnonzero(np.diff(keys[order]) == 0)
    if not len(same):
        return None
    k = int(keys[order][same[0]])
    return k // n, k % n


class DenseOnDemand:
    """A SparseMatrix handed to code that takes a dense (n, n) array (``np.array`` or
    ``np.asarray`` of it): the dense matrix is built at that moment and handed over
    without a further copy (numpy's ``__array__`` protocol), so such code holds one dense
    matrix, not two, and none stays alive once it has read it. Built with ``np.zeros``
    (pages the OS maps on first write) and written only at the stored entries, it is
    resident only where edges are."""

    def __init__(self, matrix: SparseMatrix, dtype) -> None:
        self.matrix = matrix
        self.dtype = np.dtype(dtype)
        self.shape = matrix.shape
        self.ndim = 2

    def __len__(self) -> int:
        return self.matrix.n

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        if copy is False:
            raise ValueError("a sparse matrix has no dense array to share: a copy is needed")
        return self.matrix.toarray(dtype or self.dtype)
