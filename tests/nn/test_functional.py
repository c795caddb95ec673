"""The functional layer: fast path == reference, gradcheck, the text's claims, stability, errors."""

from __future__ import annotations

import pytest
import torch

from trainlab.nn.functional import (
    batch_norm,
    batch_norm_reference,
    batch_statistics,
    update_running_stats,
)

# (N, C) rows; planes shorter than _kernels.SHORT_PLANE (reduced as columns: 5, 30, 1, 24
# values); planes at least that long (reduced along each plane: 42 values)
SHAPES = [(8, 3), (4, 3, 5), (4, 3, 5, 6), (3, 4, 1, 1), (2, 3, 6, 7), (2, 3, 2, 3, 4)]
F64 = torch.float64


def _params(c: int, dtype=F64, requires_grad: bool = True):
    weight = (torch.rand(c, dtype=dtype) + 0.5).requires_grad_(requires_grad)
    bias = torch.randn(c, dtype=dtype).requires_grad_(requires_grad)
    return weight, bias


def _running(c: int, dtype=F64):
    return torch.randn(c, dtype=dtype), torch.rand(c, dtype=dtype) + 0.5


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("unbiased", [True, False])
def test_fast_path_equals_reference(shape, training, affine, unbiased):
    x = torch.randn(shape, dtype=F64) * 3 + 1
    weight, bias = _params(shape[1]) if affine else (None, None)
    grad_out = torch.randn(shape, dtype=F64)
    running = _running(shape[1])
    results = []
    for fn in (batch_norm, batch_norm_reference):
        xi = x.clone().requires_grad_()
        rm, rv = (t.clone() for t in running)
        y = fn(xi, rm, rv, weight, bias, training, 0.3, 1e-5, unbiased_running_var=unbiased)
        inputs = [xi] + ([weight, bias] if affine else [])
        grads = torch.autograd.grad(y, inputs, grad_out)
        results.append([y, rm, rv, *grads])
    for fast, ref in zip(*results, strict=True):
        torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["channels_last", "transposed", "expanded_grad"])
def test_fast_path_handles_any_memory_layout(layout):
    x = torch.randn(4, 3, 5, 6, dtype=F64)
    grad_out = torch.randn_like(x)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "transposed":
        x = x.transpose(2, 3).contiguous().transpose(2, 3)
    else:
        grad_out = torch.ones(1, dtype=F64).expand_as(x)  # what y.sum().backward() sends
    weight, bias = _params(3)
    grads = []
    for fn in (batch_norm, batch_norm_reference):
        xi = x.detach().clone(memory_format=torch.preserve_format).requires_grad_()
        y = fn(xi, None, None, weight, bias, True)
        grads.append((y, *torch.autograd.grad(y, (xi, weight, bias), grad_out)))
    for fast, ref in zip(*grads, strict=True):
        torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
@pytest.mark.parametrize("order", ["gradcheck", "gradgradcheck"])
def test_gradcheck(shape, training, fn, order):
    """First derivatives (with gradcheck's undefined-gradient check: backward receives None)
    and second derivatives, in float64 against finite differences."""
    x = torch.randn(shape, dtype=F64, requires_grad=True)
    weight, bias = _params(shape[1])
    rm, rv = _running(shape[1])

    def f(x, weight, bias):
        return fn(x, rm.clone(), rv.clone(), weight, bias, training, 0.1, 1e-5)

    assert getattr(torch.autograd, order)(f, (x, weight, bias))


def test_gradients_only_for_what_requires_them():
    x = torch.randn(6, 3, 4, dtype=F64, requires_grad=True)
    weight, bias = _params(3, requires_grad=False)
    (gx,) = torch.autograd.grad(batch_norm(x, None, None, weight, bias, True).sum(), (x,))
    # Σ_i ∂y_i/∂x_j = 0 in training mode: shifting x does not change the output.
    torch.testing.assert_close(gx, torch.zeros_like(gx), atol=1e-12, rtol=0)


@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
class TestTheText:
    """The claims the book's batch-normalization section makes about the transform."""

    def test_can_learn_the_identity(self, fn):
        x = torch.randn(16, 4, 3, 3, dtype=F64) * 2 + 5
        mean, var = batch_statistics(x)
        eps = 1e-5
        y = fn(x, None, None, torch.sqrt(var + eps), mean, True, 0.1, eps)
        torch.testing.assert_close(y, x, rtol=1e-12, atol=1e-12)

    def test_training_output_has_mean_zero_and_variance_shrunk_by_eps(self, fn):
        scales = torch.tensor([0.01, 0.1, 1, 3, 10], dtype=F64).view(1, 5, 1, 1)
        x = torch.randn(32, 5, 4, 4, dtype=F64) * scales
        eps = 1e-3
        _, var = batch_statistics(x)
        y = fn(x, None, None, None, None, True, 0.1, eps)
        y_mean, y_var = batch_statistics(y)
        torch.testing.assert_close(y_mean, torch.zeros(5, dtype=F64), atol=1e-12, rtol=0)
        torch.testing.assert_close(y_var, var / (var + eps), rtol=1e-10, atol=0)

    def test_invariant_to_positive_scale_and_shift_per_channel(self, fn):
        x = torch.randn(8, 3, 5, dtype=F64)
        scale = torch.tensor([0.5, 3.0, 40.0], dtype=F64).view(1, 3, 1)
        shift = torch.tensor([-2.0, 0.0, 7.0], dtype=F64).view(1, 3, 1)
        weight, bias = _params(3, requires_grad=False)
        eps = 1e-12  # so that ε does not see the change of scale
        y1 = fn(x, None, None, weight, bias, True, 0.1, eps)
        y2 = fn(x * scale + shift, None, None, weight, bias, True, 0.1, eps)
        torch.testing.assert_close(y1, y2, rtol=1e-9, atol=1e-9)

    def test_prediction_of_one_sample_does_not_depend_on_its_batch(self, fn):
        rm, rv = _running(3)
        weight, bias = _params(3, requires_grad=False)
        sample = torch.randn(1, 3, 4, 4, dtype=F64)
        alone = fn(sample, rm, rv, weight, bias, False)
        for _ in range(3):
            batch = torch.cat([sample, torch.randn(7, 3, 4, 4, dtype=F64) * 10])
            in_batch = fn(batch, rm, rv, weight, bias, False)[:1]
            torch.testing.assert_close(in_batch, alone, rtol=0, atol=0)
        # ...whereas in training mode it does.
        batch = torch.cat([sample, torch.randn(7, 3, 4, 4, dtype=F64) * 10])
        trained = fn(batch, None, None, weight, bias, True)[:1]
        assert not torch.allclose(
            trained, fn(sample.repeat(2, 1, 1, 1), None, None, weight, bias, True)[:1]
        )


def test_running_statistics_follow_the_momentum_formula_exactly():
    x = torch.randn(10, 2, 3, dtype=F64)
    mean = x.mean(dim=(0, 2))
    var_biased = x.var(dim=(0, 2), unbiased=False)
    var_unbiased = x.var(dim=(0, 2), unbiased=True)
    for unbiased, var in ((True, var_unbiased), (False, var_biased)):
        for fn in (batch_norm, batch_norm_reference):
            rm, rv = torch.full((2,), 2.0, dtype=F64), torch.full((2,), 3.0, dtype=F64)
            fn(x, rm, rv, None, None, True, 0.25, 1e-5, unbiased_running_var=unbiased)
            torch.testing.assert_close(rm, 0.75 * 2.0 + 0.25 * mean, rtol=1e-14, atol=0)
            torch.testing.assert_close(rv, 0.75 * 3.0 + 0.25 * var, rtol=1e-14, atol=0)


def test_update_running_stats_records_biased_or_unbiased_variance():
    rm, rv = torch.zeros(1, dtype=F64), torch.zeros(1, dtype=F64)
    update_running_stats(
        rm, rv, torch.tensor([4.0], dtype=F64), torch.tensor([3.0], dtype=F64), 0.5, count=4
    )
    assert rm.item() == 2.0 and rv.item() == 0.5 * 3.0 * 4 / 3
    update_running_stats(
        rm, rv, torch.tensor([2.0], dtype=F64), torch.tensor([1.0], dtype=F64), 1.0
    )
    assert rm.item() == 2.0 and rv.item() == 1.0


@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
@pytest.mark.parametrize("shape", [(64, 3), (16, 3, 8, 8)])
def test_large_mean_small_std_normalizes_in_float32(fn, shape):
    x = (1e4 + 1e-2 * torch.randn(shape, dtype=F64)).float()
    y = fn(x, None, None, None, None, True, 0.1, 1e-8).double()
    y_mean, y_var = batch_statistics(y)
    torch.testing.assert_close(y_mean, torch.zeros_like(y_mean), atol=1e-3, rtol=0)
    torch.testing.assert_close(y_var.sqrt(), torch.ones_like(y_var), atol=1e-3, rtol=0)


@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_input_keeps_float32_statistics(fn, dtype):
    # 4096 values near 100 per channel: their sum overflows float16 (max 65504), and bfloat16's
    # 8-bit mantissa would lose the small spread if it accumulated in its own precision.
    x = (100 + torch.randn(1024, 2, 4)).to(dtype)
    rm, rv = torch.zeros(2), torch.ones(2)
    y = fn(x, rm, rv, None, None, True, 1.0, 1e-5)
    assert y.dtype == dtype and rm.dtype == torch.float32 and rv.dtype == torch.float32
    exact_mean, exact_var = batch_statistics(x.double())
    torch.testing.assert_close(rm.double(), exact_mean, rtol=1e-6, atol=0)
    torch.testing.assert_close(rv.double(), exact_var * 4096 / 4095, rtol=1e-4, atol=0)
    expected = batch_norm_reference(x.double(), None, None, None, None, True)
    torch.testing.assert_close(y.double(), expected, rtol=0, atol=0.02)


def test_half_precision_backward_returns_gradients_of_the_input_dtype():
    x = torch.randn(16, 3, 4, 4).half().requires_grad_()
    weight, bias = torch.ones(3, requires_grad=True), torch.zeros(3, requires_grad=True)
    grad_out = torch.randn(16, 3, 4, 4).half()
    batch_norm(x, None, None, weight, bias, True).backward(grad_out)
    assert x.grad.dtype == torch.float16 and weight.grad.dtype == torch.float32
    ref_x = x.detach().float().requires_grad_()
    y_ref = batch_norm_reference(ref_x, None, None, weight.detach(), bias.detach(), True)
    y_ref.backward(grad_out.float())
    torch.testing.assert_close(x.grad.float(), ref_x.grad, rtol=0, atol=5e-3)


@pytest.mark.parametrize("cache_bytes", [0, 100])
@pytest.mark.parametrize(
    "layout",
    ["contiguous", "channels_last", "channels_last_grad_too", "rows", "rows_3d", "transposed"],
)
def test_the_large_input_path_agrees_too(monkeypatch, layout, cache_bytes):
    """Inputs above the cache-size threshold take the allocation-saving branches; force them on
    small tensors so they are checked like the rest (channel rows go a block of rows at a time:
    one row per block, or blocks of 4 rows that do not divide the row count; the backward
    walks rows only when the upstream gradient is laid out in rows too; other layouts square
    x − μ₀ in place)."""
    import trainlab.nn._kernels as K

    monkeypatch.setattr(K, "CACHED_BYTES", cache_bytes)
    shape = {"rows": (6, 3), "rows_3d": (4, 3, 5)}.get(layout, (4, 3, 5, 6))
    x = torch.randn(shape, dtype=F64) * 2 + 7
    grad_out = torch.randn(shape, dtype=F64)
    if layout.startswith("channels_last"):
        x = x.contiguous(memory_format=torch.channels_last)
    if layout == "channels_last_grad_too":
        grad_out = grad_out.contiguous(memory_format=torch.channels_last)
    if layout == "rows_3d":  # (N, C, L) with channels varying fastest in memory
        x, grad_out = (t.transpose(1, 2).contiguous().transpose(1, 2) for t in (x, grad_out))
    if layout == "transposed":  # neither planes nor rows: squares in place, then x − μ₀ again
        x = x.transpose(2, 3).contiguous().transpose(2, 3)
    weight, bias = _params(3)
    results = []
    for fn in (batch_norm, batch_norm_reference):
        xi = x.detach().clone(memory_format=torch.preserve_format).requires_grad_()
        y = fn(xi, None, None, weight, bias, True)
        results.append((y, *torch.autograd.grad(y, (xi, weight, bias), grad_out)))
    for fast, ref in zip(*results, strict=True):
        torch.testing.assert_close(fast, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("small", [True, False])
def test_a_retained_graph_gives_the_same_gradients_twice(monkeypatch, small):
    """Small inputs keep x − μ₀ for the backward; the backward must not overwrite it."""
    import trainlab.nn._kernels as K

    if not small:
        monkeypatch.setattr(K, "CACHED_BYTES", 0)
    x = (torch.randn(8, 3, 5, dtype=F64) * 3 + 1).requires_grad_()
    weight, bias = _params(3)
    y = batch_norm(x, None, None, weight, bias, True)
    grad_out = torch.randn_like(y)
    first = torch.autograd.grad(y, (x, weight, bias), grad_out, retain_graph=True)
    second = torch.autograd.grad(y, (x, weight, bias), grad_out)
    for a, b in zip(first, second, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("small", [True, False])
def test_the_backward_keeps_at_most_one_tensor_of_the_inputs_size_besides_x(monkeypatch, small):
    """Never x̂: large inputs save x and per-channel vectors only; small ones (below the cache
    threshold) also keep x − μ₀, which saves a pass in the backward."""
    import trainlab.nn._kernels as K

    if not small:
        monkeypatch.setattr(K, "CACHED_BYTES", 0)
    x = torch.randn(8, 3, 5, dtype=F64, requires_grad=True)
    weight, bias = _params(3)
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        batch_norm(x, None, None, weight, bias, True)
    big = [t for t in saved if t.numel() == x.numel()]
    assert big[0] is x
    assert len(big) == (2 if small else 1)


class TestFunctionTransforms:
    """torch.func over the fast path: its jvp, its vmap rule and its differentiable backward
    agree with the reference, which autograd and torch.func differentiate op by op."""

    def _functions(self, training):
        running = _running(3)
        weight, bias = _params(3, requires_grad=False)

        def make(fn):
            stats = (None, None) if training else running
            return lambda x, w: fn(x, *stats, w, bias, training)

        return make(batch_norm), make(batch_norm_reference), weight

    @pytest.mark.parametrize("training", [True, False])
    def test_jvp(self, training):
        fast, ref, weight = self._functions(training)
        x = torch.randn(6, 3, 4, dtype=F64) * 2 + 1
        tangents = (torch.randn_like(x), torch.randn_like(weight))
        (y, dy), (y_ref, dy_ref) = (torch.func.jvp(f, (x, weight), tangents) for f in (fast, ref))
        torch.testing.assert_close(y, y_ref, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(dy, dy_ref, rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("training", [True, False])
    def test_jvp_along_the_bias(self, training):
        """y is β plus a term free of β, so ∂y/∂β·t = t in every position of its channel."""
        x = torch.randn(6, 3, 4, dtype=F64) * 2 + 1
        weight, bias = _params(3, requires_grad=False)
        running = (None, None) if training else _running(3)
        tangent = torch.tensor([1.0, -2.0, 0.5], dtype=F64)
        for fn in (batch_norm, batch_norm_reference):
            _, dy = torch.func.jvp(
                lambda b, fn=fn: fn(x, *running, weight, b, training), (bias,), (tangent,)
            )
            torch.testing.assert_close(dy, tangent.view(1, 3, 1).expand_as(x))

    @pytest.mark.parametrize("training", [True, False])
    @pytest.mark.parametrize("transform", ["jacfwd", "jacrev"])
    def test_jacobians(self, training, transform):
        fast, ref, weight = self._functions(training)
        x = torch.randn(5, 3, 2, dtype=F64) * 2 + 1
        jac = getattr(torch.func, transform)
        for got, want in zip(
            jac(fast, argnums=(0, 1))(x, weight), jac(ref, argnums=(0, 1))(x, weight), strict=True
        ):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)

    @pytest.mark.parametrize("training", [True, False])
    @pytest.mark.parametrize("order", ["hessian", "jacrev_of_jacfwd", "jacrev_of_jacrev"])
    def test_second_derivatives(self, training, order):
        fast, ref, weight = self._functions(training)
        x = torch.randn(4, 3, 2, dtype=F64) * 2 + 1
        outer, inner = {
            "hessian": (torch.func.jacfwd, torch.func.jacrev),
            "jacrev_of_jacfwd": (torch.func.jacrev, torch.func.jacfwd),
            "jacrev_of_jacrev": (torch.func.jacrev, torch.func.jacrev),
        }[order]
        got, want = (outer(inner(lambda z, f=f: f(z, weight).sin().sum()))(x) for f in (fast, ref))
        assert want.abs().max() > 0.1  # BN's second derivative is far from zero here
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)

    @pytest.mark.parametrize("training", [True, False])
    def test_vmap_normalizes_each_mapped_example_on_its_own(self, training):
        fast, ref, weight = self._functions(training)
        xs = torch.randn(5, 6, 3, 4, dtype=F64) * 2 + 1
        weights = torch.rand(5, 3, dtype=F64) + 0.5
        expected = torch.stack([ref(x, w) for x, w in zip(xs, weights, strict=True)])
        torch.testing.assert_close(torch.func.vmap(fast)(xs, weights), expected)
        torch.testing.assert_close(
            torch.func.vmap(fast, in_dims=(1, None))(xs.movedim(0, 1), weight),
            torch.stack([ref(x, weight) for x in xs]),
        )
        grads = torch.func.vmap(torch.func.grad(lambda x: fast(x, weight).sin().sum()))(xs)
        grads_ref = torch.stack(
            [torch.func.grad(lambda x: ref(x, weight).sin().sum())(x) for x in xs]
        )
        torch.testing.assert_close(grads, grads_ref)

    @pytest.mark.filterwarnings("ignore:There is a performance drop:UserWarning")
    def test_vmap_cannot_update_unbatched_running_statistics_as_with_torch(self):
        running_mean, running_var = _running(3)
        xs = torch.randn(4, 6, 3, dtype=F64)
        for fn in (batch_norm, torch.nn.functional.batch_norm):
            with pytest.raises(RuntimeError, match="vmap"):
                torch.func.vmap(
                    lambda x, fn=fn: fn(x, running_mean, running_var, None, None, True)
                )(xs)

    def test_forward_mode_with_dual_tensors(self):
        import torch.autograd.forward_ad as fwAD

        x, tangent = torch.randn(6, 3, dtype=F64), torch.randn(6, 3, dtype=F64)
        results = []
        for fn in (batch_norm, batch_norm_reference):
            with fwAD.dual_level():
                y = fn(fwAD.make_dual(x, tangent), None, None, None, None, True)
                results.append(fwAD.unpack_dual(y).tangent)
        torch.testing.assert_close(results[0], results[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
def test_an_empty_batch_leaves_the_running_statistics_as_they_are(fn):
    x = torch.randn(0, 3, 5, dtype=F64, requires_grad=True)
    weight, bias = _params(3)
    running_mean, running_var = _running(3)
    before = running_mean.clone(), running_var.clone()
    y = fn(x, running_mean, running_var, weight, bias, True)
    assert y.shape == x.shape
    y.sum().backward()
    assert torch.equal(running_mean, before[0]) and torch.equal(running_var, before[1])
    assert torch.equal(weight.grad, torch.zeros(3, dtype=F64)) and x.grad.shape == x.shape


@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
def test_a_size_mismatch_is_catchable_as_torchs_runtime_error(fn):
    from trainlab.nn import ShapeMismatchError

    x = torch.randn(4, 5)
    for caught in (RuntimeError, ValueError, ShapeMismatchError):
        with pytest.raises(caught, match=r"input has 5 channels .* running_mean has shape"):
            fn(x, torch.zeros(3), torch.ones(3), None, None, True)


@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
@pytest.mark.parametrize("name", ["weight", "bias", "running_mean", "running_var"])
def test_a_size_mismatch_names_the_tensor_whose_shape_is_wrong(fn, name):
    tensors = {"weight": torch.ones(5), "bias": torch.zeros(5)}
    tensors["running_mean"], tensors["running_var"] = torch.zeros(5), torch.ones(5)
    tensors[name] = tensors[name][:3]
    with pytest.raises(
        RuntimeError, match=rf"input has 5 channels \(.*\) but {name} has shape \(3,\)"
    ):
        fn(torch.randn(4, 5), tensors["running_mean"], tensors["running_var"],
           tensors["weight"], tensors["bias"], True)  # fmt: skip


@pytest.mark.parametrize("fn", [batch_norm, batch_norm_reference])
def test_running_mean_without_running_var_is_refused_by_name(fn):
    with pytest.raises(ValueError, match=r"^running_mean and running_var must be given together"):
        fn(torch.randn(4, 3), torch.zeros(3), None, None, None, True)


def test_the_reference_predicts_by_default_as_the_fast_path_does():
    """training=False is the default of both: prediction from the running statistics."""
    x = torch.randn(6, 3, dtype=F64) * 2 + 1
    running_mean, running_var = _running(3)
    expected = (x - running_mean) / torch.sqrt(running_var + 1e-5)
    for fn in (batch_norm, batch_norm_reference):
        torch.testing.assert_close(fn(x, running_mean, running_var), expected)


def test_half_precision_is_computed_in_float32_throughout():
    """A float16 step equals the float32 step on the same (float16) values, rounded once at the
    end: input and upstream gradient alike are widened before any arithmetic."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.randn(64, 3, 5, 5, generator=gen) * 3 + 1).half()
    g = torch.randn(64, 3, 5, 5, generator=gen).half()
    weight, bias = torch.rand(3, generator=gen) + 0.5, torch.randn(3, generator=gen)

    def step(x, g):
        x = x.clone().requires_grad_()
        w, b = weight.clone().requires_grad_(), bias.clone().requires_grad_()
        y = batch_norm(x, None, None, w, b, True)
        y.backward(g)
        return y, x.grad, w.grad, b.grad

    for half, wide in zip(step(x, g), step(x.float(), g.float()), strict=True):
        assert torch.equal(half, wide.to(half.dtype))


def test_a_momentum_outside_the_unit_interval_is_explained():
    x, mean, var = torch.randn(4, 3), torch.zeros(3), torch.ones(3)
    with pytest.raises(ValueError) as caught:
        batch_norm(x, mean, var, None, None, True, 1.5)
    assert str(caught.value) == (
        "momentum must lie in [0, 1], got 1.5; it is the weight of the new batch statistic "
        "(PyTorch's convention, default 0.1)"
    )
