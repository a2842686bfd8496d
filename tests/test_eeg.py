import numpy as np
import pytest

from multiscale.connectome import Connectome, load_connectome, tvb_data_dir
from multiscale.eeg import (
    LeadFieldError,
    average_reference,
    load_leadfield,
    sensor_eeg,
    tvb_eeg65_leadfield,
)

OCCIPITAL = {"O1", "O2", "Oz", "Iz", "PO3", "PO4", "POz", "PO7", "PO8"}


@pytest.fixture(scope="module")
def tvb76() -> Connectome:
    return load_connectome("tvb76")


@pytest.fixture(scope="module")
def lead(tvb76):
    return tvb_eeg65_leadfield(tvb76)


def test_tvb_leadfield_shape_and_channels(lead):
    assert lead.gain.shape == (63, 76)
    assert not np.isnan(lead.gain).any()
    assert len(lead.channels) == 63 and lead.positions_mm.shape == (63, 3)
    assert "IO1" not in lead.channels and "IO2" not in lead.channels
    assert lead.channels[:3] == ["Fp1", "Fp2", "F4"]
    assert "arbitrary" in lead.source


def test_tvb_leadfield_column_is_vertex_sum(tvb76, lead):
    root = tvb_data_dir()
    projection = np.load(root / "projectionMatrix" / "projection_eeg_65_surface_16k.npy")
    mapping = np.loadtxt(root / "regionMapping" / "regionMapping_16k_76.txt").astype(int)
    sensors = (root / "sensors" / "eeg_brainstorm_65.txt").read_text().splitlines()
    names = [line.split()[0] for line in sensors]
    r = tvb76.index("lM1")
    expected = projection[:, mapping == r].sum(axis=1)
    rows = [names.index(c) for c in lead.channels]
    np.testing.assert_allclose(lead.gain[:, r], expected[rows], rtol=1e-12)


def test_tvb_leadfield_returns_copies(tvb76):
    first = tvb_eeg65_leadfield(tvb76)
    first.gain[0, 0] = 1e9
    assert tvb_eeg65_leadfield(tvb76).gain[0, 0] != 1e9


@pytest.mark.parametrize("region", ["rV1", "lV1"])
def test_visual_cortex_projects_to_occipital_electrodes(tvb76, lead, region):
    nearest = [lead.channels[c] for c in lead.nearest_channels(tvb76.index(region), 3)]
    assert set(nearest) <= OCCIPITAL, nearest
    # "farthest" means smallest |gain|, not distance: for rV1 it includes POz, on the
    # zero line of the medial-wall dipole, so no spatial claim is made about it here.


def test_nearest_farthest_order(lead):
    order = lead.nearest_channels(0, lead.n_channels)
    assert order[::-1] == lead.farthest_channels(0, lead.n_channels)
    magnitudes = np.abs(lead.gain[order, 0])
    assert np.all(np.diff(magnitudes) <= 0)
    with pytest.raises(ValueError):
        lead.nearest_channels(0, 0)
    with pytest.raises(ValueError):
        lead.nearest_channels(76, 1)


def test_tvb_leadfield_rejects_other_connectomes(tvb76):
    with pytest.raises(ValueError, match="lead field file"):
        tvb_eeg65_leadfield(load_connectome("tvb68"))
    renamed = tvb76.subset(range(76))
    renamed.labels[0] = "X"
    with pytest.raises(ValueError, match="lead field file"):
        tvb_eeg65_leadfield(renamed)


def test_average_reference():
    eeg = np.random.default_rng(0).normal(size=(100, 8)) + 5.0
    ref = average_reference(eeg)
    np.testing.assert_allclose(ref.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(ref - ref[:, :1], eeg - eeg[:, :1])


def test_sensor_eeg_matches_reference_after_projection(lead):
    sources = np.random.default_rng(1).normal(size=(500, 76))
    eeg = sensor_eeg(lead.gain, sources)
    assert eeg.shape == (500, 63)
    scale = np.abs(eeg).max()
    np.testing.assert_allclose(eeg, average_reference(sources @ lead.gain.T), atol=1e-12 * scale)
    np.testing.assert_allclose(eeg.mean(axis=1), 0.0, atol=1e-12 * scale)
    with pytest.raises(ValueError, match="76 regions"):
        sensor_eeg(lead.gain, sources[:, :10])


def test_load_leadfield_npy_and_npz(tmp_path, tvb76):
    gain = np.random.default_rng(2).normal(size=(5, 76))
    np.save(tmp_path / "g.npy", gain)
    lf = load_leadfield("g.npy", tvb76, base_dir=tmp_path)
    assert lf.channels == ["E1", "E2", "E3", "E4", "E5"] and lf.positions_mm is None
    np.testing.assert_array_equal(lf.gain, gain)

    gain[2] = np.nan  # an unused channel: dropped, as IO1/IO2 in TVB's gain
    np.savez(tmp_path / "g.npz", gain=gain, channels=np.array(list("abcde")))
    lf = load_leadfield(tmp_path / "g.npz", tvb76)
    assert lf.channels == ["a", "b", "d", "e"] and lf.gain.shape == (4, 76)


def test_load_leadfield_errors(tmp_path, tvb76):
    with pytest.raises(LeadFieldError, match="nothere.npy"):
        load_leadfield("nothere.npy", tvb76, base_dir=tmp_path)

    np.save(tmp_path / "wrong.npy", np.ones((5, 68)))
    with pytest.raises(LeadFieldError, match=r"wrong\.npy.*\(5, 68\).*76 regions"):
        load_leadfield(tmp_path / "wrong.npy", tvb76)

    np.save(tmp_path / "transposed.npy", np.ones((76, 5)))
    with pytest.raises(LeadFieldError, match="transposed"):
        load_leadfield(tmp_path / "transposed.npy", tvb76)

    np.savez(tmp_path / "nogain.npz", g=np.ones((5, 76)))
    with pytest.raises(LeadFieldError, match=r"nogain\.npz.*'gain'"):
        load_leadfield(tmp_path / "nogain.npz", tvb76)

    np.savez(tmp_path / "names.npz", gain=np.ones((5, 76)), channels=np.array(["a", "b"]))
    with pytest.raises(LeadFieldError, match=r"names\.npz.*2 channel names for 5"):
        load_leadfield(tmp_path / "names.npz", tvb76)

    partial = np.ones((5, 76))
    partial[1, 3] = np.nan
    np.save(tmp_path / "partial.npy", partial)
    with pytest.raises(LeadFieldError, match=r"partial\.npy.*NaN"):
        load_leadfield(tmp_path / "partial.npy", tvb76)

    (tmp_path / "g.mat").write_bytes(b"")
    with pytest.raises(LeadFieldError, match=r"\.npy or \.npz"):
        load_leadfield(tmp_path / "g.mat", tvb76)
