"""The unit's models: LeNet(-BN), ResNet, ResNeXt and wide ResNet (torchvision-compatible and
the book's), DenseNet, and the cost of a grouped convolution."""

from trainlab.models.cost import ConvCost, grouped_conv_cost
from trainlab.models.densenet import (
    DenseBlock,
    DenseNet,
    book_densenet,
    conv_block,
    densenet121,
    densenet169,
    densenet201,
    transition_block,
)
from trainlab.models.lenet import lenet
from trainlab.models.resnet import (
    ResNet,
    book_resnet18,
    preact_resnet18,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    resnext50_32x4d,
    resnext101_32x8d,
    resnext101_64x4d,
    wide_resnet50_2,
    wide_resnet101_2,
)
from trainlab.models.summary import LayerSummary, format_summary, summarize

__all__ = [
    "ConvCost",
    "DenseBlock",
    "DenseNet",
    "LayerSummary",
    "ResNet",
    "book_densenet",
    "book_resnet18",
    "conv_block",
    "densenet121",
    "densenet169",
    "densenet201",
    "format_summary",
    "grouped_conv_cost",
    "lenet",
    "preact_resnet18",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "resnext50_32x4d",
    "resnext101_32x8d",
    "resnext101_64x4d",
    "summarize",
    "transition_block",
    "wide_resnet50_2",
    "wide_resnet101_2",
]
