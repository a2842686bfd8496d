"""Figures of sensor signals in physical units (multiscale.sensor_figures): traces with a
scale bar in the data's unit, spectra, band-power topographies and evoked responses, drawn
from outputs in the sensor layout (tests/sensor_figure_files.py), complete or not, with
or without EEG, read a chunk at a time."""

import re

import h5py
import numpy as np
import pytest
from sensor_figure_files import EEG_CHANNELS, OCCIPITAL, PERTURBATION_MS, pulse_onsets_ms
from sensor_figure_files import write_output as write_sensor_output

from multiscale import analysis, sensor_figures
from multiscale.outputs import open_output
from multiscale.report import make_figures, publish
from multiscale.sensor_figures import (
    band_maps,
    evoked,
    evoked_figure,
    first_perturbation,
    layout,
    sensors,
    sweep_topomap_figure,
    sweep_topomaps,
    topomap_figure,
    traces_figure,
)
from multiscale.stimuli import pulse_trains
from multiscale.sweep import reference_variant


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return write_sensor_output(tmp_path_factory.mktemp("sensors") / "run.h5")


def _close(fig):
    import matplotlib.pyplot as plt

    plt.close(fig)


def _axes(fig, label):
    return next(a for a in fig.axes if a.get_label() == label)


def _image(ax):
    """A topography's image (rows, columns) and the y (m, anterior positive) of its rows."""
    im = ax.images[0]
    z = np.ma.masked_invalid(np.ma.asarray(im.get_array()))
    _, _, y0, y1 = im.get_extent()
    ys = np.linspace(y0, y1, z.shape[0])
    return z, (ys if im.origin == "lower" else ys[::-1])


def _image_peak_y(ax) -> float:
    """y (m, anterior positive) of the largest value of a topography's image."""
    z, ys = _image(ax)
    return float(ys[np.unravel_index(np.ma.argmax(z), z.shape)[0]])


def test_report_writes_every_kinds_figures(output):
    lines = publish(output)
    names = {line.split("/")[-1] for line in lines if line.startswith("figure: ")}
    for kind in ("eeg", "meg", "seeg"):
        assert {f"{kind}_traces.png", f"{kind}_spectra.png", f"{kind}_evoked.png"} <= names
    assert {"eeg_topomap.png", "meg_topomap.png"} <= names
    assert "seeg_topomap.png" not in names  # depth contacts: no scalp map
    folder = output.with_suffix("")
    assert all((folder / n).stat().st_size > 10_000 for n in names)
    assert (folder / "report.html").read_text().count("<img") == len(names)


@pytest.mark.parametrize("kind", ["eeg", "meg", "seeg"])
def test_traces_have_a_scale_bar_in_the_data_unit(output, kind):
    with open_output(output) as f:
        s = sensors(f, kind)
        fig = traces_figure(s, "run", [(PERTURBATION_MS, "alpha_block")])
        x = np.asarray(s.data[:], dtype=float)
    ax = fig.axes[0]
    bar = next(line for line in ax.lines if line.get_gid() == "scale_bar")
    label = next(t for t in ax.texts if t.get_gid() == "scale_bar_label").get_text()
    value, unit = re.fullmatch(r"([0-9.e+-]+) (.+)", label).groups()
    assert unit == {"eeg": "uV", "meg": "fT", "seeg": "uV"}[kind] == s.unit
    length = abs(np.diff(bar.get_ydata())[0])
    assert length == pytest.approx(float(value), rel=1e-12)  # data coordinates
    assert float(value) in {m * 10.0**k for m in (1, 2, 5) for k in range(-3, 6)}
    ticks = ax.get_yticks()
    spacing = ticks[0] - ticks[1]
    assert spacing / 2.5 <= length <= spacing  # a round value near the traces' spacing
    assert "mean removed" in ax.get_title() and s.unit in ax.get_title()
    names = [t.get_text() for t in ax.get_yticklabels()]
    assert names[0] == s.channels[0] and names[-1] == s.channels[-1]  # montage order
    assert names == sorted(names, key=s.channels.index) and len(names) <= 16
    # each drawn trace is its channel minus the channel's mean, at its offset
    shown = [s.channels.index(n) for n in names]
    for row, (line, c) in enumerate(zip(ax.lines[: len(shown)], shown, strict=True)):
        np.testing.assert_allclose(line.get_ydata() + row * spacing, x[:, c] - x[:, c].mean())
    _close(fig)


def test_long_runs_draw_the_same_demeaned_envelope_read_in_chunks(output, monkeypatch):
    with open_output(output) as f:
        s = sensors(f, "eeg")
        show = np.arange(0, 19, 3)
        t, x, spread = sensor_figures.trace_data(s.data, show, s.fs)
        monkeypatch.setattr(sensor_figures, "TRACE_POINTS", 300)
        monkeypatch.setattr(analysis, "CHUNK_VALUES", 7 * 97)
        te, env, spread_env = sensor_figures.trace_data(s.data, show, s.fs)
    assert spread_env == pytest.approx(spread, rel=1e-9)
    assert len(te) == len(env) == 300
    lo, hi = env[0::2], env[1::2]
    assert np.all(lo <= hi)
    np.testing.assert_allclose(lo.min(axis=0), x.min(axis=0))
    np.testing.assert_allclose(hi.max(axis=0), x.max(axis=0))


def test_spectra_are_labelled_in_unit_squared_per_hz(output):
    with open_output(output) as f:
        for kind, unit in (("eeg", "uV²/Hz"), ("meg", "fT²/Hz")):
            s = sensors(f, kind)
            psd = sensor_figures.spectra(
                s, sensor_figures.segments(s.n, s.fs, 500.0, (3000.0, "x"))
            )
            fig = sensor_figures.spectra_figure(s, psd)
            assert unit in fig.axes[0].get_ylabel()
            assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == [
                "before x (channel mean)", "after x (channel mean)"]  # fmt: skip
            _close(fig)


def test_alpha_is_occipital_and_drops_after_the_perturbation(output):
    with open_output(output) as f:
        s = sensors(f, "eeg")
        event = first_perturbation(f)
        assert event == (PERTURBATION_MS, "alpha_block")  # not the stimulus logged before
        maps = band_maps(s, 500.0, event)
        lay = layout(f, s)
        fig = topomap_figure(s, lay, maps, "run")
    occ = [EEG_CHANNELS.index(c) for c in OCCIPITAL]
    for label in ("whole run", "before alpha_block", "after alpha_block"):
        alpha = maps.power[label]["alpha"]
        assert set(np.argsort(alpha)[-2:]) == set(occ), label
    assert np.all(maps.ratio_db["alpha"][occ] < -3.0)  # alpha amplitude x 0.25 at 3 s
    assert abs(np.mean(maps.ratio_db["beta"])) < 1.5  # the noise did not change
    # the drawn maps: alpha largest at the back of the head, the ratio negative there
    assert _image_peak_y(_axes(fig, "whole run:alpha")) < -0.03
    ratio = _axes(fig, "after / before (dB):alpha").images[0].get_array()
    assert np.ma.max(np.ma.masked_invalid(ratio)) < 0
    titles = [a.get_title() for a in fig.axes]
    assert "alpha 8-13 Hz" in titles and "gamma 30-80 Hz" in titles
    assert "uV²" in fig.get_suptitle() and "delta 1-4" in fig.get_suptitle()
    _close(fig)


def test_evoked_response_averages_the_pulses_inside_the_run(output):
    with open_output(output) as f:
        trains = pulse_trains(f.attrs["config"], float(f.attrs["duration_ms"]))
        assert [t.name for t in trains] == ["volley"]  # the sinusoid is no pulse train
        s = sensors(f, "eeg")
        ev = evoked(s, trains[0])
        fig = evoked_figure(s, ev, layout(f, s), "run")
    expected = pulse_onsets_ms(6000.0)
    assert len(expected) == 9 and np.allclose(trains[0].onsets_ms, expected)
    assert ev.n_epochs == 9 and "average of 9 pulses" in fig.get_suptitle()
    assert ev.t_ms[0] == -100.0 and ev.t_ms[-1] == pytest.approx(396.0)
    np.testing.assert_allclose(ev.data[ev.t_ms < 0].mean(axis=0), 0.0, atol=1e-9)  # baseline
    peak = ev.t_ms[np.argmax(ev.gfp)]
    assert 40.0 <= peak <= 200.0  # the fixture's wave peaks at 100 ms
    assert EEG_CHANNELS[int(np.argmax(ev.data[np.argmax(ev.gfp)]))] == "Cz"
    maps = [a for a in fig.axes if a.get_label().startswith("peak:")]
    assert 1 <= len(maps) <= 3 and "uV" in fig.axes[0].get_ylabel()
    _close(fig)


def test_an_incomplete_output_and_one_without_eeg(tmp_path):
    part = write_sensor_output(tmp_path / "part.h5", kinds=("eeg", "seeg"), held_s=3.2)
    with open_output(part) as f:
        assert not f.attrs["complete"]
        s = sensors(f, "seeg")
        train = pulse_trains(f.attrs["config"], float(f.attrs["duration_ms"]))[0]
        assert evoked(s, train).n_epochs == len(pulse_onsets_ms(3200.0)) == 5
    names = {p.name for p in make_figures(part)}
    assert {"eeg_traces.png", "eeg_topomap.png", "eeg_evoked.png", "seeg_evoked.png"} <= names
    none = write_sensor_output(tmp_path / "none.h5", kinds=(), seconds=2.0)
    assert make_figures(none) == []
    seeg = write_sensor_output(tmp_path / "seeg.h5", kinds=("seeg",), seconds=2.0)
    drawn = {p.name for p in make_figures(seeg)}
    assert drawn == {f"seeg_{n}.png" for n in ("traces", "spectra", "spectrogram", "evoked")}


def test_no_read_is_larger_than_a_chunk(tmp_path, monkeypatch):
    output = write_sensor_output(tmp_path / "eeg.h5", kinds=("eeg",))
    monkeypatch.setattr(analysis, "CHUNK_VALUES", 19 * 600)  # the run holds 1500 x 19
    largest = []
    real = h5py.Dataset.__getitem__

    def recording(self, key):
        out = real(self, key)
        if self.name == "/eeg/data":
            largest.append(np.asarray(out).size)
        return out

    monkeypatch.setattr(h5py.Dataset, "__getitem__", recording)
    # the maps' drawing reads nothing: a stand-in keeps the test fast
    monkeypatch.setattr(sensor_figures, "_topomap", lambda ax, *a: ax.imshow(np.zeros((2, 2))))
    with open_output(output) as f:
        written = sensor_figures.sensor_figures(f, tmp_path, 500.0)
    assert len(written) == 5
    assert len(largest) > 20 and 0 < max(largest) <= 19 * 600


def test_sweep_topography_per_variant_and_ratio_to_the_reference(tmp_path, monkeypatch):
    files = [
        ("control", write_sensor_output(tmp_path / "control.h5", kinds=("eeg",), seconds=3.0)),
        ("lesion", write_sensor_output(tmp_path / "lesion.h5", kinds=("eeg",), seconds=3.0,
                                       alpha_scale=0.3, seed=1)),
    ]  # fmt: skip
    ref = reference_variant([label for label, _ in files])
    assert ref == "control"
    drawn = []
    save = sensor_figures._save
    monkeypatch.setattr(sensor_figures, "_save", lambda fig, path: drawn.append(fig) or path)
    assert [p.name for p in sweep_topomaps(files, ref, tmp_path)] == ["sweep_eeg_topomap.png"]
    [fig] = drawn
    assert {"control:alpha", "lesion:alpha", "lesion / control (dB):alpha"} <= {
        a.get_label() for a in fig.axes
    }
    assert _image_peak_y(_axes(fig, "control:alpha")) < -0.03
    ratio, ys = _image(_axes(fig, "lesion / control (dB):alpha"))
    occipital = ratio[ys < -0.06]  # the back of the head
    assert np.ma.max(occipital) < -6.0  # alpha x 0.3 in the lesion: -10 dB
    assert sweep_topomap_figure(files, ref, "meg") is None  # no MEG in these outputs
    assert save(fig, tmp_path / "sweep.png").stat().st_size > 10_000
