"""The engine's standard normal numbers: one generator, drawn in order, optionally a window
ahead on a second thread.

A stochastic Jansen-Rit run spends about a tenth of its time drawing normal numbers.
numpy fills an array without holding the GIL, and the compiled loop runs without it
(``nogil``), so with ``ahead`` the next window's numbers are drawn on a second core while
the loop integrates the current window. They are the same numbers in the same order: a
window that asks for another shape than the one drawn ahead (the last, shorter window)
puts the generator back where it was before that draw and draws again, and so does
``settle`` before anyone reads or sets the generator's state (checkpoints).
"""

from __future__ import annotations

import threading

import numpy as np


class NormalStream:
    """Standard normal arrays from ``rng``, in order; with ``ahead``, each ``take`` starts
    drawing the next array of the same shape on a thread of its own."""

    def __init__(self, rng: np.random.Generator, ahead: bool = False) -> None:
        self.rng = rng
        self.ahead = ahead
        self._thread: threading.Thread | None = None
        self._before: dict | None = None  # the generator's state before the pending draw
        self._ready: np.ndarray | None = None  # drawn ahead (or being drawn)
        self._spare: np.ndarray | None = None  # the array handed out last time
        self._error: BaseException | None = None

    def take(self, shape: tuple[int, ...]) -> np.ndarray:
        """The next ``shape`` standard normal numbers. The array is valid until the next
        call (with ``ahead`` it is then refilled)."""
        self._join()
        if self._ready is not None and self._ready.shape == shape:
            out, self._ready, self._before = self._ready, None, None
        else:
            self.settle()
            out = self._buffer(shape)
            self.rng.standard_normal(out=out)
        if self.ahead:
            self._start(shape, out)
        else:
            self._spare = out
        return out

    def settle(self) -> None:
        """Undo a draw made ahead: the generator is where the numbers handed out so far
        left it."""
        self._join()
        if self._before is not None:
            self.rng.bit_generator.state = self._before
        self._before = self._ready = None

    # --- internals ------------------------------------------------------------------------
    def _buffer(self, shape: tuple[int, ...]) -> np.ndarray:
        if self._spare is not None and self._spare.shape == shape:
            return self._spare
        return np.empty(shape)

    def _start(self, shape: tuple[int, ...], handed_out: np.ndarray) -> None:
        """Draw the next array into a buffer other than the one just handed out."""
        spare = self._spare
        self._spare = handed_out
        target = spare if spare is not None and spare.shape == shape else np.empty(shape)
        if target is handed_out:
            target = np.empty(shape)
        self._before = self.rng.bit_generator.state
        self._ready = target
        self._thread = threading.Thread(target=self._draw, args=(target,), daemon=True)
        self._thread.start()

    def _draw(self, out: np.ndarray) -> None:
        try:
            self.rng.standard_normal(out=out)
        except BaseException as error:  # re-raised in the caller's thread by _join
            self._error = error

    def _join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            self.settle()
            raise error
