"""Gradient descent: the book's runs (1-D and 2-D GD, Newton, preconditioning, line search),
with our numbers keyed to the ledger and the trace figures, captioned with what they show.

The book's update rules use hand-written derivatives, e.g. f'(x) = cos(cx) − cx·sin(cx) for
f = x·cos(cx); they are written here with ``math`` on float64 so the printed numbers are
reproduced to the last bit. (torch's vectorized cos/sin differ from the C library's in the last
bit, and Newton's method on x·cos(cx) amplifies that to about 1e-12.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from trainlab.experiments.figures import new_figure
from trainlab.experiments.result import Lang, Number, Plot, Result, Text
from trainlab.experiments.settings import Context
from trainlab.optim.descent import gd, newton, preconditioned_gd, train_2d
from trainlab.optim.linesearch import Bisection, line_search_gd
from trainlab.optim.minimize import minimize

__all__ = [
    "EXPERIMENTS",
    "gd_1d",
    "gd_2d",
    "line_search",
    "newton_rate",
    "newton_runs",
    "preconditioning",
    "quadratic_rates",
    "trace_1d",
    "trace_2d",
]

C = 0.15 * math.pi
F64 = torch.float64


def _x_cos(x):
    return x * torch.cos(C * torch.as_tensor(x))


def _x_cos_grad(x):
    return math.cos(C * x) - C * x * math.sin(C * x)


def _x_cos_hess(x):
    return -2 * C * math.sin(C * x) - x * C**2 * math.cos(C * x)


def trace_1d(
    points: Sequence[float],
    f: Callable[[Tensor], Tensor],
    title: Text,
    bounds: tuple[float, float] | None = None,
) -> Callable[[Lang], object]:
    """The book's ``show_trace``: f over ``bounds`` (default: the trajectory's range, padded),
    the iterates drawn on it."""
    xs = torch.tensor([float(p) for p in points], dtype=F64)
    if bounds is None:
        span = max(float(xs.abs().max()), 1.0) * 1.05
        bounds = (-span, span)
    grid = torch.linspace(bounds[0], bounds[1], 400, dtype=F64)

    def draw(lang: Lang):
        fig, ax = new_figure(4.6, 3.3)
        ax.plot(grid, f(grid), "-", color="C0", label="f(x)")
        ax.plot(xs, f(xs), "-o", color="C1", markersize=3, label=Text("iterates", "迭代点")(lang))
        ax.set(xlabel="x", ylabel="f(x)", title=title(lang))
        ax.legend(loc="best")
        return fig

    return draw


def trace_2d(
    f: Callable[[Tensor, Tensor], Tensor],
    points: Sequence[tuple[float, float]],
    title: Text,
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> Callable[[Lang], object]:
    """The book's ``show_trace_2d``: contours of f(x1, x2), the path of the iterates."""
    path = torch.tensor(points, dtype=F64)
    if bounds is None:
        low, high = path.min(0).values - 1, path.max(0).values + 1
        bounds = ((float(low[0]), float(high[0])), (float(low[1]), float(high[1])))
    x1, x2 = torch.meshgrid(
        torch.linspace(*bounds[0], 200, dtype=F64),
        torch.linspace(*bounds[1], 200, dtype=F64),
        indexing="ij",
    )

    def draw(lang: Lang):
        fig, ax = new_figure(4.6, 3.6)
        ax.contour(x1, x2, f(x1, x2), levels=15, colors="#1f77b4", linewidths=0.7)
        ax.plot(path[:, 0], path[:, 1], "-o", color="#ff7f0e", markersize=3)
        ax.set(xlabel="x₁", ylabel="x₂", title=title(lang))
        return fig

    return draw


def _sweep(parameter: Text, values, series) -> dict:
    return {"parameter": parameter.as_dict(), "values": list(values), "series": series}


def gd_1d(ctx: Context) -> Result:
    """GD from x = 10 for 10 steps on x² at η = 0.2, 0.05, 1.1 and on x·cos(0.15πx) at η = 2,
    with the book's hand-written derivatives; an interactive sweep of η on x²."""
    result = Result("gd_1d")
    for eta in (0.2, 0.05, 1.1):
        run = gd(lambda x: x**2, 10.0, eta, 10, grad=lambda x: 2 * x)
        result.numbers.append(Number(f"gd.x2.eta{eta:g}", float(run.x)))
        factor = abs(1 - 2 * eta)
        verb = ("shrinks", "缩小") if factor < 1 else ("grows", "增大")
        result.plots.append(
            Plot(
                f"gd_x2_eta{eta:g}",
                trace_1d(
                    run.trajectory, lambda x: x**2, Text(f"x², η = {eta:g}", f"x²，η = {eta:g}")
                ),
                Text(
                    f"η = {eta:g}: |x| {verb[0]} by |1 − 2η| = {factor:.2g} per step (10 steps: "
                    f"x = {float(run.x):.6g}){'; it diverges' if factor > 1 else ''}",
                    f"η = {eta:g}：|x| 每步{verb[1]}为 |1 − 2η| = {factor:.2g} 倍（10 步后 x = "
                    f"{float(run.x):.6g}）{'，发散' if factor > 1 else ''}",
                ),
                Text(
                    f"gradient descent iterates on the parabola x² with learning rate {eta:g}",
                    f"学习率 {eta:g} 时抛物线 x² 上的梯度下降迭代点",
                ),
            )
        )
    run = gd(_x_cos, 10.0, 2.0, 10, grad=_x_cos_grad)
    result.numbers.append(Number("gd.xcos.eta2", float(run.x)))
    result.plots.append(
        Plot(
            "gd_xcos",
            trace_1d(
                run.trajectory,
                _x_cos,
                Text("x·cos(0.15πx), η = 2", "x·cos(0.15πx)，η = 2"),
                (-13, 13),
            ),
            Text(
                f"a learning rate too large for the curvature sends GD from x = 10 past the near "
                f"minimum to a worse one: x = {float(run.x):.4f} after 10 steps",
                f"学习率相对曲率过大，梯度下降从 x = 10 越过近处极小点，停在更差的极小点：10 步后 x = "
                f"{float(run.x):.4f}",
            ),
            Text(
                "gradient descent on x·cos(0.15πx) jumping between valleys",
                "x·cos(0.15πx) 上梯度下降在山谷间跳跃",
            ),
        )
    )
    etas = [round(0.05 * k, 2) for k in range(1, 25)]  # 0.05 … 1.2, the threshold 1 inside
    series = []
    for eta in etas:
        path = gd(lambda x: x**2, 10.0, eta, 10, grad=lambda x: 2 * x).trajectory
        xs = [float(p) for p in path]
        factor = abs(1 - 2 * eta)
        state = (
            ("converges", "收敛")
            if factor < 1
            else (("oscillates", "振荡") if factor == 1 else ("diverges", "发散"))
        )
        series.append(
            {
                "lines": [{"x": xs, "y": [x * x for x in xs]}],
                "caption": Text(
                    f"η = {eta:g}: |1 − 2η| = {factor:.2f}, GD {state[0]} (x₁₀ = {xs[-1]:.4g})",
                    f"η = {eta:g}：|1 − 2η| = {factor:.2f}，梯度下降{state[1]}（x₁₀ = "
                    f"{xs[-1]:.4g}）",
                ).as_dict(),
            }
        )
    result.plots.append(
        Plot(
            "gd_x2_sweep",
            trace_1d(
                gd(lambda x: x**2, 10.0, 0.3, 10).trajectory,
                lambda x: x**2,
                Text("x², η = 0.3", "x²，η = 0.3"),
                (-25, 25),
            ),
            Text(
                "move η: below 1 the iterates shrink by |1 − 2η| per step; at η = 1 they bounce "
                "between ±10; above 1 they grow",
                "拖动 η：小于 1 时迭代点每步缩小 |1 − 2η|；η = 1 时在 ±10 间跳动；大于 1 时增大",
            ),
            Text(
                "interactive: gradient descent on x² for a learning rate you choose",
                "交互：选择学习率，观察 x² 上的梯度下降",
            ),
            sweep=_sweep(Text("learning rate η", "学习率 η"), etas, series)
            | {"axes": {"x": [-25, 25], "y": [0, 625], "curve": "x**2"}},
        )
    )
    return result


def _f_2d(x1, x2):
    return x1**2 + 2 * x2**2


def gd_2d(ctx: Context) -> Result:
    """GD on x1² + 2·x2² from (−5, −2) with the book's ``train_2d``: after 20 steps at η = 0.1,
    x1 = −5·0.8²⁰ and x2 = −2·0.6²⁰ exactly; a sweep of η."""
    result = Result("gd_2d")

    def run(eta: float):
        return train_2d(
            lambda x1, x2, s1, s2: (x1 - eta * 2 * x1, x2 - eta * 4 * x2, 0, 0), steps=20
        )

    points = run(0.1)
    final = list(points[-1])
    result.numbers += [Number("gd.2d", final), Number("gd.2d.theory", final)]
    etas = [round(0.02 * k, 2) for k in range(1, 28)]  # up to 0.54: x₂ diverges past 0.5
    series = [
        {
            "lines": [{"x": [p[0] for p in run(eta)], "y": [p[1] for p in run(eta)]}],
            "caption": Text(
                f"η = {eta:g}: x₁ ×{1 - 2 * eta:.2f}, x₂ ×{1 - 4 * eta:.2f} per step",
                f"η = {eta:g}：每步 x₁ ×{1 - 2 * eta:.2f}，x₂ ×{1 - 4 * eta:.2f}",
            ).as_dict(),
        }
        for eta in etas
    ]
    result.plots.append(
        Plot(
            "gd_2d",
            trace_2d(_f_2d, points, Text("x₁² + 2x₂², η = 0.1", "x₁² + 2x₂²，η = 0.1")),
            Text(
                f"each coordinate shrinks by its own factor, 1 − 2η = 0.8 and 1 − 4η = 0.6: after 20 "
                f"steps x = ({final[0]:.6f}, {final[1]:.6f}); past η = 0.5 the steep x₂ direction "
                "diverges first",
                f"两坐标各自按 1 − 2η = 0.8 与 1 − 4η = 0.6 缩小：20 步后 x = "
                f"({final[0]:.6f}, {final[1]:.6f})；η 超过 0.5 时陡峭的 x₂ 方向先发散",
            ),
            Text(
                "contour plot with the gradient descent path from (−5, −2)",
                "等高线图与从 (−5, −2) 出发的梯度下降路径",
            ),
            sweep=_sweep(Text("learning rate η", "学习率 η"), etas, series)
            | {"axes": {"x": [-6, 6], "y": [-3, 3]}},
        )
    )
    return result


def newton_runs(ctx: Context) -> Result:
    """Newton from x = 10: on cosh(0.5x) (convex: lands on 0), and on x·cos(0.15πx) at η = 1
    (heads to a maximum where f'' < 0) and η = 0.5; the |H| fix beside it."""
    result = Result("newton")
    cosh = newton(
        lambda x: torch.cosh(0.5 * x),
        10.0,
        1.0,
        10,
        grad=lambda x: 0.5 * math.sinh(0.5 * x),
        hess=lambda x: 0.25 * math.cosh(0.5 * x),
    )
    result.numbers.append(Number("newton.cosh", float(cosh.x)))
    result.plots.append(
        Plot(
            "newton_cosh",
            trace_1d(
                cosh.trajectory,
                lambda x: torch.cosh(0.5 * x),
                Text("Newton, cosh(0.5x)", "牛顿法，cosh(0.5x)"),
            ),
            Text(
                f"on a convex function Newton's steps shrink fast: x = {float(cosh.x):g} after "
                f"{cosh.nit} steps",
                f"凸函数上牛顿法收敛很快：{cosh.nit} 步后 x = {float(cosh.x):g}",
            ),
            Text("Newton iterates on cosh(0.5x)", "cosh(0.5x) 上的牛顿法迭代点"),
        )
    )
    series = []
    for eta in (1.0, 0.5):
        run = newton(_x_cos, 10.0, eta, 10, grad=_x_cos_grad, hess=_x_cos_hess)
        result.numbers.append(Number(f"newton.xcos.eta{eta:g}", float(run.x)))
        f0, f1 = float(_x_cos(10.0)), run.fun
        result.plots.append(
            Plot(
                f"newton_xcos_eta{eta:g}",
                trace_1d(
                    run.trajectory,
                    _x_cos,
                    Text(
                        f"Newton, x·cos(0.15πx), η = {eta:g}", f"牛顿法，x·cos(0.15πx)，η = {eta:g}"
                    ),
                    (-30, 30),
                ),
                Text(
                    f"where f'' < 0 Newton heads uphill: f went from {f0:.3f} to {f1:.3f} "
                    f"(x = {float(run.x):.4f})",
                    f"f'' < 0 处牛顿法走向上坡：f 从 {f0:.3f} 变为 {f1:.3f}"
                    f"（x = {float(run.x):.4f}）",
                ),
                Text(
                    f"Newton's method with learning rate {eta:g} on x·cos(0.15πx)",
                    f"学习率 {eta:g} 的牛顿法在 x·cos(0.15πx) 上",
                ),
            )
        )
    for fix in (None, "abs"):
        run = newton(_x_cos, 10.0, 0.5, 10, fix=fix, damping=1e-3)
        xs = [float(p) for p in run.trajectory]
        label = ("plain H", "原始 H") if fix is None else ("|H| fix", "|H| 修正")
        series.append(
            {
                "lines": [{"x": xs, "y": [float(_x_cos(x)) for x in xs]}],
                "caption": Text(
                    f"{label[0]}: f(x₁₀) = {run.fun:.3f} from f(x₀) = {float(_x_cos(10.0)):.3f}",
                    f"{label[1]}：f(x₁₀) = {run.fun:.3f}，起点 f(x₀) = {float(_x_cos(10.0)):.3f}",
                ).as_dict(),
            }
        )
    result.plots.append(
        Plot(
            "newton_fix",
            trace_1d(
                newton(_x_cos, 10.0, 0.5, 10, fix="abs").trajectory,
                _x_cos,
                Text("Newton with |H|, η = 0.5", "|H| 修正的牛顿法，η = 0.5"),
                (-30, 30),
            ),
            Text(
                f"with |H| the step always goes downhill: {series[1]['caption']['en']}; "
                f"without: {series[0]['caption']['en']}",
                f"用 |H| 时每步都下降：{series[1]['caption']['zh']}；不用时：{series[0]['caption']['zh']}",
            ),
            Text(
                "Newton's method with the absolute-value Hessian fix",
                "黑塞矩阵取绝对值修正的牛顿法",
            ),
            sweep=_sweep(Text("Hessian", "黑塞矩阵"), ["H", "|H|"], series)
            | {"axes": {"x": [-30, 30], "y": [-30, 30], "curve": "x*cos(0.15*pi*x)"}},
        )
    )
    return result


def newton_rate(ctx: Context) -> Result:
    """Newton on eˣ − 2x from 0: the error ratio e_{k+1}/e_k² tends to f‴/(2f″) = 1/2 at ln 2
    (quadratic convergence)."""
    run = newton(lambda x: torch.exp(x) - 2 * x, 0.0, 1.0, 6)
    errors = [abs(float(x) - math.log(2)) for x in run.trajectory]
    ratios = [e1 / e0**2 for e0, e1 in itertools.pairwise(errors) if e0 > 1e-7]
    return Result(
        "newton_rate",
        [
            Number(
                "newton.error_ratio",
                ratios[-1],
                detail=Text(
                    "errors " + ", ".join(f"{e:.1e}" for e in errors[:5]),
                    "误差 " + ", ".join(f"{e:.1e}" for e in errors[:5]),
                ),
            )
        ],
    )


def _quadratic(x):
    return 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)


def quadratic_rates(ctx: Context) -> Result:
    """GD on ½(x1² + 10x2²) from (1, 1): ‖x_50‖ for each η (η = 0.2 = 2/L never converges,
    η > 0.2 diverges, 2/11 is the best rate)."""
    result = Result("quadratic_rates")
    for eta in (0.05, 0.1, 0.19, 2 / 11, 0.2, 0.21):
        run = gd(_quadratic, torch.ones(2, dtype=F64), eta, 50)
        result.numbers.append(
            Number(
                f"gd.quadratic.eta{eta:.4g}",
                float(torch.linalg.vector_norm(run.x)),
                detail=Text(run.status, run.status),
            )
        )
    return result


def preconditioning(ctx: Context) -> Result:
    """Plain vs diagonally preconditioned GD on ½(x1² + 10x2²), and after a 45° rotation."""
    angle = math.pi / 4
    rotation = torch.tensor(
        [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]], dtype=F64
    )
    A = rotation @ torch.diag(torch.tensor([1.0, 10.0], dtype=F64)) @ rotation.T
    rotated = lambda x: 0.5 * x @ A @ x  # noqa: E731
    plain = gd(_quadratic, torch.ones(2, dtype=F64), 0.1, 10)
    scaled = preconditioned_gd(_quadratic, torch.ones(2, dtype=F64), 1.0, 10)
    turned = preconditioned_gd(rotated, torch.ones(2, dtype=F64), 0.5, 10)

    def draw(lang: Lang):
        fig, ax = new_figure()
        for run, style, label in (
            (plain, "-o", Text("GD, η = 0.1", "梯度下降，η = 0.1")),
            (scaled, "-s", Text("diag(H)⁻¹ GD, η = 1", "对角预条件，η = 1")),
            (
                turned,
                "-^",
                Text("diag(H)⁻¹ GD, rotated 45°, η = 0.5", "对角预条件，旋转 45°，η = 0.5"),
            ),
        ):
            ax.semilogy([max(v, 1e-18) for v in run.values], style, markersize=3, label=label(lang))
        ax.set(xlabel=Text("step", "步数")(lang), ylabel="f(x)")
        ax.legend()
        return fig

    return Result(
        "preconditioning",
        [
            Number("gd.preconditioned", scaled.values[1]),
            Number("gd.preconditioned.rotated", turned.values[1]),
        ],
        [
            Plot(
                "preconditioning",
                draw,
                Text(
                    f"diagonal preconditioning is Newton on an axis-aligned quadratic (f = "
                    f"{scaled.values[1]:.1e} after one step); rotated by 45° it loses that: f = "
                    f"{turned.values[1]:.3g} after one step, {turned.values[-1]:.2g} after 10",
                    f"对坐标轴对齐的二次函数，对角预条件即牛顿法（一步后 f = {scaled.values[1]:.1e}）；旋转 45° 后"
                    f"不再如此：一步后 f = {turned.values[1]:.3g}，10 步后 {turned.values[-1]:.2g}",
                ),
                Text(
                    "objective value per step, log scale, for plain and preconditioned gradient descent",
                    "普通与预条件梯度下降每步的目标函数值（对数坐标）",
                ),
            )
        ],
    )


def line_search(ctx: Context) -> Result:
    """On ½(x1² + 10x2²) from (1, 1): backtracking (α = 0.3, β = 0.5) step sizes, the exact
    first step gᵀg/gᵀAg = 101/1001, and the book's bisection exercise on log(eˣ + e^(−2x−3))."""
    start = torch.ones(2, dtype=F64)
    backtrack = line_search_gd(_quadratic, start, "backtracking", 4, alpha=0.3, beta=0.5)
    exact = line_search_gd(_quadratic, start, "exact", 1)
    f = lambda x: torch.log(torch.exp(x) + torch.exp(-2 * x - 3))  # noqa: E731
    bisect = minimize(f, 2.0, "gradient", Bisection(tol=1e-10), steps=50, tol=1e-10)
    wolfe = line_search_gd(_quadratic, start, "wolfe", 10)
    runs = {
        "backtracking": line_search_gd(_quadratic, start, "backtracking", 10),
        "strong Wolfe": wolfe,
        "exact": line_search_gd(_quadratic, start, "exact", 10),
        "bisection": line_search_gd(_quadratic, start, "bisection", 10),
    }

    def draw(lang: Lang):
        fig, ax = new_figure()
        for name, run in runs.items():
            ax.semilogy(
                [max(v, 1e-18) for v in run.values],
                "-o",
                markersize=3,
                label=f"{name} ({run.nfev} f, {run.njev} ∇f)",
            )
        ax.set(xlabel=Text("step", "步数")(lang), ylabel="f(x)")
        ax.legend()
        return fig

    best = min(runs, key=lambda k: runs[k].values[-1])
    return Result(
        "line_search",
        [
            Number("linesearch.backtracking", backtrack.step_sizes),
            Number("linesearch.exact_step", exact.step_sizes[0]),
            Number("linesearch.bisection", float(bisect.x)),
        ],
        [
            Plot(
                "line_searches",
                draw,
                Text(
                    f"every line search descends steadily; after 10 steps the lowest f is "
                    f"{runs[best].values[-1]:.2e} ({best}); the legend counts the evaluations each needed",
                    f"各线搜索都平稳下降；10 步后最低的 f 为 {runs[best].values[-1]:.2e}（{best}）；图例给出各自的"
                    "求值次数",
                ),
                Text(
                    "objective value per step for four line searches on an ill-conditioned quadratic",
                    "病态二次函数上四种线搜索每步的目标函数值",
                ),
            )
        ],
    )


EXPERIMENTS = (
    gd_1d,
    gd_2d,
    newton_runs,
    newton_rate,
    quadratic_rates,
    preconditioning,
    line_search,
)
