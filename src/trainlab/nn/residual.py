"""Residual blocks: the book's ``Residual`` and ``ResNeXtBlock``, and torchvision-compatible
``BasicBlock``, ``Bottleneck`` (which with ``groups``/``base_width`` is also the ResNeXt and wide
ResNet block) and the pre-activation ``PreActBlock``.

A residual block learns f(x) − x instead of f(x): its output is ReLU(F(x) + shortcut(x)), where
the shortcut is the identity, or a 1×1 convolution with the block's stride when the number of
channels or the spatial size changes. Because the identity is the default, adding blocks can
only add functions to what the network can express, and gradients reach early layers through
the shortcuts.

ResNeXt (Xie et al. 2017) replaces the bottleneck's 3×3 convolution by a grouped one: its b input
channels are split into g groups of b/g, each convolved to b/g outputs on its own, which costs
k²·b²/g parameters and multiply-adds per position instead of k²·b² (see
``trainlab.models.cost.grouped_conv_cost``); the 1×1 convolutions around it mix the groups.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from trainlab.nn.batchnorm import BatchNorm2d

__all__ = [
    "BasicBlock",
    "Bottleneck",
    "NormLayer",
    "PreActBlock",
    "ResNeXtBlock",
    "Residual",
    "resnet_block",
]

NormLayer = Callable[[int], nn.Module]
"""Builds a normalization layer for a number of channels, e.g. ``BatchNorm2d`` or
``lambda c: nn.GroupNorm(32, c)``."""


def conv3x3(
    in_channels: int, out_channels: int, stride: int = 1, bias: bool = False, groups: int = 1
) -> nn.Conv2d:
    """3×3 convolution with padding 1: keeps the spatial size at stride 1, halves it at stride 2.
    With ``groups`` = g its weight is (out_channels, in_channels/g, 3, 3)."""
    return nn.Conv2d(
        in_channels, out_channels, 3, stride=stride, padding=1, bias=bias, groups=groups
    )


def conv1x1(in_channels: int, out_channels: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=bias)


class Residual(nn.Module):
    """The book's residual block: conv3×3(stride) → BN → ReLU → conv3×3 → BN, plus the input
    (through a 1×1 conv with the same stride when ``use_1x1conv``), then ReLU.

    As in the book the convolutions keep their bias and the 1×1 shortcut has no BN.
    ``Residual(3, 3)`` maps (4, 3, 6, 6) to (4, 3, 6, 6);
    ``Residual(3, 6, use_1x1conv=True, stride=2)`` maps it to (4, 6, 3, 3):

    >>> import torch
    >>> x = torch.randn(4, 3, 6, 6)
    >>> Residual(3, 3)(x).shape, Residual(3, 6, use_1x1conv=True, stride=2)(x).shape
    (torch.Size([4, 3, 6, 6]), torch.Size([4, 6, 3, 3]))
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


def _bottleneck_channels(num_channels: int, bot_mul: float) -> int:
    """The book's b = int(round(num_channels·bot_mul)), refused when it is below one."""
    bot_channels = round(num_channels * bot_mul)
    if bot_channels < 1:
        raise ValueError(
            f"bot_channels = int(round({num_channels}·{bot_mul})) = {bot_channels}: "
            "raise num_channels or bot_mul so the bottleneck has at least one channel"
        )
    return bot_channels


class ResNeXtBlock(nn.Module):
    """The book's ResNeXt block (d2l §8.6.5): with b = int(round(num_channels·bot_mul)),

        y = ReLU(bn3(conv1×1_{b→c}(ReLU(bn2(gconv3×3_{b→b, g groups, stride}(ReLU(bn1(
            conv1×1_{cᵢ→b}(x))))))) + shortcut(x)),

    where shortcut(x) = bn4(conv1×1_{cᵢ→c, stride}(x)) when ``use_1x1conv`` and x otherwise.
    The 3×3 convolution has weight (b, b/g, 3, 3): g independent groups of b/g channels, costing
    O(b²/g) instead of O(b²); the 1×1 convolutions cost O(cᵢ·b + b·c) and mix the groups.
    As in the book the convolutions keep their bias.

    Args:
        num_channels: output channels c.
        groups: the number of groups g of the 3×3 convolution; must divide b.
        bot_mul: bottleneck multiplier, b = int(round(num_channels·bot_mul)).
        use_1x1conv: project the shortcut (1×1 conv with the stride, then norm), needed when the
            stride or the channel count changes.
        strides: stride of the 3×3 and the shortcut convolutions.
        norm_layer: builds the normalization layers.
        in_channels: input channels cᵢ (the book's lazy convolutions infer them); defaults to
            ``num_channels``.

    Erratum in the book: its code passes ``groups=bot_channels//groups`` to the 3×3
    convolution, so its ``groups`` argument is really the width of a group (channels per
    group), not the number of groups g that the prose describes. The printed check
    ``ResNeXtBlock(32, 16, 1)`` on (4, 32, 96, 96) → (4, 32, 96, 96) therefore builds a 3×3
    convolution with 32 // 16 = 2 groups of 16 channels. Here ``groups`` is g, so
    ``ResNeXtBlock(32, 16, 1)`` has 16 groups of 2 channels (same shapes, 1/8 of the 3×3
    weights); ``ResNeXtBlock.as_printed(32, 16, 1)`` builds the book's exact layer, which is
    ``ResNeXtBlock(32, 2, 1)``:

    >>> import torch
    >>> ResNeXtBlock(32, 16, 1)(torch.zeros(4, 32, 96, 96)).shape
    torch.Size([4, 32, 96, 96])
    >>> ResNeXtBlock(32, 16, 1).conv2.weight.shape, ResNeXtBlock.as_printed(32, 16, 1).conv2.groups
    (torch.Size([32, 2, 3, 3]), 2)
    """

    def __init__(
        self,
        num_channels: int,
        groups: int,
        bot_mul: float,
        use_1x1conv: bool = False,
        strides: int = 1,
        norm_layer: NormLayer = BatchNorm2d,
        *,
        in_channels: int | None = None,
    ) -> None:
        super().__init__()
        in_channels = num_channels if in_channels is None else in_channels
        bot_channels = _bottleneck_channels(num_channels, bot_mul)
        if groups < 1 or bot_channels % groups != 0:
            raise ValueError(
                f"groups={groups} must be a positive divisor of bot_channels = "
                f"int(round({num_channels}·{bot_mul})) = {bot_channels}"
            )
        if not use_1x1conv and (in_channels != num_channels or strides != 1):
            raise ValueError(
                f"ResNeXtBlock({in_channels} -> {num_channels}, strides={strides}) changes the "
                "shape, so the input cannot be added as it is: pass use_1x1conv=True"
            )
        self.conv1 = conv1x1(in_channels, bot_channels, bias=True)
        self.conv2 = conv3x3(bot_channels, bot_channels, strides, bias=True, groups=groups)
        self.conv3 = conv1x1(bot_channels, num_channels, bias=True)
        self.bn1 = norm_layer(bot_channels)
        self.bn2 = norm_layer(bot_channels)
        self.bn3 = norm_layer(num_channels)
        if use_1x1conv:
            self.conv4 = conv1x1(in_channels, num_channels, strides, bias=True)
            self.bn4 = norm_layer(num_channels)
        else:
            self.conv4 = self.bn4 = None

    @classmethod
    def as_printed(
        cls,
        num_channels: int,
        groups: int,
        bot_mul: float,
        use_1x1conv: bool = False,
        strides: int = 1,
        norm_layer: NormLayer = BatchNorm2d,
        *,
        in_channels: int | None = None,
    ) -> ResNeXtBlock:
        """The block exactly as the book's code builds it: ``groups`` is read as the book's code
        reads it, the width of a group, so the 3×3 convolution gets
        g = int(round(num_channels·bot_mul)) // groups groups.
        ``ResNeXtBlock.as_printed(32, 16, 1)`` is ``ResNeXtBlock(32, 2, 1)``."""
        bot_channels = _bottleneck_channels(num_channels, bot_mul)
        num_groups = bot_channels // groups if groups >= 1 else 0
        if num_groups < 1 or bot_channels % num_groups != 0:
            raise ValueError(
                f"the book's code gives the 3×3 convolution bot_channels // groups = "
                f"{bot_channels} // {groups} groups, which must be a positive divisor of "
                f"bot_channels = {bot_channels}: pass a group width that divides {bot_channels}"
            )
        return cls(
            num_channels,
            num_groups,
            bot_mul,
            use_1x1conv,
            strides,
            norm_layer,
            in_channels=in_channels,
        )

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        if self.conv4 is not None:
            x = self.bn4(self.conv4(x))
        return torch.relu(y + x)


def _require_plain_width(block: str, groups: int, base_width: int) -> None:
    """Basic blocks have no bottleneck to widen or split: refuse ResNeXt/wide settings."""
    if groups != 1 or base_width != 64:
        raise ValueError(
            f"{block} supports only groups=1 and base_width=64, got groups={groups}, "
            f"base_width={base_width}: use Bottleneck for ResNeXt and wide ResNets"
        )


def _downsample(in_channels: int, out_channels: int, stride: int, norm_layer: NormLayer):
    """torchvision's projection shortcut (``downsample``): 1×1 conv with the stride, then norm;
    None when the input can be added as it is."""
    if stride == 1 and in_channels == out_channels:
        return None
    return nn.Sequential(conv1x1(in_channels, out_channels, stride), norm_layer(out_channels))


class BasicBlock(nn.Module):
    """ResNet-18/34 block (torchvision layout): conv3×3 → norm → ReLU → conv3×3 → norm, plus the
    shortcut, then ReLU. Convolutions have no bias (the norm's β takes its place).
    ``groups`` and ``base_width`` exist for a common signature with ``Bottleneck`` and must stay
    1 and 64, as in torchvision."""

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        norm_layer: NormLayer = BatchNorm2d,
        *,
        groups: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        _require_plain_width(type(self).__name__, groups, base_width)
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
    """ResNet-50/101/152, ResNeXt and wide ResNet block (torchvision layout, "ResNet v1.5"):
    1×1 reduce to ``width`` → 3×3 with ``groups`` groups (carrying the stride) → 1×1 expand to
    4·channels, each followed by norm, ReLU after the first two and after the sum with the
    shortcut, where

        width = int(channels·base_width/64)·groups.

    ResNet-50 has groups = 1, base_width = 64 (width = channels); ResNeXt-50 32×4d has 32 groups
    of base_width = 4 (layer1: width = 1·32·4 = 128, 3×3 weight (128, 4, 3, 3)); wide
    ResNet-50-2 has groups = 1, base_width = 128 (width = 2·channels, weight (128, 128, 3, 3)).
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        norm_layer: NormLayer = BatchNorm2d,
        *,
        groups: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        if groups < 1 or base_width < 1:
            raise ValueError(
                f"groups and base_width must be positive, got groups={groups}, "
                f"base_width={base_width}"
            )
        width = channels * base_width // 64 * groups
        if width < 1:
            raise ValueError(
                f"width = int({channels}·{base_width}/64)·{groups} = 0: raise base_width to at "
                f"least {-(-64 // channels)}"
            )
        out_channels = channels * self.expansion
        self.conv1 = conv1x1(in_channels, width)
        self.bn1 = norm_layer(width)
        self.conv2 = conv3x3(width, width, stride, groups=groups)
        self.bn2 = norm_layer(width)
        self.conv3 = conv1x1(width, out_channels)
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
    conv applied to the pre-activated input. Like ``BasicBlock`` it refuses groups ≠ 1 and
    base_width ≠ 64."""

    expansion = 1

    def __init__(
        self,
        in_channels: int,
        channels: int,
        stride: int = 1,
        norm_layer: NormLayer = BatchNorm2d,
        *,
        groups: int = 1,
        base_width: int = 64,
    ) -> None:
        super().__init__()
        _require_plain_width(type(self).__name__, groups, base_width)
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
