"""Argument checks shared across trainlab, so the same mistake gets the same message everywhere.

Each check names the argument and the bad value and says what is expected; each returns the
value (converted to the plain Python type where that helps), so call sites read
``eps = check_eps(eps, training)``.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import Any

from torch import Tensor

__all__ = [
    "ShapeMismatchError",
    "check_eps",
    "check_finite_real",
    "check_floating_tensor",
    "check_int",
    "check_nonnegative",
    "check_positive",
    "check_positive_int",
    "check_probability",
]


class ShapeMismatchError(ValueError, RuntimeError):
    """A tensor's size does not fit the layer or the other arguments. It is a ``RuntimeError``,
    the type torch raises for the same mistake (so code that catches torch's error catches
    trainlab's), and a ``ValueError`` as trainlab raised it before."""


def check_finite_real(name: str, value: Any) -> float:
    """A real number (int, float, numpy scalar, 0-d tensor), finite; returned as a float."""
    if isinstance(value, Tensor):
        if value.numel() != 1 or value.is_complex():
            raise TypeError(
                f"{name} must be a real number, got a tensor of shape "
                f"{tuple(value.shape)} and dtype {value.dtype}"
            )
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive(name: str, value: Any, hint: str = "") -> float:
    """A real number > 0 and finite; returned as a float."""
    try:
        number = check_finite_real(name, value)
    except ValueError:
        number = math.nan
    if not number > 0:
        shown = value.item() if isinstance(value, Tensor) else value
        raise ValueError(f"{name} must be a positive finite number, got {shown!r}{hint}")
    return number


def check_nonnegative(name: str, value: Any, hint: str = "") -> float:
    value = check_finite_real(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}{hint}")
    return value


def check_probability(name: str, value: Any, hint: str = "") -> float:
    value = check_finite_real(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must lie in [0, 1], got {value!r}{hint}")
    return value


def check_int(name: str, value: Any, minimum: int | None = None, hint: str = "") -> int:
    """An int (not a bool), at least ``minimum`` when given."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {number}{hint}")
    return number


def check_positive_int(name: str, value: Any, hint: str = "") -> int:
    return check_int(name, value, minimum=1, hint=hint)


def check_floating_tensor(x: Any, where: str, fix: str = "e.g. x.float()") -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{where} expects a torch.Tensor input, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{where} expects a floating-point input, got dtype {x.dtype}; convert it first, {fix}"
        )
    return x


def check_eps(eps: Any, training: bool, where: str = "batch_norm") -> float:
    """ε of a normalization: positive when batch statistics are used (a constant channel has
    σ² = 0); in prediction mode torch accepts ε = 0, and so does trainlab (only a running
    variance of 0 would then divide by zero)."""
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps):
        raise ValueError(
            f"{where} eps must be a finite number, got {eps!r}; the usual value is 1e-5"
        )
    if training and eps <= 0:
        raise ValueError(
            f"{where} eps must be positive during training, got {eps!r}: a channel with a "
            "constant value has variance 0 and would be divided by zero; the usual value is 1e-5"
        )
    if eps < 0:
        raise ValueError(f"{where} eps must be non-negative, got {eps!r}; the usual value is 1e-5")
    return float(eps)
