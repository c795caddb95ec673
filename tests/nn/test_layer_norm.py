"""Layer normalization: fast path == reference == torch, derivatives of every order and under
torch.func, torch's ModuleInfo inputs, the text's claims, precision, memory and errors."""

from __future__ import annotations

import copy
import io
import pickle
import re

import pytest
import torch
import torch.nn.functional as torch_functional
from torch.testing._internal.common_modules import module_db

from trainlab._checks import ShapeMismatchError
from trainlab.nn.layer_norm import LayerNorm, layer_norm, layer_norm_reference

F64 = torch.float64
IMPLS = ("fast", "reference", "native")
FUNCTIONS = {"fast": layer_norm, "reference": layer_norm_reference}
# (input shape, normalized_shape): 2-D to 4-D input, 1 to 3 normalized dimensions
CASES = [
    ((8, 5), (5,)),
    ((6,), (6,)),
    ((4, 3, 5), (5,)),
    ((4, 3, 5), (3, 5)),
    ((2, 3, 4, 5), (5,)),
    ((2, 3, 4, 5), (4, 5)),
    ((2, 3, 4, 5), (3, 4, 5)),
]
CASE_IDS = [f"{shape}-{normalized}" for shape, normalized in CASES]
AFFINES = ("weight_and_bias", "weight_only", "none")


def _params(normalized_shape, affine="weight_and_bias", dtype=F64, requires_grad=True):
    weight = bias = None
    if affine != "none":
        weight = (torch.rand(normalized_shape, dtype=dtype) + 0.5).requires_grad_(requires_grad)
    if affine == "weight_and_bias":
        bias = torch.randn(normalized_shape, dtype=dtype).requires_grad_(requires_grad)
    return weight, bias


def _outputs_and_grads(fn, x, normalized_shape, weight, bias, grad_out):
    """y and the gradients of ⟨y, grad_out⟩ with respect to x and the given γ, β."""
    x = x.detach().clone(memory_format=torch.preserve_format).requires_grad_()
    y = fn(x, normalized_shape, weight, bias)
    inputs = [t for t in (x, weight, bias) if t is not None]
    return [y, *torch.autograd.grad(y, inputs, grad_out)]


def _assert_all_close(got, want, **tolerance):
    for index, (a, b) in enumerate(zip(got, want, strict=True)):
        torch.testing.assert_close(a, b, **tolerance, msg=lambda m, i=index: f"item {i}: {m}")


@pytest.mark.parametrize("affine", AFFINES)
@pytest.mark.parametrize(("shape", "normalized_shape"), CASES, ids=CASE_IDS)
def test_fast_path_equals_reference(shape, normalized_shape, affine):
    x = torch.randn(shape, dtype=F64) * 3 + 1
    weight, bias = _params(normalized_shape, affine)
    grad_out = torch.randn(shape, dtype=F64)
    fast, ref = (
        _outputs_and_grads(fn, x, normalized_shape, weight, bias, grad_out)
        for fn in (layer_norm, layer_norm_reference)
    )
    _assert_all_close(fast, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("layout", "normalized_shape"),
    [
        ("channels_last", (3, 4, 5)),
        ("channels_last", (5,)),
        ("transposed", (4,)),
        ("sliced", (5,)),
        ("expanded_grad", (4, 5)),
    ],
)
def test_fast_path_handles_any_memory_layout(layout, normalized_shape):
    x = torch.randn(2, 3, 4, 5, dtype=F64) * 2 - 1
    grad_out = torch.randn(2, 3, 4, 5, dtype=F64)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "transposed":  # the normalized axis is not the one adjacent in memory
        x, grad_out = x.transpose(2, 3), grad_out.transpose(2, 3)
    elif layout == "sliced":
        x, grad_out = x[:, ::2], grad_out[:, ::2]
    else:
        grad_out = torch.ones(1, dtype=F64).expand_as(x)  # what y.sum().backward() sends
    assert not x.is_contiguous() or layout == "expanded_grad"
    weight, bias = _params(normalized_shape)
    fast, ref, native = (
        _outputs_and_grads(fn, x, normalized_shape, weight, bias, grad_out)
        for fn in (layer_norm, layer_norm_reference, torch_functional.layer_norm)
    )
    _assert_all_close(fast, ref, rtol=1e-12, atol=1e-12)
    assert fast[0].is_contiguous() and native[0].is_contiguous()  # as torch's output


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize(("shape", "normalized_shape"), CASES, ids=CASE_IDS)
def test_both_paths_equal_torch(shape, normalized_shape, dtype):
    x = torch.randn(shape, dtype=dtype) * 2 + 3
    weight, bias = _params(normalized_shape, dtype=dtype)
    grad_out = torch.randn(shape, dtype=dtype)
    native = _outputs_and_grads(
        torch_functional.layer_norm, x, normalized_shape, weight, bias, grad_out
    )
    tolerance = {"rtol": 1e-12, "atol": 1e-12} if dtype == F64 else {"rtol": 1e-5, "atol": 1e-5}
    for fn in (layer_norm, layer_norm_reference):
        got = _outputs_and_grads(fn, x, normalized_shape, weight, bias, grad_out)
        assert got[0].dtype == dtype
        _assert_all_close(got, native, **tolerance)


@pytest.mark.parametrize("affine", AFFINES)
@pytest.mark.parametrize(
    ("shape", "normalized_shape"), [((4, 5), (5,)), ((3, 2, 4), (2, 4)), ((2, 2, 2, 3), (2, 2, 3))]
)
@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_gradcheck_and_gradgradcheck(impl, shape, normalized_shape, affine):
    x = torch.randn(shape, dtype=F64, requires_grad=True)
    weight, bias = _params(normalized_shape, affine)
    params = [t for t in (weight, bias) if t is not None]

    def f(x, *params):
        weight, bias = (*params, None, None)[:2]
        return FUNCTIONS[impl](x, normalized_shape, weight, bias)

    # batched gradients run the fast backward under vmap; forward AD checks the jvp rule
    checks = {"check_forward_ad": True, "check_batched_grad": True}
    assert torch.autograd.gradcheck(f, (x, *params), **checks)
    assert torch.autograd.gradgradcheck(
        f, (x, *params), check_batched_grad=True, check_fwd_over_rev=True
    )


def test_gradients_only_for_what_requires_them():
    x = torch.randn(6, 3, 4, dtype=F64, requires_grad=True)
    weight, bias = _params((3, 4), requires_grad=False)
    (grad_x,) = torch.autograd.grad(layer_norm(x, (3, 4), weight, bias).sum(), (x,))
    x_ref = x.detach().requires_grad_()
    loss = layer_norm_reference(x_ref, (3, 4), weight, bias).sum()
    torch.testing.assert_close(grad_x, torch.autograd.grad(loss, x_ref)[0], rtol=1e-12, atol=1e-12)
    # with γ = 1, Σ_j y_j = Σ_j x̂_j = 0 whatever x: its gradient vanishes
    (grad_x,) = torch.autograd.grad(layer_norm(x, (3, 4)).sum(), (x,))
    torch.testing.assert_close(grad_x, torch.zeros_like(grad_x), rtol=0, atol=1e-12)


class TestFunctionTransforms:
    """torch.func over the fast path: its jvp, its vmap rule and its differentiable backward
    agree with the reference, which torch.func differentiates op by op."""

    NORMALIZED = (4, 5)

    def _functions(self):
        _, bias = _params(self.NORMALIZED, requires_grad=False)

        def make(fn):
            return lambda x, w: fn(x, self.NORMALIZED, w, bias)

        weight = torch.rand(self.NORMALIZED, dtype=F64) + 0.5
        return make(layer_norm), make(layer_norm_reference), weight

    def test_jvp(self):
        fast, ref, weight = self._functions()
        x = torch.randn(3, 4, 5, dtype=F64) * 2 + 1
        tangents = (torch.randn_like(x), torch.randn_like(weight))
        (y, dy), (y_ref, dy_ref) = (torch.func.jvp(f, (x, weight), tangents) for f in (fast, ref))
        torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(dy, dy_ref, rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("transform", ["jacfwd", "jacrev"])
    def test_jacobians(self, transform):
        fast, ref, weight = self._functions()
        x = torch.randn(2, 4, 5, dtype=F64) * 2 + 1
        jac = getattr(torch.func, transform)
        got = jac(fast, argnums=(0, 1))(x, weight)
        _assert_all_close(got, jac(ref, argnums=(0, 1))(x, weight), rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("order", ["hessian", "jacrev_of_jacfwd", "jacrev_of_jacrev"])
    def test_second_derivatives(self, order):
        fast, ref, weight = self._functions()
        x = torch.randn(2, 4, 5, dtype=F64) * 2 + 1
        outer, inner = {
            "hessian": (torch.func.jacfwd, torch.func.jacrev),  # forward over reverse
            "jacrev_of_jacfwd": (torch.func.jacrev, torch.func.jacfwd),
            "jacrev_of_jacrev": (torch.func.jacrev, torch.func.jacrev),
        }[order]
        results = []
        for f in (fast, ref):
            loss = lambda z, w, f=f: f(z, w).sin().sum()  # noqa: E731
            results.append(outer(inner(loss, argnums=(0, 1)), argnums=(0, 1))(x, weight))
        (xx, xw), _ = results[1]
        assert xx.abs().max() > 0.1 and xw.abs().max() > 0.1  # far from zero here
        for got, want in zip(results[0], results[1], strict=True):
            _assert_all_close(got, want, rtol=1e-10, atol=1e-12)

    def test_vmap_normalizes_each_mapped_example_on_its_own(self):
        fast, ref, weight = self._functions()
        xs = torch.randn(5, 3, 4, 5, dtype=F64) * 2 + 1
        weights = torch.rand(5, 4, 5, dtype=F64) + 0.5
        expected = torch.stack([ref(x, w) for x, w in zip(xs, weights, strict=True)])
        torch.testing.assert_close(torch.func.vmap(fast)(xs, weights), expected)
        # the mapped axis anywhere, γ shared
        torch.testing.assert_close(
            torch.func.vmap(fast, in_dims=(1, None), out_dims=2)(xs.movedim(0, 1), weight),
            torch.stack([ref(x, weight) for x in xs], dim=2),
        )
        # γ mapped, x shared: an ensemble of layers on one input
        torch.testing.assert_close(
            torch.func.vmap(fast, in_dims=(None, 0))(xs[0], weights),
            torch.stack([ref(xs[0], w) for w in weights]),
        )
        # nested
        torch.testing.assert_close(
            torch.func.vmap(torch.func.vmap(fast, in_dims=(0, None)), in_dims=(0, None))(
                xs, weight
            ),
            ref(xs, weight),
        )

    def test_vmap_with_mapped_bias_and_half_input_keeps_the_dtype(self):
        xs = torch.randn(3, 2, 5)
        biases = torch.randn(3, 5)
        for dtype in (torch.float32, torch.float16):
            got = torch.func.vmap(lambda x, b: layer_norm(x, (5,), None, b))(xs.to(dtype), biases)
            assert got.dtype == dtype
            expected = layer_norm_reference(xs.double(), (5,)) + biases.double()[:, None]
            atol = 1e-5 if dtype == torch.float32 else 5e-3
            torch.testing.assert_close(got.double(), expected, rtol=0, atol=atol)

    def test_per_example_gradients_of_an_ensemble(self):
        fast, ref, _ = self._functions()
        x = torch.randn(3, 4, 5, dtype=F64)
        weights = torch.rand(6, 4, 5, dtype=F64) + 0.5
        results = []
        for f in (fast, ref):
            grad = torch.func.grad(lambda z, w, f=f: f(z, w).sin().sum(), argnums=(0, 1))
            results.append(torch.func.vmap(grad, in_dims=(None, 0))(x, weights))
        _assert_all_close(results[0], results[1], rtol=1e-12, atol=1e-12)

    def test_forward_mode_with_dual_tensors(self):
        import torch.autograd.forward_ad as fwAD

        x, tangent = torch.randn(6, 5, dtype=F64), torch.randn(6, 5, dtype=F64)
        results = []
        for fn in (layer_norm, layer_norm_reference):
            with fwAD.dual_level():
                y = fn(fwAD.make_dual(x, tangent), (5,))
                results.append(fwAD.unpack_dual(y).tangent)
        torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-12)


class TestTorchModuleDatabase:
    """torch's ModuleInfo database (behind pytorch's test_modules.py) for nn.LayerNorm, run
    against trainlab's LayerNorm for every impl: outputs, gradients, output layout, state dicts
    both ways, copies; gradcheck on the float64 inputs."""

    INFO = next(info for info in module_db if info.name == "nn.LayerNorm")
    COUNT = len(INFO.module_inputs_func(INFO, "cpu", torch.float32, True, True))

    def _sample(self, dtype, index, training=True):
        inputs = self.INFO.module_inputs_func(
            self.INFO, device="cpu", dtype=dtype, requires_grad=True, training=training
        )
        return inputs[index]

    def _pair(self, sample, impl, dtype):
        args, kwargs = sample.constructor_input.args, sample.constructor_input.kwargs
        theirs = torch.nn.LayerNorm(*args, **kwargs).to(dtype)
        ours = LayerNorm(*args, **kwargs, impl=impl).to(dtype)
        with torch.no_grad():  # γ, β away from 1, 0, so that the comparison sees them
            for p in theirs.parameters():
                p.copy_(torch.randn_like(p))
        ours.load_state_dict(theirs.state_dict())
        return theirs, ours

    @staticmethod
    def _input(sample):
        (x,) = sample.forward_input.args
        return x.detach().clone().requires_grad_()

    def test_the_database_covers_what_is_claimed(self):
        descriptions = {self._sample(torch.float32, i).desc for i in range(self.COUNT)}
        assert {
            "1d_elementwise_affine",
            "1d_no_elementwise_affine",
            "3d_elementwise_affine",
            "1d_empty_elementwise_affine",
            "3d_elementwise_affine_no_bias",
        } <= descriptions
        # torch lists no error inputs for LayerNorm: TestErrors checks its errors by hand
        assert self.INFO.module_error_inputs_func is None

    @pytest.mark.parametrize("dtype", [torch.float32, F64])
    @pytest.mark.parametrize("impl", IMPLS)
    def test_torch_inputs_give_torch_results(self, impl, dtype):
        tolerance = {"rtol": 1e-5, "atol": 1e-5} if dtype == torch.float32 else {}
        for index in range(self.COUNT):
            for training in (True, False):  # LayerNorm has no mode: both give torch's result
                sample = self._sample(dtype, index, training)
                theirs, ours = self._pair(sample, impl, dtype)
                theirs.train(training)
                ours.train(training)
                x_theirs, x_ours = self._input(sample), self._input(sample)
                y_theirs, y_ours = theirs(x_theirs), ours(x_ours)
                where = f"{sample.desc}, training={training}"
                torch.testing.assert_close(y_ours, y_theirs, **tolerance, msg=where)
                assert y_ours.is_contiguous() == y_theirs.is_contiguous(), where
                grad = torch.randn_like(y_theirs)
                y_theirs.backward(grad)
                y_ours.backward(grad)
                torch.testing.assert_close(x_ours.grad, x_theirs.grad, **tolerance, msg=where)
                for (name, p_theirs), (our_name, p_ours) in zip(
                    theirs.named_parameters(), ours.named_parameters(), strict=True
                ):
                    assert name == our_name
                    torch.testing.assert_close(p_ours.grad, p_theirs.grad, **tolerance, msg=name)

    @pytest.mark.parametrize("impl", IMPLS)
    def test_state_dicts_pickles_and_copies(self, impl):
        for index in range(self.COUNT):
            sample = self._sample(torch.float32, index)
            theirs, ours = self._pair(sample, impl, torch.float32)
            with torch.no_grad():
                for p in ours.parameters():
                    p.add_(1)
            theirs.load_state_dict(ours.state_dict())  # and back: both directions
            assert list(theirs.state_dict()) == list(ours.state_dict())
            for a, b in zip(theirs.state_dict().values(), ours.state_dict().values(), strict=True):
                assert torch.equal(a, b)
            buffer = io.BytesIO()
            torch.save(ours, buffer)
            buffer.seek(0)
            x = self._input(sample)
            for clone in (
                copy.deepcopy(ours),
                pickle.loads(pickle.dumps(ours)),
                torch.load(buffer, weights_only=False),
            ):
                assert type(clone) is LayerNorm and clone.impl == impl
                assert clone.normalized_shape == ours.normalized_shape
                torch.testing.assert_close(clone(x), theirs(x), rtol=1e-6, atol=1e-6)

    @pytest.mark.parametrize("impl", ["fast", "reference"])
    def test_gradcheck_and_gradgradcheck_on_torch_inputs(self, impl):
        for index in range(self.COUNT):
            sample = self._sample(F64, index)
            _, ours = self._pair(sample, impl, F64)
            names = [name for name, _ in ours.named_parameters()]

            def function(x, *weights, ours=ours, names=names):
                return torch.func.functional_call(ours, dict(zip(names, weights, strict=True)), x)

            x = self._input(sample)
            inputs = (x, *[p.detach().clone().requires_grad_() for p in ours.parameters()])
            # the large-batch sample (3200 values) in gradcheck's fast mode (random projections)
            fast_mode = x.numel() > 1000
            assert torch.autograd.gradcheck(
                function, inputs, check_forward_ad=True, fast_mode=fast_mode
            ), sample.desc
            if x.numel():
                assert torch.autograd.gradgradcheck(function, inputs, fast_mode=fast_mode)


@pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
class TestTheText:
    """The claims of the text's Layer Normalization subsection."""

    def test_each_example_has_mean_zero_and_variance_shrunk_by_eps(self, fn):
        scales = torch.tensor([0.01, 0.1, 1, 3, 10], dtype=F64).view(5, 1, 1)
        x = torch.randn(5, 4, 6, dtype=F64) * scales + 7
        eps = 1e-3
        dims = (1, 2)
        var = x.var(dim=dims, unbiased=False)
        y = fn(x, (4, 6), None, None, eps)
        torch.testing.assert_close(y.mean(dim=dims), torch.zeros(5, dtype=F64), rtol=0, atol=1e-12)
        torch.testing.assert_close(
            y.var(dim=dims, unbiased=False), var / (var + eps), rtol=1e-10, atol=0
        )

    def test_positive_scale_and_shift_are_absorbed_exactly_by_rescaling_eps(self, fn):
        """LN_ε(αx + c) = LN_{ε/α²}(x) for α > 0: (αx + c − (αμ + c)) / sqrt(α²σ² + ε)
        = (x − μ) / sqrt(σ² + ε/α²). So LN is invariant in the limit ε → 0."""
        x = torch.randn(6, 3, 5, dtype=F64)
        weight, bias = _params((3, 5), requires_grad=False)
        eps = 1e-2  # large, so that a mismatch in the ε rescaling would show
        for alpha, c in ((0.5, -2.0), (3.0, 0.0), (40.0, 7.0)):
            scaled = fn(x * alpha + c, (3, 5), weight, bias, eps)
            torch.testing.assert_close(
                scaled, fn(x, (3, 5), weight, bias, eps / alpha**2), rtol=1e-12, atol=1e-12
            )
        # and a negative α flips the sign of x̂
        torch.testing.assert_close(
            fn(-2 * x + 1, (3, 5), None, None, eps),
            -fn(x, (3, 5), None, None, eps / 4),
            rtol=1e-12,
            atol=1e-12,
        )

    def test_positive_scale_and_shift_change_the_output_only_through_eps(self, fn):
        x = torch.randn(6, 3, 5, dtype=F64)
        y = fn(x, (3, 5))
        for alpha, c in ((4.0, 3.0), (0.25, -1.0)):
            y_scaled = fn(alpha * x + c, (3, 5))  # default ε = 1e-5
            # |Δx̂| ≈ |x̂|·|1 − 1/α²|·ε/(2σ²) ~ 1e-4 at most for σ² ≈ 1
            torch.testing.assert_close(y_scaled, y, rtol=0, atol=3e-4)
            assert (y_scaled - y).abs().max() > 1e-8  # not exactly: ε does not scale with x

    def test_an_example_does_not_depend_on_the_rest_of_its_batch(self, fn):
        weight, bias = _params((3, 4), requires_grad=False)
        example = torch.randn(1, 3, 4, dtype=F64)
        alone = fn(example, (3, 4), weight, bias)
        for size in (2, 8, 33):
            batch = torch.cat([example, torch.randn(size - 1, 3, 4, dtype=F64) * 10 + 5])
            torch.testing.assert_close(fn(batch, (3, 4), weight, bias)[:1], alone, rtol=0, atol=0)
        # ...whereas batch normalization's training output does
        bn_alone = torch_functional.batch_norm(example.repeat(2, 1, 1), None, None, training=True)
        bn_batch = torch_functional.batch_norm(batch, None, None, training=True)
        assert not torch.allclose(bn_batch[:1], bn_alone[:1])

    def test_a_batch_of_one_and_a_single_unbatched_example_work(self, fn):
        x = torch.randn(7, dtype=F64)
        y = fn(x, 7)
        assert y.shape == (7,)
        torch.testing.assert_close(fn(x[None], (7,))[0], y, rtol=0, atol=0)


@pytest.mark.parametrize("impl", IMPLS)
def test_training_and_evaluation_modes_give_the_same_output(impl):
    layer = LayerNorm((3, 4), impl=impl).double()
    with torch.no_grad():
        layer.weight.uniform_(0.5, 1.5)
        layer.bias.normal_()
    x = torch.randn(5, 3, 4, dtype=F64)
    trained = layer.train()(x)
    assert torch.equal(layer.eval()(x), trained)
    assert not list(layer.buffers())  # no running statistics to update


@pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_input_keeps_float32_statistics(fn, dtype):
    # 4096 values near 100 per example: their sum overflows float16 (max 65504), and bfloat16's
    # 8-bit mantissa would lose the small spread if it accumulated in its own precision.
    x = (100 + torch.randn(3, 4096)).to(dtype)
    weight = torch.rand(4096) + 0.5  # float32 parameters, as autocast and torch's kernel allow
    y = fn(x, (4096,), weight)
    assert y.dtype == dtype
    expected = layer_norm_reference(x.double(), (4096,), weight.double())
    # within rounding to the half-precision output (|y| < 8: an ulp is at most 2⁻⁷ in float16,
    # 2⁻⁴ in bfloat16)
    ulp = 2**-7 if dtype == torch.float16 else 2**-4
    torch.testing.assert_close(y.double(), expected, rtol=0, atol=ulp)


def test_half_precision_statistics_and_gradients_are_float32():
    x = torch.randn(16, 3, 8).half().requires_grad_()
    weight, bias = torch.ones(3, 8, requires_grad=True), torch.zeros(3, 8, requires_grad=True)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        y = layer_norm(x, (3, 8), weight, bias)
    statistics = [t for t in saved if t.shape == (16, 1)]
    assert len(statistics) == 3 and all(t.dtype == torch.float32 for t in statistics)
    grad_out = torch.randn(16, 3, 8).half()
    y.backward(grad_out)
    assert x.grad.dtype == torch.float16 and weight.grad.dtype == torch.float32
    ref_x = x.detach().float().requires_grad_()
    layer_norm_reference(ref_x, (3, 8), weight.detach(), bias.detach()).backward(grad_out.float())
    torch.testing.assert_close(x.grad.float(), ref_x.grad, rtol=0, atol=5e-3)


@pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
def test_large_mean_small_spread_normalizes_in_float32(fn):
    x = (1e4 + 1e-2 * torch.randn(8, 256, dtype=F64)).float()
    y = fn(x, (256,), None, None, 1e-8).double()
    torch.testing.assert_close(y.mean(dim=1), torch.zeros(8, dtype=F64), rtol=0, atol=1e-3)
    torch.testing.assert_close(
        y.std(dim=1, unbiased=False), torch.ones(8, dtype=F64), atol=1e-3, rtol=0
    )
    # the backward recomputes x̂ from x − μ₀ and δ as well
    x.requires_grad_()
    grad_out = torch.randn(8, 256)
    (grad_x,) = torch.autograd.grad(fn(x, (256,), None, None, 1e-8), x, grad_out)
    x64 = x.detach().double().requires_grad_()
    (expected,) = torch.autograd.grad(
        layer_norm_reference(x64, (256,), None, None, 1e-8), x64, grad_out.double()
    )
    assert (grad_x.double() - expected).abs().max() < 1e-3 * expected.abs().max()


def test_the_backward_saves_no_tensor_of_the_inputs_size_but_x():
    """Never x̂: x (which the layer before keeps alive anyway) and per-example statistics."""
    x = torch.randn(8, 3, 5, dtype=F64, requires_grad=True)
    weight, bias = _params((3, 5))
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        layer_norm(x, (3, 5), weight, bias)
    big = [t for t in saved if t.numel() >= x.numel()]
    assert len(big) == 1 and big[0] is x
    assert sum(t.numel() for t in saved) == x.numel() + 2 * 15 + 3 * 8


def test_a_retained_graph_gives_the_same_gradients_twice():
    x = (torch.randn(8, 3, 5, dtype=F64) * 3 + 1).requires_grad_()
    weight, bias = _params((5,))
    y = layer_norm(x, (5,), weight, bias)
    grad_out = torch.randn_like(y)
    first = torch.autograd.grad(y, (x, weight, bias), grad_out, retain_graph=True)
    second = torch.autograd.grad(y, (x, weight, bias), grad_out)
    _assert_all_close(first, second, rtol=0, atol=0)


@pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
@pytest.mark.parametrize(("shape", "normalized_shape"), [((0, 5), (5,)), ((3, 0), (0,))])
def test_empty_inputs(fn, shape, normalized_shape):
    x = torch.randn(shape, dtype=F64, requires_grad=True)
    weight, bias = _params(normalized_shape)
    y = fn(x, normalized_shape, weight, bias)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad.shape == x.shape
    assert torch.equal(weight.grad, torch.zeros(normalized_shape, dtype=F64))


class TestModule:
    def test_normalized_shape_is_stored_as_a_tuple_and_parameters_have_it(self):
        for given in (5, [2, 5], (2, 5), torch.Size([3, 2, 5])):
            layer = LayerNorm(given)
            expected = torch.nn.LayerNorm(given)
            assert layer.normalized_shape == expected.normalized_shape
            assert type(layer.normalized_shape) is tuple
            assert layer.weight.shape == expected.weight.shape == layer.bias.shape

    @pytest.mark.parametrize(
        "kwargs", [{}, {"bias": False}, {"elementwise_affine": False}, {"eps": 1e-3}]
    )
    def test_parameters_and_repr_are_torchs(self, kwargs):
        ours, theirs = LayerNorm((3, 4), **kwargs), torch.nn.LayerNorm((3, 4), **kwargs)
        assert repr(ours) == repr(theirs)
        assert [(n, p.shape) for n, p in ours.named_parameters()] == [
            (n, p.shape) for n, p in theirs.named_parameters()
        ]
        assert (ours.weight is None) == (theirs.weight is None)
        assert (ours.bias is None) == (theirs.bias is None)
        assert repr(LayerNorm((3, 4), **kwargs, impl="native")).endswith(", impl='native')")

    def test_reset_parameters_and_factory_arguments(self):
        layer = LayerNorm(4, dtype=F64, device="cpu")
        assert layer.weight.dtype == F64 and layer.bias.dtype == F64
        with torch.no_grad():
            layer.weight.normal_()
            layer.bias.normal_()
        layer.reset_parameters()
        assert torch.equal(layer.weight, torch.ones(4, dtype=F64))
        assert torch.equal(layer.bias, torch.zeros(4, dtype=F64))

    def test_impl_can_change_at_any_time_and_is_checked(self):
        layer = LayerNorm(5)
        x = torch.randn(3, 5)
        outputs = []
        for impl in IMPLS:
            layer.impl = impl
            outputs.append(layer(x))
        for y in outputs[1:]:
            torch.testing.assert_close(y, outputs[0])
        with pytest.raises(ValueError, match="impl must be 'fast', 'reference' or 'native'"):
            LayerNorm(5, impl="cuda")
        layer.impl = "fused"
        with pytest.raises(ValueError, match="got 'fused'"):
            layer(x)


class TestErrors:
    """Where torch raises, trainlab raises an exception of torch's type (code that catches
    torch's error catches trainlab's), with a message that names the bad value and the fix."""

    @pytest.mark.parametrize("impl", IMPLS)
    @pytest.mark.parametrize(
        ("shape", "normalized_shape"),
        [((4, 5, 6), (5,)), ((4, 5), (4, 5, 6)), ((3, 4), (3, 5))],
    )
    def test_wrong_trailing_shape(self, impl, shape, normalized_shape):
        x = torch.randn(shape)
        with pytest.raises(RuntimeError):
            torch.nn.LayerNorm(normalized_shape)(x)
        layer = LayerNorm(normalized_shape, impl=impl)
        message = rf"normalized_shape={re.escape(str(normalized_shape))}.*must equal"
        for caught in (RuntimeError, ValueError, ShapeMismatchError):
            with pytest.raises(caught, match=message):
                layer(x)
        if impl != "native":
            with pytest.raises(ShapeMismatchError, match=r"does not end with"):
                FUNCTIONS[impl](x, normalized_shape)

    @pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
    @pytest.mark.parametrize("name", ["weight", "bias"])
    def test_parameters_of_the_wrong_shape(self, fn, name):
        x = torch.randn(3, 4)
        bad = {name: torch.ones(5)}
        with pytest.raises(RuntimeError):
            torch_functional.layer_norm(x, (4,), **bad)
        with pytest.raises(ShapeMismatchError, match=rf"{name} has shape \(5,\) but normalized"):
            fn(x, (4,), **bad)

    @pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
    def test_parameters_of_another_dtype_are_accepted_unlike_torch(self, fn):
        """torch's CPU kernel refuses float64 γ, β with float32 input ("mixed dtype");
        trainlab computes in the input's precision and returns the input's dtype."""
        x = torch.randn(3, 4)
        weight, bias = _params((4,), requires_grad=False)
        with pytest.raises(RuntimeError, match="mixed dtype"):
            torch_functional.layer_norm(x, (4,), weight, bias)
        y = fn(x, (4,), weight, bias)
        assert y.dtype == torch.float32
        expected = layer_norm_reference(x.double(), (4,), weight, bias)
        torch.testing.assert_close(y.double(), expected, rtol=1e-6, atol=1e-6)

    @pytest.mark.parametrize("impl", IMPLS)
    @pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64])
    def test_integer_boolean_or_complex_input(self, impl, dtype):
        x = torch.ones(3, 4, dtype=dtype)
        with pytest.raises(RuntimeError):  # torch: NotImplementedError, a RuntimeError
            torch.nn.LayerNorm(4)(x)
        with pytest.raises(TypeError, match=rf"floating-point input, got dtype {dtype}"):
            LayerNorm(4, impl=impl)(x)

    @pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
    def test_not_a_tensor(self, fn):
        with pytest.raises(TypeError, match=r"expects a torch\.Tensor input, got list"):
            fn([[1.0, 2.0]], (2,))

    @pytest.mark.parametrize("impl", IMPLS)
    @pytest.mark.parametrize("eps", [0.0, -1e-3])
    def test_eps_zero_or_negative_is_accepted_as_by_torch(self, impl, eps):
        x = torch.randn(4, 6, dtype=F64)
        x[0] = 3.0  # a constant example: 0/0 with ε = 0, and rsqrt of a negative with ε < 0
        theirs = torch.nn.LayerNorm(6, eps=eps).double()(x)
        ours = LayerNorm(6, eps=eps, impl=impl).double()(x)
        torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)
        assert ours[0].isnan().all() and not ours[1:].isnan().any()

    @pytest.mark.parametrize("impl", IMPLS)
    @pytest.mark.parametrize("eps", [float("nan"), float("inf"), -float("inf")])
    def test_eps_nan_or_infinite_is_refused(self, impl, eps):
        x = torch.randn(4, 6)
        torch.nn.LayerNorm(6, eps=eps)(x)  # torch lets it through: NaN, or x̂ = 0 for ε = ∞
        with pytest.raises(ValueError, match="eps must be finite"):
            LayerNorm(6, eps=eps, impl=impl)
        layer = LayerNorm(6, impl=impl)
        layer.eps = eps  # set after construction: refused when used
        with pytest.raises(ValueError, match="eps must be finite"):
            layer(x)

    @pytest.mark.parametrize("fn", [layer_norm, layer_norm_reference])
    def test_eps_of_the_wrong_type_is_refused(self, fn):
        with pytest.raises(TypeError, match="eps must be a number, got '1e-5'"):
            fn(torch.randn(2, 3), (3,), eps="1e-5")

    @pytest.mark.parametrize(
        ("normalized_shape", "error", "message"),
        [
            ((), ValueError, r"at least one trailing dimension, got \(\)"),
            ([], ValueError, r"at least one trailing dimension"),
            (-1, ValueError, r"normalized_shape\[0\] must be >= 0, got -1"),
            ((3, -2), ValueError, r"normalized_shape\[1\] must be >= 0, got -2"),
            (2.5, TypeError, r"int or a sequence of ints .* got 2.5 \(float\)"),
            ((3, 2.0), TypeError, r"normalized_shape\[1\] must be an int, got 2.0"),
            ("3", TypeError, r"normalized_shape\[0\] must be an int, got '3'"),
            (True, TypeError, r"got True \(bool\)"),
            (None, TypeError, r"got None"),
        ],
    )
    def test_bad_normalized_shape(self, normalized_shape, error, message):
        with pytest.raises(error, match=message):
            LayerNorm(normalized_shape)
        x = torch.randn(2, 3)
        for fn in (layer_norm, layer_norm_reference):
            with pytest.raises(error, match=message):
                fn(x, normalized_shape)

    def test_torch_raises_for_the_bad_normalized_shapes_too(self):
        """torch's exception types for the same mistakes (trainlab's differ where it raises
        earlier, at construction, with a ValueError: see the module's docstring)."""
        with pytest.raises(RuntimeError, match="at least 1-dimensional"):
            torch.nn.LayerNorm(())(torch.randn(2, 3))
        with pytest.raises(RuntimeError, match="negative dimension"):
            torch.nn.LayerNorm(-1)
        for bad in (2.5, "3", True):
            with pytest.raises(TypeError):
                torch.nn.LayerNorm(bad)
