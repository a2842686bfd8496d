import bz2
import zipfile

import networkx as nx
import numpy as np
import pytest

from multiscale.connectome import Connectome, ConnectomeError, load_connectome


@pytest.fixture(scope="module")
def tvb76() -> Connectome:
    return load_connectome("tvb76")


def test_tvb76_loads(tvb76):
    c = tvb76
    assert c.n_regions == 76 and len(c.labels) == 76
    assert c.labels[0] == "rA1"
    assert c.weights.dtype == np.float64 and c.weights.max() == 3.0
    assert np.count_nonzero(np.diag(c.weights)) == 66  # self weights kept, as in the file
    assert c.weights[0, 0] == 2.0 and c.weights[1, 0] == 3.0 and c.weights[0, 1] == 2.0
    assert np.all(np.diag(c.lengths_mm) == 0.0)
    assert 100 < c.lengths_mm.max() < 200  # mm
    assert c.centres_mm.shape == (76, 3)
    np.testing.assert_allclose(np.linalg.norm(c.orientations, axis=1), 1.0)
    assert c.cortical.dtype == bool and c.areas_mm2.shape == (76,)


@pytest.mark.parametrize("name", ["tvb66", "tvb68", "tvb96", "tvb192"])
def test_other_tvb_connectomes(name):
    c = load_connectome(name)
    assert c.n_regions == int(name[3:])
    assert c.lengths_mm.shape == c.weights.shape and c.centres_mm.shape == (c.n_regions, 3)


def test_loading_twice_gives_fresh_copies():
    a = load_connectome("tvb76")
    a.weights[0, 0] = 99.0
    b = load_connectome("tvb76")
    assert b.weights[0, 0] == 2.0 and b.weights.flags.writeable


def test_graph_round_trip(tvb76):
    g = tvb76.graph()
    assert g.number_of_nodes() == 76 and g.nodes[0]["label"] == "rA1"
    assert g.number_of_edges() == np.count_nonzero(tvb76.weights)
    back = Connectome.from_graph(g)
    assert back.labels == tvb76.labels
    np.testing.assert_array_equal(back.weights, tvb76.weights)
    # lengths of absent connections are not in the graph and come back as 0
    has_edge = tvb76.weights != 0
    np.testing.assert_array_equal(back.lengths_mm, np.where(has_edge, tvb76.lengths_mm, 0.0))
    for attr in ("centres_mm", "orientations", "areas_mm2", "cortical"):
        np.testing.assert_array_equal(getattr(back, attr), getattr(tvb76, attr))
    masked = Connectome.from_graph(back.graph())
    np.testing.assert_array_equal(masked.lengths_mm, back.lengths_mm)


def _write_dict_source(tmp_path, weights, lengths, **extra):
    np.save(tmp_path / "w.npy", weights)
    np.save(tmp_path / "l.npy", lengths)
    return {"weights": "w.npy", "lengths": "l.npy", **extra}


def test_edge_direction_convention(tmp_path):
    w = np.zeros((3, 3))
    w[0, 1] = 1.0  # from region 1 onto region 0
    lengths = np.full((3, 3), 10.0)
    c = load_connectome(_write_dict_source(tmp_path, w, lengths), base_dir=tmp_path)
    assert c.labels == ["R0", "R1", "R2"]
    g = c.graph()
    assert list(g.edges) == [(1, 0)]
    assert g.edges[1, 0] == {"weight": 1.0, "length_mm": 10.0}


def test_from_graph_with_named_nodes():
    g = nx.DiGraph()
    g.add_edge("a", "b", weight=0.5, length_mm=20.0)
    c = Connectome.from_graph(g)
    assert c.labels == ["a", "b"] and c.weights[1, 0] == 0.5 and c.lengths_mm[1, 0] == 20.0
    g.add_edge("b", "a")
    with pytest.raises(ConnectomeError, match="length_mm"):
        Connectome.from_graph(g)


def test_delay_steps():
    lengths = np.array([[0.0, 30.0], [31.04, 31.06]])
    c = Connectome("t", ["a", "b"], np.ones((2, 2)), lengths)
    steps = c.delay_steps(speed_mm_per_ms=3.0, dt_ms=0.1)
    assert steps.dtype == np.int64
    np.testing.assert_array_equal(steps, [[0, 100], [103, 104]])
    with pytest.raises(ValueError):
        c.delay_steps(0.0, 0.1)


def test_subset(tvb76):
    s = tvb76.subset(["lV1", "rV1", 12])
    assert s.labels == ["lV1", "rV1", "rM1"]
    i, j = tvb76.index("lV1"), tvb76.index("rM1")
    assert s.weights[0, 2] == tvb76.weights[i, j]
    assert s.lengths_mm[2, 0] == tvb76.lengths_mm[j, i]
    np.testing.assert_array_equal(s.centres_mm[0], tvb76.centres_mm[i])
    with pytest.raises(ValueError, match="twice"):
        tvb76.subset(["rV1", 35])


def test_index(tvb76):
    assert tvb76.index("rA1") == 0 and tvb76.index(75) == 75 and tvb76.index(np.int64(3)) == 3
    with pytest.raises(ValueError, match="'rM1'"):
        tvb76.index("rM2")
    with pytest.raises(ValueError, match="out of range"):
        tvb76.index(76)
    with pytest.raises(ValueError, match="out of range"):
        tvb76.index(-1)


def test_unknown_name_suggests_builtin():
    with pytest.raises(ConnectomeError, match="tvb76"):
        load_connectome("tvb77")


def test_dict_loader_errors(tmp_path):
    ok = np.ones((3, 3))
    src = _write_dict_source(tmp_path, ok, ok)

    with pytest.raises(ConnectomeError, match="missing.npy"):
        load_connectome({**src, "weights": "missing.npy"}, base_dir=tmp_path)

    np.save(tmp_path / "rect.npy", np.ones((3, 2)))
    with pytest.raises(ConnectomeError, match=r"rect\.npy.*square"):
        load_connectome({**src, "weights": "rect.npy"}, base_dir=tmp_path)

    np.save(tmp_path / "four.npy", np.ones((4, 4)))
    with pytest.raises(ConnectomeError, match=r"four\.npy.*shape \(4, 4\)"):
        load_connectome({**src, "lengths": "four.npy"}, base_dir=tmp_path)

    (tmp_path / "labels.txt").write_text("a\nb\n")
    with pytest.raises(ConnectomeError, match=r"labels\.txt.*2 labels for 3"):
        load_connectome({**src, "labels": "labels.txt"}, base_dir=tmp_path)
    with pytest.raises(ConnectomeError, match="2 labels for 3"):
        load_connectome({**src, "labels": ["a", "b"]}, base_dir=tmp_path)

    neg = ok.copy()
    neg[1, 2] = -0.5
    np.save(tmp_path / "neg.npy", neg)
    with pytest.raises(ConnectomeError, match=r"neg\.npy.*>= 0.*\[1, 2\]"):
        load_connectome({**src, "weights": "neg.npy"}, base_dir=tmp_path)
    with pytest.raises(ConnectomeError, match=r"neg\.npy.*tract lengths"):
        load_connectome({**src, "lengths": "neg.npy"}, base_dir=tmp_path)

    nan = ok.copy()
    nan[0, 1] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    with pytest.raises(ConnectomeError, match=r"nan\.npy.*NaN"):
        load_connectome({**src, "weights": "nan.npy"}, base_dir=tmp_path)

    (tmp_path / "dup.txt").write_text("a\na\nb\n")
    with pytest.raises(ConnectomeError, match="duplicate"):
        load_connectome({**src, "labels": "dup.txt"}, base_dir=tmp_path)

    (tmp_path / "bad.csv").write_text("1,2,x\n")
    with pytest.raises(ConnectomeError, match=r"bad\.csv.*numeric"):
        load_connectome({**src, "weights": "bad.csv"}, base_dir=tmp_path)

    with pytest.raises(ConnectomeError, match="unknown key"):
        load_connectome({**src, "weight": "w.npy"}, base_dir=tmp_path)
    with pytest.raises(ConnectomeError, match="'lengths'"):
        load_connectome({"weights": "w.npy"}, base_dir=tmp_path)


def test_csv_txt_labels_and_centres(tmp_path):
    w = np.array([[0.0, 1.5, 0.0], [0.25, 0.0, 2.0], [0.0, 0.0, 1.0]])
    lengths = np.arange(9.0).reshape(3, 3)
    np.savetxt(tmp_path / "w.csv", w, delimiter=",")
    np.savetxt(tmp_path / "l.txt", lengths)
    (tmp_path / "centres.txt").write_text("A 1 2 3\nB 4 5 6\nC 7 8 9\n")
    c = load_connectome(
        {"weights": "w.csv", "lengths": str(tmp_path / "l.txt"), "centres": "centres.txt"},
        base_dir=tmp_path,
    )
    np.testing.assert_array_equal(c.weights, w)
    np.testing.assert_array_equal(c.lengths_mm, lengths)
    assert c.labels == ["A", "B", "C"]  # from the centres file
    assert c.centres_mm[2].tolist() == [7.0, 8.0, 9.0]
    c2 = load_connectome(
        {"weights": "w.csv", "lengths": "l.txt", "labels": ["x", "y", "z"]}, base_dir=tmp_path
    )
    assert c2.labels == ["x", "y", "z"] and c2.centres_mm is None and c2.name == "w"


def _tvb_zip_files(n=3):
    w = np.arange(n * n, dtype=float).reshape(n, n)
    lengths = w * 2
    return {
        "weights.txt": "\n".join(" ".join(f"{v:g}" for v in row) for row in w),
        "tract_lengths.txt": "\n".join(" ".join(f"{v:g}" for v in row) for row in lengths),
        "centres.txt": "".join(f"reg{i} {i} {2 * i} {3 * i} None\n" for i in range(n)),
        "average_orientations.txt": "".join(f"0 0 {i + 1}\n" for i in range(n)),
        "cortical.txt": "1\n0\n1\n",
    }, w


def test_user_tvb_zip_nested_and_bz2(tmp_path):
    files, w = _tvb_zip_files()
    path = tmp_path / "mine.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            if name == "weights.txt":
                z.writestr("mine/weights.txt.bz2", bz2.compress(text.encode()))
            else:
                z.writestr(f"mine/{name}", text)
    c = load_connectome("mine.zip", base_dir=tmp_path)
    assert c.name == "mine" and c.labels == ["reg0", "reg1", "reg2"]
    np.testing.assert_array_equal(c.weights, w)
    np.testing.assert_array_equal(c.lengths_mm, 2 * w)
    np.testing.assert_array_equal(c.orientations, np.tile([0.0, 0.0, 1.0], (3, 1)))
    assert c.cortical.tolist() == [True, False, True] and c.areas_mm2 is None


def test_user_tvb_zip_errors(tmp_path):
    files, _ = _tvb_zip_files()
    no_lengths = tmp_path / "nolengths.zip"
    with zipfile.ZipFile(no_lengths, "w") as z:
        for name, text in files.items():
            if name != "tract_lengths.txt":
                z.writestr(name, text)
    with pytest.raises(ConnectomeError, match=r"nolengths\.zip.*tract_lengths"):
        load_connectome(str(no_lengths))

    short = tmp_path / "short.zip"
    with zipfile.ZipFile(short, "w") as z:
        for name, text in files.items():
            z.writestr(name, "reg0 0 0 0\nreg1 1 1 1\n" if name == "centres.txt" else text)
    with pytest.raises(ConnectomeError, match=r"short\.zip:centres\.txt.*2 labels for 3"):
        load_connectome(short)

    (tmp_path / "junk.zip").write_text("not a zip")
    with pytest.raises(ConnectomeError, match=r"junk\.zip.*zip"):
        load_connectome(tmp_path / "junk.zip")


# ----------------------------------------------------------------- sparse connectomes
def _sparse_case():
    w = np.zeros((4, 4))
    w[0, 1], w[2, 0], w[3, 2], w[1, 3] = 0.5, 1.0, 0.25, 2.0  # W[i, j]: from j onto i
    lengths = np.where(w > 0, np.array([[0, 20, 0, 0], [0, 0, 0, 70],
                                        [35, 0, 0, 0], [0, 0, 12.5, 0]]), 0.0)  # fmt: skip
    return w, lengths


def test_sparse_npz_and_edge_table_equal_the_dense_files(tmp_path):
    import scipy.sparse

    w, lengths = _sparse_case()
    dense = load_connectome(_write_dict_source(tmp_path, w, lengths), base_dir=tmp_path)
    scipy.sparse.save_npz(tmp_path / "w.npz", scipy.sparse.csr_array(w))
    scipy.sparse.save_npz(tmp_path / "l.npz", scipy.sparse.coo_array(lengths))  # any format
    npz = load_connectome({"weights": "w.npz", "lengths": "l.npz"}, base_dir=tmp_path)
    rows = ["from,to,weight,length_mm"] + [
        f"{j},{i},{w[i, j]},{lengths[i, j]}" for i, j in zip(*np.nonzero(w), strict=True)
    ]
    (tmp_path / "edges.csv").write_text("\n".join([rows[0], *rows[:0:-1]]))  # any order
    table = load_connectome({"edges": "edges.csv"}, base_dir=tmp_path)
    (tmp_path / "named.tsv").write_text(
        "to\tfrom\tlength_mm\tweight\n"
        + "".join(f"r{i}\tr{j}\t{lengths[i, j]}\t{w[i, j]}\n" for i, j in zip(*np.nonzero(w),
                                                                              strict=True))
    )  # fmt: skip
    named = load_connectome(
        {"edges": "named.tsv", "labels": ["r0", "r1", "r2", "r3"]}, base_dir=tmp_path
    )
    for c in (npz, table, named):
        np.testing.assert_array_equal(c.weights, dense.weights)
        np.testing.assert_array_equal(c.lengths_mm, dense.lengths_mm)
        assert c.n_regions == 4 and c.n_edges == 4
        np.testing.assert_array_equal(c.delay_steps(3.0, 0.1), dense.delay_steps(3.0, 0.1))
    assert named.labels == ["r0", "r1", "r2", "r3"] and table.labels == ["R0", "R1", "R2", "R3"]
    direct = Connectome(
        "s", list("abcd"), scipy.sparse.csr_array(w), scipy.sparse.csr_array(lengths)
    )
    np.testing.assert_array_equal(direct.weights, w)


def test_sparse_input_errors_name_the_file_and_the_value(tmp_path):
    import scipy.sparse

    w, lengths = _sparse_case()
    bad = w.copy()
    bad[3, 2] = -1.5
    scipy.sparse.save_npz(tmp_path / "neg.npz", scipy.sparse.csr_array(bad))
    scipy.sparse.save_npz(tmp_path / "l.npz", scipy.sparse.csr_array(lengths))
    with pytest.raises(ConnectomeError, match=r"neg\.npz.*weights must be >= 0.*\[3, 2\] = -1\.5"):
        load_connectome({"weights": "neg.npz", "lengths": "l.npz"}, base_dir=tmp_path)
    np.savez(tmp_path / "plain.npz", w=w)
    with pytest.raises(ConnectomeError, match=r"plain\.npz.*scipy\.sparse"):
        load_connectome({"weights": "plain.npz", "lengths": "l.npz"}, base_dir=tmp_path)
    scipy.sparse.save_npz(tmp_path / "rect.npz", scipy.sparse.csr_array(np.ones((3, 4))))
    with pytest.raises(ConnectomeError, match=r"rect\.npz.*square.*\(3, 4\)"):
        load_connectome({"weights": "rect.npz", "lengths": "l.npz"}, base_dir=tmp_path)

    def table(text: str, **extra):
        (tmp_path / "e.csv").write_text(text)
        return load_connectome({"edges": "e.csv", **extra}, base_dir=tmp_path)

    with pytest.raises(ConnectomeError, match=r"e\.csv.*lacks the column\(s\) \['length_mm'\]"):
        table("from,to,weight\n0,1,1\n")
    with pytest.raises(ConnectomeError, match=r"e\.csv, line 3: weight 'x' is not a number"):
        table("from,to,weight,length_mm\n0,1,1,10\n1,0,x,10\n")
    with pytest.raises(ConnectomeError, match=r"e\.csv, line 2: 'to' region 'zz' is not an index"):
        table("from,to,weight,length_mm\na,zz,1,10\n", labels=["a", "b"])
    with pytest.raises(ConnectomeError, match=r"e\.csv: the connection from region 0 onto 1 is"):
        table("from,to,weight,length_mm\n0,1,1,10\n0,1,2,10\n")
    with pytest.raises(ConnectomeError, match=r"e\.csv: tract lengths.*-4\.0.*0 -> 1 \(line 2\)"):
        table("from,to,weight,length_mm\n0,1,1,-4\n")
    with pytest.raises(ConnectomeError, match=r"e\.csv: region index 5 .*out of range.*2 labels"):
        table("from,to,weight,length_mm\n0,5,1,10\n", labels=["a", "b"])
    with pytest.raises(ConnectomeError, match="'edges' gives the weights and lengths"):
        load_connectome({"edges": "e.csv", "weights": "w.npy"}, base_dir=tmp_path)


def test_delay_matrix_holds_the_dense_delays(tvb76):
    d = tvb76.delay_matrix(3.0, 0.1)
    np.testing.assert_array_equal(d.toarray(), tvb76.delay_steps(3.0, 0.1))
    dense = np.rint(tvb76.lengths_mm / 3.0 / 0.1).astype(np.int64)  # TVB's idelays
    np.testing.assert_array_equal(d.toarray(), dense)
    # every weighted pair is stored, zero delays included (the co-simulation may clamp them)
    w = tvb76.weights_sparse
    assert np.isin(w.keys(), d.keys()).all()
    assert tvb76.n_edges == np.count_nonzero(tvb76.weights)
