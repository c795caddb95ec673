"""Optimization and deep learning, and convexity: the section's figures and numbers.

Each function returns a :class:`FigureResult` with the figure the book draws and the data
behind it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

from trainlab.convex.convexity import classify_critical_point, sublevel_set_grid
from trainlab.convex.projections import project_l2_ball, project_simplex
from trainlab.experiments.figures import FigureResult, blank_figure, new_figure

__all__ = [
    "convex_and_nonconvex_functions",
    "local_and_global_minimum",
    "local_minimum_is_global",
    "projection_onto_a_ball",
    "risk_and_empirical_risk",
    "saddle_points",
    "sublevel_set",
    "vanishing_gradient",
]

PI = math.pi


def _grid(low: float, high: float, num: int = 501) -> Tensor:
    return torch.linspace(low, high, num, dtype=torch.float64)


def _argmin_near(f: Callable[[Tensor], Tensor], low: float, high: float) -> float:
    """The minimizer of f on [low, high] found on a fine grid and polished by Newton steps."""
    x = _grid(low, high, 20001)
    x0 = x[int(f(x).argmin())].clone()
    for _ in range(20):
        g = torch.func.grad(f)(x0)
        h = torch.func.grad(torch.func.grad(f))(x0)
        if h <= 0:
            break
        x0 = (x0 - g / h).clamp(low, high)
    return float(x0)


def risk_and_empirical_risk() -> FigureResult:
    """f(x) = x·cos(πx) (risk) vs g(x) = f(x) + 0.2·cos(5πx) (empirical risk) on [0.5, 1.5]:
    the minimum of the empirical risk is not the minimum of the risk."""
    f = lambda x: x * torch.cos(PI * x)  # noqa: E731
    g = lambda x: f(x) + 0.2 * torch.cos(5 * PI * x)  # noqa: E731
    x = _grid(0.5, 1.5)
    fig, ax = new_figure()
    ax.plot(x, f(x), label="risk f(x)")
    ax.plot(x, g(x), "--", label="empirical risk g(x)")
    x_f, x_g = _argmin_near(f, 0.5, 1.5), _argmin_near(g, 0.5, 1.5)
    ax.annotate(
        "min of risk",
        (x_f, float(f(torch.tensor(x_f)))),
        xytext=(0.7, -0.6),
        arrowprops={"arrowstyle": "->"},
    )
    ax.annotate(
        "min of empirical risk",
        (x_g, float(g(torch.tensor(x_g)))),
        xytext=(0.55, -1.2),
        arrowprops={"arrowstyle": "->"},
    )
    ax.set(xlabel="x", ylabel="risk")
    ax.legend()
    return FigureResult(
        fig,
        {
            "x": x,
            "risk": f(x),
            "empirical_risk": g(x),
            "argmin_risk": x_f,
            "argmin_empirical_risk": x_g,
        },
    )


def local_and_global_minimum() -> FigureResult:
    """x·cos(πx) on [−1, 2]: a local minimum near x = −0.3 and the global one near x = 1.1."""
    f = lambda x: x * torch.cos(PI * x)  # noqa: E731
    x = _grid(-1.0, 2.0)
    local_x, global_x = _argmin_near(f, -1.0, 0.5), _argmin_near(f, 0.5, 2.0)
    fig, ax = new_figure()
    ax.plot(x, f(x))
    for name, at, offset in (
        ("local minimum", local_x, (-0.8, -1.0)),
        ("global minimum", global_x, (0.3, 0.8)),
    ):
        ax.annotate(
            name, (at, float(f(torch.tensor(at)))), xytext=offset, arrowprops={"arrowstyle": "->"}
        )
    ax.set(xlabel="x", ylabel="f(x)")
    return FigureResult(fig, {"x": x, "f": f(x), "local_min": local_x, "global_min": global_x})


def saddle_points() -> FigureResult:
    """x³ (a saddle point at 0 in 1-D) and x² − y² (a saddle at the origin, Hessian
    diag(2, −2)), the latter as a 3-D surface."""
    fig = blank_figure(9.0, 3.4)
    ax1 = fig.add_subplot(1, 2, 1)
    x = _grid(-2.0, 2.0)
    ax1.plot(x, x**3)
    ax1.annotate("saddle point", (0.0, 0.0), xytext=(-0.5, -5.0), arrowprops={"arrowstyle": "->"})
    ax1.set(xlabel="x", ylabel="x³")
    ax2 = fig.add_subplot(1, 2, 2, projection="3d")
    grid = _grid(-1.0, 1.0, 101)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    ax2.plot_wireframe(xx.numpy(), yy.numpy(), (xx**2 - yy**2).numpy(), rstride=10, cstride=10)
    ax2.plot([0], [0], [0], "rx")
    ax2.set(xlabel="x", ylabel="y", zlabel="x² − y²")
    saddle = classify_critical_point(lambda v: v[0] ** 2 - v[1] ** 2, torch.zeros(2))
    cube = classify_critical_point(lambda v: v**3, 0.0)
    return FigureResult(
        fig,
        {
            "saddle_kind": saddle.kind,
            "saddle_eigenvalues": saddle.eigenvalues,
            "cube_kind": cube.kind,
        },
    )


def vanishing_gradient() -> FigureResult:
    """tanh on [−2, 5]: at x = 4 the gradient is 1 − tanh²(4) ≈ 0.0013."""
    x = _grid(-2.0, 5.0)
    gradient_at_4 = 1 - math.tanh(4.0) ** 2
    fig, ax = new_figure()
    ax.plot(x, torch.tanh(x))
    ax.annotate(
        f"vanishing gradient ({gradient_at_4:.4f})",
        (4.0, math.tanh(4.0)),
        xytext=(1.0, 0.0),
        arrowprops={"arrowstyle": "->"},
    )
    ax.set(xlabel="x", ylabel="tanh(x)")
    return FigureResult(fig, {"x": x, "tanh": torch.tanh(x), "gradient_at_4": gradient_at_4})


def convex_and_nonconvex_functions(a: float = -1.5, b: float = 1.0) -> FigureResult:
    """0.5x² and exp(0.5x) (convex) and cos(πx) (not) with the chord between x = a and x = b:
    above the graph for the convex ones, below it somewhere for cos(πx)."""
    functions = {
        "0.5x²": lambda x: 0.5 * x**2,
        "cos(πx)": lambda x: torch.cos(PI * x),
        "exp(0.5x)": lambda x: torch.exp(0.5 * x),
    }
    fig = blank_figure(10.0, 3.0)
    x = _grid(-2.0, 2.0)
    lam = _grid(0.0, 1.0, 101)
    chord_gaps = {}
    for i, (name, f) in enumerate(functions.items()):
        ax = fig.add_subplot(1, 3, i + 1)
        ends = torch.tensor([a, b], dtype=torch.float64)
        ax.plot(x, f(x))
        ax.plot(ends, f(ends), "o-")
        chord = lam * f(ends[0]) + (1 - lam) * f(ends[1])
        chord_gaps[name] = float((chord - f(lam * a + (1 - lam) * b)).min())
        ax.set_title(name)
    return FigureResult(fig, {"min_chord_minus_graph": chord_gaps})


def local_minimum_is_global() -> FigureResult:
    """f(x) = (x − 1)² on [−2, 2]: for a convex function the local minimum at 1 is global."""
    f = lambda x: (x - 1) ** 2  # noqa: E731
    x = _grid(-2.0, 2.0)
    fig, ax = new_figure()
    ax.plot(x, f(x))
    ax.plot([1.0], [0.0], "o")
    ax.annotate(
        "local = global minimum", (1.0, 0.0), xytext=(-1.5, 4.0), arrowprops={"arrowstyle": "->"}
    )
    ax.set(xlabel="x", ylabel="(x − 1)²")
    return FigureResult(fig, {"x": x, "f": f(x), "argmin": float(x[int(f(x).argmin())])})


def sublevel_set(
    f: Callable[[Tensor], Tensor] | None = None, level: float = 1.0, bound: float = 2.0
) -> FigureResult:
    """The sublevel set {x : f(x) ≤ level} of a 2-D function (default: a convex quadratic,
    whose sublevel sets are ellipses) shaded over its contours."""
    if f is None:
        q = torch.tensor([[1.0, 0.6], [0.6, 2.0]], dtype=torch.float64)
        f = lambda v: v @ q @ v  # noqa: E731
    box = (torch.full((2,), -bound), torch.full((2,), bound))
    grids, values, mask = sublevel_set_grid(f, level, box, num=121)
    fig, ax = new_figure(4.0, 3.6)
    ax.contour(grids[0], grids[1], values, levels=12, linewidths=0.6)
    ax.contourf(grids[0], grids[1], mask.double(), levels=[0.5, 1.5], alpha=0.35)
    ax.set(xlabel="x₁", ylabel="x₂", title=f"{{x : f(x) ≤ {level:g}}}", aspect="equal")
    return FigureResult(fig, {"grids": grids, "values": values, "mask": mask})


def projection_onto_a_ball(seed: int = 0) -> FigureResult:
    """Points outside the unit ℓ2 ball and their projections (arrows), plus the projection of
    the same points onto the probability simplex's 2-D face {x ≥ 0, x₁ + x₂ = 1}."""
    gen = torch.Generator().manual_seed(seed)
    points = torch.randn(8, 2, generator=gen, dtype=torch.float64) * 1.6
    on_ball = project_l2_ball(points)
    on_simplex = project_simplex(points)
    fig, ax = new_figure(4.0, 4.0)
    angle = _grid(0.0, 2 * PI, 200)
    ax.plot(torch.cos(angle), torch.sin(angle), "k-", linewidth=0.8, label="‖x‖ ≤ 1")
    ax.plot([0, 1], [1, 0], "g-", linewidth=1.2, label="simplex")
    for p, q, r in zip(points, on_ball, on_simplex, strict=True):
        ax.annotate("", q.tolist(), p.tolist(), arrowprops={"arrowstyle": "->", "color": "C0"})
        ax.annotate("", r.tolist(), p.tolist(), arrowprops={"arrowstyle": "->", "color": "C2"})
    ax.plot(points[:, 0], points[:, 1], "o", color="C1", label="x")
    ax.set(aspect="equal", title="projections onto a ball and a simplex")
    ax.legend(loc="lower left", fontsize="small")
    return FigureResult(fig, {"points": points, "on_ball": on_ball, "on_simplex": on_simplex})
