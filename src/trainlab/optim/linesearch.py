"""Step rules: how far each step of :func:`~trainlab.optim.minimize` goes along its direction p.

On the line φ(η) = f(x + ηp), with slope φ'(0) = ∇f(x)ᵀp < 0:

* constant: η = lr, no evaluation;
* backtracking (Armijo): η = lr0·βᵏ, the first with φ(η) ≤ φ(0) + α η φ'(0) (sufficient decrease);
* bisection (the book's exercise 12.3.2): φ is minimized on a bracket [0, b] by halving it on the
  sign of φ' at its midpoint;
* strong Wolfe: sufficient decrease with c₁ and |φ'(η)| ≤ c₂ |φ'(0)| (the slope has flattened),
  found by the safeguarded cubic/quadratic interpolation of Moré & Thuente (1994);
* exact, for quadratics f = ½xᵀAx − bᵀx + c: η = −∇fᵀp / pᵀAp minimizes φ.

``line_search_gd`` is gradient descent (p = −∇f) with one of these, the book's §11.3.3.4.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from trainlab.optim.objective import Function, Objective
from trainlab.optim.result import OptimizeResult

__all__ = [
    "Backtracking",
    "Bisection",
    "Constant",
    "Exact",
    "Line",
    "LineSearchError",
    "StepRule",
    "StrongWolfe",
    "backtracking",
    "line_search_gd",
    "strong_wolfe",
]


class LineSearchError(ArithmeticError):
    """No acceptable step was found."""


class Line:
    """φ(η) = f(x + ηp) and φ'(η) = ∇f(x + ηp)ᵀp, counted through the objective; the value
    and gradient of the last point evaluated are kept, so the driver reuses them."""

    def __init__(self, objective: Objective, x: Tensor, p: Tensor, value: float, g: Tensor):
        self.objective, self.x, self.p = objective, x, p
        self.value0, self.slope0 = value, float(torch.dot(g.reshape(-1), p.reshape(-1)))
        self.last: tuple[float, float, Tensor | None] | None = None  # (η, φ(η), ∇f there)

    def point(self, eta: float) -> Tensor:
        return self.x + eta * self.p

    def value(self, eta: float) -> float:
        value = self.objective.value(self.point(eta))
        self.last = (eta, value, None)
        return value

    def value_and_slope(self, eta: float) -> tuple[float, float]:
        value, g = self.objective.value_and_gradient(self.point(eta))
        self.last = (eta, value, g)
        return value, float(torch.dot(g.reshape(-1), self.p.reshape(-1)))


class StepRule:
    """Base rule: ``rule(line) -> η``. ``first`` is the first step's guess when the rule starts
    from one (the caller may scale it)."""

    def __call__(self, line: Line) -> float:
        raise NotImplementedError


def _check_positive(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


class Constant(StepRule):
    """η = lr at every step: plain gradient descent, or Newton with a fixed η."""

    def __init__(self, lr: float) -> None:
        self.lr = _check_positive("the learning rate", lr)

    def __call__(self, line: Line) -> float:
        return self.lr


class Backtracking(StepRule):
    """The largest η = lr0·βᵏ with φ(η) ≤ φ(0) + α·η·φ'(0) (Armijo), k ≤ ``max_halvings``."""

    def __init__(
        self, lr0: float = 1.0, alpha: float = 0.3, beta: float = 0.5, max_halvings: int = 60
    ):
        if not (0 < alpha < 1 and 0 < beta < 1):
            raise ValueError(f"need 0 < alpha < 1 and 0 < beta < 1, got alpha={alpha}, beta={beta}")
        self.lr0, self.alpha, self.beta = _check_positive("lr0", lr0), alpha, beta
        self.max_halvings = max_halvings

    def __call__(self, line: Line) -> float:
        eta = self.lr0
        for _ in range(self.max_halvings):
            if line.value(eta) <= line.value0 + self.alpha * eta * line.slope0:
                return eta
            eta *= self.beta
        raise LineSearchError(
            f"no step satisfied the Armijo condition after {self.max_halvings} halvings"
        )


class Bisection(StepRule):
    """Minimize φ on a bracket by bisection on the sign of φ' (the book's exercise 12.3.2):
    from [0, lr0], double the right end while φ' < 0 there, then halve the bracket, keeping the
    half where φ' changes sign, until |φ'| ≤ tol·|φ'(0)| at the midpoint. The bracket halves at
    every step: linear convergence with rate ½, one derivative per step, no function value."""

    def __init__(self, lr0: float = 1.0, tol: float = 1e-3, max_iter: int = 100):
        self.lr0, self.tol, self.max_iter = _check_positive("lr0", lr0), tol, max_iter

    def __call__(self, line: Line) -> float:
        low, high = 0.0, self.lr0
        for _ in range(self.max_iter):  # bracket: φ'(high) ≥ 0
            if line.value_and_slope(high)[1] >= 0:
                break
            low, high = high, 2 * high
        else:
            raise LineSearchError(f"φ' stayed negative up to η = {high:.3g}: f may be unbounded")
        for _ in range(self.max_iter):
            middle = 0.5 * (low + high)
            _, slope = line.value_and_slope(middle)
            if abs(slope) <= self.tol * abs(line.slope0):
                return middle
            low, high = (middle, high) if slope < 0 else (low, middle)
        return middle


class Exact(StepRule):
    """η = −∇fᵀp / pᵀAp, the exact minimizer along p of a quadratic with Hessian A (read from
    the objective's Hessian at x)."""

    def __call__(self, line: Line) -> float:
        A = line.objective.hessian(line.x)
        p = line.p.reshape(-1)
        curvature = float(p @ A @ p)
        if curvature <= 0:
            raise LineSearchError(
                f"pᵀAp = {curvature:.3g} ≤ 0 (gᵀAg for p = −∇f): f is not a convex quadratic "
                "along the direction, so there is no exact step"
            )
        return -line.slope0 / curvature


class StrongWolfe(StepRule):
    """A step with φ(η) ≤ φ(0) + c₁·η·φ'(0) and |φ'(η)| ≤ c₂·|φ'(0)|, 0 < c₁ < c₂ < 1, by the
    algorithm of J. J. Moré and D. J. Thuente, "Line search algorithms with guaranteed
    sufficient decrease", ACM TOMS 20(3), 1994: an interval of uncertainty [η_l, η_u] is kept
    and every trial step comes from safeguarded cubic or quadratic interpolation of the values
    and slopes at its ends (extrapolating by at most 4× until a minimizer is bracketed); while
    no step has both decreased enough and a non-negative slope, the search works on
    ψ(η) = φ(η) − φ(0) − c₁ηφ'(0). Steps within ``xtol`` relative width stop the search, so
    rounding-level brackets end it instead of looping.

    Defaults c₁ = 1e-4, c₂ = 0.9 suit (quasi-)Newton directions; c₂ = 0.1 a tighter search for
    conjugate gradients or gradient descent."""

    def __init__(
        self,
        lr0: float = 1.0,
        c1: float = 1e-4,
        c2: float = 0.9,
        xtol: float = 1e-14,
        max_evals: int = 50,
        max_step: float = 1e10,
    ):
        if not 0 < c1 < c2 < 1:
            raise ValueError(f"need 0 < c1 < c2 < 1, got c1={c1}, c2={c2}")
        self.lr0, self.c1, self.c2 = _check_positive("lr0", lr0), c1, c2
        self.xtol, self.max_evals, self.max_step = xtol, max_evals, max_step

    def __call__(self, line: Line) -> float:
        return more_thuente(
            line.value_and_slope,
            line.value0,
            line.slope0,
            self.lr0,
            self.c1,
            self.c2,
            self.xtol,
            0.0,
            self.max_step,
            self.max_evals,
        )


def more_thuente(
    phi: Callable[[float], tuple[float, float]],
    f0: float,
    g0: float,
    step: float,
    ftol: float = 1e-4,
    gtol: float = 0.9,
    xtol: float = 1e-14,
    step_min: float = 0.0,
    step_max: float = 1e10,
    max_evals: int = 50,
) -> float:
    """Moré–Thuente line search on φ (returns (φ(η), φ'(η))), from φ(0) = f0, φ'(0) = g0 < 0
    and a first trial ``step``: a step satisfying the strong Wolfe conditions with
    c₁ = ftol, c₂ = gtol (see :class:`StrongWolfe`). When the bracket shrinks to rounding level
    first, the best step found is returned if it decreased f enough; otherwise, and when
    ``max_evals`` trials do not suffice, :class:`LineSearchError` is raised."""
    if not g0 < 0:
        raise LineSearchError(f"φ'(0) = {g0:.3g} ≥ 0: the direction is not a descent direction")
    if not step > 0:
        raise LineSearchError(f"the first trial step must be positive, got {step}")
    step = min(max(step, step_min), step_max)
    slope_test = ftol * g0  # ψ(η) = φ(η) − f0 − η·slope_test ≤ 0 is sufficient decrease
    bracketed, stage = False, 1
    width, width1 = step_max - step_min, 2 * (step_max - step_min)
    # the best step so far (x) and the other end of the interval (y), with values and slopes
    sx, fx, gx = 0.0, f0, g0
    sy, fy, gy = 0.0, f0, g0
    low, high = 0.0, step + 4.0 * step

    def best() -> float:
        if sx > 0 and fx <= f0 + sx * slope_test:
            return sx
        raise LineSearchError(
            f"the interval of uncertainty shrank to rounding level around η = {sx:.3g} "
            "without a step that decreases f enough"
        )

    for _ in range(max_evals):
        f, g = phi(step)
        if not (math.isfinite(f) and math.isfinite(g)):  # overflow: halve towards the best step
            step = sx + 0.5 * (step - sx)
            continue
        sufficient = f <= f0 + step * slope_test
        if sufficient and abs(g) <= -gtol * g0:
            return step
        if step == step_max and sufficient and g <= slope_test:
            return step  # the largest step allowed still decreases f enough
        if stage == 1 and sufficient and g >= 0:
            stage = 2
        if stage == 1 and f <= fx and not sufficient:
            # work on ψ, whose minimizers satisfy the decrease condition
            (sx, fxm, gxm), (sy, fym, gym), step, bracketed = _step(
                (sx, fx - sx * slope_test, gx - slope_test),
                (sy, fy - sy * slope_test, gy - slope_test),
                (step, f - step * slope_test, g - slope_test),
                bracketed,
                low,
                high,
            )
            fx, gx = fxm + sx * slope_test, gxm + slope_test
            fy, gy = fym + sy * slope_test, gym + slope_test
        else:
            (sx, fx, gx), (sy, fy, gy), step, bracketed = _step(
                (sx, fx, gx), (sy, fy, gy), (step, f, g), bracketed, low, high
            )
        if bracketed:  # force a sufficient shrink of the bracket: bisect if it stalls
            if abs(sy - sx) >= 0.66 * width1:
                step = sx + 0.5 * (sy - sx)
            width1, width = width, abs(sy - sx)
            low, high = min(sx, sy), max(sx, sy)
        else:
            low, high = step + 1.1 * (step - sx), step + 4.0 * (step - sx)
        step = min(max(step, step_min), step_max)
        if bracketed and (step <= low or step >= high or high - low <= xtol * high):
            return best()  # no further progress is possible at this precision
    raise LineSearchError(f"no strong Wolfe step in {max_evals} evaluations")


def _step(best, other, trial, bracketed, low, high):
    """One Moré–Thuente interval update: a new trial step from the best point (sx, fx, gx),
    the interval's other end (sy, fy, gy) and the trial just evaluated (st, ft, gt), by the four
    cases of the paper; returns the updated ends, the next trial and whether a minimizer is
    bracketed."""
    sx, fx, gx = best
    sy, fy, gy = other
    st, ft, gt = trial
    sign = gt if gx >= 0 else -gt  # gt·sign(gx), with sign(0) = 1
    if ft > fx:  # case 1: higher value: the minimizer lies between; cubic or quad-cubic mix
        cubic = _cubic_minimizer(sx, fx, gx, st, ft, gt)
        quad = sx + (gx / ((fx - ft) / (st - sx) + gx)) / 2 * (st - sx)
        nxt = cubic if abs(cubic - sx) < abs(quad - sx) else cubic + (quad - cubic) / 2
        bracketed = True
    elif sign < 0:  # case 2: slopes of opposite signs: bracketed; cubic or secant
        cubic = _cubic_minimizer(st, ft, gt, sx, fx, gx)
        secant = st + gt / (gt - gx) * (sx - st)
        nxt = cubic if abs(cubic - st) > abs(secant - st) else secant
        bracketed = True
    elif abs(gt) < abs(gx):  # case 3: same sign, the slope's size decreases
        cubic = _cubic_minimizer(st, ft, gt, sx, fx, gx, clip=(low, high))
        secant = st + gt / (gt - gx) * (sx - st)
        if bracketed:
            nxt = cubic if abs(cubic - st) < abs(secant - st) else secant
            bound = st + 0.66 * (sy - st)
            nxt = min(bound, nxt) if st > sx else max(bound, nxt)
        else:
            nxt = cubic if abs(cubic - st) > abs(secant - st) else secant
            nxt = min(high, max(low, nxt))
    elif bracketed:  # case 4: same sign, the slope does not decrease: the far end's cubic
        nxt = _cubic_minimizer(st, ft, gt, sy, fy, gy)
    else:  # case 4, not yet bracketed: extrapolate to the end of the allowed range
        nxt = high if st > sx else low
    if ft > fx:
        sy, fy, gy = st, ft, gt
    else:
        if sign < 0:
            sy, fy, gy = sx, fx, gx
        sx, fx, gx = st, ft, gt
    return (sx, fx, gx), (sy, fy, gy), nxt, bracketed


def _cubic_minimizer(a, fa, ga, b, fb, gb, clip=None):
    """The minimizer of the cubic through (a, fa, ga) and (b, fb, gb), computed in the scaled
    form of Moré–Thuente (no overflow for large slopes). With ``clip`` = (low, high) and no
    interior minimizer (case 3), the end of the allowed range the cubic decreases towards."""
    theta = 3 * (fa - fb) / (b - a) + ga + gb
    scale = max(abs(theta), abs(ga), abs(gb))
    radicand = (theta / scale) ** 2 - (ga / scale) * (gb / scale)
    gamma = scale * math.sqrt(max(radicand, 0.0))
    if b < a:
        gamma = -gamma
    p = (gamma - ga) + theta
    q = ((gamma - ga) + gamma) + gb
    r = p / q if q != 0 else 0.0
    if clip is not None and not (r < 0 and gamma != 0):
        low, high = clip
        return high if a > b else low
    return a + r * (b - a)


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
    objective = Objective(f)
    line = Line(objective, x, -g, objective.value(x), g)
    return Backtracking(lr0, alpha, beta, max_halvings)(line)


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
    objective = Objective(f, gradient)
    line = Line(objective, x, -g, objective.value(x), g)
    return StrongWolfe(lr0, c1, c2, max_evals=max_iter)(line)


def line_search_gd(
    f: Function,
    x0: float | Tensor,
    method: Literal["backtracking", "wolfe", "exact", "bisection"] = "backtracking",
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
    from the Hessian (``hess`` or autograd); ``"bisection"`` is the book's exercise."""
    from trainlab.optim.minimize import minimize

    rules = {
        "backtracking": lambda: Backtracking(lr0, alpha, beta),
        "wolfe": lambda: StrongWolfe(lr0),
        "exact": Exact,
        "bisection": lambda: Bisection(lr0),
    }
    if method not in rules:
        raise ValueError(
            f"method must be 'backtracking', 'wolfe', 'exact' or 'bisection', got {method!r}"
        )
    return minimize(f, x0, "gradient", rules[method](), steps=steps, tol=tol, grad=grad, hess=hess)
