"""The names the command line offers — profiles, editions, sections — with no heavy import, so
``trainlab --help`` answers at once.

Editions (whose settings and code an experiment follows):

* ``course`` — the 2020 course notebooks of this unit (CRuJia/Dive_into_Deep_Learning, Task06:
  notebooks 16–18), the seed's source; the default.
* ``e1`` — the 1st Chinese edition as its PyTorch port runs it (ShusenTang/Dive-into-DL-PyTorch,
  "E1-PT"); the MXNet original prints no outputs, and its LeNet-BN differs (SGD 1.0, Xavier).
* ``e2`` — the 2nd Chinese edition (d2l-zh), PyTorch tab.
* ``e3`` — the current English edition (d2l-en), PyTorch tab.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["DEFAULT_EDITION", "EDITIONS", "LANGUAGES", "PROFILES", "SECTIONS", "Edition", "Profile"]

Profile = Literal["smoke", "quick", "book"]
PROFILES: tuple[Profile, ...] = ("smoke", "quick", "book")

Edition = Literal["course", "e1", "e2", "e3"]
EDITIONS: tuple[Edition, ...] = ("course", "e1", "e2", "e3")
DEFAULT_EDITION: Edition = "course"

LANGUAGES = ("en", "zh")

# key: (English title, Chinese title), in the unit's order
SECTIONS: dict[str, tuple[str, str]] = {
    "batchnorm": ("Batch normalization", "批量归一化"),
    "resnet": ("Residual networks, ResNeXt and DenseNet", "残差网络、ResNeXt 与稠密连接网络"),
    "convexity": ("Optimization and convexity", "优化与凸性"),
    "gradient_descent": ("Gradient descent", "梯度下降"),
    "sgd": ("Stochastic gradient descent", "随机梯度下降"),
    "minibatch_sgd": ("Minibatch stochastic gradient descent", "小批量随机梯度下降"),
}
