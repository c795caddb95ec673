"""Optimization: minimizers for torch functions and optimizers for models."""

from trainlab.optim.descent import gd, newton, preconditioned_gd, train_2d
from trainlab.optim.linesearch import backtracking, line_search_gd, strong_wolfe
from trainlab.optim.result import OptimizeResult
from trainlab.optim.schedules import (
    ScheduledLR,
    book_exponential,
    book_polynomial,
    constant,
    cosine,
    exponential,
    join,
    linear_warmup,
    piecewise_constant,
    polynomial,
)
from trainlab.optim.sgd import SGD

__all__ = [
    "SGD",
    "OptimizeResult",
    "ScheduledLR",
    "backtracking",
    "book_exponential",
    "book_polynomial",
    "constant",
    "cosine",
    "exponential",
    "gd",
    "join",
    "line_search_gd",
    "linear_warmup",
    "newton",
    "piecewise_constant",
    "polynomial",
    "preconditioned_gd",
    "strong_wolfe",
    "train_2d",
]
