"""What a user sees after a run: a short text summary and PNG figures, both read back from
the HDF5 output (so they can be made again later from the file alone)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from multiscale import measures
from multiscale.analysis import (
    Rows,
    mean_of,
    near_far_channels,
    peak_frequency,
    perturbation_effect,
    power_spectrum,
    relative_band_powers,
    sensor_positions,
)
from multiscale.outputs import OutputFiles, names, open_output, remove_figures
from multiscale.sensor_figures import sensor_figures
from multiscale.storage import read_log

_SKIP_MS = 500.0  # initial transient left out of every statistic (at most a fifth of a run)


def _skip_ms(f: h5py.File) -> float:
    return min(_SKIP_MS, 0.2 * float(f.attrs["duration_ms"]))


def summarize(path: str | Path) -> str:
    """Text summary of a run: the experiment's declared measures, EEG peak and band powers,
    circuit rates, and for every perturbation of a circuit the EEG change near its region
    against far from it."""
    lines = []
    with open_output(path) as f:
        lines.append(_status(f, path))
        lines += [f"measure {m.describe()}" for m in measures.read(f)]
        for kind in ("eeg", "meg", "seeg"):
            if kind in f:
                lines += _sensor_summary(f, kind)
        events = _circuit_perturbations(f)
        for name in f.get("circuits", {}):
            g = f[f"circuits/{name}"]
            rate = Rows(g["rate"])
            fs_r = g["rate"].attrs["sampling_rate"]
            s = int(_skip_ms(f) * fs_r / 1000)
            text = (
                f"circuit {name} ({g.attrs['model']} in {g.attrs['region']}): "
                f"{g['rate'].attrs['population']} rate {mean_of(rate[s:]):.2f} Hz"
            )
            for t_ms, pname in events.get(name, []):
                it = int(t_ms * fs_r / 1000)
                if s < it < len(rate) - s:
                    text += (
                        f"; {mean_of(rate[s:it]):.2f} Hz before / {mean_of(rate[it + s :]):.2f} Hz"
                        f" after {pname} at {t_ms / 1000:g} s"
                    )
            lines.append(text)
            if "eeg" in f:
                for t_ms, _ in events.get(name, []):
                    effect = _effect(f, g, t_ms)
                    if effect is not None:
                        lines.append("  " + effect.describe())
        for e in read_log(f):
            lines.append(f"applied at {e.time_ms / 1000:g} s: {e.name}: {e.what}")
    return "\n".join(lines)


def _sensor_summary(f: h5py.File, kind: str) -> list[str]:
    """Amplitude (median and largest channel SD, from the spectrum above 0 Hz: the
    constant part left out), and for EEG the spectral peak and relative band powers."""
    ds = f[f"{kind}/data"]
    data = Rows(ds)  # read a chunk at a time
    fs = ds.attrs["sampling_rate"]
    unit = _s(ds.attrs.get("unit", ""))
    skip = int(_skip_ms(f) * fs / 1000)
    if len(data) - skip <= fs / 4:
        return []
    fr, P = power_spectrum(data[skip:], fs)
    sd = np.sqrt(np.trapezoid(P[1:], fr[1:], axis=0))
    text = (
        f"{kind.upper()} ({data.shape[1]} channels, {unit}, reference "
        f"{_s(ds.attrs.get('reference', 'average'))}): channel SD median {np.median(sd):.3g} "
        f"{unit}, largest {sd.max():.3g} {unit}"
    )
    if kind == "eeg":
        rel = relative_band_powers(fr, P.mean(axis=1))
        text += (
            f"; mean-spectrum peak {peak_frequency(fr, P.mean(axis=1)):.1f} Hz; relative band "
            "power " + ", ".join(f"{b} {v:.2f}" for b, v in rel.items())
        )
    return [text]


def _status(f: h5py.File, path) -> str:
    """The first line of a summary: what the file holds, and whether the run finished."""
    name, duration = _s(f.attrs["name"]), float(f.attrs["duration_ms"]) / 1000
    if f.attrs["complete"]:
        wall = f.attrs.get("wall_time_s", float("nan"))
        return f"{name}: {duration:g} s simulated in {wall:.1f} s wall (complete) -> {path}"
    held = held_ms(f) / 1000
    why = _s(f.attrs.get("ended", "the run did not finish (crashed or killed)"))
    return f"{name}: INCOMPLETE ({why}): holds {held:g} s of the {duration:g} s asked for -> {path}"


def held_ms(f: h5py.File) -> float:
    """Simulated time an output holds (ms): the recorded region samples."""
    if "simulated_ms" in f.attrs:
        return float(f.attrs["simulated_ms"])
    ds = f["regions/data"]
    return ds.shape[0] * 1000.0 / float(ds.attrs["sampling_rate"])


def _s(x) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def _circuit_perturbations(f: h5py.File) -> dict[str, list]:
    """circuit name -> [(time, perturbation name)] of the starts of changes of its knobs."""
    out: dict[str, list] = {}
    circuits = f.get("circuits", {})
    seen = set()
    for e in read_log(f):
        circuit, first = e.circuit, e.event == "start"
        if not e.event:  # an output from before the log had columns: its first change
            circuit, first = e.what.split(".", 1)[0], e.name not in seen
        seen.add(e.name)
        if first and circuit in circuits:
            out.setdefault(circuit, []).append((e.time_ms, e.name))
    return out


def _effect(f: h5py.File, g: h5py.Group, t_ms: float):
    eeg = Rows(f["eeg/data"])
    fs = f["eeg/data"].attrs["sampling_rate"]
    channels = names(f["eeg/data"], "channels") or []
    region = int(g.attrs["region_index"])
    positions = sensor_positions(f, "eeg")
    centres = f["connectome/centres"][:] if "connectome/centres" in f else None
    near, far = near_far_channels(positions, centres, region, f["eeg/gain"][:])
    try:
        return perturbation_effect(
            eeg, fs, t_ms, _s(g.attrs["region"]), near, far, channels, skip_ms=_skip_ms(f)
        )
    except ValueError:
        return None


def make_figures(path: str | Path, out_dir: str | Path | None = None) -> list[Path]:
    """For every sensor kind (EEG, MEG, SEEG) traces, spectra, spectrogram, band-power
    topographies and evoked responses (``multiscale.sensor_figures``), and each circuit's
    raster and rate, as PNG files next to the output (or in out_dir). Returns the paths
    written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    out_dir = Path(out_dir) if out_dir else path.with_suffix("")
    remove_figures(OutputFiles(path))  # none left from an earlier output of that name
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with open_output(path) as f:
        events = [(e.time_ms, e.name) for e in read_log(f)]
        written += sensor_figures(f, out_dir, _skip_ms(f))
        for name in f.get("circuits", {}):
            g = f[f"circuits/{name}"]
            fig, (a1, a2) = plt.subplots(
                2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
            )
            t_end = float(f.attrs["duration_ms"])
            t0 = max(0.0, t_end - 1000.0)
            if events:
                te = events[0][0]
                t0 = max(0.0, te - 500.0) if te < t_end - 500 else t0
            offset = 0
            for k, pop in enumerate(g.get("spikes", {})):
                ts, ids = _spikes_in(g[f"spikes/{pop}"], t0, t0 + 1000.0, 400)
                a1.scatter(ts / 1000, ids + offset, s=0.5, color=f"C{k}", label=pop)
                offset += 400
            a1.set_ylabel("neuron (first 400 per population)")
            a1.legend(loc="upper right", markerscale=10)
            fs_r = g["rate"].attrs["sampling_rate"]
            tr, smooth = _rate_window(g["rate"], fs_r, t0 / 1000, t0 / 1000 + 1.0)
            a2.plot(tr, smooth, color="k", lw=0.8)
            a2.set_ylabel(f"{g['rate'].attrs['population']} rate (Hz)")
            a2.set_xlabel("time (s)")
            for te, _ in events:
                if t0 <= te < t0 + 1000:
                    for a in (a1, a2):
                        a.axvline(te / 1000, color="r", lw=1)
            a1.set_title(f"circuit {name} ({_s(g.attrs['model'])} in {_s(g.attrs['region'])})")
            fig.tight_layout()
            written.append(_save(fig, out_dir / f"circuit_{name}.png"))
    return written


def _spikes_in(g: h5py.Group, t0: float, t1: float, max_id: int):
    """Times and indices of the spikes in [t0, t1) of neurons below max_id, read a chunk
    at a time."""
    times, ids = g["times"], g["indices"]
    n, rows = len(times), measures.SPIKE_BLOCK
    keep_t, keep_i = [], []
    for a in range(0, n, rows):
        ts, ix = times[a : a + rows], ids[a : a + rows]
        m = (ts >= t0) & (ts < t1) & (ix < max_id)
        keep_t.append(ts[m])
        keep_i.append(ix[m])
    if not keep_t:
        return np.zeros(0), np.zeros(0, dtype=int)
    return np.concatenate(keep_t), np.concatenate(keep_i)


def _rate_window(ds: h5py.Dataset, fs: float, t0_s: float, t1_s: float):
    """Times and the 5-sample moving average (np.convolve "same") of a rate in [t0, t1)
    s: only that window, and two samples either side, is read."""
    n = len(ds)
    a = min(n, max(0, int(np.floor(t0_s * fs)) - 1))  # a sample either side: the mask
    b = max(a, min(n, int(np.ceil(t1_s * fs)) + 1))  # below decides, as it did
    tr = np.arange(a, b) / fs
    m = (tr >= t0_s) & (tr < t1_s)
    lo, hi = max(0, a - 2), min(n, b + 2)
    x = np.concatenate([np.zeros(2 - (a - lo)), ds[lo:hi], np.zeros(2 - (hi - b))])
    smooth = np.convolve(x, np.ones(5) / 5, "valid")
    return tr[m], smooth[m]


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_html(path: str | Path, summary: str, figures: list[Path]) -> Path:
    """One self-contained page next to the figures (``<output>/report.html``): the run's
    summary, its experiment file, and every figure (inlined, so the page can be mailed)."""
    import base64
    import html

    path = Path(path)
    with open_output(path) as f:
        name, config = _s(f.attrs["name"]), _s(f.attrs.get("config", ""))
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(name)}</title>",
        "<style>body{font-family:sans-serif;max-width:1150px;margin:2em auto}"
        "pre{background:#f4f4f4;padding:1em;overflow-x:auto}img{max-width:100%}</style>",
        f"</head><body><h1>{html.escape(name)}</h1>",
        f"<h2>Summary</h2><pre>{html.escape(summary)}</pre>",
    ]
    for fig in figures:
        data = base64.b64encode(Path(fig).read_bytes()).decode()
        parts.append(f"<h2>{html.escape(Path(fig).stem.replace('_', ' '))}</h2>")
        parts.append(
            f"<img alt='{html.escape(Path(fig).name)}' src='data:image/png;base64,{data}'>"
        )
    parts.append(f"<h2>Experiment file</h2><pre>{html.escape(config)}</pre></body></html>")
    out = path.with_suffix("") / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts))
    return out


def publish(path: str | Path, figures: bool = True) -> list[str]:
    """What `multiscale run` and `multiscale report` print: the summary, then (if figures)
    the figures written and the HTML page that holds them."""
    summary = summarize(path)
    lines = [summary]
    if figures:
        written = make_figures(path)
        lines += [f"figure: {p}" for p in written]
        lines.append(f"page: {write_html(path, summary, written)}")
    return lines
