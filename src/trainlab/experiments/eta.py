"""How long a reproduction will take on this machine, predicted before it starts.

Processors of one kind of machine differ most in their convolutions (the book's ResNet-18
trains ~6× slower on a 2-core Zen 3 than on a 2-core Zen 5, while LeNet and the pure-Python
experiments differ far less), so one speed factor cannot predict every section. Each section's
time on the reference machine (:data:`REFERENCE`, measured by ``benchmarks/reproduce.py``) is
split into three kinds of work, and each part is scaled by how this machine runs a short
calibration of the same kind (:func:`calibrate`, a few seconds):

* ``conv`` — training a network with wide convolutions (ResNet, DenseNet);
* ``small`` — training a small network (LeNet), where per-call overheads weigh more;
* ``other`` — everything else: closed forms, simulations, small solvers, the figures.

The prediction is only as good as that split: ``benchmarks/reproduce.py`` prints it beside the
measured time of every section.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import torch
from torch import nn

__all__ = ["KINDS", "REFERENCE", "REFERENCE_MACHINE", "calibrate", "kind_of", "predict"]

KINDS = ("conv", "small", "other")

# Measured with `python benchmarks/reproduce.py --profile P` on a quiet machine (load < 0.5);
# the quick profile's split from the run of commit bd974d0 (its sections took 192 s there).
REFERENCE_MACHINE = "AMD EPYC family 25 model 17 (Zen 4), 2 cores, 2 torch threads, torch 2.13.0"
# seconds of one calibration unit on the reference machine (see _CALIBRATIONS)
REFERENCE_UNIT = {"conv": 0.1996, "small": 0.0190, "other": 0.0634}
# profile → section → kind → seconds on the reference machine
REFERENCE: dict[str, dict[str, dict[str, float]]] = {
    "quick": {
        "batchnorm": {"conv": 0.0, "small": 69.94, "other": 1.52},
        "resnet": {"conv": 74.27, "small": 0.0, "other": 15.52},
        "convexity": {"conv": 0.0, "small": 0.0, "other": 1.16},
        "gradient_descent": {"conv": 0.0, "small": 0.0, "other": 4.22},
        "sgd": {"conv": 0.0, "small": 0.0, "other": 1.27},
        "minibatch_sgd": {"conv": 0.0, "small": 0.0, "other": 24.26},
    },
}


def kind_of(model: nn.Module) -> str:
    """ "conv" for a network whose widest convolution has at least 32 output channels (its
    time is oneDNN's convolutions), else "small"."""
    widest = max((m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)), default=0)
    return "conv" if widest >= 32 else "small"


def _training_step(model: nn.Module, batch: int) -> Callable[[], None]:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (batch,), generator=gen)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()

    return step


def _conv() -> Callable[[], None]:
    from trainlab.models import book_resnet18

    torch.manual_seed(0)
    return _training_step(book_resnet18(), 64)


def _small() -> Callable[[], None]:
    from trainlab.models import lenet

    torch.manual_seed(0)
    return _training_step(lenet(), 256)


def _other() -> Callable[[], None]:
    from trainlab.optim.descent import gd

    start = torch.tensor([-5.0, -2.0], dtype=torch.float64)
    return lambda: gd(lambda x: x[0] ** 2 + 2 * x[1] ** 2, start, 0.05, steps=200)


# kind → (builder of one unit of work, warm-up calls, timed calls)
_CALIBRATIONS: dict[str, tuple[Callable[[], Callable[[], None]], int, int]] = {
    "conv": (_conv, 1, 3),
    "small": (_small, 2, 6),
    "other": (_other, 1, 5),
}


def calibrate() -> dict[str, float]:
    """Seconds per calibration unit of each kind on this machine (the fastest timed call, the
    least disturbed by anything else running); about 1 s here, 5 s where convolutions are
    slow."""
    unit = {}
    for kind, (build, warmup, timed) in _CALIBRATIONS.items():
        work = build()
        for _ in range(warmup):
            work()
        samples = []
        for _ in range(timed):
            start = time.perf_counter()
            work()
            samples.append(time.perf_counter() - start)
        unit[kind] = min(samples)
    return unit


def predict(profile: str, sections: Iterable[str], unit: dict[str, float]) -> dict[str, float]:
    """Predicted seconds of each section on a machine whose calibration gave ``unit``."""
    reference = REFERENCE.get(profile, {})
    out = {}
    for section in sections:
        parts = reference.get(section, {})
        out[section] = sum(
            seconds * unit[kind] / REFERENCE_UNIT[kind]
            for kind, seconds in parts.items()
            if REFERENCE_UNIT[kind] > 0
        )
    return out
