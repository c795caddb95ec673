"""The result of a minimizer: the answer and how it was reached, in the spirit of scipy's
``OptimizeResult``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from torch import Tensor

__all__ = ["OptimizeResult", "Status"]

Status = Literal["converged", "max_steps", "diverged", "failed"]
"""converged: the stopping test passed; max_steps: ran out of steps ("no convergence");
diverged: values blew up or kept rising above f(x0); failed: the method broke down (a singular
Hessian, a line search that found no step)."""


@dataclass
class OptimizeResult:
    """``x`` and ``fun`` = f(x) at the end; ``status`` and a human ``message``; ``nit`` steps.

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

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"
