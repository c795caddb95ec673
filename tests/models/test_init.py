"""Initialization as torchvision's: He-normal convolutions (fan-out for ResNet, fan-in for
DenseNet), γ = 1 and β = 0 in the norms, a zero classifier bias for DenseNet."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from trainlab.models import resnet18
from trainlab.models.densenet import DenseNet


def _he_std(fan: int) -> float:
    return math.sqrt(2.0 / fan)  # gain √2 (ReLU), std = gain/√fan


def _fans(conv: nn.Conv2d) -> tuple[int, int]:
    receptive = conv.kernel_size[0] * conv.kernel_size[1]
    return conv.in_channels // conv.groups * receptive, conv.out_channels * receptive


def test_resnet_convolutions_are_he_normal_with_fan_out():
    model = resnet18(num_classes=10)
    convs = [model.conv1, model.layer2[0].conv1, model.layer2[0].downsample[0]]
    for conv in convs:
        fan_in, fan_out = _fans(conv)
        assert fan_in != fan_out  # the two modes give different scales here
        w = conv.weight.detach()
        assert float(w.mean()) == pytest.approx(0.0, abs=0.1 * _he_std(fan_out))
        assert float(w.std()) == pytest.approx(_he_std(fan_out), rel=0.05)


def test_resnet_norms_start_as_identity_and_the_classifier_keeps_torchs_init():
    model = resnet18(num_classes=10)
    norms = [m for m in model.modules() if isinstance(m, nn.Module) and hasattr(m, "running_var")]
    assert norms and all(torch.equal(m.weight, torch.ones_like(m.weight)) for m in norms)
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in norms)
    bound = 1 / math.sqrt(model.fc.in_features)  # nn.Linear's default U(−1/√fan_in, 1/√fan_in)
    assert float(model.fc.weight.detach().abs().max()) <= bound


def test_densenet_convolutions_are_he_normal_with_fan_in_and_the_bias_is_zero():
    model = DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, num_classes=5)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    stem = model.features.conv0
    for conv in [stem, *convs[1:3]]:
        fan_in, _ = _fans(conv)
        assert float(conv.weight.detach().std()) == pytest.approx(_he_std(fan_in), rel=0.1)
    # torch's default (Kaiming-uniform with a = √5) would be √6 times narrower
    assert float(stem.weight.detach().std()) > 2 * math.sqrt(1 / (3 * _fans(stem)[0]))
    assert torch.equal(model.classifier.bias, torch.zeros(5))


class _OffsetNorm(nn.BatchNorm2d):
    """A norm layer whose own initialization is not γ = 1, β = 0."""

    def reset_parameters(self) -> None:
        super().reset_parameters()
        nn.init.constant_(self.weight, 0.5)
        nn.init.constant_(self.bias, 0.3)


class _WeightOnlyNorm(nn.Module):
    """A norm layer with a scale and no ``bias`` attribute at all."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,), 2.0))

    def forward(self, x):
        return x * self.weight.view(1, -1, 1, 1)


def test_resnet_resets_any_norm_layer_to_gamma_1_and_beta_0():
    model = resnet18(num_classes=10, small_input=True, norm_layer=_OffsetNorm)
    norms = [m for m in model.modules() if isinstance(m, _OffsetNorm)]
    assert all(torch.equal(m.weight, torch.ones_like(m.weight)) for m in norms)
    assert all(torch.equal(m.bias, torch.zeros_like(m.bias)) for m in norms)
    model = resnet18(num_classes=10, small_input=True, norm_layer=_WeightOnlyNorm)
    assert all(
        torch.equal(m.weight, torch.ones_like(m.weight))
        for m in model.modules()
        if isinstance(m, _WeightOnlyNorm)
    )


def _small_densenet(**kwargs) -> DenseNet:
    return DenseNet(growth_rate=8, block_config=(1, 1), num_init_features=16, **kwargs)


def test_densenet_defaults_are_densenet121s_widths():
    model = DenseNet(block_config=(1,), num_classes=3)
    assert model.features.conv0.out_channels == 64
    assert model.features.denseblock1.denselayer1.conv2.out_channels == 32


def test_densenet_names_its_modules_as_torchvision():
    model = _small_densenet(num_classes=5)
    names = [name for name, _ in model.features.named_children()]
    assert names == [
        "conv0", "norm0", "relu0", "pool0", "denseblock1", "transition1", "denseblock2", "norm5"
    ]
    assert "features.transition1.conv.weight" in model.state_dict()


def test_densenet_stem_is_conv7_stride2_bn_relu_maxpool3_stride2():
    model = _small_densenet(num_classes=5).eval()
    f = model.features
    for size in (30, 32):  # sizes where padding and pooling window changes show in the shape
        x = torch.randn(2, 3, size, size)
        y = nn.functional.conv2d(x, f.conv0.weight, stride=2, padding=3)
        y = nn.functional.max_pool2d(torch.relu(f.norm0(y)), kernel_size=3, stride=2, padding=1)
        torch.testing.assert_close(f[:4](x), y)


def test_zero_init_residual_refuses_norm_layers_without_a_weight():
    with pytest.raises(ValueError, match=r"^zero_init_residual needs a norm layer with a weight"):
        resnet18(num_classes=10, small_input=True, zero_init_residual=True, norm_layer=nn.Identity)
