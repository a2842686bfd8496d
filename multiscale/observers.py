"""Online observers of the mass engine's output: bounded memory, fed window by window."""

from __future__ import annotations

import numpy as np


class TemporalAverage:
    """Averages consecutive blocks of ``period`` steps (TVB's TemporalAverage monitor), so
    that a window's samples can be emitted as soon as they are complete; a partial block is
    carried to the next window."""

    def __init__(self, period: int) -> None:
        self.period = int(period)
        self._carry: np.ndarray | None = None

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """rows: (n_steps, ...) -> (n_complete_blocks, ...) block means."""
        if self._carry is not None and len(self._carry):
            rows = np.concatenate([self._carry, rows])
        n = (len(rows) // self.period) * self.period
        self._carry = rows[n:].copy()
        blocks = rows[:n].reshape(n // self.period, self.period, *rows.shape[1:])
        return blocks.mean(axis=1)

    def get_state(self) -> dict[str, np.ndarray]:
        """The partial block carried to the next window (empty when windows align)."""
        return {} if self._carry is None else {"carry": self._carry.copy()}

    def set_state(self, state: dict) -> None:
        self._carry = np.array(state["carry"]) if "carry" in state else None
