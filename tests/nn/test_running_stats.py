"""Recomputing running statistics in one pass over data."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from trainlab.nn import BatchNorm1d, freeze_batch_norm, recompute_batch_norm_stats


def _model():
    return nn.Sequential(
        nn.Linear(3, 4), BatchNorm1d(4, momentum=0.3), nn.ReLU(), nn.Linear(4, 2), nn.BatchNorm1d(2)
    )


def test_running_statistics_become_the_average_of_the_batch_statistics():
    model = _model()
    with torch.no_grad():
        for bn in (model[1], model[4]):
            bn.running_mean.normal_()
            bn.running_var.uniform_(5, 6)
    batches = [(torch.randn(16, 3) * 2 + 1, torch.zeros(16)) for _ in range(5)]
    model.eval()
    used = recompute_batch_norm_stats(model, batches)
    assert used == 5
    hidden = [model[0](x).detach() for x, _ in batches]
    torch.testing.assert_close(
        model[1].running_mean, torch.stack([h.mean(0) for h in hidden]).mean(0)
    )
    torch.testing.assert_close(
        model[1].running_var, torch.stack([h.var(0, unbiased=True) for h in hidden]).mean(0)
    )
    assert model[1].num_batches_tracked.item() == 5
    # modes and momenta are restored
    assert not any(m.training for m in model.modules())
    assert model[1].momentum == 0.3 and model[4].momentum == 0.1


def test_parameters_are_untouched_and_num_batches_limits_the_pass():
    model = _model()
    params = [p.clone() for p in model.parameters()]
    used = recompute_batch_norm_stats(model, (torch.randn(8, 3) for _ in range(10)), num_batches=3)
    assert used == 3 and model[1].num_batches_tracked.item() == 3
    assert all(torch.equal(a, b) for a, b in zip(params, model.parameters(), strict=True))


def test_frozen_layers_are_left_alone():
    model = _model()
    model[1] = freeze_batch_norm(model[1])  # a layer on its own comes back frozen
    before = model[1].running_mean.clone()
    recompute_batch_norm_stats(model, [torch.randn(8, 3) * 5])
    assert torch.equal(model[1].running_mean, before)
    assert model[4].num_batches_tracked.item() == 1


def test_no_batches_is_an_error_and_restores_the_model():
    model = _model()
    model.eval()
    with pytest.raises(ValueError, match="got no batches"):
        recompute_batch_norm_stats(model, [])
    assert not model.training and model[1].momentum == 0.3
