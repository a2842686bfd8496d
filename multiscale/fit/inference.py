"""Posteriors by simulation-based inference (``fit.method: sbi``), through the ``sbi``
package's neural posterior estimation (NPE).

The fit's generations are then draws from the prior (uniform over every free parameter's
range, in its search scale: log-uniform for ``scale: log``), simulated and stored exactly
as the optimisers' are (same table, checkpoints and resume). Once the budget is spent:

1. the summary of a simulation is its feature arrays (``fit.features``), flattened and
   concatenated, standardised, and reduced to its leading principal components (fitted on
   the simulations: ``SUMMARY_COMPONENTS`` at most, and no more than a twentieth of the
   simulations), because a density estimator needs far fewer dimensions than the
   thousands a per-channel spectrum has;
2. NPE (a masked autoregressive flow) learns the posterior of the parameters given a
   summary, from every simulation that did not fail;
3. the posterior given the recording's summary is sampled (``POSTERIOR_SAMPLES``).

The fitted values are the posterior medians, the spread the posterior standard deviations;
the samples go to ``posterior.csv`` and ``fit.h5``, and predictions run over them.

Everything is seeded from the experiment's seed (torch's generator too), so a fit is
reproducible from its file on the same machine and library versions.

Install: ``pip install torch==2.13.0`` (the CPU build, about 200 MB) then
``pip install -e ".[sbi]"`` (the ``sbi`` package and its dependencies, another ~100 MB).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from dataclasses import dataclass

import numpy as np

from multiscale.config import ConfigError

#: the most principal components a summary keeps
SUMMARY_COMPONENTS = 12
#: posterior samples drawn for the recording
POSTERIOR_SAMPLES = 2000
#: the most training epochs (sbi stops earlier once the validation loss has not improved
#: for 20 epochs; some seeds crawl on for thousands of epochs without this cap)
MAX_EPOCHS = 400


def require_sbi() -> None:
    """A ConfigError saying how to install sbi, if it is not installed."""
    try:
        import sbi  # noqa: F401
        import torch  # noqa: F401
    except ImportError as err:
        raise ConfigError(
            "fit.method: got 'sbi'; it needs the sbi package and torch: pip install "
            'torch==2.13.0, then pip install -e ".[sbi]" (docs/fitting.md)'
        ) from err


class PriorSampler:
    """The "optimiser" of an SBI fit: each generation is ``population`` draws from the
    uniform prior on the unit cube, from a seeded generator (a replay draws the same)."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = np.random.default_rng(seed)

    def ask(self, population: int) -> list[np.ndarray]:
        return list(self.rng.uniform(0.0, 1.0, size=(population, self.n)))

    def tell(self, losses: list[float]) -> None:
        """Draws from the prior do not depend on the losses."""


@dataclass
class Summary:
    """The map from feature arrays to a short summary vector: standardisation, then the
    leading principal components. mean, scale: (features,); components: (k, features)."""

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray

    @classmethod
    def fitted(cls, X: np.ndarray) -> Summary:
        """The summary fitted on simulations X (simulations, features)."""
        mean = X.mean(axis=0)
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        Z = (X - mean) / scale
        k = max(2, min(SUMMARY_COMPONENTS, len(X) // 20, Z.shape[1]))
        _, _, Vt = np.linalg.svd(Z - Z.mean(axis=0), full_matrices=False)
        return cls(mean, scale, Vt[:k])

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return ((np.atleast_2d(X) - self.mean) / self.scale) @ self.components.T


def flat(arrays: list[np.ndarray]) -> np.ndarray:
    """One simulation's feature arrays as one vector."""
    return np.concatenate([np.ravel(a) for a in arrays])


@dataclass
class Posterior:
    """Samples of the posterior in the unit cube (samples, parameters), the summary used,
    and how many simulations trained it."""

    samples_u: np.ndarray
    summary: Summary
    simulations: int

    def spread(self) -> tuple[np.ndarray, np.ndarray]:
        """Median and standard deviation of the samples, in the unit cube."""
        return np.median(self.samples_u, axis=0), self.samples_u.std(axis=0)


def train(u: np.ndarray, features: np.ndarray, seed: int, samples: int = POSTERIOR_SAMPLES):
    """NPE trained on points ``u`` (simulations, parameters) in the unit cube and their
    flattened features; returns a function from one feature vector to posterior samples
    (samples, parameters) in the unit cube, and the summary."""
    require_sbi()
    import torch
    from sbi.inference import NPE
    from sbi.utils import BoxUniform

    # one thread: the network is small, and torch's threads next to the batched engine's
    # (both OpenMP) made training up to 40 times slower here
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    summary = Summary.fitted(features)
    x = torch.as_tensor(summary(features), dtype=torch.float32)
    theta = torch.as_tensor(u, dtype=torch.float32)
    d = u.shape[1]
    prior = BoxUniform(low=torch.zeros(d), high=torch.ones(d))
    # sbi logs training to ./sbi-logs by default: into a folder of ours, deleted after
    with tempfile.TemporaryDirectory() as logs:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(log_dir=logs)
        inference = NPE(
            prior=prior, density_estimator="maf", show_progress_bars=False, summary_writer=writer
        )
        with contextlib.redirect_stdout(io.StringIO()):  # sbi prints its convergence
            estimator = inference.append_simulations(theta, x).train(
                show_train_summary=False, max_num_epochs=MAX_EPOCHS
            )
        writer.close()
    posterior = inference.build_posterior(estimator)

    def sample(observed: np.ndarray, n: int = samples) -> np.ndarray:
        torch.manual_seed(seed + 1)
        xo = torch.as_tensor(summary(observed), dtype=torch.float32)
        return posterior.sample((n,), x=xo, show_progress_bars=False).numpy().astype(float)

    return sample, summary
