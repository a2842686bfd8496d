"""Structural connectomes: region labels, coupling weights and tract lengths.

Indexing follows the TVB simulator: ``weights[i, j]`` is the connection FROM region ``j``
ONTO region ``i``, so the afferent coupling of region ``i`` is
``sum_j weights[i, j] * x_j(t - d_ij)`` with ``d_ij = lengths_mm[i, j] / speed``.
Weights are in the arbitrary units of their source (TVB writes ``weights_unit = "au"``);
lengths are in mm; centres are in TVB's frame (mm, x anterior, y left, z up).

Sources (see :func:`load_connectome`): the connectivities shipped in the ``tvb_data``
package by name ("tvb76", ...), any TVB connectivity zip, or a dict of matrix files.
"""

from __future__ import annotations

import bz2
import difflib
import functools
import io
import zipfile
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from multiscale.sparse import SparseMatrix, repeated

if TYPE_CHECKING:
    import networkx as nx


class ConnectomeError(ValueError):
    """A connectome source that cannot be read or is inconsistent; the message names the file."""


class Connectome:
    """A region-level structural connectome (TVB conventions, see the module docstring).

    weights: (n, n), W[i, j] from region j onto region i, arbitrary units, >= 0.
    lengths_mm: (n, n) tract lengths in mm, same indexing, >= 0.
        Either may be given dense (an array or nested lists), as a scipy.sparse matrix or
        as a :class:`multiscale.sparse.SparseMatrix`; both are kept sparse (their non-zero
        entries: ``weights_sparse``, ``lengths_sparse``), so memory follows the edges,
        not regions squared. ``weights`` and ``lengths_mm`` build the dense matrices on
        each access (n x n values: for small connectomes and analysis, not for 10^4
        regions).
    centres_mm: (n, 3) region centres in mm, TVB frame (x anterior, y left, z up), or None.
    orientations: (n, 3) mean dipole orientation, normalised to unit length (TVB stores
        mean vertex normals; rows that are zero, e.g. subcortical regions of tvb96, stay
        zero), or None.
    areas_mm2: (n,) cortical area per region in mm^2, or None.
    cortical: (n,) bool, or None.
    orientation_coherence: (n,) length of the mean of the region's cortical normals, in
        [0, 1], as the file gave it before normalising: 1 for a flat patch, less where the
        cortex folds and the normals cancel (tvb76: median 0.45). 1 where the file gives
        unit vectors, zero rows or no orientations. Forward models scale a region's
        moment by it (docs/sensors.md).
    """

    def __init__(
        self,
        name: str,
        labels: Sequence[str],
        weights,
        lengths_mm,
        centres_mm: np.ndarray | None = None,
        orientations: np.ndarray | None = None,
        areas_mm2: np.ndarray | None = None,
        cortical: np.ndarray | None = None,
        orientation_coherence: np.ndarray | None = None,
    ) -> None:
        self.name = name
        self.labels = [str(label) for label in labels]
        where = f"connectome {self.name!r}"
        self.weights_sparse = _as_sparse(weights, "weights", where)
        self.lengths_sparse = _as_sparse(lengths_mm, "tract lengths", where)
        n = self.weights_sparse.n
        if self.lengths_sparse.n != n:
            raise ConnectomeError(
                f"{where}: tract lengths have shape {self.lengths_sparse.shape}, "
                f"weights {self.weights_sparse.shape}"
            )
        if len(self.labels) != n:
            raise ConnectomeError(f"{where}: {len(self.labels)} labels for {n} regions")
        counts = Counter(self.labels)
        duplicates = sorted(lab for lab, k in counts.items() if k > 1)
        if duplicates:
            raise ConnectomeError(f"{where}: duplicate region labels {duplicates}")
        self._position = {lab: k for k, lab in enumerate(self.labels)}
        self.centres_mm = centres_mm
        self.orientations = orientations
        self.areas_mm2 = areas_mm2
        self.cortical = cortical
        self.orientation_coherence = orientation_coherence
        if self.centres_mm is not None:
            self.centres_mm = _per_region(self.centres_mm, (n, 3), "centres", where)
        if self.orientations is not None:
            o = _per_region(self.orientations, (n, 3), "orientations", where)
            norm = np.linalg.norm(o, axis=1, keepdims=True)
            if self.orientation_coherence is None:
                self.orientation_coherence = np.where(norm[:, 0] > 0, np.minimum(norm[:, 0], 1), 1)
            # rows already of unit length are kept bit for bit, so this is idempotent
            rescale = (norm > 0) & (np.abs(norm - 1.0) > 1e-12)
            self.orientations = np.divide(o, norm, out=o, where=rescale)
        if self.areas_mm2 is not None:
            self.areas_mm2 = _per_region(self.areas_mm2, (n,), "areas", where)
        if self.cortical is not None:
            self.cortical = _per_region(self.cortical, (n,), "cortical flags", where).astype(bool)
        if self.orientation_coherence is not None:
            c = _per_region(self.orientation_coherence, (n,), "orientation coherence", where)
            if np.any((c < 0) | (c > 1)):
                raise ConnectomeError(f"{where}: orientation coherence outside [0, 1]")
            self.orientation_coherence = c

    def __repr__(self) -> str:
        return (
            f"Connectome({self.name!r}, {self.n_regions} regions, {self.weights_sparse.nnz} edges)"
        )

    @property
    def weights(self) -> np.ndarray:
        """The dense (n, n) weights, built anew on each access (see the class docstring)."""
        return self.weights_sparse.toarray(np.float64)

    @property
    def lengths_mm(self) -> np.ndarray:
        """The dense (n, n) tract lengths (mm), built anew on each access."""
        return self.lengths_sparse.toarray(np.float64)

    @property
    def n_edges(self) -> int:
        """Connections with a non-zero weight (self-connections included)."""
        return self.weights_sparse.nnz

    @property
    def n_regions(self) -> int:
        return self.weights_sparse.n

    def index(self, region: str | int) -> int:
        """Index of a region given by label or by index (0..n-1)."""
        if isinstance(region, (int, np.integer)) and not isinstance(region, bool):
            if not 0 <= region < self.n_regions:
                raise ValueError(
                    f"region index {region} out of range for connectome {self.name!r} "
                    f"({self.n_regions} regions, indices 0..{self.n_regions - 1})"
                )
            return int(region)
        if not isinstance(region, str):
            raise ValueError(f"a region is a label or an index, not {region!r}")
        found = self._position.get(region)
        if found is not None and found < len(self.labels) and self.labels[found] == region:
            return found
        try:
            return self.labels.index(region)  # labels changed after construction
        except ValueError:
            pass
        close = difflib.get_close_matches(region, self.labels, n=3, cutoff=0.6)
        close += [lab for lab in self.labels if lab.lower() == region.lower() and lab not in close]
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"no region {region!r} in connectome {self.name!r}{hint}")

    def graph(self) -> nx.DiGraph:
        """Directed graph: edge j -> i (attrs weight, length_mm) for every W[i, j] != 0.

        Nodes are 0..n-1 with attribute ``label`` and, where known, ``centre_mm``,
        ``orientation``, ``area_mm2`` and ``cortical``. Tract lengths of absent
        connections are not kept (they carry no signal).
        """
        import networkx as nx

        g = nx.DiGraph(name=self.name)
        for i, label in enumerate(self.labels):
            attrs: dict = {"label": label}
            if self.centres_mm is not None:
                attrs["centre_mm"] = tuple(float(v) for v in self.centres_mm[i])
            if self.orientations is not None:
                attrs["orientation"] = tuple(float(v) for v in self.orientations[i])
                attrs["orientation_coherence"] = float(self.orientation_coherence[i])
            if self.areas_mm2 is not None:
                attrs["area_mm2"] = float(self.areas_mm2[i])
            if self.cortical is not None:
                attrs["cortical"] = bool(self.cortical[i])
            g.add_node(i, **attrs)
        w = self.weights_sparse
        rows = w.rows()
        lengths = self.lengths_sparse.at(rows, w.indices)
        for i, j, wij, lij in zip(rows, w.indices, w.data, lengths, strict=True):
            g.add_edge(int(j), int(i), weight=float(wij), length_mm=float(lij))
        return g

    @classmethod
    def from_graph(cls, g: nx.Graph, name: str = "graph") -> Connectome:
        """Inverse of :meth:`graph`; regions in node order, edge u -> v gives W[v, u].

        Edge attributes: ``weight`` (default 1, as in networkx) and ``length_mm``
        (required). Absent edges get weight 0 and length 0. An undirected graph counts
        each edge in both directions. Node attributes as written by :meth:`graph`; a
        per-region attribute must be on every node or on none.
        """
        if not g.is_directed():
            g = g.to_directed()
        nodes = list(g.nodes)
        position = {node: k for k, node in enumerate(nodes)}
        n = len(nodes)
        rows, cols, w, lengths = [], [], [], []
        for u, v, data in g.edges(data=True):
            if "length_mm" not in data:
                raise ConnectomeError(f"graph {name!r}: edge {u} -> {v} has no length_mm")
            rows.append(position[v])
            cols.append(position[u])
            w.append(float(data.get("weight", 1.0)))
            lengths.append(float(data["length_mm"]))
        weights = SparseMatrix.from_entries(n, rows, cols, np.array(w, dtype=np.float64))
        lengths = SparseMatrix.from_entries(n, rows, cols, np.array(lengths, dtype=np.float64))

        def node_attr(key: str):
            values = [g.nodes[node].get(key) for node in nodes]
            missing = sum(v is None for v in values)
            if missing == n:
                return None
            if missing:
                raise ConnectomeError(f"graph {name!r}: {missing} of {n} nodes lack {key!r}")
            return np.array(values, dtype=np.float64)

        cortical = node_attr("cortical")
        return cls(
            name=g.graph.get("name") or name,
            labels=[str(g.nodes[node].get("label", node)) for node in nodes],
            weights=weights,
            lengths_mm=lengths,
            centres_mm=node_attr("centre_mm"),
            orientations=node_attr("orientation"),
            orientation_coherence=node_attr("orientation_coherence"),
            areas_mm2=node_attr("area_mm2"),
            cortical=None if cortical is None else cortical.astype(bool),
        )

    def delay_steps(self, speed_mm_per_ms: float, dt_ms: float) -> np.ndarray:
        """Conduction delays in integration steps, (n, n) int64: rint(lengths / speed / dt).

        Same operations in the same order as TVB (``idelays``), so delays match it
        bit for bit; ``rint`` rounds halves to even.
        """
        if not speed_mm_per_ms > 0 or not dt_ms > 0:
            raise ValueError(
                f"speed ({speed_mm_per_ms} mm/ms) and dt ({dt_ms} ms) must be positive"
            )
        return self.delay_matrix(speed_mm_per_ms, dt_ms).toarray(np.int64)

    def delay_matrix(self, speed_mm_per_ms: float, dt_ms: float) -> SparseMatrix:
        """:meth:`delay_steps` stored on every pair with a non-zero weight or length (the
        others are 0 steps), int64: what the engine and the window choice read, in memory
        that follows the edges. Zero delays on weighted pairs are stored (the co-simulation
        may clamp them)."""
        if not speed_mm_per_ms > 0 or not dt_ms > 0:
            raise ValueError(
                f"speed ({speed_mm_per_ms} mm/ms) and dt ({dt_ms} ms) must be positive"
            )
        n = self.n_regions
        keys = self.weights_sparse.union_pattern(self.lengths_sparse)
        rows, cols = keys // n, keys % n
        lengths = self.lengths_sparse.at(rows, cols)
        steps = np.rint(lengths / speed_mm_per_ms / dt_ms).astype(np.int64)
        return SparseMatrix.from_entries(n, rows, cols, steps, keep_zeros=True)

    def subset(self, regions: Sequence[str | int]) -> Connectome:
        """The connectome restricted to ``regions`` (labels or indices), in that order."""
        idx = [self.index(r) for r in regions]
        if not idx:
            raise ValueError("a subset needs at least one region")
        if len(set(idx)) != len(idx):
            raise ValueError(f"regions listed twice in subset {list(regions)}")

        def rows(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[idx].copy()

        return Connectome(
            name=f"{self.name}[{len(idx)} regions]",
            labels=[self.labels[i] for i in idx],
            weights=self.weights_sparse.submatrix(idx),
            lengths_mm=self.lengths_sparse.submatrix(idx),
            centres_mm=rows(self.centres_mm),
            orientations=rows(self.orientations),
            orientation_coherence=rows(self.orientation_coherence),
            areas_mm2=rows(self.areas_mm2),
            cortical=rows(self.cortical),
        )


# --------------------------------------------------------------------------- loading

#: connectivities shipped in tvb_data, by name
TVB_CONNECTOMES = {
    "tvb66": "connectivity_66.zip",
    "tvb68": "connectivity_68.zip",
    "tvb76": "connectivity_76.zip",
    "tvb96": "connectivity_96.zip",
    "tvb192": "connectivity_192.zip",
}

# file stems in a TVB zip -> Connectome field
_TVB_FILES = {
    "weights": "weights",
    "tract_lengths": "lengths_mm",
    "centres": "centres_mm",
    "average_orientations": "orientations",
    "areas": "areas_mm2",
    "cortical": "cortical",
}


def tvb_data_dir() -> Path:
    """Folder of the installed ``tvb_data`` package (data files only, never downloaded)."""
    try:
        import tvb_data
    except ImportError as err:
        raise ConnectomeError(
            "the built-in TVB connectomes need the 'tvb-data' package (pip install tvb-data)"
        ) from err
    return Path(tvb_data.__file__).parent


def load_connectome(source: str | Path | Mapping, base_dir: Path | None = None) -> Connectome:
    """Load a connectome from a tvb_data name, a TVB zip (or unzipped folder), or a dict.

    - ``"tvb76"``, ``"tvb66"``, ``"tvb68"``, ``"tvb96"``, ``"tvb192"``: the connectivities
      of the ``tvb_data`` package;
    - a path to a TVB connectivity zip: weights.txt, tract_lengths.txt, centres.txt
      ("label x y z" per line), optional average_orientations.txt, areas.txt,
      cortical.txt; files may sit in a folder inside the zip and be ``.bz2``-compressed;
    - ``{"weights": path, "lengths": path, "labels": path or list, "centres": path}``,
      with matrices as .npy, .csv or whitespace-separated .txt; labels default to
      R0..Rn-1 (or to the labels of a "label x y z" centres file).

    Relative paths are resolved against ``base_dir`` (the experiment file's folder).
    Parsed zips are cached, and each call returns fresh arrays.
    """
    if isinstance(source, Mapping):
        return _load_dict(source, base_dir)
    text = str(source)
    if text in TVB_CONNECTOMES:
        path = tvb_data_dir() / "connectivity" / TVB_CONNECTOMES[text]
        return _connectome_from_tvb(path, name=text)
    path = _resolve(text, base_dir)
    if not path.exists():
        close = difflib.get_close_matches(text, list(TVB_CONNECTOMES), n=2)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise ConnectomeError(
            f"connectome {text!r}: no such file ({path}); {hint}"
            f"built-in names are {', '.join(TVB_CONNECTOMES)}"
        )
    return _connectome_from_tvb(path, name=path.stem)


def _connectome_from_tvb(path: Path, name: str) -> Connectome:
    stat = path.stat()
    parsed = _read_tvb(str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    fields = dict(parsed, labels=list(parsed["labels"]))  # Connectome copies the arrays
    try:
        return Connectome(name=name, **fields)
    except ConnectomeError as err:
        raise ConnectomeError(f"{path}: {err}") from None


@functools.lru_cache(maxsize=16)
def _read_tvb(path: str, mtime_ns: int, size: int) -> dict:
    """Parse a TVB zip or folder once per (path, mtime, size); arrays are read-only."""
    del mtime_ns, size  # cache key only: a rewritten file is read again
    members = _tvb_members(Path(path))
    for required in ("weights", "tract_lengths", "centres"):
        if required not in members:
            raise ConnectomeError(
                f"{path}: no {required}.txt in it (found {sorted(members) or 'nothing'}); "
                "a TVB connectivity needs weights.txt, tract_lengths.txt and centres.txt"
            )
    out: dict = {}
    for stem, (where, text) in members.items():
        if stem == "centres":
            labels, centres = _parse_centres(text, where)
            out["labels"] = None if labels is None else tuple(labels)
            out["centres_mm"] = centres
        elif stem in ("weights", "tract_lengths"):
            out[_TVB_FILES[stem]] = _parse_matrix_text(text, where)
        else:
            out[_TVB_FILES[stem]] = _parse_table_text(text, where)
    weights, lengths = out["weights"], out["lengths_mm"]
    where_w, where_l = members["weights"][0], members["tract_lengths"][0]
    _check_matrix(weights, "weights", where_w)
    _check_matrix(lengths, "tract lengths", where_l)
    n = weights.shape[0]
    if lengths.shape != weights.shape:
        raise ConnectomeError(
            f"{where_l}: tract lengths have shape {lengths.shape} but {where_w} has {weights.shape}"
        )
    if out["labels"] is None:
        out["labels"] = tuple(f"R{i}" for i in range(n))
    if len(out["labels"]) != n:
        raise ConnectomeError(
            f"{members['centres'][0]}: {len(out['labels'])} labels for {n} regions in {where_w}"
        )
    per_region = {"centres_mm": 3, "orientations": 3, "areas_mm2": 1, "cortical": 1}
    file_of = {field: stem for stem, field in _TVB_FILES.items()}
    for field, width in per_region.items():
        value = out.get(field)
        if value is None:
            out[field] = None
            continue
        expected = (n, width) if width > 1 else (n,)
        if width == 1 and value.ndim == 2 and value.shape[1] == 1:
            value = value[:, 0]
        where = members[file_of[field]][0]
        out[field] = _per_region(value, expected, field, where)
    for value in out.values():
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return out


def _tvb_members(path: Path) -> dict[str, tuple[str, str]]:
    """Known TVB files in a zip or folder: stem -> (display name, text)."""
    if path.is_dir():
        files = [p for p in path.rglob("*") if p.is_file()]
        return _pick_members(path, [(p.relative_to(path).as_posix(), p.read_bytes) for p in files])
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise ConnectomeError(f"{path}: not a readable zip file ({err})") from None
    with archive:
        entries = [
            (info.filename, functools.partial(archive.read, info.filename))
            for info in archive.infolist()
            if not info.is_dir()
        ]
        return _pick_members(path, entries)


def _pick_members(path: Path, entries: list) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    depth: dict[str, int] = {}
    for name, read in sorted(entries, key=lambda e: e[0]):
        base = name.rsplit("/", 1)[-1]
        if base.startswith(".") or name.startswith("__MACOSX"):
            continue
        compressed = base.endswith(".bz2")
        stem = base.removesuffix(".bz2").removesuffix(".txt")
        if stem not in _TVB_FILES:
            continue
        level = name.count("/")
        if stem in found and depth[stem] == level:
            raise ConnectomeError(f"{path}: two {stem} files ({found[stem][0]} and {name})")
        if stem in found and depth[stem] < level:
            continue
        raw = read()
        try:
            text = (bz2.decompress(raw) if compressed else raw).decode("utf-8")
        except (OSError, ValueError) as err:
            raise ConnectomeError(f"{path}:{name}: cannot decode ({err})") from None
        found[stem] = (f"{path}:{name}", text)
        depth[stem] = level
    return found


def _parse_matrix_text(text: str, where: str) -> np.ndarray:
    """A numeric table, whitespace- or comma-separated."""
    try:
        return np.loadtxt(io.StringIO(text.replace(",", " ")), dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ConnectomeError(f"{where}: not a numeric matrix ({err})") from None


def _parse_table_text(text: str, where: str) -> np.ndarray:
    table = _parse_matrix_text(text, where)
    return table[:, 0] if table.shape[1] == 1 else table


def _parse_centres(text: str, where: str) -> tuple[list[str] | None, np.ndarray]:
    """Centres as "label x y z" (extra trailing columns ignored, as in tvb66) or "x y z"."""
    labels: list[str] = []
    rows: list[list[float]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.replace(",", " ").split()
        if not parts:
            continue
        try:
            float(parts[0])
            numeric = parts[:3]
        except ValueError:
            labels.append(parts[0])
            numeric = parts[1:4]
        try:
            values = [float(v) for v in numeric]
        except ValueError:
            values = []
        if len(values) != 3:
            raise ConnectomeError(
                f"{where}, line {lineno}: expected 'label x y z' or 'x y z', got {line.strip()!r}"
            )
        rows.append(values)
    if labels and len(labels) != len(rows):
        raise ConnectomeError(f"{where}: some lines have a label and others do not")
    return (labels or None), np.array(rows, dtype=np.float64).reshape(-1, 3)


def _load_dict(source: Mapping, base_dir: Path | None) -> Connectome:
    allowed = {"weights", "lengths", "edges", "labels", "centres", "name"}
    unknown = set(source) - allowed
    if unknown:
        raise ConnectomeError(
            f"connectome: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
        )
    if "edges" in source:
        given = [key for key in ("weights", "lengths") if key in source]
        if given:
            raise ConnectomeError(
                f"connectome: 'edges' gives the weights and lengths; got {given} too"
            )
    else:
        for key in ("weights", "lengths"):
            if key not in source:
                raise ConnectomeError(
                    f"connectome: the {key!r} file is missing from {dict(source)} "
                    f"(or give an 'edges' table instead of both)"
                )
    centres = labels_from_centres = None
    if source.get("centres") is not None:
        c_path = _resolve(source["centres"], base_dir)
        if c_path.suffix == ".npy":
            centres = _read_array(c_path, "centres")
        else:
            labels_from_centres, centres = _parse_centres(_read_text(c_path), str(c_path))
        c_where = str(c_path)
    labels_source = source.get("labels")
    if labels_source is None:
        labels = labels_from_centres
        where = "centres"
    elif isinstance(labels_source, (str, Path)):
        where = str(_resolve(labels_source, base_dir))
        labels = [line.strip() for line in _read_text(Path(where)).splitlines() if line.strip()]
    else:
        labels, where = [str(lab) for lab in labels_source], "labels list"
    if "edges" in source:
        weights, lengths, w_path = _edges(source["edges"], labels, base_dir)
    else:
        weights, w_path = _matrix(source["weights"], "weights", base_dir)
        lengths, l_path = _matrix(source["lengths"], "tract lengths", base_dir)
        if lengths.shape != weights.shape:
            raise ConnectomeError(
                f"{l_path}: tract lengths have shape {lengths.shape} but {w_path} has "
                f"{weights.shape}"
            )
    n = weights.shape[0]
    if centres is not None:
        centres = _per_region(centres, (n, 3), "centres", c_where)
    if labels is None:
        labels, where = [f"R{i}" for i in range(n)], "default labels"
    if len(labels) != n:
        raise ConnectomeError(f"{where}: {len(labels)} labels for {n} regions in {w_path}")
    try:
        return Connectome(
            name=str(source.get("name", w_path.stem if w_path.suffix else "connectome")),
            labels=labels,
            weights=weights,
            lengths_mm=lengths,
            centres_mm=centres,
        )
    except ConnectomeError as err:
        raise ConnectomeError(f"{w_path}: {err}") from None


def _matrix(value, what: str, base_dir: Path | None):
    """A square matrix from a file (dense .npy, .csv or .txt; a scipy.sparse .npz is kept
    sparse), or written out in the experiment (a list of rows: ``weights: [[0]]`` is one
    isolated region); with the name messages give its source."""
    if isinstance(value, (str, Path)):
        path = _resolve(value, base_dir)
        if path.suffix == ".npz":
            matrix = _read_sparse(path, what)
            _as_sparse(matrix, what, str(path))
            return matrix, path
        matrix = _read_array(path, what)
    else:
        path = Path(f"connectome.{'weights' if what == 'weights' else 'lengths'}")
        try:
            matrix = np.array(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise ConnectomeError(f"{path}: expected a file or a list of rows ({err})") from None
    _check_matrix(matrix, what, str(path))
    return matrix, path


def _read_sparse(path: Path, what: str) -> SparseMatrix:
    """A scipy.sparse matrix saved with ``scipy.sparse.save_npz`` (any format)."""
    if not path.exists():
        raise ConnectomeError(f"{path}: cannot read {what} (no such file)")
    try:
        import scipy.sparse

        m = scipy.sparse.load_npz(path)
    except (OSError, ValueError, KeyError) as err:
        raise ConnectomeError(
            f"{path}: cannot read {what} as a scipy.sparse .npz (scipy.sparse.save_npz) ({err})"
        ) from None
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ConnectomeError(f"{path}: {what} must be a non-empty square matrix, got {m.shape}")
    if not np.issubdtype(m.dtype, np.number) or np.issubdtype(m.dtype, np.complexfloating):
        raise ConnectomeError(f"{path}: {what} must be real numbers, not {m.dtype}")
    return SparseMatrix.from_scipy(m)


#: the columns of an edge table (``connectome: {source: {edges: table.csv}}``)
EDGE_COLUMNS = ("from", "to", "weight", "length_mm")


def _edges(value, labels: list[str] | None, base_dir: Path | None):
    """Weights and lengths from an edge table: a text file (.csv, .tsv or whitespace
    separated) whose first line names the columns ``from to weight length_mm`` (in any
    order), one connection per line, from region ``from`` onto region ``to`` (labels, or
    indices from 0); regions are the labels given (``labels`` or the centres file), else
    0 .. the largest index. A pair given twice is an error."""
    path = _resolve(value, base_dir)
    text = _read_text(path)
    numbered = [
        (k, line)
        for k, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.startswith("#")
    ]
    lines = [line for _, line in numbered]
    if not lines:
        raise ConnectomeError(f"{path}: an empty edge table; expected a header {EDGE_COLUMNS}")
    sep = "," if "," in lines[0] else ("\t" if "\t" in lines[0] else None)
    header = [h.strip() for h in lines[0].split(sep)]
    missing = [c for c in EDGE_COLUMNS if c not in header]
    if missing:
        raise ConnectomeError(
            f"{path}: the header line {lines[0].strip()!r} lacks the column(s) {missing}; "
            f"expected {' '.join(EDGE_COLUMNS)} (from region 'from' onto region 'to', "
            f"length in mm)"
        )
    col = {c: header.index(c) for c in EDGE_COLUMNS}
    position = None if labels is None else {lab: k for k, lab in enumerate(labels)}
    ends = {"from": [], "to": []}
    numbers = {"weight": [], "length_mm": []}
    for lineno, line in numbered[1:]:
        parts = [x.strip() for x in line.split(sep)]
        if len(parts) != len(header):
            raise ConnectomeError(
                f"{path}, line {lineno}: {len(parts)} columns, expected {len(header)} "
                f"({' '.join(header)}): {line.strip()!r}"
            )
        for end in ("from", "to"):
            ends[end].append(_region_of(parts[col[end]], position, path, lineno, end))
        for key in ("weight", "length_mm"):
            try:
                numbers[key].append(float(parts[col[key]]))
            except ValueError:
                raise ConnectomeError(
                    f"{path}, line {lineno}: {key} {parts[col[key]]!r} is not a number"
                ) from None
    rows = np.array(ends["to"], dtype=np.int64)
    cols = np.array(ends["from"], dtype=np.int64)
    n = (
        len(labels)
        if labels is not None
        else int(max(rows.max(initial=-1), cols.max(initial=-1))) + 1
    )
    if n == 0:
        raise ConnectomeError(f"{path}: no connection and no labels: no region")
    out_of_range = (rows >= n) | (cols >= n)
    if out_of_range.any():
        k = int(np.argmax(out_of_range))
        raise ConnectomeError(
            f"{path}: region index {max(rows[k], cols[k])} (connection {cols[k]} -> "
            f"{rows[k]}) is out of range for the {n} labels given"
        )
    twice = repeated(n, rows, cols)
    if twice is not None:
        raise ConnectomeError(
            f"{path}: the connection from region {twice[1]} onto {twice[0]} is given twice"
        )
    weights, lengths = (np.array(numbers[k], dtype=np.float64) for k in ("weight", "length_mm"))
    for what, values in (("weights", weights), ("tract lengths", lengths)):
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            k = int(np.argmax(bad))
            raise ConnectomeError(
                f"{path}: {what} must be finite and >= 0; got {values[k]} for the "
                f"connection {cols[k]} -> {rows[k]} (line {numbered[k + 1][0]})"
            )
    return (
        SparseMatrix.from_entries(n, rows, cols, weights),
        SparseMatrix.from_entries(n, rows, cols, lengths),
        path,
    )


def _region_of(text: str, position: dict | None, path: Path, lineno: int, end: str) -> int:
    if position is not None and text in position:
        return position[text]
    try:
        k = int(text)
    except ValueError:
        known = "" if position is None else f" (and not one of the {len(position)} labels)"
        raise ConnectomeError(
            f"{path}, line {lineno}: '{end}' region {text!r} is not an index{known}"
        ) from None
    if k < 0:
        raise ConnectomeError(f"{path}, line {lineno}: '{end}' region index {k} is negative")
    return k


def _resolve(path: str | Path, base_dir: Path | None) -> Path:
    p = Path(path).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = Path(base_dir) / p
    return p


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConnectomeError(f"{path}: cannot read ({err.strerror or err})") from None
    if path.suffix == ".bz2":
        raw = bz2.decompress(raw)
    return raw.decode("utf-8")


def _read_array(path: Path, what: str) -> np.ndarray:
    """A numeric array from .npy, .csv or whitespace-separated text (optionally .bz2)."""
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise ConnectomeError(f"{path}: cannot read {what} ({err})") from None
        if not np.issubdtype(array.dtype, np.number):
            raise ConnectomeError(f"{path}: {what} must be numeric, not {array.dtype}")
        return array.astype(np.float64)
    return _parse_matrix_text(_read_text(path), str(path))


def _check_matrix(m: np.ndarray, what: str, where: str) -> None:
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ConnectomeError(f"{where}: {what} must be a non-empty square matrix, got {m.shape}")
    bad = ~np.isfinite(m)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ConnectomeError(
            f"{where}: {what} contain {bad.sum()} NaN/inf value(s), first at [{i}, {j}]"
        )
    if (m < 0).any():
        i, j = np.argwhere(m < 0)[0]
        raise ConnectomeError(
            f"{where}: {what} must be >= 0; {(m < 0).sum()} negative, first [{i}, {j}] = {m[i, j]}"
        )


def _as_sparse(value, what: str, where: str) -> SparseMatrix:
    """A matrix given dense, as a scipy.sparse matrix or as a SparseMatrix, checked
    (square, finite, >= 0) and kept sparse (float64)."""
    if isinstance(value, SparseMatrix):
        m = value
    elif hasattr(value, "tocsr") and hasattr(value, "shape"):  # scipy.sparse
        shape = tuple(value.shape)
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
            raise ConnectomeError(f"{where}: {what} must be a non-empty square matrix, got {shape}")
        m = SparseMatrix.from_scipy(value)
    else:
        dense = np.asarray(value, dtype=np.float64)
        _check_matrix(dense, what, where)
        return SparseMatrix.from_dense(dense)
    if m.n == 0:
        raise ConnectomeError(f"{where}: {what} must be a non-empty square matrix, got (0, 0)")
    data = np.asarray(m.data, dtype=np.float64)
    _check_entries(m, data, what, where)
    return m.with_data(data)


def _check_entries(m: SparseMatrix, data: np.ndarray, what: str, where: str) -> None:
    """_check_matrix's rules (finite, >= 0) on the stored entries of a sparse matrix."""
    bad = ~np.isfinite(data)
    if bad.any():
        k = int(np.argmax(bad))
        i, j = int(m.rows()[k]), int(m.indices[k])
        raise ConnectomeError(
            f"{where}: {what} contain {int(bad.sum())} NaN/inf value(s), first at [{i}, {j}]"
        )
    negative = data < 0
    if negative.any():
        k = int(np.argmax(negative))
        i, j = int(m.rows()[k]), int(m.indices[k])
        raise ConnectomeError(
            f"{where}: {what} must be >= 0; {int(negative.sum())} negative, first "
            f"[{i}, {j}] = {data[k]}"
        )


def _per_region(value, shape: tuple[int, ...], what: str, where: str) -> np.ndarray:
    array = np.array(value, dtype=np.float64)
    if array.shape != shape:
        raise ConnectomeError(f"{where}: {what} have shape {array.shape}, expected {shape}")
    if not np.isfinite(array).all():
        raise ConnectomeError(f"{where}: {what} contain NaN/inf")
    return array
