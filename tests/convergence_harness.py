"""Shared pieces of the time-step convergence checks (tests/validation/test_convergence_*):
the tolerance, the cython target, block and paired statistics, a Welch spectrum."""

from __future__ import annotations

import brian2 as b2
import numpy as np
import pytest

TOLERANCE = 0.05  # of the quarter-step value
BLOCK_MS = 500.0


@pytest.fixture(autouse=True)
def cython_target():
    old = b2.prefs.codegen.target
    b2.prefs.codegen.target = "cython"
    yield
    b2.prefs.codegen.target = old


def pooled_rate(runs, pop: str, n_cells: int, start_ms: float, stop_ms: float,
                block_ms: float = BLOCK_MS):  # fmt: skip
    """Rate (Hz) of ``pop`` over [start, stop) pooled over runs, and its standard error
    from blocks of ``block_ms`` (Hz)."""
    edges = np.arange(start_ms, stop_ms + 1e-9, block_ms)
    blocks = np.concatenate(
        [np.histogram(r[pop][0], bins=edges)[0] / n_cells / (block_ms / 1000) for r in runs]
    )
    return blocks.mean(), blocks.std(ddof=1) / np.sqrt(len(blocks))


def report(name: str, default: dict, quarter: dict) -> list[str]:
    """Print each quantity at both steps; the ones off by more than the tolerance."""
    bad = []
    for key, (value, se) in default.items():
        ref, ref_se = quarter[key]
        if value == ref == 0:
            print(f"{name} {key}: 0 at both steps")
            continue
        error = (value - ref) / ref
        print(f"{name} {key}: {value:.4g} +- {se:.2g} at the default step, {ref:.4g} +- "
              f"{ref_se:.2g} at a quarter: {100 * error:+.1f} %")  # fmt: skip
        if abs(error) > TOLERANCE:
            bad.append(f"{key} {100 * error:+.1f} %")
    return bad


def welch(field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and Welch power of a field sampled every 1 ms: 1 s Hann segments,
    half overlap."""
    x, n = field - field.mean(), 1000
    power = np.mean([np.abs(np.fft.rfft(x[s : s + n] * np.hanning(n))) ** 2
                     for s in range(0, len(x) - n + 1, n // 2)], axis=0)  # fmt: skip
    return np.fft.rfftfreq(n, 1e-3), power


def population_rates(circuit, run: dict, start_ms: float, stop_ms: float) -> dict[str, float]:
    """E and I rates (Hz) over [start_ms, stop_ms) of a run of ``run_windows`` that ended
    at stop_ms."""
    seconds = (stop_ms - start_ms) / 1000
    return {
        f"{pop} rate (Hz)": np.count_nonzero(run[pop][0] >= start_ms)
        / len(circuit.populations[pop])
        / seconds
        for pop in ("E", "I")
    }


def paired_check(name: str, default: dict, quarter: dict, pairs: str, unresolved=()) -> None:
    """Per quantity, the mean over seeds of the paired difference (default - quarter) relative
    to the quarter-step mean, printed with its standard error (``pairs`` says over what);
    a quantity that is 0 at both steps is only printed; asserts the standard error
    under 2 % (so that a pass resolves 5 %) and the error within the tolerance, except for
    the ``unresolved`` quantities, which are printed only."""
    bad = []
    for key in default:
        d, q = default[key], quarter[key]
        if not d.any() and not q.any():
            print(f"{name} {key}: 0 at both steps")
            continue
        diff = d - q
        error = diff.mean() / q.mean()
        se = diff.std(ddof=1) / np.sqrt(len(diff)) / q.mean()
        print(f"{name} {key}: {d.mean():.4g} at the default step, {q.mean():.4g} at a "
              f"quarter: {100 * error:+.2f} +- {100 * se:.2f} % (paired over {pairs})")  # fmt: skip
        if key in unresolved:
            continue
        assert se < 0.02, f"{name} {key}: standard error {100 * se:.1f} % does not resolve 5 %"
        if abs(error) > TOLERANCE:
            bad.append(f"{key} {100 * error:+.1f} %")
    assert not bad, bad
