"""LeNet-5 for 28×28 images, with or without batch normalization (the book's §5.10 model)."""

from __future__ import annotations

from typing import Literal

from torch import nn

from trainlab.nn.batchnorm import BatchNorm1d, BatchNorm2d

__all__ = ["lenet"]

Norm = Literal["trainlab", "torch", "none"]

_NORMS = {
    "trainlab": (BatchNorm1d, BatchNorm2d),
    "torch": (nn.BatchNorm1d, nn.BatchNorm2d),
}
_ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU}
_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


def lenet(
    norm: Norm = "trainlab",
    pool: Literal["max", "avg"] = "max",
    activation: Literal["sigmoid", "relu"] = "sigmoid",
    in_channels: int = 1,
    num_classes: int = 10,
) -> nn.Sequential:
    """LeNet with batch normalization between each affine map and its activation:

    conv(1→6, 5) → BN → σ → pool 2 → conv(6→16, 5) → BN → σ → pool 2 → flatten (16·4·4 = 256)
    → linear 120 → BN → σ → linear 84 → BN → σ → linear 10, for 28×28 input.

    ``norm="trainlab"`` is the book's "scratch" version (its own BN), ``"torch"`` the "concise"
    one (``torch.nn.BatchNorm*``), ``"none"`` the original LeNet. The book uses max pooling in its
    first editions and the course, average pooling in the second edition.
    """
    if activation not in _ACTIVATIONS or pool not in _POOLS:
        raise ValueError(
            f"got activation={activation!r}, pool={pool!r}; activation must be one of "
            f"{sorted(_ACTIVATIONS)} and pool one of {sorted(_POOLS)}"
        )
    act, pool_layer = _ACTIVATIONS[activation], _POOLS[pool]
    if norm == "none":
        bn1d = bn2d = None
    elif norm in _NORMS:
        bn1d, bn2d = _NORMS[norm]
    else:
        raise ValueError(f"norm must be 'trainlab', 'torch' or 'none', got {norm!r}")

    def block(affine: nn.Module, channels: int, bn) -> list[nn.Module]:
        return [affine, *([bn(channels)] if bn is not None else []), act()]

    return nn.Sequential(
        *block(nn.Conv2d(in_channels, 6, kernel_size=5), 6, bn2d),
        pool_layer(kernel_size=2, stride=2),
        *block(nn.Conv2d(6, 16, kernel_size=5), 16, bn2d),
        pool_layer(kernel_size=2, stride=2),
        nn.Flatten(),
        *block(nn.Linear(16 * 4 * 4, 120), 120, bn1d),
        *block(nn.Linear(120, 84), 84, bn1d),
        nn.Linear(84, num_classes),
    )
