"""Parity of trainlab's BatchNorm1d/2d/3d with torch.nn.BatchNorm1d/2d/3d.

Every test builds a trainlab module and the matching torch module from the same state and checks
that they behave identically: training steps (outputs, gradients, running statistics,
num_batches_tracked), evaluation, memory layouts, dtypes, momentum conventions, state dicts
(both directions, version-1 checkpoints), repr, resets and error messages. Both the hand-written
autograd.Function (impl="fast") and the textbook formulas (impl="reference") are covered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch
from torch import Tensor, nn

from trainlab.nn import BatchNorm1d, BatchNorm2d, BatchNorm3d

IMPLS = ("fast", "reference")
TRAIN_STEPS = 3
EVAL_STEPS = 2
CHANNELS = 3

TOLERANCES = {
    torch.float32: {"atol": 1e-5, "rtol": 1e-4},
    torch.float64: {"atol": 1e-10, "rtol": 1e-10},
}
# Half-precision outputs are computed in float32 and rounded once to the input dtype, so they
# lie within about one unit in the last place of torch's float32 result.
HALF_TOLERANCES = {
    torch.float16: {"atol": 2e-3, "rtol": 2e-3},
    torch.bfloat16: {"atol": 2e-2, "rtol": 2e-2},
}


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


# --------------------------------------------------------------------------------------------
# Cases: which module, which input shape
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    ours: type[nn.Module]
    theirs: type[nn.Module]
    shape: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.theirs.__name__}{list(self.shape)}"


CASES = {
    "1d-NC": Case(BatchNorm1d, nn.BatchNorm1d, (6, CHANNELS)),
    "1d-NCL": Case(BatchNorm1d, nn.BatchNorm1d, (4, CHANNELS, 5)),
    "2d": Case(BatchNorm2d, nn.BatchNorm2d, (3, CHANNELS, 4, 5)),
    "3d": Case(BatchNorm3d, nn.BatchNorm3d, (2, CHANNELS, 3, 4, 2)),
}


# --------------------------------------------------------------------------------------------
# Memory layouts: each builder returns a new tensor equal to `base`, laid out as named
# --------------------------------------------------------------------------------------------


def _contiguous(base: Tensor) -> Tensor:
    return base.clone()


def _channels_last(base: Tensor) -> Tensor:
    fmt = torch.channels_last if base.dim() == 4 else torch.channels_last_3d
    return base.clone().contiguous(memory_format=fmt)


def _sliced(base: Tensor) -> Tensor:
    """A view taking every other element of the last axis of a larger buffer."""
    buffer = torch.full((*base.shape[:-1], 2 * base.shape[-1]), float("nan"), dtype=base.dtype)
    buffer[..., ::2] = base
    return buffer[..., ::2]


def _transposed(base: Tensor) -> Tensor:
    """A permuted view of a tensor stored with its axes in reverse order."""
    reverse = tuple(reversed(range(base.dim())))
    return base.permute(reverse).contiguous().permute(reverse)


LAYOUTS: dict[str, Callable[[Tensor], Tensor]] = {
    "contiguous": _contiguous,
    "channels_last": _channels_last,
    "sliced": _sliced,
    "transposed": _transposed,
}


def _check_layout(t: Tensor, layout: str) -> None:
    if layout == "contiguous":
        assert t.is_contiguous()
    elif layout == "channels_last":
        fmt = torch.channels_last if t.dim() == 4 else torch.channels_last_3d
        assert t.is_contiguous(memory_format=fmt) and not t.is_contiguous()
    else:
        assert not t.is_contiguous()


def laid_out(base: Tensor, layout: str, requires_grad: bool = False) -> Tensor:
    t = LAYOUTS[layout](base).detach()
    _check_layout(t, layout)
    return t.requires_grad_(requires_grad)


CASE_LAYOUTS = [
    pytest.param(case, layout, id=f"{case_id}-{layout}")
    for case_id, case in CASES.items()
    for layout in LAYOUTS
    if layout != "channels_last" or len(case.shape) >= 4
]


# --------------------------------------------------------------------------------------------
# Module configurations
# --------------------------------------------------------------------------------------------

CONFIGS = {
    "momentum0.1": {},
    "momentum0.3": {"momentum": 0.3},
    "momentumNone": {"momentum": None},
    "affineFalse": {"affine": False},
    "biasFalse": {"bias": False},
    "eps1e-3": {"eps": 1e-3},
    "trackFalse": {"track_running_stats": False},
    "trackFalse-momentumNone": {"track_running_stats": False, "momentum": None},
}


def make_pair(
    case: Case,
    impl: str,
    dtype: torch.dtype = torch.float32,
    randomize: bool = True,
    **kwargs: Any,
) -> tuple[nn.Module, nn.Module]:
    """(ours, torch's) in the same state; with `randomize`, random γ, β and running statistics
    (copied from torch's module into ours with a strict load_state_dict)."""
    theirs = case.theirs(CHANNELS, dtype=dtype, **kwargs)
    ours = case.ours(CHANNELS, dtype=dtype, impl=impl, **kwargs)
    if randomize:
        with torch.no_grad():
            for name, tensor in theirs.state_dict().items():
                if name == "running_var":
                    tensor.copy_(torch.rand(CHANNELS, dtype=dtype) + 0.5)
                elif name != "num_batches_tracked":
                    tensor.copy_(torch.randn(CHANNELS, dtype=dtype))
    ours.load_state_dict(theirs.state_dict(), strict=True)
    return ours, theirs


# --------------------------------------------------------------------------------------------
# Steps and comparisons
# --------------------------------------------------------------------------------------------


@dataclass
class StepResult:
    out: Tensor
    grad_input: Tensor
    grads: dict[str, Tensor | None]


def step(module: nn.Module, x: Tensor, grad_out: Tensor) -> StepResult:
    """One forward and one backward with the upstream gradient grad_out (gradients reset)."""
    module.zero_grad(set_to_none=True)
    x.grad = None
    out = module(x)
    out.backward(grad_out)
    grads = {name: p.grad for name, p in module.named_parameters()}
    return StepResult(out.detach(), x.grad, grads)


def assert_same_buffers(ours: nn.Module, theirs: nn.Module, tol: dict[str, float]) -> None:
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        mine, ref = getattr(ours, name), getattr(theirs, name)
        if ref is None:
            assert mine is None, f"{name} should be None like torch's"
            continue
        assert mine.dtype == ref.dtype, name
        if name == "num_batches_tracked":
            assert mine.item() == ref.item(), name
        else:
            torch.testing.assert_close(mine, ref, **tol, msg=lambda m, n=name: f"{n}: {m}")


def assert_same_step(mine: StepResult, ref: StepResult, tol: dict[str, float]) -> None:
    torch.testing.assert_close(mine.out, ref.out, **tol, msg=lambda m: f"output: {m}")
    torch.testing.assert_close(
        mine.grad_input, ref.grad_input, **tol, msg=lambda m: f"input grad: {m}"
    )
    assert mine.grads.keys() == ref.grads.keys()
    for name, grad in ref.grads.items():
        torch.testing.assert_close(mine.grads[name], grad, **tol, msg=lambda m, n=name: f"{n}: {m}")


def run_and_compare(
    ours: nn.Module,
    theirs: nn.Module,
    shape: tuple[int, ...],
    layout: str,
    dtype: torch.dtype,
    steps: int,
) -> list[StepResult]:
    """`steps` forward/backward passes on fresh random inputs in the modules' current modes,
    checking outputs, gradients and buffers after every step; returns our results."""
    tol = TOLERANCES[dtype]
    results = []
    for _ in range(steps):
        base = torch.randn(shape, dtype=dtype) * 2.0 + 0.5
        grad_base = torch.randn(shape, dtype=dtype)
        x_mine, x_ref = (laid_out(base, layout, requires_grad=True) for _ in range(2))
        mine = step(ours, x_mine, laid_out(grad_base, layout))
        ref = step(theirs, x_ref, laid_out(grad_base, layout))
        assert_same_step(mine, ref, tol)
        assert_same_buffers(ours, theirs, tol)
        assert torch.equal(x_mine.detach(), base), "the input was modified in place"
        if layout in ("contiguous", "channels_last"):  # the output keeps the memory format
            assert mine.out.stride() == ref.out.stride()
        results.append(mine)
    return results


# --------------------------------------------------------------------------------------------
# Training then evaluation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize(("case", "layout"), CASE_LAYOUTS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("impl", IMPLS)
def test_train_then_eval_matches_torch(
    impl: str, dtype: torch.dtype, case: Case, layout: str, config: dict[str, Any]
) -> None:
    ours, theirs = make_pair(case, impl, dtype, **config)
    initial_mean = None if ours.running_mean is None else ours.running_mean.clone()

    ours.train(), theirs.train()
    run_and_compare(ours, theirs, case.shape, layout, dtype, TRAIN_STEPS)
    if initial_mean is not None:  # the running statistics did move
        assert not torch.allclose(ours.running_mean, initial_mean)
        assert ours.num_batches_tracked.item() == TRAIN_STEPS

    ours.eval(), theirs.eval()
    buffers_before = {k: v.clone() for k, v in ours.named_buffers()}
    run_and_compare(ours, theirs, case.shape, layout, dtype, EVAL_STEPS)
    for name, value in ours.named_buffers():  # evaluation never updates the buffers
        assert torch.equal(value, buffers_before[name]), name


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("impl", IMPLS)
def test_untracked_eval_uses_batch_statistics(impl: str, case: Case) -> None:
    ours, theirs = make_pair(case, impl, track_running_stats=False)
    for module in (ours, theirs):
        assert module.running_mean is None
        assert module.running_var is None
        assert module.num_batches_tracked is None
    x = torch.randn(case.shape) * 3.0 - 1.0
    out_train = ours.train()(x)
    out_eval = ours.eval()(x)
    torch.testing.assert_close(out_eval, out_train, rtol=0, atol=0)
    torch.testing.assert_close(out_eval, theirs.eval()(x), **TOLERANCES[torch.float32])
    # Batch statistics: every channel of γ⁻¹(y − β) has mean 0 and variance about 1.
    dims = [0, *range(2, x.dim())]
    shape = (1, CHANNELS, *([1] * (x.dim() - 2)))
    normalized = (out_eval - ours.bias.view(shape)) / ours.weight.view(shape)
    torch.testing.assert_close(normalized.mean(dim=dims), torch.zeros(CHANNELS), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        normalized.var(dim=dims, unbiased=False), torch.ones(CHANNELS), atol=1e-3, rtol=0
    )


# --------------------------------------------------------------------------------------------
# Half precision
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("half", [torch.float16, torch.bfloat16], ids=["f16", "bf16"])
@pytest.mark.parametrize("impl", IMPLS)
def test_half_precision_input(impl: str, half: torch.dtype, case: Case) -> None:
    ours, theirs = make_pair(case, impl)  # float32 parameters and buffers
    tol, tol32 = HALF_TOLERANCES[half], TOLERANCES[torch.float32]
    for training in (True, True, False):
        ours.train(training), theirs.train(training)
        x = (torch.randn(case.shape) * 2.0 + 0.5).to(half)
        grad_out = torch.randn(case.shape).to(half)
        x_ref = x.float().requires_grad_()  # the same values, upcast
        mine = step(ours, x.requires_grad_(), grad_out)
        ref = step(theirs, x_ref, grad_out.float())
        assert mine.out.dtype == half and mine.grad_input.dtype == half
        torch.testing.assert_close(mine.out.float(), ref.out, **tol)
        torch.testing.assert_close(mine.grad_input.float(), ref.grad_input, **tol)
        for name, grad in ref.grads.items():
            assert mine.grads[name].dtype == torch.float32
            torch.testing.assert_close(mine.grads[name], grad, **tol)
        # The statistics are computed from the half values in float32: torch's float32 numbers.
        assert ours.running_mean.dtype == ours.running_var.dtype == torch.float32
        assert_same_buffers(ours, theirs, tol32)


# --------------------------------------------------------------------------------------------
# State dicts
# --------------------------------------------------------------------------------------------

STATE_CONFIGS = {k: CONFIGS[k] for k in ("momentum0.1", "affineFalse", "biasFalse", "trackFalse")}


def _train(module: nn.Module, shape: tuple[int, ...], steps: int = TRAIN_STEPS) -> None:
    module.train()
    with torch.no_grad():
        for _ in range(steps):
            module(torch.randn(shape) * 2.0 + 1.0)


def _eval_output(module: nn.Module, x: Tensor) -> Tensor:
    with torch.no_grad():
        return module.eval()(x)


def _assert_state_dicts_equal(a: dict[str, Tensor], b: dict[str, Tensor]) -> None:
    assert list(a) == list(b)
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=lambda m, k=key: f"{k}: {m}")


@pytest.mark.parametrize("config", STATE_CONFIGS.values(), ids=STATE_CONFIGS.keys())
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("impl", IMPLS)
def test_state_dict_names_match(impl: str, case: Case, config: dict[str, Any]) -> None:
    ours, theirs = make_pair(case, impl, randomize=False, **config)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()]
    assert ours._version == theirs._version == 2
    assert ours.state_dict()._metadata[""]["version"] == 2
    for attr in ("num_features", "eps", "momentum", "affine", "track_running_stats"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


@pytest.mark.parametrize("direction", ["torch-to-ours", "ours-to-torch"])
@pytest.mark.parametrize("config", STATE_CONFIGS.values(), ids=STATE_CONFIGS.keys())
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("impl", IMPLS)
def test_state_dict_round_trip(impl: str, case: Case, config: dict[str, Any], direction: str):
    ours, theirs = make_pair(case, impl, randomize=False, **config)
    source, target = (theirs, ours) if direction == "torch-to-ours" else (ours, theirs)
    with torch.no_grad():
        for p in source.parameters():
            p.copy_(torch.randn_like(p))
    _train(source, case.shape)
    result = target.load_state_dict(source.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    _assert_state_dicts_equal(target.state_dict(), source.state_dict())
    x = torch.randn(case.shape)
    torch.testing.assert_close(
        _eval_output(ours, x), _eval_output(theirs, x), **TOLERANCES[torch.float32]
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("impl", IMPLS)
def test_version_1_checkpoint_loads_with_zero_batches_tracked(impl: str, case: Case) -> None:
    ours, theirs = make_pair(case, impl, randomize=False)
    trained = case.theirs(CHANNELS)
    _train(trained, case.shape)
    assert trained.num_batches_tracked.item() == TRAIN_STEPS

    def old_checkpoint() -> dict[str, Tensor]:
        sd = trained.state_dict()
        del sd["num_batches_tracked"]
        sd._metadata[""] = {"version": 1}
        return sd

    for module in (ours, theirs):
        result = module.load_state_dict(old_checkpoint(), strict=True)
        assert not result.missing_keys and not result.unexpected_keys
        assert module.num_batches_tracked.item() == 0
        assert module.num_batches_tracked.dtype == torch.long
    _assert_state_dicts_equal(ours.state_dict(), theirs.state_dict())
    torch.testing.assert_close(ours.running_mean, trained.running_mean, rtol=0, atol=0)
    x = torch.randn(case.shape)
    torch.testing.assert_close(
        _eval_output(ours, x), _eval_output(theirs, x), **TOLERANCES[torch.float32]
    )


@pytest.mark.parametrize("impl", IMPLS)
def test_version_2_checkpoint_without_batches_tracked_is_rejected(impl: str) -> None:
    case = CASES["2d"]
    ours, theirs = make_pair(case, impl, randomize=False)
    for module in (ours, theirs):
        sd = case.theirs(CHANNELS).state_dict()
        del sd["num_batches_tracked"]
        with pytest.raises(RuntimeError, match=r"Missing key.*num_batches_tracked"):
            module.load_state_dict(sd, strict=True)


def test_version_1_checkpoint_keeps_a_trained_modules_count_as_torch_does() -> None:
    case = CASES["2d"]
    ours, theirs = make_pair(case, "fast", randomize=False)
    for module in (ours, theirs):
        _train(module, case.shape)
        sd = case.theirs(CHANNELS).state_dict()
        del sd["num_batches_tracked"]
        sd._metadata[""] = {"version": 1}
        module.load_state_dict(sd, strict=True)
        assert module.num_batches_tracked.item() == TRAIN_STEPS


# --------------------------------------------------------------------------------------------
# repr and resets
# --------------------------------------------------------------------------------------------

REPR_CONFIGS = {
    **STATE_CONFIGS,
    "eps1e-3": CONFIGS["eps1e-3"],
    "momentumNone": CONFIGS["momentumNone"],
}


@pytest.mark.parametrize("config", REPR_CONFIGS.values(), ids=REPR_CONFIGS.keys())
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_repr_matches_torch(case: Case, config: dict[str, Any]) -> None:
    ours = case.ours(CHANNELS, **config)  # default impl
    theirs = case.theirs(CHANNELS, **config)
    assert repr(ours) == repr(theirs)


def test_default_repr_text() -> None:
    expected = (
        "BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    )
    assert repr(BatchNorm2d(3)) == repr(nn.BatchNorm2d(3)) == expected


@pytest.mark.parametrize("reset", ["reset_running_stats", "reset_parameters"])
@pytest.mark.parametrize("config", STATE_CONFIGS.values(), ids=STATE_CONFIGS.keys())
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("impl", IMPLS)
def test_reset_matches_torch(impl: str, case: Case, config: dict[str, Any], reset: str) -> None:
    ours, theirs = make_pair(case, impl, **config)
    for module in (ours, theirs):
        _train(module, case.shape)
    params_before = {n: p.detach().clone() for n, p in ours.named_parameters()}
    for module in (ours, theirs):
        getattr(module, reset)()
    _assert_state_dicts_equal(ours.state_dict(), theirs.state_dict())
    if ours.track_running_stats:
        assert torch.equal(ours.running_mean, torch.zeros(CHANNELS))
        assert torch.equal(ours.running_var, torch.ones(CHANNELS))
        assert ours.num_batches_tracked.item() == 0
    if reset == "reset_running_stats":  # γ and β are left alone
        for name, p in ours.named_parameters():
            assert torch.equal(p, params_before[name]), name
    # After the reset both modules train identically again.
    ours.train(), theirs.train()
    run_and_compare(ours, theirs, case.shape, "contiguous", torch.float32, steps=2)


# --------------------------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------------------------


def _torch_error(module: nn.Module, x: Tensor) -> ValueError:
    with pytest.raises(ValueError) as info:
        module(x)
    return info.value


WRONG_RANK = [
    pytest.param("1d-NC", (2, 3, 4, 5), "expected 2D or 3D input (got 4D input)", id="1d-4D"),
    pytest.param("1d-NC", (2, 3, 4, 5, 6), "expected 2D or 3D input (got 5D input)", id="1d-5D"),
    pytest.param("1d-NC", (3,), "expected 2D or 3D input (got 1D input)", id="1d-1D"),
    pytest.param("2d", (2, 3, 4), "expected 4D input (got 3D input)", id="2d-3D"),
    pytest.param("2d", (2, 3), "expected 4D input (got 2D input)", id="2d-2D"),
    pytest.param("2d", (2, 3, 4, 5, 6), "expected 4D input (got 5D input)", id="2d-5D"),
    pytest.param("3d", (2, 3, 4), "expected 5D input (got 3D input)", id="3d-3D"),
    pytest.param("3d", (2, 3, 4, 5), "expected 5D input (got 4D input)", id="3d-4D"),
]


@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize(("case_id", "shape", "message"), WRONG_RANK)
@pytest.mark.parametrize("impl", IMPLS)
def test_wrong_rank_message(
    impl: str, case_id: str, shape: tuple[int, ...], message: str, training: bool
) -> None:
    ours, theirs = make_pair(CASES[case_id], impl)
    ours.train(training), theirs.train(training)
    x = torch.randn(shape)
    assert str(_torch_error(theirs, x)) == message
    assert str(_torch_error(ours, x)) == message


SINGLE_VALUE = [
    pytest.param("1d-NC", (1, CHANNELS), id="1d-NC"),
    pytest.param("1d-NCL", (1, CHANNELS, 1), id="1d-NCL"),
    pytest.param("2d", (1, CHANNELS, 1, 1), id="2d"),
    pytest.param("3d", (1, CHANNELS, 1, 1, 1), id="3d"),
]


@pytest.mark.parametrize(("case_id", "shape"), SINGLE_VALUE)
@pytest.mark.parametrize("impl", IMPLS)
def test_one_value_per_channel(impl: str, case_id: str, shape: tuple[int, ...]) -> None:
    case = CASES[case_id]
    x = torch.randn(shape)
    message = (
        "Expected more than 1 value per channel when training, "
        f"got input size torch.Size({list(shape)})"
    )
    for config in ({}, {"track_running_stats": False}):
        ours, theirs = make_pair(case, impl, **config)
        ours.train(), theirs.train()
        assert str(_torch_error(theirs, x)) == message
        assert str(_torch_error(ours, x)) == message
    # Evaluation with running statistics normalizes a single sample fine, in both.
    ours, theirs = make_pair(case, impl)
    ours.eval(), theirs.eval()
    run_and_compare(ours, theirs, shape, "contiguous", torch.float32, steps=1)
    # Without running statistics evaluation needs batch statistics, so it fails like training.
    ours, theirs = make_pair(case, impl, track_running_stats=False)
    ours.eval(), theirs.eval()
    assert str(_torch_error(theirs, x)) == message
    assert str(_torch_error(ours, x)) == message


def test_one_value_per_channel_message_text() -> None:
    with pytest.raises(ValueError) as info:
        BatchNorm1d(3).train()(torch.randn(1, 3))
    assert str(info.value) == (
        "Expected more than 1 value per channel when training, got input size torch.Size([1, 3])"
    )
