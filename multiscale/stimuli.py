"""Stimulus waveforms for neural-mass regions: pulse trains, sinusoids and steps, added to
the time derivative of any state variable of chosen regions (TVB adds its stimuli the same
way: X' = f(X) + s(t)), evaluated a window at a time.

Amplitudes are in the state variable's unit per ms (the unit of its derivative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from multiscale.storage import LogEntry

if TYPE_CHECKING:
    from multiscale.config import StimulusSpec


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


class RegionStimulus(NamedTuple):
    """A stimulus added to d(variable)/dt of some regions."""

    regions: np.ndarray  #: region indices
    variable: int  #: index of the state variable
    waveform: Waveform


def region_stimulus(
    stimuli: Sequence[RegionStimulus],
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
        if not _on(wave, t[0], t[-1]):
            continue
        if out is None:
            out = np.zeros((n_steps, *shape))
        out[:, regions, variable] += wave(t)[:, None]
    return out


def stimulus_on(
    stimuli: Sequence[RegionStimulus], first_step: int, n_steps: int, dt_ms: float
) -> bool:
    """Whether ``region_stimulus`` of these steps gives a stimulus (not None): a step
    with the stimulus on is integrated with it, one without as if there were none."""
    t0, t1 = first_step * dt_ms, (first_step + n_steps - 1) * dt_ms
    return any(_on(wave, t0, t1) for _, _, wave in stimuli)


def _on(wave: Waveform, t_first_ms: float, t_last_ms: float) -> bool:
    """Whether the steps from t_first_ms to t_last_ms reach into the waveform's span."""
    return not (t_last_ms < wave.start_ms or t_first_ms >= wave.stop_ms)


def stimulus_log(
    stimuli: Sequence[StimulusSpec], t0_ms: float, t1_ms: float, duration_ms: float
) -> list[LogEntry]:
    """Log rows for the stimuli that start or end in [t0_ms, t1_ms)."""
    out = []
    for st in stimuli:
        starts = t0_ms <= st.at_ms < t1_ms
        ends = t0_ms <= st.until_ms < t1_ms and st.until_ms < duration_ms
        if not (starts or ends):  # the usual window: nothing to format
            continue
        on_circuit = st.circuit is not None
        regions = "" if on_circuit else ",".join(map(str, st.regions))
        target = f"{st.circuit}.{st.population}" if on_circuit else f"{regions} {st.variable}"
        where = dict(
            name=st.name,
            circuit=st.circuit or "",
            regions=regions,
            quantity=st.population if on_circuit else st.variable,
            value_min=st.amplitude,
            value_max=st.amplitude,
        )
        if starts:
            what = f"stimulus on: {target}: {_describe(st)}"
            out.append(LogEntry(time_ms=st.at_ms, event="stimulus on", what=what, **where))
        if ends:
            what = f"stimulus off: {target}"
            out.append(LogEntry(time_ms=st.until_ms, event="stimulus off", what=what, **where))
    return out


def _describe(st: StimulusSpec) -> str:
    unit = "nA" if st.circuit is not None else "(variable unit)/ms"
    if st.kind == "pulse_train":
        kind = "biphasic pulses" if st.biphasic else "pulses"
        shape = f"{kind} of {st.width_ms:g} ms at {st.frequency_hz:g} Hz"
    elif st.kind == "sinusoid":
        shape = f"sinusoid at {st.frequency_hz:g} Hz, phase {st.phase_rad:g} rad"
    else:
        shape = "step"
    return f"{shape}, amplitude {st.amplitude:g} {unit}, until {st.until_ms / 1000:g} s"


@dataclass
class PulseTrain:
    """A repeating pulse stimulus of a run: its name, frequency (Hz), pulse width (ms) and
    pulse onsets (ms)."""

    name: str
    frequency_hz: float
    width_ms: float
    onsets_ms: np.ndarray = field(repr=False)


def pulse_trains(config_text: str, end_ms: float) -> list[PulseTrain]:
    """The pulse-train stimuli (circuit electrodes and region pulse trains; ``kind``
    defaults to pulse_train) of an experiment, from its YAML text (an output's root attr
    ``config``), with their pulses at at + k / frequency before ``until`` and ``end_ms``.
    Read from the text, not through the full experiment check (the connectome is not
    needed to know when pulses were given); entries that do not parse are left out."""
    from multiscale.quantities import QuantityError, to_float
    from multiscale.yaml_safe import YamlError, loads

    try:
        data = loads(config_text) if config_text else {}
    except YamlError:
        return []
    items = data.get("stimuli") if isinstance(data, dict) else None
    out = []
    for k, st in enumerate(items if isinstance(items, list) else []):
        if not isinstance(st, dict) or st.get("kind", "pulse_train") != "pulse_train":
            continue
        try:
            freq = to_float(st["frequency"], "Hz")
            width = to_float(st.get("width", 0.0), "ms")
            at = to_float(st.get("at", 0.0), "ms")
            until = to_float(st["until"], "ms") if st.get("until") is not None else np.inf
        except (KeyError, QuantityError, TypeError, ValueError):
            continue
        stop = min(until, end_ms)
        if not (freq > 0 and np.isfinite(at)) or at >= stop:
            continue
        period = 1000.0 / freq
        onsets = at + period * np.arange(int(np.ceil((stop - at) / period)) + 1)
        name = str(st.get("name", f"stimulus{k}"))
        out.append(PulseTrain(name, freq, width, onsets[onsets < stop - 1e-9]))
    return out
