"""trainlab: batch normalization, residual networks, convex optimization and gradient descent,
from the textbook formulas to fast, tested PyTorch code."""

__version__ = "0.1.0"
