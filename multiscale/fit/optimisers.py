"""The optimisers of ``multiscale fit``, each asked for a generation of points in the unit
cube and told their losses: CMA-ES (``cma``, the default), Optuna's TPE (``optuna``), and
for ``method: sbi`` draws from the prior (``multiscale.fit.inference``). Each is seeded,
so that replaying a fit's stored generations proposes the same points again."""

from __future__ import annotations

import numpy as np

from multiscale.config import ConfigError
from multiscale.cosim import stream_seed
from multiscale.fit.problem import Problem


class CMA:
    """CMA-ES (``cma``) in the unit cube, its random numbers kept apart from numpy's
    global generator (which Brian2 reseeds), so that a replay proposes the same points."""

    def __init__(self, start: np.ndarray, sigma: float, population: int, seed: int) -> None:
        import cma

        saved = np.random.get_state()
        np.random.seed(seed)
        self.es = cma.CMAEvolutionStrategy(
            list(start) if len(start) > 1 else [float(start[0]), 0.5],
            sigma,
            {"bounds": [0, 1], "seed": seed, "popsize": population, "verbose": -9},
        )
        self.dims = len(start)
        self.state = np.random.get_state()
        np.random.set_state(saved)

    def ask(self) -> list[np.ndarray]:
        saved = np.random.get_state()
        np.random.set_state(self.state)
        X = self.es.ask()
        self.state = np.random.get_state()
        np.random.set_state(saved)
        self._asked = X
        return [np.clip(np.asarray(x[: self.dims], dtype=float), 0.0, 1.0) for x in X]

    def tell(self, losses: list[float]) -> None:
        saved = np.random.get_state()
        np.random.set_state(self.state)
        self.es.tell(self._asked, list(losses))
        self.state = np.random.get_state()
        np.random.set_state(saved)

    def spread(self) -> tuple[np.ndarray, np.ndarray]:
        """The search distribution's mean and standard deviation, in the unit cube."""
        return (
            np.asarray(self.es.mean[: self.dims], dtype=float),
            np.asarray(self.es.result.stds[: self.dims], dtype=float),
        )


class Optuna:
    """Optuna's TPE sampler, seeded, asked for a generation of candidates at a time."""

    def __init__(self, n: int, seed: int) -> None:
        try:
            import optuna
        except ImportError as err:
            raise ConfigError(
                "fit.method: got 'optuna'; it needs the optuna package: pip install optuna "
                "(or use method: cma)"
            ) from err
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
        self.n = n
        self._trials: list = []
        self.dims = n

    def ask(self, population: int) -> list[np.ndarray]:
        dist = self.optuna.distributions.FloatDistribution(0.0, 1.0)
        self._trials = [
            self.study.ask({f"u{i}": dist for i in range(self.n)}) for _ in range(population)
        ]
        return [np.array([t.params[f"u{i}"] for i in range(self.n)]) for t in self._trials]

    def tell(self, losses: list[float]) -> None:
        for t, loss in zip(self._trials, losses, strict=True):
            self.study.tell(t, loss)

    def spread(self) -> tuple[np.ndarray, np.ndarray]:
        best = sorted(self.study.trials, key=lambda t: t.value if t.value is not None else np.inf)
        top = np.array(
            [[t.params[f"u{i}"] for i in range(self.n)] for t in best[: max(3, len(best) // 10)]]
        )
        return top.mean(axis=0), top.std(axis=0)


def make_optimiser(problem: Problem):
    """The optimiser of ``problem``'s method, seeded from the experiment's seed."""
    spec = problem.spec
    seed = stream_seed(problem.experiment.seed, "fit.optimiser") % (2**31)
    if spec.method == "optuna":
        return Optuna(len(spec.free), seed)
    if spec.method == "sbi":
        from multiscale.fit.inference import PriorSampler, require_sbi

        require_sbi()
        return PriorSampler(len(spec.free), seed)
    return CMA(problem.start(), spec.sigma, spec.population, seed)


def ask(opt, population: int) -> list[np.ndarray]:
    """The next generation's points (CMA-ES sets its population itself)."""
    return opt.ask() if isinstance(opt, CMA) else opt.ask(population)
