"""Sensor export (multiscale/export.py, ``multiscale export``): every format is read back
by MNE's own readers and compared with the stored data, channels, units, positions and
annotations; bad inputs and existing files give exit code 2 with one line."""

from __future__ import annotations

import warnings
from pathlib import Path

import h5py
import mne
import numpy as np
import pytest
import sensor_files as sf

from multiscale.cli import main
from multiscale.export import IncompleteWarning, export, to_raw
from multiscale.outputs import OutputError
from multiscale.result import Result
from multiscale.stimuli import pulse_trains

#: the annotations every kind carries (onset s, duration s, description), sorted
ANNOTATIONS = [
    (0.5, 0.0, "start: gaba_loss (a[V1,V2] = [0.5, 0.5])"),
    (0.8, 0.4, "stimulus on: tone (V1.y4: step of 0.05)"),
    (1.0, 0.0, "stimulus on: volley (v1.L4e: pulses of 5 ms at 4 Hz)"),
] + [(t, 0.005, "pulse: volley") for t in sf.PULSES_S]

SCALE = {"eeg": 1e-6, "meg": 1e-15, "seeg": 1e-6}  # file unit -> SI
READERS = {
    "fif": lambda p: mne.io.read_raw_fif(p, preload=True, verbose=False),
    "edf": lambda p: mne.io.read_raw_edf(p, preload=True, infer_types=True, verbose=False),
    "brainvision": lambda p: mne.io.read_raw_brainvision(p, preload=True, verbose=False),
    "eeglab": lambda p: mne.io.read_raw_eeglab(p, preload=True, verbose=False),
}


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return sf.write_sensor_file(tmp_path_factory.mktemp("sensors") / "X.h5")


def stored(path: Path, kind: str) -> np.ndarray:
    """(channels, samples) in SI, as the file holds it."""
    with h5py.File(path, "r") as f:
        return f[f"{kind}/data"][()].T * SCALE[kind]


def rows(raw: mne.io.BaseRaw) -> list[tuple[float, float, str]]:
    a = raw.annotations
    return [
        (float(o), float(d), str(x))
        for o, d, x in zip(a.onset, a.duration, a.description, strict=True)
    ]


def assert_annotations(got, want, tol_s: float) -> None:
    assert [g[2] for g in got] == [w[2] for w in want]
    assert np.allclose([g[:2] for g in got], [w[:2] for w in want], atol=tol_s, rtol=0)


# --- to_raw ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "types", "unit"),
    [("eeg", "eeg", "V"), ("meg", "mag", "T"), ("seeg", "seeg", "V")],
)
def test_to_raw_is_the_stored_data_in_si(out, kind, types, unit):
    raw = to_raw(out, kind)
    names = {"eeg": sf.EEG, "meg": sf.MEG, "seeg": sf.SEEG}[kind]
    assert raw.ch_names == names
    assert raw.get_channel_types() == [types] * len(names)
    assert raw.info["sfreq"] == sf.SFREQ
    assert {mne.io.constants.FIFF.FIFF_UNIT_V: "V", 112: "T"}[raw.info["chs"][0]["unit"]] == unit
    np.testing.assert_array_equal(raw.get_data(), stored(out, kind))  # exact: x 1e-6 in f8
    assert raw.info["meas_date"] is None
    assert "'sensor fixture', seed 7" in raw.info["description"]
    assert_annotations(rows(raw), ANNOTATIONS, 1e-12)  # the checkpoint row is left out


def test_positions_in_head_frame_and_meg_coils(out):
    eeg = np.array([ch["loc"][:3] for ch in to_raw(out, "eeg").info["chs"]])
    np.testing.assert_allclose(eeg, np.array(sf.EEG_MM) / 1000, atol=1e-9)  # mne_head
    seeg = np.array([ch["loc"][:3] for ch in to_raw(out, "seeg").info["chs"]])
    tvb = np.array(sf.SEEG_MM) / 1000  # x anterior, y left -> x right, y anterior
    np.testing.assert_allclose(seeg, np.c_[-tvb[:, 1], tvb[:, 0], tvb[:, 2]], atol=1e-9)
    meg = to_raw(out, "meg").info
    normals = np.array(sf.MEG_NORMALS) / np.linalg.norm(sf.MEG_NORMALS, axis=1)[:, None]
    for ch, pos, n in zip(meg["chs"], sf.MEG_MM, normals, strict=True):
        np.testing.assert_allclose(ch["loc"][:3], np.array(pos) / 1000)
        np.testing.assert_allclose(ch["loc"][9:12], n)
        ex, ey = ch["loc"][3:6], ch["loc"][6:9]
        np.testing.assert_allclose(np.cross(ex, ey), n, atol=1e-12)  # right-handed coil frame
        assert ch["coil_type"] == mne.io.constants.FIFF.FIFFV_COIL_POINT_MAGNETOMETER
    np.testing.assert_array_equal(meg["dev_head_t"]["trans"], np.eye(4))


def test_tvb_sensor_positions_take_the_10_20_template_and_unknown_none(tmp_path):
    raw = to_raw(sf.write_sensor_file(tmp_path / "tvb.h5", ("eeg",), eeg_frame="tvb_sensors"))
    # the template's Cz, in MNE head coordinates, is near the vertex: about 9-10 cm up
    cz = raw.info["chs"][sf.EEG.index("Cz")]["loc"][:3]
    assert abs(cz[0]) < 0.01 and cz[2] > 0.08
    assert not np.allclose(cz, np.array(sf.EEG_MM[1]) / 1000)  # not the file's position
    raw = to_raw(sf.write_sensor_file(tmp_path / "none.h5", ("eeg",), eeg_frame="unknown"))
    assert np.isnan(raw.info["chs"][0]["loc"][:3]).all() and raw.get_montage() is None


def test_result_to_raw_is_export_to_raw(out):
    np.testing.assert_array_equal(Result(out).to_raw("seeg").get_data(), stored(out, "seeg"))


def test_pulse_times_follow_frequency_until_and_the_end():
    config = (
        "stimuli:\n"
        "  - {name: a, circuit: c, population: p, frequency: 10 Hz, width: 1 ms, at: 0.1 s,"
        " until: 350 ms}\n"
        "  - {name: b, regions: [V1], kind: pulse_train, frequency: 2 Hz, width: 2 ms}\n"
        "  - {name: s, regions: [V1], kind: step, at: 0 s}\n"
    )
    trains = pulse_trains(config, end_ms=1200.0)  # b from 0 s (no at), to the end (no until)
    assert [(t.name, t.width_ms) for t in trains] == [("a", 1.0), ("b", 2.0)]
    got = [(t / 1000, train.name) for train in trains for t in train.onsets_ms]
    assert sorted((round(t, 9), n) for t, n in got) == [
        (0.0, "b"),
        (0.1, "a"),
        (0.2, "a"),
        (0.3, "a"),
        (0.5, "b"),
        (1.0, "b"),
    ]


# --- files, read back by MNE -------------------------------------------------------------
#: (format, kind, max |error| / channel's peak-to-peak, onset tolerance s, MNE's type back)
CASES = [
    ("fif", "eeg", 0.0, 1e-6, "eeg"),  # data float64; annotation times float32
    ("fif", "meg", 0.0, 1e-6, "mag"),
    ("fif", "seeg", 0.0, 1e-6, "seeg"),
    # EDF: 16 bits over each channel's own range: half a step is 1 / 131068 = 7.63e-6
    ("edf", "eeg", 1 / 65534, 0.0, "eeg"),
    ("edf", "seeg", 1 / 65534, 0.0, "seeg"),
    # BrainVision and EEGLAB: float32 (relative 6e-8 of the value)
    ("brainvision", "eeg", 1e-7, 1 / sf.SFREQ, "eeg"),  # markers are in whole samples
    ("brainvision", "seeg", 1e-7, 1 / sf.SFREQ, "eeg"),  # no channel types in the format
    ("eeglab", "eeg", 1e-7, 1e-9, "eeg"),
    ("eeglab", "seeg", 1e-7, 1e-9, "seeg"),
]


@pytest.mark.parametrize(("fmt", "kind", "tol", "onset_tol", "type_back"), CASES)
def test_each_format_reads_back_in_mne(out, tmp_path, fmt, kind, tol, onset_tol, type_back):
    ending = {"fif": "_raw.fif", "edf": ".edf", "brainvision": ".vhdr", "eeglab": ".set"}[fmt]
    written = export(out, fmt, tmp_path / f"x_{kind}{ending}", kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # readers' notes (EEGLAB's head-radius guess)
        back = READERS[fmt](written)
    want = stored(out, kind)
    names = {"eeg": sf.EEG, "meg": sf.MEG, "seeg": sf.SEEG}[kind]
    assert back.ch_names == names
    assert back.get_channel_types() == [type_back] * len(names)
    assert back.info["sfreq"] == sf.SFREQ
    assert back.n_times == want.shape[1]
    error = np.abs(back.get_data() - want).max(axis=1) / np.ptp(want, axis=1)
    assert error.max() <= tol, error
    unit = "T" if kind == "meg" else "V"
    assert all(ch["unit"] == {"V": 107, "T": 112}[unit] for ch in back.info["chs"])
    got = rows(back)
    if fmt == "brainvision":  # MNE's reader prefixes the marker type
        got = [(o, d, x.removeprefix("Comment/")) for o, d, x in got]
    assert_annotations(got, ANNOTATIONS, onset_tol)
    pos = np.array([ch["loc"][:3] for ch in back.info["chs"]])
    if fmt in ("fif", "eeglab"):  # the formats that hold positions
        ref = np.array([ch["loc"][:3] for ch in to_raw(out, kind).info["chs"]])
        np.testing.assert_allclose(pos, ref, atol=1e-6)
    else:
        assert np.isnan(pos).all() or not pos.any()


def test_edf_keeps_uv_and_16_bit_error_is_half_a_step(out, tmp_path):
    import edfio

    path = export(out, "edf", tmp_path / "x.edf")
    edf = edfio.read_edf(path)
    assert [s.physical_dimension for s in edf.signals] == ["uV"] * len(sf.EEG)
    assert [s.label for s in edf.signals] == [f"EEG {n}" for n in sf.EEG]
    want = stored(out, "eeg") * 1e6  # uV
    for s, w in zip(edf.signals, want, strict=True):
        step = (s.physical_max - s.physical_min) / (s.digital_max - s.digital_min)
        assert np.abs(s.data[: len(w)] - w).max() <= 0.5 * step * (1 + 1e-6)


def test_brainvision_and_eeglab_state_their_units(out, tmp_path):
    vhdr = export(out, "brainvision", tmp_path / "x.vhdr")
    assert "µV" in vhdr.read_text(encoding="utf-8")
    assert {p.suffix for p in tmp_path.iterdir()} == {".vhdr", ".vmrk", ".eeg"}
    back = mne.io.read_raw_brainvision(vhdr, verbose=False)
    assert set(back._orig_units.values()) == {"µV"}


# --- the command -------------------------------------------------------------------------
def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["export", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_writes_beside_the_output_and_refuses_to_overwrite(out, tmp_path, capsys):
    src = tmp_path / "Y.h5"
    src.write_bytes(out.read_bytes())
    code, printed, _ = run_cli(capsys, src, "--format", "edf")
    assert code == 0 and printed.strip() == str(tmp_path / "Y_eeg.edf")
    first = (tmp_path / "Y_eeg.edf").read_bytes()
    code, _, err = run_cli(capsys, src, "--format", "edf")
    assert code == 2 and err.count("\n") == 1 and "already exists; pass --overwrite" in err
    assert (tmp_path / "Y_eeg.edf").read_bytes() == first
    code, _, _ = run_cli(capsys, src, "--format", "edf", "--overwrite")
    assert code == 0
    code, printed, _ = run_cli(capsys, src, "--format", "fif", "--kind", "meg")
    assert code == 0 and printed.strip().endswith("Y_meg_raw.fif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Y.h5", "Y_eeg.edf", "Y_meg_raw.fif"]


def test_cli_never_writes_over_the_input_or_another_output(out, tmp_path, capsys):
    other = tmp_path / "other.set"
    other.write_bytes(out.read_bytes())  # an output of multiscale under an export's name
    code, _, err = run_cli(capsys, out, "--format", "eeglab", "-o", other, "--overwrite")
    assert code == 2 and "not an export; refusing" in err and str(other) in err
    assert other.read_bytes() == out.read_bytes()
    code, _, err = run_cli(capsys, out, "--format", "fif", "-o", out, "--overwrite")
    assert code == 2 and "must end in .fif" in err
    vmrk = tmp_path / "z.vmrk"
    vmrk.write_text("someone's markers")  # BrainVision writes z.vhdr, z.vmrk and z.eeg
    code, _, err = run_cli(capsys, out, "--format", "brainvision", "-o", tmp_path / "z.vhdr")
    assert code == 2 and f"{vmrk}: already exists" in err
    assert vmrk.read_text() == "someone's markers" and not (tmp_path / "z.vhdr").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.h5", "--format", "fif"], "missing.h5: no such file"),
        (["{out}", "--format", "csv"], "{out}: unknown export format 'csv'"),
        (["{out}", "--format", "fif", "--kind", "ecog"], "{out}: unknown sensor kind 'ecog'"),
        (["{only_eeg}", "--format", "fif", "--kind", "meg"], "{only_eeg}: no meg recorded"),
        (["{out}", "--format", "edf", "--kind", "meg"], "{out}: edf holds electric potentials"),
        (["{text}", "--format", "fif"], "{text}: not a readable HDF5 file"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(out, tmp_path, capsys, args, message):
    only_eeg = tmp_path / "only_eeg.h5"
    if "{only_eeg}" in args:
        sf.write_sensor_file(only_eeg, ("eeg",))
    text = tmp_path / "notes.h5"
    text.write_text("not hdf5")
    names = {"out": out, "only_eeg": only_eeg, "text": text}
    code, printed, err = run_cli(capsys, *[a.format(**names) for a in args])
    assert code == 2 and printed == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert message.format(**names) in err
    assert list(tmp_path.glob("*_raw.fif")) == [] and list(tmp_path.glob(".*")) == []


def test_incomplete_run_exports_with_a_warning(tmp_path, capsys):
    src = sf.write_sensor_file(tmp_path / "cut.h5", ("eeg",), complete=False, n_samples=300)
    code, printed, err = run_cli(capsys, src, "--format", "fif")
    assert code == 0 and printed.strip().endswith("cut_eeg_raw.fif")
    assert err.strip() == f"warning: {src}: the run did not finish; exporting the 1.2 s it holds"
    back = mne.io.read_raw_fif(printed.strip(), verbose=False)
    assert back.n_times == 300
    assert "incomplete run: ends at 1.2 s" in back.annotations.description
    assert list(back.annotations.description).count("pulse: volley") == 1  # 1.0 s only
    with pytest.warns(IncompleteWarning):
        to_raw(src)
    # EDF's records are 1 s: the last is padded with the last value, marked BAD_ACQ_SKIP
    code, printed, err = run_cli(capsys, src, "--format", "edf")
    assert code == 0 and "0.8 s of the last values appended" in err
    edf = mne.io.read_raw_edf(printed.strip(), infer_types=True, verbose=False)
    assert edf.n_times == 500
    skip = [r for r in rows(edf) if r[2] == "BAD_ACQ_SKIP"]
    assert np.allclose(skip[0][:2], (1.2, 0.8))


def test_what_a_format_cannot_hold_and_an_empty_recording_are_one_line(out, tmp_path, capsys):
    src = tmp_path / "long.h5"
    src.write_bytes(out.read_bytes())
    with h5py.File(src, "r+") as f:  # EDF labels are 16 characters: "SEEG " + 12 is 17
        f["seeg/data"].attrs["channels"] = ["contact_long_1", "A2"]
    code, _, err = run_cli(capsys, src, "--format", "edf", "--kind", "seeg")
    assert code == 2 and "edf cannot hold this recording: Signal label" in err
    assert err.count("\n") == 1 and sorted(p.name for p in tmp_path.iterdir()) == ["long.h5"]
    empty = sf.write_sensor_file(tmp_path / "empty.h5", ("eeg",), complete=False, n_samples=0)
    code, _, err = run_cli(capsys, empty, "--format", "fif")
    assert code == 2 and "eeg/data holds no samples yet" in err


def test_a_recording_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    import multiscale.resources

    path = sf.write_sensor_file(tmp_path / "big.h5", ("eeg",))
    monkeypatch.setattr(multiscale.resources, "available_memory", lambda: 1000)
    with pytest.raises(OutputError, match=r"big\.h5: exporting eeg .* needs about .* memory"):
        to_raw(path)


def test_a_full_disk_is_a_write_error_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    import multiscale.export
    from multiscale.storage import WriteError

    path = sf.write_sensor_file(tmp_path / "run.h5", ("eeg",))

    def full(raw, out, fmt, reference):
        out.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(multiscale.export, "_write", full)
    with pytest.raises(WriteError, match=r"run_eeg_raw\.fif: cannot write it \(the disk is full\)"):
        export(path, "fif")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.h5"]
