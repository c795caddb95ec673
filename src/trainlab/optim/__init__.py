"""Optimization: minimizers for torch functions and optimizers for models."""

from trainlab.optim.result import OptimizeResult

__all__ = ["OptimizeResult"]
