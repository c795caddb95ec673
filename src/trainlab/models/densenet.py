"""DenseNet: the book's model and a torchvision-compatible ``densenet121``.

Where a residual block adds its input to its output, a dense block concatenates them: each
convolution sees the outputs of all the ones before it, so a block with ``num_convs`` convolutions
of ``growth_rate`` channels turns C channels into C + num_convs·growth_rate. Transition layers
(1×1 conv to fewer channels, 2×2 average pooling) keep the width in check between blocks.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from trainlab.nn.batchnorm import BatchNorm2d
from trainlab.nn.residual import NormLayer

__all__ = [
    "DenseBlock",
    "DenseNet",
    "book_densenet",
    "conv_block",
    "densenet121",
    "densenet169",
    "densenet201",
    "transition_block",
]


def conv_block(
    in_channels: int, out_channels: int, norm_layer: NormLayer = BatchNorm2d
) -> nn.Sequential:
    """The book's pre-activation unit: BN → ReLU → conv 3×3 (padding 1)."""
    return nn.Sequential(
        norm_layer(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
    )


class DenseBlock(nn.Module):
    """The book's dense block: ``num_convs`` conv blocks, each output concatenated onto its input.
    ``DenseBlock(2, 3, 10)`` maps (4, 3, 8, 8) to (4, 23, 8, 8):

    >>> DenseBlock(2, 3, 10)(torch.zeros(4, 3, 8, 8)).shape
    torch.Size([4, 23, 8, 8])
    """

    def __init__(
        self,
        num_convs: int,
        in_channels: int,
        out_channels: int,
        norm_layer: NormLayer = BatchNorm2d,
    ) -> None:
        super().__init__()
        self.net = nn.ModuleList(
            conv_block(in_channels + i * out_channels, out_channels, norm_layer)
            for i in range(num_convs)
        )
        self.out_channels = in_channels + num_convs * out_channels

    def forward(self, x: Tensor) -> Tensor:
        for blk in self.net:
            x = torch.cat((x, blk(x)), dim=1)  # (N, C + growth, H, W)
        return x


def transition_block(
    in_channels: int, out_channels: int, norm_layer: NormLayer = BatchNorm2d
) -> nn.Sequential:
    """The book's transition: BN → ReLU → conv 1×1 → average pool 2/2.
    ``transition_block(23, 10)`` maps (4, 23, 8, 8) to (4, 10, 4, 4):

    >>> transition_block(23, 10)(torch.zeros(4, 23, 8, 8)).shape
    torch.Size([4, 10, 4, 4])
    """
    return nn.Sequential(
        norm_layer(in_channels),
        nn.ReLU(),
        nn.Conv2d(in_channels, out_channels, kernel_size=1),
        nn.AvgPool2d(kernel_size=2, stride=2),
    )


def book_densenet(
    in_channels: int = 1,
    num_classes: int = 10,
    growth_rate: int = 32,
    num_convs_in_dense_blocks: tuple[int, ...] = (4, 4, 4, 4),
    norm_layer: NormLayer = BatchNorm2d,
) -> nn.Sequential:
    """The book's DenseNet: ResNet's stem (conv 7×7/2, 64 channels → BN → ReLU → max-pool 3/2),
    four dense blocks of 4 convs with growth 32, transitions that halve the channels, then
    BN → ReLU → global average pooling → linear. At 96×96 the channels run
    64 → 192 → 96 → 224 → 112 → 240 → 120 → 248 and the maps 48 → 24 → 12 → 6 → 3:

    >>> from trainlab.models import summarize
    >>> rows = summarize(book_densenet(), (1, 1, 96, 96))
    >>> [r.output_shape[1] for r in rows[3:11]]
    [64, 192, 96, 224, 112, 240, 120, 248]
    >>> [r.output_shape[2] for r in (rows[0], *rows[3:11:2])]
    [48, 24, 12, 6, 3]
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),
        norm_layer(64),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    channels = 64
    for i, num_convs in enumerate(num_convs_in_dense_blocks):
        block = DenseBlock(num_convs, channels, growth_rate, norm_layer)
        net.add_module(f"DenseBlock_{i}", block)
        channels = block.out_channels
        if i != len(num_convs_in_dense_blocks) - 1:
            net.add_module(
                f"transition_block_{i}", transition_block(channels, channels // 2, norm_layer)
            )
            channels //= 2
    net.add_module("BN", norm_layer(channels))
    net.add_module("relu", nn.ReLU())
    net.add_module("global_avg_pool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("fc", nn.Sequential(nn.Flatten(), nn.Linear(channels, num_classes)))
    return net


class _DenseLayer(nn.Module):
    """torchvision's bottleneck dense layer: BN → ReLU → 1×1 conv (bn_size·growth) → BN → ReLU →
    3×3 conv (growth), on the concatenation of every earlier feature map."""

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int, norm_layer: NormLayer):
        super().__init__()
        width = bn_size * growth_rate
        self.norm1 = norm_layer(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, width, kernel_size=1, bias=False)
        self.norm2 = norm_layer(width)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, features: list[Tensor]) -> Tensor:
        x = torch.cat(features, dim=1)
        x = self.conv1(self.relu1(self.norm1(x)))
        return self.conv2(self.relu2(self.norm2(x)))


class _DenseBlock(nn.ModuleDict):
    def __init__(self, num_layers, in_channels, growth_rate, bn_size, norm_layer):
        super().__init__()
        for i in range(num_layers):
            layer = _DenseLayer(in_channels + i * growth_rate, growth_rate, bn_size, norm_layer)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, dim=1)


class _Transition(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, norm_layer: NormLayer):
        super().__init__()
        self.norm = norm_layer(in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """DenseNet-BC (Huang et al. 2017) with torchvision's layout and state-dict keys
    (``features.conv0``, ``features.denseblock1.denselayer1.norm1``, ``features.transition1``,
    ``features.norm5``, ``classifier``)."""

    def __init__(
        self,
        growth_rate: int = 32,
        block_config: tuple[int, ...] = (6, 12, 24, 16),
        num_init_features: int = 64,
        bn_size: int = 4,
        num_classes: int = 1000,
        in_channels: int = 3,
        norm_layer: NormLayer = BatchNorm2d,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential()
        self.features.add_module(
            "conv0", nn.Conv2d(in_channels, num_init_features, 7, stride=2, padding=3, bias=False)
        )
        self.features.add_module("norm0", norm_layer(num_init_features))
        self.features.add_module("relu0", nn.ReLU(inplace=True))
        self.features.add_module("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
        channels = num_init_features
        for i, num_layers in enumerate(block_config):
            block = _DenseBlock(num_layers, channels, growth_rate, bn_size, norm_layer)
            self.features.add_module(f"denseblock{i + 1}", block)
            channels += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(
                    f"transition{i + 1}", _Transition(channels, channels // 2, norm_layer)
                )
                channels //= 2
        self.features.add_module("norm5", norm_layer(channels))
        self.classifier = nn.Linear(channels, num_classes)
        for m in self.modules():  # torchvision's initialization
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(self.features(x))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def densenet121(**kwargs) -> DenseNet:
    """DenseNet-121: growth 32, blocks (6, 12, 24, 16); 7,978,856 parameters at 1000 classes."""
    return DenseNet(32, (6, 12, 24, 16), 64, **kwargs)


def densenet169(**kwargs) -> DenseNet:
    """DenseNet-169: growth 32, blocks (6, 12, 32, 32); 14,149,480 parameters at 1000 classes."""
    return DenseNet(32, (6, 12, 32, 32), 64, **kwargs)


def densenet201(**kwargs) -> DenseNet:
    """DenseNet-201: growth 32, blocks (6, 12, 48, 32); 20,013,928 parameters at 1000 classes."""
    return DenseNet(32, (6, 12, 48, 32), 64, **kwargs)
