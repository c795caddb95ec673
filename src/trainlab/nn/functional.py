"""Batch normalization as functions: the textbook reference and the fast path.

For an input of shape (N, C, *) every channel c is normalized over the m = N·∏(*) values it
has in the batch (the m·p·q values of a convolutional channel in the text):

    μ_B  = 1/m Σ x_i                    (batch mean)
    σ²_B = 1/m Σ (x_i − μ_B)²           (batch variance, biased)
    x̂_i  = (x_i − μ_B) / sqrt(σ²_B + ε)
    y_i  = γ ⊙ x̂_i + β

In prediction mode μ_B and σ²_B are replaced by moving averages kept during training
(called ``running_mean``/``running_var`` as in PyTorch; the book calls them moving_mean/moving_var):

    running ← (1 − momentum)·running + momentum·batch_statistic

``momentum`` here is the weight of the *new* batch (PyTorch's convention). The running variance
is updated with the unbiased batch variance m/(m−1)·σ²_B unless ``unbiased_running_var=False``
(the textbook's convention).

Both functions update ``running_mean``/``running_var`` in place when ``training`` is true and
they are given, exactly like :func:`torch.nn.functional.batch_norm`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from trainlab import _checks
from trainlab._checks import ShapeMismatchError
from trainlab.nn import _kernels as K

__all__ = [
    "batch_norm",
    "batch_norm_reference",
    "batch_statistics",
    "check_args",
    "update_running_stats",
]


def check_args(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
    local_count: bool = True,
) -> None:
    """Validate batch_norm's arguments; ``local_count=False`` leaves the "more than one value
    per channel" test to a caller that normalizes over more than this x (synchronized BN).

    The messages follow torch's where torch has one (so code and tests written against
    ``torch.nn.functional.batch_norm`` see the same errors): a size mismatch is a
    :class:`~trainlab.nn.ShapeMismatchError` (a ``RuntimeError`` like torch's), ε must be
    positive in training and non-negative in prediction mode, one value per channel cannot be
    normalized in training."""
    _checks.check_floating_tensor(x, "batch_norm")
    if x.dim() < 2:
        raise ValueError(
            f"batch_norm expects an input of shape (N, C, *) with at least 2 dimensions, "
            f"got {x.dim()}D input of shape {tuple(x.shape)}; add a batch axis with x.unsqueeze(0)"
        )
    channels = x.shape[1]
    for name, t in (
        ("weight", weight),
        ("bias", bias),
        ("running_mean", running_mean),
        ("running_var", running_var),
    ):
        if t is not None and t.shape != (channels,):
            raise ShapeMismatchError(
                f"input has {channels} channels (dimension 1 of shape {tuple(x.shape)}) but {name} "
                f"has shape {tuple(t.shape)}; num_features must equal the input's channel count"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together or both be None")
    if not training and running_mean is None:
        raise ValueError("prediction mode (training=False) needs running_mean and running_var")
    _checks.check_eps(eps, training)
    _checks.check_probability(
        "momentum",
        momentum,
        "; it is the weight of the new batch statistic (PyTorch's convention, default 0.1)",
    )
    if local_count and training and channels and x.numel() == channels:  # N·∏(*) = 1
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {x.size()}"
        )


def batch_statistics(x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel μ_B = 1/m Σ x_i and biased σ²_B = 1/m Σ (x_i − μ_B)² of x (N, C, *); float64,
    two passes (centre first), differentiable: the accurate yardstick the faster paths meet."""
    xf = x.to(torch.float64)
    dims = K.reduce_dims(xf)
    mean = xf.mean(dim=dims)
    var = ((xf - K.per_channel(mean, xf)) ** 2).mean(dim=dims)
    return mean, var


def update_running_stats(
    running_mean: Tensor,
    running_var: Tensor,
    mean: Tensor,
    var: Tensor,
    momentum: float,
    count: int | None = None,
) -> None:
    """running ← (1 − momentum)·running + momentum·batch, in place.

    ``var`` is the biased batch variance σ²_B. Given ``count`` (m, the values behind it), the
    unbiased m/(m−1)·σ²_B is recorded, as PyTorch does; without it σ²_B itself, as the book does.
    A ``count`` of 0 (an empty batch) records nothing.
    """
    if count == 0:  # an empty batch has no statistics to record (torch's convention too)
        return
    if torch.is_grad_enabled():  # the running statistics never join a graph
        mean, var = mean.detach(), var.detach()
    var = K.as_dtype(var, running_var.dtype)
    running_mean.lerp_(K.as_dtype(mean, running_mean.dtype), momentum)
    running_var.lerp_(var, momentum)
    if count is not None:  # momentum·m/(m−1)·σ²_B = momentum·σ²_B + momentum·σ²_B/(m−1)
        running_var.add_(var, alpha=momentum / (count - 1))


def batch_norm_reference(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    unbiased_running_var: bool = True,
) -> Tensor:
    """The textbook formulas, one line each; autograd derives the backward.

    Args:
        x: input of shape (N, C, *): (N, C) after a fully-connected layer, (N, C, H, W) after a
            convolution, or any other number of trailing axes.
        running_mean, running_var: moving averages of shape (C,), updated in place in training
            mode; used instead of the batch statistics in prediction mode. May be None in training.
        weight, bias: γ and β of shape (C,), or None for γ = 1, β = 0.
        training: use (and record) batch statistics; otherwise use the running ones.
        momentum: weight of the new batch statistic in the running averages.
        eps: ε added to the variance.
        unbiased_running_var: record m/(m−1)·σ²_B (PyTorch) rather than σ²_B (the book).
    """
    check_args(x, running_mean, running_var, weight, bias, training, momentum, eps)
    xf = x.to(torch.float64)  # the reference trades speed for accuracy: it is the yardstick
    if training:
        mean, var = batch_statistics(xf)  # μ_B and the biased σ²_B
        count = xf.numel() // xf.shape[1] if xf.shape[1] else 0  # m
        if running_mean is not None and count:  # an empty batch has no statistics to record
            update_running_stats(
                running_mean,
                running_var,
                mean.detach(),
                var.detach(),
                momentum,
                count if unbiased_running_var else None,
            )
    else:
        mean, var = running_mean.to(xf.dtype), running_var.to(xf.dtype)
    x_hat = (xf - K.per_channel(mean, xf)) / torch.sqrt(K.per_channel(var, xf) + eps)  # x̂
    y = x_hat
    if weight is not None:
        y = y * K.per_channel(weight, xf)  # γ ⊙ x̂
    if bias is not None:
        y = y + K.per_channel(bias, xf)  # + β
    return y.to(x.dtype)


class _BatchNormFunction(torch.autograd.Function):
    r"""Batch normalization with a hand-derived backward and forward-mode derivative.

    Write k = γ·σ̂⁻¹ with σ̂⁻¹ = 1/sqrt(σ²_B + ε), and g = ∂L/∂y. Then

        ∂L/∂β = Σ_i g_i,          ∂L/∂γ = Σ_i g_i x̂_i

    and, in training mode, where μ_B and σ²_B depend on every x_i,

        ∂L/∂x̂_i  = γ g_i
        ∂L/∂σ²_B = Σ_i ∂L/∂x̂_i (x_i − μ_B) · (−½)(σ²_B + ε)^(−3/2)
        ∂L/∂μ_B  = −σ̂⁻¹ Σ_i ∂L/∂x̂_i        (the term through σ²_B vanishes: Σ(x_i − μ_B) = 0)
        ∂L/∂x_i  = σ̂⁻¹ ∂L/∂x̂_i + ∂L/∂σ²_B · 2(x_i − μ_B)/m + ∂L/∂μ_B / m

    which collapses to

        ∂L/∂x_i = k · (g_i − (1/m)Σ_j g_j − x̂_i (1/m)Σ_j g_j x̂_j).

    It is evaluated as  k·g_i + a·(x_i − μ_B) + c  with per-channel
    a = −k·σ̂⁻²·(1/m)Σ_j g_j (x_j − μ_B) and c = −k·(1/m)Σ_j g_j, so the backward needs only
    the input x (already kept alive by the layer before) and per-channel statistics — never a
    saved x̂. (Inputs that fit in cache, ≤ 1 MiB, also keep x − μ₀: a spare copy that small costs
    less than the pass that would recompute it.) In prediction mode the statistics are
    constants and ∂L/∂x_i = k·g_i.

    Forward mode (``jvp``): for tangents ẋ, γ̇, β̇, with μ̇ = mean(ẋ) and
    d(σ²_B) = 2·mean((x − μ_B)·ẋ),

        ẋ̂ = σ̂⁻¹ · (ẋ − μ̇ − x̂ · mean(x̂ ⊙ ẋ)),      ẏ = γ ⊙ ẋ̂ + γ̇ ⊙ x̂ + β̇

    (prediction mode: ẋ̂ = σ̂⁻¹ ẋ). ``vmap`` folds the mapped axis into the channel axis, so each
    mapped example is normalized on its own, as if the function ran once per example.

    Precision. The mean of pass 1, μ₀, is rounded to x's precision: near 10⁴ a float32 is only
    good to 10⁻³, a tenth of a standard deviation of 10⁻². So pass 2 centres on μ₀ — x − μ₀ is
    exact for x near μ₀ — and recovers the rounding error δ = (1/m)Σ(x − μ₀), giving
    μ_B = μ₀ + δ and σ²_B = (1/m)Σ(x − μ₀)² − δ² (the corrected two-pass algorithm of Chan,
    Golub & LeVeque). Everything downstream uses x − μ_B = (x − μ₀) − δ, never x − μ_B rounded.

    Besides y the forward returns the per-channel statistics (μ₀, δ, σ²_B, σ̂⁻¹, k) and the kept
    x − μ₀ (or None), all non-differentiable, for the caller's running averages and for
    backward; the running averages are updated by :func:`batch_norm`, outside the Function.

    Second derivatives (``create_graph=True``) differentiate the same first-derivative formulas
    written out of place (:func:`_differentiable_backward`), because the first-order path reuses
    buffers in place where autograd cannot trace.
    """

    @staticmethod
    def forward(x, weight, bias, running_mean, running_var, training, eps):
        xf = K.as_dtype(x, K.compute_dtype(x))
        channels = xf.shape[1]
        count = xf.numel() // channels if channels else 0
        if training and count:
            shift = K.channel_mean(xf)  # pass 1: μ₀ ≈ μ_B
            centred, sums, squares = K.centre(xf, shift)  # pass 2 over x − μ₀
            delta = sums.div_(count)  # μ_B − μ₀
            # σ²_B = (1/m)Σ(c − δ)² = (1/m)Σc² − δ² for c = x − μ₀
            var = torch.addcmul(squares.div_(count), delta, delta, value=-1).clamp_(min=0)
        elif training:  # an empty batch has no statistics (y is empty); σ² = 1 keeps them finite
            shift = delta = xf.new_zeros(channels)
            var = xf.new_ones(channels)
            centred = torch.empty_like(xf)
        else:
            # copies: the buffers may be updated in place before this output's backward runs
            shift = running_mean.to(xf.dtype, copy=True)
            var = running_var.to(xf.dtype, copy=True)
            delta = torch.zeros_like(shift)
            centred = xf - K.per_channel(shift, xf)
        invstd = torch.rsqrt(var + eps)
        scale = invstd if weight is None else invstd * K.as_dtype(weight, xf.dtype)  # k = γ·σ̂⁻¹
        offset = (
            -delta * scale
            if bias is None
            else torch.addcmul(K.as_dtype(bias, xf.dtype), delta, scale, value=-1)
        )
        # y = (x − μ₀ − δ)·k + β = (x − μ₀)·k + (β − δ·k). Large inputs: in place, so y is the
        # only big allocation. Small inputs: into a new tensor, and x − μ₀ is kept for the
        # backward instead of recomputed.
        kept = centred if K.is_cached(centred) else None
        y = K.scale_shift(centred, scale, offset, inplace=kept is None)
        return K.as_dtype(y, x.dtype), shift, delta, var, invstd, scale, kept

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias, _, _, training, eps = inputs
        _, shift, delta, var, invstd, scale, kept = output
        ctx.mark_non_differentiable(*(t for t in output[1:] if t is not None))
        ctx.set_materialize_grads(False)  # the statistics get no gradient: allocate none
        ctx.save_for_backward(x, weight, bias, shift, delta, var, invstd, scale, kept)
        ctx.save_for_forward(x, weight, shift, var)
        ctx.training, ctx.eps = training, eps

    @staticmethod
    def backward(ctx, grad_out, *_):
        x, weight, bias, shift, delta, var, invstd, k, centred = ctx.saved_tensors
        if grad_out is None:  # y got no gradient (set_materialize_grads(False) passes None)
            return (None,) * 7  # pragma: no mutate (autograd accepts extra trailing Nones)
        if torch.is_grad_enabled():
            return _differentiable_backward(ctx, grad_out, x, weight, bias, shift, var)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xf = K.as_dtype(x, K.compute_dtype(x))
        g = K.as_dtype(grad_out, xf.dtype)
        grad_x = grad_w = grad_b = None
        sum_g = K.channel_sum(g)
        sum_g_xhat = None
        if need_w or (need_x and ctx.training):
            if centred is None:  # large input: x − μ₀ anew, later overwritten by dx
                centred, dot = K.centred_dot(xf, shift, g)
            else:
                dot = K.channel_sum(centred * g)
            # Σ g·x̂ = σ̂⁻¹·Σ g·(x − μ_B) = σ̂⁻¹·(Σ g·(x − μ₀) − δ·Σ g)
            sum_g_xhat = torch.addcmul(dot, delta, sum_g, value=-1).mul_(invstd)
        if need_w:
            grad_w = K.as_dtype(sum_g_xhat, weight.dtype)
        if need_b:
            grad_b = K.as_dtype(sum_g, bias.dtype)
        if need_x:
            count = xf.numel() // xf.shape[1] if xf.shape[1] else 0
            if ctx.training and count:
                grad_x = K.input_gradient(centred, g, delta, k, invstd, sum_g, sum_g_xhat, count)
            elif ctx.training:  # an empty batch: an empty gradient
                grad_x = torch.zeros_like(xf)
            else:
                grad_x = g * K.per_channel(k, xf)
            grad_x = K.as_dtype(grad_x, x.dtype)
        return grad_x, grad_w, grad_b, None, None, None, None

    @staticmethod
    def jvp(ctx, x_t, weight_t, bias_t, *_):
        x, weight, shift, var = ctx.saved_tensors  # those of save_for_forward
        xf = K.as_dtype(x, K.compute_dtype(x))
        mean, invstd = _statistics_of(xf, shift, var, ctx.training, ctx.eps)
        x_hat = (xf - mean) * invstd
        y_t = torch.zeros_like(xf)
        if x_t is not None:
            xt = K.as_dtype(x_t, xf.dtype)
            if ctx.training and xf.numel():
                dims = K.reduce_dims(xf)
                xt = (
                    xt
                    - xt.mean(dim=dims, keepdim=True)
                    - x_hat * (x_hat * xt).mean(dim=dims, keepdim=True)
                )
            x_hat_t = xt * invstd
            y_t = x_hat_t if weight is None else x_hat_t * K.per_channel(weight, xf)
        if weight_t is not None:
            y_t = y_t + x_hat * K.per_channel(K.as_dtype(weight_t, xf.dtype), xf)
        if bias_t is not None:
            y_t = y_t + K.per_channel(K.as_dtype(bias_t, xf.dtype), xf)
        return K.as_dtype(y_t, x.dtype), None, None, None, None, None, None

    @staticmethod
    def vmap(info, in_dims, x, weight, bias, running_mean, running_var, training, eps):
        size = info.batch_size

        def mapped(t, dim):  # t with the mapped axis first, (B, ...)
            if t is None:
                return None
            return t.movedim(dim, 0) if dim is not None else t.expand(size, *t.shape)

        xb = mapped(x, in_dims[0])  # (B, N, C, *)
        n, c, rest = xb.shape[1], xb.shape[2], xb.shape[3:]
        folded = xb.movedim(0, 1).reshape(n, size * c, *rest)  # (N, B·C, *)
        vectors = [
            None if t is None else mapped(t, d).reshape(size * c)
            for t, d in zip((weight, bias, running_mean, running_var), in_dims[1:5], strict=True)
        ]
        y, *stats, kept = _BatchNormFunction.apply(folded, *vectors, training, eps)

        def unfold(t):  # (N, B·C, *) -> (B, N, C, *)
            return None if t is None else t.reshape(n, size, c, *rest).movedim(1, 0)

        stats = [s.view(size, c) for s in stats]
        outputs = (unfold(y), *stats, unfold(kept))
        return outputs, (0, 0, 0, 0, 0, 0, None if kept is None else 0)


def _statistics_of(xf: Tensor, shift: Tensor, var: Tensor, training: bool, eps: float):
    """μ and σ̂⁻¹ shaped to broadcast against xf: in training recomputed from x with
    differentiable operations (they depend on x), otherwise the saved constants."""
    if training and xf.numel():
        dims = K.reduce_dims(xf)
        mean = xf.mean(dim=dims, keepdim=True)
        return mean, torch.rsqrt((xf - mean).square().mean(dim=dims, keepdim=True) + eps)
    return K.per_channel(shift, xf), K.per_channel(torch.rsqrt(var + eps), xf)


def _differentiable_backward(ctx, grad_out, x, weight, bias, shift, var):
    """The first derivatives of the class docstring written with out-of-place operations only,
    x̂ recomputed from x, so that autograd (and ``torch.func``'s transforms) can differentiate
    them again: double backward, ``hessian``, forward-over-reverse."""
    xf = K.as_dtype(x, K.compute_dtype(x))
    g = K.as_dtype(grad_out, xf.dtype)
    dims = K.reduce_dims(xf)
    count = xf.numel() // xf.shape[1] if xf.shape[1] else 0
    mean, invstd = _statistics_of(xf, shift, var, ctx.training, ctx.eps)
    x_hat = (xf - mean) * invstd
    sum_g, sum_g_xhat = g.sum(dim=dims), (g * x_hat).sum(dim=dims)
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    grad_x = grad_w = grad_b = None
    if need_x:
        k = invstd if weight is None else invstd * K.per_channel(weight, xf)
        if ctx.training and count:  # k·(g − Σg/m − x̂·Σg x̂/m)
            g = g - K.per_channel(sum_g, xf) / count - x_hat * K.per_channel(sum_g_xhat, xf) / count
        grad_x = K.as_dtype(g * k, x.dtype)
    if need_w:
        grad_w = K.as_dtype(sum_g_xhat, weight.dtype)
    if need_b:
        grad_b = K.as_dtype(sum_g, bias.dtype)
    return grad_x, grad_w, grad_b, None, None, None, None


def batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
    unbiased_running_var: bool = True,
) -> Tensor:
    """The fast path: the same function as :func:`batch_norm_reference` (same arguments), computed
    in two passes over x with the closed-form backward of :class:`_BatchNormFunction`.

    Works under ``torch.func`` (``jvp``, ``jacfwd``, ``jacrev``, ``hessian``, ``vmap``). As with
    torch's kernel, ``vmap`` in training mode cannot update unbatched running statistics: pass
    ``running_mean=running_var=None`` there (or predict with ``training=False``)."""
    check_args(x, running_mean, running_var, weight, bias, training, momentum, eps)
    y, shift, delta, var, *_ = _BatchNormFunction.apply(
        x, weight, bias, running_mean, running_var, training, eps
    )
    count = x.numel() // x.shape[1] if x.shape[1] else 0
    if training and running_mean is not None and count:  # an empty batch changes nothing
        update_running_stats(
            running_mean,
            running_var,
            shift + delta,
            var,
            momentum,
            count if unbiased_running_var else None,
        )
    return y
