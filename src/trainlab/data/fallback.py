"""Stand-in data for machines without the unit's data sets and without network, shipped with
the package so a default install works offline (no optional dependency needed).

Two small real data sets, stored as NumPy archives in ``trainlab/data/fallback/``:

* ``digits.npz``: the 1,797 8×8 handwritten digits (16 grey levels) of the UCI "Optical
  Recognition of Handwritten Digits" data (Alpaydin & Kaynak 1998, CC BY 4.0), as scikit-learn
  bundles them; the stand-in for Fashion-MNIST.
* ``diabetes.npz``: the 442 patients × 10 features and disease progression of Efron, Hastie,
  Johnstone & Tibshirani (2004), "Least Angle Regression"; the stand-in for airfoil.

Results computed on them are flagged (``fallback=True``) everywhere they appear, and never
compared with the book's numbers.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import torch
from torch import Tensor

__all__ = ["diabetes_table", "digits_arrays"]


def _archive(name: str):
    with resources.files("trainlab.data").joinpath("fallback", name).open("rb") as file:
        return dict(np.load(file))


def digits_arrays() -> tuple[Tensor, Tensor]:
    """(images (1797, 8, 8) uint8 with values 0..16, labels (1797,) int64)."""
    archive = _archive("digits.npz")
    return torch.from_numpy(archive["images"]), torch.from_numpy(archive["labels"]).long()


def diabetes_table() -> Tensor:
    """(442, 11) float64: the 10 features, then the target."""
    archive = _archive("diabetes.npz")
    return torch.cat(
        [torch.from_numpy(archive["features"]), torch.from_numpy(archive["target"]).unsqueeze(1)],
        dim=1,
    )
