"""Test problems of Hock and Schittkowski for constrained minimization, written in torch.

W. Hock and K. Schittkowski, "Test Examples for Nonlinear Programming Codes", Lecture Notes in
Economics and Mathematical Systems 187, Springer (1981), collect problems

    minimize f(x)  subject to  h(x) = 0,  c(x) ≥ 0,  l ≤ x ≤ u,

each with a standard start x₀ (often infeasible), the solution x* and f(x*) = f*. Here they take
the convention of :mod:`trainlab.convex.constrained`: ``eq(x)`` is h(x) (= 0) and ``ineq(x)`` is
g(x) ≤ 0: the general rows g = −c first, then a row lᵢ − xᵢ for each finite lower bound, then a
row xᵢ − uᵢ for each finite upper bound, each group in the order of i. The bounds are kept as
well, as ``lower``/``upper`` (None where unbounded), for box-aware solvers.

The 39 problems: HS1–HS12, HS14, HS15, HS21–HS23, HS26–HS28, HS35, HS39, HS40, HS42, HS43,
HS46–HS53, HS65, HS71, HS76–HS79, all stated exactly as printed. (HS13 is left out on purpose:
at its minimizer the constraint qualification fails and no multipliers exist.)

Every problem carries ``eq_multipliers`` ν and ``ineq_multipliers`` μ (one per row of ``ineq``,
zero on the inactive rows; None where there are no such constraints) that satisfy the KKT
conditions at x*:

    ∇f + J_hᵀν + J_gᵀμ = 0,   h = 0,   g ≤ 0,   μ ≥ 0,   μᵢgᵢ = 0.

They are exact (closed form or rational) where x* is; for HS65, HS71 and HS77–HS79, whose x* is
only known numerically, they come from solving the KKT equations (∇L = 0, h = 0, active g = 0)
for x and the multipliers together, started at the printed x*, to a residual of 10⁻¹⁵, and are
given to ten significant digits (``notes`` gives the refined x*). The sign of ν follows the sign
of h as written here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["PROBLEMS", "ConstrainedProblem", "problem", "solved"]

_BOOK = (
    'W. Hock, K. Schittkowski, "Test Examples for Nonlinear Programming Codes", Lecture Notes '
    "in Economics and Mathematical Systems 187, Springer (1981)"
)

Function = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class ConstrainedProblem:
    """One HS problem: minimize f(x) s.t. h(x) = 0 and g(x) ≤ 0 (general rows, then bounds).

    ``start_feasible`` is whether the book's x₀ satisfies every constraint; ``f_star`` and
    ``x_star`` are the published solution (to the printed digits, or exact where it is known
    exactly); the multipliers are described in the module docstring.
    """

    number: int
    name: str
    n: int
    objective: Function = field(repr=False, compare=False)
    equalities: Function | None = field(repr=False, compare=False)
    constraints: Function | None = field(repr=False, compare=False)  # c(x) ≥ 0, as in HS
    lower: tuple[float | None, ...]
    upper: tuple[float | None, ...]
    start: tuple[float, ...]
    start_feasible: bool
    f_star: float
    x_star: tuple[float, ...]
    eq_multipliers: tuple[float, ...] | None
    ineq_multipliers: tuple[float, ...] | None
    source: str
    notes: str = ""

    def _check(self, x: Tensor) -> None:
        if not isinstance(x, Tensor) or tuple(x.shape) != (self.n,):
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"{self.name} takes x of shape ({self.n},), got {shape}")
        if not x.is_floating_point():
            raise TypeError(f"{self.name} takes a floating-point x, got {x.dtype}")

    def f(self, x: Tensor) -> Tensor:
        """The objective f(x), a 0-d tensor."""
        self._check(x)
        return self.objective(x)

    def __call__(self, x: Tensor) -> Tensor:
        return self.f(x)

    def eq(self, x: Tensor) -> Tensor | None:
        """h(x), shape (k,), or None when there are no equality constraints."""
        self._check(x)
        return None if self.equalities is None else self.equalities(x)

    def ineq(self, x: Tensor) -> Tensor | None:
        """g(x) ≤ 0, shape (l,): −c(x), then lᵢ − xᵢ for the finite lower bounds, then xᵢ − uᵢ for
        the finite upper bounds (each in the order of i); None when there are no inequalities."""
        self._check(x)
        rows = [] if self.constraints is None else list(-self.constraints(x))
        rows += [lo - x[i] for i, lo in enumerate(self.lower) if lo is not None]
        rows += [x[i] - up for i, up in enumerate(self.upper) if up is not None]
        return torch.stack(rows) if rows else None

    @property
    def n_eq(self) -> int:
        """k, the number of equality constraints."""
        h = self.eq(self.x0())
        return 0 if h is None else h.numel()

    @property
    def n_ineq(self) -> int:
        """l, the number of rows of ``ineq`` (general constraints and finite bounds)."""
        g = self.ineq(self.x0())
        return 0 if g is None else g.numel()

    def violation(self, x: Tensor) -> float:
        """max(0, maxᵢ |hᵢ(x)|, maxⱼ gⱼ(x)), the constraint violation at x."""
        worst = 0.0
        h, g = self.eq(x), self.ineq(x)
        if h is not None:
            worst = max(worst, float(h.abs().max()))
        if g is not None:
            worst = max(worst, float(g.max()))
        return worst

    def x0(
        self, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
    ) -> Tensor:
        """The standard starting point as a new tensor."""
        return torch.tensor(self.start, dtype=dtype, device=device)


def solved(
    problem: ConstrainedProblem,
    f_value: float | Tensor,
    violation: float,
    rtol: float = 1e-6,
    vtol: float = 1e-6,
) -> bool:
    """Whether a point with objective f_value and constraint violation ``violation`` solves
    the problem:

        violation ≤ vtol   and   |f_value − f*| ≤ rtol·max(1, |f*|).

    Two-sided, unlike the unconstrained test: a point may undercut f* by being infeasible
    within vtol, but not by more than the tolerance. Non-finite values are never solved.
    """
    value, gap = float(f_value), float(violation)
    if not (math.isfinite(value) and math.isfinite(gap)):
        return False
    return gap <= vtol and abs(value - problem.f_star) <= rtol * max(1.0, abs(problem.f_star))


def _rows(*values: Tensor) -> Tensor:
    return torch.stack(values)


_SQRT2 = math.sqrt(2)


def _hs1(x: Tensor) -> Tensor:
    """HS1:  100(x₂ − x₁²)² + (1 − x₁)²,  x₂ ≥ −1.5.  (HS2: the same with x₂ ≥ 1.5.)"""
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def _hs3(x: Tensor) -> Tensor:
    """HS3:  x₂ + 10⁻⁵(x₂ − x₁)²,  x₂ ≥ 0."""
    return x[1] + 1e-5 * (x[1] - x[0]) ** 2


def _hs4(x: Tensor) -> Tensor:
    """HS4:  (x₁ + 1)³/3 + x₂,  x₁ ≥ 1,  x₂ ≥ 0."""
    return (x[0] + 1) ** 3 / 3 + x[1]


def _hs5(x: Tensor) -> Tensor:
    """HS5:  sin(x₁ + x₂) + (x₁ − x₂)² − 1.5x₁ + 2.5x₂ + 1,  −1.5 ≤ x₁ ≤ 4,  −3 ≤ x₂ ≤ 3."""
    return torch.sin(x[0] + x[1]) + (x[0] - x[1]) ** 2 - 1.5 * x[0] + 2.5 * x[1] + 1


def _hs6(x: Tensor) -> Tensor:
    """HS6:  (1 − x₁)²  s.t.  10(x₂ − x₁²) = 0."""
    return (1 - x[0]) ** 2


def _hs7(x: Tensor) -> Tensor:
    """HS7:  ln(1 + x₁²) − x₂  s.t.  (1 + x₁²)² + x₂² − 4 = 0."""
    return torch.log(1 + x[0] ** 2) - x[1]


def _hs8(x: Tensor) -> Tensor:
    """HS8:  −1  s.t.  x₁² + x₂² − 25 = 0,  x₁x₂ − 9 = 0."""
    return 0 * x.sum() - 1  # a constant that autograd still sees as a function of x


def _hs9(x: Tensor) -> Tensor:
    """HS9:  sin(πx₁/12) cos(πx₂/16)  s.t.  4x₁ − 3x₂ = 0."""
    return torch.sin(math.pi * x[0] / 12) * torch.cos(math.pi * x[1] / 16)


def _hs10(x: Tensor) -> Tensor:
    """HS10:  x₁ − x₂  s.t.  −3x₁² + 2x₁x₂ − x₂² + 1 ≥ 0."""
    return x[0] - x[1]


def _hs11(x: Tensor) -> Tensor:
    """HS11:  (x₁ − 5)² + x₂² − 25  s.t.  −x₁² + x₂ ≥ 0."""
    return (x[0] - 5) ** 2 + x[1] ** 2 - 25


def _hs12(x: Tensor) -> Tensor:
    """HS12:  x₁²/2 + x₂² − x₁x₂ − 7x₁ − 7x₂  s.t.  25 − 4x₁² − x₂² ≥ 0."""
    return 0.5 * x[0] ** 2 + x[1] ** 2 - x[0] * x[1] - 7 * x[0] - 7 * x[1]


def _hs14(x: Tensor) -> Tensor:
    """HS14:  (x₁ − 2)² + (x₂ − 1)²  s.t.  x₁ − 2x₂ + 1 = 0,  −x₁²/4 − x₂² + 1 ≥ 0."""
    return (x[0] - 2) ** 2 + (x[1] - 1) ** 2


def _hs15(x: Tensor) -> Tensor:
    """HS15:  100(x₂ − x₁²)² + (1 − x₁)²  s.t.  x₁x₂ − 1 ≥ 0,  x₁ + x₂² ≥ 0,  x₁ ≤ 0.5."""
    return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2


def _hs21(x: Tensor) -> Tensor:
    """HS21:  0.01x₁² + x₂² − 100  s.t.  10x₁ − x₂ − 10 ≥ 0,  2 ≤ x₁ ≤ 50,  −50 ≤ x₂ ≤ 50."""
    return 0.01 * x[0] ** 2 + x[1] ** 2 - 100


def _hs22(x: Tensor) -> Tensor:
    """HS22:  (x₁ − 2)² + (x₂ − 1)²  s.t.  −x₁ − x₂ + 2 ≥ 0,  −x₁² + x₂ ≥ 0."""
    return (x[0] - 2) ** 2 + (x[1] - 1) ** 2


def _hs23(x: Tensor) -> Tensor:
    """HS23:  x₁² + x₂²  s.t.  x₁ + x₂ − 1 ≥ 0,  x₁² + x₂² − 1 ≥ 0,  9x₁² + x₂² − 9 ≥ 0,
    x₁² − x₂ ≥ 0,  x₂² − x₁ ≥ 0,  −50 ≤ xᵢ ≤ 50."""
    return x[0] ** 2 + x[1] ** 2


def _hs26(x: Tensor) -> Tensor:
    """HS26:  (x₁ − x₂)² + (x₂ − x₃)⁴  s.t.  (1 + x₂²)x₁ + x₃⁴ − 3 = 0."""
    return (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 4


def _hs27(x: Tensor) -> Tensor:
    """HS27:  0.01(x₁ − 1)² + (x₂ − x₁²)²  s.t.  x₁ + x₃² + 1 = 0."""
    return 0.01 * (x[0] - 1) ** 2 + (x[1] - x[0] ** 2) ** 2


def _hs28(x: Tensor) -> Tensor:
    """HS28:  (x₁ + x₂)² + (x₂ + x₃)²  s.t.  x₁ + 2x₂ + 3x₃ − 1 = 0."""
    return (x[0] + x[1]) ** 2 + (x[1] + x[2]) ** 2


def _hs35(x: Tensor) -> Tensor:
    """HS35:  9 − 8x₁ − 6x₂ − 4x₃ + 2x₁² + 2x₂² + x₃² + 2x₁x₂ + 2x₁x₃
    s.t.  3 − x₁ − x₂ − 2x₃ ≥ 0,  xᵢ ≥ 0."""
    return (
        9
        - 8 * x[0]
        - 6 * x[1]
        - 4 * x[2]
        + 2 * x[0] ** 2
        + 2 * x[1] ** 2
        + x[2] ** 2
        + 2 * x[0] * x[1]
        + 2 * x[0] * x[2]
    )


def _hs39(x: Tensor) -> Tensor:
    """HS39:  −x₁  s.t.  x₂ − x₁³ − x₃² = 0,  x₁² − x₂ − x₄² = 0."""
    return -x[0]


def _hs40(x: Tensor) -> Tensor:
    """HS40:  −x₁x₂x₃x₄  s.t.  x₁³ + x₂² − 1 = 0,  x₁²x₄ − x₃ = 0,  x₄² − x₂ = 0."""
    return -x[0] * x[1] * x[2] * x[3]


def _hs42(x: Tensor) -> Tensor:
    """HS42:  (x₁ − 1)² + (x₂ − 2)² + (x₃ − 3)² + (x₄ − 4)²  s.t.  x₁ − 2 = 0,
    x₃² + x₄² − 2 = 0."""
    return ((x - torch.arange(1, 5, dtype=x.dtype, device=x.device)) ** 2).sum()


def _hs43(x: Tensor) -> Tensor:
    """HS43:  x₁² + x₂² + 2x₃² + x₄² − 5x₁ − 5x₂ − 21x₃ + 7x₄  subject to

        8 − x₁² − x₂² − x₃² − x₄² − x₁ + x₂ − x₃ + x₄ ≥ 0,
        10 − x₁² − 2x₂² − x₃² − 2x₄² + x₁ + x₄ ≥ 0,
        5 − 2x₁² − x₂² − x₃² − 2x₁ + x₂ + x₄ ≥ 0

    (the Rosen–Suzuki problem).
    """
    return (
        x[0] ** 2
        + x[1] ** 2
        + 2 * x[2] ** 2
        + x[3] ** 2
        - 5 * x[0]
        - 5 * x[1]
        - 21 * x[2]
        + 7 * x[3]
    )


def _hs46(x: Tensor) -> Tensor:
    """HS46:  (x₁ − x₂)² + (x₃ − 1)² + (x₄ − 1)⁴ + (x₅ − 1)⁶  s.t.
    x₁²x₄ + sin(x₄ − x₅) − 1 = 0,  x₂ + x₃⁴x₄² − 2 = 0.  (HS49 has this objective too.)"""
    return (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6


def _hs47(x: Tensor) -> Tensor:
    """HS47:  (x₁ − x₂)² + (x₂ − x₃)³ + (x₃ − x₄)⁴ + (x₄ − x₅)⁴  s.t.
    x₁ + x₂² + x₃³ − 3 = 0,  x₂ − x₃² + x₄ − 1 = 0,  x₁x₅ − 1 = 0."""
    return (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 3 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4


def _hs48(x: Tensor) -> Tensor:
    """HS48:  (x₁ − 1)² + (x₂ − x₃)² + (x₄ − x₅)²  s.t.  x₁ + x₂ + x₃ + x₄ + x₅ − 5 = 0,
    x₃ − 2(x₄ + x₅) + 3 = 0."""
    return (x[0] - 1) ** 2 + (x[1] - x[2]) ** 2 + (x[3] - x[4]) ** 2


def _hs50(x: Tensor) -> Tensor:
    """HS50:  (x₁ − x₂)² + (x₂ − x₃)² + (x₃ − x₄)⁴ + (x₄ − x₅)²  s.t.
    x₁ + 2x₂ + 3x₃ − 6 = 0,  x₂ + 2x₃ + 3x₄ − 6 = 0,  x₃ + 2x₄ + 3x₅ − 6 = 0."""
    return (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2 + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 2


def _hs51(x: Tensor) -> Tensor:
    """HS51:  (x₁ − x₂)² + (x₂ + x₃ − 2)² + (x₄ − 1)² + (x₅ − 1)²  s.t.  x₁ + 3x₂ − 4 = 0,
    x₃ + x₄ − 2x₅ = 0,  x₂ − x₅ = 0.  (HS53: this objective under HS52's constraints, and
    −10 ≤ xᵢ ≤ 10.)"""
    return (x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2 + (x[4] - 1) ** 2


def _hs52(x: Tensor) -> Tensor:
    """HS52:  (4x₁ − x₂)² + (x₂ + x₃ − 2)² + (x₄ − 1)² + (x₅ − 1)²  s.t.  x₁ + 3x₂ = 0,
    x₃ + x₄ − 2x₅ = 0,  x₂ − x₅ = 0."""
    return (4 * x[0] - x[1]) ** 2 + (x[1] + x[2] - 2) ** 2 + (x[3] - 1) ** 2 + (x[4] - 1) ** 2


def _hs52_constraints(x: Tensor) -> Tensor:
    return _rows(x[0] + 3 * x[1], x[2] + x[3] - 2 * x[4], x[1] - x[4])


def _hs65(x: Tensor) -> Tensor:
    """HS65:  (x₁ − x₂)² + (x₁ + x₂ − 10)²/9 + (x₃ − 5)²  s.t.  48 − x₁² − x₂² − x₃² ≥ 0,
    −4.5 ≤ x₁, x₂ ≤ 4.5,  −5 ≤ x₃ ≤ 5."""
    return (x[0] - x[1]) ** 2 + (x[0] + x[1] - 10) ** 2 / 9 + (x[2] - 5) ** 2


def _hs71(x: Tensor) -> Tensor:
    """HS71:  x₁x₄(x₁ + x₂ + x₃) + x₃  s.t.  x₁x₂x₃x₄ − 25 ≥ 0,  Σᵢ xᵢ² − 40 = 0,
    1 ≤ xᵢ ≤ 5."""
    return x[0] * x[3] * (x[0] + x[1] + x[2]) + x[2]


def _hs76(x: Tensor) -> Tensor:
    """HS76:  x₁² + x₂²/2 + x₃² + x₄²/2 − x₁x₃ + x₃x₄ − x₁ − 3x₂ + x₃ − x₄  s.t.
    5 − x₁ − 2x₂ − x₃ − x₄ ≥ 0,  4 − 3x₁ − x₂ − 2x₃ + x₄ ≥ 0,  x₂ + 4x₃ − 1.5 ≥ 0,  xᵢ ≥ 0."""
    return (
        x[0] ** 2
        + 0.5 * x[1] ** 2
        + x[2] ** 2
        + 0.5 * x[3] ** 2
        - x[0] * x[2]
        + x[2] * x[3]
        - x[0]
        - 3 * x[1]
        + x[2]
        - x[3]
    )


def _hs77(x: Tensor) -> Tensor:
    """HS77:  (x₁ − 1)² + (x₁ − x₂)² + (x₃ − 1)² + (x₄ − 1)⁴ + (x₅ − 1)⁶  s.t.
    x₁²x₄ + sin(x₄ − x₅) − 2√2 = 0,  x₂ + x₃⁴x₄² − 8 − √2 = 0."""
    return (
        (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[2] - 1) ** 2 + (x[3] - 1) ** 4 + (x[4] - 1) ** 6
    )


def _hs78(x: Tensor) -> Tensor:
    """HS78:  x₁x₂x₃x₄x₅  s.t.  Σᵢ xᵢ² − 10 = 0,  x₂x₃ − 5x₄x₅ = 0,  x₁³ + x₂³ + 1 = 0."""
    return torch.prod(x)


def _hs79(x: Tensor) -> Tensor:
    """HS79:  (x₁ − 1)² + (x₁ − x₂)² + (x₂ − x₃)² + (x₃ − x₄)⁴ + (x₄ − x₅)⁴  s.t.
    x₁ + x₂² + x₃³ − 2 − 3√2 = 0,  x₂ − x₃² + x₄ + 2 − 2√2 = 0,  x₁x₅ − 2 = 0."""
    squares = (x[0] - 1) ** 2 + (x[0] - x[1]) ** 2 + (x[1] - x[2]) ** 2
    return squares + (x[2] - x[3]) ** 4 + (x[3] - x[4]) ** 4


def _hs(
    number: int,
    objective: Function,
    start: Sequence[float],
    start_feasible: bool,
    f_star: float,
    x_star: Sequence[float],
    *,
    eq: Function | None = None,
    ge: Function | None = None,
    lower: Sequence[float | None] | None = None,
    upper: Sequence[float | None] | None = None,
    nu: Sequence[float] | None = None,
    mu: Sequence[float] | None = None,
    notes: str = "",
) -> ConstrainedProblem:
    n = len(start)
    return ConstrainedProblem(
        number=number,
        name=f"HS{number}",
        n=n,
        objective=objective,
        equalities=eq,
        constraints=ge,
        lower=tuple(lower) if lower is not None else (None,) * n,
        upper=tuple(upper) if upper is not None else (None,) * n,
        start=tuple(float(v) for v in start),
        start_feasible=start_feasible,
        f_star=float(f_star),
        x_star=tuple(float(v) for v in x_star),
        eq_multipliers=None if nu is None else tuple(float(v) for v in nu),
        ineq_multipliers=None if mu is None else tuple(float(v) for v in mu),
        source=f"{_BOOK}, problem {number}",
        notes=notes,
    )


# HS2: x₁* is the root near 1.22 of ∂f/∂x₁ = 0 on x₂ = 1.5, i.e. 400x₁³ − 598x₁ − 2 = 0.
_A2 = math.sqrt(598 / 1200)
_X2 = 2 * _A2 * math.cos(math.acos(1 / (400 * _A2**3)) / 3)
# HS11: x₁* is the real root of 2x₁³ + x₁ − 5 = 0, x₂* = x₁*².
_A11 = (7.5 * math.sqrt(6) + math.sqrt(338.5)) ** (1 / 3)
_X11 = (_A11 - 1 / _A11) / math.sqrt(6)
# HS8: x₁² + x₂² = 25 and x₁x₂ = 9, the solution with x₁ > x₂ > 0.
_X8 = math.sqrt((25 + math.sqrt(301)) / 2)
_ROOT7 = math.sqrt(7)

PROBLEMS: tuple[ConstrainedProblem, ...] = (
    _hs(1, _hs1, (-2, 1), True, 0.0, (1, 1), lower=(None, -1.5), mu=(0,)),
    _hs(
        2, _hs1, (-2, 1), False, 0.0504261879, (_X2, 1.5), lower=(None, 1.5),
        mu=(200 * (1.5 - _X2**2),),
        notes="x₁* = 2a cos(arccos(1/(400a³))/3), a = (598/1200)^(1/2); μ = 200(x₂* − x₁*²); "
        "a local minimum f = 4.9412293 at (−1.2210262, 1.5) attracts solvers started at x₀",
    ),
    _hs(3, _hs3, (10, 1), True, 0.0, (0, 0), lower=(None, 0), mu=(1,)),
    _hs(4, _hs4, (1.125, 0.125), True, 8 / 3, (1, 0), lower=(1, 0), mu=(4, 1)),
    _hs(
        5, _hs5, (0, 0), True, -math.sqrt(3) / 2 - math.pi / 3,
        (0.5 - math.pi / 3, -0.5 - math.pi / 3), lower=(-1.5, -3), upper=(4, 3), mu=(0,) * 4,
    ),
    _hs(6, _hs6, (-1.2, 1), False, 0.0, (1, 1), eq=lambda x: _rows(10 * (x[1] - x[0] ** 2)),
        nu=(0,)),
    _hs(
        7, _hs7, (2, 2), False, -math.sqrt(3), (0, math.sqrt(3)),
        eq=lambda x: _rows((1 + x[0] ** 2) ** 2 + x[1] ** 2 - 4), nu=(1 / (2 * math.sqrt(3)),),
    ),
    _hs(
        8, _hs8, (2, 1), False, -1.0, (_X8, 9 / _X8),
        eq=lambda x: _rows(x[0] ** 2 + x[1] ** 2 - 25, x[0] * x[1] - 9), nu=(0, 0),
        notes="four solutions (±x₁*, ±x₂*) and (±x₂*, ±x₁*) with x₁*x₂* = 9; f is constant",
    ),
    _hs(
        9, _hs9, (0, 0), True, -0.5, (-3, -4), eq=lambda x: _rows(4 * x[0] - 3 * x[1]),
        nu=(-math.pi / 96,), notes="solutions (12k − 3, 16k − 4) for every integer k",
    ),
    _hs(
        10, _hs10, (-10, 10), False, -1.0, (0, 1),
        ge=lambda x: _rows(-3 * x[0] ** 2 + 2 * x[0] * x[1] - x[1] ** 2 + 1), mu=(0.5,),
    ),
    _hs(
        11, _hs11, (4.9, 0.1), False, -8.498464223, (_X11, _X11**2),
        ge=lambda x: _rows(-x[0] ** 2 + x[1]), mu=(2 * _X11**2,),
        notes="x₁* = (a − 1/a)/√6, a = (7.5√6 + √338.5)^(1/3), x₂* = x₁*²; μ = 2x₂*",
    ),
    _hs(
        12, _hs12, (0, 0), True, -30.0, (2, 3),
        ge=lambda x: _rows(25 - 4 * x[0] ** 2 - x[1] ** 2), mu=(0.5,),
    ),
    _hs(
        14, _hs14, (2, 2), False, 9 - 23 * _ROOT7 / 8, ((_ROOT7 - 1) / 2, (_ROOT7 + 1) / 4),
        eq=lambda x: _rows(x[0] - 2 * x[1] + 1),
        ge=lambda x: _rows(-(x[0] ** 2) / 4 - x[1] ** 2 + 1),
        nu=(1.5 + _ROOT7 / 28,), mu=(23 * _ROOT7 / 14 - 2.5,),
        notes="x* = ((√7 − 1)/2, (√7 + 1)/4); ν = 3/2 + √7/28, μ = 23√7/14 − 5/2",
    ),
    _hs(
        15, _hs15, (-2, 1), False, 306.5, (0.5, 2),
        ge=lambda x: _rows(x[0] * x[1] - 1, x[0] + x[1] ** 2), upper=(0.5, None),
        mu=(700, 0, 1751),
    ),
    _hs(
        21, _hs21, (-1, -1), False, -99.96, (2, 0), ge=lambda x: _rows(10 * x[0] - x[1] - 10),
        lower=(2, -50), upper=(50, 50), mu=(0, 0.04, 0, 0, 0),
    ),
    _hs(
        22, _hs22, (2, 2), False, 1.0, (1, 1),
        ge=lambda x: _rows(-x[0] - x[1] + 2, -(x[0] ** 2) + x[1]), mu=(2 / 3, 2 / 3),
    ),
    _hs(
        23, _hs23, (3, 1), False, 2.0, (1, 1),
        ge=lambda x: _rows(
            x[0] + x[1] - 1,
            x[0] ** 2 + x[1] ** 2 - 1,
            9 * x[0] ** 2 + x[1] ** 2 - 9,
            x[0] ** 2 - x[1],
            x[1] ** 2 - x[0],
        ),
        lower=(-50, -50), upper=(50, 50), mu=(0, 0, 0, 2, 2, 0, 0, 0, 0),
    ),
    _hs(
        26, _hs26, (-2.6, 2, 2), True, 0.0, (1, 1, 1),
        eq=lambda x: _rows((1 + x[1] ** 2) * x[0] + x[2] ** 4 - 3), nu=(0,),
    ),
    _hs(
        27, _hs27, (2, 2, 2), False, 0.04, (-1, 1, 0),
        eq=lambda x: _rows(x[0] + x[2] ** 2 + 1), nu=(0.04,),
    ),
    _hs(
        28, _hs28, (-4, 1, 1), True, 0.0, (0.5, -0.5, 0.5),
        eq=lambda x: _rows(x[0] + 2 * x[1] + 3 * x[2] - 1), nu=(0,),
    ),
    _hs(
        35, _hs35, (0.5, 0.5, 0.5), True, 1 / 9, (4 / 3, 7 / 9, 4 / 9),
        ge=lambda x: _rows(3 - x[0] - x[1] - 2 * x[2]), lower=(0, 0, 0), mu=(2 / 9, 0, 0, 0),
    ),
    _hs(
        39, _hs39, (2, 2, 2, 2), False, -1.0, (1, 1, 0, 0),
        eq=lambda x: _rows(x[1] - x[0] ** 3 - x[2] ** 2, x[0] ** 2 - x[1] - x[3] ** 2),
        nu=(-1, -1),
    ),
    _hs(
        40, _hs40, (0.8, 0.8, 0.8, 0.8), False, -0.25,
        (2 ** (-1 / 3), 2 ** (-1 / 2), 2 ** (-11 / 12), 2 ** (-1 / 4)),
        eq=lambda x: _rows(
            x[0] ** 3 + x[1] ** 2 - 1, x[0] ** 2 * x[3] - x[2], x[3] ** 2 - x[1]
        ),
        nu=(0.5, -(2 ** (-13 / 12)), 2 ** (-3 / 2)),
        notes="x* = (2^(−1/3), 2^(−1/2), 2^(−11/12), 2^(−1/4)); ν = (1/2, −2^(−13/12), 2^(−3/2))",
    ),
    _hs(
        42, _hs42, (1, 1, 1, 1), False, 28 - 10 * _SQRT2, (2, 2, 0.6 * _SQRT2, 0.8 * _SQRT2),
        eq=lambda x: _rows(x[0] - 2, x[2] ** 2 + x[3] ** 2 - 2), nu=(-2, 5 / _SQRT2 - 1),
    ),
    _hs(
        43, _hs43, (0, 0, 0, 0), True, -44.0, (0, 1, 2, -1),
        ge=lambda x: _rows(
            8 - (x**2).sum() - x[0] + x[1] - x[2] + x[3],
            10 - x[0] ** 2 - 2 * x[1] ** 2 - x[2] ** 2 - 2 * x[3] ** 2 + x[0] + x[3],
            5 - 2 * x[0] ** 2 - x[1] ** 2 - x[2] ** 2 - 2 * x[0] + x[1] + x[3],
        ),
        mu=(1, 0, 2),
    ),
    _hs(
        46, _hs46, (_SQRT2 / 2, 1.75, 0.5, 2, 2), True, 0.0, (1,) * 5,
        eq=lambda x: _rows(
            x[0] ** 2 * x[3] + torch.sin(x[3] - x[4]) - 1, x[1] + x[2] ** 4 * x[3] ** 2 - 2
        ),
        nu=(0, 0),
    ),
    _hs(
        47, _hs47, (2, _SQRT2, -1, 2 - _SQRT2, 0.5), True, 0.0, (1,) * 5,
        eq=lambda x: _rows(
            x[0] + x[1] ** 2 + x[2] ** 3 - 3, x[1] - x[2] ** 2 + x[3] - 1, x[0] * x[4] - 1
        ),
        nu=(0, 0, 0),
    ),
    _hs(
        48, _hs48, (3, 5, -3, 2, -2), True, 0.0, (1,) * 5,
        eq=lambda x: _rows(x.sum() - 5, x[2] - 2 * (x[3] + x[4]) + 3), nu=(0, 0),
    ),
    _hs(
        49, _hs46, (10, 7, 2, -3, 0.8), True, 0.0, (1,) * 5,
        eq=lambda x: _rows(x[0] + x[1] + x[2] + 4 * x[3] - 7, x[2] + 5 * x[4] - 6), nu=(0, 0),
        notes="the objective of HS46 under linear constraints",
    ),
    _hs(
        50, _hs50, (35, -31, 11, 5, -5), True, 0.0, (1,) * 5,
        eq=lambda x: _rows(
            x[0] + 2 * x[1] + 3 * x[2] - 6,
            x[1] + 2 * x[2] + 3 * x[3] - 6,
            x[2] + 2 * x[3] + 3 * x[4] - 6,
        ),
        nu=(0, 0, 0),
    ),
    _hs(
        51, _hs51, (2.5, 0.5, 2, -1, 0.5), True, 0.0, (1,) * 5,
        eq=lambda x: _rows(x[0] + 3 * x[1] - 4, x[2] + x[3] - 2 * x[4], x[1] - x[4]),
        nu=(0, 0, 0),
    ),
    _hs(
        52, _hs52, (2, 2, 2, 2, 2), False, 1859 / 349, [v / 349 for v in (-33, 11, 180, -158, 11)],
        eq=_hs52_constraints, nu=(1144 / 349, 1014 / 349, -2704 / 349),
    ),
    _hs(
        53, _hs51, (2, 2, 2, 2, 2), False, 176 / 43, [v / 43 for v in (-33, 11, 27, -5, 11)],
        eq=_hs52_constraints, lower=(-10,) * 5, upper=(10,) * 5,
        nu=(88 / 43, 96 / 43, -256 / 43), mu=(0,) * 10,
        notes="the objective of HS51 under the constraints of HS52, within −10 ≤ xᵢ ≤ 10",
    ),
    _hs(
        65, _hs65, (-5, 5, 0), False, 0.9535288567, (3.650461821, 3.65046168, 4.6204170507),
        ge=lambda x: _rows(48 - (x**2).sum()),
        lower=(-4.5, -4.5, -5), upper=(4.5, 4.5, 5), mu=(0.08215327730, 0, 0, 0, 0, 0, 0),
        notes="μ from ∇L = 0 at the refined x* = (3.6504617252, 3.6504617252, 4.6204175553); "
        "the printed x₃ is 5·10⁻⁷ off it, and copies of the book differ in x₂'s last digit",
    ),
    _hs(
        71, _hs71, (1, 5, 5, 1), False, 17.0140173, (1, 4.7429994, 3.8211503, 1.3794082),
        eq=lambda x: _rows((x**2).sum() - 40),
        ge=lambda x: _rows(torch.prod(x) - 25),
        lower=(1,) * 4, upper=(5,) * 4,
        nu=(0.1614685668,), mu=(0.5522936601, 1.087871229, 0, 0, 0, 0, 0, 0, 0),
        notes="ν, μ from ∇L = 0 at the refined x* = (1, 4.742999637, 3.821149984, 1.379408293); "
        "the active rows are x₁x₂x₃x₄ ≥ 25 and x₁ ≥ 1",
    ),
    _hs(
        76, _hs76, (0.5, 0.5, 0.5, 0.5), True, -103 / 22, (3 / 11, 23 / 11, 0, 6 / 11),
        ge=lambda x: _rows(
            5 - x[0] - 2 * x[1] - x[2] - x[3],
            4 - 3 * x[0] - x[1] - 2 * x[2] + x[3],
            x[1] + 4 * x[2] - 1.5,
        ),
        lower=(0,) * 4, mu=(5 / 11, 0, 0, 0, 0, 19 / 11, 0),
        notes="HS prints x* = (0.2727273, 2.090909, −0.26·10⁻¹⁰, 0.5454545), f* = −4.681818181",
    ),
    _hs(
        77, _hs77, (2, 2, 2, 2, 2), False, 0.24150513,
        (1.166172, 1.182111, 1.380257, 1.506036, 0.6109203),
        eq=lambda x: _rows(
            x[0] ** 2 * x[3] + torch.sin(x[3] - x[4]) - 2 * _SQRT2,
            x[1] + x[2] ** 4 * x[3] ** 2 - 8 - _SQRT2,
        ),
        nu=(-0.08553959704, -0.03187839819),
        notes="ν from ∇L = 0 at the refined x* = "
        "(1.166172190, 1.182111389, 1.380257043, 1.506036274, 0.6109201960)",
    ),
    _hs(
        78, _hs78, (-2, 1.5, 2, -1, -1), False, -2.91970041,
        (-1.717143, 1.595709, 1.827247, -0.7636413, -0.7636450),
        eq=lambda x: _rows(
            (x**2).sum() - 10, x[1] * x[2] - 5 * x[3] * x[4], x[0] ** 3 + x[1] ** 3 + 1
        ),
        nu=(0.7444459310, -0.7035751900, 0.09680552490),
        notes="ν from ∇L = 0 at the refined x* = "
        "(−1.717143570, 1.595709690, 1.827245753, −0.7636430782, −0.7636430782); "
        "the printed x₄ and x₅ differ though the problem is symmetric in them",
    ),
    _hs(
        79, _hs79, (2, 2, 2, 2, 2), False, 0.0787768209,
        (1.191127, 1.362603, 1.472818, 1.635017, 1.679081),
        eq=lambda x: _rows(
            x[0] + x[1] ** 2 + x[2] ** 3 - 2 - 3 * _SQRT2,
            x[1] - x[2] ** 2 + x[3] + 2 - 2 * _SQRT2,
            x[0] * x[4] - 2,
        ),
        nu=(-0.03882104852, -0.01672651703, -0.0002873278137),
        notes="ν from ∇L = 0 at the refined x* = "
        "(1.191127456, 1.362603165, 1.472817932, 1.635016619, 1.679081436)",
    ),
)  # fmt: skip

_BY_NUMBER = {p.number: p for p in PROBLEMS}


def problem(number: int | str) -> ConstrainedProblem:
    """The problem with this HS number (e.g. 71) or name (e.g. "HS71", case ignored)."""
    key = number
    if isinstance(key, str):
        if not (key.upper().startswith("HS") and key[2:].isdigit()):
            raise KeyError(f"no HS problem named {number!r}; the names are HS1, HS2, …, HS79")
        key = int(key[2:])
    if isinstance(key, bool) or not isinstance(key, int):
        raise TypeError(f"give an HS number or a name such as 'HS71', got {number!r}")
    if key not in _BY_NUMBER:
        raise KeyError(f"HS{key} is not in this set; it has {sorted(_BY_NUMBER)}")
    return _BY_NUMBER[key]
