"""The end of a run reads its output in bounded pieces: the summary, the declared measures,
every figure and report.html of a 40 s output, and a sweep's tables and figures of it,
never read more than a chunk (analysis.CHUNK_VALUES) or one spectral segment (2 s) of a
series at once, so their memory does not grow with the simulated duration
(bench/memory_flat.py measures the peaks)."""

import h5py
import numpy as np
import pytest

import multiscale as ms
from multiscale import measures, report, sweep
from multiscale.analysis import CHUNK_VALUES
from multiscale.config import load_experiment
from multiscale.sensor_figures import TRACE_POINTS, sweep_topomaps, trace_data

STROKE = "experiments/stroke_lesion.yaml"
SERIES = ("eeg/data", "meg/data", "regions/data", "sources/data")


@pytest.fixture(scope="module")
def long_output(tmp_path_factory):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("long") / "long.h5"
    exp = load_experiment(
        root / STROKE,
        {
            "duration": "40 s",
            "record.meg": "tvb276",
            "output.figures": False,
            "measures": [
                {"name": "whole", "kind": "band_power", "signal": "meg", "band": ["8 Hz", "13 Hz"]},
                {"name": "peak", "kind": "peak_frequency", "signal": "regions"},
                {
                    "name": "rm1",
                    "kind": "band_power",
                    "signal": "sources",
                    "regions": ["rM1"],
                    "band": ["1 Hz", "40 Hz"],
                },  # fmt: skip
            ],
        },
    )
    ms.run(exp, out)
    return exp, out


def test_summary_measures_figures_and_page_read_bounded_pieces(long_output, monkeypatch):
    exp, out = long_output
    reads: dict[str, list[int]] = {}
    getitem, array = h5py.Dataset.__getitem__, h5py.Dataset.__array__

    def recording_getitem(self, key):
        value = getitem(self, key)
        reads.setdefault(self.name.lstrip("/"), []).append(np.asarray(value).size)
        return value

    def recording_array(self, *args, **kwargs):  # np.asarray(ds): the whole dataset
        reads.setdefault(self.name.lstrip("/"), []).append(self.size)
        return array(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", recording_getitem)
    monkeypatch.setattr(h5py.Dataset, "__array__", recording_array)
    measures.write(out, exp.measures)
    lines = report.publish(out, figures=True)
    # a sweep's summary table, comparison figure and topographies of the same output
    assert sweep.band_table(out)
    sweep.comparison_figure([("a", out), ("b", out)], out.with_suffix(".png"))
    assert sweep_topomaps([("a", out), ("b", out)], "a", out.parent)
    assert any("eeg_spectrogram.png" in line for line in lines)
    assert any("eeg_topomap.png" in line for line in lines)
    assert any("meg_traces.png" in line for line in lines)
    with h5py.File(out) as f:
        for name in SERIES:
            ds = f[name]
            fs = float(ds.attrs["sampling_rate"])
            assert ds.shape[0] == 40 * fs
            # a chunk, or one 2 s Welch segment of every column
            bound = max(CHUNK_VALUES, int(2 * fs) * ds.shape[1])
            assert reads[name], name  # it was read...
            assert max(reads[name]) <= bound < ds.size / 15, (name, max(reads[name]))


def test_trace_figures_draw_a_bounded_envelope(long_output):
    _, out = long_output
    with h5py.File(out) as f:
        ds = f["meg/data"]
        t, x, _ = trace_data(ds, np.arange(16), float(ds.attrs["sampling_rate"]))
    assert len(t) == x.shape[0] <= TRACE_POINTS < ds.shape[0] / 5
    assert x.shape[1] == 16 and np.isfinite(x).all()
