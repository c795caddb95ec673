"""Gradient descent: the book's runs (1-D and 2-D GD, Newton, preconditioning, line search),
with the book's printed numbers beside ours and the trace figures.

The book's update rules use hand-written derivatives, e.g. f'(x) = cos(cx) − cx·sin(cx) for
f = x·cos(cx); they are written here with ``math`` on float64 so the printed numbers are
reproduced to the last bit. (torch's vectorized cos/sin differ from the C library's in the last
bit, and Newton's method on x·cos(cx) amplifies that to about 1e-12.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from trainlab.experiments.figures import FigureResult, new_figure
from trainlab.optim.descent import gd, newton, preconditioned_gd, train_2d
from trainlab.optim.linesearch import line_search_gd

__all__ = [
    "BOOK",
    "gd_1d",
    "gd_2d",
    "line_search",
    "newton_runs",
    "preconditioning",
    "quadratic_learning_rates",
    "show_trace",
    "show_trace_2d",
]

C = 0.15 * math.pi

# The numbers the book prints (REFERENCE.md §5), keyed like our results.
BOOK = {
    "gd x², η=0.2": 0.06046617599999997,
    "gd x², η=0.05": 3.4867844009999995,
    "gd x², η=1.1": 61.917364224000096,
    "gd x·cos(cx), η=2": -1.528165927635083,
    "gd 2-D x1": -5 * 0.8**20,
    "gd 2-D x2": -2 * 0.6**20,
    "newton cosh(0.5x)": 0.0,
    "newton x·cos(cx), η=1": 26.83413291324767,
    "newton x·cos(cx), η=0.5": 7.269860168684531,
}


def show_trace(
    points: Sequence[float | Tensor],
    f: Callable[[Tensor], Tensor],
    bounds: tuple[float, float] | None = None,
    title: str = "",
) -> FigureResult:
    """The book's ``show_trace``: f over ``bounds`` (default: the trajectory's range, padded)
    with the iterates drawn on it."""
    xs = torch.tensor([float(p) for p in points], dtype=torch.float64)
    if bounds is None:
        span = max(float(xs.abs().max()), 1.0)
        bounds = (-span, span)
    grid = torch.linspace(bounds[0], bounds[1], 400, dtype=torch.float64)
    fig, ax = new_figure()
    ax.plot(grid, f(grid), "-")
    ax.plot(xs, f(xs), "-o", markersize=3)
    ax.set(xlabel="x", ylabel="f(x)", title=title)
    return FigureResult(fig, {"trace": xs})


def show_trace_2d(
    f: Callable[[Tensor, Tensor], Tensor],
    points: Sequence[tuple[float, float]],
    bounds: tuple[tuple[float, float], tuple[float, float]] | None = None,
    title: str = "",
) -> FigureResult:
    """The book's ``show_trace_2d``: contours of f(x1, x2) over ``bounds`` (default: the
    trajectory's box, padded) with the path of the iterates."""
    path = torch.tensor(points, dtype=torch.float64)
    if bounds is None:
        low, high = path.min(0).values - 1, path.max(0).values + 1
        bounds = ((float(low[0]), float(high[0])), (float(low[1]), float(high[1])))
    x1, x2 = torch.meshgrid(
        torch.linspace(*bounds[0], 200, dtype=torch.float64),
        torch.linspace(*bounds[1], 200, dtype=torch.float64),
        indexing="ij",
    )
    fig, ax = new_figure()
    ax.contour(x1, x2, f(x1, x2), levels=15, colors="#1f77b4", linewidths=0.7)
    ax.plot(path[:, 0], path[:, 1], "-o", color="#ff7f0e", markersize=3)
    ax.set(xlabel="x1", ylabel="x2", title=title)
    return FigureResult(fig, {"path": path})


def _x_cos(x):
    return x * torch.cos(C * torch.as_tensor(x))


def _x_cos_grad(x):
    return math.cos(C * x) - C * x * math.sin(C * x)


def _x_cos_hess(x):
    return -2 * C * math.sin(C * x) - x * C**2 * math.cos(C * x)


def gd_1d() -> tuple[dict[str, float], list[FigureResult]]:
    """GD from x = 10 for 10 steps on x² at η = 0.2, 0.05, 1.1 and on x·cos(0.15πx) at η = 2."""
    numbers, figures = {}, []
    for eta in (0.2, 0.05, 1.1):
        result = gd(lambda x: x**2, 10.0, eta, 10, grad=lambda x: 2 * x)
        numbers[f"gd x², η={eta:g}"] = float(result.x)
        figures.append(show_trace(result.trajectory, lambda x: x**2, title=f"x², η = {eta:g}"))
    result = gd(_x_cos, 10.0, 2.0, 10, grad=_x_cos_grad)
    numbers["gd x·cos(cx), η=2"] = float(result.x)
    figures.append(show_trace(result.trajectory, _x_cos, (-13, 13), "x·cos(0.15πx), η = 2"))
    return numbers, figures


def _f_2d(x1, x2):
    return x1**2 + 2 * x2**2


def gd_2d(eta: float = 0.1, steps: int = 20) -> tuple[dict[str, float], FigureResult]:
    """GD on x1² + 2·x2² from (−5, −2) with the book's ``train_2d``: after 20 steps at η = 0.1,
    x1 = −5·0.8²⁰ and x2 = −2·0.6²⁰ exactly."""
    points = train_2d(
        lambda x1, x2, s1, s2: (x1 - eta * 2 * x1, x2 - eta * 4 * x2, 0, 0), steps=steps
    )
    figure = show_trace_2d(_f_2d, points, title=f"x1² + 2x2², η = {eta:g}")
    return {"gd 2-D x1": points[-1][0], "gd 2-D x2": points[-1][1]}, figure


def newton_runs() -> tuple[dict[str, float], list[FigureResult]]:
    """Newton from x = 10: on cosh(0.5x) (convex: lands on 0), and on x·cos(0.15πx) at η = 1
    (heads to a maximum where f'' < 0) and η = 0.5."""
    cosh = newton(
        lambda x: torch.cosh(0.5 * x),
        10.0,
        1.0,
        10,
        grad=lambda x: 0.5 * math.sinh(0.5 * x),
        hess=lambda x: 0.25 * math.cosh(0.5 * x),
    )
    numbers = {"newton cosh(0.5x)": float(cosh.x)}
    figures = [show_trace(cosh.trajectory, lambda x: torch.cosh(0.5 * x), title="Newton, cosh")]
    for eta in (1.0, 0.5):
        result = newton(_x_cos, 10.0, eta, 10, grad=_x_cos_grad, hess=_x_cos_hess)
        numbers[f"newton x·cos(cx), η={eta:g}"] = float(result.x)
        figures.append(
            show_trace(result.trajectory, _x_cos, (-30, 30), f"Newton, x·cos(0.15πx), η = {eta:g}")
        )
    return numbers, figures


def quadratic_learning_rates(
    rates: Sequence[float] = (0.05, 0.1, 0.19, 2 / 11, 0.2, 0.21), steps: int = 50
) -> dict[str, tuple[float, str]]:
    """GD on ½(x1² + 10x2²) from (1, 1): ‖x_50‖ and the status for each η. The best rate is
    2/(μ + L) = 2/11; η = 0.2 = 2/L never converges; η > 0.2 diverges."""
    f = lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)  # noqa: E731
    out = {}
    for eta in rates:
        result = gd(f, torch.ones(2, dtype=torch.float64), eta, steps)
        out[f"η={eta:.4g}"] = (float(torch.linalg.vector_norm(result.x)), result.status)
    return out


def preconditioning(steps: int = 10) -> tuple[dict[str, float], FigureResult]:
    """Plain GD vs diagonally preconditioned GD on ½(x1² + 10x2²) from (1, 1): the
    preconditioned steps rescale each axis by 1/H_ii and land on the minimum at once."""
    f = lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)  # noqa: E731
    plain = gd(f, torch.ones(2, dtype=torch.float64), 0.1, steps)
    scaled = preconditioned_gd(f, torch.ones(2, dtype=torch.float64), 1.0, steps)
    fig, ax = new_figure()
    ax.semilogy([max(v, 1e-18) for v in plain.values], "-o", markersize=3, label="GD, η = 0.1")
    ax.semilogy(
        [max(v, 1e-18) for v in scaled.values],
        "-s",
        markersize=3,
        label="diag(H)⁻¹-preconditioned GD, η = 1",
    )
    ax.set(xlabel="step", ylabel="f(x)")
    ax.legend()
    numbers = {"gd f after 10": plain.fun, "preconditioned f after 10": scaled.fun}
    return numbers, FigureResult(fig, numbers)


def line_search() -> dict[str, object]:
    """On ½(x1² + 10x2²) from (1, 1): the backtracking (α = 0.3, β = 0.5) step sizes and values,
    and the exact first step gᵀg/gᵀAg = 101/1001."""
    f = lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)  # noqa: E731
    start = torch.ones(2, dtype=torch.float64)
    backtrack = line_search_gd(f, start, "backtracking", 4, alpha=0.3, beta=0.5)
    exact = line_search_gd(f, start, "exact", 1)
    return {
        "backtracking steps": backtrack.step_sizes,
        "backtracking values": backtrack.values,
        "exact first step": exact.step_sizes[0],
    }
