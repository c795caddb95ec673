"""Stochastic gradient descent: the book's noisy-gradient runs with each learning-rate
schedule (over many seeds, the book's one printed draw placed in their spread), and the exact
facts behind SGD (running means, sampling with replacement, the convex convergence bound).

The book's schedules advance their counter before computing the rate (``t = 1`` … ``t += 1;
return math.exp(-0.1 * t)``), so the rate of step k (k = 1, 2, …) is the schedule at t = k + 1;
:func:`book_rate` reproduces that sequence exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from trainlab.experiments.editions import EDITION_SETTINGS, SGDRun
from trainlab.experiments.figures import new_figure
from trainlab.experiments.result import Lang, Number, Plot, Result, Spread, Text
from trainlab.experiments.settings import Context
from trainlab.optim.descent import train_2d
from trainlab.optim.schedules import book_exponential, book_polynomial, constant

__all__ = [
    "EXPERIMENTS",
    "book_rate",
    "convex_bound",
    "drawn_at_least_once",
    "minibatch_gradient_variance",
    "noisy_sgd",
    "running_mean",
    "running_mean_by_sgd",
    "sampling",
    "schedules",
    "trajectories",
]

ETA = 0.1
SCHEDULES: dict[str, Callable[[int], float]] = {
    "constant": constant(1.0),
    "exponential": book_exponential(),
    "polynomial": book_polynomial(),
}


def book_rate(schedule: Callable[[int], float], step: int) -> float:
    """The rate the book's code uses at step ``step`` (1-based): η₀·schedule(step + 1), its
    counter starting at 1 and incremented before use."""
    return ETA * schedule(step + 1)


def _f(x1, x2):
    return x1**2 + 2 * x2**2


def noisy_sgd(
    schedule: Callable[[int], float], steps: int, seed: int = 0, noise_mean: float = 0.0
) -> list[tuple[float, float]]:
    """SGD simulated as the book does: the gradient of x1² + 2x2² plus N(noise_mean, 1) noise
    per coordinate (COURSE and E1 draw ``np.random.normal(0.1)``, mean 0.1; E2/E3 mean 0), from
    (−5, −2), with the book's rates :func:`book_rate`. Returns the points visited."""
    gen = torch.Generator().manual_seed(seed)
    step = iter(range(1, steps + 1))

    def update(x1, x2, s1, s2):
        g1 = 2 * x1 + noise_mean + float(torch.randn((), generator=gen, dtype=torch.float64))
        g2 = 4 * x2 + noise_mean + float(torch.randn((), generator=gen, dtype=torch.float64))
        eta = book_rate(schedule, next(step))
        return x1 - eta * g1, x2 - eta * g2, 0, 0

    return train_2d(update, steps=steps)


def schedules(ctx: Context) -> Result:
    """The first rates of the book's exponential and polynomial schedules, as its loop makes
    them, against the closed forms; the schedules side by side."""
    result = Result("schedules")
    for name in ("exponential", "polynomial"):
        rates = [book_rate(SCHEDULES[name], k) for k in range(1, 5)]
        result.numbers.append(Number(f"schedule.{name}.first", rates))
    steps = range(1, 1001)
    curves = {name: [book_rate(s, k) for k in steps] for name, s in SCHEDULES.items()}

    def draw(lang: Lang):
        fig, ax = new_figure()
        for name, values in curves.items():
            ax.plot(list(steps), values, label=name)
        ax.set(xlabel=Text("step k", "步数 k")(lang), ylabel="η_k", xscale="log")
        ax.legend()
        return fig

    total = sum(curves["exponential"])
    result.plots.append(
        Plot(
            "schedules",
            draw,
            Text(
                f"the exponential rate decays so fast that its 1000 steps add up to only {total:.3f} "
                f"(the polynomial's first 50 alone add up to {sum(curves['polynomial'][:50]):.2f}): "
                "SGD with it stalls",
                f"指数衰减学习率下降太快，1000 步之和仅 {total:.3f}（多项式衰减前 50 步"
                f"之和已达 {sum(curves['polynomial'][:50]):.2f}）：随机梯度下降因此停滞",
            ),
            Text(
                "learning rate per step for the constant, exponential and polynomial schedules",
                "常数、指数、多项式学习率调度的每步学习率",
            ),
            sweep={
                "parameter": Text("schedule", "调度").as_dict(),
                "values": list(curves),
                "series": [
                    {
                        "lines": [{"x": list(steps), "y": v}],
                        "caption": Text(
                            f"{k}: η₁ = {v[0]:.4f}, η₁₀₀₀ = {v[-1]:.2e}",
                            f"{k}：η₁ = {v[0]:.4f}，η₁₀₀₀ = {v[-1]:.2e}",
                        ).as_dict(),
                    }
                    for k, v in curves.items()
                ],
                "axes": {"x": [1, 1000], "y": [0, 0.1], "xscale": "log"},
            },
        )
    )
    return result


def trajectories(ctx: Context) -> Result:
    """Each of the edition's SGD runs over the profile's seeds: the final point's spread, the
    book's printed draw placed in it, and one seed's path drawn."""
    edition = EDITION_SETTINGS[ctx.settings.edition]
    result = Result("sgd_trajectories")
    for run in edition.sgd_runs:
        finals = [
            noisy_sgd(SCHEDULES[run.schedule], run.steps, s, edition.sgd_noise_mean)[-1]
            for s in ctx.settings.seeds
        ]
        for i in range(2):
            values = tuple(p[i] for p in finals)
            spread = Spread(values, ctx.settings.seeds)
            suffix = f"@{ctx.settings.edition}" if ctx.comparable else ""
            result.numbers.append(
                Number(
                    f"sgd.{run.name}.x{i + 1}{suffix}",
                    spread.median,
                    spread,
                    (spread.min, spread.max),
                )
            )
        result.plots.append(_trajectory_plot(run, finals, ctx, edition.sgd_noise_mean))
    return result


def _trajectory_plot(run: SGDRun, finals, ctx: Context, noise_mean: float) -> Plot:
    path = noisy_sgd(SCHEDULES[run.schedule], run.steps, ctx.settings.seed, noise_mean)
    xs = torch.linspace(-6, 6, 200, dtype=torch.float64)
    ys = torch.linspace(-3, 3, 200, dtype=torch.float64)
    x1, x2 = torch.meshgrid(xs, ys, indexing="ij")
    distance = sorted(math.hypot(*p) for p in finals)

    def draw(lang: Lang):
        fig, ax = new_figure(4.6, 3.6)
        ax.contour(x1, x2, _f(x1, x2), levels=15, colors="#1f77b4", linewidths=0.6)
        ax.plot(
            [p[0] for p in path],
            [p[1] for p in path],
            "-",
            color="#ff7f0e",
            linewidth=0.8,
            label=Text(f"seed {ctx.settings.seed}", f"种子 {ctx.settings.seed}")(lang),
        )
        ax.plot(
            [p[0] for p in finals],
            [p[1] for p in finals],
            "k.",
            label=Text(f"final points, {len(finals)} seeds", f"{len(finals)} 个种子的终点")(lang),
        )
        ax.set(xlabel="x₁", ylabel="x₂", title=f"{run.schedule}, {run.steps}")
        ax.legend(loc="lower right")
        return fig

    median = distance[len(distance) // 2]
    stall = run.schedule == "exponential"
    return Plot(
        f"sgd_{run.name}",
        draw,
        Text(
            f"{run.schedule} rate, {run.steps} steps: the final point is {median:.2f} from the "
            f"optimum (median of {len(finals)} seeds)"
            + ("; the rate died out before the iterate arrived" if stall else ""),
            f"{run.schedule} 学习率，{run.steps} 步：终点距最优点 {median:.2f}（{len(finals)} 个种子的中位数）"
            + ("；学习率在到达前就已衰减殆尽" if stall else ""),
        ),
        Text(
            "SGD path on the contours of x₁² + 2x₂², with the final points of every seed",
            "x₁² + 2x₂² 等高线上的随机梯度下降路径，及各种子的终点",
        ),
    )


def running_mean_by_sgd(xi) -> list[float]:
    """SGD on f_t(x) = ½(x − ξ_t)² from x = 0 with η_t = 1/t: x_t = x_{t−1} − (x_{t−1} − ξ_t)/t,
    which is exactly the running mean of ξ_1..ξ_t."""
    x, out = 0.0, []
    for t, value in enumerate(xi, start=1):
        x -= (x - value) / t
        out.append(x)
    return out


def running_mean(ctx: Context) -> Result:
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    xi = torch.randn(1000, generator=gen, dtype=torch.float64).tolist()
    sgd = running_mean_by_sgd(xi)
    means = (torch.tensor(xi, dtype=torch.float64).cumsum(0) / torch.arange(1, 1001)).tolist()
    return Result(
        "running_mean",
        [Number("sgd.running_mean", max(abs(a - b) for a, b in zip(sgd, means, strict=True)))],
    )


def drawn_at_least_once(n: int) -> float:
    """P(a given example is drawn at least once in n draws with replacement) = 1 − (1 − 1/n)ⁿ,
    which tends to 1 − 1/e ≈ 0.632."""
    return 1 - (1 - 1 / n) ** n


def sampling(ctx: Context) -> Result:
    """The 0.63 and 0.37 facts for n = 1500 (the airfoil set's size), computed and simulated."""
    n, epochs = 1500, 200
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    draws = torch.randint(n, (epochs, n), generator=gen)
    counts = torch.zeros(epochs, n).scatter_add_(1, draws, torch.ones(epochs, n))
    at_least = float((counts > 0).float().mean())
    exactly = float((counts == 1).float().mean())
    return Result(
        "sampling",
        [
            Number("sampling.at_least_once", drawn_at_least_once(n)),
            Number("sampling.exactly_once", (1 - 1 / n) ** (n - 1)),
            Number(
                "sampling.simulated",
                at_least,
                detail=Text(f"exactly once: {exactly:.4f}", f"恰好一次：{exactly:.4f}"),
            ),
        ],
    )


def convex_bound(ctx: Context) -> Result:
    """SGD on the convex f(x) = E ½(x − ξ)², ξ = ±1, over |x| ≤ 2 (so every stochastic gradient
    has |g| ≤ L = 3), from x₀ = 2 (r = 2) with η = r/(L√T): the averaged iterate's gap
    f(x̄) − f* = x̄²/2 against the bound rL/√T, averaged over the seeds."""
    T, r, L = 1000, 2.0, 3.0
    eta = r / (L * math.sqrt(T))
    gaps = []
    for seed in ctx.settings.seeds:
        gen = torch.Generator().manual_seed(seed)
        signs = (torch.randint(2, (T,), generator=gen) * 2 - 1).double().tolist()
        x, total = 2.0, 0.0
        for xi in signs:
            total += x
            x = min(2.0, max(-2.0, x - eta * (x - xi)))
        gaps.append((total / T) ** 2 / 2)
    bound = r * L / math.sqrt(T)
    mean_gap = sum(gaps) / len(gaps)
    return Result(
        "convex_bound",
        [
            Number(
                "sgd.convex_bound",
                mean_gap / bound,
                detail=Text(
                    f"gap {mean_gap:.2e} ≤ bound {bound:.3f}",
                    f"差距 {mean_gap:.2e} ≤ 上界 {bound:.3f}",
                ),
            )
        ],
    )


def minibatch_gradient_variance(per_example, batch_size: int, replacement: bool) -> float:
    """The variance of the minibatch mean gradient by enumerating every equally likely batch."""
    import itertools

    values = torch.tensor(per_example, dtype=torch.float64)
    n = len(values)
    batches = (
        itertools.product(range(n), repeat=batch_size)
        if replacement
        else itertools.combinations(range(n), batch_size)
    )
    means = torch.stack([values[list(b)].mean() for b in batches])
    return float(((means - values.mean()) ** 2).mean())


EXPERIMENTS = (schedules, trajectories, running_mean, sampling, convex_bound)
