"""torch's own optimizer test database against trainlab's SGD.

``torch.testing._internal.common_optimizers`` lists, for SGD, the configurations pytorch's
test_optim.py runs (``optim_inputs_func``: default, lr as a tensor, weight decay, momentum,
dampening, Nesterov, maximize), the LR-scheduler chains it trains under (``scheduler_inputs``)
and the inputs that must fail, with the error type and message (``optim_error_inputs_func``).
Each configuration trains the same small model with torch.optim.SGD and trainlab's SGD, for
each ``foreach`` setting and dtype (complex included, as torch's SGD supports it); parameters,
momentum buffers and learning rates must agree bit for bit, and the state dicts must load into
each other mid-run.
"""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.testing._internal.common_optimizers import OptimizerErrorEnum, optim_db

from trainlab.optim import SGD

INFO = next(info for info in optim_db if info.optim_cls is torch.optim.SGD)
CONFIGS = INFO.optim_inputs_func(device="cpu")
FOREACH = (False, True, None)
DTYPES = (torch.float32, torch.float64, torch.complex64)
STEPS = 6


def _params(dtype: torch.dtype) -> list[nn.Parameter]:
    generator = torch.Generator().manual_seed(0)
    shapes = [(4, 3), (4,), (2, 4), (2,)]
    return [nn.Parameter(torch.randn(s, generator=generator, dtype=dtype)) for s in shapes]


def _loss(params: list[nn.Parameter], step: int) -> torch.Tensor:
    """A small two-layer network on a fixed batch: smooth, different each step."""
    generator = torch.Generator().manual_seed(100 + step)
    w1, b1, w2, b2 = params
    x = torch.randn(5, 3, generator=generator).to(w1.dtype)
    out = torch.tanh(x @ w1.T + b1) @ w2.T + b2
    return out.abs().square().sum() if out.is_complex() else out.square().sum()


def _run(cls, kwargs, dtype, chain=(), swap_state_at=None, other=None):
    """Train for STEPS steps; return the parameters, the optimizer and the lr at every step.
    With ``swap_state_at``, the optimizer's state dict is replaced at that step by ``other``'s."""
    params = _params(dtype)
    optimizer = cls(params, **kwargs)
    schedulers = [make(optimizer) for make in chain]
    rates = []
    for step in range(STEPS):
        optimizer.zero_grad()
        loss = _loss(params, step)
        loss.backward()
        optimizer.step()
        for scheduler in schedulers:
            if isinstance(scheduler, ReduceLROnPlateau):
                scheduler.step(loss.item())
            else:
                scheduler.step()
        rates.append([group["lr"] for group in optimizer.param_groups])
        if step == swap_state_at:
            optimizer.load_state_dict(other.state_dict())
    return params, optimizer, rates


def _kwargs(config, foreach):
    kwargs = dict(config.kwargs)
    if isinstance(kwargs.get("lr"), torch.Tensor):
        kwargs["lr"] = kwargs["lr"].clone()  # a scheduler may change it in place
    return {**kwargs, "foreach": foreach}


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return torch.equal(torch.as_tensor(a), torch.as_tensor(b))
    return a == b


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("foreach", FOREACH, ids=lambda f: f"foreach={f}")
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.desc)
def test_torch_configs_train_bit_for_bit_like_torch(config, foreach, dtype):
    ours, our_optimizer, _ = _run(SGD, _kwargs(config, foreach), dtype)
    theirs, their_optimizer, _ = _run(torch.optim.SGD, _kwargs(config, foreach), dtype)
    for p, q in zip(ours, theirs, strict=True):
        assert torch.equal(p, q)
    ours_state, theirs_state = our_optimizer.state_dict(), their_optimizer.state_dict()
    assert ours_state["state"].keys() == theirs_state["state"].keys()
    for key, state in ours_state["state"].items():
        for name, value in state.items():
            assert torch.equal(value, theirs_state["state"][key][name]), name
    for ours_group, theirs_group in zip(
        ours_state["param_groups"], theirs_state["param_groups"], strict=True
    ):
        assert ours_group.keys() == theirs_group.keys()
        assert all(_equal(ours_group[k], theirs_group[k]) for k in ours_group)


@pytest.mark.parametrize("direction", ["torch->trainlab", "trainlab->torch"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.desc)
def test_state_dicts_move_between_the_two_mid_run(config, direction):
    """Train 3 steps with one optimizer, load its state into the other and go on: the result
    equals an uninterrupted torch run."""
    first, second = (
        (torch.optim.SGD, SGD) if direction == "torch->trainlab" else (SGD, torch.optim.SGD)
    )
    kwargs = _kwargs(config, None)
    params = _params(torch.float64)
    source = first(params, **kwargs)
    for step in range(3):
        source.zero_grad()
        _loss(params, step).backward()
        source.step()
    target = second(params, **_kwargs(config, None))
    target.load_state_dict(source.state_dict())
    for step in range(3, STEPS):
        target.zero_grad()
        _loss(params, step).backward()
        target.step()
    reference, _, _ = _run(torch.optim.SGD, _kwargs(config, None), torch.float64)
    for p, q in zip(params, reference, strict=True):
        assert torch.equal(p, q)


@pytest.mark.parametrize("foreach", FOREACH, ids=lambda f: f"foreach={f}")
@pytest.mark.parametrize("chain", range(len(INFO.scheduler_inputs)))
@pytest.mark.parametrize("config", CONFIGS[:5], ids=lambda c: c.desc)
def test_torch_scheduler_chains_drive_it_like_torch_sgd(config, chain, foreach):
    makers = INFO.scheduler_inputs[chain]
    ours, _, our_rates = _run(SGD, _kwargs(config, foreach), torch.float64, makers)
    theirs, _, their_rates = _run(torch.optim.SGD, _kwargs(config, foreach), torch.float64, makers)
    assert [[float(r) for r in step] for step in our_rates] == [
        [float(r) for r in step] for step in their_rates
    ]
    for p, q in zip(ours, theirs, strict=True):
        assert torch.equal(p, q)


ERRORS = INFO.optim_error_inputs_func(device="cpu", dtype=torch.float32)


@pytest.mark.parametrize("case", ERRORS, ids=lambda e: e.optimizer_error_input.desc)
def test_torch_error_inputs_fail_as_torch_says(case):
    given = case.optimizer_error_input
    params = given.params if given.params is not None else [nn.Parameter(torch.randn(2, 2))]
    assert case.error_on == OptimizerErrorEnum.CONSTRUCTION_ERROR  # SGD's are all of this kind
    if issubclass(case.error_type, Warning):
        with pytest.warns(case.error_type, match=case.error_regex):
            SGD(params, **given.kwargs)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(case.error_type, match=case.error_regex):
            SGD(params, **given.kwargs)


@pytest.mark.parametrize(
    ("flag", "fix"),
    [
        ({"differentiable": True}, r"torch\.optim\.SGD\(\.\.\., differentiable=True\)"),
        ({"fused": True}, r"foreach=None .*torch\.optim\.SGD\(\.\.\., fused=True\)"),
    ],
)
def test_torch_flags_it_does_not_implement_get_a_clear_error(flag, fix):
    params = [nn.Parameter(torch.randn(2))]
    SGD(params, differentiable=False, fused=None)  # torch's defaults, as wrappers pass them
    SGD(params, differentiable=False, fused=False)
    with pytest.raises(ValueError, match=fix):
        SGD(params, **flag)
