"""Exercises of d2l §12.3 (gradient descent), answered with runs of trainlab's minimizers
(:func:`~trainlab.optim.gd`, :func:`~trainlab.optim.preconditioned_gd`, the bisection line
search) and a few loops written out where the point is the loop itself (bisection on an interval,
counting iterations on ill-conditioned quadratics)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import torch
from torch import Tensor

from trainlab.experiments.exercises.sgd import local_minima
from trainlab.experiments.figures import blank_figure, new_figure
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context
from trainlab.optim import Bisection, gd, minimize, preconditioned_gd

__all__ = ["EXERCISES", "bisect", "gd_iterations", "golden_section"]

F64 = torch.float64
C = 0.15 * math.pi


def _x_cos(x: Tensor) -> Tensor:
    return x * torch.cos(C * x)


# 12.3.1 ------------------------------------------------------------------------------------

OBJECTIVES: dict[str, tuple[Callable[[Tensor], Tensor], float, Text]] = {
    "x²": (
        lambda x: x**2,
        10.0,
        Text(
            "strongly convex: GD converges for η < 1, in one step at η = ½",
            "强凸：η < 1 时收敛，η = ½ 时一步到位",
        ),
    ),
    "x⁴": (
        lambda x: x**4,
        2.0,
        Text(
            "flat minimum: the gradient vanishes like x³, so convergence is slow",
            "平坦的极小点：梯度像 x³ 一样消失，收敛很慢",
        ),
    ),
    "log(1 + x²)": (
        lambda x: torch.log1p(x**2),
        5.0,
        Text("non-convex far out: the gradient fades with |x|", "远处非凸：梯度随 |x| 增大而减弱"),
    ),
    "x·cos(0.15πx)": (
        _x_cos,
        10.0,
        Text(
            "many local minima: the rate decides which one", "许多局部极小点：学习率决定落在哪一个"
        ),
    ),
}


def other_functions(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.3.1: gradient descent on four objectives over a range of learning rates."""
    steps = 30 if ctx.settings.profile == "smoke" else 100
    rates = (0.01, 0.05, 0.1, 0.3, 0.5, 0.9, 1.1, 2.0)
    table: dict[str, list[tuple[str, float, float]]] = {}
    for name, (f, x0, _note) in OBJECTIVES.items():
        table[name] = []
        for eta in rates:
            run = gd(f, torch.tensor(x0, dtype=F64), eta, steps)
            table[name].append((run.status, float(run.x), run.fun))

    def row(name: str, lang: Lang) -> str:
        cells = []
        for eta, (status, x, _value) in zip(rates, table[name], strict=True):
            cells.append(
                f"η {eta:g}: {Text('diverged', '发散')(lang)}"
                if status == "diverged"
                else f"η {eta:g}: x = {x:.3g}"
            )
        return (
            f"{name} ({Text('from', '起点')(lang)} {OBJECTIVES[name][1]:g}; {OBJECTIVES[name][2](lang)}) — "
            + ", ".join(cells)
        )

    def draw(lang: Lang):
        fig = blank_figure(9.0, 6.0)
        for index, (name, (f, x0, _note)) in enumerate(OBJECTIVES.items()):
            ax = fig.add_subplot(2, 2, index + 1)
            span = max(abs(x0) * 1.3, 3.0)
            grid = torch.linspace(-span, span, 400, dtype=F64)
            ax.plot(grid, f(grid), color="k", linewidth=1)
            for eta, marker in ((0.05, "o"), (0.3, "s"), (0.9, "^")):
                path = [
                    float(p)
                    for p in gd(f, torch.tensor(x0, dtype=F64), eta, min(steps, 20)).trajectory
                ]
                path = [p for p in path if abs(p) <= span]
                ax.plot(
                    path,
                    [float(f(torch.tensor(p, dtype=F64))) for p in path],
                    marker + "-",
                    markersize=3,
                    linewidth=0.8,
                    label=f"η = {eta:g}",
                )
            ax.set(title=name, xlabel="x")
            ax.legend(fontsize=7)
        return fig

    minima = local_minima(_x_cos, -40.0, 40.0, 80_001)
    valleys = sorted(
        {
            round(float(minima[(minima - x).abs().argmin()]), 2)
            for status, x, _v in table["x·cos(0.15πx)"]
            if status != "diverged"
        }
    )
    diverged = {
        n: [eta for eta, r in zip(rates, table[n], strict=True) if r[0] == "diverged"]
        for n in table
    }
    answer = Text(
        f"Gradient descent for {steps} steps at η ∈ {{{', '.join(f'{r:g}' for r in rates)}}} on four "
        f"objectives; final x (or divergence): "
        + "; ".join(row(n, "en") for n in table)
        + ". The safe "
        f"rate is set by the curvature along the path (η < 2/f″): x² tolerates η up to 1; on x⁴ the first "
        f"step maps 2 to 2(1 − 16η), so η > 1/8 overshoots beyond |x| = 2 and diverges (here: "
        f"{', '.join(f'{r:g}' for r in diverged['x⁴']) or 'none'}), while smaller rates crawl because "
        f"f″ → 0 at the minimum; on log(1 + x²) small rates barely move from 5 where the gradient is 0.38; on "
        f"x·cos(0.15πx) the runs end in the valleys of {len(valleys)} different minima (x ≈ {', '.join(f'{v:g}' for v in valleys)}): "
        f"a rate large for the local curvature throws the iterate over a ridge.",
        f"在四个目标函数上以 η ∈ {{{', '.join(f'{r:g}' for r in rates)}}} 做 {steps} 步梯度下降；最终的 x（或发散）："
        + "；".join(row(n, "zh") for n in table)
        + f"。安全的学习率由路径上的曲率决定（η < 2/f″）：x² 能承受直到 1 的 η；在 x⁴ 上第一步把 2 "
        f"映到 2(1 − 16η)，所以 η > 1/8 会越过 |x| = 2 并发散（这里：{', '.join(f'{r:g}' for r in diverged['x⁴']) or '无'}），"
        f"而更小的学习率因极小点处 f″ → 0 而爬行；在 log(1 + x²) 上，小学习率在梯度只有 0.38 的 x = 5 附近几乎不动；在 x·cos(0.15πx) 上，各次运行落入 "
        f"{len(valleys)} 个不同极小点的山谷（x ≈ {', '.join(f'{v:g}' for v in valleys)}）：相对局部曲率过大的学习率把迭代点抛过山脊。",
    )
    values = (
        {"rates": list(rates)}
        | {
            f"final_x_{i}": [r[1] if r[0] != "diverged" else 0.0 for r in table[n]]
            for i, n in enumerate(table)
        }
        | {
            f"diverged_{i}": [int(r[0] == "diverged") for r in table[n]]
            for i, n in enumerate(table)
        }
    )
    plot = Plot(
        "ex12_3_1_functions",
        draw,
        Text(
            "gradient-descent iterates (first 20 steps) on x², x⁴, log(1 + x²) and x·cos(0.15πx) at three learning rates",
            "三个学习率下 x²、x⁴、log(1 + x²) 与 x·cos(0.15πx) 上的梯度下降迭代点（前 20 步）",
        ),
        Text("four panels of functions with gradient-descent paths", "四幅函数图及其梯度下降路径"),
    )
    return answer, values, [plot]


# 12.3.2 ------------------------------------------------------------------------------------


def _lse(x: float) -> float:
    return math.log(math.exp(x) + math.exp(-2 * x - 3))


def _lse_slope(x: float) -> float:
    a, b = math.exp(x), math.exp(-2 * x - 3)
    return (a - 2 * b) / (a + b)


def bisect(
    slope: Callable[[float], float], a: float, b: float, tol: float
) -> tuple[float, list[float]]:
    """Minimize a convex function on [a, b] from the sign of its derivative at the midpoint:
    keep the half in which the minimum lies. Returns the final midpoint and every width."""
    widths = [b - a]
    while b - a > tol:
        m = (a + b) / 2
        if slope(m) > 0:
            b = m
        else:
            a = m
        widths.append(b - a)
    return (a + b) / 2, widths


def golden_section(
    f: Callable[[float], float], a: float, b: float, tol: float
) -> tuple[float, int]:
    """Minimize a unimodal f on [a, b] with function values only: compare f at two interior points
    dividing the interval in the golden ratio and drop the outer part beyond the worse one; one
    new evaluation per step, the interval shrinking by 0.618. Returns the midpoint and the number
    of evaluations."""
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd, evaluations = f(c), f(d), 2
    while b - a > tol:
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
        evaluations += 1
    return (a + b) / 2, evaluations


def line_search(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.3.2: bisection on the derivative's sign and golden-section search on log(eˣ + e^(−2x−3))."""
    target = (math.log(2) - 3) / 3
    a, b, tol = -5.0, 5.0, 1e-10
    x, widths = bisect(_lse_slope, a, b, tol)
    ratios = [w1 / w0 for w0, w1 in itertools.pairwise(widths)]
    golden, evaluations = golden_section(_lse, a, b, tol)
    f = lambda t: torch.log(torch.exp(t) + torch.exp(-2 * t - 3))  # noqa: E731
    library = minimize(f, 2.0, "gradient", Bisection(tol=1e-10), steps=50, tol=1e-10)

    def draw(lang: Lang):
        fig, ax = new_figure()
        ax.semilogy(
            range(len(widths)),
            widths,
            "o-",
            markersize=3,
            label=Text("bisection width", "二分区间宽度")(lang),
        )
        ax.set(xlabel=Text("step", "步数")(lang), ylabel=Text("interval width", "区间宽度")(lang))
        ax.legend()
        return fig

    answer = Text(
        f"(a) To choose a half one needs to know on which side of the midpoint m the minimum lies: the "
        f"sign of f′(m) says it (f′(m) > 0: keep [a, m]). Without derivatives, two function values "
        f"inside the interval do the same job (if f(c) < f(d) for c < d, the minimum is left of d): "
        f"ternary or golden-section search. (b) Each step halves the interval, so the error after k "
        f"steps is at most (b − a)/2^(k+1): linear convergence with rate ½, whatever the function; "
        f"here every ratio of successive widths is {min(ratios):g}–{max(ratios):g}, and {len(widths) - 1} "
        f"steps take [{a:g}, {b:g}] to a width below {tol:g}. Golden section shrinks by 0.618 per "
        f"function value and needed {evaluations} of them. (c) On f(x) = log(eˣ + e^(−2x−3)), f′ = 0 at "
        f"eˣ = 2e^(−2x−3), i.e. x* = (ln 2 − 3)/3 = {target:.10f}. Bisection gives {x:.10f} (error "
        f"{abs(x - target):.1e}), golden section {golden:.10f} (error {abs(golden - target):.1e}), and "
        f"trainlab's Bisection line search from x = 2 {float(library.x):.10f}; f(x*) = {_lse(target):.6f}.",
        f"(a) 要选一半，需要知道极小点在中点 m 的哪一侧：f′(m) 的符号告诉我们（f′(m) > 0：保留 [a, m]）。没有导数时，用区间内的"
        f"两个函数值也能做到（c < d 且 f(c) < f(d) 时极小点在 d 左侧）：三分搜索或黄金分割搜索。(b) 每步把区间减半，所以 k 步后误差"
        f"至多为 (b − a)/2^(k+1)：线性收敛，速率 ½，与函数无关；这里相邻宽度之比都是 {min(ratios):g}–{max(ratios):g}，"
        f"{len(widths) - 1} 步把 [{a:g}, {b:g}] 缩到宽度 {tol:g} 以下。黄金分割每个函数值缩小 0.618 倍，用了 {evaluations} 个。"
        f"(c) 对 f(x) = log(eˣ + e^(−2x−3))，f′ = 0 当 eˣ = 2e^(−2x−3)，即 x* = (ln 2 − 3)/3 = {target:.10f}。二分法得 "
        f"{x:.10f}（误差 {abs(x - target):.1e}），黄金分割得 {golden:.10f}（误差 {abs(golden - target):.1e}），trainlab 的 "
        f"Bisection 线搜索从 x = 2 出发得 {float(library.x):.10f}；f(x*) = {_lse(target):.6f}。",
    )
    values = {
        "target": target,
        "bisection_x": x,
        "bisection_error": abs(x - target),
        "steps": len(widths) - 1,
        "width_ratios": [min(ratios), max(ratios)],
        "golden_x": golden,
        "golden_evaluations": evaluations,
        "library_x": float(library.x),
        "minimum_value": _lse(target),
    }
    plot = Plot(
        "ex12_3_2_bisection",
        draw,
        Text(
            f"bisection on log(eˣ + e^(−2x−3)) over [{a:g}, {b:g}]: the width halves every step, {len(widths) - 1} steps to {tol:g}",
            f"在 [{a:g}, {b:g}] 上对 log(eˣ + e^(−2x−3)) 二分：宽度每步减半，{len(widths) - 1} 步缩到 {tol:g}",
        ),
        Text("interval width per bisection step, log scale", "每步二分后的区间宽度（对数坐标）"),
    )
    return answer, values, [plot]


# 12.3.3 ------------------------------------------------------------------------------------


def gd_iterations(kappa: float, eta: float, tol: float = 1e-6, limit: int = 10_000_000) -> int:
    """Steps of gradient descent on f = x₁² + κx₂² from (1, 1) until ‖x‖ ≤ tol (the gradient
    (2x₁, 2κx₂) written out: a plain loop over floats)."""
    x1 = x2 = 1.0
    for k in range(limit):
        if math.hypot(x1, x2) <= tol:
            return k
        x1, x2 = x1 - eta * 2 * x1, x2 - eta * 2 * kappa * x2
    raise RuntimeError(f"no convergence in {limit} steps at κ = {kappa}, η = {eta}")


def _kappas(ctx: Context) -> tuple[float, ...]:
    return (
        (1.0, 10.0, 100.0)
        if ctx.settings.profile == "smoke"
        else (1.0, 10.0, 100.0, 1000.0, 10_000.0)
    )


def slow_gd(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.3.3: steps of gradient descent to a tolerance on x₁² + κx₂² as κ grows, against the
    closed form."""
    kappas = _kappas(ctx)
    tol = 1e-6
    counts = [gd_iterations(k, 1 / (1 + k), tol) for k in kappas]
    # with the best constant rate 1/(1 + κ) both coordinates shrink by (κ − 1)/(κ + 1) per step
    theory = [
        1 if k == 1 else math.ceil(math.log(tol / math.sqrt(2)) / math.log((k - 1) / (k + 1)))
        for k in kappas
    ]

    def draw(lang: Lang):
        fig, ax = new_figure()
        ax.loglog(
            kappas,
            [max(c, 1) for c in counts],
            "o-",
            label=Text("gradient descent", "梯度下降")(lang),
        )
        ax.loglog(
            kappas,
            [max(t, 1) for t in theory],
            "k:",
            label=Text("ln(10⁻⁶/√2) / ln((κ − 1)/(κ + 1))", "ln(10⁻⁶/√2) / ln((κ − 1)/(κ + 1))")(
                lang
            ),
        )
        ax.set(xlabel="κ", ylabel=Text("steps to ‖x‖ ≤ 10⁻⁶", "到 ‖x‖ ≤ 10⁻⁶ 的步数")(lang))
        ax.legend()
        return fig

    answer = Text(
        f"Give the two coordinates very different curvature: f(x) = x₁² + κx₂² (Hessian diag(2, 2κ), "
        f"condition number κ). The rate must stay below 2/(2κ) for x₂ not to diverge, and then x₁ moves "
        f"by a factor of only about 1 − 2/κ per step. Even at the best constant rate η = 1/(1 + κ), both "
        f"coordinates shrink by (κ − 1)/(κ + 1) per step, so the steps from (1, 1) to ‖x‖ ≤ 10⁻⁶ grow "
        f"linearly with κ: κ = {', '.join(f'{k:g}' for k in kappas)} need {', '.join(map(str, counts))} "
        f"steps (theory {', '.join(map(str, theory))}). At κ = {kappas[-1]:g} that is "
        f"{counts[-1]:,} steps for a two-variable quadratic.",
        f"让两个坐标的曲率相差悬殊：f(x) = x₁² + κx₂²（黑塞矩阵 diag(2, 2κ)，条件数 κ）。学习率必须低于 2/(2κ)，x₂ 才不发散，"
        f"而此时 x₁ 每步只缩小约 1 − 2/κ 倍。即便用最好的常数学习率 η = 1/(1 + κ)，两个坐标每步也只缩小为 (κ − 1)/(κ + 1) 倍，"
        f"所以从 (1, 1) 到 ‖x‖ ≤ 10⁻⁶ 的步数随 κ 线性增长：κ = {', '.join(f'{k:g}' for k in kappas)} 分别需要 "
        f"{', '.join(map(str, counts))} 步（理论 {', '.join(map(str, theory))}）。κ = {kappas[-1]:g} 时，一个两变量二次函数要 "
        f"{counts[-1]:,} 步。",
    )
    values = {"kappas": list(kappas), "steps": counts, "theory": theory}
    plot = Plot(
        "ex12_3_3_conditioning",
        draw,
        Text(
            f"gradient-descent steps against the condition number κ of x₁² + κx₂²: from {counts[0]} at κ = 1 to {counts[-1]:,} at κ = {kappas[-1]:g}",
            f"x₁² + κx₂² 上梯度下降的步数与条件数 κ：从 κ = 1 时的 {counts[0]} 步到 κ = {kappas[-1]:g} 时的 {counts[-1]:,} 步",
        ),
        Text("log-log plot of steps against condition number", "步数与条件数的双对数图"),
    )
    return answer, values, [plot]


# 12.3.4 ------------------------------------------------------------------------------------


def preconditioning(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.3.4: diagonal preconditioning with signed and absolute curvature on x·cos(0.15πx), and
    one step on 12.3.3's problem."""
    starts = (-10.0, 2.0, 5.0, 10.0, 13.0)
    eta, steps = 0.5, 20
    rows = {}
    for x0 in starts:
        start = torch.tensor(x0, dtype=F64)
        signed = preconditioned_gd(_x_cos, start, eta, steps)
        absolute = preconditioned_gd(_x_cos, start, eta, steps, absolute=True)
        plain = gd(_x_cos, start, eta, steps)
        rows[x0] = (float(_x_cos(start)), signed, absolute, plain)
    one_step = {}
    for kappa in _kappas(ctx):
        f = lambda x, kappa=kappa: x[0] ** 2 + kappa * x[1] ** 2  # noqa: E731
        one_step[kappa] = preconditioned_gd(f, torch.ones(2, dtype=F64), 1.0, 1).fun

    def cell(run, lang: Lang) -> str:
        if run.status == "failed" and "not positive" in run.message:
            return Text(
                f"stopped at step {run.nit + 1} (f″ ≤ 0 at x = {float(run.x):.3g})",
                f"第 {run.nit + 1} 步停止（x = {float(run.x):.3g} 处 f″ ≤ 0）",
            )(lang)
        return f"f = {run.fun:.3g}"

    def row(x0: float, lang: Lang) -> str:
        f0, signed, absolute, plain = rows[x0]
        names = (Text("diag(H)", "diag(H)"), Text("|diag(H)|", "|diag(H)|"), Text("GD", "梯度下降"))
        cells = ", ".join(
            f"{n(lang)} {cell(r, lang)}"
            for n, r in zip(names, (signed, absolute, plain), strict=True)
        )
        return f"x₀ = {x0:g} (f = {f0:.3g}): {cells}"

    answer = Text(
        f"(a) x ← x − η f′(x)/f″(x) with the Hessian's diagonal (in one dimension, Newton's method); "
        f"(b) the same with |f″|; both at η = {eta} for {steps} steps on the non-convex f(x) = "
        f"x·cos(0.15πx), against plain gradient descent at the same η — "
        + "; ".join(row(x0, "en") for x0 in starts)
        + f". Where f″ < 0 the signed version points uphill, towards a maximum, so trainlab's "
        f"preconditioner refuses it; with |f″| the step always goes downhill, but where |f″| is small "
        f"it is huge (and x·cos(0.15πx) is unbounded below, so it may run far), which is why practical "
        f"versions floor or damp the curvature. (c) On 12.3.3's f = x₁² + κx₂² the diagonal is the whole "
        f"Hessian: one step with η = 1 lands on the minimum, f = "
        f"{', '.join(f'{v:g}' for v in one_step.values())} for κ = {', '.join(f'{k:g}' for k in one_step)}.",
        f"(a) x ← x − η f′(x)/f″(x)，用黑塞矩阵的对角线（一维时即牛顿法）；(b) 同上但用 |f″|；两者都取 η = {eta}，在非凸的 "
        f"f(x) = x·cos(0.15πx) 上走 {steps} 步，并与同样 η 的普通梯度下降比较——"
        + "；".join(row(x0, "zh") for x0 in starts)
        + f"。在 f″ < 0 处带符号的版本指向上坡、走向极大点，所以 trainlab 的预条件器拒绝这样的步；用 |f″| 时每步都下降，但 |f″| 小处"
        f"步子极大（而 x·cos(0.15πx) 无下界，可能走得很远），所以实用的版本会给曲率设下限或加阻尼。(c) 在 12.3.3 的 "
        f"f = x₁² + κx₂² 上对角线就是整个黑塞矩阵：η = 1 时一步落到极小点，κ = {', '.join(f'{k:g}' for k in one_step)} 时 "
        f"f = {', '.join(f'{v:g}' for v in one_step.values())}。",
    )
    values = {
        "starts": list(starts),
        "signed_final_f": [r[1].fun for r in rows.values()],
        "signed_stopped": [int("not positive" in r[1].message) for r in rows.values()],
        "absolute_final_f": [r[2].fun for r in rows.values()],
        "gd_final_f": [r[3].fun for r in rows.values()],
        "one_step_f": list(one_step.values()),
    }
    return answer, values, []


# 12.3.5 ------------------------------------------------------------------------------------


def _rotation(degrees: float) -> Tensor:
    a = math.radians(degrees)
    return torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=F64)


def _steps_to(run_values: list[float], tol: float) -> int | None:
    return next((k for k, v in enumerate(run_values) if v <= tol), None)


def rotation(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.3.5: diagonal preconditioning against gradient descent on a quadratic and a double well,
    aligned and rotated by 45°."""
    kappa, steps, tol = 50.0, 400, 1e-10
    R = _rotation(45)
    A = torch.diag(torch.tensor([1.0, kappa], dtype=F64))
    quadratic = lambda x: 0.5 * x @ A @ x  # noqa: E731
    double_well = lambda x: (x[0] ** 2 - 1) ** 2 + 25 * x[1] ** 2  # noqa: E731
    problems = {  # name: (f, start, GD's rate, label)
        "quadratic": (
            quadratic,
            (1.0, 1.0),
            2 / (1 + kappa),
            Text(f"½(x₁² + {kappa:g}x₂²)", f"½(x₁² + {kappa:g}x₂²)"),
        ),
        "double_well": (
            double_well,
            (2.0, 1.0),
            0.035,
            Text("(x₁² − 1)² + 25x₂² (not convex)", "(x₁² − 1)² + 25x₂²（非凸）"),
        ),
    }
    runs, counts = {}, {}
    for name, (f, start, eta, _label) in problems.items():
        x0 = torch.tensor(start, dtype=F64)
        for turned in (False, True):
            g = (lambda x, f=f: f(R.T @ x)) if turned else f
            s0 = R @ x0 if turned else x0
            for method in ("gd", "precond"):
                run = (
                    gd(g, s0, eta, steps)
                    if method == "gd"
                    else preconditioned_gd(g, s0, 1.0, steps, absolute=True)
                )
                runs[(name, turned, method)] = run
                counts[(name, turned, method)] = _steps_to(run.values, tol)
    diagonal = torch.diagonal(R @ A @ R.T).tolist()
    one_step = runs[("quadratic", True, "precond")].values[1]

    def when(key, lang: Lang) -> str:
        k = counts[key]
        return f"{k}" if k is not None else Text(f"> {steps}", f"超过 {steps}")(lang)

    def table(name: str, lang: Lang) -> str:
        gd_name, pre_name = Text("GD", "梯度下降")(lang), Text("|diag(H)|⁻¹", "|diag(H)|⁻¹")(lang)
        aligned, turned = Text("aligned", "轴对齐")(lang), Text("rotated", "旋转后")(lang)
        return (
            f"{problems[name][3](lang)}: {aligned} {gd_name} {when((name, False, 'gd'), lang)}, {pre_name} "
            f"{when((name, False, 'precond'), lang)}; {turned} {gd_name} {when((name, True, 'gd'), lang)}, "
            f"{pre_name} {when((name, True, 'precond'), lang)}"
        )

    def draw(lang: Lang):
        fig = blank_figure(9.0, 3.6)
        for index, name in enumerate(problems):
            ax = fig.add_subplot(1, 2, index + 1)
            for (problem, turned, method), run in runs.items():
                if problem != name:
                    continue
                label = (
                    f"{Text('rotated', '旋转')(lang) if turned else Text('aligned', '轴对齐')(lang)}, "
                    + (Text("GD", "梯度下降")(lang) if method == "gd" else "|diag(H)|⁻¹")
                )
                ax.semilogy(
                    [max(v, 1e-30) for v in run.values],
                    ("C1" if turned else "C0") + ("-" if method == "gd" else "--"),
                    label=label,
                )
            ax.set(
                title=problems[name][3](lang),
                xlabel=Text("step", "步数")(lang),
                ylabel="f(x)",
                ylim=(1e-30, 1e3),
            )
            ax.legend(fontsize=7)
        return fig

    answer = Text(
        f"Diagonal preconditioning x ← x − diag(|H|)⁻¹∇f (η = 1) against gradient descent, on each "
        f"objective as given and rotated by 45°; steps to f ≤ {tol:g} — {table('quadratic', 'en')}; "
        f"{table('double_well', 'en')}. Rotation leaves the Hessian's eigenvalues, and so gradient "
        f"descent, unchanged, but it moves the ill-conditioning off the diagonal: for the quadratic the "
        f"diagonal becomes ({diagonal[0]:g}, {diagonal[1]:g}), two equal entries, so the preconditioner "
        f"is a mere scalar step (f after one step {one_step:.3g} instead of 0) and it does exactly what "
        f"gradient descent at the best rate does. On the non-convex double well the aligned version is "
        f"nearly Newton's method; rotated, it loses most of its lead. Diagonal preconditioning depends "
        f"on the coordinates: it pays when the problem's scales line up with the axes.",
        f"对角预条件 x ← x − diag(|H|)⁻¹∇f（η = 1）与梯度下降比较，目标函数取原样与旋转 45° 两种；到 f ≤ {tol:g} 的步数——"
        f"{table('quadratic', 'zh')}；{table('double_well', 'zh')}。旋转不改变黑塞矩阵的特征值，所以梯度下降不受影响，但它把病态性移到"
        f"对角线之外：二次函数的对角线变为 ({diagonal[0]:g}, {diagonal[1]:g})，两项相等，预条件器只是一个标量步长（一步后 "
        f"f = {one_step:.3g}，而非 0），效果与取最佳学习率的梯度下降完全相同。在非凸的双井函数上，轴对齐时它几乎就是牛顿法；旋转后"
        f"领先优势大多消失。对角预条件依赖于坐标系：问题的尺度与坐标轴对齐时才划算。",
    )
    values = {
        "rotated_one_step_f": one_step,
        "aligned_one_step_f": runs[("quadratic", False, "precond")].values[1],
        "start_f": runs[("quadratic", True, "precond")].values[0],
        "rotated_diagonal": diagonal,
    } | {
        f"steps_{n}_{'rotated' if t else 'aligned'}_{m}": k
        for (n, t, m), k in counts.items()
        if k is not None
    }
    plot = Plot(
        "ex12_3_5_rotation",
        draw,
        Text(
            f"f per step for gradient descent and diagonal preconditioning on a quadratic and a double well, aligned and rotated by 45°: preconditioning solves the aligned quadratic in {when(('quadratic', False, 'precond'), 'en')} step(s), the rotated one in {when(('quadratic', True, 'precond'), 'en')}",
            f"二次函数与双井函数（轴对齐与旋转 45°）上梯度下降与对角预条件每步的 f：预条件解轴对齐的二次函数用 "
            f"{when(('quadratic', False, 'precond'), 'zh')} 步，旋转后用 {when(('quadratic', True, 'precond'), 'zh')} 步",
        ),
        Text("two panels of objective per step, log scale", "两幅每步目标函数值图（对数坐标）"),
    )
    return answer, values, [plot]


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "12.3.1",
        Text(
            "Explore gradient descent beyond the book's examples: more learning rates, more objectives.",
            "在书中例子之外探索梯度下降：更多的学习率，更多的目标函数。",
        ),
        "run",
        other_functions,
    ),
    ExerciseSpec(
        "12.3.2",
        Text(
            "Write a line search that minimizes a convex function on an interval [a, b]. (a) Does "
            "choosing between [a, (a + b)/2] and [(a + b)/2, b] need derivatives? (b) How fast does it "
            "converge? (c) Use it to minimize log(exp(x) + exp(−2x − 3)).",
            "实现一个在区间 [a, b] 上最小化凸函数的线搜索。(a) 在 [a, (a + b)/2] 与 [(a + b)/2, b] 之间选择需要导数吗？(b) 收敛有多快？"
            "(c) 用它最小化 log(exp(x) + exp(−2x − 3))。",
        ),
        "check",
        line_search,
    ),
    ExerciseSpec(
        "12.3.3",
        Text(
            "Find a function of two variables that makes gradient descent crawl; one way is to give its "
            "coordinates wildly different scales.",
            "找一个使梯度下降慢如爬行的二元函数；一种办法是让两个坐标的尺度相差悬殊。",
        ),
        "run",
        slow_gd,
    ),
    ExerciseSpec(
        "12.3.4",
        Text(
            "Turn preconditioning into a cheap stand-in for Newton's method: (a) divide each gradient "
            "coordinate by the matching diagonal entry of the Hessian; (b) divide by that entry's "
            "absolute value instead; (c) run it on the previous exercise's function.",
            "把预条件变成牛顿法的廉价替代：(a) 把梯度的每个坐标除以黑塞矩阵对应的对角元；(b) 改为除以该元素的绝对值；(c) 用于上一题的函数。",
        ),
        "run",
        preconditioning,
    ),
    ExerciseSpec(
        "12.3.5",
        Text(
            "Run that method on a handful of objectives, some of them non-convex; then turn the "
            "coordinate system by 45° and compare.",
            "把该方法用于若干目标函数（其中一些非凸）；再把坐标系旋转 45° 并比较。",
        ),
        "run",
        rotation,
    ),
)
