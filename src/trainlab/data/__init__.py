"""Data sets of the unit, read from local files (or downloaded) and verified."""

from trainlab.data.airfoil import RegressionData, load_airfoil
from trainlab.data.fashion_mnist import ImageData, load_fashion_mnist, subset
from trainlab.data.locate import DataUnavailable

__all__ = [
    "DataUnavailable",
    "ImageData",
    "RegressionData",
    "load_airfoil",
    "load_fashion_mnist",
    "subset",
]
