"""ResNet, ResNeXt and wide ResNet: torchvision-compatible builders and the book's ResNet-18.

``resnet18/34/50/101/152``, ``resnext50_32x4d``, ``resnext101_32x8d``, ``resnext101_64x4d``,
``wide_resnet50_2`` and ``wide_resnet101_2`` have torchvision's layout and state-dict keys
(``conv1``, ``bn1``, ``layer1.0.conv1``, ``layer2.0.downsample.0``, ``fc``, ...), so a torchvision
checkpoint loads with ``load_state_dict(strict=True)`` and parameter counts equal torchvision's.
ResNeXt "32×4d" means 32 groups of base width 4 in every 3×3 convolution; wide ResNet "-2" means
a bottleneck twice as wide (base width 128); both are ``Bottleneck`` with ``groups`` and
``width_per_group``.
``book_resnet18`` is the textbook's network for Fashion-MNIST, built from the book's
``Residual``/``resnet_block``.
"""

from __future__ import annotations

from torch import Tensor, nn

from trainlab.nn.batchnorm import BatchNorm2d
from trainlab.nn.residual import BasicBlock, Bottleneck, NormLayer, PreActBlock, resnet_block

__all__ = [
    "ResNet",
    "book_resnet18",
    "preact_resnet18",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "wide_resnet50_2",
    "wide_resnet101_2",
]

Block = type[BasicBlock] | type[Bottleneck] | type[PreActBlock]


class ResNet(nn.Module):
    """ResNet: stem, four stages of residual blocks (64, 128, 256, 512 channels × expansion; every
    stage after the first halves height and width), global average pooling, linear classifier.

    Args:
        block: ``BasicBlock``, ``Bottleneck`` or ``PreActBlock``.
        layers: blocks per stage, e.g. (2, 2, 2, 2) for ResNet-18.
        num_classes, in_channels: classifier outputs and input channels.
        small_input: for 28×28 or 32×32 images, a 3×3 stride-1 stem without max-pooling instead of
            ImageNet's 7×7 stride-2 conv and 3×3 stride-2 max-pool (which leave 7×7 maps at 224²
            but 1×1 maps at 28²).
        zero_init_residual: set γ = 0 in each block's last norm, so every block starts as the
            identity (Goyal et al. 2017); helps large-batch training.
        norm_layer: builds the normalization layers (trainlab's BatchNorm2d by default; any
            ``channels -> Module``: torch's BatchNorm2d, GroupNorm, GhostBatchNorm, ...).
        groups, width_per_group: passed to every block as ``groups`` and ``base_width``; a
            ``Bottleneck`` stage of c channels then has 3×3 convolutions of
            int(c·width_per_group/64)·groups channels in ``groups`` groups (32, 4 for ResNeXt-50
            32×4d; 1, 128 for wide ResNet-50-2). Basic blocks accept only 1 and 64.
    """

    def __init__(
        self,
        block: Block,
        layers: tuple[int, int, int, int] | list[int],
        num_classes: int = 1000,
        in_channels: int = 3,
        small_input: bool = False,
        zero_init_residual: bool = False,
        norm_layer: NormLayer = BatchNorm2d,
        groups: int = 1,
        width_per_group: int = 64,
    ) -> None:
        super().__init__()
        if len(layers) != 4 or any(n < 1 for n in layers):
            raise ValueError(f"layers must be four positive block counts, got {layers!r}")
        self.in_planes = 64
        self.groups = groups
        self.base_width = width_per_group
        if small_input:
            self.conv1 = nn.Conv2d(in_channels, 64, 3, padding=1, bias=False)
            self.maxpool = nn.Identity()
        else:
            self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.bn1 = norm_layer(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self._make_layer(block, 64, layers[0], 1, norm_layer)
        self.layer2 = self._make_layer(block, 128, layers[1], 2, norm_layer)
        self.layer3 = self._make_layer(block, 256, layers[2], 2, norm_layer)
        self.layer4 = self._make_layer(block, 512, layers[3], 2, norm_layer)
        # Pre-activation blocks end on a conv: one more norm + ReLU before pooling.
        self.final_norm = norm_layer(512 * block.expansion) if block is PreActBlock else None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)
        self._init_weights(zero_init_residual)

    def _make_layer(self, block: Block, channels: int, blocks: int, stride: int, norm_layer):
        layers = []
        for i in range(blocks):
            layers.append(
                block(
                    self.in_planes,
                    channels,
                    stride if i == 0 else 1,
                    norm_layer,
                    groups=self.groups,
                    base_width=self.base_width,
                )
            )
            self.in_planes = channels * block.expansion
        return nn.Sequential(*layers)

    def _init_weights(self, zero_init_residual: bool) -> None:
        # torchvision's initialization: He (fan-out) for convs, γ = 1 and β = 0 for norms.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif getattr(m, "weight", None) is not None and not isinstance(m, nn.Linear):
                nn.init.ones_(m.weight)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, (BasicBlock, Bottleneck, PreActBlock)):
                    norm = m.last_norm()
                    if getattr(norm, "weight", None) is None:
                        raise ValueError(
                            f"zero_init_residual needs a norm layer with a weight, got {norm!r}"
                        )
                    nn.init.zeros_(norm.weight)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        if self.final_norm is not None:
            x = self.relu(self.final_norm(x))
        return self.fc(self.avgpool(x).flatten(1))


def resnet18(**kwargs) -> ResNet:
    """ResNet-18: BasicBlock, (2, 2, 2, 2). 11,689,512 parameters at 3 channels, 1000 classes:

    >>> sum(p.numel() for p in resnet18().parameters())
    11689512
    """
    return ResNet(BasicBlock, (2, 2, 2, 2), **kwargs)


def resnet34(**kwargs) -> ResNet:
    """ResNet-34: BasicBlock, (3, 4, 6, 3). 21,797,672 parameters at 3 channels, 1000 classes:

    >>> sum(p.numel() for p in resnet34().parameters())
    21797672
    """
    return ResNet(BasicBlock, (3, 4, 6, 3), **kwargs)


def resnet50(**kwargs) -> ResNet:
    """ResNet-50: Bottleneck, (3, 4, 6, 3). 25,557,032 parameters at 3 channels, 1000 classes:

    >>> sum(p.numel() for p in resnet50().parameters())
    25557032
    """
    return ResNet(Bottleneck, (3, 4, 6, 3), **kwargs)


def resnet101(**kwargs) -> ResNet:
    """ResNet-101: Bottleneck, (3, 4, 23, 3). 44,549,160 parameters at 3 channels, 1000 classes:

    >>> sum(p.numel() for p in resnet101().parameters())
    44549160
    """
    return ResNet(Bottleneck, (3, 4, 23, 3), **kwargs)


def resnet152(**kwargs) -> ResNet:
    """ResNet-152: Bottleneck, (3, 8, 36, 3). 60,192,808 parameters at 3 channels, 1000 classes:

    >>> sum(p.numel() for p in resnet152().parameters())
    60192808
    """
    return ResNet(Bottleneck, (3, 8, 36, 3), **kwargs)


def resnext50_32x4d(**kwargs) -> ResNet:
    """ResNeXt-50 32×4d: Bottleneck, (3, 4, 6, 3), 32 groups of width 4. 25,028,904 parameters at
    3 channels, 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), groups=32, width_per_group=4, **kwargs)


def resnext101_32x8d(**kwargs) -> ResNet:
    """ResNeXt-101 32×8d: Bottleneck, (3, 4, 23, 3), 32 groups of width 8. 88,791,336 parameters
    at 3 channels, 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 23, 3), groups=32, width_per_group=8, **kwargs)


def resnext101_64x4d(**kwargs) -> ResNet:
    """ResNeXt-101 64×4d: Bottleneck, (3, 4, 23, 3), 64 groups of width 4. 83,455,272 parameters
    at 3 channels, 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 23, 3), groups=64, width_per_group=4, **kwargs)


def wide_resnet50_2(**kwargs) -> ResNet:
    """Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide (width_per_group = 128; the
    outputs keep 4·channels). 68,883,240 parameters at 3 channels, 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 6, 3), width_per_group=128, **kwargs)


def wide_resnet101_2(**kwargs) -> ResNet:
    """Wide ResNet-101-2: ResNet-101 with bottlenecks twice as wide (width_per_group = 128).
    126,886,696 parameters at 3 channels, 1000 classes."""
    return ResNet(Bottleneck, (3, 4, 23, 3), width_per_group=128, **kwargs)


def preact_resnet18(**kwargs) -> ResNet:
    """Pre-activation ResNet-18 (He et al. 2016): PreActBlock, (2, 2, 2, 2)."""
    return ResNet(PreActBlock, (2, 2, 2, 2), **kwargs)


def book_resnet18(
    in_channels: int = 1, num_classes: int = 10, norm_layer: NormLayer = BatchNorm2d
) -> nn.Sequential:
    """The book's ResNet-18 for Fashion-MNIST, exactly: stem conv 7×7/2 (64 channels, padding 3)
    → BN → ReLU → max-pool 3×3/2 (padding 1); four ``resnet_block`` stages of two ``Residual``
    blocks (64, 128, 256, 512 channels); global average pooling; linear 512 → 10.

    Convolutions keep their bias and the 1×1 shortcuts have no BN, as in the book: 11,178,378
    parameters with 1 input channel and 10 classes. Module names follow the book
    (``resnet_block1`` ... ``resnet_block4``, ``global_avg_pool``, ``fc``).

    >>> import torch
    >>> net = book_resnet18()
    >>> sum(p.numel() for p in net.parameters())
    11178378
    >>> net(torch.zeros(2, 1, 96, 96)).shape
    torch.Size([2, 10])
    """
    net = nn.Sequential(
        nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3),
        norm_layer(64),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
    )
    net.add_module("resnet_block1", resnet_block(64, 64, 2, True, norm_layer))
    net.add_module("resnet_block2", resnet_block(64, 128, 2, norm_layer=norm_layer))
    net.add_module("resnet_block3", resnet_block(128, 256, 2, norm_layer=norm_layer))
    net.add_module("resnet_block4", resnet_block(256, 512, 2, norm_layer=norm_layer))
    net.add_module("global_avg_pool", nn.AdaptiveAvgPool2d((1, 1)))
    net.add_module("fc", nn.Sequential(nn.Flatten(), nn.Linear(512, num_classes)))
    return net
