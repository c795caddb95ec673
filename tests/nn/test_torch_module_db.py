"""torch's own module test database against trainlab's drop-ins.

``torch.testing._internal.common_modules`` (the ModuleInfo database behind pytorch's
test_modules.py) lists, for every module, the constructor and forward inputs its authors chose
(``module_inputs_func``) and the inputs that must fail, with the error type and message
(``module_error_inputs_func``). Here every input of BatchNorm1d/2d/3d runs through torch's module
and trainlab's, for every ``impl``, in training and in prediction mode, in float32 and float64:
outputs, input and parameter gradients, running statistics, the batch counter and the output's
memory format must agree; state dicts must load both ways; pickling and copies must work; the
float64 cases pass gradcheck and gradgradcheck. The error inputs must fail with torch's type and
message.
"""

from __future__ import annotations

import copy
import io
import pickle

import pytest
import torch
from torch.testing._internal.common_modules import ModuleErrorEnum, module_db

import trainlab.nn

IMPLS = ("fast", "reference", "native")
DTYPES = (torch.float32, torch.float64)
DROP_INS = {
    "nn.BatchNorm1d": trainlab.nn.BatchNorm1d,
    "nn.BatchNorm2d": trainlab.nn.BatchNorm2d,
    "nn.BatchNorm3d": trainlab.nn.BatchNorm3d,
}
INFOS = [info for info in module_db if info.name in DROP_INS]


def _cases():
    for info in INFOS:
        for training in (True, False):
            for dtype in DTYPES:
                inputs = info.module_inputs_func(
                    info, device="cpu", dtype=dtype, requires_grad=True, training=training
                )
                for index, sample in enumerate(inputs):
                    name = f"{info.name}-{sample.desc or index}-{dtype}-train{training}"
                    yield pytest.param(info, training, dtype, index, id=name)


CASES = list(_cases())


def _sample(info, training, dtype, index):
    inputs = info.module_inputs_func(
        info, device="cpu", dtype=dtype, requires_grad=True, training=training
    )
    return inputs[index]


def _pair(info, sample, impl):
    """torch's module and trainlab's, built from the same constructor input, same state."""
    args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
    theirs = info.module_cls(*args, **kwargs)
    ours = DROP_INS[info.name](*args, **kwargs, impl=impl)
    ours.load_state_dict(theirs.state_dict())
    return theirs, ours


def _forward_input(sample):
    (x,) = sample.forward_input.args
    return x.detach().clone(memory_format=torch.preserve_format).requires_grad_()


def test_the_database_covers_what_is_claimed():
    assert sorted(i.name for i in INFOS) == sorted(DROP_INS)
    descriptions = {
        _sample(info, True, torch.float32, i).desc
        for info in INFOS
        for i in range(len(info.module_inputs_func(info, "cpu", torch.float32, True, True)))
    }
    assert {"zero_batch", "not_tracking_stats", "affine_not_bias"} <= descriptions
    assert len(CASES) >= 60


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("info", "training", "dtype", "index"), CASES)
def test_torch_inputs_give_torch_results(info, training, dtype, index, impl):
    sample = _sample(info, training, dtype, index)
    theirs, ours = _pair(info, sample, impl)
    theirs.to(dtype).train(training)
    ours.to(dtype).train(training)
    tolerance = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {}
    for step in range(2):  # twice: the second step starts from updated running statistics
        x_theirs, x_ours = _forward_input(sample), _forward_input(sample)
        y_theirs, y_ours = theirs(x_theirs), ours(x_ours)
        torch.testing.assert_close(y_ours, y_theirs, **tolerance, msg=f"output, step {step}")
        assert y_ours.is_contiguous() == y_theirs.is_contiguous()
        grad = torch.randn_like(y_theirs)
        y_theirs.backward(grad)
        y_ours.backward(grad)
        torch.testing.assert_close(x_ours.grad, x_theirs.grad, **tolerance)
        for (name, p_theirs), p_ours in zip(
            theirs.named_parameters(), ours.parameters(), strict=True
        ):
            torch.testing.assert_close(p_ours.grad, p_theirs.grad, **tolerance, msg=name)
        for (name, b_theirs), b_ours in zip(theirs.named_buffers(), ours.buffers(), strict=True):
            torch.testing.assert_close(b_ours, b_theirs, **tolerance, msg=f"{name}, step {step}")


STATE_CASES = [c for c in CASES if c.values[2] == torch.float32]  # state does not depend on it
GRAD_CASES = [c for c in CASES if c.values[2] == torch.float64]


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("info", "training", "dtype", "index"), STATE_CASES)
def test_state_dicts_pickles_and_copies(info, training, dtype, index, impl):
    sample = _sample(info, training, dtype, index)
    theirs, ours = _pair(info, sample, impl)
    ours.train(training)(_forward_input(sample))  # move the statistics off their initial values
    theirs.load_state_dict(ours.state_dict())  # and back: both directions
    assert list(theirs.state_dict()) == list(ours.state_dict())
    buffer = io.BytesIO()
    torch.save(ours, buffer)
    buffer.seek(0)
    for clone in (
        copy.deepcopy(ours),
        pickle.loads(pickle.dumps(ours)),
        torch.load(buffer, weights_only=False),
    ):
        assert type(clone) is type(ours) and clone.impl == impl
        for a, b in zip(clone.state_dict().values(), ours.state_dict().values(), strict=True):
            assert torch.equal(a, b)
        x = _forward_input(sample)
        torch.testing.assert_close(clone.eval()(x), copy.deepcopy(ours).eval()(x))


@pytest.mark.parametrize("impl", ("fast", "reference"))
@pytest.mark.parametrize(("info", "training", "dtype", "index"), GRAD_CASES)
def test_gradcheck_and_gradgradcheck_on_torch_inputs(info, training, dtype, index, impl):
    sample = _sample(info, training, dtype, index)
    _, ours = _pair(info, sample, impl)
    ours.double().train(training)
    names = [name for name, _ in ours.named_parameters()]

    def function(x, *weights):
        return torch.func.functional_call(ours, dict(zip(names, weights, strict=True)), (x,))

    inputs = (
        _forward_input(sample),
        *[p.detach().clone().requires_grad_() for p in ours.parameters()],
    )
    assert torch.autograd.gradcheck(function, inputs, check_forward_ad=True)
    if inputs[0].numel():
        assert torch.autograd.gradgradcheck(function, inputs)


def _error_cases():
    for info in INFOS:
        for index, case in enumerate(
            info.module_error_inputs_func(info, "cpu", torch.float32, False, True)
        ):
            yield pytest.param(info, index, id=f"{info.name}-{index}-{case.error_regex}")


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize(("info", "index"), list(_error_cases()))
def test_torch_error_inputs_fail_as_torch_says(info, index, impl):
    case = info.module_error_inputs_func(info, "cpu", torch.float32, False, True)[index]
    given = case.module_error_input
    args, kwargs = given.constructor_input.args, given.constructor_input.kwargs
    build = lambda: DROP_INS[info.name](*args, **kwargs, impl=impl)  # noqa: E731
    if case.error_on == ModuleErrorEnum.CONSTRUCTION_ERROR:
        with pytest.raises(case.error_type, match=case.error_regex):
            build()
        return
    module = build()
    with pytest.raises(case.error_type, match=case.error_regex):
        module(*given.forward_input.args, **given.forward_input.kwargs)
