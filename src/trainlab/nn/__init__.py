"""Layers: batch normalization and its variants."""

from trainlab.nn.batchnorm import BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d

__all__ = ["BatchNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]
