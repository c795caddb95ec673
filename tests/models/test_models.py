"""The unit's models: the book's shapes, parameter counts, torchvision layout, norm swaps."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from trainlab.models import (
    DenseBlock,
    book_densenet,
    book_resnet18,
    densenet121,
    densenet169,
    densenet201,
    format_summary,
    lenet,
    preact_resnet18,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
    summarize,
    transition_block,
)
from trainlab.nn import BatchNorm, BatchNorm2d, GhostBatchNorm, freeze_batch_norm
from trainlab.nn.residual import BasicBlock, Bottleneck, PreActBlock, Residual

TORCHVISION_RESNET18_KEYS = [
    "conv1.weight",
    "bn1.weight",
    "bn1.bias",
    "bn1.running_mean",
    "bn1.running_var",
    "bn1.num_batches_tracked",
    "layer1.0.conv1.weight",
    "layer1.0.bn1.weight",
    "layer1.0.bn1.bias",
    "layer1.0.bn1.running_mean",
    "layer1.0.bn1.running_var",
    "layer1.0.bn1.num_batches_tracked",
    "layer1.0.conv2.weight",
    "layer1.0.bn2.weight",
    "layer1.0.bn2.bias",
    "layer1.0.bn2.running_mean",
    "layer1.0.bn2.running_var",
    "layer1.0.bn2.num_batches_tracked",
    "layer1.1.conv1.weight",
    "layer1.1.bn1.weight",
    "layer1.1.bn1.bias",
    "layer1.1.bn1.running_mean",
    "layer1.1.bn1.running_var",
    "layer1.1.bn1.num_batches_tracked",
    "layer1.1.conv2.weight",
    "layer1.1.bn2.weight",
    "layer1.1.bn2.bias",
    "layer1.1.bn2.running_mean",
    "layer1.1.bn2.running_var",
    "layer1.1.bn2.num_batches_tracked",
    "layer2.0.conv1.weight",
    "layer2.0.bn1.weight",
    "layer2.0.bn1.bias",
    "layer2.0.bn1.running_mean",
    "layer2.0.bn1.running_var",
    "layer2.0.bn1.num_batches_tracked",
    "layer2.0.conv2.weight",
    "layer2.0.bn2.weight",
    "layer2.0.bn2.bias",
    "layer2.0.bn2.running_mean",
    "layer2.0.bn2.running_var",
    "layer2.0.bn2.num_batches_tracked",
    "layer2.0.downsample.0.weight",
    "layer2.0.downsample.1.weight",
    "layer2.0.downsample.1.bias",
    "layer2.0.downsample.1.running_mean",
    "layer2.0.downsample.1.running_var",
    "layer2.0.downsample.1.num_batches_tracked",
    "layer2.1.conv1.weight",
    "layer2.1.bn1.weight",
    "layer2.1.bn1.bias",
    "layer2.1.bn1.running_mean",
    "layer2.1.bn1.running_var",
    "layer2.1.bn1.num_batches_tracked",
    "layer2.1.conv2.weight",
    "layer2.1.bn2.weight",
    "layer2.1.bn2.bias",
    "layer2.1.bn2.running_mean",
    "layer2.1.bn2.running_var",
    "layer2.1.bn2.num_batches_tracked",
    "layer3.0.conv1.weight",
    "layer3.0.bn1.weight",
    "layer3.0.bn1.bias",
    "layer3.0.bn1.running_mean",
    "layer3.0.bn1.running_var",
    "layer3.0.bn1.num_batches_tracked",
    "layer3.0.conv2.weight",
    "layer3.0.bn2.weight",
    "layer3.0.bn2.bias",
    "layer3.0.bn2.running_mean",
    "layer3.0.bn2.running_var",
    "layer3.0.bn2.num_batches_tracked",
    "layer3.0.downsample.0.weight",
    "layer3.0.downsample.1.weight",
    "layer3.0.downsample.1.bias",
    "layer3.0.downsample.1.running_mean",
    "layer3.0.downsample.1.running_var",
    "layer3.0.downsample.1.num_batches_tracked",
    "layer3.1.conv1.weight",
    "layer3.1.bn1.weight",
    "layer3.1.bn1.bias",
    "layer3.1.bn1.running_mean",
    "layer3.1.bn1.running_var",
    "layer3.1.bn1.num_batches_tracked",
    "layer3.1.conv2.weight",
    "layer3.1.bn2.weight",
    "layer3.1.bn2.bias",
    "layer3.1.bn2.running_mean",
    "layer3.1.bn2.running_var",
    "layer3.1.bn2.num_batches_tracked",
    "layer4.0.conv1.weight",
    "layer4.0.bn1.weight",
    "layer4.0.bn1.bias",
    "layer4.0.bn1.running_mean",
    "layer4.0.bn1.running_var",
    "layer4.0.bn1.num_batches_tracked",
    "layer4.0.conv2.weight",
    "layer4.0.bn2.weight",
    "layer4.0.bn2.bias",
    "layer4.0.bn2.running_mean",
    "layer4.0.bn2.running_var",
    "layer4.0.bn2.num_batches_tracked",
    "layer4.0.downsample.0.weight",
    "layer4.0.downsample.1.weight",
    "layer4.0.downsample.1.bias",
    "layer4.0.downsample.1.running_mean",
    "layer4.0.downsample.1.running_var",
    "layer4.0.downsample.1.num_batches_tracked",
    "layer4.1.conv1.weight",
    "layer4.1.bn1.weight",
    "layer4.1.bn1.bias",
    "layer4.1.bn1.running_mean",
    "layer4.1.bn1.running_var",
    "layer4.1.bn1.num_batches_tracked",
    "layer4.1.conv2.weight",
    "layer4.1.bn2.weight",
    "layer4.1.bn2.bias",
    "layer4.1.bn2.running_mean",
    "layer4.1.bn2.running_var",
    "layer4.1.bn2.num_batches_tracked",
    "fc.weight",
    "fc.bias",
]


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


class TestTheBooksShapes:
    def test_residual_blocks(self):
        x = torch.randn(4, 3, 6, 6)
        assert Residual(3, 3)(x).shape == (4, 3, 6, 6)
        assert Residual(3, 6, use_1x1conv=True, stride=2)(x).shape == (4, 6, 3, 3)

    def test_a_shape_changing_residual_needs_the_1x1_conv(self):
        with pytest.raises(ValueError, match="use_1x1conv=True"):
            Residual(3, 6, stride=2)

    def test_resnet18_walk_at_224(self):
        shapes = [r.output_shape for r in summarize(book_resnet18(), (1, 1, 224, 224))]
        assert shapes == [
            (1, 64, 112, 112),
            (1, 64, 112, 112),
            (1, 64, 112, 112),
            (1, 64, 56, 56),
            (1, 64, 56, 56),
            (1, 128, 28, 28),
            (1, 256, 14, 14),
            (1, 512, 7, 7),
            (1, 512, 1, 1),
            (1, 10),
        ]

    def test_dense_block_and_transition(self):
        block = DenseBlock(2, 3, 10)
        y = block(torch.randn(4, 3, 8, 8))
        assert y.shape == (4, 23, 8, 8) and block.out_channels == 23
        assert transition_block(23, 10)(y).shape == (4, 10, 4, 4)

    def test_densenet_walk_at_96(self):
        rows = summarize(book_densenet(), (1, 1, 96, 96))
        blocks = [r.output_shape for r in rows if r.name.startswith(("DenseBlock", "transition"))]
        assert [s[1] for s in blocks] == [192, 96, 224, 112, 240, 120, 248]
        assert rows[0].output_shape[-1] == 48
        assert [s[-1] for s in blocks[1::2]] == [12, 6, 3]
        assert blocks[0][-1] == 24
        assert rows[-1].output_shape == (1, 10)


class TestParameterCounts:
    def test_the_books_resnet18(self):
        assert _count(book_resnet18(in_channels=1, num_classes=10)) == 11_178_378

    @pytest.mark.parametrize(
        "builder, expected",
        [
            (resnet18, 11_689_512),
            (resnet34, 21_797_672),
            (resnet50, 25_557_032),
            (resnet101, 44_549_160),
            (resnet152, 60_192_808),
            (densenet121, 7_978_856),
            (densenet169, 14_149_480),
            (densenet201, 20_013_928),
        ],
    )
    def test_torchvision_builders(self, builder, expected):
        with torch.device("meta"):  # no memory or time spent on weights
            assert _count(builder()) == expected

    def test_lenet(self):
        # convs 156 + 2416, linears 30840 + 10164 + 850, BN γ/β 2·(6 + 16 + 120 + 84)
        assert _count(lenet(norm="none")) == 44_426
        assert _count(lenet()) == 44_426 + 2 * (6 + 16 + 120 + 84)


def test_resnet18_state_dict_keys_are_torchvisions():
    assert list(resnet18().state_dict().keys()) == TORCHVISION_RESNET18_KEYS


def test_a_torch_batchnorm_checkpoint_loads_strictly_into_trainlabs_resnet():
    theirs = resnet50(norm_layer=nn.BatchNorm2d)
    ours = resnet50()
    ours.load_state_dict(theirs.state_dict(), strict=True)
    theirs.eval()
    ours.eval()
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(ours(x), theirs(x), rtol=1e-4, atol=1e-5)


def test_bottleneck_puts_the_stride_on_the_3x3():
    block = Bottleneck(64, 64, stride=2)
    assert block.conv1.stride == (1, 1) and block.conv2.stride == (2, 2)
    assert block(torch.randn(2, 64, 8, 8)).shape == (2, 256, 4, 4)


@pytest.mark.parametrize("builder", [resnet18, resnet50, preact_resnet18])
def test_zero_init_residual_makes_every_block_an_identity(builder):
    model = builder(zero_init_residual=True, small_input=True, num_classes=10)
    model.eval()
    blocks = [m for m in model.modules() if isinstance(m, (BasicBlock, Bottleneck, PreActBlock))]
    identity_shortcuts = [b for b in blocks if b.downsample is None]
    assert len(identity_shortcuts) >= 4
    for block in identity_shortcuts:
        x = torch.rand(2, block.conv1.in_channels, 8, 8)  # non-negative, like a ReLU output
        torch.testing.assert_close(block(x), x)


def test_small_input_stem_keeps_28x28_maps_large():
    model = resnet18(small_input=True, in_channels=1, num_classes=10)
    assert summarize(model, (1, 1, 28, 28))[4].output_shape == (1, 64, 28, 28)


def _norm_layers():
    return {
        "trainlab": BatchNorm2d,
        "torch": nn.BatchNorm2d,
        "group": lambda c: nn.GroupNorm(math.gcd(32, c), c),
        "ghost": lambda c: GhostBatchNorm(c, virtual_batch_size=2),
        "frozen": lambda c: freeze_batch_norm(BatchNorm2d(c)),
    }


BUILDERS = {
    "resnet18": lambda **kw: resnet18(small_input=True, num_classes=10, **kw),
    "resnet50": lambda **kw: resnet50(small_input=True, num_classes=10, **kw),
    "preact_resnet18": lambda **kw: preact_resnet18(small_input=True, num_classes=10, **kw),
    "book_resnet18": lambda **kw: book_resnet18(in_channels=3, **kw),
    "book_densenet": lambda **kw: book_densenet(in_channels=3, **kw),
    "densenet121": lambda **kw: densenet121(num_classes=10, **kw),
}


class _MarkedNorm(nn.BatchNorm2d):
    """A norm layer that can be told apart from every default."""


@pytest.mark.parametrize("name", BUILDERS.keys())
def test_every_builder_uses_the_given_norm_layer_everywhere(name):
    norms = [
        m for m in BUILDERS[name](norm_layer=_MarkedNorm).modules() if "Norm" in type(m).__name__
    ]
    assert norms and all(type(m) is _MarkedNorm for m in norms)


def test_transition_block_applies_relu_between_bn_and_conv():
    """With BN at its initial statistics (identity in eval), an all-negative input is zeroed by the
    ReLU, so the 1×1 conv and the pool return the conv's bias alone."""
    block = transition_block(3, 2).eval()
    out = block(-torch.ones(1, 3, 4, 4))
    bias = block[2].bias.detach()
    torch.testing.assert_close(out, bias.reshape(1, 2, 1, 1).expand(1, 2, 2, 2))


def test_preact_resnet_ends_with_bn_and_relu_before_the_pool():
    """Pre-activation blocks leave their output unnormalized, so the net adds BN → ReLU at the
    end: a BN shift of −1000 there zeroes every feature and the logits are the fc bias."""
    model = preact_resnet18(small_input=True, num_classes=10).eval()
    assert model.final_norm.num_features == 512
    with torch.no_grad():
        model.final_norm.bias.fill_(-1000.0)
    logits = model(torch.randn(2, 3, 32, 32))
    torch.testing.assert_close(logits, model.fc.bias.detach().expand(2, 10))


@pytest.mark.parametrize("norm", _norm_layers().keys())
@pytest.mark.parametrize("name", BUILDERS.keys())
def test_every_builder_trains_with_every_norm_layer(name, norm):
    model = BUILDERS[name](norm_layer=_norm_layers()[norm])
    model.train()
    x = torch.randn(4, 3, 32, 32)
    loss = nn.functional.cross_entropy(model(x), torch.tensor([0, 1, 2, 3]))
    loss.backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in trainable)
    model.eval()
    assert torch.equal(model(x), model(x))  # prediction is deterministic


@pytest.mark.parametrize("norm", ["trainlab", "torch", "none"])
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_lenet_variants(norm, pool):
    model = lenet(norm=norm, pool=pool)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    kinds = {type(m) for m in model.modules()}
    assert (nn.MaxPool2d in kinds) == (pool == "max")
    expected_bn = {"trainlab": BatchNorm, "torch": nn.modules.batchnorm._BatchNorm, "none": None}
    bns = [
        m for m in model.modules() if isinstance(m, (BatchNorm, nn.modules.batchnorm._BatchNorm))
    ]
    assert len(bns) == (0 if norm == "none" else 4)
    assert all(isinstance(m, expected_bn[norm]) for m in bns)


def test_lenet_rejects_unknown_options():
    with pytest.raises(ValueError, match="norm must be"):
        lenet(norm="layer")
    with pytest.raises(ValueError, match="activation must be one of"):
        lenet(activation="gelu")


@pytest.mark.parametrize("builder", [book_resnet18, book_densenet])
def test_the_books_stem(builder):
    """Both book models open with the book's b1: a 7×7 conv with stride 2 and padding 3, BN,
    ReLU, and a 3×3 max-pool with stride 2 and padding 1."""
    conv, norm, relu, pool = list(builder().children())[:4]
    assert (conv.in_channels, conv.out_channels) == (1, 64)
    assert (conv.kernel_size, conv.stride, conv.padding) == ((7, 7), (2, 2), (3, 3))
    assert isinstance(norm, BatchNorm) and norm.num_features == 64
    assert isinstance(relu, nn.ReLU) and isinstance(pool, nn.MaxPool2d)
    assert (pool.kernel_size, pool.stride, pool.padding) == (3, 2, 1)


def test_the_torchvision_layout_stem():
    model = resnet18()
    conv = model.conv1
    assert (conv.kernel_size, conv.stride, conv.padding) == ((7, 7), (2, 2), (3, 3))
    assert (model.maxpool.kernel_size, model.maxpool.stride, model.maxpool.padding) == (3, 2, 1)
    small = resnet18(small_input=True)
    conv = small.conv1
    assert (conv.kernel_size, conv.stride, conv.padding) == ((3, 3), (1, 1), (1, 1))
    assert model.conv1.bias is None and conv.bias is None  # BN follows: a bias would be redundant


def test_the_book_resnets_stages_have_the_books_names():
    names = [name for name, _ in book_resnet18().named_children()]
    assert names[4:] == [*(f"resnet_block{i}" for i in range(1, 5)), "global_avg_pool", "fc"]


def test_the_book_densenets_head_has_the_books_names():
    """As in the book's code: BN, relu, global_avg_pool and fc after the last dense block, so a
    state dict saved from the book's model has the same keys."""
    names = [name for name, _ in book_densenet().named_children()]
    assert names[-4:] == ["BN", "relu", "global_avg_pool", "fc"]
    assert {"fc.1.weight", "fc.1.bias"} <= book_densenet().state_dict().keys()


def test_format_summary_prints_a_row_per_layer_and_the_total():
    rows = summarize(lenet(), (1, 1, 28, 28))
    lines = format_summary(rows).splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "params"]
    assert len(lines) == len(rows) + 2
    assert lines[1].split()[:2] == [rows[0].name, rows[0].kind]
    assert lines[-1].split() == ["total", f"{sum(r.num_params for r in rows):,}"]
    assert len({len(line) for line in lines}) == 1  # aligned columns
