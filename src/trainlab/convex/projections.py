"""Euclidean projections onto convex sets: Proj_X(v) = argmin_{x ∈ X} ‖x − v‖₂.

Every function projects along the last axis and is batched over any leading axes, for float32
and float64 tensors. Each docstring gives the formula and the cost for one vector of n entries.
A projection onto a closed convex set is feasible (P(v) ∈ X), idempotent (P(P(v)) = P(v)),
leaves points of X unchanged, is non-expansive (‖P(u) − P(v)‖ ≤ ‖u − v‖), and satisfies the
obtuse-angle condition ⟨v − P(v), z − P(v)⟩ ≤ 0 for every z ∈ X.
"""

from __future__ import annotations

import torch
from torch import Tensor

from trainlab._checks import check_positive

__all__ = [
    "project_affine",
    "project_box",
    "project_halfspace",
    "project_hyperplane",
    "project_l1_ball",
    "project_l2_ball",
    "project_linf_ball",
    "project_simplex",
]


def _check_vector(v: Tensor, name: str = "v") -> None:
    if not isinstance(v, Tensor) or not v.is_floating_point():
        kind = v.dtype if isinstance(v, Tensor) else type(v).__name__
        raise TypeError(f"{name} must be a floating-point tensor, got {kind}; use v.double()")
    if v.dim() < 1:
        raise ValueError(f"{name} must have at least one axis (the vector), got a 0-d tensor")
    if v.numel() and not bool(torch.isfinite(v).all()):
        bad = "NaN" if bool(torch.isnan(v).any()) else "±inf"
        raise ValueError(
            f"{name} contains {bad}: a projection needs finite entries; find where the "
            "values came from (a diverging optimizer step?) or mask them first"
        )


def _check_radius(radius: float) -> float:
    """Any real scalar (int, float, NumPy scalar, 0-d tensor), positive and finite."""
    return check_positive(
        "radius", radius, "; a ball or simplex of radius ≤ 0 is empty or a single point"
    )


def _scaled_norm(v: Tensor, ord: float) -> Tensor:
    """‖v‖ along the last axis, computed as s·‖v/s‖ with s = max|v|, so squares neither
    overflow (float32 entries of 1e20) nor underflow (entries of 1e-30); shape (..., 1)."""
    scale = v.abs().amax(dim=-1, keepdim=True)
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return torch.linalg.vector_norm(v / safe, ord, dim=-1, keepdim=True) * scale


def _offset(v: Tensor, b: float | Tensor) -> Tensor:
    """b as a (..., 1) tensor, so that one offset per leading index lines up with its row."""
    b = torch.as_tensor(b, dtype=v.dtype, device=v.device)
    return b.unsqueeze(-1) if b.dim() > 0 else b


def _check_normal(v: Tensor, a: Tensor) -> Tensor:
    a = torch.as_tensor(a, dtype=v.dtype, device=v.device)
    if a.shape[-1:] != v.shape[-1:]:
        raise ValueError(
            f"the normal a has {a.shape[-1] if a.dim() else 0} entries but v has {v.shape[-1]}; "
            "they must match along the last axis"
        )
    if not bool((a.square().sum(-1) > 0).all()):
        raise ValueError("the normal a must be non-zero: {x : aᵀx = b} with a = 0 is not a plane")
    return a


def project_simplex(v: Tensor, radius: float = 1.0) -> Tensor:
    """Onto the simplex {x : x ≥ 0, Σx = radius} (Duchi et al. 2008), O(n log n).

    Sort u = v descending, find ρ = max{j : u_j − (Σ_{i≤j} u_i − radius)/j > 0},
    θ = (Σ_{i≤ρ} u_i − radius)/ρ, and return max(v − θ, 0).

    The projection commutes with shifts (P(v + c·1) = P(v)), so it is computed on
    w = v − max(v): then u₁ = 0 exactly, the test at j = 1 reads radius > 0 — so ρ ≥ 1 even
    when the radius is below the rounding unit of the largest entry — and the largest entry
    keeps all of a tiny radius instead of losing it to rounding.

    >>> project_simplex(torch.tensor([0.5, 2.0, -1.0]))
    tensor([0., 1., 0.])
    >>> project_simplex(torch.tensor([[0.4, 0.4], [3.0, 1.0]]))
    tensor([[0.5000, 0.5000],
            [1.0000, 0.0000]])
    """
    _check_vector(v)
    radius = _check_radius(radius)
    if v.numel() == 0:
        return v.clone()
    w = v - v.amax(dim=-1, keepdim=True)
    u, _ = torch.sort(w, dim=-1, descending=True)
    cumulative = u.cumsum(dim=-1) - radius
    j = torch.arange(1, v.shape[-1] + 1, device=v.device)  # exact int64 counts
    support = (u - cumulative / j > 0).sum(dim=-1, keepdim=True)  # ρ ≥ 1, see above
    theta = cumulative.gather(-1, support - 1) / support.to(v.dtype)
    return (w - theta).clamp_min(0)


def project_l1_ball(v: Tensor, radius: float = 1.0) -> Tensor:
    """Onto the ℓ1 ball {x : ‖x‖₁ ≤ radius}, O(n log n): v itself if inside, otherwise
    sign(v) ⊙ Proj_simplex(|v|, radius) (Duchi et al. 2008)."""
    _check_vector(v)
    radius = _check_radius(radius)
    if v.numel() == 0:
        return v.clone()
    inside = _scaled_norm(v, 1) <= radius
    return torch.where(inside, v, v.sign() * project_simplex(v.abs(), radius))


def project_l2_ball(v: Tensor, radius: float = 1.0) -> Tensor:
    """Onto the ℓ2 ball {x : ‖x‖₂ ≤ radius}, O(n): v · min(1, radius/‖v‖₂), with the norm
    computed scaled (see :func:`_scaled_norm`). Gradient clipping by norm is this projection
    applied to the gradient."""
    _check_vector(v)
    radius = _check_radius(radius)
    if v.numel() == 0:
        return v.clone()
    norm = _scaled_norm(v, 2)
    outside = norm > radius
    factor = radius / torch.where(outside, norm, torch.ones_like(norm))
    return torch.where(outside, v * factor, v)


def project_box(
    v: Tensor, lower: float | Tensor | None = None, upper: float | Tensor | None = None
):
    """Onto the box {x : lower ≤ x ≤ upper} (None: unbounded on that side), O(n): clamp
    each entry. ``project_box(v, lower=0)`` is the non-negative orthant."""
    _check_vector(v)
    lo = None if lower is None else torch.as_tensor(lower, dtype=v.dtype, device=v.device)
    hi = None if upper is None else torch.as_tensor(upper, dtype=v.dtype, device=v.device)
    if lo is not None and hi is not None and bool((lo > hi).any()):
        raise ValueError("the box is empty: some lower bound exceeds its upper bound")
    return torch.clamp(v, lo, hi)


def project_linf_ball(v: Tensor, radius: float = 1.0) -> Tensor:
    """Onto the ℓ∞ ball {x : max|x_i| ≤ radius}, O(n): clamp to [−radius, radius]."""
    radius = _check_radius(radius)
    return project_box(v, -radius, radius)


def project_halfspace(v: Tensor, a: Tensor, b: float | Tensor) -> Tensor:
    """Onto the halfspace {x : aᵀx ≤ b}, O(n): v − max(0, aᵀv − b)/‖a‖² · a. ``a`` may carry
    leading axes (one normal per row) and ``b`` then one offset per row."""
    _check_vector(v)
    a = _check_normal(v, a)
    excess = ((v * a).sum(-1, keepdim=True) - _offset(v, b)).clamp_min(0)
    return v - excess / a.square().sum(-1, keepdim=True) * a


def project_hyperplane(v: Tensor, a: Tensor, b: float | Tensor) -> Tensor:
    """Onto the hyperplane {x : aᵀx = b}, O(n): v − (aᵀv − b)/‖a‖² · a (rows as for the
    halfspace)."""
    _check_vector(v)
    a = _check_normal(v, a)
    residual = (v * a).sum(-1, keepdim=True) - _offset(v, b)
    return v - residual / a.square().sum(-1, keepdim=True) * a


def project_affine(v: Tensor, A: Tensor, b: Tensor) -> Tensor:
    """Onto the affine set {x : Ax = b} for A of shape (m, n), O(mn) per vector after an
    O(m²n) factorization: v − A⁺(Av − b), with A⁺ the pseudo-inverse (Aᵀ(AAᵀ)⁻¹ when A has full
    row rank). Raises if Ax = b has no solution. Computed in float64 (the pseudo-inverse of a
    float32 matrix is only good to about 1e-7·cond(A)) and returned in v's dtype."""
    _check_vector(v)
    A = torch.as_tensor(A, device=v.device).to(torch.float64)
    b = torch.as_tensor(b, device=v.device).to(torch.float64)
    if A.dim() != 2 or A.shape[1] != v.shape[-1] or b.shape != (A.shape[0],):
        raise ValueError(
            f"expected A of shape (m, {v.shape[-1]}) and b of shape (m,), got A {tuple(A.shape)} "
            f"and b {tuple(b.shape)}"
        )
    pinv = torch.linalg.pinv(A)  # (n, m)
    particular = pinv @ b
    if not torch.allclose(A @ particular, b, rtol=1e-6, atol=1e-8 * (1 + b.abs().max().item())):
        raise ValueError("Ax = b has no solution, so the affine set is empty; check A and b")
    x = v.to(torch.float64)
    return (x - (x @ A.T - b) @ pinv.T).to(v.dtype)
