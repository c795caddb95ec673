"""Gradient descent, Newton's method and preconditioned gradient descent for any torch function.

Each minimizer takes f (a point -> scalar function written with torch operations), a start x0
(a float or a tensor), and returns an :class:`OptimizeResult` with the whole trajectory.
Gradients and Hessians come from autograd (``torch.func``) unless the caller passes them, e.g.
the book's hand-written ``f_grad``; with those, the book's printed numbers are reproduced to the
last bit in float64.

Update rules (η the learning rate):

    gradient descent        x ← x − η ∇f(x)
    Newton                  x ← x − η H(x)⁻¹ ∇f(x)
    preconditioned GD       x ← x − η diag(H(x))⁻¹ ∇f(x)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor
from torch.func import grad as autograd
from torch.func import hessian as autohessian

from trainlab.optim.result import OptimizeResult

__all__ = ["gd", "newton", "preconditioned_gd", "train_2d"]

Function = Callable[[Tensor], Tensor]

# A run that ends with f above f(x0) after rising for this many consecutive steps diverged.
_RISING_STEPS = 5
# Iterates beyond this size stop the run at once: they are heading for overflow.
_EXPLOSION = 1e100


def as_start(x0: float | Tensor) -> Tensor:
    """x0 as a float64 tensor (a copy), refusing non-finite values."""
    x = torch.as_tensor(x0, dtype=torch.float64).detach().clone()
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"x0 must be finite, got {x.tolist()}")
    return x


def check_lr(lr: float) -> None:
    if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
        raise ValueError(f"the learning rate must be a positive finite number, got {lr!r}")


def value_of(f: Function, x: Tensor) -> float:
    """f(x) as a float, checking that f is scalar-valued."""
    value = f(x)
    if not isinstance(value, Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(
            f"f must return a scalar (0-d tensor), got {shape}; reduce it, e.g. with .sum()"
        )
    return float(value)


def smoothness_hint(f: Function, x0: Tensor) -> str:
    """For a divergence message: the curvature L = λ_max(∇²f(x0)), and the bound η < 2/L that
    gradient descent needs on a quadratic with that curvature."""
    if x0.numel() > 500:
        return "lower the learning rate"
    hess = autohessian(f)(x0).reshape(max(x0.numel(), 1), -1)
    top = float(torch.linalg.eigvalsh((hess + hess.T) / 2).abs().max())
    if top == 0:
        return "lower the learning rate"
    return (
        f"on a quadratic, gradient descent needs η < 2/L; here L = λ_max(∇²f(x0)) = {top:.4g}, "
        f"so η < {2 / top:.4g}"
    )


class Recorder:
    """Collects a minimizer's trajectory and decides when it has converged or diverged."""

    def __init__(self, f: Function, x0: Tensor, tol: float, keep: bool = True):
        self.f, self.tol, self.keep = f, tol, keep
        self.f0 = value_of(f, x0)
        self.result = OptimizeResult(x0, self.f0, "max_steps", "", 0)
        self.rising = 0
        self.last = self.f0
        self.x0 = x0

    def record(self, x: Tensor, value: float, grad_norm: float, step_size: float) -> None:
        if self.keep:
            self.result.trajectory.append(x)
            self.result.values.append(value)
            self.result.grad_norms.append(grad_norm)
            self.result.step_sizes.append(step_size)

    def check(self, x: Tensor, step: int, grad_norm: float) -> bool:
        """After step ``step`` produced x: True when the run is over (status set). A run stops
        early only when it converged (‖∇f‖ ≤ tol) or blew up; a slower divergence runs to the end,
        so that its trajectory is complete, and is diagnosed there."""
        finite = bool(torch.isfinite(x).all()) and float(x.abs().max()) < _EXPLOSION
        value = float(self.f(x)) if finite else math.nan
        self.rising = self.rising + 1 if value > self.last else 0
        self.last = value
        if not math.isfinite(value):
            return self.stop(x, step, "diverged", f"x or f(x) blew up at step {step}")
        if self.tol > 0 and grad_norm <= self.tol:
            return self.stop(
                x, step, "converged", f"‖∇f‖ = {grad_norm:.3g} ≤ tol after {step} steps"
            )
        return False

    def stop(self, x: Tensor, step: int, status, message: str) -> bool:
        result = self.result
        result.x, result.nit, result.status = x, step, status
        finite = bool(torch.isfinite(x).all()) and float(x.abs().max()) < _EXPLOSION
        result.fun = float(self.f(x)) if finite else math.nan
        if status == "diverged":
            message += f"; {smoothness_hint(self.f, self.x0)}"
        result.message = message
        return True

    def finish(self, x: Tensor, steps: int, grad_norm: Callable[[Tensor], float]) -> OptimizeResult:
        result = self.result
        if result.message == "":  # ran all its steps
            value = float(self.f(x))
            if value > self.f0 and self.rising >= _RISING_STEPS:
                self.stop(
                    x,
                    steps,
                    "diverged",
                    f"f rose for the last {self.rising} steps, to {value:.6g} from "
                    f"f(x0) = {self.f0:.6g}",
                )
            else:
                self.stop(
                    x,
                    steps,
                    "max_steps",
                    f"no convergence in {steps} steps: ‖∇f(x)‖ = {grad_norm(x):.4g}"
                    + (f" > tol = {self.tol:g}" if self.tol > 0 else ""),
                )
        if self.keep:  # the final point ends the trajectory
            result.trajectory.append(result.x)
            result.values.append(result.fun)
            result.grad_norms.append(grad_norm(result.x) if math.isfinite(result.fun) else math.nan)
        return result


def _norm(g: Tensor) -> float:
    return float(torch.linalg.vector_norm(g))


def _as_gradient(gradient: Function) -> Function:
    """A caller's gradient may return Python floats (e.g. written with ``math``)."""
    return lambda x: torch.as_tensor(gradient(x), dtype=torch.float64)


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
    hint that names L.
    """
    check_lr(lr)
    x = as_start(x0)
    gradient = _as_gradient(grad or autograd(f))
    run = Recorder(f, x, tol, keep_trajectory)
    for step in range(1, steps + 1):
        g = gradient(x)
        run.record(x, float(f(x)), _norm(g), lr)
        x = x - lr * g
        if run.check(x, step, _norm(gradient(x)) if tol > 0 else math.inf):
            break
    return run.finish(x, steps, lambda z: _norm(gradient(z)))


def _hessian_matrix(hess: Function, x: Tensor) -> Tensor:
    n = max(x.numel(), 1)
    return hess(x).reshape(n, n)


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
    check_lr(lr)
    if fix not in (None, "abs", "damping"):
        raise ValueError(f"fix must be None, 'abs' or 'damping', got {fix!r}")
    x = as_start(x0)
    gradient = _as_gradient(grad or autograd(f))
    hessian = _as_gradient(hess or autohessian(f))
    run = Recorder(f, x, tol, keep_trajectory)
    for step in range(1, steps + 1):
        g = gradient(x)
        H = _hessian_matrix(hessian, x)
        if fix == "abs":
            eigenvalues, vectors = torch.linalg.eigh((H + H.T) / 2)
            H = vectors @ torch.diag(eigenvalues.abs().clamp_min(damping)) @ vectors.T
        elif fix == "damping":
            H = H + damping * torch.eye(H.shape[0], dtype=H.dtype)
        if x.dim() == 0:  # 1-D: the book's x − η f'(x)/f''(x), exactly
            if float(H) == 0:
                run.stop(
                    x,
                    step - 1,
                    "failed",
                    f"f''(x) = 0 at x = {float(x):.6g} (step {step}); "
                    "Newton's step is undefined: use fix='damping'",
                )
                break
            direction = g / H.reshape(())
        else:
            try:
                direction = torch.linalg.solve(H, g.reshape(-1)).reshape(x.shape)
            except torch.linalg.LinAlgError:
                run.stop(
                    x,
                    step - 1,
                    "failed",
                    f"the Hessian is singular at step {step}; "
                    "use fix='damping' (H + μI) or fix='abs'",
                )
                break
        run.record(x, float(f(x)), _norm(g), lr)
        x = x - lr * direction
        if run.check(x, step, _norm(gradient(x)) if tol > 0 else math.inf):
            break
    return run.finish(x, steps, lambda z: _norm(gradient(z)))


def preconditioned_gd(
    f: Function,
    x0: float | Tensor,
    lr: float,
    steps: int = 20,
    grad: Function | None = None,
    hess_diag: Function | None = None,
    tol: float = 0.0,
    keep_trajectory: bool = True,
) -> OptimizeResult:
    """Diagonally preconditioned GD x ← x − η diag(H)⁻¹∇f(x): each coordinate gets its own
    step size 1/H_ii, which undoes axis-aligned ill-conditioning (on diag(1, 10) it is Newton).
    ``hess_diag`` returns the diagonal; by default it is read off autograd's Hessian."""
    check_lr(lr)
    x = as_start(x0)
    gradient = _as_gradient(grad or autograd(f))
    if hess_diag is None:
        full = autohessian(f)

        def hess_diag(z: Tensor) -> Tensor:
            return torch.diagonal(_hessian_matrix(full, z)).reshape(z.shape)

    run = Recorder(f, x, tol, keep_trajectory)
    for step in range(1, steps + 1):
        g = gradient(x)
        d = hess_diag(x)
        if not bool((d > 0).all()):
            run.stop(
                x,
                step - 1,
                "failed",
                f"the Hessian diagonal {d.tolist()} is not positive "
                f"at step {step}; diagonal preconditioning needs positive curvature",
            )
            break
        run.record(x, float(f(x)), _norm(g), lr)
        x = x - lr * g / d
        if run.check(x, step, _norm(gradient(x)) if tol > 0 else math.inf):
            break
    return run.finish(x, steps, lambda z: _norm(gradient(z)))


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
