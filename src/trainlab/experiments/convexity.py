"""Optimization and deep learning, and convexity: the sections' figures, captioned with what
they show, and the numbers behind them (the vanishing gradient, the saddle's Hessian, the
convexity checks, the saddle-counting argument)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from trainlab.convex.convexity import check_convex_function, classify_critical_point
from trainlab.convex.convexity import sublevel_set_grid as grid_of
from trainlab.convex.projections import project_l1_ball, project_l2_ball
from trainlab.experiments.figures import blank_figure, new_figure
from trainlab.experiments.result import Lang, Number, Plot, Result, Text
from trainlab.experiments.settings import Context

__all__ = [
    "EXPERIMENTS",
    "argmin_near",
    "convex_functions",
    "convexity_checks",
    "minima",
    "projections",
    "risk",
    "saddles",
    "sublevel_set",
    "vanishing_gradient",
]

PI = math.pi


def _grid(low: float, high: float, num: int = 501) -> Tensor:
    return torch.linspace(low, high, num, dtype=torch.float64)


def argmin_near(f: Callable[[Tensor], Tensor], low: float, high: float) -> float:
    """The minimizer of f on [low, high], found on a fine grid and polished by Newton steps."""
    x = _grid(low, high, 20001)
    x0 = x[int(f(x).argmin())].clone()
    for _ in range(20):
        g = torch.func.grad(f)(x0)
        h = torch.func.grad(torch.func.grad(f))(x0)
        if h <= 0:
            break
        x0 = (x0 - g / h).clamp(low, high)
    return float(x0)


def _arrow(ax, text, at, to):
    ax.annotate(text, at, xytext=to, arrowprops={"arrowstyle": "->"})


def risk(ctx: Context) -> Result:
    """f(x) = x·cos(πx) (risk) vs g(x) = f(x) + 0.2·cos(5πx) (empirical risk) on [0.5, 1.5]."""
    f = lambda x: x * torch.cos(PI * x)  # noqa: E731
    g = lambda x: f(x) + 0.2 * torch.cos(5 * PI * x)  # noqa: E731
    x = _grid(0.5, 1.5)
    x_f, x_g = argmin_near(f, 0.5, 1.5), argmin_near(g, 0.5, 1.5)

    def draw(lang: Lang):
        fig, ax = new_figure()
        ax.plot(x, f(x), label=Text("risk f(x)", "风险 f(x)")(lang))
        ax.plot(x, g(x), "--", label=Text("empirical risk g(x)", "经验风险 g(x)")(lang))
        _arrow(
            ax,
            Text("min of risk", "风险最小值")(lang),
            (x_f, float(f(torch.tensor(x_f)))),
            (0.6, -0.6),
        )
        _arrow(
            ax,
            Text("min of empirical risk", "经验风险最小值")(lang),
            (x_g, float(g(torch.tensor(x_g)))),
            (0.55, -1.3),
        )
        ax.set(xlabel="x", ylabel=Text("risk", "风险")(lang))
        ax.legend(loc="upper right")
        return fig

    return Result(
        "risk",
        plots=[
            Plot(
                "risk",
                draw,
                Text(
                    f"the empirical risk's minimum (x = {x_g:.3f}) is not the risk's (x = {x_f:.3f}): "
                    "minimizing the training loss is not the goal itself",
                    f"经验风险的最小点（x = {x_g:.3f}）不是风险的最小点（x = {x_f:.3f}）：最小化训练损失本身并非目标",
                ),
                Text(
                    "risk and empirical risk curves with their different minima",
                    "风险与经验风险曲线及其不同的最小点",
                ),
            )
        ],
    )


def minima(ctx: Context) -> Result:
    """x·cos(πx) on [−1, 2]: a local and a global minimum; (x − 1)² whose local minimum is
    global (convex)."""
    f = lambda x: x * torch.cos(PI * x)  # noqa: E731
    x = _grid(-1.0, 2.0)
    local_x, global_x = argmin_near(f, -1.0, 0.5), argmin_near(f, 0.5, 2.0)

    def draw(lang: Lang):
        fig, ax = new_figure()
        ax.plot(x, f(x))
        _arrow(
            ax,
            Text("local minimum", "局部最小值")(lang),
            (local_x, float(f(torch.tensor(local_x)))),
            (-0.8, -1.0),
        )
        _arrow(
            ax,
            Text("global minimum", "全局最小值")(lang),
            (global_x, float(f(torch.tensor(global_x)))),
            (0.3, 0.8),
        )
        ax.set(xlabel="x", ylabel="f(x)")
        return fig

    fl, fg = float(f(torch.tensor(local_x))), float(f(torch.tensor(global_x)))
    return Result(
        "minima",
        plots=[
            Plot(
                "minima",
                draw,
                Text(
                    f"x·cos(πx) has a local minimum at x = {local_x:.3f} (f = {fl:.3f}) above its global "
                    f"one at x = {global_x:.3f} (f = {fg:.3f}): gradient descent started left stops at "
                    "the first",
                    f"x·cos(πx) 在 x = {local_x:.3f} 有局部最小值（f = {fl:.3f}），高于 x = "
                    f"{global_x:.3f} 处的全局最小值（f = {fg:.3f}）：从左侧出发的梯度下降停在前者",
                ),
                Text("a function with a local and a global minimum", "有局部与全局最小值的函数"),
            )
        ],
    )


def saddles(ctx: Context) -> Result:
    """x³ (a saddle at 0 in 1-D) and x² − y² (Hessian diag(2, −2)); and the saddle-counting
    argument: the fraction of random symmetric k×k matrices that are positive definite."""
    saddle = classify_critical_point(lambda v: v[0] ** 2 - v[1] ** 2, torch.zeros(2))
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    k, n = 4, 20000
    m = torch.randn(n, k, k, generator=gen, dtype=torch.float64)
    symmetric = (m + m.transpose(1, 2)) / 2
    positive = float((torch.linalg.eigvalsh(symmetric)[:, 0] > 0).double().mean())

    def draw(lang: Lang):
        fig = blank_figure(9.0, 3.6)
        ax1 = fig.add_subplot(1, 2, 1)
        x = _grid(-2.0, 2.0)
        ax1.plot(x, x**3)
        _arrow(ax1, Text("saddle point", "鞍点")(lang), (0.0, 0.0), (-0.5, -5.0))
        ax1.set(xlabel="x", ylabel="x³")
        ax2 = fig.add_subplot(1, 2, 2, projection="3d")
        g = _grid(-1.0, 1.0, 101)
        xx, yy = torch.meshgrid(g, g, indexing="ij")
        ax2.plot_wireframe(xx.numpy(), yy.numpy(), (xx**2 - yy**2).numpy(), rstride=10, cstride=10)
        ax2.plot([0], [0], [0], "rx")
        ax2.set(xlabel="x", ylabel="y", zlabel="x² − y²")
        return fig

    eig = saddle.eigenvalues.tolist()
    return Result(
        "saddles",
        [
            Number("saddle.eigenvalues", eig),
            Number(
                "saddle.random_pd_fraction",
                positive,
                detail=Text(
                    f"0.5^k = {0.5**k:.4f} for k = {k}; simulated: {positive:.4f}",
                    f"k = {k} 时 0.5^k = {0.5**k:.4f}；模拟：{positive:.4f}",
                ),
            ),
        ],
        [
            Plot(
                "saddles",
                draw,
                Text(
                    f"at the origin x² − y² has Hessian eigenvalues {eig[0]:g} and {eig[1]:g}: mixed "
                    f"signs, a saddle. The book argues a random Hessian is positive definite with "
                    f"probability 0.5^k; simulated for k = {k}: {positive:.4f} instead of {0.5**k:.4f} — "
                    "eigenvalues repel, so the true fraction is far smaller, but the conclusion (saddles "
                    "outnumber minima in high dimensions) holds",
                    f"原点处 x² − y² 的黑塞矩阵特征值为 {eig[0]:g} 与 {eig[1]:g}：符号相异，是鞍点。书中认为随机黑塞"
                    f"矩阵正定的概率为 0.5^k；k = {k} 时模拟得 {positive:.4f}，而非 {0.5**k:.4f}——特征值相互排斥，"
                    "实际比例小得多，但结论（高维中鞍点远多于极小点）成立",
                ),
                Text(
                    "x cubed with its saddle point, and the saddle surface x² − y²",
                    "x³ 及其鞍点，与鞍面 x² − y²",
                ),
            )
        ],
    )


def vanishing_gradient(ctx: Context) -> Result:
    """tanh on [−2, 5]: at x = 4 the gradient is 1 − tanh²(4) ≈ 0.0013."""
    gradient = float(torch.func.grad(torch.tanh)(torch.tensor(4.0, dtype=torch.float64)))
    x = _grid(-2.0, 5.0)

    def draw(lang: Lang):
        fig, ax = new_figure()
        ax.plot(x, torch.tanh(x))
        _arrow(
            ax,
            Text(f"vanishing gradient ({gradient:.4f})", f"梯度消失（{gradient:.4f}）")(lang),
            (4.0, math.tanh(4.0)),
            (1.0, 0.0),
        )
        ax.set(xlabel="x", ylabel="tanh(x)")
        return fig

    return Result(
        "vanishing_gradient",
        [Number("tanh_gradient_at_4", gradient)],
        [
            Plot(
                "vanishing_gradient",
                draw,
                Text(
                    f"at x = 4 tanh is flat: its gradient is {gradient:.4f}, so a step barely moves",
                    f"x = 4 处 tanh 几乎水平：梯度仅 {gradient:.4f}，一步几乎不动",
                ),
                Text("the tanh curve with its flat region marked", "tanh 曲线及其平坦区"),
            )
        ],
    )


def convex_functions(ctx: Context, a: float = -1.5, b: float = 1.0) -> Result:
    """0.5x², exp(0.5x) (convex) and cos(πx) (not) with the chord between x = a and x = b."""
    functions = {
        "0.5x²": lambda x: 0.5 * x**2,
        "cos(πx)": lambda x: torch.cos(PI * x),
        "exp(0.5x)": lambda x: torch.exp(0.5 * x),
    }
    lam = _grid(0.0, 1.0, 101)
    ends = torch.tensor([a, b], dtype=torch.float64)
    gaps = {
        name: float((lam * f(ends[0]) + (1 - lam) * f(ends[1]) - f(lam * a + (1 - lam) * b)).min())
        for name, f in functions.items()
    }

    def draw(lang: Lang):
        fig = blank_figure(10.0, 3.2)
        x = _grid(-2.0, 2.0)
        for i, (name, f) in enumerate(functions.items()):
            ax = fig.add_subplot(1, 3, i + 1)
            ax.plot(x, f(x))
            ax.plot(ends, f(ends), "o-")
            ax.set_title(name)
            ax.set(xlabel="x")
        return fig

    return Result(
        "convex_functions",
        plots=[
            Plot(
                "convex_functions",
                draw,
                Text(
                    f"the chord between x = {a:g} and x = {b:g} stays above 0.5x² and exp(0.5x) (lowest "
                    f"gaps {gaps['0.5x²']:.3f}, {gaps['exp(0.5x)']:.3f}) but cuts below cos(πx) by "
                    f"{-gaps['cos(πx)']:.3f}",
                    f"x = {a:g} 与 x = {b:g} 间的弦位于 0.5x² 和 exp(0.5x) 之上（最小"
                    f"间距 {gaps['0.5x²']:.3f}、{gaps['exp(0.5x)']:.3f}），却低于 cos(πx) 达 {-gaps['cos(πx)']:.3f}",
                ),
                Text(
                    "three functions with a chord each: two convex, one not",
                    "三个函数及其弦：两个凸函数，一个非凸",
                ),
            )
        ],
    )


def convexity_checks(ctx: Context) -> Result:
    """The sampled checks on the three functions: they refute cos(πx) with a concrete chord and
    find nothing for the convex two (which proves nothing)."""
    samples = 200 if ctx.settings.profile == "smoke" else 2000
    result = Result("convexity_checks")
    for name, f in (
        ("0.5x²", lambda x: 0.5 * x**2),
        ("exp(0.5x)", lambda x: torch.exp(0.5 * x)),
        ("cos(πx)", lambda x: torch.cos(PI * x)),
    ):
        report = check_convex_function(f, (-2.0, 2.0), num_samples=samples, seed=ctx.settings.seed)
        v = report.violation
        if v is None:
            detail = Text(
                f"{name}: no violation in {samples} chords and Jensen tests (sampling "
                "cannot prove convexity)",
                f"{name}：{samples} 次弦与 Jensen 检验未发现反例（抽样无法证明凸性）",
            )
            ours = None
        elif v.kind in ("chord", "jensen"):
            pts = ", ".join(f"{float(p):.2f}" for p in v.points.reshape(-1))
            lam = float(v.weights[0])
            detail = Text(
                f"{name}: the {v.kind} at λ = {lam:.2f} between x = {pts} lies "
                f"{-v.gap:.3f} below f",
                f"{name}：x = {pts} 之间 λ = {lam:.2f} 处的弦比 f 低 {-v.gap:.3f}",
            )
            ours = v.gap
        else:
            detail = Text(
                f"{name}: Hessian eigenvalue {v.lhs:.3g} < 0",
                f"{name}：黑塞矩阵特征值 {v.lhs:.3g} < 0",
            )
            ours = v.gap
        result.numbers.append(Number("convexity.check", ours, detail=detail))
    return result


def sublevel_set(ctx: Context, level: float = 1.0, bound: float = 2.0) -> Result:
    """{x : f(x) ≤ 1} of the convex quadratic xᵀQx: an ellipse, convex as every sublevel set of a
    convex function."""
    q = torch.tensor([[1.0, 0.6], [0.6, 2.0]], dtype=torch.float64)
    box = (torch.full((2,), -bound), torch.full((2,), bound))
    grids, values, mask = grid_of(lambda v: v @ q @ v, level, box, num=121)

    def draw(lang: Lang):
        fig, ax = new_figure(4.4, 4.0)
        ax.contour(grids[0], grids[1], values, levels=12, linewidths=0.6)
        ax.contourf(grids[0], grids[1], mask.double(), levels=[0.5, 1.5], alpha=0.35)
        ax.set(xlabel="x₁", ylabel="x₂", title=f"{{x : f(x) ≤ {level:g}}}", aspect="equal")
        return fig

    share = float(mask.double().mean())
    return Result(
        "sublevel_set",
        plots=[
            Plot(
                "sublevel_set",
                draw,
                Text(
                    f"the sublevel set of a convex quadratic is an ellipse ({share:.0%} of the box): "
                    "convex, as every sublevel set of a convex function",
                    f"凸二次函数的下水平集是椭圆（占方框的 {share:.0%}）：凸集，正如凸函数的每个下水平集",
                ),
                Text(
                    "contours of a quadratic with its sublevel set shaded",
                    "二次函数等高线及其下水平集（阴影）",
                ),
            )
        ],
    )


def projections(ctx: Context) -> Result:
    """Points outside the unit balls projected onto the ℓ2 ball (the circle) and the ℓ1 ball
    (the diamond the book draws): the ℓ1 projections land on corners more often (sparsity)."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    points = torch.randn(10, 2, generator=gen, dtype=torch.float64) * 1.6
    points = points[torch.linalg.vector_norm(points, ord=1, dim=1) > 1]
    on_l2, on_l1 = project_l2_ball(points), project_l1_ball(points)
    corners = int((on_l1.abs() < 1e-12).any(dim=1).sum())

    def draw(lang: Lang):
        fig, ax = new_figure(4.4, 4.4)
        angle = _grid(0.0, 2 * PI, 200)
        ax.plot(torch.cos(angle), torch.sin(angle), "k-", linewidth=0.8, label="‖x‖₂ ≤ 1")
        ax.plot([1, 0, -1, 0, 1], [0, 1, 0, -1, 0], "g-", linewidth=1.2, label="‖x‖₁ ≤ 1")
        for p, q, r in zip(points, on_l2, on_l1, strict=True):
            ax.annotate("", q.tolist(), p.tolist(), arrowprops={"arrowstyle": "->", "color": "C0"})
            ax.annotate("", r.tolist(), p.tolist(), arrowprops={"arrowstyle": "->", "color": "C2"})
        ax.plot(points[:, 0], points[:, 1], "o", color="C1", label="x")
        ax.set(
            aspect="equal",
            title=Text("projections onto two unit balls", "向两个单位球的投影")(lang),
        )
        ax.legend(loc="lower left")
        return fig

    return Result(
        "projections",
        plots=[
            Plot(
                "projections",
                draw,
                Text(
                    f"projecting onto the circle moves each point radially; onto the ℓ1 diamond, "
                    f"{corners} of {len(points)} points land on a corner, where one coordinate is 0 — "
                    "why ℓ1 constraints give sparse solutions",
                    f"投影到圆上时各点沿径向移动；投影到 ℓ1 菱形上时，{len(points)} 个点中有 {corners} 个落在顶点（某一"
                    "坐标为 0）——这正是 ℓ1 约束产生稀疏解的原因",
                ),
                Text(
                    "arrows from points to their projections onto the ℓ2 and ℓ1 unit balls",
                    "各点到其在 ℓ2 与 ℓ1 单位球上投影的箭头",
                ),
            )
        ],
    )


EXPERIMENTS = (
    risk,
    minima,
    saddles,
    vanishing_gradient,
    convex_functions,
    convexity_checks,
    sublevel_set,
    projections,
)
