"""Residual blocks: the book's ``Residual``, and torchvision-compatible ``BasicBlock``,
``Bottleneck`` and the pre-activation ``PreActBlock``.

A residual block learns f(x) − x instead of f(x): its output is ReLU(F(x) + shortcut(x)), where
the shortcut is the identity, or a 1×1 convolution with the block's stride when the number of
channels or the spatial size changes. Because the identity is the default, adding blocks can
only add functions to what the network can express, and gradients reach early layers through
the shortcuts.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from trainlab.nn.batchnorm import BatchNorm2d

__all__ = ["BasicBlock", "Bottleneck", "NormLayer", "PreActBlock", "Residual", "resnet_block"]

NormLayer = Callable[[int], nn.Module]
"""Builds a normalization layer for a number of channels, e.g. ``BatchNorm2d`` or
``lambda c: nn.GroupNorm(32, c)``."""


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    """3×3 convolution with padding 1: keeps the spatial size at stride 1, halves it at stride 2."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=bias)


def conv1x1(in_channels: int, out_channels: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias)


class Residual(nn.Module):
    """The book's residual block: conv3×3(stride) → BN → ReLU → conv3×3 → BN, plus the input
    (through a 1×1 conv with the same stride when ``use_1x1conv``), then ReLU.

    As in the book the convolutions keep their bias and the 1×1 shortcut has no BN.
    ``Residual(3, 3)`` maps (4, 3, 6, 6) to (4, 3, 6, 6);
    ``Residual(3, 6, use_1x1conv=True, stride=2)`` maps it to (4, 6, 3, 3).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        use_1x1conv: bool = False,
        stride: int = 1,
        norm_layer: NormLayer = BatchNorm2d,
    ) -> None:
        super().__init__()
        if not use_1x1conv and (in_channels != out_channels or stride != 1):
            raise ValueError(
                f"Residual({in_channels}, {out_channels}, stride={stride}) changes the shape, so "
                "the input cannot be added as it is: pass use_1x1conv=True"
            )
        self.conv1 = conv3x3(in_channels, out_channels, stride, bias=True)
        self.conv2 = conv3x3(out_channels, out_channels, bias=True)
        self.conv3 = conv1x1(in_channels, out_channels, stride, bias=True) if use_1x1conv else None
        self.bn1 = norm_layer(out_channels)
        self.bn2 = norm_layer(out_channels)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.conv3 is not None:
            x = self.conv3(x)
        return torch.relu(y + x)


def resnet_block(
    in_channels: int,
    out_channels: int,
    num_residuals: int,
    first_block: bool = False,
    norm_layer: NormLayer = BatchNorm2d,
) -> nn.Sequential:
    """The book's ResNet stage: ``num_residuals`` blocks; unless it is the first stage, the first
    block doubles the channels and halves height and width (1×1 shortcut, stride 2)."""
    if first_block and in_channels != out_channels:
        raise ValueError(
            f"the first stage keeps the channel count, got {in_channels} -> {out_channels}"
        )
    blocks = []
    for i in range(num_residuals):
        if i == 0 and not first_block:
            blocks.append(
                Residual(in_channels, out_channels, True, stride=2, norm_layer=norm_layer)
            )
        else:
            blocks.append(Residual(out_channels, out_channels, norm_layer=norm_layer))
    return nn.Sequential(*blocks)


def _downsample(in_channels: int, out_channels: int, stride: int, norm_layer: NormLayer):
    """torchvision's projection shortcut (``downsample``): 1×1 conv with the stride, then norm;
    None when the input can be added as it is."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), norm_layer(out_channels))


class BasicBlock(nn.Module):
    """ResNet-18/34 block (torchvision layout): conv3×3 → norm → ReLU → conv3×3 → norm, plus the
    shortcut, then ReLU. Convolutions have no bias (the norm's β takes its place)."""

    expansion = 1

    def __init__(
        self, in_channels: int, channels: int, stride: int = 1, norm_layer: NormLayer = BatchNorm2d
    ) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn1 = norm_layer(channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(channels, out_channels)
        self.bn2 = norm_layer(out_channels)
        self.downsample = _downsample(in_channels, out_channels, stride, norm_layer)

    def last_norm(self) -> nn.Module:
        """The norm whose γ ``zero_init_residual`` zeroes, making the block an identity."""
        return self.bn2

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + shortcut)


class Bottleneck(nn.Module):
    """ResNet-50/101/152 block (torchvision layout, "ResNet v1.5"): 1×1 reduce → 3×3 (carrying
    the stride) → 1×1 expand ×4, each followed by norm, ReLU after the first two and after the
    sum with the shortcut."""

    expansion = 4

    def __init__(
        self, in_channels: int, channels: int, stride: int = 1, norm_layer: NormLayer = BatchNorm2d
    ) -> None:
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = conv1x1(in_channels, channels)
        self.bn1 = norm_layer(channels)
        self.conv2 = conv3x3(channels, channels, stride)
        self.bn2 = norm_layer(channels)
        self.conv3 = conv1x1(channels, out_channels)
        self.bn3 = norm_layer(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = _downsample(in_channels, out_channels, stride, norm_layer)

    def last_norm(self) -> nn.Module:
        return self.bn3

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + shortcut)


class PreActBlock(nn.Module):
    """Pre-activation basic block (He et al. 2016, "Identity Mappings in Deep Residual Networks"):
    norm → ReLU → conv3×3 → norm → ReLU → conv3×3, plus the shortcut, with nothing after the sum,
    so the identity path from block to block is clean. The projection shortcut is a bare 1×1
    conv applied to the pre-activated input."""

    expansion = 1

    def __init__(
        self, in_channels: int, channels: int, stride: int = 1, norm_layer: NormLayer = BatchNorm2d
    ) -> None:
        super().__init__()
        self.bn1 = norm_layer(in_channels)
        self.conv1 = conv3x3(in_channels, channels, stride)
        self.bn2 = norm_layer(channels)
        self.conv2 = conv3x3(channels, channels)
        self.relu = nn.ReLU()
        needs_projection = stride != 1 or in_channels != channels
        self.downsample = conv1x1(in_channels, channels, stride) if needs_projection else None

    def last_norm(self) -> nn.Module:
        return self.bn2

    def forward(self, x: Tensor) -> Tensor:
        activated = self.relu(self.bn1(x))
        shortcut = x if self.downsample is None else self.downsample(activated)
        y = self.conv1(activated)
        y = self.conv2(self.relu(self.bn2(y)))
        return y + shortcut
