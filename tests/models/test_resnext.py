"""ResNeXt and grouped convolution: the book's block (and its erratum), the cost of g groups,
torchvision's ResNeXt and wide ResNet builders (counts, keys, shapes), one training step."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from trainlab.models import (
    ResNet,
    grouped_conv_cost,
    resnet50,
    resnet101,
    resnext50_32x4d,
    resnext101_32x8d,
    resnext101_64x4d,
    wide_resnet50_2,
    wide_resnet101_2,
)
from trainlab.nn.residual import BasicBlock, Bottleneck, PreActBlock, ResNeXtBlock


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


class TestTheBooksBlock:
    def test_the_printed_check_builds_two_groups(self):
        # d2l §8.6.5: blk = ResNeXtBlock(32, 16, 1); blk(torch.randn(4, 32, 96, 96)).shape
        block = ResNeXtBlock.as_printed(32, 16, 1)
        assert block(torch.randn(4, 32, 96, 96)).shape == (4, 32, 96, 96)
        assert block.conv2.groups == 2  # bot_channels // groups = 32 // 16
        assert block.conv2.weight.shape == (32, 16, 3, 3)
        assert _shapes(block) == _shapes(ResNeXtBlock(32, 2, 1))

    def test_with_g_groups_the_same_call_has_sixteen_groups(self):
        block = ResNeXtBlock(32, 16, 1)
        assert block(torch.randn(4, 32, 96, 96)).shape == (4, 32, 96, 96)
        assert block.conv2.groups == 16
        assert block.conv2.weight.shape == (32, 2, 3, 3)
        printed = ResNeXtBlock.as_printed(32, 16, 1)
        assert printed.conv2.weight.numel() == 8 * block.conv2.weight.numel()

    def test_the_bottleneck_multiplier_sets_the_middle_width(self):
        block = ResNeXtBlock(64, 4, 0.25)
        assert block.conv1.weight.shape == (16, 64, 1, 1)
        assert block.conv2.weight.shape == (16, 4, 3, 3)
        assert block.conv3.weight.shape == (64, 16, 1, 1)
        assert block.conv4 is None and block.bn4 is None

    def test_every_convolution_keeps_its_bias_as_in_the_book(self):
        """d2l's block builds each conv with nn.LazyConv2d's default bias=True."""
        block = ResNeXtBlock(64, 4, 0.5, use_1x1conv=True, strides=2, in_channels=32)
        for conv in (block.conv1, block.conv2, block.conv3, block.conv4):
            assert conv.bias is not None and conv.bias.shape == (conv.out_channels,)

    def test_stride_and_projection_shortcut(self):
        x = torch.randn(2, 32, 16, 16)
        down = ResNeXtBlock(64, 8, 0.5, use_1x1conv=True, strides=2, in_channels=32)
        assert down(x).shape == (2, 64, 8, 8)
        assert down.conv2.stride == (2, 2) and down.conv4.stride == (2, 2)
        assert down.conv4.weight.shape == (64, 32, 1, 1)
        assert ResNeXtBlock(32, 4, 1, use_1x1conv=True)(x).shape == (2, 32, 16, 16)

    def test_a_shape_changing_block_needs_the_1x1_conv(self):
        with pytest.raises(ValueError, match="use_1x1conv=True"):
            ResNeXtBlock(32, 4, 1, strides=2)
        with pytest.raises(ValueError, match="use_1x1conv=True"):
            ResNeXtBlock(64, 4, 1, in_channels=32)

    def test_groups_must_divide_the_bottleneck(self):
        with pytest.raises(ValueError, match=r"groups=5 must be a positive divisor .* 32"):
            ResNeXtBlock(32, 5, 1)
        with pytest.raises(ValueError, match="32 // 5 groups"):  # 6 groups do not divide 32
            ResNeXtBlock.as_printed(32, 5, 1)
        with pytest.raises(ValueError, match="32 // 64 groups"):  # wider than the bottleneck
            ResNeXtBlock.as_printed(32, 64, 1)
        with pytest.raises(ValueError, match="at least one channel"):
            ResNeXtBlock(4, 1, 0.1)


class TestGroupedConvCost:
    @pytest.mark.parametrize("groups", [1, 2, 4, 8, 32])
    @pytest.mark.parametrize("bias", [True, False])
    def test_parameters_match_conv2d(self, groups, bias):
        conv = nn.Conv2d(64, 128, 3, padding=1, groups=groups, bias=bias)
        cost = grouped_conv_cost(64, 128, 3, groups, 8, 8, bias=bias)
        assert cost.parameters == _count(conv)
        assert type(cost.parameters) is int and type(cost.multiply_adds) is int  # counts

    @pytest.mark.parametrize("groups", [1, 2, 4, 8, 32])
    @pytest.mark.parametrize("stride", [1, 2])
    def test_multiply_adds_match_flop_counter(self, groups, stride):
        conv = nn.Conv2d(64, 128, (3, 5), stride=stride, padding=(1, 2), groups=groups)
        x = torch.randn(2, 64, 12, 12)
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            y = conv(x)
        height, width = y.shape[-2:]
        assert (height, width) == (12 // stride, 12 // stride)
        cost = grouped_conv_cost(64, 128, (3, 5), groups, height, width)
        assert counter.get_total_flops() == 2 * x.shape[0] * cost.multiply_adds

    @pytest.mark.parametrize("groups", [2, 4, 8, 32])
    def test_cost_falls_as_one_over_g(self, groups):
        dense = grouped_conv_cost(128, 256, 3, 1, 28, 28, bias=False)
        grouped = grouped_conv_cost(128, 256, 3, groups, 28, 28, bias=False)
        assert grouped.parameters * groups == dense.parameters
        assert grouped.multiply_adds * groups == dense.multiply_adds

    def test_the_book_blocks_grouped_conv_costs_b_squared_over_g(self):
        block = ResNeXtBlock(64, 8, 1)
        cost = grouped_conv_cost(64, 64, 3, 8, 16, 16)
        assert cost.parameters == _count(block.conv2) == 9 * 64 * 64 // 8 + 64

    def test_refuses_groups_that_do_not_divide(self):
        with pytest.raises(ValueError, match=r"^groups=3 must divide in_channels=64 and "
                           r"out_channels=128: each group maps in_channels/groups to "
                           r"out_channels/groups channels$"):  # fmt: skip
            grouped_conv_cost(64, 128, 3, 3, 8, 8)
        with pytest.raises(ValueError, match="'height': 0"):
            grouped_conv_cost(64, 128, 3, 1, 0, 8)


class TestTorchvisionBuilders:
    @pytest.mark.parametrize(
        "builder, expected",
        [
            (resnext50_32x4d, 25_028_904),
            (resnext101_32x8d, 88_791_336),
            (resnext101_64x4d, 83_455_272),
            (wide_resnet50_2, 68_883_240),
            (wide_resnet101_2, 126_886_696),
        ],
    )
    def test_parameter_counts(self, builder, expected):
        with torch.device("meta"):
            assert _count(builder()) == expected

    def test_resnext50_first_keys_and_shapes_are_torchvisions(self):
        def bn(prefix: str, c: int) -> list[tuple[str, tuple[int, ...]]]:
            stats = ["weight", "bias", "running_mean", "running_var"]
            return [(f"{prefix}.{s}", (c,)) for s in stats] + [
                (f"{prefix}.num_batches_tracked", ())
            ]

        expected = [
            ("conv1.weight", (64, 3, 7, 7)),
            *bn("bn1", 64),
            ("layer1.0.conv1.weight", (128, 64, 1, 1)),
            *bn("layer1.0.bn1", 128),
            ("layer1.0.conv2.weight", (128, 4, 3, 3)),  # 32 groups of 4 channels
            *bn("layer1.0.bn2", 128),
            ("layer1.0.conv3.weight", (256, 128, 1, 1)),
            *bn("layer1.0.bn3", 256),
            ("layer1.0.downsample.0.weight", (256, 64, 1, 1)),
            *bn("layer1.0.downsample.1", 256),
            ("layer1.1.conv1.weight", (128, 256, 1, 1)),
        ]
        with torch.device("meta"):
            shapes = list(_shapes(resnext50_32x4d()).items())
        assert shapes[: len(expected)] == expected
        assert shapes[-2:] == [("fc.weight", (1000, 2048)), ("fc.bias", (1000,))]

    @pytest.mark.parametrize(
        "builder, like, conv2_first, conv2_last",
        [
            (resnext50_32x4d, resnet50, (128, 4, 3, 3), (1024, 32, 3, 3)),
            (resnext101_32x8d, resnet101, (256, 8, 3, 3), (2048, 64, 3, 3)),
            (resnext101_64x4d, resnet101, (256, 4, 3, 3), (2048, 32, 3, 3)),
            (wide_resnet50_2, resnet50, (128, 128, 3, 3), (1024, 1024, 3, 3)),
            (wide_resnet101_2, resnet101, (128, 128, 3, 3), (1024, 1024, 3, 3)),
        ],
    )
    def test_keys_are_the_resnets_and_the_3x3_convs_are_grouped(
        self, builder, like, conv2_first, conv2_last
    ):
        with torch.device("meta"):
            shapes, plain = _shapes(builder()), _shapes(like())
        assert list(shapes) == list(plain)  # 320 keys for the -50s, 626 for the -101s
        assert shapes["layer1.0.conv2.weight"] == conv2_first
        assert shapes["layer4.0.conv2.weight"] == conv2_last
        # the block outputs keep ResNet's 4·channels: only the bottleneck changes
        assert shapes["layer4.2.conv3.weight"][0] == plain["layer4.2.conv3.weight"][0] == 2048


class TestBottleneckWidth:
    def test_groups_and_base_width_set_the_3x3(self):
        block = Bottleneck(256, 128, stride=2, groups=32, base_width=4)  # int(128·4/64)·32 = 256
        assert block.conv1.weight.shape == (256, 256, 1, 1)
        assert block.conv2.weight.shape == (256, 8, 3, 3) and block.conv2.groups == 32
        assert block(torch.randn(2, 256, 8, 8)).shape == (2, 512, 4, 4)

    def test_a_zero_width_is_refused(self):
        with pytest.raises(ValueError, match="raise base_width to at least 2"):
            Bottleneck(64, 32, base_width=1)

    @pytest.mark.parametrize(("groups", "base_width"), [(0, 64), (1, 0), (-2, 4)])
    def test_groups_and_base_width_must_each_be_positive(self, groups, base_width):
        with pytest.raises(ValueError, match=rf"groups={groups}, base_width={base_width}$"):
            Bottleneck(64, 32, groups=groups, base_width=base_width)

    @pytest.mark.parametrize("block", [BasicBlock, PreActBlock])
    @pytest.mark.parametrize("kwargs", [{"groups": 32}, {"base_width": 128}])
    def test_basic_blocks_refuse_groups_and_width(self, block, kwargs):
        with pytest.raises(ValueError, match="supports only groups=1 and base_width=64"):
            block(64, 64, **kwargs)

    def test_a_basic_resnet_refuses_groups(self):
        with pytest.raises(ValueError, match="BasicBlock supports only groups=1"):
            ResNet(BasicBlock, (2, 2, 2, 2), groups=32, width_per_group=4)


def _tiny_resnext() -> nn.Module:
    return ResNet(
        Bottleneck, (1, 1, 1, 1), num_classes=10, small_input=True, groups=8, width_per_group=4
    )


def _tiny_book_resnext() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1),
        ResNeXtBlock(32, 4, 0.5),
        ResNeXtBlock(64, 8, 0.5, use_1x1conv=True, strides=2, in_channels=32),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


@pytest.mark.parametrize("build", [_tiny_resnext, _tiny_book_resnext])
def test_a_small_resnext_trains_one_step(build):
    torch.manual_seed(0)
    model = build()
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    x, labels = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    loss = nn.functional.cross_entropy(model(x), labels)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    grouped = [m for m in model.modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    assert grouped and all(m.weight.grad.abs().sum() > 0 for m in grouped)
    before = [p.detach().clone() for p in model.parameters()]
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, model.parameters(), strict=True))
    assert torch.isfinite(nn.functional.cross_entropy(model(x), labels))


@pytest.mark.parametrize(
    ("size", "named"),
    [("in_channels", "'in_channels': 0"), ("out_channels", "'out_channels': 0"),
     ("kernel_size", "'kernel height': 0, 'kernel width': 0"), ("groups", "'groups': 0"),
     ("height", "'height': 0"), ("width", "'width': 0")],
)  # fmt: skip
def test_a_size_below_one_is_named(size, named):
    sizes = {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "groups": 1, "height": 5,
             "width": 5}  # fmt: skip
    sizes[size] = 0
    with pytest.raises(ValueError, match=rf"^sizes must be positive, got \{{{named}\}}$"):
        grouped_conv_cost(**sizes)
