"""One driver for every iterative minimizer of a torch function:

    x_{k+1} = P(x_k + η_k p_k)

with a direction rule for p_k (:mod:`trainlab.optim.directions`: gradient, Newton, diagonal
preconditioning, BFGS, L-BFGS), a step rule for η_k (:mod:`trainlab.optim.linesearch`:
constant, backtracking, bisection, strong Wolfe, exact) and optionally a projection P onto a
convex set (projected gradient descent, with FISTA's extrapolation if ``accelerated``). The
book's front doors — :func:`~trainlab.optim.gd`, :func:`~trainlab.optim.newton`,
:func:`~trainlab.optim.preconditioned_gd`, :func:`~trainlab.optim.line_search_gd`,
:func:`~trainlab.convex.projected_gradient_descent` — are this loop with fixed rules.

Conventions, the same for every method:

* x₀ keeps its dtype (a Python number is float64) unless ``dtype`` is given; ``lr`` is the step
  size; the iterates, f(x_k), ‖∇f(x_k)‖₂ and η_k are recorded (``keep_trajectory``).
* converged: ‖∇f(x)‖₂ ≤ ``tol`` (default 1e-5; with a projection, the gradient mapping
  ‖x − P(x − η∇f(x))‖/η, zero exactly at a constrained minimum), *and* f(x) ≤ f(x₀);
  ``tol=0`` runs every step (the book's fixed-step experiments). A stationary point above
  f(x₀) ends the run as "failed": descent went uphill.
* diverged: x, f or ∇f non-finite, ‖x‖∞ ≥ 1e100, |f(x) − f(x₀)| > 1e12·(1 + |f(x₀)|),
  ‖∇f(x)‖ > 1e12·(1 + ‖∇f(x₀)‖), or, at the end, f above f(x₀) after rising for the last
  5 steps.
* failed: the direction rule or the line search broke down (a quasi-Newton method first retries
  from steepest descent once), or the step fell below rounding level.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from trainlab.optim.directions import (
    BFGS,
    LBFGS,
    DiagonalPreconditioner,
    Direction,
    DirectionError,
    Gradient,
    Newton,
)
from trainlab.optim.linesearch import (
    Backtracking,
    Bisection,
    Constant,
    Exact,
    Line,
    LineSearchError,
    StepRule,
    StrongWolfe,
)
from trainlab.optim.objective import Function, Objective, as_start
from trainlab.optim.result import OptimizeResult

__all__ = ["DIVERGENCE_FACTOR", "minimize"]

DIVERGENCE_FACTOR = 1e12  # |f − f(x₀)| or ‖∇f‖ beyond this many times their start: diverged
RISING_STEPS = 5  # a run that ends above f(x₀) after rising this many steps in a row diverged
EXPLOSION = 1e100  # iterates beyond this size are heading for overflow

DIRECTIONS: dict[str, Callable[[], Direction]] = {
    "gradient": Gradient,
    "newton": Newton,
    "preconditioned": DiagonalPreconditioner,
    "bfgs": BFGS,
    "lbfgs": LBFGS,
}
STEPS: dict[str, Callable[[], StepRule]] = {
    "backtracking": Backtracking,
    "bisection": Bisection,
    "wolfe": StrongWolfe,
    "exact": Exact,
}


def _rule(value, table: dict, kind: str):
    if isinstance(value, str):
        if value not in table:
            raise ValueError(f"unknown {kind} {value!r}; choose from {sorted(table)}")
        return table[value]()
    return value


def smoothness_hint(f: Function, x0: Tensor) -> str:
    """For a divergence message: the curvature L = λ_max(∇²f(x0)), and the bound η < 2/L that
    gradient descent needs on a quadratic with that curvature."""
    generic = "below 1/L for an L-smooth f"
    if x0.numel() > 500:
        return generic
    hess = torch.func.hessian(f)(x0).reshape(max(x0.numel(), 1), -1)
    top = float(torch.linalg.eigvalsh((hess + hess.T) / 2).abs().max())
    if not 0 < top < math.inf:
        return generic
    return (
        f"on a quadratic, gradient descent needs η < 2/L; here L = λ_max(∇²f(x0)) = {top:.4g}, "
        f"so η < {2 / top:.4g}"
    )


def _norm(t: Tensor) -> float:
    return float(torch.linalg.vector_norm(t))


def minimize(
    f: Function,
    x0: float | Tensor,
    direction: Literal["gradient", "newton", "preconditioned", "bfgs", "lbfgs"]
    | Direction = "bfgs",
    step: Literal["backtracking", "bisection", "wolfe", "exact"] | StepRule | None = None,
    *,
    lr: float | None = None,
    steps: int = 1000,
    tol: float = 1e-5,
    grad: Function | None = None,
    hess: Function | None = None,
    project: Callable[[Tensor], Tensor] | None = None,
    accelerated: bool = False,
    dtype: torch.dtype | None = None,
    keep_trajectory: bool = True,
) -> OptimizeResult:
    """Minimize f from x0 (see the module docstring for the rules and conventions).

    Args:
        f: a point -> scalar function written with torch operations (0-d x for 1-D f).
        x0: the start, a number or a tensor.
        direction: a rule name or a :class:`~trainlab.optim.directions.Direction`.
        step: a rule name or a :class:`~trainlab.optim.linesearch.StepRule`; default: a
            constant step ``lr`` when ``lr`` is given, else strong Wolfe.
        lr: the constant step size η (with ``step=None``).
        steps: the most steps to take (≥ 1).
        tol: the stopping tolerance on ‖∇f‖₂ (or the gradient mapping); 0 runs every step.
        grad, hess: ∇f and ∇²f if the caller has them (e.g. written out by hand); default:
            autograd.
        project: Proj_X, for minimizing over a convex set X (constant steps only).
        accelerated: FISTA/Nesterov extrapolation, with ``project`` or plain constant steps.
        dtype: compute in this dtype instead of x0's.
        keep_trajectory: record every iterate.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    if not (isinstance(tol, (int, float)) and tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"tol must be a finite number >= 0, got {tol!r}")
    rule = _rule(direction, DIRECTIONS, "direction")
    if step is None:
        step = "wolfe" if lr is None else Constant(lr)
    elif lr is not None:
        raise ValueError("give either lr= (a constant step) or step=, not both")
    step_rule = _rule(step, STEPS, "step rule")
    if (project is not None or accelerated) and not isinstance(step_rule, Constant):
        raise ValueError(
            "projection and acceleration take a constant step: pass lr= (η ≤ 1/L for an "
            "L-smooth f) instead of a line search"
        )
    run = _Run(Objective(f, grad, hess), rule, step_rule, tol, project, accelerated)
    return run(as_start(x0, dtype), steps, keep_trajectory)


class _Run:
    """The state of one minimization; ``__call__`` runs the loop and returns the result."""

    def __init__(self, objective, direction, step, tol, project, accelerated):
        self.objective, self.direction, self.step = objective, direction, step
        self.tol, self.project, self.accelerated = tol, project, accelerated

    def _criterion(self, x: Tensor, g: Tensor) -> float:
        """‖∇f(x)‖, or with a projection the gradient mapping ‖x − P(x − η∇f(x))‖/η."""
        if self.project is None:
            return _norm(g)
        eta = self.step.lr
        return _norm(x - self.project(x - eta * g)) / eta

    def _stationary(self, criterion: float) -> bool:
        return criterion == 0 or (self.tol > 0 and criterion <= self.tol)

    def _record(self, x: Tensor, value: float, criterion: float) -> None:
        if self.keep:
            self.result.trajectory.append(x)
            self.result.values.append(value)
            self.result.grad_norms.append(criterion)

    def __call__(self, x0: Tensor, steps: int, keep: bool) -> OptimizeResult:
        objective = self.objective
        x = self.project(x0) if self.project is not None else x0
        value, g = objective.value_and_gradient(x)
        if not math.isfinite(value):
            raise ValueError(f"f is not finite at the start x0 = {x.tolist()} (f = {value})")
        objective.check_connected(x, value, g)
        self.x0, self.f0, self.g0, self.keep = x, value, _norm(g), keep
        # placeholders: every return below goes through _stop, which sets all five
        self.result = OptimizeResult(x, value, "max_steps", "", 0)  # pragma: no mutate
        point, t, rising = x, 1.0, 0
        for k in range(1, steps + 1):
            criterion = self._criterion(point, g)
            self._record(point, value, criterion)
            if self.project is None and self._stationary(criterion):
                return self._finish(point, value, k - 1, criterion)
            try:
                p, line, eta = self._direction_and_step(point, value, g, first_step=k == 1)
            except (DirectionError, LineSearchError) as err:
                what = "the line search failed" if isinstance(err, LineSearchError) else "stopped"
                return self._stop(point, value, k - 1, "failed", f"{what} at step {k}: {err}")
            x_new = point + eta * p
            if self.project is not None:
                x_new = self.project(x_new)
            if keep:
                self.result.step_sizes.append(eta)
            if not bool(torch.isfinite(x_new).all()) or float(x_new.abs().max()) >= EXPLOSION:
                self._record(x_new, math.nan, math.nan)
                return self._stop(x_new, math.nan, k, "diverged", f"x blew up at step {k}")
            if self.project is not None and self._stationary(criterion):
                new_value = objective.value(x_new)
                self._record(x_new, new_value, self._criterion(x_new, objective.gradient(x_new)))
                return self._finish(x_new, new_value, k, criterion)
            if torch.equal(x_new, point):
                return self._stop(
                    point,
                    value,
                    k - 1,
                    "failed",
                    f"no progress at step {k}: the step η·p is below rounding level "
                    f"(‖∇f‖ = {_norm(g):.3g}); loosen tol",
                )
            if self.accelerated:  # FISTA: extrapolate from the last two iterates
                t_next = (1 + math.sqrt(1 + 4 * t * t)) / 2
                new_point = x_new + ((t - 1) / t_next) * (x_new - x)
                t, x = t_next, x_new
            else:
                new_point = x = x_new
            last = line.last
            if new_point is x_new and last is not None and last[0] == eta and last[2] is not None:
                new_value, new_g = last[1], last[2]  # the line search evaluated it already
            else:
                new_value, new_g = objective.value_and_gradient(new_point)
            trouble = self._divergence(new_value, new_g, k)
            if trouble:
                self._record(new_point, new_value, self._criterion(new_point, new_g))
                return self._stop(new_point, new_value, k, "diverged", trouble)
            self.direction.update(new_point - point, new_g - g)
            rising = rising + 1 if new_value > value else 0
            point, value, g = new_point, new_value, new_g
        criterion = self._criterion(point, g)
        self._record(point, value, criterion)
        if self.project is None and self._stationary(criterion):
            return self._finish(point, value, steps, criterion)
        if value > self.f0 and rising >= RISING_STEPS:
            return self._stop(
                point,
                value,
                steps,
                "diverged",
                f"f rose for the last {rising} steps, to {value:.6g} from f(x0) = {self.f0:.6g}",
            )
        message = f"no convergence in {steps} steps: ‖∇f(x)‖ = {criterion:.4g}"
        if self.tol > 0:
            message += f" > tol = {self.tol:g}"
        return self._stop(point, value, steps, "max_steps", message)

    def _direction_and_step(self, point, value, g, first_step):
        """The direction p, its line and the step size. When a quasi-Newton method's line search
        fails, it forgets its curvature and tries once more from steepest descent, within the
        same step (a restart is not a step)."""

        def attempt(first: bool):
            p = self.direction(point, g, self.objective)
            line = Line(self.objective, point, p, value, g)
            return p, line, self._search(line, first_step=first)

        try:
            return attempt(first_step)
        except LineSearchError:
            if not self._restartable():
                raise
            self.direction.reset()
            return attempt(False)

    def _restartable(self) -> bool:
        return isinstance(self.direction, (BFGS, LBFGS))

    def _search(self, line: Line, first_step: bool) -> float:
        """η from the step rule. A quasi-Newton method's first direction is −∇f with no scale:
        its first trial step is 1/‖∇f‖∞ (a unit move) instead of 1."""
        if first_step and self._restartable() and isinstance(self.step, StrongWolfe):
            guess = min(self.step.lr0, 1.0 / max(float(line.p.abs().max()), 1e-300))
            rule = StrongWolfe(
                guess, self.step.c1, self.step.c2, self.step.xtol, self.step.max_evals
            )
            return rule(line)
        return self.step(line)

    def _divergence(self, value: float, g: Tensor, k: int) -> str | None:
        gnorm = _norm(g)
        if not (math.isfinite(value) and math.isfinite(gnorm)):
            return f"f(x) or ∇f(x) blew up at step {k} (f = {value:.3g}, ‖∇f‖ = {gnorm:.3g})"
        if abs(value - self.f0) > DIVERGENCE_FACTOR * (1 + abs(self.f0)):
            return (
                f"f blew up to {value:.3g} at step {k} from f(x0) = {self.f0:.3g} (beyond "
                f"{DIVERGENCE_FACTOR:.0e}·(1 + |f(x0)|))"
            )
        if gnorm > DIVERGENCE_FACTOR * (1 + self.g0):
            return (
                f"‖∇f‖ blew up to {gnorm:.3g} at step {k} from {self.g0:.3g} at x0 (beyond "
                f"{DIVERGENCE_FACTOR:.0e}·(1 + ‖∇f(x0)‖))"
            )
        return None

    def _finish(self, x, value, nit, criterion) -> OptimizeResult:
        """A stationary point: converged if it is no higher than the start."""
        what = "gradient mapping" if self.project is not None else "‖∇f‖"
        if value > self.f0:
            return self._stop(
                x,
                value,
                nit,
                "failed",
                f"{what} = {criterion:.3g} ≤ tol at a point above the start (f = {value:.6g} > "
                f"f(x0) = {self.f0:.6g}): the method went uphill to a stationary point",
            )
        message = f"{what} = {criterion:.3g} ≤ tol = {self.tol:g} after {nit} steps"
        return self._stop(x, value, nit, "converged", message)

    def _stop(self, x, value, nit, status, message) -> OptimizeResult:
        """Fill in the result (x is already the trajectory's last entry)."""
        result = self.result
        result.x, result.fun, result.nit, result.status = x, value, nit, status
        if status == "diverged" and isinstance(self.direction, Gradient):
            message += f"; lower lr: {smoothness_hint(self.objective.f, self.x0)}"
        result.message = message
        objective = self.objective
        result.nfev, result.njev, result.nhev = objective.nfev, objective.njev, objective.nhev
        return result
