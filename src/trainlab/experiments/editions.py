"""Where the editions' experiments differ, as data: each reproduction follows one edition's
settings and code (``trainlab reproduce --edition``), read from its sources (see
:mod:`trainlab.experiments.book` for the commits).

What the editions share (the GD/Newton runs, the data preparation, the models' layers) is not
repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trainlab.experiments.catalog import Edition

__all__ = ["EDITION_SETTINGS", "AirfoilRun", "ConvRun", "EditionSettings", "LeNetRun", "SGDRun"]


@dataclass(frozen=True)
class LeNetRun:
    """LeNet-BN on Fashion-MNIST (28×28)."""

    pool: Literal["max", "avg"]
    optimizer: Literal["adam", "sgd"]
    lr: float
    epochs: int
    batch_size: int
    xavier: bool  # the book's Xavier-uniform init of conv/linear weights
    # the scratch BN's moving variance starts at 0 in COURSE and E1 (at 1 in E2/E3 and torch)
    moving_var_start: float = 1.0


@dataclass(frozen=True)
class ConvRun:
    """ResNet-18 or DenseNet on Fashion-MNIST."""

    resize: int
    epochs: int
    optimizer: Literal["adam", "sgd"]
    lr: float
    batch_size: int
    xavier: bool


@dataclass(frozen=True)
class SGDRun:
    """One noisy-gradient SGD simulation on x₁² + 2x₂² from (−5, −2), η₀ = 0.1."""

    name: str  # ledger key part: constant, exponential, polynomial, constant20
    schedule: Literal["constant", "exponential", "polynomial"]
    steps: int


@dataclass(frozen=True)
class AirfoilRun:
    """One linear-regression run on airfoil: the book's ``train_sgd``/``train_concise``."""

    name: str  # ledger key part
    lr: float
    batch_size: int
    epochs: int
    concise: bool = False  # torch.optim.SGD on nn.Linear instead of the scratch update


@dataclass(frozen=True)
class EditionSettings:
    lenet: LeNetRun
    resnet: ConvRun
    densenet: ConvRun
    sgd_noise_mean: float  # COURSE/E1 add np.random.normal(0.1): mean 0.1 (E2/E3: 0)
    sgd_runs: tuple[SGDRun, ...]
    airfoil_runs: tuple[AirfoilRun, ...]
    # COURSE/E1 record the full-data loss every 100 examples within an epoch, plus the start;
    # E2/E3 when the cumulative example count is a multiple of 200, without the start
    airfoil_record: Literal["per_epoch_100", "cumulative_200"]
    concise_init: Literal["default", "normal"]  # nn.Linear's own init, or w ~ N(0, 0.01²)


_COURSE_SGD = (
    SGDRun("constant", "constant", 50),
    SGDRun("exponential", "exponential", 1000),
    SGDRun("polynomial", "polynomial", 50),
)
_E1_AIRFOIL = (
    AirfoilRun("gd", 1.0, 1500, 6),
    AirfoilRun("sgd", 0.005, 1, 2),
    AirfoilRun("minibatch10", 0.05, 10, 2),
    AirfoilRun("concise", 0.05, 10, 2, concise=True),
)
_E2_AIRFOIL = (
    AirfoilRun("gd", 1.0, 1500, 10),
    AirfoilRun("sgd", 0.005, 1, 2),
    AirfoilRun("minibatch100", 0.4, 100, 2),
    AirfoilRun("minibatch10", 0.05, 10, 2),
    AirfoilRun("concise", 0.01, 10, 4, concise=True),  # the PyTorch tab's train_concise_ch11
)

EDITION_SETTINGS: dict[Edition, EditionSettings] = {
    "course": EditionSettings(
        LeNetRun("max", "adam", 1e-3, 5, 256, False, 0.0),
        ConvRun(28, 5, "adam", 1e-3, 256, False),  # as the notebook's stored code reads
        ConvRun(96, 5, "adam", 1e-3, 256, False),
        0.1,
        _COURSE_SGD,
        _E1_AIRFOIL,
        "per_epoch_100",
        "default",
    ),
    "e1": EditionSettings(
        LeNetRun("max", "adam", 1e-3, 5, 256, False, 0.0),
        ConvRun(96, 5, "adam", 1e-3, 256, False),
        ConvRun(96, 5, "adam", 1e-3, 256, False),
        0.1,
        (SGDRun("constant20", "constant", 20),),
        _E1_AIRFOIL,
        "per_epoch_100",
        "default",
    ),
    "e2": EditionSettings(
        LeNetRun("avg", "sgd", 1.0, 10, 256, True),
        ConvRun(96, 10, "sgd", 0.05, 256, True),
        ConvRun(96, 10, "sgd", 0.1, 256, True),
        0.0,
        _COURSE_SGD,
        _E2_AIRFOIL,
        "cumulative_200",
        "normal",
    ),
    "e3": EditionSettings(
        LeNetRun("avg", "sgd", 0.1, 10, 128, True),
        ConvRun(96, 10, "sgd", 0.01, 128, True),
        ConvRun(96, 10, "sgd", 0.01, 128, False),  # E3's init call runs on lazy layers: a no-op
        0.0,
        _COURSE_SGD,
        _E2_AIRFOIL,
        "cumulative_200",
        "normal",
    ),
}
