"""record.eeg / meg / seeg in an experiment: what each records, in which unit, and the
messages for what cannot be recorded (before anything runs)."""

from pathlib import Path

import h5py
import mne
import numpy as np
import pytest
from experiment_harness import write_tiny_connectome

import multiscale as ms
from multiscale.config import ConfigError
from multiscale.export import export

TVB76 = {"source": "tvb76", "conduction_speed": "3 m/s"}


def masses(**record) -> dict:
    return {
        "name": "rec",
        "seed": 1,
        "duration": "300 ms",
        "connectome": TVB76,
        "regions": {"model": "jansen_rit", "parameter_set": "jansen_rit_1995"},
        "record": record,
        "output": {"figures": False},
    }


def problems(data: dict, base_dir: Path | str = ".") -> str:
    with pytest.raises(ConfigError) as err:
        ms.experiment(data, base_dir=base_dir)
    return str(err.value)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"eeg": "tvb276"},
            "record.eeg: got 'tvb276', a MEG forward model; put it under record.meg",
        ),
        ({"eeg": None, "meg": "sphere"}, "record.meg: got 'sphere', a EEG forward model"),
        ({"eeg": "tvb64"}, "record.eeg: got 'tvb64'; unknown forward model"),
        ({"eeg": "sphere:nosuchcap"}, "record.eeg: got 'sphere:nosuchcap'"),
        ({"seeg": "contacts.txt"}, "contacts.txt"),
        ({"eeg": "gain.npz"}, "a gain file needs its unit: record.eeg: {file: gain.npz"),
        ({"eeg": {"file": "gain.npz"}}, "record.eeg.unit: got (missing)"),
        ({"meg": {"file": "gain.npz", "unit": "V/(A m)"}}, "record.meg.unit: got 'V/(A m)'"),
        ({"eeg": 3}, "record.eeg: got 3; expected a forward model name"),
    ],
)
def test_what_cannot_be_recorded_is_named(record, message):
    assert message in problems(masses(**record))


def test_a_model_without_a_dipole_declaration_is_named(tmp_path):
    (tmp_path / "nodipole.py").write_text(
        "from multiscale.regions import WilsonCowan\n\n\n"
        "class NoDipole(WilsonCowan):\n    NAME = 'no_dipole'\n    DIPOLE = None\n"
    )
    data = masses(eeg="sphere")
    data["regions"] = {"model": "nodipole.py:NoDipole"}
    assert "declares no DIPOLE" in problems(data, tmp_path)
    data["record"] = {"eeg": None, "sources": False}  # nothing needs it: runs
    ms.experiment(data, base_dir=tmp_path)


@pytest.mark.filterwarnings("ignore:.*EDF holds whole 1 s records")  # padded, marked
def test_every_kind_recorded_in_its_unit(tmp_path):
    exp = ms.experiment(masses(eeg="sphere", meg="sphere_meg", seeg="tvb"))
    result = ms.run(exp, tmp_path / "rec.h5")
    units = {k: getattr(result, k).unit for k in ("eeg", "meg", "seeg", "sources")}
    assert units == {"eeg": "uV", "meg": "fT", "seeg": "uV", "sources": "nA m"}
    with h5py.File(tmp_path / "rec.h5") as f:
        moments = f["sources/data"][:]
        for kind, factor in (("eeg", 1e-3), ("meg", 1e6), ("seeg", 1e-3)):
            gain = f[f"{kind}/gain"][:]
            if kind == "eeg":
                gain = gain - gain.mean(axis=0)
            # nA m x 1e-9 x gain (V or T per A m) x 1e6 (uV) or 1e15 (fT)
            expected = moments @ gain.T * factor
            scale = np.abs(expected).max()
            np.testing.assert_allclose(f[f"{kind}/data"][:], expected, rtol=0, atol=1e-12 * scale)
            assert f[f"{kind}/positions"].attrs["unit"] == "mm"
        assert f["eeg/data"].attrs["forward_model"] == "sphere"
        assert f["meg/orientations"].shape == (f["meg/data"].shape[1], 3)
        # the mass rule: area x 1 nA m/mm^2 x (y1 - y2) / 17.55 mV
        regions = f["regions/data"][:]
        areas = f["sources/areas"][:]
        np.testing.assert_allclose(moments, regions * areas / 17.55, rtol=1e-12)
        stored = {k: f[f"{k}/data"][:] for k in ("eeg", "seeg")}

    # a run's own output, exported and read back by MNE (SI units there)
    for kind, fmt, reader, tol in (
        ("eeg", "fif", mne.io.read_raw_fif, 0.0),
        ("seeg", "edf", mne.io.read_raw_edf, 1.0 / 2**15),  # 16 bits over the range
    ):
        out = export(tmp_path / "rec.h5", fmt, kind=kind)
        back = reader(out, verbose=False).get_data()[:, : len(stored[kind])] * 1e6
        span = np.ptp(stored[kind], axis=0)
        assert np.all(np.abs(back.T - stored[kind]) <= tol * span + 1e-9), kind


def test_the_default_eeg_needs_only_centres_and_says_when_there_are_none(tmp_path):
    write_tiny_connectome(tmp_path)
    data = masses()
    del data["record"]
    data["connectome"] = {"source": {"weights": "w.npy", "lengths": "l.npy"}}
    exp = ms.experiment(data, base_dir=tmp_path)
    assert any("no EEG" in n and "no region centres" in n for n in exp.plan.notes)
    result = ms.run(exp, tmp_path / "tiny.h5")
    assert result.eeg is None and result.sources.unit == "nA m"

    data["connectome"] = {"source": "tvb68", "conduction_speed": "3 m/s"}  # centres, no areas
    exp = ms.experiment(data, base_dir=tmp_path)
    assert exp.plan.sensors["eeg"].sensors.frame == "mne_head"
    assert np.all(exp.plan.sources.areas_mm2 == 2581.0)
