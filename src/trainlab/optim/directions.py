"""Direction rules: where each step of :func:`~trainlab.optim.minimize` goes, p_k in
x_{k+1} = x_k + η_k p_k.

    gradient descent              p = −∇f(x)
    Newton                        p = −H(x)⁻¹ ∇f(x)        (|H| or H + δI where H is not PD)
    diagonal preconditioning      p = −diag(H(x))⁻¹ ∇f(x)
    BFGS                          p = −B_k ∇f(x), B_k ≈ H⁻¹ built from the steps taken
    L-BFGS                        the same product from the last m steps only

Quasi-Newton rules learn from each accepted step s = x_{k+1} − x_k and the change of gradient
y = ∇f(x_{k+1}) − ∇f(x_k) (``update``); the others ignore it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Literal

import torch
from torch import Tensor

from trainlab.optim.objective import Objective

__all__ = [
    "BFGS",
    "LBFGS",
    "DiagonalPreconditioner",
    "Direction",
    "DirectionError",
    "Gradient",
    "Newton",
]


class DirectionError(ArithmeticError):
    """The rule cannot produce a direction here (a singular or indefinite curvature)."""


class Direction:
    """Base rule: ``direction(x, g, objective) -> p``; ``update(s, y)`` after each step."""

    def __call__(self, x: Tensor, g: Tensor, objective: Objective) -> Tensor:
        raise NotImplementedError

    def update(self, s: Tensor, y: Tensor) -> None:
        """Learn from an accepted step (quasi-Newton rules); nothing for the others."""

    def reset(self) -> None:
        """Forget what was learned (a quasi-Newton restart)."""


class Gradient(Direction):
    """Steepest descent: p = −∇f(x)."""

    def __call__(self, x, g, objective):
        return -g


class Newton(Direction):
    """p = −H⁻¹∇f with H the Hessian. Where f is not convex H may have negative eigenvalues and
    the step heads *uphill* (to maxima or saddles); ``fix="abs"`` uses |H| (eigenvalues
    replaced by their absolute values, floored at ``damping``), ``fix="damping"`` H + damping·I.
    A singular H without a fix raises :class:`DirectionError`."""

    def __init__(self, fix: Literal["abs", "damping"] | None = None, damping: float = 1e-3):
        if fix not in (None, "abs", "damping"):
            raise ValueError(f"fix must be None, 'abs' or 'damping', got {fix!r}")
        self.fix, self.damping = fix, damping

    def __call__(self, x, g, objective):
        H = objective.hessian(x)
        if self.fix == "abs":
            eigenvalues, vectors = torch.linalg.eigh((H + H.T) / 2)
            H = vectors @ torch.diag(eigenvalues.abs().clamp_min(self.damping)) @ vectors.T
        elif self.fix == "damping":
            H = H.clone()
            H.diagonal().add_(self.damping)  # H + μI
        if x.dim() == 0:  # 1-D: the book's x − η f'(x)/f''(x), exactly
            if float(H) == 0:
                raise DirectionError(
                    f"f''(x) = 0 at x = {float(x):.6g}; Newton's step is undefined: "
                    "use fix='damping'"
                )
            return -(g / H.reshape(()))
        try:
            return -torch.linalg.solve(H, g.reshape(-1)).reshape(x.shape)
        except torch.linalg.LinAlgError:
            raise DirectionError(
                "the Hessian is singular; use fix='damping' (H + μI) or fix='abs'"
            ) from None


class DiagonalPreconditioner(Direction):
    """p = −∇f / diag(H): each coordinate gets its own step size 1/H_ii, which undoes
    axis-aligned ill-conditioning (on diag(1, 10) it is Newton; after a rotation it is not).
    ``hess_diag`` returns the diagonal (default: read off the full Hessian). A diagonal that
    is not positive raises :class:`DirectionError` unless ``absolute=True``, which divides by
    |H_ii| instead (the cheap Newton-like variant for non-convex f)."""

    def __init__(self, hess_diag: Callable[[Tensor], Tensor] | None = None, absolute: bool = False):
        self.hess_diag, self.absolute = hess_diag, absolute

    def __call__(self, x, g, objective):
        if self.hess_diag is None:
            d = torch.diagonal(objective.hessian(x)).reshape(x.shape)
        else:
            objective.nhev += 1
            d = torch.as_tensor(self.hess_diag(x), dtype=x.dtype, device=x.device)
        if self.absolute:
            d = d.abs()
        if not bool((d > 0).all()):
            raise DirectionError(
                f"the Hessian diagonal {d.tolist()} is not positive; diagonal preconditioning "
                "needs positive curvature (or absolute=True)"
            )
        return -g / d


def _curvature(s: Tensor, y: Tensor) -> float | None:
    """yᵀs when it is safely positive (the curvature condition quasi-Newton updates need),
    else None: the pair is skipped, as after a step the line search could not make Wolfe."""
    ys = float(torch.dot(y.reshape(-1), s.reshape(-1)))
    scale = float(torch.linalg.vector_norm(y)) * float(torch.linalg.vector_norm(s))
    return ys if ys > 1e-10 * scale and ys > 0 else None


class BFGS(Direction):
    """BFGS: p = −B∇f with B the inverse-Hessian estimate, B₀ = I scaled by yᵀs/yᵀy after the
    first step (Nocedal & Wright, eq. 6.20), then for each step with yᵀs > 0

        B ← (I − ρ s yᵀ) B (I − ρ y sᵀ) + ρ s sᵀ,     ρ = 1/(yᵀs).

    B stays positive definite, so p is a descent direction; pair it with a strong-Wolfe step,
    which guarantees yᵀs > 0."""

    def __init__(self) -> None:
        self.B: Tensor | None = None

    def reset(self) -> None:
        self.B = None

    def __call__(self, x, g, objective):
        g = g.reshape(-1)
        p = -g if self.B is None else -(self.B @ g)
        return p.reshape(x.shape)

    def update(self, s, y):
        ys = _curvature(s, y)
        if ys is None:
            return
        s, y = s.reshape(-1), y.reshape(-1)
        n = s.numel()
        if self.B is None:
            self.B = torch.eye(n, dtype=s.dtype, device=s.device) * (ys / float(y @ y))
        rho = 1.0 / ys
        By = self.B @ y
        # (I − ρsyᵀ)B(I − ρysᵀ) + ρssᵀ, expanded: B − ρ(s(By)ᵀ + (By)sᵀ) + (ρ²yᵀBy + ρ)ssᵀ
        self.B = (
            self.B
            - rho * (torch.outer(s, By) + torch.outer(By, s))
            + (rho * rho * float(y @ By) + rho) * torch.outer(s, s)
        )


class LBFGS(Direction):
    """Limited-memory BFGS: B∇f from the last ``history`` pairs (s, y) by the two-loop recursion
    (Nocedal & Wright, Algorithm 7.4), with B₀ = γI, γ = sᵀy/yᵀy of the newest pair. Memory and
    time O(history·n) per step instead of O(n²)."""

    def __init__(self, history: int = 10) -> None:
        if not (isinstance(history, int) and history >= 1):
            raise ValueError(f"history must be a positive int, got {history!r}")
        self.pairs: deque[tuple[Tensor, Tensor, float]] = deque(maxlen=history)

    def reset(self) -> None:
        self.pairs.clear()

    def __call__(self, x, g, objective):
        q = g.reshape(-1).clone()
        alphas = []
        for s, y, rho in reversed(self.pairs):
            a = rho * float(s @ q)
            q -= a * y
            alphas.append(a)
        if self.pairs:
            s, y, _ = self.pairs[-1]
            q *= float(s @ y) / float(y @ y)
        for (s, y, rho), a in zip(self.pairs, reversed(alphas), strict=True):
            b = rho * float(y @ q)
            q += (a - b) * s
        return -q.reshape(x.shape)

    def update(self, s, y):
        ys = _curvature(s, y)
        if ys is not None:
            self.pairs.append((s.reshape(-1).clone(), y.reshape(-1).clone(), 1.0 / ys))
