"""The Moré–Garbow–Hillstrom unconstrained test set, as sums of squares written in torch.

J. J. Moré, B. S. Garbow and K. E. Hillstrom, "Testing Unconstrained Optimization Software",
ACM Transactions on Mathematical Software 7(1), 17–41 (1981), define 35 problems

    minimize  f(x) = Σᵢ fᵢ(x)²,   x ∈ ℝⁿ,   f = (f₁, …, f_m) the residuals,

each with a standard starting point x₀ and the minima the authors knew. Every
:class:`Problem` here keeps the paper's number, its n and m, the residuals as torch operations
(float32 or float64, any device, differentiable by autograd and ``torch.func``), x₀, the
published minimum f* and, where it is known in closed form, a minimizer x*.

The 29 problems, at these sizes:

     1 Rosenbrock (n=2)           2 Freudenstein and Roth (2)   3 Powell badly scaled (2)
     4 Brown badly scaled (2, m=3)                              5 Beale (2, m=3)
     6 Jennrich and Sampson (2, m=10)                           7 helical valley (3)
     8 Bard (3, m=15)             9 Gaussian (3, m=15)         10 Meyer (3, m=16)
    12 Box three-dimensional (3, m=10)                         14 Wood (4, m=6)
    15 Kowalik and Osborne (4, m=11)                           16 Brown and Dennis (4, m=20)
    17 Osborne 1 (5, m=33)       18 Biggs EXP6 (6, m=13)       20 Watson (6, m=31)
    21 extended Rosenbrock (10)  22 extended Powell singular (12)
    23 penalty I (10, m=11)      24 penalty II (10, m=20)      25 variably dimensioned (10, m=12)
    26 trigonometric (10)        27 Brown almost-linear (10)   28 discrete boundary value (10)
    30 Broyden tridiagonal (10)  32 linear, full rank (10, m=20)
    33 linear, rank 1 (10, m=20)                               35 Chebyquad (8)

(m = n where it is not given.) Where the paper leaves n or m free, the size is the one for which
it prints f* (Jennrich–Sampson m=10, Brown–Dennis m=20, Biggs m=13, Watson n=6, penalty I/II
n=10, Chebyquad n=8) or, where f* does not depend on the size, n=10 (m=10 for Box, m=2n for the
linear functions).

Left out, six problems:

* 11 Gulf research and development: as printed, the residual exp(−|yᵢ … x₂|^x₃/x₁) − tᵢ has a
  misprint inside the absolute value (read as |yᵢ − x₂|, as in the authors' Fortran), m is left
  free (3 ≤ m ≤ 100), and |·|^x₃ has a kink where yᵢ = x₂.
* 13 Powell singular: it is problem 22 at n=4, and problem 22 at n=12 is three uncoupled copies
  of it. (Rosenbrock, problem 21 at n=2, stays: it is the classic two-dimensional case.)
* 19 Osborne 2: an 11-parameter fit to a 65-value data table, the largest fixed-size problem;
  Osborne 1 (17) and Biggs EXP6 (18) already stand for the exponential fits.
* 29 discrete integral equation: the integral form of problem 28's two-point boundary value
  problem u″ = (u + t + 1)³/2, u(0) = u(1) = 0; it adds a dense Jacobian but no new minimum.
* 31 Broyden banded: problem 30's Broyden family with a wider band; f* = 0 like 30.
* 34 linear function, rank 1 with zero columns and rows: problem 33 with x₁ and x_n removed and
  two constant residuals added.

Where the paper lists several minima, ``f_star`` is the least it lists and ``notes`` names the
others (Freudenstein–Roth, Bard, Kowalik–Osborne, Biggs EXP6, trigonometric, Brown
almost-linear, Box). :func:`solved` is the success test.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["EXCLUDED", "PROBLEMS", "Problem", "problem", "solved"]

_PAPER = (
    'J. J. Moré, B. S. Garbow, K. E. Hillstrom, "Testing Unconstrained Optimization Software", '
    "ACM TOMS 7(1), 17–41 (1981)"
)

Residuals = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class Problem:
    """One MGH problem: f(x) = Σᵢ fᵢ(x)², fᵢ the m residuals, started at x₀.

    ``f_star`` is the published minimum (the least of those listed), ``x_star`` a minimizer in
    closed form or None, ``notes`` the other published minima and caveats, ``source`` the paper
    and problem number.
    """

    number: int
    name: str
    n: int
    m: int
    residual_fn: Residuals = field(repr=False, compare=False)
    start: tuple[float, ...]
    f_star: float
    x_star: tuple[float, ...] | None
    source: str
    notes: str = ""

    def residuals(self, x: Tensor) -> Tensor:
        """The residual vector (f₁(x), …, f_m(x)), shape (m,), in x's dtype and device."""
        if not isinstance(x, Tensor) or tuple(x.shape) != (self.n,):
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"{self.name} takes x of shape ({self.n},), got {shape}")
        if not x.is_floating_point():
            raise TypeError(f"{self.name} takes a floating-point x, got {x.dtype}")
        return self.residual_fn(x)

    def f(self, x: Tensor) -> Tensor:
        """f(x) = Σᵢ fᵢ(x)², a 0-d tensor."""
        r = self.residuals(x)
        return (r * r).sum()

    def __call__(self, x: Tensor) -> Tensor:
        return self.f(x)

    def x0(
        self, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None
    ) -> Tensor:
        """The standard starting point as a new tensor."""
        return torch.tensor(self.start, dtype=dtype, device=device)


def solved(
    problem: Problem, f_value: float | Tensor, rtol: float = 1e-5, atol: float = 1e-8
) -> bool:
    """Whether f_value reaches the problem's published minimum:

        f_value − f* ≤ atol + rtol·max(1, |f*|).

    One-sided, since f* is printed rounded (a run may end a hair below it). With the defaults
    this is a relative gap of 10⁻⁵ for |f*| ≥ 1 and an absolute gap of about 10⁻⁵ otherwise,
    which a BFGS run stopped by ‖∇f‖ ≤ 10⁻⁵ meets on the problems it solves, while the
    alternative local minima the paper lists (e.g. 48.98 for Freudenstein–Roth, 2.795·10⁻⁵ for
    the trigonometric function) stay outside. A non-finite f_value is never solved.

    The absolute floor makes the test weak where f* and f(x₀) are both tiny: the Gaussian
    function has f(x₀) ≈ 3.9·10⁻⁶, already within 10⁻⁵ of f* ≈ 1.1·10⁻⁸; pass a smaller rtol
    (and atol) there to ask for more.
    """
    value = float(f_value)
    if not math.isfinite(value):
        return False
    return value - problem.f_star <= atol + rtol * max(1.0, abs(problem.f_star))


def _const(values: Sequence[float], x: Tensor) -> Tensor:
    return torch.tensor(values, dtype=x.dtype, device=x.device)


def _index(count: int, x: Tensor) -> Tensor:
    """(1, 2, …, count) in x's dtype and device."""
    return torch.arange(1, count + 1, dtype=x.dtype, device=x.device)


# ---- 1–18: fixed dimension ------------------------------------------------------------------


def _rosenbrock(x: Tensor) -> Tensor:
    """f₁ = 10(x₂ − x₁²), f₂ = 1 − x₁."""
    return torch.stack([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def _freudenstein_roth(x: Tensor) -> Tensor:
    """f₁ = −13 + x₁ + ((5 − x₂)x₂ − 2)x₂,  f₂ = −29 + x₁ + ((x₂ + 1)x₂ − 14)x₂."""
    return torch.stack(
        [
            -13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1],
            -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1],
        ]
    )


def _powell_badly_scaled(x: Tensor) -> Tensor:
    """f₁ = 10⁴x₁x₂ − 1,  f₂ = exp(−x₁) + exp(−x₂) − 1.0001."""
    return torch.stack([1e4 * x[0] * x[1] - 1, torch.exp(-x[0]) + torch.exp(-x[1]) - 1.0001])


def _brown_badly_scaled(x: Tensor) -> Tensor:
    """f₁ = x₁ − 10⁶,  f₂ = x₂ − 2·10⁻⁶,  f₃ = x₁x₂ − 2."""
    return torch.stack([x[0] - 1e6, x[1] - 2e-6, x[0] * x[1] - 2])


def _beale(x: Tensor) -> Tensor:
    """fᵢ = yᵢ − x₁(1 − x₂ⁱ), i = 1, 2, 3, y = (1.5, 2.25, 2.625)."""
    i = _index(3, x)
    return _const((1.5, 2.25, 2.625), x) - x[0] * (1 - x[1] ** i)


def _jennrich_sampson(x: Tensor) -> Tensor:
    """fᵢ = 2 + 2i − (exp(i x₁) + exp(i x₂)), i = 1, …, 10."""
    i = _index(10, x)
    return 2 + 2 * i - (torch.exp(i * x[0]) + torch.exp(i * x[1]))


def _helical_valley(x: Tensor) -> Tensor:
    """f₁ = 10(x₃ − 10θ(x₁, x₂)),  f₂ = 10(√(x₁² + x₂²) − 1),  f₃ = x₃, where

        2πθ = arctan(x₂/x₁) for x₁ > 0,   arctan(x₂/x₁) + π for x₁ < 0,

    i.e. θ = atan2(x₂, x₁)/2π taken in (−1/4, 3/4].
    """
    theta = torch.atan2(x[1], x[0]) / (2 * math.pi)
    theta = torch.where(theta <= -0.25, theta + 1, theta)
    return torch.stack(
        [10 * (x[2] - 10 * theta), 10 * (torch.sqrt(x[0] ** 2 + x[1] ** 2) - 1), x[2]]
    )


_BARD_Y = (0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39)


def _bard(x: Tensor) -> Tensor:
    """fᵢ = yᵢ − (x₁ + uᵢ/(vᵢx₂ + wᵢx₃)), uᵢ = i, vᵢ = 16 − i, wᵢ = min(uᵢ, vᵢ), i = 1…15."""
    u = _index(15, x)
    v = 16 - u
    w = torch.minimum(u, v)
    return _const(_BARD_Y, x) - (x[0] + u / (v * x[1] + w * x[2]))


_GAUSSIAN_Y = (
    0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989,
    0.3521, 0.2420, 0.1295, 0.0540, 0.0175, 0.0044, 0.0009,
)  # fmt: skip


def _gaussian(x: Tensor) -> Tensor:
    """fᵢ = x₁ exp(−x₂(tᵢ − x₃)²/2) − yᵢ, tᵢ = (8 − i)/2, i = 1…15."""
    t = (8 - _index(15, x)) / 2
    return x[0] * torch.exp(-x[1] * (t - x[2]) ** 2 / 2) - _const(_GAUSSIAN_Y, x)


_MEYER_Y = (
    34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0,
    8261.0, 7030.0, 6005.0, 5147.0, 4427.0, 3820.0, 3307.0, 2872.0,
)  # fmt: skip


def _meyer(x: Tensor) -> Tensor:
    """fᵢ = x₁ exp(x₂/(tᵢ + x₃)) − yᵢ, tᵢ = 45 + 5i, i = 1…16."""
    t = 45 + 5 * _index(16, x)
    return x[0] * torch.exp(x[1] / (t + x[2])) - _const(_MEYER_Y, x)


def _box_3d(x: Tensor) -> Tensor:
    """fᵢ = exp(−tᵢx₁) − exp(−tᵢx₂) − x₃(exp(−tᵢ) − exp(−10tᵢ)), tᵢ = 0.1i, i = 1…10."""
    t = 0.1 * _index(10, x)
    return torch.exp(-t * x[0]) - torch.exp(-t * x[1]) - x[2] * (torch.exp(-t) - torch.exp(-10 * t))


def _wood(x: Tensor) -> Tensor:
    """f₁ = 10(x₂ − x₁²), f₂ = 1 − x₁, f₃ = √90(x₄ − x₃²), f₄ = 1 − x₃,
    f₅ = √10(x₂ + x₄ − 2), f₆ = 10^(−1/2)(x₂ − x₄)."""
    return torch.stack(
        [
            10 * (x[1] - x[0] ** 2),
            1 - x[0],
            math.sqrt(90) * (x[3] - x[2] ** 2),
            1 - x[2],
            math.sqrt(10) * (x[1] + x[3] - 2),
            (x[1] - x[3]) / math.sqrt(10),
        ]
    )


_KOWALIK_OSBORNE_Y = (
    0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246,
)  # fmt: skip
_KOWALIK_OSBORNE_U = (
    4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625,
)  # fmt: skip


def _kowalik_osborne(x: Tensor) -> Tensor:
    """fᵢ = yᵢ − x₁(uᵢ² + uᵢx₂)/(uᵢ² + uᵢx₃ + x₄), i = 1…11."""
    u = _const(_KOWALIK_OSBORNE_U, x)
    return _const(_KOWALIK_OSBORNE_Y, x) - x[0] * (u**2 + u * x[1]) / (u**2 + u * x[2] + x[3])


def _brown_dennis(x: Tensor) -> Tensor:
    """fᵢ = (x₁ + tᵢx₂ − exp tᵢ)² + (x₃ + x₄ sin tᵢ − cos tᵢ)², tᵢ = i/5, i = 1…20."""
    t = _index(20, x) / 5
    return (x[0] + t * x[1] - torch.exp(t)) ** 2 + (x[2] + x[3] * torch.sin(t) - torch.cos(t)) ** 2


_OSBORNE1_Y = (
    0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751,
    0.718, 0.685, 0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490,
    0.478, 0.467, 0.457, 0.448, 0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406,
)  # fmt: skip


def _osborne1(x: Tensor) -> Tensor:
    """fᵢ = yᵢ − (x₁ + x₂ exp(−tᵢx₄) + x₃ exp(−tᵢx₅)), tᵢ = 10(i − 1), i = 1…33."""
    t = 10 * (_index(33, x) - 1)
    model = x[0] + x[1] * torch.exp(-t * x[3]) + x[2] * torch.exp(-t * x[4])
    return _const(_OSBORNE1_Y, x) - model


def _biggs_exp6(x: Tensor) -> Tensor:
    """fᵢ = x₃ exp(−tᵢx₁) − x₄ exp(−tᵢx₂) + x₆ exp(−tᵢx₅) − yᵢ, tᵢ = 0.1i, i = 1…13,
    yᵢ = exp(−tᵢ) − 5 exp(−10tᵢ) + 3 exp(−4tᵢ)."""
    t = 0.1 * _index(13, x)
    y = torch.exp(-t) - 5 * torch.exp(-10 * t) + 3 * torch.exp(-4 * t)
    return (
        x[2] * torch.exp(-t * x[0]) - x[3] * torch.exp(-t * x[1]) + x[5] * torch.exp(-t * x[4]) - y
    )


# ---- 20–35: variable dimension (n taken from x) ---------------------------------------------


def _watson(x: Tensor) -> Tensor:
    """For i = 1…29, tᵢ = i/29:

        fᵢ = Σ_{j=2..n} (j − 1)xⱼ tᵢ^(j−2) − (Σ_{j=1..n} xⱼ tᵢ^(j−1))² − 1,

    and f₃₀ = x₁, f₃₁ = x₂ − x₁² − 1.
    """
    n = x.shape[0]
    t = _index(29, x) / 29
    powers = t[:, None] ** torch.arange(n, device=x.device)  # tᵢ^(j−1), in t's dtype
    slope = powers[:, : n - 1] @ (_index(n - 1, x) * x[1:])
    value = powers @ x
    fit = slope - value**2 - 1
    return torch.cat([fit, torch.stack([x[0], x[1] - x[0] ** 2 - 1])])


def _extended_rosenbrock(x: Tensor) -> Tensor:
    """f₂ᵢ₋₁ = 10(x₂ᵢ − x₂ᵢ₋₁²),  f₂ᵢ = 1 − x₂ᵢ₋₁."""
    odd, even = x[0::2], x[1::2]
    return torch.stack([10 * (even - odd**2), 1 - odd], dim=1).reshape(-1)


def _extended_powell(x: Tensor) -> Tensor:
    """f₄ᵢ₋₃ = x₄ᵢ₋₃ + 10x₄ᵢ₋₂,  f₄ᵢ₋₂ = √5(x₄ᵢ₋₁ − x₄ᵢ),
    f₄ᵢ₋₁ = (x₄ᵢ₋₂ − 2x₄ᵢ₋₁)²,  f₄ᵢ = √10(x₄ᵢ₋₃ − x₄ᵢ)²."""
    a, b, c, d = x[0::4], x[1::4], x[2::4], x[3::4]
    rows = [a + 10 * b, math.sqrt(5) * (c - d), (b - 2 * c) ** 2, math.sqrt(10) * (a - d) ** 2]
    return torch.stack(rows, dim=1).reshape(-1)


_PENALTY_A = 1e-5


def _penalty1(x: Tensor) -> Tensor:
    """fᵢ = √a (xᵢ − 1), i = 1…n,  f_{n+1} = Σⱼ xⱼ² − 1/4,  a = 10⁻⁵."""
    return torch.cat([math.sqrt(_PENALTY_A) * (x - 1), ((x * x).sum() - 0.25).reshape(1)])


def _penalty2(x: Tensor) -> Tensor:
    """The 2n residuals

        f₁ = x₁ − 0.2,
        fᵢ = √a (exp(xᵢ/10) + exp(xᵢ₋₁/10) − yᵢ),       i = 2…n,
        fᵢ = √a (exp(x_{i−n+1}/10) − exp(−1/10)),        i = n+1…2n−1,
        f₂ₙ = Σⱼ (n − j + 1)xⱼ² − 1,

    with a = 10⁻⁵ and yᵢ = exp(i/10) + exp((i − 1)/10).
    """
    n = x.shape[0]
    i = _index(n, x)[1:]
    y = torch.exp(i / 10) + torch.exp((i - 1) / 10)
    root_a = math.sqrt(_PENALTY_A)
    pairs = root_a * (torch.exp(x[1:] / 10) + torch.exp(x[:-1] / 10) - y)
    singles = root_a * (torch.exp(x[1:] / 10) - math.exp(-0.1))
    weights = n + 1 - _index(n, x)
    return torch.cat(
        [(x[0] - 0.2).reshape(1), pairs, singles, ((weights * x * x).sum() - 1).reshape(1)]
    )


def _variably_dimensioned(x: Tensor) -> Tensor:
    """fᵢ = xᵢ − 1, i = 1…n,  f_{n+1} = Σⱼ j(xⱼ − 1),  f_{n+2} = (Σⱼ j(xⱼ − 1))²."""
    s = (_index(x.shape[0], x) * (x - 1)).sum()
    return torch.cat([x - 1, torch.stack([s, s**2])])


def _trigonometric(x: Tensor) -> Tensor:
    """fᵢ = n − Σⱼ cos xⱼ + i(1 − cos xᵢ) − sin xᵢ."""
    n = x.shape[0]
    return n - torch.cos(x).sum() + _index(n, x) * (1 - torch.cos(x)) - torch.sin(x)


def _brown_almost_linear(x: Tensor) -> Tensor:
    """fᵢ = xᵢ + Σⱼ xⱼ − (n + 1), i = 1…n−1,  f_n = (Πⱼ xⱼ) − 1."""
    n = x.shape[0]
    return torch.cat([x[:-1] + x.sum() - (n + 1), (torch.prod(x) - 1).reshape(1)])


def _discrete_boundary_value(x: Tensor) -> Tensor:
    """fᵢ = 2xᵢ − xᵢ₋₁ − xᵢ₊₁ + h²(xᵢ + tᵢ + 1)³/2, h = 1/(n + 1), tᵢ = ih, x₀ = x_{n+1} = 0."""
    n = x.shape[0]
    h = 1 / (n + 1)
    t = _index(n, x) * h
    padded = torch.cat([x.new_zeros(1), x, x.new_zeros(1)])
    return 2 * x - padded[:-2] - padded[2:] + h**2 * (x + t + 1) ** 3 / 2


def _broyden_tridiagonal(x: Tensor) -> Tensor:
    """fᵢ = (3 − 2xᵢ)xᵢ − xᵢ₋₁ − 2xᵢ₊₁ + 1, x₀ = x_{n+1} = 0."""
    padded = torch.cat([x.new_zeros(1), x, x.new_zeros(1)])
    return (3 - 2 * x) * x - padded[:-2] - 2 * padded[2:] + 1


_LINEAR_M = 20


def _linear_full_rank(x: Tensor) -> Tensor:
    """fᵢ = xᵢ − (2/m)Σⱼ xⱼ − 1 for i ≤ n,  fᵢ = −(2/m)Σⱼ xⱼ − 1 for n < i ≤ m (m = 20)."""
    n = x.shape[0]
    common = -(2 / _LINEAR_M) * x.sum() - 1
    return torch.cat([x + common, common.expand(_LINEAR_M - n)])


def _linear_rank1(x: Tensor) -> Tensor:
    """fᵢ = i(Σⱼ j xⱼ) − 1, i = 1…m (m = 20)."""
    return _index(_LINEAR_M, x) * (_index(x.shape[0], x) * x).sum() - 1


def _chebyquad(x: Tensor) -> Tensor:
    """fᵢ = (1/n)Σⱼ Tᵢ(xⱼ) − ∫₀¹ Tᵢ(ξ)dξ, i = 1…m (m = n), Tᵢ the Chebyshev polynomial
    shifted to [0, 1]: T₀ = 1, T₁ = 2ξ − 1, Tᵢ₊₁ = 2(2ξ − 1)Tᵢ − Tᵢ₋₁; the integral is 0 for
    odd i and −1/(i² − 1) for even i."""
    n = x.shape[0]
    y = 2 * x - 1
    previous, current = torch.ones_like(y), y
    means = [current.mean()]
    for _ in range(1, n):
        previous, current = current, 2 * y * current - previous
        means.append(current.mean())
    integrals = [0.0 if i % 2 else -1 / (i * i - 1) for i in range(1, n + 1)]
    return torch.stack(means) - _const(integrals, x)


def _linspace_start(n: int) -> tuple[float, ...]:
    return tuple(j / (n + 1) for j in range(1, n + 1))


def _problem(
    number: int,
    name: str,
    n: int,
    m: int,
    fn: Residuals,
    start: Sequence[float],
    f_star: float,
    x_star: Sequence[float] | None = None,
    notes: str = "",
    source: str = "",
) -> Problem:
    return Problem(
        number=number,
        name=name,
        n=n,
        m=m,
        residual_fn=fn,
        start=tuple(float(v) for v in start),
        f_star=float(f_star),
        x_star=None if x_star is None else tuple(float(v) for v in x_star),
        source=f"{_PAPER}, problem {number}" + (f"; {source}" if source else ""),
        notes=notes,
    )


_N = 10  # the size of the variable-dimension problems whose f* does not depend on n

PROBLEMS: tuple[Problem, ...] = (
    _problem(1, "Rosenbrock", 2, 2, _rosenbrock, (-1.2, 1.0), 0.0, (1.0, 1.0)),
    _problem(
        2, "Freudenstein and Roth", 2, 2, _freudenstein_roth, (0.5, -2.0), 0.0, (5.0, 4.0),
        notes="local minimum f = 48.9842… at (11.41…, −0.8968…)",
    ),
    _problem(
        3, "Powell badly scaled", 2, 2, _powell_badly_scaled, (0.0, 1.0), 0.0,
        notes="minimizer (1.098…·10⁻⁵, 9.106…), not in closed form",
    ),
    _problem(
        4, "Brown badly scaled", 2, 3, _brown_badly_scaled, (1.0, 1.0), 0.0, (1e6, 2e-6)
    ),
    _problem(5, "Beale", 2, 3, _beale, (1.0, 1.0), 0.0, (3.0, 0.5)),
    _problem(
        6, "Jennrich and Sampson", 2, 10, _jennrich_sampson, (0.3, 0.4), 124.362,
        notes="m = 10; minimizer x₁ = x₂ = 0.2578…; f* is printed as 124.362…",
    ),
    _problem(7, "helical valley", 3, 3, _helical_valley, (-1.0, 0.0, 0.0), 0.0, (1.0, 0.0, 0.0)),
    _problem(
        8, "Bard", 3, 15, _bard, (1.0, 1.0, 1.0), 8.21487e-3,
        notes="also f = 17.4286… at (0.8406…, −∞, −∞)",
    ),
    _problem(9, "Gaussian", 3, 15, _gaussian, (0.4, 1.0, 0.0), 1.12793e-8),
    _problem(10, "Meyer", 3, 16, _meyer, (0.02, 4000.0, 250.0), 87.9458),
    _problem(
        12, "Box three-dimensional", 3, 10, _box_3d, (0.0, 10.0, 20.0), 0.0, (1.0, 10.0, 1.0),
        notes="m = 10; f = 0 also at (10, 1, −1) and wherever x₁ = x₂, x₃ = 0",
    ),
    _problem(14, "Wood", 4, 6, _wood, (-3.0, -1.0, -3.0, -1.0), 0.0, (1.0, 1.0, 1.0, 1.0)),
    _problem(
        15, "Kowalik and Osborne", 4, 11, _kowalik_osborne, (0.25, 0.39, 0.415, 0.39),
        3.07505e-4, notes="also f = 1.02734…·10⁻³ at (+∞, −14.07…, −∞, −∞)",
    ),
    _problem(
        16, "Brown and Dennis", 4, 20, _brown_dennis, (25.0, 5.0, -5.0, -1.0), 85822.2,
        notes="m = 20; f* is printed as 85822.2…",
    ),
    _problem(17, "Osborne 1", 5, 33, _osborne1, (0.5, 1.5, -1.0, 0.01, 0.02), 5.46489e-5),
    _problem(
        18, "Biggs EXP6", 6, 13, _biggs_exp6, (1.0, 2.0, 1.0, 1.0, 1.0, 1.0), 0.0,
        (1.0, 10.0, 1.0, 5.0, 4.0, 3.0),
        notes="m = 13; also the local minimum f = 5.65565…·10⁻³",
    ),
    _problem(20, "Watson", 6, 31, _watson, (0.0,) * 6, 2.28767e-3, notes="n = 6"),
    _problem(21, "extended Rosenbrock", _N, _N, _extended_rosenbrock, (-1.2, 1.0) * 5, 0.0,
             (1.0,) * _N),
    _problem(22, "extended Powell singular", 12, 12, _extended_powell, (3.0, -1.0, 0.0, 1.0) * 3,
             0.0, (0.0,) * 12),
    _problem(23, "penalty I", _N, _N + 1, _penalty1, range(1, _N + 1), 7.08765e-5,
             notes="n = 10"),
    _problem(24, "penalty II", _N, 2 * _N, _penalty2, (0.5,) * _N, 2.93660e-4, notes="n = 10"),
    _problem(25, "variably dimensioned", _N, _N + 2, _variably_dimensioned,
             [1 - j / _N for j in range(1, _N + 1)], 0.0, (1.0,) * _N),
    _problem(
        26, "trigonometric", _N, _N, _trigonometric, (1 / _N,) * _N, 0.0, (0.0,) * _N,
        notes="f = 0 at x = 0 (and its 2π-translates); from x₀ descent methods usually stop "
        "at the local minimum f = 2.79506…·10⁻⁵ (n = 10)",
    ),
    _problem(
        27, "Brown almost-linear", _N, _N, _brown_almost_linear, (0.5,) * _N, 0.0, (1.0,) * _N,
        notes="f = 0 at (α, …, α, α^(1−n)) for every root α of nαⁿ − (n+1)α^(n−1) + 1 = 0, "
        "α = 1 among them; also f = 1 at (0, …, 0, n + 1)",
    ),
    _problem(28, "discrete boundary value", _N, _N, _discrete_boundary_value,
             [t * (t - 1) for t in _linspace_start(_N)], 0.0),
    _problem(30, "Broyden tridiagonal", _N, _N, _broyden_tridiagonal, (-1.0,) * _N, 0.0),
    _problem(
        32, "linear function, full rank", _N, _LINEAR_M, _linear_full_rank, (1.0,) * _N,
        _LINEAR_M - _N, (-1.0,) * _N, notes="m = 20; f* = m − n",
    ),
    _problem(
        33, "linear function, rank 1", _N, _LINEAR_M, _linear_rank1, (1.0,) * _N,
        _LINEAR_M * (_LINEAR_M - 1) / (2 * (2 * _LINEAR_M + 1)),
        notes="m = 20; f* = m(m − 1)/(2(2m + 1)) on the whole hyperplane Σⱼ j xⱼ = 3/(2m + 1)",
    ),
    _problem(35, "Chebyquad", 8, 8, _chebyquad, _linspace_start(8), 3.51687e-3,
             notes="n = m = 8; f = 0 for n = 1…7 and 9, 6.50395…·10⁻³ for n = 10"),
)  # fmt: skip

EXCLUDED: dict[int, str] = {
    11: "Gulf research and development: misprinted residual, m left free, a kink at yᵢ = x₂",
    13: "Powell singular: problem 22 at n = 4 (22 is here at n = 12)",
    19: "Osborne 2: the largest data fit (n = 11, m = 65); problems 17 and 18 stand for it",
    29: "discrete integral equation: the integral form of problem 28",
    31: "Broyden banded: problem 30's family with a wider band",
    34: "linear function, rank 1 with zero columns and rows: a variant of problem 33",
}
"""The MGH problems left out, and why (see the module docstring)."""


def _key(name: str) -> str:
    return "".join(c for c in name.lower() if c.isalnum())


_BY_NUMBER = {p.number: p for p in PROBLEMS}
_BY_NAME = {_key(p.name): p for p in PROBLEMS}


def problem(name_or_number: int | str) -> Problem:
    """The problem with this MGH number (e.g. 14) or name (e.g. "Wood", case, spaces and
    punctuation ignored)."""
    if isinstance(name_or_number, bool) or not isinstance(name_or_number, (int, str)):
        raise TypeError(f"give an MGH number or a name, got {name_or_number!r}")
    if isinstance(name_or_number, int):
        if name_or_number in _BY_NUMBER:
            return _BY_NUMBER[name_or_number]
        if name_or_number in EXCLUDED:
            raise KeyError(f"MGH problem {name_or_number} is left out: {EXCLUDED[name_or_number]}")
        raise KeyError(f"no MGH problem {name_or_number}; the set has {sorted(_BY_NUMBER)}")
    found = _BY_NAME.get(_key(name_or_number))
    if found is None:
        names = ", ".join(p.name for p in PROBLEMS)
        raise KeyError(f"no MGH problem named {name_or_number!r}; the names are: {names}")
    return found
