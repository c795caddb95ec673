"""Line search: choose the step size η along the descent direction p = −∇f(x) at every step.

* Backtracking (Armijo): start at η₀ and multiply by β until
  f(x + ηp) ≤ f(x) + α η ∇f(x)ᵀp  (sufficient decrease).
* Strong Wolfe: sufficient decrease with c₁ and |∇f(x + ηp)ᵀp| ≤ c₂ |∇f(x)ᵀp| (the slope has
  flattened enough), found by bracketing and zooming (Nocedal & Wright, Algorithms 3.5–3.6).
* Exact, for quadratics f = ½xᵀAx − bᵀx + c: η = gᵀg / gᵀAg minimizes f along −g.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor
from torch.func import grad as autograd
from torch.func import hessian as autohessian

from trainlab.optim.descent import Function, Recorder, as_start, value_of
from trainlab.optim.result import OptimizeResult

__all__ = ["backtracking", "exact_quadratic_step", "line_search_gd", "strong_wolfe"]


class LineSearchError(ValueError):
    """No acceptable step was found."""


def backtracking(
    f: Function,
    x: Tensor,
    g: Tensor,
    lr0: float = 1.0,
    alpha: float = 0.3,
    beta: float = 0.5,
    max_halvings: int = 60,
) -> float:
    """The largest η = lr0·βᵏ with f(x − ηg) ≤ f(x) − α η ‖g‖² (Armijo, direction −g)."""
    if not (0 < alpha < 1 and 0 < beta < 1):
        raise ValueError(f"need 0 < alpha < 1 and 0 < beta < 1, got alpha={alpha}, beta={beta}")
    fx, slope = float(f(x)), float((g * g).sum())
    eta = lr0
    for _ in range(max_halvings):
        if float(f(x - eta * g)) <= fx - alpha * eta * slope:
            return eta
        eta *= beta
    raise LineSearchError(f"no step satisfied the Armijo condition after {max_halvings} halvings")


def strong_wolfe(
    f: Function,
    gradient: Function,
    x: Tensor,
    g: Tensor,
    lr0: float = 1.0,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_iter: int = 50,
) -> float:
    """A step η along −g satisfying the strong Wolfe conditions with 0 < c1 < c2 < 1."""
    if not 0 < c1 < c2 < 1:
        raise ValueError(f"need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")
    p = -g

    def phi(eta: float) -> tuple[float, float]:
        z = x + eta * p
        return float(f(z)), float((gradient(z) * p).sum())

    phi0, slope0 = phi(0.0)
    if slope0 >= 0:
        raise LineSearchError("−∇f is not a descent direction here (∇f = 0?)")

    def zoom(lo: float, hi: float, phi_lo: float) -> float:
        for _ in range(max_iter):
            eta = 0.5 * (lo + hi)  # bisection: slow but never leaves the bracket
            value, slope = phi(eta)
            if value > phi0 + c1 * eta * slope0 or value >= phi_lo:
                hi = eta
            else:
                if abs(slope) <= -c2 * slope0:
                    return eta
                if slope * (hi - lo) >= 0:
                    hi = lo
                lo, phi_lo = eta, value
        raise LineSearchError(f"zoom did not find a strong Wolfe step in {max_iter} iterations")

    previous, phi_previous = 0.0, phi0
    eta = lr0
    for i in range(max_iter):
        value, slope = phi(eta)
        if value > phi0 + c1 * eta * slope0 or (i > 0 and value >= phi_previous):
            return zoom(previous, eta, phi_previous)
        if abs(slope) <= -c2 * slope0:
            return eta
        if slope >= 0:
            return zoom(eta, previous, value)
        previous, phi_previous, eta = eta, value, 2 * eta
    raise LineSearchError(f"no strong Wolfe step found in {max_iter} expansions")


def exact_quadratic_step(g: Tensor, A: Tensor) -> float:
    """η = gᵀg / gᵀAg: the exact minimizer of a quadratic with Hessian A along −g."""
    g = g.reshape(-1)
    curvature = float(g @ A @ g)
    if curvature <= 0:
        raise LineSearchError(
            f"gᵀAg = {curvature:.3g} ≤ 0: f is not a convex quadratic along −∇f, so no exact step"
        )
    return float(g @ g) / curvature


def line_search_gd(
    f: Function,
    x0: float | Tensor,
    method: Literal["backtracking", "wolfe", "exact"] = "backtracking",
    steps: int = 20,
    grad: Function | None = None,
    lr0: float = 1.0,
    alpha: float = 0.3,
    beta: float = 0.5,
    tol: float = 0.0,
    hess: Callable[[Tensor], Tensor] | None = None,
) -> OptimizeResult:
    """Gradient descent whose step size comes from a line search at every step; the chosen
    steps are in ``result.step_sizes``. ``method="exact"`` assumes f is quadratic and reads A
    from the Hessian (``hess`` or autograd)."""
    if method not in ("backtracking", "wolfe", "exact"):
        raise ValueError(f"method must be 'backtracking', 'wolfe' or 'exact', got {method!r}")
    x = as_start(x0)
    value_of(f, x)
    gradient = grad or autograd(f)
    hessian = hess or autohessian(f)
    run = Recorder(f, x, tol)
    for step in range(1, steps + 1):
        g = gradient(x)
        norm = float(torch.linalg.vector_norm(g))
        if norm == 0:
            run.stop(x, step - 1, "converged", f"∇f = 0 after {step - 1} steps")
            break
        try:
            if method == "backtracking":
                eta = backtracking(f, x, g, lr0, alpha, beta)
            elif method == "wolfe":
                eta = strong_wolfe(f, gradient, x, g, lr0)
            else:
                n = max(x.numel(), 1)
                eta = exact_quadratic_step(g, hessian(x).reshape(n, n))
        except LineSearchError as err:
            run.stop(x, step - 1, "failed", f"line search failed at step {step}: {err}")
            break
        run.record(x, float(f(x)), norm, eta)
        x = x - eta * g
        next_norm = float(torch.linalg.vector_norm(gradient(x))) if tol > 0 else math.inf
        if run.check(x, step, next_norm):
            break
    return run.finish(x, steps, lambda z: float(torch.linalg.vector_norm(gradient(z))))
