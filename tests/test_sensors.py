"""Fast tests of multiscale.sensors: types, loader, rules, units (see docs/sensors.md)."""

import numpy as np
import pytest

from multiscale.connectome import Connectome, load_connectome
from multiscale.sensors import ForwardModelError, Gain, SensorSet, forward_model, gain_file
from multiscale.sensors.seeg import point_dipole_gain


@pytest.fixture(scope="module")
def tvb76():
    return load_connectome("tvb76")


@pytest.fixture(scope="module")
def eeg76(tvb76):
    return forward_model("sphere", tvb76)


def test_default_sphere_eeg_units_shape_and_frame(tvb76, eeg76):
    assert eeg76.unit == "V/(A m)" and eeg76.kind == "eeg"
    assert eeg76.matrix.shape == (94, 76) and eeg76.regions == tvb76.labels
    rr = np.array(eeg76.parameters["dipole_positions_m"])
    c = np.array(eeg76.parameters["sphere_centre_m"])
    left = [i for i, lab in enumerate(tvb76.labels) if lab.startswith("l")]
    right = [i for i, lab in enumerate(tvb76.labels) if lab.startswith("r")]
    # MNE head: x right; TVB: y left
    assert (rr[left, 0] < c[0]).mean() > 0.9 and (rr[right, 0] > c[0]).mean() > 0.9
    assert (
        np.linalg.norm(rr - c, axis=1).max() <= 0.8 * 0.9 * eeg76.parameters["head_radius_m"] + 1e-9
    )


def test_eeg_magnitude_anchor(eeg76):
    """10 nA m (Hamalainen et al. 1993) at a region centre: 0.1-10 uV at the peak electrode."""
    peak_uV = np.abs(eeg76.average_referenced()).max(axis=0) * 10e-9 * 1e6
    assert 0.1 < np.median(peak_uV) < 10


@pytest.mark.parametrize("name", ["tvb66", "tvb96", "tvb192"])
def test_sphere_works_for_every_connectome_with_centres(name):
    c = load_connectome(name)
    g = forward_model("sphere:standard_1005", c)
    assert g.matrix.shape[1] == c.n_regions and np.isfinite(g.matrix).all()
    if c.cortical is not None:
        assert np.all(g.matrix[:, ~c.cortical] == 0)  # closed-field rule, factor 0


def test_missing_centres_named():
    c = Connectome("bare", ["a", "b"], np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(ForwardModelError, match="needs region centres.*'bare'"):
        forward_model("sphere", c)


def test_unknown_model_and_montage(tvb76):
    with pytest.raises(ForwardModelError, match="unknown forward model"):
        forward_model("bogus", tvb76)
    with pytest.raises(ForwardModelError, match="no EEG montage"):
        forward_model("sphere:nope", tvb76)


def test_tvb65_only_for_mapped_connectomes(tvb76):
    g = forward_model("tvb65", tvb76)
    assert g.matrix.shape == (63, 76) and g.unit == "V/(A m)"
    with pytest.raises(ForwardModelError, match="tvb76 or tvb192"):
        forward_model("tvb65", load_connectome("tvb96"))


def test_tvb276_meg(tvb76):
    g = forward_model("tvb276", tvb76)
    assert g.matrix.shape == (248, 76) and g.unit == "T/(A m)"


def test_point_dipole_formula_sign_and_guard():
    p = np.array([[0.0, 0.0, 1.0]])
    contacts = np.array([[0, 0, 0.01], [0, 0, -0.01], [0.01, 0, 0], [0, 0, 0.0]])
    g = point_dipole_gain(contacts, np.zeros((1, 3)), p, sigma=0.33, min_distance_m=0.005)
    expected = 0.01 / (4 * np.pi * 0.33 * 0.01**3)
    assert g[0, 0] == pytest.approx(expected) and g[1, 0] == pytest.approx(-expected)
    assert g[2, 0] == 0 and g[3, 0] == 0  # equatorial plane; contact at the source


def test_seeg_tvb_and_file(tmp_path, tvb76):
    g = forward_model("seeg:tvb", tvb76)
    assert g.matrix.shape == (588, 76) and g.unit == "V/(A m)"
    f = tmp_path / "contacts.txt"
    f.write_text("A1 0 0 0\nA2 10 0 0\n")
    assert forward_model(f"seeg:{f}", tvb76).channels == ["A1", "A2"]


def test_gain_file_needs_unit(tmp_path, tvb76):
    path = tmp_path / "g.npy"
    np.save(path, np.ones((3, 76)))
    with pytest.raises(ForwardModelError, match="give its unit"):
        forward_model(f"file:{path}", tvb76)
    g = forward_model(f"file:{path}", tvb76, unit="T/(A m)", sensor_kind="meg")
    assert g.sensors.signal_unit == "T"


def test_gain_checks_unit_and_shape():
    s = SensorSet(["a"], "eeg", [[0, 0, 0]], "mne_head")
    with pytest.raises(ForwardModelError, match="does not match"):
        Gain(s, np.ones((1, 2)), ["r1", "r2"], "T/(A m)", "test")
    with pytest.raises(ForwardModelError, match="expected"):
        Gain(s, np.ones((2, 2)), ["r1", "r2"], "V/(A m)", "test")
    g = Gain(s, [[1.0, 2.0]], ["r1", "r2"], "V/(A m)", "test")
    assert g.signals(np.array([[1e-9, 0.0]]))[0, 0] == pytest.approx(1e-9)


# --- user gain files ------------------------------------------------------------------
def test_gain_file_npy_and_npz(tmp_path, tvb76):
    gain = np.random.default_rng(2).normal(size=(5, 76))
    np.save(tmp_path / "g.npy", gain)
    g = gain_file("g.npy", tvb76, "V/(A m)", base_dir=tmp_path)
    assert g.channels == ["E1", "E2", "E3", "E4", "E5"] and g.sensors.frame == "unknown"
    np.testing.assert_array_equal(g.matrix, gain)

    gain[2] = np.nan  # an unused channel: dropped, as IO1/IO2 in TVB's projection
    np.savez(tmp_path / "g.npz", gain=gain, channels=np.array(list("abcde")))
    g = gain_file(tmp_path / "g.npz", tvb76, "V/(A m)")
    assert g.channels == ["a", "b", "d", "e"] and g.matrix.shape == (4, 76)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("nothere.npy", None, r"nothere\.npy does not exist"),
        ("wrong.npy", np.ones((5, 68)), r"wrong\.npy.*\(5, 68\).*76 regions"),
        ("transposed.npy", np.ones((76, 5)), "transposed"),
        ("nogain.npz", {"g": np.ones((5, 76))}, r"nogain\.npz.*'gain'"),
        ("names.npz", {"gain": np.ones((5, 76)), "channels": ["a", "b"]}, "2 channel names"),
        ("partial.npy", np.where(np.eye(5, 76) > 0, np.nan, 1.0), r"partial\.npy.*NaN"),
        ("g.mat", b"", r"\.npy or \.npz"),
    ],
)
def test_gain_file_errors_name_the_file(tmp_path, tvb76, name, content, message):
    path = tmp_path / name
    if isinstance(content, dict):
        np.savez(path, **{k: np.asarray(v) for k, v in content.items()})
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        np.save(path, content)
    with pytest.raises(ForwardModelError, match=message):
        gain_file(path, tvb76, "V/(A m)")


@pytest.mark.parametrize("region", ["rV1", "lV1"])
def test_visual_cortex_projects_to_occipital_electrodes(tvb76, region):
    for model in ("tvb65", "sphere"):
        g = forward_model(model, tvb76)
        ref = g.average_referenced()[:, tvb76.index(region)]
        nearest = {g.channels[c] for c in np.argsort(-np.abs(ref))[:3]}
        assert all(c.startswith(("O", "PO", "I")) for c in nearest), (model, nearest)


# --- sources in nA m ------------------------------------------------------------------
def test_mass_sources_follow_area_and_moment_density(tvb76):
    from multiscale.regions import JansenRit
    from multiscale.sources import MAX_MOMENT_DENSITY, source_model

    sm = source_model(tvb76, JansenRit, {})
    # a region at full scale above rest has the physiological maximum density
    full = np.full((1, 76), JansenRit.DIPOLE.rest + JansenRit.DIPOLE.full_scale)
    np.testing.assert_allclose(sm.moments(full)[0], tvb76.areas_mm2 * MAX_MOMENT_DENSITY)
    assert sm.moments(np.zeros((1, 76)))[0, tvb76.index("rM1")] == 0.0  # PSP 0 = rest
    # without areas: every region gets the default area
    no_areas = load_connectome("tvb68")
    sm = source_model(no_areas, JansenRit, {})
    assert np.all(sm.areas_mm2 == 2581.0)


def test_circuit_source_scale_is_sqrt_of_cells(tvb76):
    from multiscale.sources import DIPOLE_LENGTH_M, NEURONS_PER_MM2, circuit_scale

    area, n, g_l = 1000.0, 800, 25.0
    big = area * NEURONS_PER_MM2 * 0.8
    # 1 mV of proxy = g_L x 1 mV = 25 pA per cell; sqrt(N n) cells' worth of 0.5 mm
    expected = np.sqrt(big * n) * DIPOLE_LENGTH_M * 25e-12 * 1e9
    assert circuit_scale(area, n, 0.8, g_l) == pytest.approx(expected, rel=1e-12)
    assert circuit_scale(4 * area, n, 0.8, g_l) == pytest.approx(2 * expected, rel=1e-12)
