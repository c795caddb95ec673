"""The result of a minimizer: the answer and how it was reached, in the spirit of scipy's
``OptimizeResult``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from torch import Tensor

__all__ = ["OptimizeResult", "Status"]

Status = Literal["converged", "max_steps", "diverged", "failed"]
"""converged: the stopping test passed and f(x) ≤ f(x₀); max_steps: ran out of steps ("no
convergence"); diverged: f, ∇f or x became non-finite, grew past a stated factor of their start,
or f kept rising above f(x₀); failed: the method broke down (a singular Hessian, a line search
that found no acceptable step)."""


@dataclass
class OptimizeResult:
    """``x`` and ``fun`` = f(x) at the end; ``status`` and a human ``message``; ``nit`` steps;
    ``nfev``/``njev``/``nhev`` the evaluations of f, ∇f and ∇²f it took.

    The trajectory holds every iterate x_0 ... x_nit (empty when the caller asked not to keep
    it), and ``values``/``grad_norms``/``step_sizes`` the matching f(x_k), ‖∇f(x_k)‖ and η_k.
    """

    x: Tensor
    fun: float
    status: Status
    message: str
    nit: int
    trajectory: list[Tensor] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    grad_norms: list[float] = field(default_factory=list)
    step_sizes: list[float] = field(default_factory=list)
    nfev: int = 0
    njev: int = 0
    nhev: int = 0

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"
