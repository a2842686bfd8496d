"""A small output file in the sensor layout (/eeg, /meg, /seeg with gain, positions,
orientations; /perturbations; root attrs), written with h5py through ``Store`` as a run
writes it, for tests that read sensors without running a simulation.

Default: 2 s at 250 Hz; 5 EEG channels (10-20 names, MNE head positions), 3 MEG
magnetometers, 2 SEEG contacts (connectome frame); a perturbation, a region step stimulus
with on and off, and a circuit pulse train (4 Hz, 5 ms, from 1 s: pulses at 1, 1.25, 1.5,
1.75 s); a checkpoint row, which exports leave out.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from multiscale.storage import LogEntry, Store

SFREQ = 250.0
N_SAMPLES = 500
EEG = ["Fp1", "Cz", "O1", "T7", "Pz"]
#: MNE head coordinates (mm) of the 10-20 positions of EEG
EEG_MM = [
    [-30.9, 114.6, 27.9],
    [-1.4, 27.6, 140.2],
    [-31.6, -80.6, 54.8],
    [-86.0, 14.9, 31.2],
    [-1.7, -45.2, 126.7],
]
MEG = ["MLC11", "MRC11", "MZC01"]
MEG_MM = [[-30.0, 10.0, 120.0], [30.0, 10.0, 120.0], [0.0, 0.0, 130.0]]
MEG_NORMALS = [[-0.2, 0.0, 0.98], [0.2, 0.0, 0.98], [0.0, 0.0, 1.0]]
SEEG = ["A1", "A2"]
#: TVB frame (x anterior, y left, z up), mm
SEEG_MM = [[20.0, 30.0, 5.0], [22.0, 35.0, 5.0]]
PULSES_S = [1.0, 1.25, 1.5, 1.75]

CONFIG = """\
name: sensor fixture
seed: 7
duration: 2 s
stimuli:
  - {name: volley, circuit: v1, population: L4e, frequency: 4 Hz, width: 5 ms,
     amplitude: 1 nA, at: 1 s}
  - {name: tone, regions: [V1], variable: y4, kind: step, amplitude: 0.05,
     at: 800 ms, until: 1.2 s}
"""

LOG = [
    LogEntry(500.0, "gaba_loss", "start", "a[V1,V2] = [0.5, 0.5]", regions="V1,V2", quantity="a"),
    LogEntry(800.0, "tone", "stimulus on", "stimulus on: V1.y4: step of 0.05"),
    LogEntry(1000.0, "checkpoint", "checkpoint", "checkpoint at 1 s"),
    LogEntry(1000.0, "volley", "stimulus on", "stimulus on: v1.L4e: pulses of 5 ms at 4 Hz"),
    LogEntry(1200.0, "tone", "stimulus off", "stimulus off: V1.y4"),
]


def signals(n_channels: int, amplitude: float, seed: int, n: int = N_SAMPLES) -> np.ndarray:
    """(n, n_channels) sinusoids at 5..13 Hz plus noise, peak about ``amplitude``."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SFREQ
    freqs = 5.0 + 2.0 * np.arange(n_channels)
    clean = np.sin(2 * np.pi * freqs * t[:, None] + rng.uniform(0, 6, n_channels))
    return amplitude * (0.8 * clean + 0.2 * rng.standard_normal((n, n_channels)))


def write_sensor_file(
    path: str | Path,
    kinds: tuple[str, ...] = ("eeg", "meg", "seeg"),
    *,
    complete: bool = True,
    n_samples: int = N_SAMPLES,
    eeg_frame: str = "mne_head",
) -> Path:
    """Write the fixture output at ``path``; an incomplete file (complete=False) holds
    ``n_samples`` rows of each series and says so in its root attrs."""
    path = Path(path)
    attrs = {
        "name": "sensor fixture",
        "seed": 7,
        "duration_ms": 2000.0,
        "config": CONFIG,
        "config_path": "/experiments/sensor_fixture.yaml",
    }
    store = Store(path, attrs, log=True)
    regions = store.create_series(
        "regions/data", 2, "mV", {"sampling_rate": SFREQ, "labels": ["V1", "V2"]}
    )
    store.append(regions, signals(2, 1.0, 0, n_samples))
    store.write_array(
        "sources/data",
        signals(2, 10.0, 1, n_samples),
        "nA m",
        {"sampling_rate": SFREQ, "labels": ["V1", "V2"]},
    )
    store.write_array("sources/scale", np.ones(2), "nA m per observable unit")
    spec = {
        "eeg": (EEG, EEG_MM, "uV", 10.0, "average", "sphere:standard_1020", eeg_frame, "V"),
        "meg": (MEG, MEG_MM, "fT", 200.0, "none", "sphere_meg:ctf275", "mne_head", "T"),
        "seeg": (SEEG, SEEG_MM, "uV", 50.0, "none", "seeg:tvb", "connectome", "V"),
    }
    for k, kind in enumerate(kinds):
        names, mm, unit, amplitude, reference, model, frame, gain_unit = spec[kind]
        store.write_array(
            f"{kind}/data",
            signals(len(names), amplitude, 10 + k, n_samples),
            unit,
            {
                "sampling_rate": SFREQ,
                "channels": names,
                "kind": kind,
                "reference": reference,
                "forward_model": model,
            },
        )
        store.write_array(
            f"{kind}/gain",
            np.ones((len(names), 2)),
            f"{gain_unit}/(A m)",
            {"source": model, "parameters": json.dumps({})},
        )
        positions = np.zeros((len(names), 3)) if frame == "unknown" else np.array(mm)
        store.write_array(f"{kind}/positions", positions, "mm", {"frame": frame})
        if kind == "meg":
            normals = np.array(MEG_NORMALS)
            normals /= np.linalg.norm(normals, axis=1, keepdims=True)
            store.write_array("meg/orientations", normals, "1")
    held_ms = n_samples * 1000.0 / SFREQ
    for entry in LOG:
        if entry.time_ms < held_ms:
            store.log(entry)
    end = {"simulated_ms": held_ms}
    if not complete:
        end["ended"] = "stopped by SIGTERM"
    store.close(complete, end)
    return path
