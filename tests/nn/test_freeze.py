"""Freezing every BN layer of a model while the rest trains, and undoing it."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from trainlab.nn import BatchNorm2d, freeze_batch_norm, is_frozen, unfreeze_batch_norm


def _model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),
        BatchNorm2d(4),
        nn.ReLU(),
        nn.Conv2d(4, 4, 3),
        nn.BatchNorm2d(4),
        nn.ReLU(),  # torch's BN is frozen too
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 2),
    )


def _train_steps(model, steps=3):
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    for _ in range(steps):
        model.train()
        loss = model(torch.randn(8, 1, 8, 8) * 3 + 1).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_frozen_layers_keep_statistics_and_affine_while_the_rest_trains():
    model = _model()
    _train_steps(model, 1)  # move the BN statistics away from their initial values
    bns = [model[1], model[4]]
    before = copy.deepcopy(model.state_dict())
    freeze_batch_norm(model)
    _train_steps(model)
    after = model.state_dict()
    for name, value in after.items():
        unchanged = torch.equal(value, before[name])
        is_bn = name.startswith(("1.", "4."))
        assert unchanged == is_bn, name  # BN state untouched, every conv/linear weight moved
    for bn in bns:
        assert is_frozen(bn) and not bn.training
        assert all(not p.requires_grad and p.grad is None for p in bn.parameters())


def test_frozen_layer_computes_its_prediction_mode_function_in_training():
    model = _model()
    _train_steps(model, 1)
    x = torch.randn(4, 1, 8, 8)
    model.eval()
    expected = model(x)
    freeze_batch_norm(model).train()
    torch.testing.assert_close(model(x), expected)


def test_unfreeze_restores_modes_and_requires_grad():
    model = _model()
    model[1].weight.requires_grad_(False)  # a choice of the user's that unfreezing must keep
    model.train()
    freeze_batch_norm(model)
    freeze_batch_norm(model)  # twice is harmless
    unfreeze_batch_norm(model)
    assert not any(is_frozen(m) for m in model.modules())
    assert model[1].training and model[4].training
    assert [p.requires_grad for p in model[1].parameters()] == [False, True]
    assert all(p.requires_grad for p in model[4].parameters())
    model.eval()
    assert not model[1].training  # the class's own train() is back


def test_a_frozen_copy_stays_frozen():
    model = freeze_batch_norm(_model())
    clone = copy.deepcopy(model)
    clone.train()
    assert is_frozen(clone[1]) and not clone[1].training and not clone[4].training


def test_a_layer_without_running_statistics_cannot_be_frozen():
    model = nn.Sequential(nn.Linear(3, 3), BatchNorm2d(3, track_running_stats=False))
    with pytest.raises(ValueError, match="no running statistics"):
        freeze_batch_norm(model)
