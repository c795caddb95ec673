"""Stochastic gradient descent: the book's noisy-gradient runs with each learning-rate schedule,
and the small exact facts behind SGD (running means, sampling with replacement, minibatch
variance)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch

from trainlab.experiments.figures import FigureResult
from trainlab.experiments.gradient_descent import show_trace_2d
from trainlab.optim.descent import train_2d
from trainlab.optim.schedules import book_exponential, book_polynomial, constant

__all__ = [
    "SCHEDULE_RUNS",
    "drawn_at_least_once",
    "minibatch_gradient_variance",
    "noisy_sgd",
    "running_mean_by_sgd",
]

# The book's runs: (schedule, steps). Its schedules count t from 1 (the counter is incremented
# before the learning rate is computed).
SCHEDULE_RUNS: dict[str, tuple[Callable[[int], float], int]] = {
    "constant": (constant(1.0), 50),
    "exponential": (book_exponential(), 1000),
    "polynomial": (book_polynomial(), 50),
}


def _f(x1, x2):
    return x1**2 + 2 * x2**2


def noisy_sgd(
    schedule: Callable[[int], float],
    steps: int,
    eta: float = 0.1,
    seed: int = 0,
    noise: float = 1.0,
) -> tuple[list[tuple[float, float]], FigureResult]:
    """SGD simulated as the book does: the gradient of x1² + 2x2² plus N(0, noise²) noise (an
    unbiased gradient estimate), from (−5, −2), with η_t = eta·schedule(t), t = 1, 2, ...
    (E1 and the course used N(0.1, 1) noise, a biased quirk not reproduced here)."""
    gen = torch.Generator().manual_seed(seed)
    t = itertools.count(1)

    def update(x1, x2, s1, s2):
        g1, g2 = 2 * x1, 4 * x2
        g1 += noise * float(torch.randn((), generator=gen, dtype=torch.float64))
        g2 += noise * float(torch.randn((), generator=gen, dtype=torch.float64))
        eta_t = eta * schedule(next(t))
        return x1 - eta_t * g1, x2 - eta_t * g2, 0, 0

    points = train_2d(update, steps=steps)
    return points, show_trace_2d(_f, points, ((-6, 6), (-3, 3)), f"SGD, {steps} steps")


def running_mean_by_sgd(xi: Sequence[float]) -> list[float]:
    """SGD on f_t(x) = ½(x − ξ_t)² from x = 0 with η_t = 1/t: x_t = x_{t−1} − (x_{t−1} − ξ_t)/t,
    which is exactly the running mean of ξ_1..ξ_t."""
    x, out = 0.0, []
    for t, value in enumerate(xi, start=1):
        x -= (x - value) / t
        out.append(x)
    return out


def drawn_at_least_once(n: int) -> float:
    """P(a given example is drawn at least once in n draws with replacement) = 1 − (1 − 1/n)ⁿ,
    which tends to 1 − 1/e ≈ 0.632."""
    return 1 - (1 - 1 / n) ** n


def minibatch_gradient_variance(
    per_example: Sequence[float], batch_size: int, replacement: bool
) -> tuple[float, float]:
    """The variance of the minibatch mean gradient, by enumerating every equally likely batch,
    and the closed form: σ²/B with replacement, σ²/B·(n − B)/(n − 1) without (σ² the population
    variance of the per-example gradients)."""
    values = torch.tensor(per_example, dtype=torch.float64)
    n = len(values)
    if replacement:
        batches = itertools.product(range(n), repeat=batch_size)
    else:
        batches = itertools.combinations(range(n), batch_size)
    means = torch.stack([values[list(b)].mean() for b in batches])
    enumerated = float(((means - values.mean()) ** 2).mean())
    sigma2 = float(values.var(unbiased=False))
    closed = sigma2 / batch_size * (1 if replacement else (n - batch_size) / (n - 1))
    return enumerated, closed
