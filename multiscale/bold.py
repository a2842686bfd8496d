"""BOLD signal from neural activity: the Balloon-Windkessel hemodynamic model, integrated
online, region by region, with memory that does not grow with simulated time.

Friston KJ, Mechelli A, Turner R, Price CJ (2000) Nonlinear responses in fMRI: the
Balloon model, Volterra kernels, and other hemodynamics. NeuroImage 12:466-477.
Output equation and constants: Stephan KE et al. (2007) NeuroImage 38:387-401 (classic
coefficients k1 = 7 E0, k2 = 2, k3 = 2 E0 - 0.2, as in TVB's BalloonModel).

With z(t) the (dimensionless) neural input, time in seconds:

    ds/dt = z - kappa s - gamma (f - 1)          vasodilatory signal
    df/dt = s                                     blood inflow
    tau dv/dt = f - v^(1/alpha)                   blood volume
    tau dq/dt = f E(f) / E0 - v^(1/alpha) q / v   deoxyhaemoglobin, E(f) = 1 - (1 - E0)^(1/f)
    BOLD = V0 (k1 (1 - q) + k2 (1 - q / v) + k3 (1 - v))   fractional signal change

The input z = gain x (x - x_ref): x is the region's recorded observable (Jansen-Rit:
y1 - y2 in mV; a spiking region: its scaled field proxy), x_ref a slow running mean of x
(time constant ``reference_s``), so the BOLD follows changes of activity, whatever the
model's resting offset. The output is sampled every TR as the mean over the TR.
"""

from __future__ import annotations

import numpy as np

KAPPA = 0.65  # 1/s, rate of signal decay
GAMMA = 0.41  # 1/s, rate of flow-dependent elimination
TAU = 0.98  # s, haemodynamic transit time
ALPHA = 0.32  # Grubb's exponent
E0 = 0.34  # resting oxygen extraction fraction
V0 = 0.02  # resting blood volume fraction
K1, K2, K3 = 7.0 * E0, 2.0, 2.0 * E0 - 0.2


class BalloonWindkessel:
    """Online BOLD for n regions.

    dt_ms: spacing of the input samples (ms); integrated with forward Euler at that step
        (the haemodynamics are seconds-slow: 1 ms steps are far inside stability).
    tr_ms: repetition time (ms): one BOLD sample per TR, the mean over it.
    gain: input gain (1 / unit of x). reference_s: time constant (s) of the running mean
        subtracted from x; 0 subtracts nothing.
    """

    def __init__(
        self, n: int, dt_ms: float, tr_ms: float, gain: float, reference_s: float = 20.0
    ) -> None:
        self.dt = dt_ms / 1000.0
        self.per_tr = int(round(tr_ms / dt_ms))
        if self.per_tr < 1 or abs(self.per_tr * dt_ms - tr_ms) > 1e-9 * tr_ms:
            raise ValueError(f"TR {tr_ms} ms is not a whole number of {dt_ms} ms samples")
        self.gain = gain
        self.reference_s = reference_s
        self.s = np.zeros(n)
        self.f = np.ones(n)
        self.v = np.ones(n)
        self.q = np.ones(n)
        self.x_ref: np.ndarray | None = None
        self._acc = np.zeros(n)
        self._count = 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """x: (samples, n) input at dt spacing. Returns the (k, n) BOLD samples completed."""
        out = []
        if self.x_ref is None and len(x):
            self.x_ref = x[0].astype(float).copy()
        leak = self.dt / self.reference_s if self.reference_s > 0 else 0.0
        for row in x:
            if leak:
                self.x_ref += leak * (row - self.x_ref)
                z = self.gain * (row - self.x_ref)
            else:
                z = self.gain * row
            self._step(z)
            self._acc += self.signal()
            self._count += 1
            if self._count == self.per_tr:
                out.append(self._acc / self.per_tr)
                self._acc = np.zeros_like(self._acc)
                self._count = 0
        return np.array(out).reshape(len(out), len(self.s))

    def get_state(self) -> dict[str, np.ndarray | int]:
        """The haemodynamic state, the running mean and the TR being accumulated."""
        state = {k: np.array(getattr(self, k)) for k in ("s", "f", "v", "q", "_acc")}
        state["_count"] = int(self._count)
        if self.x_ref is not None:
            state["x_ref"] = self.x_ref.copy()
        return state

    def set_state(self, state: dict) -> None:
        for k in ("s", "f", "v", "q", "_acc"):
            setattr(self, k, np.array(state[k], dtype=float))
        self._count = int(state["_count"])
        self.x_ref = np.array(state["x_ref"], dtype=float) if "x_ref" in state else None

    def _step(self, z: np.ndarray) -> None:
        s, f, v, q = self.s, self.f, self.v, self.q
        v_alpha = v ** (1.0 / ALPHA)
        E = 1.0 - (1.0 - E0) ** (1.0 / f)
        ds = z - KAPPA * s - GAMMA * (f - 1.0)
        df = s
        dv = (f - v_alpha) / TAU
        dq = (f * E / E0 - v_alpha * q / v) / TAU
        self.s = s + self.dt * ds
        self.f = np.maximum(f + self.dt * df, 1e-6)  # inflow stays positive
        self.v = np.maximum(v + self.dt * dv, 1e-6)
        self.q = np.maximum(q + self.dt * dq, 1e-6)

    def signal(self) -> np.ndarray:
        q, v = self.q, self.v
        return V0 * (K1 * (1.0 - q) + K2 * (1.0 - q / v) + K3 * (1.0 - v))
