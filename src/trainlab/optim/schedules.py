"""Learning-rate schedules: pure functions of the step t (an int ≥ 0) that return a learning rate.

Each builder below returns a small callable object, ``schedule(t) -> float``, with no state: the
same t always gives the same rate, so a schedule can be evaluated anywhere (plotted, tested,
resumed) without replaying a training run. Its repr is the call that builds it, e.g.
``exponential(lr0=1.0, rate=0.1)``.

The book's schedules (the gradient-descent unit's SGD section):

* piecewise constant -- :func:`piecewise_constant`;
* exponential η_t = η₀·e^(−λt) -- :func:`exponential`; the book's λ = 0.1 decays so fast that SGD
  stalls early (:func:`book_exponential`);
* polynomial η_t = η₀·(βt + 1)^(−α) -- :func:`polynomial`; the book's α = 0.5, β = 0.1 keeps
  converging (:func:`book_polynomial`).

Convention: t counts the steps taken before this one, so the first step uses schedule(0). The
book's code starts its counter at 1 and increments it *before* computing the rate, so its step k
(k = 1, 2, …) uses t = k + 1: call a schedule with t = 2, 3, … to get the book's sequence (see
:func:`book_exponential`).

:class:`ScheduledLR` lets any schedule drive a ``torch.optim`` optimizer as an LR scheduler.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch.optim.lr_scheduler import LRScheduler

__all__ = [
    "Schedule",
    "ScheduledLR",
    "book_exponential",
    "book_polynomial",
    "constant",
    "cosine",
    "exponential",
    "join",
    "linear_warmup",
    "piecewise_constant",
    "polynomial",
]


class Schedule:
    """Base of the schedules built here: ``schedule(t)`` checks that t is an int ≥ 0 and returns
    the learning rate at step t as a float. Subclasses are frozen dataclasses whose fields are the
    builder's arguments, so the repr reads as the call that built the schedule."""

    builder: str  # the name of the function that builds it, for the repr

    def __call__(self, step: int) -> float:
        return self.at(_check_step(step))

    def at(self, t: int) -> float:
        """The learning rate at step t (already checked)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"{self.builder}({args})"


@dataclass(frozen=True, repr=False)
class _Constant(Schedule):
    builder = "constant"
    lr: float

    def at(self, t: int) -> float:
        return self.lr


@dataclass(frozen=True, repr=False)
class _PiecewiseConstant(Schedule):
    builder = "piecewise_constant"
    boundaries: tuple[int, ...]
    values: tuple[float, ...]

    def at(self, t: int) -> float:
        # values[i] for boundaries[i-1] ≤ t < boundaries[i]: i = how many boundaries are ≤ t
        return self.values[bisect.bisect_right(self.boundaries, t)]


@dataclass(frozen=True, repr=False)
class _Exponential(Schedule):
    builder = "exponential"
    lr0: float
    rate: float

    def at(self, t: int) -> float:
        return self.lr0 * math.exp(-self.rate * t)  # η₀·e^(−λt)


@dataclass(frozen=True, repr=False)
class _Polynomial(Schedule):
    builder = "polynomial"
    lr0: float
    alpha: float
    beta: float

    def at(self, t: int) -> float:
        return self.lr0 * (self.beta * t + 1) ** (-self.alpha)  # η₀·(βt + 1)^(−α)


@dataclass(frozen=True, repr=False)
class _Cosine(Schedule):
    builder = "cosine"
    lr0: float
    total_steps: int
    final_lr: float

    def at(self, t: int) -> float:
        if t >= self.total_steps:
            return self.final_lr
        # η_T + (η₀ − η_T)·(1 + cos(πt/T))/2, the closed form of torch's CosineAnnealingLR
        cos = math.cos(math.pi * t / self.total_steps)
        return self.final_lr + (self.lr0 - self.final_lr) * (1 + cos) / 2


@dataclass(frozen=True, repr=False)
class _LinearWarmup(Schedule):
    builder = "linear_warmup"
    schedule: Callable[[int], float]
    warmup_steps: int
    start_lr: float

    def at(self, t: int) -> float:
        if t >= self.warmup_steps:
            return float(self.schedule(t))
        target = float(self.schedule(self.warmup_steps))
        return self.start_lr + (target - self.start_lr) * t / self.warmup_steps


@dataclass(frozen=True, repr=False)
class _Join(Schedule):
    builder = "join"
    schedules: tuple[Callable[[int], float], ...]
    boundaries: tuple[int, ...]

    def at(self, t: int) -> float:
        i = bisect.bisect_right(self.boundaries, t)  # schedules[i] runs from boundaries[i-1] on
        start = self.boundaries[i - 1] if i > 0 else 0
        return float(self.schedules[i](t - start))


def constant(lr: float) -> Schedule:
    """η_t = lr for every t."""
    return _Constant(_check_rate("lr", lr))


def piecewise_constant(boundaries: Sequence[int], values: Sequence[float]) -> Schedule:
    """η_t = values[i] for boundaries[i−1] ≤ t < boundaries[i] (boundaries[−1] = 0,
    boundaries[n] = ∞): values[0] before the first boundary, values[-1] from the last one on.

    ``piecewise_constant([100, 200], [0.1, 0.01, 0.001])`` is 0.1 for t < 100, 0.01 for
    100 ≤ t < 200 and 0.001 after. Boundaries are positive ints in increasing order; there is
    one more value than boundaries.
    """
    bounds = _check_boundaries(boundaries)
    values = tuple(values)
    if len(values) != len(bounds) + 1:
        raise ValueError(
            f"piecewise_constant needs one more value than boundaries (a value before the first "
            f"boundary and one after each), got {len(bounds)} boundaries and {len(values)} values"
        )
    return _PiecewiseConstant(
        bounds, tuple(_check_rate(f"values[{i}]", v) for i, v in enumerate(values))
    )


def exponential(lr0: float, rate: float) -> Schedule:
    """η_t = η₀·e^(−λt) with η₀ = ``lr0`` and λ = ``rate`` ≥ 0: η shrinks by e^(−λ) every step."""
    return _Exponential(_check_rate("lr0", lr0), _check_nonnegative("rate", rate))


def polynomial(lr0: float, alpha: float, beta: float) -> Schedule:
    """η_t = η₀·(βt + 1)^(−α): for α = 0.5 the rate decays like 1/√t, which the convergence
    theory of SGD on convex problems asks for."""
    return _Polynomial(
        _check_rate("lr0", lr0),
        _check_nonnegative("alpha", alpha),
        _check_nonnegative("beta", beta),
    )


def cosine(lr0: float, total_steps: int, final_lr: float = 0.0) -> Schedule:
    """η_t = η_T + (η₀ − η_T)·(1 + cos(πt/T))/2 for t ≤ T = ``total_steps``, then η_T = ``final_lr``
    (clamped: the rate stays at final_lr after the last step instead of rising again)."""
    total = _check_int("total_steps", total_steps, minimum=1)
    return _Cosine(_check_rate("lr0", lr0), total, _check_rate("final_lr", final_lr))


def linear_warmup(
    schedule: Callable[[int], float], warmup_steps: int, start_lr: float = 0.0
) -> Schedule:
    """Rise linearly from ``start_lr`` at t = 0 to ``schedule(warmup_steps)`` at t = warmup_steps,
    then follow ``schedule(t)`` (on the same step count: the warm-up replaces the first
    warmup_steps steps of the schedule rather than delaying it)::

        η_t = start_lr + (schedule(W) − start_lr)·t/W   for t < W,   schedule(t) after.
    """
    return _LinearWarmup(
        _check_callable("schedule", schedule),
        _check_int("warmup_steps", warmup_steps, minimum=0),
        _check_rate("start_lr", start_lr),
    )


def join(schedules: Sequence[Callable[[int], float]], boundaries: Sequence[int]) -> Schedule:
    """Run ``schedules[0]`` until ``boundaries[0]``, then ``schedules[1]`` until ``boundaries[1]``,
    and so on; each schedule counts its own steps from 0 (as optax's ``join_schedules``)::

        η_t = schedules[i](t − boundaries[i−1])   for boundaries[i−1] ≤ t < boundaries[i].

    ``join([constant(0.1), cosine(0.1, 900)], [100])`` holds 0.1 for 100 steps, then decays.
    """
    bounds = _check_boundaries(boundaries)
    scheds = tuple(_check_callable(f"schedules[{i}]", s) for i, s in enumerate(schedules))
    if len(scheds) != len(bounds) + 1:
        raise ValueError(
            f"join needs one more schedule than boundaries, got {len(bounds)} boundaries and "
            f"{len(scheds)} schedules"
        )
    return _Join(scheds, bounds)


def book_exponential() -> Schedule:
    """The book's exponential schedule, η_t = e^(−0.1·t) = ``exponential(1.0, 0.1)``.

    The book's code starts its counter at t = 1 and advances it before computing the rate
    (``t += 1; return math.exp(-0.1 * t)``), so its first step uses t = 2. To reproduce its
    rates, call this schedule with t = 2, 3, …: ``[book_exponential()(t) for t in range(2,
    steps + 2)]``.
    """
    return exponential(1.0, 0.1)


def book_polynomial() -> Schedule:
    """The book's polynomial schedule, η_t = (0.1·t + 1)^(−0.5) = ``polynomial(1.0, 0.5, 0.1)``.

    As for :func:`book_exponential`, the book's counter starts at 1 and is incremented before
    use, so its first step uses t = 2: call this schedule with t = 2, 3, … to reproduce the book.
    """
    return polynomial(1.0, 0.5, 0.1)


class ScheduledLR(LRScheduler):
    """A torch LR scheduler that sets every param group's lr to ``schedule(t)``, t = the number
    of ``scheduler.step()`` calls so far.

    Construction sets lr = schedule(0), the rate of the first optimizer step; call
    ``scheduler.step()`` after each ``optimizer.step()`` as with any torch scheduler. The
    optimizer's own lr is replaced, not scaled (unlike ``LambdaLR``, whose function returns a
    factor).

    ``state_dict()`` holds the step count and last rates, not the schedule: the schedule is code.
    To resume, build ``ScheduledLR(optimizer, schedule)`` with the same schedule, then load the
    optimizer's state dict and this one's (torch's order for every scheduler: construction sets
    the lr to schedule(0), the optimizer's state dict restores the current one).
    """

    def __init__(self, optimizer: torch.optim.Optimizer, schedule: Callable[[int], float]) -> None:
        self.schedule = _check_callable("schedule", schedule)
        super().__init__(optimizer)

    def get_lr(self) -> list[float]:
        lr = float(self.schedule(self.last_epoch))
        if not (lr >= 0 and math.isfinite(lr)):
            raise ValueError(
                f"the schedule {self.schedule!r} gave lr = {lr!r} at step {self.last_epoch}; a "
                "learning rate must be a finite number >= 0 (check the schedule's parameters)"
            )
        return [lr] * len(self.optimizer.param_groups)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        del state["schedule"]
        return state


# --------------------------------------------------------------------------------------------
# Argument checks: each names the bad value and says what is expected.
# --------------------------------------------------------------------------------------------


def _check_step(step: Any) -> int:
    try:
        if isinstance(step, bool):
            raise TypeError
        t = operator.index(step)
    except TypeError:
        raise TypeError(
            f"a schedule takes the step as an int >= 0, got {step!r} ({type(step).__name__})"
        ) from None
    if t < 0:
        raise ValueError(f"step must be >= 0, got {t}; schedules count steps from 0")
    return t


def _check_real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


def _check_rate(name: str, value: Any) -> float:
    value = _check_real(name, value)
    if value < 0:
        raise ValueError(f"{name}={value!r} is negative; a learning rate must be >= 0")
    return value


def _check_nonnegative(name: str, value: Any) -> float:
    value = _check_real(name, value)
    if value < 0:
        raise ValueError(f"{name}={value!r} is negative; it must be >= 0 for the rate to decay")
    return value


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_boundaries(boundaries: Sequence[int]) -> tuple[int, ...]:
    bounds = tuple(_check_int(f"boundaries[{i}]", b, minimum=1) for i, b in enumerate(boundaries))
    if any(a >= b for a, b in itertools.pairwise(bounds)):
        raise ValueError(
            f"boundaries must be strictly increasing, got {list(bounds)}; "
            f"sort them (sorted: {sorted(set(bounds))}) and drop repeats"
        )
    return bounds


def _check_callable(name: str, value: Any) -> Callable[[int], float]:
    if not callable(value):
        raise TypeError(f"{name} must be a schedule, a callable step -> lr, got {value!r}")
    return value
