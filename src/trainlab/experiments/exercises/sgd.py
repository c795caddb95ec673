"""Exercises of d2l §12.4 (stochastic gradient descent): the book's noisy quadratic over many
seeds at once, the noise/random-parameter equivalence checked step for step, sampling with and
without replacement on the airfoil data, per-coordinate step sizes, and the minima of
x²(1 + sin x).

:func:`linear_sgd` — minibatch SGD for linear regression, one run per seed side by side — serves
the minibatch-SGD exercises too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import torch
from torch import Tensor

from trainlab.data.airfoil import RegressionData
from trainlab.experiments.figures import blank_figure, epoch_axis, new_figure
from trainlab.experiments.minibatch_sgd import least_squares_floor
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context
from trainlab.experiments.sgd import book_rate
from trainlab.optim.schedules import book_exponential, book_polynomial, constant, cosine, polynomial

__all__ = ["EXERCISES", "linear_sgd", "local_minima", "noisy_quadratic"]

F64 = torch.float64
START = (-5.0, -2.0)  # the book's start for x₁² + 2x₂²
CURVATURE = (2.0, 4.0)  # ∇(x₁² + 2x₂²) = (2x₁, 4x₂)


def _steps(ctx: Context) -> int:
    return {"smoke": 200, "quick": 1000, "book": 5000}[ctx.settings.profile]


def noisy_quadratic(
    rates: Sequence[float], seeds: Sequence[int], noise: Tensor | None = None
) -> Tensor:
    """SGD on x₁² + 2x₂² from (−5, −2) with N(0, 1) noise added to each gradient coordinate (the
    book's simulation, E3's zero-mean noise), one run per seed side by side; step k uses rate
    ``rates[k]``. ``noise`` (steps, seeds, 2) replaces the drawn noise. Returns the points,
    (steps + 1, seeds, 2)."""
    if noise is None:
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        noise = torch.stack([torch.randn(len(rates), 2, generator=g, dtype=F64) for g in gens], 1)
    curvature = torch.tensor(CURVATURE, dtype=F64)
    x = torch.tensor(START, dtype=F64).repeat(len(seeds), 1)
    points = [x]
    for eta, z in zip(rates, noise, strict=True):
        x = x - eta * (curvature * x + z)
        points.append(x)
    return torch.stack(points)


def linear_sgd(
    data: RegressionData,
    seeds: Sequence[int],
    batch_size: int,
    rates: Sequence[float],
    sampler: Literal["shuffle", "replacement"] = "shuffle",
    repeat: int = 1,
) -> Tensor:
    """Minibatch SGD on linear regression with the book's loss ½(xᵀw + b − y)², averaged over the
    batch, in float64, one run per seed side by side (w ~ N(0, 0.01²), b = 0, drawn from each
    seed's generator). Epoch e uses rate ``rates[e]``. ``"shuffle"`` goes through a fresh
    permutation each epoch (without replacement); ``"replacement"`` draws every example of every
    batch uniformly at random. ``repeat`` > 1 trains on that many copies of the data. Returns the
    full-data loss (on the copies: the same number) per seed at the start and after each epoch,
    (len(seeds), epochs + 1)."""
    X, y = data.features.double().repeat(repeat, 1), data.targets.double().repeat(repeat)
    n, d = X.shape
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    w = torch.stack([torch.randn(d, generator=g, dtype=F64) * 0.01 for g in gens])
    b = torch.zeros(len(seeds), dtype=F64)

    def loss() -> Tensor:
        return ((X @ w.T + b - y.unsqueeze(1)) ** 2 / 2).mean(0)

    losses = [loss()]
    for eta in rates:
        if sampler == "shuffle":
            order = torch.stack([torch.randperm(n, generator=g) for g in gens])
        elif sampler == "replacement":
            order = torch.stack([torch.randint(n, (n,), generator=g) for g in gens])
        else:
            raise ValueError(f"sampler must be 'shuffle' or 'replacement', got {sampler!r}")
        for first in range(0, n, batch_size):
            rows = order[:, first : first + batch_size]
            xb, yb = X[rows], y[rows]  # (seeds, batch, d), (seeds, batch)
            residual = (xb * w.unsqueeze(1)).sum(-1) + b.unsqueeze(1) - yb
            w = w - eta * (residual.unsqueeze(-1) * xb).mean(1)
            b = b - eta * residual.mean(1)
        losses.append(loss())
    return torch.stack(losses, 1)


def _quartiles(t: Tensor, dim: int) -> tuple[Tensor, Tensor, Tensor]:
    q = torch.quantile(t, torch.tensor([0.25, 0.5, 0.75], dtype=t.dtype), dim=dim)
    return q[0], q[1], q[2]


# 12.4.1 ------------------------------------------------------------------------------------


def schedules(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.4.1: distance to the optimum per iteration of the book's noisy SGD under five schedules,
    over the profile's seeds."""
    steps, seeds = _steps(ctx), ctx.settings.seeds
    plans: dict[str, tuple[Callable[[int], float], Text]] = {
        "constant": (constant(1.0), Text("constant", "常数")),
        "exponential": (book_exponential(), Text("exponential e^(−0.1t)", "指数 e^(−0.1t)")),
        "polynomial": (
            book_polynomial(),
            Text("polynomial (0.1t + 1)^(−½)", "多项式 (0.1t + 1)^(−½)"),
        ),
        "inverse": (
            polynomial(1.0, 1.0, 0.1),
            Text("polynomial (0.1t + 1)^(−1)", "多项式 (0.1t + 1)^(−1)"),
        ),
        "cosine": (cosine(1.0, steps), Text(f"cosine over {steps} steps", f"{steps} 步余弦")),
    }
    distances = {}
    for key, (schedule, _label) in plans.items():
        rates = [book_rate(schedule, k) for k in range(1, steps + 1)]
        path = noisy_quadratic(rates, seeds)
        distances[key] = torch.linalg.vector_norm(path, dim=-1)  # (steps + 1, seeds)
    medians = {k: _quartiles(v, 1)[1] for k, v in distances.items()}
    final = {k: float(m[-1]) for k, m in medians.items()}
    best = min(final, key=final.get)
    checkpoints = [s for s in (10, 100, 1000, 5000) if s <= steps]

    def draw(lang: Lang):
        fig, ax = new_figure(5.6, 3.8)
        t = torch.arange(steps + 1)
        for key, d in distances.items():
            low, mid, high = _quartiles(d, 1)
            ax.plot(t[1:], mid[1:], label=plans[key][1](lang))
            ax.fill_between(t[1:], low[1:], high[1:], alpha=0.2)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel=Text("iteration", "迭代次数")(lang),
            ylabel=Text("distance to (0, 0)", "到 (0, 0) 的距离")(lang),
        )
        ax.legend(fontsize=8)
        return fig

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{plans[k][1](lang)}: " + ", ".join(f"{float(m[s]):.3g}" for s in checkpoints)
            for k, m in medians.items()
        )

    answer = Text(
        f"The book's SGD on x₁² + 2x₂² (gradient noise N(0, 1), η = 0.1 × schedule, from (−5, −2)) for "
        f"{steps} steps over {len(seeds)} seeds. Median distance to the optimum (0, 0) after "
        f"{', '.join(map(str, checkpoints))} iterations — {listing('en')}. With a constant rate the "
        f"distance stalls at the noise floor set by η; the exponential schedule decays so fast that "
        f"its rates sum to a finite total and the iterate freezes where it is (it never reaches the "
        f"optimum); polynomial and cosine schedules keep moving while the steps shrink, and the 1/t "
        f"decay is the classic choice for strongly convex problems. Closest at the end: "
        f"{plans[best][1].en} ({final[best]:.3g}).",
        f"书中 x₁² + 2x₂² 上的随机梯度下降（梯度噪声 N(0, 1)，η = 0.1 × 调度，从 (−5, −2) 出发）跑 {steps} 步、{len(seeds)} 个种子。"
        f"{', '.join(map(str, checkpoints))} 次迭代后到最优点 (0, 0) 的距离中位数——{listing('zh')}。常数学习率下距离停在由 η 决定的噪声"
        f"水平；指数调度衰减太快，学习率之和有限，迭代点在原地冻结（永远到不了最优点）；多项式与余弦调度在步长缩小的同时继续前进，"
        f"1/t 衰减是强凸问题的经典选择。最后最接近的是{plans[best][1].zh}（{final[best]:.3g}）。",
    )
    values = {"steps": steps, "seeds": len(seeds), "checkpoints": checkpoints} | {
        f"median_distance_{k}": [float(m[s]) for s in checkpoints] for k, m in medians.items()
    }
    plot = Plot(
        "ex12_4_1_schedules",
        draw,
        Text(
            f"distance to the optimum per iteration for five schedules, median and quartiles over {len(seeds)} seeds; closest at the end: {plans[best][1].en}",
            f"五种调度下每次迭代到最优点的距离（{len(seeds)} 个种子的中位数与四分位数）；最后最接近：{plans[best][1].zh}",
        ),
        Text(
            "log-log curves of distance to the optimum for five learning-rate schedules",
            "五种学习率调度到最优点距离的双对数曲线",
        ),
    )
    return answer, values, [plot]


# 12.4.2 ------------------------------------------------------------------------------------


def noise_as_parameters(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.4.2: noisy-gradient SGD and exact steps on randomly shifted quadratics driven by the same
    draws."""
    steps, seeds = 100, ctx.settings.seeds
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    z = torch.randn(steps, len(seeds), 2, generator=gen, dtype=F64)
    eta = [0.1] * steps
    noisy = noisy_quadratic(eta, seeds, z)
    # the same runs as exact gradient steps on (x₁ − w₁)² + 2(x₂ − w₂)² with fresh w each step:
    # its gradient is (2x₁ − 2w₁, 4x₂ − 4w₂), so w₁ = −z₁/2 and w₂ = −z₂/4 reproduce the noise
    w = torch.stack([-z[..., 0] / 2, -z[..., 1] / 4], -1)
    x = torch.tensor(START, dtype=F64).repeat(len(seeds), 1)
    points = [x]
    curvature = torch.tensor(CURVATURE, dtype=F64)
    for k in range(steps):
        x = x - 0.1 * (curvature * (x - w[k]))
        points.append(x)
    gap = float((torch.stack(points) - noisy).abs().max())
    draws = torch.randn(100_000, 2, generator=gen, dtype=F64)
    variances = [float((draws[:, 0] / 2).var()), float((draws[:, 1] / 4).var())]
    answer = Text(
        f"Adding ξ ~ N(0, I) to ∇f = (2x₁, 4x₂) gives (2x₁ + ξ₁, 4x₂ + ξ₂) = (2(x₁ − w₁), 4(x₂ − w₂)) "
        f"with w₁ = −ξ₁/2 and w₂ = −ξ₂/4: exactly the gradient of (x₁ − w₁)² + 2(x₂ − w₂)², whose "
        f"minimizer w is drawn afresh each step with w₁ ~ N(0, 1/4) and w₂ ~ N(0, 1/16). (In the book's "
        f"statement the random parameters should be w, not x.) So noisy SGD minimizes a random "
        f"objective whose expectation is f plus a constant — as with a randomly drawn training "
        f"example. Check over {len(seeds)} seeds × {steps} steps at η = 0.1: the two trajectories agree "
        f"to {gap:g}; the sample variances of w₁ and w₂ over 100,000 draws are {variances[0]:.4f} and "
        f"{variances[1]:.4f} (1/4 and 1/16 = 0.0625).",
        f"在 ∇f = (2x₁, 4x₂) 上加 ξ ~ N(0, I) 得 (2x₁ + ξ₁, 4x₂ + ξ₂) = (2(x₁ − w₁), 4(x₂ − w₂))，其中 w₁ = −ξ₁/2、w₂ = −ξ₂/4："
        f"这恰是 (x₁ − w₁)² + 2(x₂ − w₂)² 的梯度，其极小点 w 每步重新抽取，w₁ ~ N(0, 1/4)，w₂ ~ N(0, 1/16)。（书中题目里的随机参数"
        f"应为 w 而非 x。）所以带噪声的随机梯度下降是在最小化一个随机目标，其期望是 f 加常数——正如随机抽取一个训练样本。验证："
        f"{len(seeds)} 个种子 × {steps} 步、η = 0.1，两条轨迹相差 {gap:g}；100,000 次抽样中 w₁、w₂ 的样本方差为 {variances[0]:.4f} 与 "
        f"{variances[1]:.4f}（1/4 与 1/16 = 0.0625）。",
    )
    return answer, {"trajectory_gap": gap, "w_variances": variances}, []


# 12.4.3 ------------------------------------------------------------------------------------


def replacement(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.4.3: batch-1 SGD on the airfoil regression, sampling with and without replacement, over
    the profile's seeds."""
    data = ctx.airfoil()
    epochs = {"smoke": 1, "quick": 4, "book": 10}[ctx.settings.profile]
    eta, seeds = 0.01, ctx.settings.seeds
    floor = least_squares_floor(data)
    curves = {
        s: linear_sgd(data, seeds, 1, [eta] * epochs, s) - floor for s in ("shuffle", "replacement")
    }
    medians = {s: _quartiles(c, 0)[1] for s, c in curves.items()}
    n = len(data.targets)
    unseen = math.exp(-1)
    names = {
        "shuffle": Text("without replacement (reshuffle each epoch)", "不放回（每轮重新打乱）"),
        "replacement": Text("with replacement", "有放回"),
    }

    def draw(lang: Lang):
        fig, ax = new_figure()
        for key, c in curves.items():
            low, mid, high = _quartiles(c, 0)
            ax.semilogy(range(epochs + 1), mid, "o-", label=names[key](lang))
            ax.fill_between(range(epochs + 1), low, high, alpha=0.2)
        ax.set(ylabel=Text("loss − least-squares floor", "损失 − 最小二乘下界")(lang))
        epoch_axis(ax, lang)
        ax.legend()
        return fig

    ratio = float(medians["replacement"][-1] / medians["shuffle"][-1])
    ahead = int((medians["shuffle"][1:] < medians["replacement"][1:]).sum())
    answer = Text(
        f"SGD (batch 1, η = {eta}) on linear regression of the {data.name} data ({n} rows), {epochs} "
        f"epoch(s), {len(seeds)} seeds. Median excess loss over the least-squares floor {floor:.4f} "
        f"after each epoch — without replacement: {', '.join(f'{v:.2e}' for v in medians['shuffle'][1:].tolist())}; "
        f"with replacement: {', '.join(f'{v:.2e}' for v in medians['replacement'][1:].tolist())} "
        f"({ratio:.2f}× at the end). Both are unbiased, but drawing with replacement leaves about e⁻¹ = "
        f"{unseen:.1%} of the examples unseen in an epoch and shows others twice, which adds variance; "
        f"a reshuffled pass uses every example once, so its errors partly cancel within the epoch, "
        f"which is why random reshuffling usually converges somewhat faster. Here sampling without "
        f"replacement ends lower after {ahead} of the {epochs} epoch(s); at a constant rate both "
        f"hover at a noise floor of similar size, and the difference shows once the rate decays.",
        f"在 {data.name} 数据（{n} 行）的线性回归上做随机梯度下降（批量 1，η = {eta}），{epochs} 轮，{len(seeds)} 个种子。每轮后超出"
        f"最小二乘下界 {floor:.4f} 的损失中位数——不放回：{', '.join(f'{v:.2e}' for v in medians['shuffle'][1:].tolist())}；有放回："
        f"{', '.join(f'{v:.2e}' for v in medians['replacement'][1:].tolist())}（最后为 {ratio:.2f} 倍）。两者都无偏，但有放回抽样每轮约有 "
        f"e⁻¹ = {unseen:.1%} 的样本未被看到，另一些被看到两次，增加了方差；重新打乱的一轮恰好用每个样本一次，误差在一轮内部分抵消，"
        f"所以随机重排通常收敛稍快。这里 {epochs} 轮中有 {ahead} 轮之后不放回抽样的损失更低；常数学习率下两者都在大小相近的噪声水平附近"
        f"波动，学习率衰减后差别才显现。",
    )
    values = {"floor": floor, "epochs": epochs} | {
        f"median_excess_{k}": m.tolist() for k, m in medians.items()
    }
    plot = Plot(
        "ex12_4_3_replacement",
        draw,
        Text(
            f"excess loss per epoch of SGD with and without replacement on {data.name}, median and quartiles over {len(seeds)} seeds",
            f"{data.name} 上有放回与不放回随机梯度下降每轮的超额损失（{len(seeds)} 个种子的中位数与四分位数）",
        ),
        Text("excess-loss curves for two sampling schemes", "两种抽样方式的超额损失曲线"),
    )
    return answer, values, [plot]


# 12.4.4 ------------------------------------------------------------------------------------


def dominant_coordinate(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.4.4: one learning rate against per-coordinate ones on a quadratic with one dominant
    gradient coordinate."""
    seeds, steps = ctx.settings.seeds, 300
    curvature = torch.tensor([1.0, 100.0], dtype=F64)  # f = ½(x₁² + 100x₂²): ∂f/∂x₂ dominates
    methods = {
        "sgd": Text("SGD, η = 0.015 (just under 2/100)", "SGD，η = 0.015（略低于 2/100）"),
        "diagonal": Text("per-coordinate η/h_i, η = 0.1", "按坐标 η/h_i，η = 0.1"),
        "adagrad": Text("AdaGrad, η = 1", "AdaGrad，η = 1"),
    }
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    noise = torch.stack([torch.randn(steps, 2, generator=g, dtype=F64) for g in gens], 1)
    values_f = {}
    for key in methods:
        x = torch.tensor(START, dtype=F64).repeat(len(seeds), 1)
        total = torch.zeros_like(x)
        history = [0.5 * (curvature * x * x).sum(1)]
        for z in noise:
            g = curvature * x + z
            if key == "sgd":
                x = x - 0.015 * g
            elif key == "diagonal":
                x = x - 0.1 * g / curvature
            else:
                total = total + g * g
                x = x - 1.0 * g / torch.sqrt(total + 1e-8)
            history.append(0.5 * (curvature * x * x).sum(1))
        values_f[key] = torch.stack(history)  # (steps + 1, seeds)
    medians = {k: _quartiles(v, 1)[1] for k, v in values_f.items()}
    at = (10, 50, steps)
    floor_best = min(medians, key=lambda k: float(medians[k][-1]))

    def draw(lang: Lang):
        fig, ax = new_figure()
        for key, m in medians.items():
            ax.semilogy(m, label=methods[key](lang))
        ax.set(xlabel=Text("step", "步数")(lang), ylabel=Text("median f", "f 的中位数")(lang))
        ax.legend(fontsize=8)
        return fig

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{methods[k](lang)}: " + ", ".join(f"{float(m[s]):.3g}" for s in at)
            for k, m in medians.items()
        )

    answer = Text(
        f"A coordinate whose gradient is systematically larger caps a single learning rate: on "
        f"f = ½(x₁² + 100x₂²) with N(0, 1) gradient noise, plain SGD must keep η < 2/100 or x₂ "
        f"diverges, and then x₁ shrinks by only 1 − η per step. Give each coordinate its own step size "
        f"instead — scale by the inverse curvature when it is known (diagonal preconditioning), or by "
        f"the root of the accumulated squared gradients (AdaGrad; RMSProp and Adam use a moving "
        f"average). Median f over {len(seeds)} seeds from (−5, −2) after {', '.join(map(str, at))} steps "
        f"— {listing('en')}. The per-coordinate rules get x₁ moving at once, where one rate has to wait "
        f"for it; at the end each sits at a noise floor set by its effective step on x₁ (lowest here: "
        f"{methods[floor_best].en}), which a decaying rate would lower further. Rescaling the features "
        f"(standardization) fixes the same problem at the source.",
        f"若某个坐标的梯度总是更大，单一学习率就受它限制：在带 N(0, 1) 梯度噪声的 f = ½(x₁² + 100x₂²) 上，普通随机梯度下降必须"
        f"保持 η < 2/100，否则 x₂ 发散，而此时 x₁ 每步只缩小 1 − η。应给每个坐标各自的步长——已知曲率时按其倒数缩放（对角预条件），"
        f"否则按累积梯度平方的平方根缩放（AdaGrad；RMSProp 与 Adam 用滑动平均）。从 (−5, −2) 出发、{len(seeds)} 个种子，"
        f"{', '.join(map(str, at))} 步后 f 的中位数——{listing('zh')}。按坐标调整的规则立刻让 x₁ 动起来，而单一学习率只能等它；"
        f"最后各自停在由其在 x₁ 上的有效步长决定的噪声水平（这里最低：{methods[floor_best].zh}），衰减学习率还能再降低。对特征做标准化"
        f"则是从源头解决同一个问题。",
    )
    values = {"steps_reported": list(at)} | {
        f"median_f_{k}": [float(m[s]) for s in at] for k, m in medians.items()
    }
    plot = Plot(
        "ex12_4_4_coordinates",
        draw,
        Text(
            f"median f per step on ½(x₁² + 100x₂²) with noisy gradients over {len(seeds)} seeds: one learning rate against per-coordinate ones",
            f"带噪声梯度的 ½(x₁² + 100x₂²) 上每步 f 的中位数（{len(seeds)} 个种子）：单一学习率与按坐标的学习率",
        ),
        Text("objective curves of three step-size rules", "三种步长规则的目标函数曲线"),
    )
    return answer, values, [plot]


# 12.4.5 ------------------------------------------------------------------------------------


def local_minima(
    f: Callable[[Tensor], Tensor], low: float, high: float, num: int = 600_001
) -> Tensor:
    """The local minima of f on a uniform grid over [low, high] (points below both neighbours),
    each polished by golden-section search between its neighbours."""
    x = torch.linspace(low, high, num, dtype=F64)
    y = f(x)
    inner = torch.nonzero((y[1:-1] < y[:-2]) & (y[1:-1] <= y[2:])).squeeze(1) + 1
    ratio = (math.sqrt(5) - 1) / 2
    a, b = x[inner - 1].clone(), x[inner + 1].clone()
    for _ in range(60):
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        left = f(c) < f(d)
        b = torch.where(left, d, b)
        a = torch.where(left, a, c)
    return (a + b) / 2


def many_minima(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.4.5: the minima of x²(1 + sin x) on [−30, 30], and a tilted version with ordered minima."""
    f = lambda x: x**2 * (1 + torch.sin(x))  # noqa: E731
    tilted = lambda x: f(x) + 0.1 * x  # noqa: E731
    minima = local_minima(f, -30.0, 30.0)
    values_at = f(minima)
    expected = sorted([0.0] + [-math.pi / 2 + 2 * math.pi * k for k in range(-4, 6)])
    gap = (
        float((minima - torch.tensor(expected, dtype=F64)).abs().max())
        if len(minima) == len(expected)
        else math.inf
    )
    steps = local_minima(tilted, -30.0, 30.0)
    step_values = tilted(steps)
    increasing = bool((step_values[1:] > step_values[:-1]).all())
    grid = torch.linspace(-30, 30, 3001, dtype=F64)

    def draw(lang: Lang):
        fig = blank_figure(9.0, 3.4)
        for index, (g, points, title) in enumerate(
            (
                (f, minima, Text("x²(1 + sin x)", "x²(1 + sin x)")),
                (tilted, steps, Text("x²(1 + sin x) + x/10", "x²(1 + sin x) + x/10")),
            )
        ):
            ax = fig.add_subplot(1, 2, index + 1)
            ax.plot(grid, g(grid), linewidth=0.8)
            ax.plot(points, g(points), "o", color="C3", markersize=4)
            ax.set(title=title(lang), xlabel="x", yscale="symlog")
        return fig

    answer = Text(
        f"f(x) = x²(1 + sin x) ≥ 0 and f = 0 exactly where x = 0 or sin x = −1, i.e. x = −π/2 + 2πk; "
        f"between two such zeros f is positive with one bump, so these are all the minima: infinitely "
        f"many on ℝ, every one a global minimum. On [−30, 30] a grid scan with golden-section polishing "
        f"finds {len(minima)} local minima (theory {len(expected)}: x = 0 and k = −4…5; largest distance "
        f"to the predicted points {gap:.1e}), with f between {float(values_at.min()):.1e} and "
        f"{float(values_at.max()):.1e}. To force a minimizer through every local minimum, make their "
        f"values differ monotonically, e.g. f(x) + x/10: the {len(steps)} minima then have values "
        f"{'strictly increasing' if increasing else 'not monotone'} from left to right "
        f"({float(step_values.min()):.2f} … {float(step_values.max()):.2f}), the best one at the left end, "
        f"and the wells grow deeper (≈ 2x² high) away from 0, so local descent from the right must "
        f"cross every barrier in turn (with noise, restarts or annealing).",
        f"f(x) = x²(1 + sin x) ≥ 0，且恰在 x = 0 或 sin x = −1 即 x = −π/2 + 2πk 处 f = 0；两个相邻零点之间 f 为正、只有一个凸起，"
        f"所以这些就是全部极小点：在 ℝ 上有无穷多个，每一个都是全局极小点。在 [−30, 30] 上用网格扫描加黄金分割细化，找到 "
        f"{len(minima)} 个局部极小点（理论 {len(expected)} 个：x = 0 与 k = −4…5；与预测点的最大距离 {gap:.1e}），f 介于 "
        f"{float(values_at.min()):.1e} 与 {float(values_at.max()):.1e} 之间。要迫使优化算法经过每个局部极小点，可让它们的值单调变化，"
        f"例如 f(x) + x/10：此时 {len(steps)} 个极小点的值从左到右{'严格递增' if increasing else '并不单调'}"
        f"（{float(step_values.min()):.2f} … {float(step_values.max()):.2f}），最好的在最左端，而离 0 越远井越深（高约 2x²），所以从右侧"
        f"出发的局部下降必须依次越过每一道屏障（借助噪声、重启或退火）。",
    )
    values = {
        "minima": minima.tolist(),
        "count": len(minima),
        "expected_count": len(expected),
        "max_value_at_minima": float(values_at.max()),
        "tilted_count": len(steps),
        "tilted_increasing": int(increasing),
    }
    plot = Plot(
        "ex12_4_5_minima",
        draw,
        Text(
            f"x²(1 + sin x) on [−30, 30] with its {len(minima)} minima (all f = 0), and a tilted version whose {len(steps)} minima have increasing values",
            f"[−30, 30] 上的 x²(1 + sin x) 及其 {len(minima)} 个极小点（f 都为 0），以及倾斜后 {len(steps)} 个极小点值递增的版本",
        ),
        Text(
            "two panels: the function with its minima marked, untilted and tilted",
            "两幅图：标出极小点的原函数与倾斜后的函数",
        ),
    )
    return answer, values, [plot]


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "12.4.1",
        Text(
            "Vary the learning-rate schedule and the length of an SGD run, and chart how far the "
            "iterate is from the optimum (0, 0) as the iterations go by.",
            "改变随机梯度下降的学习率调度与运行长度，并画出迭代点到最优点 (0, 0) 的距离随迭代的变化。",
        ),
        "run",
        schedules,
    ),
    ExerciseSpec(
        "12.4.2",
        Text(
            "Show that, for f(x₁, x₂) = x₁² + 2x₂², adding normal noise to the gradient amounts to "
            "minimizing (x₁ − w₁)² + 2(x₂ − w₂)² where w is normally distributed.",
            "证明对 f(x₁, x₂) = x₁² + 2x₂²，在梯度上加正态噪声相当于最小化 (x₁ − w₁)² + 2(x₂ − w₂)²，其中 w 服从正态分布。",
        ),
        "check",
        noise_as_parameters,
    ),
    ExerciseSpec(
        "12.4.3",
        Text(
            "Does it matter for SGD whether the training pairs are drawn with or without replacement? "
            "Compare the two.",
            "随机梯度下降有放回还是不放回地抽取训练样本，有没有影响？比较两者。",
        ),
        "run",
        replacement,
    ),
    ExerciseSpec(
        "12.4.4",
        Text(
            "How would you change the SGD solver if one coordinate of the gradient were always larger "
            "than all the others?",
            "如果梯度的某个坐标总是比其他坐标大，应如何修改随机梯度下降？",
        ),
        "run",
        dominant_coordinate,
    ),
    ExerciseSpec(
        "12.4.5",
        Text(
            "Count the local minima of f(x) = x²(1 + sin x). Could f be modified so that finding its "
            "minimum means going through all of its local minima?",
            "数一数 f(x) = x²(1 + sin x) 的局部极小点。能否修改 f，使得找到其最小值意味着要走遍它所有的局部极小点？",
        ),
        "check",
        many_minima,
    ),
)
