"""Minibatch SGD on the airfoil data: the book's linear-regression runs with gradient descent
(batch 1500), SGD (batch 1), minibatches of 10 and 100, and the concise ``torch.optim`` version;
loss against epochs and against wall-clock time, over the least-squares floor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import Tensor

from trainlab.data.airfoil import RegressionData
from trainlab.experiments.figures import FigureResult, blank_figure

__all__ = ["BOOK_RUNS", "Run", "RunResult", "least_squares_floor", "minibatch_figure", "train"]


@dataclass(frozen=True)
class Run:
    """One of the book's runs: a name, the step size, the batch size, epochs, from scratch or
    with ``torch.optim.SGD`` ("concise")."""

    name: str
    lr: float
    batch_size: int
    epochs: int
    concise: bool = False


# The second edition's runs (the first used 6 epochs for GD); every printed loss is 0.242–0.249.
BOOK_RUNS = (
    Run("gd", 1.0, 1500, 10),
    Run("sgd", 0.005, 1, 2),
    Run("minibatch 100", 0.4, 100, 2),
    Run("minibatch 10", 0.05, 10, 2),
    Run("concise", 0.01, 10, 2, concise=True),
)
BOOK_LOSS_BAND = (0.242, 0.249)


@dataclass
class RunResult:
    run: Run
    examples: list[float] = field(default_factory=list)  # epochs elapsed at each record
    seconds: list[float] = field(default_factory=list)  # training time at each record
    losses: list[float] = field(default_factory=list)  # full-data loss ½·mean (ŷ − y)²

    @property
    def final_loss(self) -> float:
        return self.losses[-1]


def _full_loss(X: Tensor, y: Tensor, w: Tensor, b: Tensor) -> float:
    with torch.no_grad():
        return float(((X @ w + b - y) ** 2 / 2).mean())


def least_squares_floor(data: RegressionData) -> float:
    """The smallest ½·mean (ŷ − y)² any linear model reaches on these rows (lstsq with bias)."""
    X = torch.cat(
        [data.features.double(), torch.ones(len(data.targets), 1, dtype=torch.float64)], 1
    )
    solution = torch.linalg.lstsq(X, data.targets.double().unsqueeze(1)).solution
    return float(((X @ solution).squeeze(1) - data.targets.double()).square().mean() / 2)


def train(run: Run, data: RegressionData, seed: int = 0, record_every: int = 200) -> RunResult:
    """Linear regression ŷ = Xw + b, w ~ N(0, 0.01²), b = 0, loss ½(ŷ − y)² averaged over the
    batch, minibatches drawn by shuffling every epoch; the full-data loss is recorded every
    ``record_every`` examples (timing excludes the recording, as in the book)."""
    gen = torch.Generator().manual_seed(seed)
    X, y = data.features, data.targets
    n = len(y)
    w = (torch.randn(X.shape[1], generator=gen) * 0.01).requires_grad_()
    b = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=run.lr) if run.concise else None
    result = RunResult(run, [0.0], [0.0], [_full_loss(X, y, w, b)])
    seen, elapsed = 0, 0.0
    for _ in range(run.epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, run.batch_size):
            tic = time.perf_counter()
            rows = order[start : start + run.batch_size]
            loss = ((X[rows] @ w + b - y[rows]) ** 2 / 2).mean()
            loss.backward()
            if optimizer is not None:
                optimizer.step()
                optimizer.zero_grad()
            else:  # the book's from-scratch sgd: p ← p − η·∇p
                with torch.no_grad():
                    for p in (w, b):
                        p -= run.lr * p.grad
                        p.grad = None
            elapsed += time.perf_counter() - tic
            seen += len(rows)
            if seen % record_every < len(rows) or seen % n == 0:
                result.examples.append(seen / n)
                result.seconds.append(elapsed)
                result.losses.append(_full_loss(X, y, w, b))
    return result


def minibatch_figure(results: list[RunResult], floor: float) -> FigureResult:
    """Loss against epochs and against training time (log axis) for every run, with the
    least-squares floor every curve approaches from above."""
    fig = blank_figure(9.0, 3.4)
    by_epoch, by_time = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for r in results:
        label = f"{r.run.name} (lr {r.run.lr:g}, batch {r.run.batch_size})"
        by_epoch.plot(r.examples, r.losses, label=label)
        by_time.plot(r.seconds[1:], r.losses[1:], label=label)  # t = 0 has no place on a log axis
    for ax in (by_epoch, by_time):
        ax.axhline(floor, color="k", linestyle=":", linewidth=1, label="least squares")
        ax.set(ylabel="loss", ylim=(floor - 0.01, 0.5))
    by_epoch.set(xlabel="epoch")
    by_time.set(xlabel="time (s)", xscale="log")
    by_epoch.legend(fontsize="x-small")
    return FigureResult(fig, {"floor": floor, "final": {r.run.name: r.final_loss for r in results}})
