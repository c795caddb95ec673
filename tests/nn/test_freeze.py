"""Freezing every BN layer of a model while the rest trains, and undoing it."""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
from torch import nn

from trainlab.nn import (
    BatchNorm2d,
    BatchRenorm,
    FrozenBatchNorm,
    GhostBatchNorm,
    freeze_batch_norm,
    is_frozen,
    unfreeze_batch_norm,
)


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
    before = copy.deepcopy(model.state_dict())
    freeze_batch_norm(model)
    bns = [model[1], model[4]]
    _train_steps(model)
    after = model.state_dict()
    for name, value in after.items():
        unchanged = torch.equal(value, before[name])
        is_bn = name.startswith(("1.", "4."))
        assert unchanged == is_bn, name  # BN state untouched, every conv/linear weight moved
    for bn in bns:
        assert is_frozen(bn) and not bn.training
        assert list(bn.parameters()) == []  # γ and β are buffers: no optimizer can move them


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
    with pytest.raises(ValueError, match="no running statistics") as caught:
        freeze_batch_norm(model)
    assert str(caught.value).endswith(
        "it has no running statistics (track_running_stats=False) to normalize with"
    )


def _frozen_model():
    model = _model()
    _train_steps(model, 1)
    return freeze_batch_norm(model)


def test_a_frozen_model_pickles_saves_and_scripts():
    model = _frozen_model()
    x = torch.randn(4, 1, 8, 8)
    expected = model(x)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    for clone in (
        pickle.loads(pickle.dumps(model)),
        torch.load(buffer, weights_only=False),
        copy.deepcopy(model),
        torch.jit.script(model),
    ):
        clone.train()
        torch.testing.assert_close(clone(x), expected)
    restored = unfreeze_batch_norm(pickle.loads(pickle.dumps(model)))
    assert isinstance(restored[1], BatchNorm2d) and isinstance(restored[4], nn.BatchNorm2d)


def test_frozen_and_plain_state_dicts_load_into_each_other():
    frozen = _frozen_model()
    plain = _model()
    assert list(frozen.state_dict()) == list(plain.state_dict())
    plain.load_state_dict(frozen.state_dict())  # strict
    frozen.load_state_dict(plain.state_dict())
    x = torch.randn(4, 1, 8, 8)
    torch.testing.assert_close(frozen(x), plain.eval()(x))


def test_unfreezing_gives_back_the_loaded_values():
    frozen = _frozen_model()
    state = {k: v + 1 if v.is_floating_point() else v for k, v in frozen.state_dict().items()}
    frozen.load_state_dict(state)  # e.g. a checkpoint loaded while frozen
    model = unfreeze_batch_norm(frozen)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
    assert model[1].weight.requires_grad and isinstance(model[1].weight, nn.Parameter)


@pytest.mark.parametrize(
    "layer",
    [
        lambda: BatchNorm2d(4, momentum=0.9, convention="book"),
        lambda: GhostBatchNorm(4, virtual_batch_size=2),
        lambda: BatchRenorm(4),
        lambda: nn.BatchNorm2d(4),
    ],
)
def test_every_batch_norm_kind_freezes_and_comes_back_as_itself(layer):
    bn = layer()
    bn.train()
    bn(torch.randn(8, 4, 3, 3) * 2 + 1)
    frozen = freeze_batch_norm(bn)  # a layer on its own: the frozen layer is returned
    assert isinstance(frozen, FrozenBatchNorm)
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(frozen.train()(x), bn.eval()(x))
    back = unfreeze_batch_norm(frozen)
    assert back is bn and back.training


def test_a_frozen_layer_refuses_the_wrong_channel_count():
    with pytest.raises(RuntimeError, match=r"expected input of shape \(N, 4, \*\)"):
        _frozen_model()[1](torch.randn(2, 3, 5, 5))
