"""Synchronized BN over torch.distributed (gloo, two processes on 127.0.0.1) equals plain BN on
the concatenated batch, for equal, unequal and empty slices."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file
from torch import nn

from trainlab.nn import BatchNorm2d, sync_batchnorm
from trainlab.nn.functional import batch_norm_reference
from trainlab.nn.sync_batchnorm import (
    SyncBatchNorm,
    _combine,
    _local_moments,
    convert_sync_batch_norm,
    revert_sync_batch_norm,
    sync_batch_norm,
)

CASES = [((3, 5), (3,)), ((4, 4), (3, 2, 2)), ((0, 6), (3, 2, 3)), ((7, 1), (3,)), ((1, 1), (3,))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _case_data(index: int, sizes, tail):
    gen = torch.Generator().manual_seed(index)
    n = sum(sizes)
    x = torch.randn(n, *tail, generator=gen, dtype=torch.float64) * 3 + 1
    g = torch.randn(n, *tail, generator=gen, dtype=torch.float64)
    weight = torch.rand(tail[0], generator=gen, dtype=torch.float64) + 0.5
    bias = torch.randn(tail[0], generator=gen, dtype=torch.float64)
    return x, g, weight, bias


def _step(module, x, g):
    x = x.clone().requires_grad_()
    y = module(x)
    (y * g).sum().backward()
    return {"y": y.detach(), "dx": x.grad, "dw": module.weight.grad, "db": module.bias.grad,
            "rm": module.running_mean.clone(), "rv": module.running_var.clone()}  # fmt: skip


def _worker(rank: int, port: int, folder: str) -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)  # fmt: skip
    try:
        for index, (sizes, tail) in enumerate(CASES):
            x, g, weight, bias = _case_data(index, sizes, tail)
            start = sum(sizes[:rank])
            part = slice(start, start + sizes[rank])
            module = SyncBatchNorm(tail[0], momentum=0.3, dtype=torch.float64)
            with torch.no_grad():
                module.weight.copy_(weight)
                module.bias.copy_(bias)
            results = {}
            for step in range(2):  # two steps: the running statistics compound
                for key, value in _step(module, x[part], g[part]).items():
                    results[f"{key}{step}"] = value.contiguous()
                module.weight.grad = module.bias.grad = None
            save_file(results, f"{folder}/case{index}_rank{rank}.safetensors")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def distributed_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sync")
    mp.spawn(_worker, args=(free_port(), str(folder)), nprocs=2, join=True)
    return folder


@pytest.mark.parametrize("index", range(len(CASES)))
def test_two_processes_equal_one_process_on_the_whole_batch(distributed_results, index):
    sizes, tail = CASES[index]
    x, g, weight, bias = _case_data(index, sizes, tail)
    plain = BatchNorm2d(tail[0], momentum=0.3, dtype=torch.float64)
    plain._check_input_dim = lambda x: None  # any rank, like the synchronized module
    with torch.no_grad():
        plain.weight.copy_(weight)
        plain.bias.copy_(bias)
    ranks = [load_file(str(Path(distributed_results) / f"case{index}_rank{r}.safetensors"))
             for r in range(2)]  # fmt: skip
    for step in range(2):
        expected = _step(plain, x, g)
        plain.weight.grad = plain.bias.grad = None
        tight = {"rtol": 1e-10, "atol": 1e-12}
        got_y = torch.cat([r[f"y{step}"] for r in ranks])
        torch.testing.assert_close(got_y, expected["y"], **tight)
        torch.testing.assert_close(torch.cat([r[f"dx{step}"] for r in ranks]), expected["dx"],
                                   **tight)  # fmt: skip
        for key in ("dw", "db"):  # local γ/β gradients add up to the whole batch's
            torch.testing.assert_close(ranks[0][f"{key}{step}"] + ranks[1][f"{key}{step}"],
                                       expected[key], **tight)  # fmt: skip
        for r in ranks:  # every process holds the same, global running statistics
            torch.testing.assert_close(r[f"rm{step}"], expected["rm"], **tight)
            torch.testing.assert_close(r[f"rv{step}"], expected["rv"], **tight)


def test_outside_a_process_group_it_is_plain_batch_norm():
    sync, plain = SyncBatchNorm(3), BatchNorm2d(3)
    x = torch.randn(4, 3, 2, 2)
    torch.testing.assert_close(sync(x), plain(x))
    assert sync.state_dict().keys() == plain.state_dict().keys()


def test_convert_and_revert_keep_parameters_buffers_and_classes():
    model = nn.Sequential(nn.Conv2d(1, 3, 1), BatchNorm2d(3, momentum=0.9, convention="book"),
                          nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)))  # fmt: skip
    model[1](torch.randn(4, 3, 2, 2))
    model[2][1](torch.randn(5, 4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    converted = convert_sync_batch_norm(model)
    assert isinstance(converted[1], SyncBatchNorm) and isinstance(converted[2][1], SyncBatchNorm)
    assert converted[1].convention == "book"
    for key, value in converted.state_dict().items():
        assert torch.equal(value, before[key])
    reverted = revert_sync_batch_norm(converted)
    assert type(reverted[1]) is BatchNorm2d and type(reverted[2][1]) is nn.BatchNorm1d
    for key, value in reverted.state_dict().items():
        assert torch.equal(value, before[key])


@pytest.fixture
def group_of_one():
    """A gloo process group of this process alone: the synchronized code path runs, and its
    collectives return this process's own statistics."""
    dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    try:
        yield dist.group.WORLD
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
def test_in_a_group_of_one_sync_batch_norm_is_batch_norm(group_of_one, shape):
    x, g, weight, bias = _case_data(len(shape), shape[:1], shape[1:])
    weight, bias = weight.requires_grad_(), bias.requires_grad_()
    results = []
    for fn, extra in ((sync_batch_norm, {"group": group_of_one}), (batch_norm_reference, {})):
        xi = x.clone().requires_grad_()
        rm, rv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
        y = fn(xi, rm, rv, weight, bias, True, 0.3, 1e-5, **extra)
        grads = torch.autograd.grad(y, (xi, weight, bias), g)
        results.append([y, rm, rv, *grads])
    for got, want in zip(*results, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_one_value_per_channel_over_the_whole_group_is_refused(group_of_one):
    x = torch.randn(1, 3, dtype=torch.float64)
    stats = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    with pytest.raises(ValueError) as caught:
        sync_batch_norm(x, *stats, None, None, True, 0.1, 1e-5, group=group_of_one)
    assert str(caught.value) == (
        "Expected more than 1 value per channel when training, got 1 in total over 1 processes "
        "(local input size torch.Size([1, 3]))"
    )


def test_the_parallel_variance_combination_equals_the_whole_batchs_moments():
    """(n_k, mean_k, M2_k) of unequal and empty slices combine to the whole batch's exactly."""
    x = torch.randn(9, 4, 3, dtype=torch.float64) * 5 + 2
    slices = [x[:2], x[2:2], x[2:9]]  # 2 examples, none, 7
    packed = [_local_moments(s)[0] for s in slices]
    assert [float(p[0]) for p in packed] == [6, 0, 21]  # values per channel in each slice
    count, mean, m2 = _combine(packed, 4)
    whole = x.transpose(0, 1).reshape(4, -1)
    assert count == 27
    torch.testing.assert_close(mean, whole.mean(1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(m2, whole.var(1, correction=0) * 27, rtol=1e-12, atol=1e-12)


def test_in_training_the_module_synchronizes_over_its_own_group(monkeypatch):
    group = object()  # a stand-in: only passed along here
    module = SyncBatchNorm(3, process_group=group)
    monkeypatch.setattr(sync_batchnorm, "_world_size", lambda g: 2 if g is group else 1)
    chosen = module._implementation()
    assert chosen.func is sync_batchnorm.sync_batch_norm and chosen.keywords == {"group": group}
    module.eval()
    assert module._implementation() is not chosen.func  # prediction needs no communication


def test_conversion_keeps_eps_momentum_flags_and_device():
    model = nn.Sequential(BatchNorm2d(3, eps=1e-3, momentum=0.25, affine=False, device="meta"))
    converted = convert_sync_batch_norm(model)[0]
    assert (converted.eps, converted.momentum, converted.affine) == (1e-3, 0.25, False)
    assert converted.running_mean.device.type == "meta"  # built on the source's device
    reverted = revert_sync_batch_norm(nn.Sequential(converted))[0]
    assert (reverted.eps, reverted.momentum) == (1e-3, 0.25)
