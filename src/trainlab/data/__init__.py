"""Data sets of the unit, read from local files and verified."""

from trainlab.data.airfoil import RegressionData, load_airfoil

__all__ = ["RegressionData", "load_airfoil"]
