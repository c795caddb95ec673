"""Minibatch SGD on the airfoil data: the book's linear-regression runs with gradient descent
(batch 1500), SGD (batch 1), minibatches of 10 (and 100 in E2/E3) and the concise
``torch.optim`` version, each over the profile's seeds, with the edition's settings; loss
against epochs and against wall-clock time over the least-squares floor; the time per epoch by
batch size; and the exact variance of a minibatch gradient.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor

from trainlab.data.airfoil import RegressionData
from trainlab.experiments.editions import EDITION_SETTINGS, AirfoilRun
from trainlab.experiments.figures import blank_figure, epoch_axis, new_figure
from trainlab.experiments.result import Lang, Number, Plot, Result, Spread, Text
from trainlab.experiments.settings import Context
from trainlab.experiments.sgd import minibatch_gradient_variance

__all__ = [
    "EXPERIMENTS",
    "RunResult",
    "airfoil_runs",
    "batch_sizes",
    "least_squares_floor",
    "train",
    "variance",
]


@dataclass
class RunResult:
    run: AirfoilRun
    epochs_done: list[float] = field(default_factory=list)  # epochs elapsed at each record
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


def train(
    run: AirfoilRun,
    data: RegressionData,
    seed: int = 0,
    record: str = "per_epoch_100",
    concise_init: str = "default",
) -> RunResult:
    """Linear regression ŷ = Xw + b, loss ½(ŷ − y)² averaged over the batch, minibatches drawn
    by shuffling every epoch, as the edition's ``train_sgd``/``train_concise`` do: scratch
    weights w ~ N(0, 0.01²), b = 0; the concise run's nn.Linear init (``default``: torch's own,
    as COURSE/E1; ``normal``: w ~ N(0, 0.01²), as E2/E3). The full-data loss is recorded, as the
    edition's code does, every 100 examples of each epoch plus at the start (``per_epoch_100``)
    or whenever the cumulative example count is a multiple of 200 (``cumulative_200``). Timing
    excludes the recording."""
    gen = torch.Generator().manual_seed(seed)
    X, y = data.features, data.targets
    n = len(y)
    if run.concise:
        torch.manual_seed(seed)
        layer = torch.nn.Linear(X.shape[1], 1)
        if concise_init == "normal":
            with torch.no_grad():
                layer.weight.normal_(0, 0.01, generator=gen)
        w, b = layer.weight.view(-1), layer.bias
        optimizer = torch.optim.SGD(layer.parameters(), lr=run.lr)
    else:
        w = (torch.randn(X.shape[1], generator=gen) * 0.01).requires_grad_()
        b = torch.zeros(1, requires_grad=True)
        optimizer = None
    result = RunResult(run)
    if record == "per_epoch_100":
        result.epochs_done.append(0.0)
        result.seconds.append(0.0)
        result.losses.append(_full_loss(X, y, w, b))
    seen, elapsed = 0, 0.0
    for _ in range(run.epochs):
        order = torch.randperm(n, generator=gen)
        for i, first in enumerate(range(0, n, run.batch_size)):
            tic = time.perf_counter()
            rows = order[first : first + run.batch_size]
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
            due = (
                ((i + 1) * run.batch_size % 100 == 0)
                if record == "per_epoch_100"
                else (seen % 200 == 0)
            )
            if due:
                result.epochs_done.append(seen / n)
                result.seconds.append(elapsed)
                result.losses.append(_full_loss(X, y, w, b))
    if not result.epochs_done or result.epochs_done[-1] != seen / n:  # always end on the last
        result.epochs_done.append(seen / n)
        result.seconds.append(elapsed)
        result.losses.append(_full_loss(X, y, w, b))
    return result


_RUN_NAMES = {
    "gd": Text("GD", "梯度下降"),
    "sgd": Text("SGD", "随机梯度下降"),
    "minibatch100": Text("minibatch 100", "小批量 100"),
    "minibatch10": Text("minibatch 10", "小批量 10"),
    "concise": Text("concise", "简洁实现"),
}


def airfoil_runs(ctx: Context) -> Result:
    """The edition's five (or four) runs over the profile's seeds; the band of each final loss
    runs from the least-squares floor to our seeds' highest."""
    data = ctx.airfoil()
    edition = EDITION_SETTINGS[ctx.settings.edition]
    floor = least_squares_floor(data)
    shown = {}
    result = Result("airfoil", [Number("airfoil.floor", floor)])
    for run in edition.airfoil_runs:
        runs = [
            train(run, data, s, edition.airfoil_record, edition.concise_init)
            for s in ctx.settings.seeds
        ]
        spread = Spread(tuple(r.final_loss for r in runs), ctx.settings.seeds)
        key = f"airfoil.{run.name}.final_loss"
        if ctx.comparable:
            key += f"@{ctx.settings.edition}"
        result.numbers.append(Number(key, spread.median, spread, (floor, spread.max)))
        shown[run.name] = runs[0]

    def draw(lang: Lang):
        fig = blank_figure(9.0, 3.8)
        by_epoch, by_time = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        for name, r in shown.items():
            label = f"{_RUN_NAMES[name](lang)} (lr {r.run.lr:g}, {r.run.batch_size})"
            by_epoch.plot(r.epochs_done, r.losses, label=label)
            by_time.plot([max(t, 1e-4) for t in r.seconds[1:]], r.losses[1:], label=label)
        for ax in (by_epoch, by_time):
            ax.axhline(
                floor,
                color="k",
                linestyle=":",
                linewidth=1,
                label=Text("least squares", "最小二乘")(lang),
            )
            ax.set(ylabel=Text("loss", "损失")(lang), ylim=(floor - 0.01, 0.5))
        epoch_axis(by_epoch, lang)
        by_time.set(xlabel=Text("time (s)", "时间（秒）")(lang), xscale="log")
        by_epoch.legend(fontsize=8)
        return fig

    fastest = min(
        shown,
        key=lambda k: next(
            (
                t
                for t, v in zip(shown[k].seconds, shown[k].losses, strict=True)
                if v <= floor + 0.01
            ),
            float("inf"),
        ),
    )
    return result.extend(
        [
            Result(
                "airfoil_plot",
                plots=[
                    Plot(
                        "airfoil",
                        draw,
                        Text(
                            f"every run approaches the least-squares floor {floor:.4f}; per second of training "
                            f"{_RUN_NAMES[fastest].en} gets within 0.01 of it first",
                            f"各运行都逼近最小二乘下界 {floor:.4f}；按训练时间计，{_RUN_NAMES[fastest].zh} 最先进入其 "
                            "0.01 以内",
                        ),
                        Text(
                            "airfoil loss against epochs and against seconds for each batch size",
                            "翼型数据上各批量大小的损失—迭代周期曲线与损失—时间曲线",
                        ),
                    )
                ],
            )
        ]
    )


def batch_sizes(ctx: Context) -> Result:
    """Time per epoch and final loss by batch size (exercise 12.5.1), lr scaled with √B."""
    data = ctx.airfoil()
    sizes = (1, 5, 10, 50, 100, 500, 1500)
    seconds, losses = [], []
    for size in sizes:
        run = AirfoilRun(f"b{size}", min(0.005 * size**0.5 * 3, 1.0), size, 2)
        r = train(run, data, ctx.settings.seed)
        seconds.append(r.seconds[-1] / run.epochs)
        losses.append(r.final_loss)

    def draw(lang: Lang):
        fig, ax = new_figure()
        ax.loglog(sizes, seconds, "o-")
        ax.set(
            xlabel=Text("batch size", "批量大小")(lang),
            ylabel=Text("seconds per epoch", "每轮秒数")(lang),
        )
        return fig

    ratio = seconds[0] / seconds[-1]
    return Result(
        "batch_sizes",
        [Number("airfoil.epoch_seconds", seconds)],
        [
            Plot(
                "batch_sizes",
                draw,
                Text(
                    f"one epoch of single examples takes {ratio:.0f}× as long as one full batch: the "
                    "work per example is the same, the per-step overhead is not",
                    f"逐样本训练一轮耗时是整批一轮的 {ratio:.0f} 倍：每个样本的计算量相同，每步的固定开销不同",
                ),
                Text(
                    "seconds per epoch against batch size, log-log",
                    "每轮秒数与批量大小（双对数坐标）",
                ),
            )
        ],
    )


def variance(ctx: Context) -> Result:
    """The variance of the minibatch mean of the per-example gradients {1, 2, 3, 4}, by
    enumerating every equally likely batch, for B = 2 and 4 with and without replacement."""
    return Result(
        "minibatch_variance",
        [
            Number(
                f"minibatch.variance.B{b}.{'with' if w else 'without'}",
                minibatch_gradient_variance([1, 2, 3, 4], b, w),
            )
            for b, w in itertools.product((2, 4), (False, True))
        ],
    )


EXPERIMENTS = (airfoil_runs, batch_sizes, variance)
