"""Convexity checks that look for counterexamples, critical-point classification, sublevel sets.

A function f is convex when every chord lies above the graph,

    λ f(x) + (1 − λ) f(x') ≥ f(λ x + (1 − λ) x')      for all x, x' and λ ∈ [0, 1],

equivalently (Jensen) Σ α_i f(x_i) ≥ f(Σ α_i x_i) for weights α_i ≥ 0 summing to 1, and, for
twice-differentiable f, its Hessian is positive semi-definite everywhere. A sampled check can only
*refute* convexity — it finds a violated inequality or reports that N samples showed none — so
nothing here ever answers "convex".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor
from torch.func import hessian, vmap

__all__ = [
    "ConvexityReport",
    "CriticalPoint",
    "Violation",
    "check_convex_function",
    "check_convex_set",
    "classify_critical_point",
    "sample_box",
    "sublevel_set_grid",
    "sublevel_set_samples",
]

Bounds = tuple[float | Tensor, float | Tensor]


@dataclass(frozen=True)
class Violation:
    """A concrete counterexample. ``kind`` is "chord" (two points and a weight), "jensen"
    (several points and weights), "hessian" (a point and the smallest eigenvalue) or "set"
    (two members of a set whose weighted mean is not a member)."""

    kind: Literal["chord", "jensen", "hessian", "set"]
    points: Tensor  # (k, d)
    weights: Tensor | None  # (k,)
    lhs: float  # Σ α_i f(x_i) (or the eigenvalue, or nan for "set")
    rhs: float  # f(Σ α_i x_i) (or 0)
    gap: float  # lhs − rhs, negative when violated


@dataclass(frozen=True)
class ConvexityReport:
    violation: Violation | None
    num_samples: int

    @property
    def refuted(self) -> bool:
        """True when a counterexample was found; False never means "convex"."""
        return self.violation is not None

    def __str__(self) -> str:
        if self.violation is None:
            return f"no violation in {self.num_samples} samples (sampling cannot prove convexity)"
        v = self.violation
        if v.kind == "hessian":
            return f"not convex: Hessian eigenvalue {v.lhs:.6g} < 0 at {v.points[0].tolist()}"
        if v.kind == "set":
            return (
                f"not convex: {v.points[0].tolist()} and {v.points[1].tolist()} are in the set "
                f"but their mix with weights {v.weights.tolist()} is not"
            )
        return (
            f"not convex: {v.kind} inequality fails at points {v.points.tolist()} with weights "
            f"{v.weights.tolist()}: Σαf(x) = {v.lhs:.6g} < f(Σαx) = {v.rhs:.6g} (gap {v.gap:.3g})"
        )


def sample_box(bounds: Bounds, n: int, generator: torch.Generator, dtype=torch.float64) -> Tensor:
    """n points uniformly in the box [low, high] (scalars for 1-D, or (d,) tensors): (n, d)."""
    low, high = _box(bounds, dtype)
    return low + (high - low) * torch.rand(n, low.numel(), generator=generator, dtype=dtype)


def _box(bounds: Bounds, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """(low, high) as (d,) tensors, checked: same size, high > low in every coordinate."""
    low = torch.as_tensor(bounds[0], dtype=dtype).reshape(-1)
    high = torch.as_tensor(bounds[1], dtype=dtype).reshape(-1)
    if low.shape != high.shape or not bool((high > low).all()):
        raise ValueError(
            f"bounds must be (low, high) with high > low in every coordinate, got {bounds!r}"
        )
    return low, high


def _batched(
    f: Callable[[Tensor], Tensor], d: int
) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """(values, scalar): ``scalar`` is f on one point ((d,) vector, or a 0-d tensor when
    d = 1), ``values`` evaluates it on an (n, d) batch — with vmap, or, for an f whose Python
    control flow depends on tensor values (``if x > 0``, ``max(x, 0)``), which vmap cannot
    trace, one point at a time."""
    scalar = (lambda x: f(x[0])) if d == 1 else f

    def values(points: Tensor) -> Tensor:
        try:
            out = vmap(scalar)(points)
        except RuntimeError as err:
            # every refusal of vmap's (data-dependent control flow, .item(), dynamic shapes)
            # says "vmap: ..."; any other error is f's own
            if "vmap" not in str(err):
                raise
            out = torch.stack([torch.as_tensor(scalar(p), dtype=points.dtype) for p in points])
        if out.dim() != 1:
            raise ValueError(
                f"f must return a scalar for each point, got output of shape {tuple(out.shape[1:])}"
            )
        return out

    return values, scalar


def _hessians(scalar: Callable[[Tensor], Tensor], points: Tensor) -> Tensor:
    """∇²f at each of the (n, d) points: (n, d, d), with the same fallback as :func:`_batched`."""
    n, d = points.shape
    try:
        return vmap(hessian(scalar))(points).reshape(n, d, d)
    except RuntimeError as err:
        if "vmap" not in str(err):
            raise
        return torch.stack([hessian(scalar)(p).reshape(d, d) for p in points])


def _default_tol(values: Tensor) -> float:
    """Violations smaller than this, relative to |f|, are rounding: 32 units of the dtype's
    precision (7.6e-6 for float32 values, 1.4e-14 for float64)."""
    return 32 * torch.finfo(values.dtype).eps


def check_convex_function(
    f: Callable[[Tensor], Tensor],
    bounds: Bounds | None = None,
    sampler: Callable[[int, torch.Generator], Tensor] | None = None,
    num_samples: int = 2000,
    jensen_points: int = 4,
    tests: tuple[str, ...] = ("chord", "jensen", "hessian"),
    tol: float | None = None,
    seed: int = 0,
) -> ConvexityReport:
    """Look for a counterexample to the convexity of ``f`` on a domain.

    Args:
        f: maps a point to a scalar: a (d,) tensor, or a 0-d tensor for 1-D functions
            (``lambda x: x * torch.cos(torch.pi * x)``). Written with torch operations.
        bounds: (low, high) of a box domain; or give ``sampler(n, generator) -> (n, d)`` instead
            for another convex domain (the domain itself must be convex).
        num_samples: chord tests; as many Jensen tests and Hessian points.
        jensen_points: points in each Jensen test.
        tests: which tests to run, in this order: "chord" (two points), "jensen" (several
            points), "hessian" (λ_min(∇²f) ≥ 0 at sampled points; needs f twice differentiable).
        tol: violations smaller than tol·(1 + |f|) are rounding, not counterexamples; by
            default 32 units of the precision of the dtype f returns (so a float32 f is
            judged at float32's resolution, not float64's).

    Returns the report with the worst violation found, or none.
    """
    if (bounds is None) == (sampler is None):
        raise ValueError("give exactly one of bounds=(low, high) or sampler=callable")
    if num_samples < 1:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    unknown = set(tests) - {"chord", "jensen", "hessian"}
    if unknown or not tests:
        raise ValueError(f"tests must be drawn from 'chord', 'jensen', 'hessian', got {tests!r}")
    gen = torch.Generator().manual_seed(seed)

    def draw(n: int) -> Tensor:
        return sample_box(bounds, n, gen) if sampler is None else sampler(n, gen).double()

    d = draw(1).shape[1]
    values, scalar = _batched(f, d)
    # Chords (k = 2), then Jensen (k points): Σ α_i f(x_i) − f(Σ α_i x_i) ≥ 0. The first kind
    # that fails gives the report its worst case; the Hessian is the last resort.
    for k, kind in ((2, "chord"), (jensen_points, "jensen")):
        if kind not in tests:
            continue
        points = draw(num_samples * k).view(num_samples, k, d)
        weights = _random_weights(num_samples, k, gen)
        f_points = values(points.view(-1, d)).view(num_samples, k)
        lhs = (weights * f_points).sum(1)
        rhs = values((weights.unsqueeze(-1) * points).sum(1))
        gap = lhs - rhs
        threshold = _default_tol(f_points) if tol is None else tol
        if not bool(torch.isfinite(gap).all()):
            i = int((~torch.isfinite(gap)).nonzero()[0])
            raise ValueError(f"f is not finite near {points[i].tolist()}; restrict the domain")
        scaled = gap / (1 + f_points.abs().amax(1) + rhs.abs())
        i = int(scaled.argmin())
        if scaled[i] < -threshold:
            violation = Violation(
                kind, points[i], weights[i], float(lhs[i]), float(rhs[i]), float(gap[i])
            )
            return ConvexityReport(violation, num_samples)
    if "hessian" in tests:
        points = draw(num_samples)
        hess = _hessians(scalar, points)
        smallest = torch.linalg.eigvalsh(hess)[:, 0]
        i = int(smallest.argmin())
        threshold = _default_tol(hess) if tol is None else tol
        if smallest[i] < -threshold * (1 + hess[i].abs().max()):
            value = float(smallest[i])
            violation = Violation("hessian", points[i : i + 1], None, value, 0.0, value)
            return ConvexityReport(violation, num_samples)
    return ConvexityReport(None, num_samples)


def _random_weights(n: int, k: int, gen: torch.Generator) -> Tensor:
    """n weight vectors uniform on the probability simplex of k entries (Dirichlet(1, ..., 1))."""
    e = -torch.log1p(-torch.rand(n, k, generator=gen, dtype=torch.float64))
    return e / e.sum(dim=1, keepdim=True)


def check_convex_set(
    contains: Callable[[Tensor], Tensor],
    bounds: Bounds,
    num_samples: int = 2000,
    seed: int = 0,
) -> ConvexityReport:
    """Look for two members a, b of a set (given by ``contains(points (n, d)) -> bool (n,)``)
    and λ ∈ [0, 1] with λa + (1 − λ)b outside it. Members are found by sampling ``bounds``."""
    gen = torch.Generator().manual_seed(seed)
    points = sample_box(bounds, 4 * num_samples, gen)
    members = points[contains(points).bool()]
    if len(members) < 2:
        raise ValueError(
            f"only {len(members)} of {len(points)} sampled points are in the set; "
            "give bounds that fit the set more tightly"
        )
    i = torch.randint(len(members), (num_samples,), generator=gen)
    j = torch.randint(len(members), (num_samples,), generator=gen)
    weights = _random_weights(num_samples, 2, gen)
    mixes = weights[:, :1] * members[i] + weights[:, 1:] * members[j]
    outside = ~contains(mixes).bool()
    if not bool(outside.any()):
        return ConvexityReport(None, num_samples)
    k = int(outside.nonzero()[0])
    pair = torch.stack([members[i[k]], members[j[k]]])
    return ConvexityReport(Violation("set", pair, weights[k], float("nan"), 0.0, -1.0), num_samples)


@dataclass(frozen=True)
class CriticalPoint:
    kind: Literal["minimum", "maximum", "saddle", "inconclusive", "not critical"]
    eigenvalues: Tensor  # of the Hessian, ascending
    gradient_norm: float


def classify_critical_point(
    f: Callable[[Tensor], Tensor], x: Tensor | float, tol: float = 1e-8
) -> CriticalPoint:
    """Second-order test at x: with ∇f(x) = 0, a Hessian with all eigenvalues > 0 is a local
    minimum, all < 0 a local maximum, both signs a saddle (x² − y² at the origin: eigenvalues
    −2, 2); a zero eigenvalue makes the test inconclusive (x³ at 0 is a saddle the test cannot
    see). A point with ‖∇f(x)‖ > tol is "not critical"."""
    x = torch.as_tensor(x, dtype=torch.float64)
    grad = torch.func.grad(f)(x)
    hess = hessian(f)(x).reshape(max(x.numel(), 1), max(x.numel(), 1))
    eigenvalues = torch.linalg.eigvalsh(hess)
    gradient_norm = float(torch.linalg.vector_norm(grad))
    scale = tol * (1 + float(eigenvalues.abs().max()))
    if gradient_norm > tol:
        kind = "not critical"
    elif bool((eigenvalues > scale).all()):
        kind = "minimum"
    elif bool((eigenvalues < -scale).all()):
        kind = "maximum"
    elif bool((eigenvalues > scale).any() and (eigenvalues < -scale).any()):
        kind = "saddle"
    else:
        kind = "inconclusive"
    return CriticalPoint(kind, eigenvalues, gradient_norm)


def sublevel_set_grid(
    f: Callable[[Tensor], Tensor], level: float, bounds: Bounds, num: int = 101
) -> tuple[list[Tensor], Tensor, Tensor]:
    """f on a num^d grid over ``bounds`` (d ≤ 2 is what one plots): the coordinate grids, the
    values, and the mask of {x : f(x) ≤ level}."""
    low, high = _box(bounds, torch.float64)
    axes = [
        torch.linspace(lo, hi, num, dtype=torch.float64)
        for lo, hi in zip(low.tolist(), high.tolist(), strict=True)
    ]
    grids = list(torch.meshgrid(*axes, indexing="ij"))
    points = torch.stack([g.reshape(-1) for g in grids], dim=1)
    values, _ = _batched(f, points.shape[1])
    z = values(points).reshape(grids[0].shape)
    return grids, z, z <= level


def sublevel_set_samples(
    f: Callable[[Tensor], Tensor], level: float, bounds: Bounds, n: int = 1000, seed: int = 0
) -> Tensor:
    """Points of {x : f(x) ≤ level} found by sampling the box ``bounds``: (k, d), k ≤ n.
    ``lambda p: f_batched(p) <= level`` is the membership test for :func:`check_convex_set`."""
    points = sample_box(bounds, n, torch.Generator().manual_seed(seed))
    values, _ = _batched(f, points.shape[1])
    return points[values(points) <= level]
