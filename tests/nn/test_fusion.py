"""Folding BN into the conv/linear layer before it."""

from __future__ import annotations

import pytest
import torch
from torch import fx, nn
from torch.nn.modules.batchnorm import _BatchNorm

from trainlab.models import book_densenet, book_resnet18, lenet, resnet50
from trainlab.nn import BatchNorm, BatchNorm1d, BatchNorm2d, GhostBatchNorm
from trainlab.nn.fusion import fuse_batch_norm

NORMS = (BatchNorm, _BatchNorm)


def _with_realistic_statistics(model: nn.Module, shape) -> nn.Module:
    """Random γ, β and running statistics gathered from a few training batches, then eval."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, NORMS) and m.weight is not None:
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
        model.train()
        for _ in range(3):
            model(torch.randn(shape) * 2 + 0.5)
    return model.eval()


def _norms_after_affine(model: fx.GraphModule) -> list[str]:
    modules = dict(model.named_modules())
    found = []
    for node in model.graph.nodes:
        if node.op == "call_module" and isinstance(modules[node.target], NORMS):
            source = node.args[0]
            if source.op == "call_module" and isinstance(
                modules[source.target], nn.Conv2d | nn.Linear
            ):
                found.append(node.target)
    return found


MODELS = {
    "lenet_bn": (lambda: lenet(), (8, 1, 28, 28), 0),
    "lenet_torch_bn": (lambda: lenet(norm="torch", pool="avg"), (8, 1, 28, 28), 0),
    "book_resnet18": (lambda: book_resnet18(), (4, 1, 64, 64), 0),
    "resnet50": (lambda: resnet50(num_classes=10), (2, 3, 64, 64), 0),
    "book_densenet": (lambda: book_densenet(), (4, 1, 64, 64), 20),  # only the stem's BN folds
}


@pytest.mark.parametrize("name", MODELS.keys())
def test_fused_model_computes_the_eval_models_function(name):
    build, shape, norms_left = MODELS[name]
    model = _with_realistic_statistics(build(), shape)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = torch.randn(shape)
    fused = fuse_batch_norm(model, example_input=x)
    expected, got = model(x), fused(x)
    assert (got - expected).abs().max() <= 1e-5 * expected.abs().max()
    assert sum(isinstance(m, NORMS) for m in fused.modules()) == norms_left
    assert _norms_after_affine(fused) == []
    for key, value in model.state_dict().items():  # the original is untouched
        assert torch.equal(value, before[key])


def test_linear_then_batch_norm_and_bias_free_convs_fold():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False),
        BatchNorm2d(4, momentum=0.9, convention="book"),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 5),
        BatchNorm1d(5),
        nn.Sigmoid(),
    )
    model = _with_realistic_statistics(model, (8, 3, 6, 6))
    fused = fuse_batch_norm(model, example_input=torch.randn(2, 3, 6, 6))
    assert fused.fusion_report.folded == [("1", "0"), ("5", "4")]
    assert fused.get_submodule("0").bias is not None
    x = torch.randn(8, 3, 6, 6)
    torch.testing.assert_close(fused(x), model(x), rtol=1e-5, atol=1e-6)


def test_ghost_batch_norm_folds_as_plain_batch_norm():
    model = nn.Sequential(nn.Conv2d(2, 3, 1), GhostBatchNorm(3, virtual_batch_size=2))
    model = _with_realistic_statistics(model, (8, 2, 3, 3))
    fused = fuse_batch_norm(model)
    assert not any(isinstance(m, NORMS) for m in fused.modules())
    x = torch.randn(4, 2, 3, 3)
    torch.testing.assert_close(fused(x), model(x), rtol=1e-5, atol=1e-6)


class _SharedOutput(nn.Module):
    """A conv whose output feeds a BN and a second branch, then a conv used twice."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)
        self.bn = BatchNorm2d(3)
        self.shared = nn.Conv2d(3, 3, 1)
        self.bn_shared = BatchNorm2d(3)
        self.untracked = BatchNorm2d(3, track_running_stats=False)

    def forward(self, x):
        y = self.conv(x)
        z = self.bn(y) + y
        z = self.shared(self.bn_shared(self.shared(z)))
        return self.untracked(nn.functional.relu(z))


def test_batch_norms_that_cannot_be_folded_stay_and_the_report_says_why():
    model = _with_realistic_statistics(_SharedOutput(), (4, 3, 5, 5))
    with pytest.warns(UserWarning, match="kept 2 BN layer"):
        fused = fuse_batch_norm(model)
    names = {name for name, m in fused.named_modules() if isinstance(m, NORMS)}
    assert names == {"bn", "bn_shared", "untracked"}
    assert fused.fusion_report.folded == []
    assert "also used elsewhere" in fused.fusion_report.kept["bn"]
    assert "called more than once" in fused.fusion_report.kept["bn_shared"]
    x = torch.randn(4, 3, 5, 5)
    torch.testing.assert_close(fused(x), model(x))


def test_a_model_in_training_mode_is_refused():
    model = lenet()
    with pytest.raises(ValueError, match=r"must be in prediction mode.*call model\.eval\(\) first"):
        fuse_batch_norm(model)
    model.eval()
    model[1].train()
    with pytest.raises(ValueError, match="'1' is training"):
        fuse_batch_norm(model)


class _PositionwiseLinear(nn.Module):
    """A Linear over (N, L, F) followed by BatchNorm1d(L): BN normalizes the L positions, not the
    Linear's F output features, so folding it into the Linear would be wrong (here L == F)."""

    def __init__(self, size: int = 4):
        super().__init__()
        self.linear = nn.Linear(size, size)
        self.bn = BatchNorm1d(size)

    def forward(self, x):  # (N, L, F)
        return self.bn(self.linear(x))


def test_a_batch_norm_over_another_dimension_than_the_linears_outputs_is_not_folded():
    model = _with_realistic_statistics(_PositionwiseLinear(), (16, 4, 4))
    x = torch.randn(8, 4, 4)
    with pytest.warns(UserWarning, match="normalizes dimension 1, not the Linear's output"):
        fused = fuse_batch_norm(model, example_input=x)
    assert "bn" in dict(fused.named_modules())
    torch.testing.assert_close(fused(x), model(x))


def test_linear_then_batch_norm_is_kept_without_an_example_input_to_prove_the_layout():
    model = _with_realistic_statistics(lenet(), (8, 1, 28, 28))
    with pytest.warns(UserWarning, match="pass example_input="):
        fused = fuse_batch_norm(model)
    assert sorted(fused.fusion_report.kept) == ["10", "13"]  # the two BatchNorm1d
    assert [bn for bn, _ in fused.fusion_report.folded] == ["1", "5"]  # the two BatchNorm2d
    x = torch.randn(4, 1, 28, 28)
    assert (fused(x) - model(x)).abs().max() <= 1e-5 * model(x).abs().max()


def test_frozen_batch_norm_folds_too():
    from trainlab.nn import freeze_batch_norm

    model = _with_realistic_statistics(
        nn.Sequential(nn.Conv2d(2, 3, 1), BatchNorm2d(3)), (8, 2, 3, 3)
    )
    model = freeze_batch_norm(model)
    fused = fuse_batch_norm(model)
    assert fused.fusion_report.folded == [("1", "0")]
    x = torch.randn(4, 2, 3, 3)
    torch.testing.assert_close(fused(x), model(x), rtol=1e-5, atol=1e-6)
