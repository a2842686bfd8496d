"""Make ``patient_slowing.edf``: the synthetic "patient" recording that
``experiments/twin_stimulation.yaml`` fits a twin to. Run from the repository's root:

    python experiments/data/make_patient_slowing.py

The patient is the 76-region Jansen-Rit brain of the shipped experiments (tvb-data's
connectome, the 1995 parameter set, noise on every region) with a slowed rhythm: the
inhibitory synaptic gain B raised from 22 to 25 mV and the input mu lowered from 0.22 to
0.2 /ms, which moves the EEG's peak from alpha (about 10 Hz) into theta (about 5 Hz).
These two true values are what the fit must recover. (A stronger slowing, B = 28 mV and
mu = 0.13 /ms, puts the brain at a noisy fixed point whose spectra cannot tell B from mu:
a fit there finds B 24.7 mV and mu 0.113 /ms with the same spectra.) Noise seed 2024;
40 s simulated, the first 5 s (the transient) left out; EEG through TVB's 65-electrode
projection.

The file is written as a clinical EDF would arrive: the 19 electrodes of the 10-20 system
only, named as many clinical systems name them ("EEG Fp1-REF", the old T3/T4/T5/T6 for
T7/T8/P7/P8), in the average reference of the model's 65 electrodes, with an ECG channel the model
does not have, 16-bit samples at 250 Hz.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

#: the patient's true values (what twin_stimulation's fit must find)
TRUE_B_MV = 25.0
TRUE_MU_PER_MS = 0.2
SEED = 2024
#: the 10-20 electrodes, in their model names, and the names the recording gives them
TEN_TWENTY = {
    "Fp1": "EEG Fp1-REF", "Fp2": "EEG Fp2-REF", "F7": "EEG F7-REF", "F3": "EEG F3-REF",
    "Fz": "EEG Fz-REF", "F4": "EEG F4-REF", "F8": "EEG F8-REF", "T7": "EEG T3-REF",
    "C3": "EEG C3-REF", "Cz": "EEG Cz-REF", "C4": "EEG C4-REF", "T8": "EEG T4-REF",
    "P7": "EEG T5-REF", "P3": "EEG P3-REF", "Pz": "EEG Pz-REF", "P4": "EEG P4-REF",
    "P8": "EEG T6-REF", "O1": "EEG O1-REF", "O2": "EEG O2-REF",
}  # fmt: skip

PATIENT = f"""
name: patient_slowing
seed: {SEED}
duration: 45 s
connectome: {{source: tvb76, conduction_speed: 3 m/s}}
regions:
  model: jansen_rit
  parameter_set: jansen_rit_1995
  parameters: {{B: {TRUE_B_MV} mV, mu: {TRUE_MU_PER_MS}}}
  coupling: {{kind: sigmoidal_jansen_rit, a: 0.01}}
  integrator: {{dt: 0.1 ms, noise: {{y4: 1.0e-3}}}}
record: {{sampling_rate: 250 Hz, eeg: tvb65}}
output: {{figures: false}}
"""


def main(out: Path) -> Path:
    import mne

    import multiscale as ms
    from multiscale.yaml_safe import loads

    with tempfile.TemporaryDirectory() as tmp:
        result = ms.run(ms.experiment(loads(PATIENT), base_dir=tmp), Path(tmp) / "patient.h5")
        eeg = result.eeg
        x = eeg.read(5.0, 45.0)  # uV, average reference over the 65 electrodes
        cols = [eeg.channels.index(c) for c in TEN_TWENTY]
        data = x[:, cols] * 1e-6  # V
    rng = np.random.default_rng(SEED)
    t = np.arange(len(data)) / eeg.sampling_rate
    ecg = 400e-6 * np.sin(2 * np.pi * 1.1 * t) ** 15 + 5e-6 * rng.standard_normal(len(t))
    names = list(TEN_TWENTY.values()) + ["ECG"]
    info = mne.create_info(names, eeg.sampling_rate, ["eeg"] * len(TEN_TWENTY) + ["ecg"])
    raw = mne.io.RawArray(np.c_[data, ecg].T, info, verbose=False)
    raw.info["description"] = (
        f"synthetic patient: Jansen-Rit B {TRUE_B_MV} mV, mu {TRUE_MU_PER_MS} /ms, seed {SEED}"
    )
    mne.export.export_raw(out, raw, fmt="edf", overwrite=True, verbose=False)
    return out


if __name__ == "__main__":
    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("patient_slowing.edf")
    )
    print(main(target))
