"""The fit's report figures (``report/`` in the fit directory); see multiscale.fit.outputs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from multiscale.analysis import BANDS_HZ, band_power, power_spectrum
from multiscale.fit.problem import Problem
from multiscale.fit.signals import SensorData, Signals, read_signals
from multiscale.fit.source_space import on_sources
from multiscale.fit.target import rereferenced

#: the spectra figure's frequency range (Hz) and resolution
_SPECTRA_HZ = (1.0, 45.0)
_RESOLUTION_HZ = 0.5
#: channels drawn in the spectra figure at most (an SEEG implant has hundreds)
_MAX_PANELS = 64


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def report_figures(
    problem: Problem,
    out: Path,
    evaluations: list,
    best,
    targets: Signals,
    checks: list[Path],
    posterior_u: np.ndarray | None = None,
) -> list[Path]:
    """Write the report's figures; their paths. Spectra and topographies per target kind
    (named by kind when the fit has several)."""
    folder = out / "report"
    folder.mkdir(exist_ok=True)
    plt = _plt()
    paths = [
        _loss(plt, evaluations, folder / "loss.png"),
        _parameters(plt, problem, evaluations, best, folder / "parameters.png"),
    ]
    if posterior_u is not None:
        paths.append(_posterior(plt, problem, posterior_u, folder / "posterior.png"))
    kinds = problem.spec.kinds
    runs = [read_signals(p, kinds) for p in checks]
    skip = problem.spec.skip_ms
    for kind, target in targets.items() if checks else ():
        suffix = "" if len(kinds) == 1 else f"_{kind}"
        twins = [rereferenced(r[kind], target.channels) for r in runs]
        paths.append(_spectra(plt, target, twins, skip, folder / f"spectra{suffix}.png"))
        topo = _topomaps(plt, target, twins, skip, checks[0], folder / f"topomaps{suffix}.png")
        if topo is not None:
            paths.append(topo)
        spec = problem.spec
        regions = tuple(
            dict.fromkeys(r for f in spec.features if spec.kind_of(f) == kind for r in f.sources)
        )
        if regions:  # what the source features compared
            paths.append(
                _spectra(
                    plt,
                    on_sources(target, target, regions),
                    [on_sources(t, target, regions) for t in twins],
                    skip,
                    folder / f"sources{suffix}.png",
                    "estimated sources' power spectra",
                )
            )
    return paths


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    _plt().close(fig)
    return path


def _loss(plt, evaluations, path: Path) -> Path:
    loss = np.array([e.loss for e in evaluations])
    fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
    idx = np.arange(len(loss))
    ok = np.isfinite(loss)
    ax.semilogy(idx[ok], loss[ok], ".", ms=3, color="0.5", label="evaluation")
    best = np.minimum.accumulate(np.where(ok, loss, np.inf))
    ax.semilogy(
        idx, np.where(np.isfinite(best), best, np.nan), "-", color="C3", label="best so far"
    )
    if (~ok).any():
        ax.plot(
            idx[~ok],
            np.full((~ok).sum(), np.nanmax(loss) if ok.any() else 1.0),
            "x",
            color="k",
            label="failed",
        )
    ax.set_xlabel("evaluation")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.set_title("loss over the evaluations", fontsize=10)
    return _save(fig, path)


def _parameters(plt, problem: Problem, evaluations, best, path: Path) -> Path:
    """Each free parameter against the loss (the marginals of the search)."""
    free = problem.spec.free
    n = len(free)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False, layout="constrained"
    )
    loss = np.array([e.loss for e in evaluations])
    values = np.array([e.values for e in evaluations])
    ok = np.isfinite(loss)
    for k, f in enumerate(free):
        ax = axes[k // cols, k % cols]
        ax.scatter(values[ok, k], loss[ok], s=6, c=np.flatnonzero(ok), cmap="viridis")
        ax.axvline(best.values[k], color="C3", lw=1)
        ax.set_yscale("log")
        if f.scale == "log":
            ax.set_xscale("log")
        ax.set_xlim(f.low, f.high)
        ax.set_xlabel(f"{f.name}" + (f" ({f.unit})" if f.unit else ""), fontsize=8)
        ax.set_ylabel("loss", fontsize=8)
    for k in range(n, rows * cols):
        axes[k // cols, k % cols].set_visible(False)
    fig.suptitle(
        "each parameter against the loss (colour: evaluation order; red: best)", fontsize=10
    )
    return _save(fig, path)


def _posterior(plt, problem: Problem, posterior_u: np.ndarray, path: Path) -> Path:
    """The posterior's marginals (histograms over each parameter's range) and, for two or
    more parameters, the first pair's joint samples."""
    free = problem.spec.free
    values = np.array([problem.values(x) for x in posterior_u])
    n = len(free) + (1 if len(free) > 1 else 0)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 2.8), squeeze=False, layout="constrained")
    for k, f in enumerate(free):
        ax = axes[0, k]
        bins = (
            np.geomspace(f.low, f.high, 40) if f.scale == "log" else np.linspace(f.low, f.high, 40)
        )
        ax.hist(values[:, k], bins=bins, color="C0")
        ax.axvline(np.median(values[:, k]), color="C3", lw=1)
        if f.scale == "log":
            ax.set_xscale("log")
        ax.set_xlabel(f.name + (f" ({f.unit})" if f.unit else ""), fontsize=8)
        ax.set_yticks([])
    if len(free) > 1:
        ax = axes[0, -1]
        ax.plot(values[:, 0], values[:, 1], ".", ms=1, alpha=0.4)
        ax.set_xlim(free[0].low, free[0].high)
        ax.set_ylim(free[1].low, free[1].high)
        ax.set_xlabel(free[0].name, fontsize=8)
        ax.set_ylabel(free[1].name, fontsize=8)
    fig.suptitle(f"posterior ({len(values)} samples; red: median)", fontsize=10)
    return _save(fig, path)


def _psd(data: SensorData, skip_ms: float):
    x = data.data[int(round(skip_ms * data.sampling_rate_hz / 1000)) :]
    return power_spectrum(x, data.sampling_rate_hz, _RESOLUTION_HZ)


def _spectra(
    plt,
    target: SensorData,
    twins: list[SensorData],
    skip_ms: float,
    path: Path,
    what: str = "power spectra",
) -> Path:
    """Per channel (or region, for sources): the target's power spectrum and the twin's
    (its check runs' range)."""
    ft, Pt = _psd(target, 0.0)
    twin = [_psd(t, skip_ms) for t in twins]
    fm = twin[0][0]
    Pm = np.array([P for _, P in twin])
    n = min(len(target.channels), _MAX_PANELS)
    cols = min(n, 8)
    rows = -(-n // cols)
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(1.9 * cols, 1.6 * rows + 0.6),
        squeeze=False,
        sharex=True,
        sharey=True,
        layout="constrained",
    )
    kt = (ft >= _SPECTRA_HZ[0]) & (ft <= _SPECTRA_HZ[1])
    km = (fm >= _SPECTRA_HZ[0]) & (fm <= _SPECTRA_HZ[1])
    for c, name in enumerate(target.channels[:n]):
        ax = axes[c // cols, c % cols]
        ax.semilogy(ft[kt], Pt[kt, c], color="k", lw=1)
        ax.fill_between(
            fm[km], Pm[:, km, c].min(axis=0), Pm[:, km, c].max(axis=0), color="C3", alpha=0.35, lw=0
        )
        ax.semilogy(fm[km], Pm[:, km, c].mean(axis=0), color="C3", lw=1)
        ax.set_title(name, fontsize=7, pad=2)
        ax.tick_params(labelsize=6)
    for k in range(n, rows * cols):
        axes[k // cols, k % cols].set_visible(False)
    shown = "" if n == len(target.channels) else f", first {n} of {len(target.channels)} channels"
    title = (
        f"{target.kind.upper()} {what} ({target.unit}²/Hz): target (black) and twin "
        f"(red: mean and range of {len(twins)} noise seeds){shown}"
    )
    fig.suptitle("\n".join(textwrap.wrap(title, max(40, 20 * cols))), fontsize=9)
    return _save(fig, path)


def _topomaps(plt, target, twins, skip_ms, check: Path, path: Path) -> Path | None:
    """Band powers on the scalp: target, twin (mean of the checks), twin / target (dB)."""
    import h5py

    from multiscale.sensor_figures import layout, sensors, topomap_grid

    with h5py.File(check) as f:
        s = sensors(f, target.kind)
        lay = None if s is None else layout(f, s, only=list(target.channels))
    if lay is None:
        return None

    def powers(data, skip):
        fr, P = _psd(data, skip)
        return {b: band_power(fr, P, lims) for b, lims in BANDS_HZ.items()}

    tp = powers(target, 0.0)
    each = [powers(t, skip_ms) for t in twins]
    mp = {b: np.mean([e[b] for e in each], axis=0) for b in BANDS_HZ}
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = {b: 10 * np.log10(mp[b] / tp[b]) for b in BANDS_HZ}
    rows = [("target", tp, False), ("twin", mp, False), ("twin / target", ratio, True)]
    fig = topomap_grid(
        rows, lay, f"{target.unit}²", f"{target.kind.upper()} band power: target and twin"
    )
    return _save(fig, path)
