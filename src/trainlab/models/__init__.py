"""The unit's models: LeNet(-BN), ResNet (torchvision-compatible and the book's), DenseNet."""

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
)
from trainlab.models.summary import LayerSummary, format_summary, summarize

__all__ = [
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
    "lenet",
    "preact_resnet18",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "summarize",
    "transition_block",
]
