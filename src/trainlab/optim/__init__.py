"""Optimization: minimizers for torch functions and optimizers for models."""

from trainlab.optim.descent import gd, newton, preconditioned_gd, train_2d
from trainlab.optim.directions import BFGS, LBFGS, DiagonalPreconditioner, Gradient, Newton
from trainlab.optim.linesearch import (
    Backtracking,
    Bisection,
    Constant,
    Exact,
    StrongWolfe,
    backtracking,
    line_search_gd,
    more_thuente,
    strong_wolfe,
)
from trainlab.optim.minimize import minimize
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
    "BFGS",
    "LBFGS",
    "SGD",
    "Backtracking",
    "Bisection",
    "Constant",
    "DiagonalPreconditioner",
    "Exact",
    "Gradient",
    "Newton",
    "OptimizeResult",
    "ScheduledLR",
    "StrongWolfe",
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
    "minimize",
    "more_thuente",
    "newton",
    "piecewise_constant",
    "polynomial",
    "preconditioned_gd",
    "strong_wolfe",
    "train_2d",
]
