"""A function to minimize, with counted evaluations of f, ∇f and ∇²f.

Gradients and Hessians come from autograd (``torch.func``) unless the caller passes them, e.g.
the book's hand-written ``f_grad``. Every evaluation is counted, so a result can say what it
cost (``nfev``, ``njev``, ``nhev``), and checked, so a wrong f fails with a message instead of a
NaN later.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor

__all__ = ["Function", "Objective", "as_start"]

Function = Callable[[Tensor], Tensor]


def as_start(x0: float | Tensor, dtype: torch.dtype | None = None) -> Tensor:
    """x0 as a new floating-point tensor: a Python number becomes float64 (the precision the
    book's Python floats have), a floating tensor keeps its dtype, an integer tensor becomes
    float64; ``dtype`` overrides. Non-finite entries are refused."""
    # Python numbers and sequences become float64, the precision of the book's floats
    x = x0.detach().clone() if isinstance(x0, Tensor) else torch.as_tensor(x0, dtype=torch.float64)
    if dtype is not None:
        x = x.to(dtype)
    elif not x.is_floating_point():
        x = x.to(torch.float64)
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"x0 must be finite, got {x.tolist()}")
    return x


def _scalar(value: object) -> float:
    if not isinstance(value, Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(
            f"f must return a scalar (0-d tensor), got {shape}; reduce it, e.g. with .sum()"
        )
    return float(value)


class Objective:
    """f with its derivatives: ``value``, ``gradient``, ``value_and_gradient`` (one autograd
    pass for both) and ``hessian`` (an (n, n) matrix), each counted."""

    def __init__(self, f: Function, grad: Function | None = None, hess: Function | None = None):
        self.f, self._grad, self._hess = f, grad, hess
        self.nfev = self.njev = self.nhev = 0

    def value(self, x: Tensor) -> float:
        self.nfev += 1
        return _scalar(self.f(x))

    def gradient(self, x: Tensor) -> Tensor:
        self.njev += 1
        if self._grad is None:
            return torch.func.grad(self.f)(x)
        # a caller's gradient may return Python floats (e.g. written with ``math``)
        return torch.as_tensor(self._grad(x), dtype=x.dtype, device=x.device)

    def value_and_gradient(self, x: Tensor) -> tuple[float, Tensor]:
        if self._grad is not None:
            return self.value(x), self.gradient(x)
        self.nfev += 1
        self.njev += 1
        try:
            g, value = torch.func.grad_and_value(self.f)(x)
        except RuntimeError:
            _scalar(self.f(x))  # a non-scalar f gets trainlab's message; anything else re-raises
            raise
        return _scalar(value), g

    def hessian(self, x: Tensor) -> Tensor:
        self.nhev += 1
        n = max(x.numel(), 1)
        if self._hess is None:
            return torch.func.hessian(self.f)(x).reshape(n, n)
        return torch.as_tensor(self._hess(x), dtype=x.dtype, device=x.device).reshape(n, n)

    def check_connected(self, x: Tensor, value: float, g: Tensor) -> None:
        """Refuse a gradient that is exactly zero while f changes around x: the graph from x to
        f is cut (``.item()``, ``float()``, ``.detach()`` inside f), so autograd sees a constant.

        Central differences along a fixed direction, at steps h and h/10, estimate the slope
        autograd should have seen. Where f really is stationary they are O(h²) and shrink 100×
        with h; where the graph is cut they stay put."""
        if bool(g.any()):
            return
        h = 1e-3 * max(1.0, float(x.abs().max()) if x.numel() else 1.0)
        e = torch.ones_like(x) / math.sqrt(max(x.numel(), 1))

        def slope(step: float) -> float:
            self.nfev += 2
            return (_scalar(self.f(x + step * e)) - _scalar(self.f(x - step * e))) / (2 * step)

        wide, narrow = slope(h), slope(h / 10)
        if abs(narrow) > 1e-8 * (1 + abs(value)) and abs(narrow) > 0.5 * abs(wide):
            raise ValueError(
                f"∇f(x0) is exactly 0, yet f changes around x0 (slope ≈ {narrow:.3g} along "
                "(1, …, 1)): the gradient does not reach x. f must be written with torch "
                "operations on x — no .item(), float(), .detach() or NumPy inside it"
            )
