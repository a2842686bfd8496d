"""Stimulus waveforms for neural-mass regions: pulse trains, sinusoids and steps, added to
the time derivative of any state variable of chosen regions (TVB adds its stimuli the same
way: X' = f(X) + s(t)), evaluated a window at a time.

Amplitudes are in the state variable's unit per ms (the unit of its derivative).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Waveform:
    """kind: "pulse_train" | "sinusoid" | "step". Times in ms, frequency in Hz.

    pulse_train: rectangular pulses of ``width`` every 1/frequency, biphasic optional;
    sinusoid: amplitude sin(2 pi f (t - start) + phase); step: constant amplitude.
    All are zero outside [start, stop).
    """

    kind: str
    amplitude: float
    start_ms: float
    stop_ms: float
    frequency_hz: float = 0.0
    width_ms: float = 0.0
    phase_rad: float = 0.0
    biphasic: bool = False

    def __call__(self, t_ms: np.ndarray) -> np.ndarray:
        t = np.asarray(t_ms, dtype=float)
        on = (t >= self.start_ms) & (t < self.stop_ms)
        rel = t - self.start_ms
        if self.kind == "step":
            shape = np.ones_like(t)
        elif self.kind == "sinusoid":
            shape = np.sin(2 * np.pi * self.frequency_hz * rel / 1000.0 + self.phase_rad)
        elif self.kind == "pulse_train":
            phase = np.mod(rel, 1000.0 / self.frequency_hz)
            shape = (phase < self.width_ms).astype(float)
            if self.biphasic:
                shape -= ((phase >= self.width_ms) & (phase < 2 * self.width_ms)).astype(float)
        else:
            raise ValueError(f"unknown stimulus kind {self.kind!r}")
        return np.where(on, self.amplitude * shape, 0.0)


def region_stimulus(
    stimuli: list[tuple[np.ndarray, int, Waveform]],
    first_step: int,
    n_steps: int,
    dt_ms: float,
    shape: tuple[int, int],
) -> np.ndarray | None:
    """The (n_steps, n_regions, n_state) stimulus of steps first_step .. first_step+n-1 (the
    step that moves t to t + dt sees s(t)); None when nothing is on in this window."""
    if not stimuli:
        return None
    t = (first_step + np.arange(n_steps)) * dt_ms
    out = None
    for regions, variable, wave in stimuli:
        if t[-1] < wave.start_ms or t[0] >= wave.stop_ms:
            continue
        if out is None:
            out = np.zeros((n_steps, *shape))
        out[:, regions, variable] += wave(t)[:, None]
    return out
