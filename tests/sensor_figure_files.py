"""Small outputs in the sensor layout of the output format (/sources, /eeg, /meg, /seeg
with their units, channels, positions and gains; /perturbations as
``multiscale.storage.Store`` writes it), written with h5py, for the sensor figure tests.

The EEG (uV, average reference) holds a constant offset per channel (the sources'
constant part), white noise, a 10 Hz alpha rhythm at the occipital channels (narrow-band
noise: not phase-locked to the pulses) that drops to ``alpha_after`` of its amplitude at
the perturbation (3 s), and a response to every pulse of a 2 Hz train (0.5 s to 4.6 s):
a positive wave peaking 100 ms after each pulse, largest at Cz.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np

from multiscale.outputs import FORMAT
from multiscale.storage import _LOG_DTYPE, LogEntry

FS = 250.0  #: sampling rate of every series (Hz)
EEG_CHANNELS = ["Fp1", "Fp2", "F7", "F3", "Fz", "F4", "F8", "T7", "C3", "Cz", "C4", "T8",
                "P7", "P3", "Pz", "P4", "P8", "O1", "O2"]  # fmt: skip
OCCIPITAL = ("O1", "O2")
PERTURBATION_MS = 3000.0
PULSES = {"at_ms": 500.0, "frequency_hz": 2.0, "until_ms": 4600.0}
EVOKED_PEAK_MS = 100.0
CONFIG = """\
name: sensor_figures
seed: 3
duration: {duration}
connectome: {{source: {{weights: w.npy, lengths: l.npy}}}}
regions: {{model: jansen_rit}}
circuits:
  - {{name: v1, model: ei_network, region: r0}}
stimuli:
  - {{name: volley, circuit: v1, population: L4e, frequency: 2 Hz, width: 5 ms,
     amplitude: 0.5 nA, at: 0.5 s, until: 4.6 s}}
  - {{name: tone, regions: [r1], variable: y1, kind: sinusoid, frequency: 40 Hz,
     amplitude: 0.1, at: 1 s}}
perturbations:
  - {{name: alpha_block, circuit: v1, knob: g_GABA, scale: 0.5, at: 3 s}}
record: {{eeg: sphere:standard_1020, meg: sphere_meg:ctf275, seeg: seeg:tvb}}
output: {{path: out.h5}}
"""


def pulse_onsets_ms(held_ms: float) -> list[float]:
    """The pulses of the train whose whole epoch (-100 to 400 ms) lies in held_ms."""
    p = PULSES
    t = np.arange(p["at_ms"], p["until_ms"], 1000.0 / p["frequency_hz"])
    return [float(x) for x in t if x - 100.0 >= 0 and x + 400.0 <= held_ms]


def _eeg_positions_mm() -> np.ndarray:
    from multiscale.sensors.sphere import eeg_montage

    names, pos = eeg_montage("standard_1020")
    return np.array([pos[names.index(c)] for c in EEG_CHANNELS]) * 1000.0


def _helmet_mm(n: int) -> np.ndarray:
    """n points on the upper part of a 120 mm sphere centred 40 mm above the origin."""
    k = np.arange(n) + 0.5
    polar = np.arccos(1 - k / n * (1 - np.cos(np.radians(75))))  # equal-area, to 75 deg
    azimuth = np.pi * (1 + 5**0.5) * k
    u = np.c_[np.sin(polar) * np.cos(azimuth), np.sin(polar) * np.sin(azimuth), np.cos(polar)]
    return 120.0 * u + [0.0, 0.0, 40.0]


def _alpha(rng: np.random.Generator, n: int) -> np.ndarray:
    """Narrow-band (8.5-11.5 Hz) noise of unit RMS: a 10 Hz rhythm of random phase."""
    from scipy.signal import butter, sosfiltfilt

    sos = butter(4, [8.5, 11.5], btype="band", fs=FS, output="sos")
    x = sosfiltfilt(sos, rng.standard_normal(n + 500))[250:-250]
    return x / x.std()


def _erp(t_s: np.ndarray, onsets_ms: list[float]) -> np.ndarray:
    """Sum over pulses of tau / T exp(1 - tau / T), T the peak latency: 1 at the peak."""
    out = np.zeros_like(t_s)
    T = EVOKED_PEAK_MS / 1000
    for on in onsets_ms:
        tau = t_s - on / 1000
        m = tau > 0
        out[m] += tau[m] / T * np.exp(1 - tau[m] / T)
    return out


def _sensor(f, kind, data, unit, channels, pos_mm, frame, gain_unit, model, reference, **extra):
    ds = f.create_dataset(f"{kind}/data", data=data, maxshape=(None, data.shape[1]),
                          chunks=(max(1, 4096 // data.shape[1]), data.shape[1]))  # fmt: skip
    ds.attrs.update({"unit": unit, "sampling_rate": FS, "channels": channels, "kind": kind,
                     "reference": reference, "forward_model": model})  # fmt: skip
    n_regions = f["sources/data"].shape[1]
    gain = np.random.default_rng(len(channels)).standard_normal((len(channels), n_regions))
    g = f.create_dataset(f"{kind}/gain", data=gain * 1e-3)
    g.attrs.update({"unit": gain_unit, "source": f"test fixture ({model})",
                    "parameters": json.dumps({"model": model})})  # fmt: skip
    p = f.create_dataset(f"{kind}/positions", data=pos_mm)
    p.attrs.update({"unit": "mm", "frame": frame})
    for name, value in extra.items():
        f.create_dataset(f"{kind}/{name}", data=value).attrs["unit"] = "1"


def write_output(
    path: Path,
    *,
    seconds: float = 6.0,
    kinds: tuple[str, ...] = ("eeg", "meg", "seeg"),
    held_s: float | None = None,
    alpha_after: float = 0.25,
    alpha_scale: float = 1.0,
    seed: int = 0,
) -> Path:
    """An output of a ``seconds`` run; ``held_s`` shorter: an incomplete one (complete
    False, the samples up to held_s). Returns path."""
    rng = np.random.default_rng(seed)
    held_s = seconds if held_s is None else held_s
    n = int(round(held_s * FS))
    t = np.arange(n) / FS
    n_regions = 8
    labels = [f"r{k}" for k in range(n_regions)]
    onsets = [float(x) for x in np.arange(PULSES["at_ms"], PULSES["until_ms"], 500.0)]
    alpha_gain = alpha_scale * np.where(t < PERTURBATION_MS / 1000, 1.0, alpha_after)
    alpha = _alpha(rng, n) * alpha_gain
    erp = _erp(t, onsets)

    with h5py.File(path, "w", libver="latest") as f:
        f.attrs.update({
            "format": FORMAT, "complete": held_s >= seconds, "name": "sensor_figures",
            "seed": 3, "duration_ms": seconds * 1000.0, "simulated_ms": held_s * 1000.0,
            "config": CONFIG.format(duration=f"{seconds:g} s"),
            "versions": json.dumps({"multiscale": "test"}),
        })  # fmt: skip
        if held_s < seconds:
            f.attrs["ended"] = "failed: the test fixture stopped early"
        f.create_group("connectome").attrs["labels"] = labels
        f.create_dataset("connectome/weights", data=np.ones((n_regions, n_regions)))
        f["connectome/weights"].attrs["unit"] = "1"
        f.create_dataset("connectome/centres", data=rng.normal(0, 30, (n_regions, 3)))
        f["connectome/centres"].attrs.update({"unit": "mm",
                                             "frame": "TVB: x anterior, y left, z up"})  # fmt: skip
        regions = f.create_dataset("regions/data", data=rng.standard_normal((n, n_regions)))
        regions.attrs.update({"unit": "mV", "sampling_rate": FS, "labels": labels,
                              "observable": "y1 - y2"})  # fmt: skip
        scale = np.full(n_regions, 10.0)
        src = f.create_dataset("sources/data", data=regions[:] * scale)
        src.attrs.update({"unit": "nA m", "sampling_rate": FS, "labels": labels})
        f.create_dataset("sources/scale", data=scale).attrs["unit"] = "nA m per observable unit"

        if "eeg" in kinds:
            pos = _eeg_positions_mm()
            occ = pos[[EEG_CHANNELS.index(c) for c in OCCIPITAL]].mean(axis=0)
            w_alpha = np.exp(-(np.linalg.norm(pos - occ, axis=1) ** 2) / (2 * 35.0**2))
            cz = pos[EEG_CHANNELS.index("Cz")]
            w_erp = np.exp(-(np.linalg.norm(pos - cz, axis=1) ** 2) / (2 * 45.0**2))
            offsets = 200.0 + 30.0 * np.arange(len(EEG_CHANNELS))  # the constant part (uV)
            x = (offsets + 1.5 * rng.standard_normal((n, len(EEG_CHANNELS)))
                 + 25.0 * alpha[:, None] * w_alpha + 12.0 * erp[:, None] * w_erp)  # fmt: skip
            x -= x.mean(axis=1, keepdims=True)  # average reference
            _sensor(f, "eeg", x, "uV", EEG_CHANNELS, pos, "mne_head", "V/(A m)",
                    "sphere:standard_1020", "average")  # fmt: skip
        if "meg" in kinds:
            pos = _helmet_mm(30)
            w = np.clip(-pos[:, 1] / 120.0, 0, None)  # posterior sensors see the alpha
            x = (20.0 * rng.standard_normal((n, 30)) + 300.0 * alpha[:, None] * w
                 + 150.0 * erp[:, None] * (pos[:, 0] / 120.0) + 1000.0)  # fmt: skip
            normals = (pos - [0, 0, 40.0]) / 120.0
            _sensor(f, "meg", x, "fT", [f"MEG{k:03d}" for k in range(30)], pos, "mne_head",
                    "T/(A m)", "sphere_meg:ctf275", "none", orientations=normals)  # fmt: skip
        if "seeg" in kinds:
            pos = np.c_[np.linspace(-40, -10, 8), np.full(8, 30.0), np.full(8, 10.0)]
            x = 5.0 * rng.standard_normal((n, 8)) + 40.0 * alpha[:, None] + 30.0 * erp[:, None]
            _sensor(f, "seeg", x + 500.0, "uV", [f"A{k + 1}" for k in range(8)], pos,
                    "connectome", "V/(A m)", "seeg:tvb", "none")  # fmt: skip

        # /perturbations as Store(log=True) creates it and Store.log appends to it
        log = f.create_dataset("perturbations", shape=(0,), maxshape=(None,), chunks=(256,),
                               dtype=_LOG_DTYPE)  # fmt: skip
        log.attrs["unit"] = "time: ms"
        log.attrs["what"] = "every perturbation and stimulus, when it took effect"
        entries = [
            LogEntry(500.0, "volley", "stimulus on", "stimulus on: v1.L4e: pulses of 5 ms at "
                     "2 Hz, amplitude 0.5 nA, until 4.6 s", "v1", "", "L4e", 0.5, 0.5),
            LogEntry(1000.0, "tone", "stimulus on", "stimulus on: 1 y1: sinusoid at 40 Hz",
                     "", "1", "y1", 0.1, 0.1),
            LogEntry(2000.0, "checkpoint", "checkpoint", "checkpoint written"),
            LogEntry(PERTURBATION_MS, "alpha_block", "start", "v1.g_GABA x 0.5", "v1", "",
                     "g_GABA", 0.5, 0.5),
            LogEntry(4600.0, "volley", "stimulus off", "stimulus off: v1.L4e", "v1", "",
                     "L4e", 0.5, 0.5),
        ]  # fmt: skip
        rows = np.array([e.row() for e in entries if e.time_ms < held_s * 1000], _LOG_DTYPE)
        log.resize(len(rows), axis=0)
        log[:] = rows
    return path
