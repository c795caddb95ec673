"""Gradient descent, Newton's method and preconditioned gradient descent for any torch function.

Each minimizer takes f (a point -> scalar function written with torch operations), a start x0
(a float or a tensor), and returns an :class:`OptimizeResult` with the whole trajectory; each is
:func:`~trainlab.optim.minimize` with a fixed direction and a constant step.
Gradients and Hessians come from autograd (``torch.func``) unless the caller passes them, e.g.
the book's hand-written ``f_grad``; with those, the book's printed numbers are reproduced to the
last bit in float64.

Update rules (η the learning rate):

    gradient descent        x ← x − η ∇f(x)
    Newton                  x ← x − η H(x)⁻¹ ∇f(x)
    preconditioned GD       x ← x − η diag(H(x))⁻¹ ∇f(x)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from torch import Tensor

from trainlab.optim.directions import DiagonalPreconditioner, Gradient, Newton
from trainlab.optim.linesearch import Constant
from trainlab.optim.minimize import minimize
from trainlab.optim.objective import Function
from trainlab.optim.result import OptimizeResult

__all__ = ["gd", "newton", "preconditioned_gd", "train_2d"]


def gd(
    f: Function,
    x0: float | Tensor,
    lr: float,
    steps: int = 20,
    grad: Function | None = None,
    tol: float = 0.0,
    keep_trajectory: bool = True,
) -> OptimizeResult:
    """Gradient descent x ← x − η∇f(x) for ``steps`` steps (or until ‖∇f‖ ≤ ``tol`` > 0).

    On ½xᵀAx every eigen-direction of A is multiplied by exactly (1 − ηλᵢ) per step, so GD
    converges iff 0 < η < 2/L (L the largest eigenvalue). Divergence (non-finite values, or f
    rising above f(x0) for several steps in a row) stops the run with status "diverged" and a
    hint that names L. On f(x) = x² (L = 2) from x₀ = 10, the book's ten steps give
    x = 10·(1 − 2η)¹⁰, bit for bit:

    >>> r = gd(lambda x: x**2, 10.0, lr=0.2, steps=10)
    >>> float(r.x), r.status
    (0.06046617599999997, 'max_steps')
    >>> gd(lambda x: x**2, 10.0, lr=1.1, steps=10).status
    'diverged'
    """
    return minimize(
        f,
        x0,
        Gradient(),
        Constant(lr),
        steps=steps,
        tol=tol,
        grad=grad,
        keep_trajectory=keep_trajectory,
    )


def newton(
    f: Function,
    x0: float | Tensor,
    lr: float = 1.0,
    steps: int = 10,
    grad: Function | None = None,
    hess: Function | None = None,
    fix: Literal["abs", "damping"] | None = None,
    damping: float = 1e-3,
    tol: float = 0.0,
    keep_trajectory: bool = True,
) -> OptimizeResult:
    """Newton's method x ← x − η H⁻¹∇f(x). On a quadratic with η = 1 it lands on the minimum
    in one step; near a minimum with positive-definite H it converges quadratically.

    Where f is not convex, H may have negative eigenvalues and Newton then heads *uphill* (to
    maxima or saddles). Two fixes: ``fix="abs"`` uses |H| (eigenvalues replaced by their
    absolute values, floored at ``damping``), ``fix="damping"`` uses H + damping·I. A singular
    Hessian without a fix stops the run with status "failed".
    """
    return minimize(
        f,
        x0,
        Newton(fix, damping),
        Constant(lr),
        steps=steps,
        tol=tol,
        grad=grad,
        hess=hess,
        keep_trajectory=keep_trajectory,
    )


def preconditioned_gd(
    f: Function,
    x0: float | Tensor,
    lr: float,
    steps: int = 20,
    grad: Function | None = None,
    hess_diag: Function | None = None,
    tol: float = 0.0,
    keep_trajectory: bool = True,
    absolute: bool = False,
) -> OptimizeResult:
    """Diagonally preconditioned GD x ← x − η diag(H)⁻¹∇f(x): each coordinate gets its own
    step size 1/H_ii, which undoes axis-aligned ill-conditioning (on diag(1, 10) it is Newton).
    ``hess_diag`` returns the diagonal; by default it is read off autograd's Hessian.
    ``absolute=True`` divides by |H_ii| (for non-convex f)."""
    return minimize(
        f,
        x0,
        DiagonalPreconditioner(hess_diag, absolute),
        Constant(lr),
        steps=steps,
        tol=tol,
        grad=grad,
        keep_trajectory=keep_trajectory,
    )


Update2D = Callable[[float, float, float, float], tuple[float, float, float, float]]


def train_2d(
    update: Update2D, x0: tuple[float, float] = (-5.0, -2.0), steps: int = 20
) -> list[tuple[float, float]]:
    """The book's runner for update rules written as functions of (x1, x2, s1, s2), where s1, s2
    are the rule's state (momentum, accumulated squares, ...; zero at the start):

        def gd_2d(x1, x2, s1, s2):
            return x1 - eta * 2 * x1, x2 - eta * 4 * x2, 0, 0

    Returns the points visited, start included."""
    x1, x2 = x0
    s1 = s2 = 0.0
    points = [(float(x1), float(x2))]
    for _ in range(steps):
        x1, x2, s1, s2 = update(x1, x2, s1, s2)
        points.append((float(x1), float(x2)))
    return points
