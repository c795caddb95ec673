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

import math

import torch
from torch import Tensor

__all__ = ["batch_norm", "batch_norm_reference", "batch_statistics", "update_running_stats"]


# Tensors up to this size stay in cache: a temporary costs less than another pass over x.
_CACHED_BYTES = 1 << 20


def _is_cached(t: Tensor) -> bool:
    return t.numel() * t.element_size() <= _CACHED_BYTES


def _reduce_dims(x: Tensor) -> list[int]:
    """Every axis but the channel axis (1): the m values a channel is normalized over."""
    return [0, *range(2, x.dim())]


def _per_channel(t: Tensor, x: Tensor) -> Tensor:
    """View a (C,) tensor as (1, C, 1, ..., 1) so that it broadcasts against x (an (N, C) x
    needs no view: (C,) already broadcasts)."""
    return t if x.dim() == 2 else t.view(1, -1, *([1] * (x.dim() - 2)))


def _compute_dtype(x: Tensor) -> torch.dtype:
    """Half-precision input is normalized in float32, so its statistics keep float32 precision."""
    return torch.promote_types(x.dtype, torch.float32)


def _as(t: Tensor, dtype: torch.dtype) -> Tensor:
    """t in ``dtype``, without a call when it already is (this path is call-overhead bound for
    small inputs)."""
    return t if t.dtype == dtype else t.to(dtype)


def _check_args(
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
    per channel" test to a caller that normalizes over more than this x (synchronized BN)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"batch_norm expects a torch.Tensor input, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"batch_norm expects a floating-point input, got dtype {x.dtype}; "
            "convert it first, e.g. x.float()"
        )
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
            raise ValueError(
                f"input has {channels} channels (dimension 1 of shape {tuple(x.shape)}) but {name} "
                f"has shape {tuple(t.shape)}; num_features must equal the input's channel count"
            )
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together or both be None")
    if not training and running_mean is None:
        raise ValueError("prediction mode (training=False) needs running_mean and running_var")
    if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
        raise ValueError(
            f"eps must be a positive finite number, got {eps!r}; the usual value is 1e-5"
        )
    if not (isinstance(momentum, (int, float)) and 0.0 <= momentum <= 1.0):
        raise ValueError(
            f"momentum must lie in [0, 1], got {momentum!r}; it is the weight of the new batch "
            "statistic (PyTorch's convention, default 0.1)"
        )
    if local_count and training and x.numel() // max(channels, 1) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {x.size()}"
        )


def batch_statistics(x: Tensor) -> tuple[Tensor, Tensor]:
    """Per-channel μ_B = 1/m Σ x_i and biased σ²_B = 1/m Σ (x_i − μ_B)² of x (N, C, *); float64,
    two passes (centre first), differentiable: the accurate yardstick the faster paths meet."""
    xf = x.to(torch.float64)
    dims = _reduce_dims(xf)
    mean = xf.mean(dim=dims)
    var = ((xf - _per_channel(mean, xf)) ** 2).mean(dim=dims)
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
    """
    if torch.is_grad_enabled():  # the running statistics never join a graph
        mean, var = mean.detach(), var.detach()
    var = _as(var, running_var.dtype)
    running_mean.lerp_(_as(mean, running_mean.dtype), momentum)
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
    _check_args(x, running_mean, running_var, weight, bias, training, momentum, eps)
    xf = x.to(torch.float64)  # the reference trades speed for accuracy: it is the yardstick
    if training:
        mean, var = batch_statistics(xf)  # μ_B and the biased σ²_B
        if running_mean is not None:
            count = xf.numel() // xf.shape[1]  # m
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
    x_hat = (xf - _per_channel(mean, xf)) / torch.sqrt(_per_channel(var, xf) + eps)  # x̂
    y = x_hat
    if weight is not None:
        y = y * _per_channel(weight, xf)  # γ ⊙ x̂
    if bias is not None:
        y = y + _per_channel(bias, xf)  # + β
    return y.to(x.dtype)


def _planes(t: Tensor) -> Tensor | None:
    """t as an (N·C, L) matrix of contiguous channel planes, or None when its memory is not laid
    out that way (channels-last, a transposed view, no trailing axes, or no elements)."""
    if t.dim() > 2 and t.numel() and t.is_contiguous():
        return t.view(t.shape[0] * t.shape[1], -1)
    return None


def _channel_sum(t: Tensor) -> Tensor:
    """Σ of t over every axis but the channel axis; shape (C,)."""
    planes = _planes(t)
    if planes is not None:  # sum each plane along memory, then over the batch: fastest order
        return planes.sum(dim=1).view(t.shape[0], t.shape[1]).sum(dim=0)
    return t.sum(dim=_reduce_dims(t))


def _channel_mean(t: Tensor) -> Tensor:
    """Mean of t over every axis but the channel axis; shape (C,)."""
    planes = _planes(t)
    if planes is not None:
        return _channel_sum(t).div_(planes.shape[1] * t.shape[0])
    return t.mean(dim=_reduce_dims(t))


def _rows(t: Tensor) -> Tensor | None:
    """t as an (M, C) matrix whose rows are contiguous channel vectors (an (N, C) matrix, or
    channels-last memory), or None when its memory is not laid out that way."""
    rows = t.movedim(1, -1)
    return rows.view(-1, t.shape[1]) if rows.is_contiguous() else None


def _centre_rows(
    x_rows: Tensor, shift: Tensor, out_rows: Tensor, g_rows: Tensor | None = None
) -> tuple[Tensor, ...]:
    """out ← x − shift over (M, C) row matrices, a block of rows at a time, and while each block
    is in cache: Σc and Σc² per channel, or, given g, Σ c·g alone. One pass over x in memory,
    where reducing columns of the whole matrix would take three (squares are not reduced along
    a strided axis without materializing them)."""
    channels = x_rows.shape[1]
    step = max(1, _CACHED_BYTES // max(channels * x_rows.element_size(), 1))
    totals = x_rows.new_zeros(2 if g_rows is None else 1, channels)
    others = (out_rows if g_rows is None else g_rows).split(step)
    for xb, cb, ob in zip(x_rows.split(step), out_rows.split(step), others, strict=True):
        torch.sub(xb, shift, out=cb)
        if g_rows is None:
            totals[0] += cb.sum(dim=0)
        totals[-1] += torch.linalg.vecdot(cb, ob, dim=0)
    return tuple(totals.unbind(0))


def _centre(xf: Tensor, shift: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """c = x − shift (a new tensor), Σc and Σc² per channel, with no other tensor of x's size
    (but for small x, where a temporary is cheaper than a third pass)."""
    if not _is_cached(xf) and (rows := _rows(xf)) is not None:
        centred = torch.empty_like(xf)
        sums, squares = _centre_rows(rows, shift, _rows(centred))
        return centred, sums, squares
    centred = xf - _per_channel(shift, xf)
    planes = _planes(centred)
    if planes is not None:  # a norm along each contiguous plane never materializes the squares
        n, c = xf.shape[:2]
        sums = planes.sum(dim=1).view(n, c).sum(dim=0)
        squares = torch.linalg.vector_norm(planes, dim=1).square().view(n, c).sum(dim=0)
        return centred, sums, squares
    sums = _channel_sum(centred)
    if _is_cached(centred):
        return centred, sums, _channel_sum(centred * centred)
    # Large, other layouts: square in place, reduce, then recompute x − shift into that memory.
    squares = _channel_sum(centred.square_())
    return torch.sub(xf, _per_channel(shift, xf), out=centred), sums, squares


def centred_dot(xf: Tensor, shift: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """x − μ₀ (a new tensor) and Σ g·(x − μ₀) per channel, with no other tensor of x's size
    (but for small x, where a temporary is cheaper than recomputing x − μ₀)."""
    if _is_cached(xf):
        centred = xf - _per_channel(shift, xf)
        return centred, _channel_sum(centred * g)
    if (rows := _rows(xf)) is not None and (g_rows := _rows(g)) is not None:
        centred = torch.empty_like(xf)
        (dot,) = _centre_rows(rows, shift, _rows(centred), g_rows)
        return centred, dot
    centred = xf - _per_channel(shift, xf)
    dot = _channel_sum(centred.mul_(g))
    return torch.sub(xf, _per_channel(shift, xf), out=centred), dot


def _scale_shift(t: Tensor, scale: Tensor, offset: Tensor, inplace: bool) -> Tensor:
    """t·scale + offset per channel, into t or a new tensor. In place over large contiguous
    planes in two passes (a broadcasting addcmul is slow there, 1.4× here); otherwise one fused
    addcmul (over channel rows 2.7× faster than the two passes)."""
    scale, offset = _per_channel(scale, t), _per_channel(offset, t)
    if not inplace:
        return torch.addcmul(offset, t, scale)
    if _planes(t) is not None:
        return t.mul_(scale).add_(offset)
    return torch.addcmul(offset, t, scale, out=t)


def training_input_gradient(
    centred: Tensor,
    g: Tensor,
    delta: Tensor,
    k: Tensor,
    invstd: Tensor,
    sum_g: Tensor,
    sum_g_xhat: Tensor,
    count: int,
) -> Tensor:
    """∂L/∂x in training mode, k·g + a·(x − μ_B) + c with a = −k·σ̂⁻¹·Σg x̂/m and
    c = −k·Σg/m, written over ``centred`` = x − μ₀ (so x − μ_B = (x − μ₀) − δ).
    The sums and m may cover more than this x (synchronized BN passes global ones)."""
    neg_k_m = k * (-1.0 / count)
    a = (sum_g_xhat * invstd).mul_(neg_k_m)
    c = torch.addcmul(sum_g * neg_k_m, a, delta, value=-1)  # a·(x−μ₀) − a·δ
    # small: a new tensor, as centred may be saved; large: centred, the caller's temporary
    grad_x = _scale_shift(centred, a, c, inplace=not _is_cached(centred))
    return grad_x.addcmul_(g, _per_channel(k, centred))


class _BatchNormFunction(torch.autograd.Function):
    r"""Batch normalization with a hand-derived backward.

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

    Precision. The mean of pass 1, μ₀, is rounded to x's precision: near 10⁴ a float32 is only
    good to 10⁻³, a tenth of a standard deviation of 10⁻². So pass 2 centres on μ₀ — x − μ₀ is
    exact for x near μ₀ — and recovers the rounding error δ = (1/m)Σ(x − μ₀), giving
    μ_B = μ₀ + δ and σ²_B = (1/m)Σ(x − μ₀)² − δ² (the corrected two-pass algorithm of Chan,
    Golub & LeVeque). Everything downstream uses x − μ_B = (x − μ₀) − δ, never x − μ_B rounded.

    Second derivatives (``create_graph=True``) are computed by differentiating the reference
    formula, because the first-order path reuses buffers in place where autograd cannot trace.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, training, momentum, eps, unbiased):
        xf = _as(x, _compute_dtype(x))
        if training:
            count = xf.numel() // xf.shape[1]
            shift = _channel_mean(xf)  # pass 1: μ₀ ≈ μ_B
            centred, sums, squares = _centre(xf, shift)  # pass 2 over x − μ₀
            delta = sums.div_(count)  # μ_B − μ₀
            # σ²_B = (1/m)Σ(c − δ)² = (1/m)Σc² − δ² for c = x − μ₀
            var = torch.addcmul(squares.div_(count), delta, delta, value=-1).clamp_(min=0)
            if running_mean is not None:
                update_running_stats(
                    running_mean,
                    running_var,
                    shift + delta,
                    var,
                    momentum,
                    count if unbiased else None,
                )
        else:
            # copies: the buffers may be updated in place before this output's backward runs
            shift = running_mean.to(xf.dtype, copy=True)
            var = running_var.to(xf.dtype, copy=True)
            delta = torch.zeros_like(shift)
            centred = xf - _per_channel(shift, xf)
        invstd = torch.rsqrt(var + eps)
        scale = invstd if weight is None else invstd * _as(weight, xf.dtype)  # k = γ·σ̂⁻¹
        offset = (
            -delta * scale
            if bias is None
            else torch.addcmul(_as(bias, xf.dtype), delta, scale, value=-1)
        )
        # y = (x − μ₀ − δ)·k + β = (x − μ₀)·k + (β − δ·k). Large inputs: in place, so y is the
        # only big allocation. Small inputs: into a new tensor, and x − μ₀ is kept for the
        # backward instead of recomputed.
        kept = centred if _is_cached(centred) else None
        y = _scale_shift(centred, scale, offset, inplace=kept is None)
        ctx.save_for_backward(x, weight, bias, shift, delta, var, invstd, scale, kept)
        ctx.training, ctx.eps = training, eps
        return _as(y, x.dtype)

    @staticmethod
    def backward(ctx, grad_out):
        x, weight, bias, shift, delta, var, invstd, k, centred = ctx.saved_tensors
        if torch.is_grad_enabled():
            return _double_differentiable_backward(ctx, grad_out, x, weight, bias, shift, var)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xf = _as(x, _compute_dtype(x))
        g = _as(grad_out, xf.dtype)
        grad_x = grad_w = grad_b = None
        sum_g = _channel_sum(g)
        sum_g_xhat = None
        if need_w or (need_x and ctx.training):
            if centred is None:  # large input: x − μ₀ anew, later overwritten by dx
                centred, dot = centred_dot(xf, shift, g)
            else:
                dot = _channel_sum(centred * g)
            # Σ g·x̂ = σ̂⁻¹·Σ g·(x − μ_B) = σ̂⁻¹·(Σ g·(x − μ₀) − δ·Σ g)
            sum_g_xhat = torch.addcmul(dot, delta, sum_g, value=-1).mul_(invstd)
        if need_w:
            grad_w = _as(sum_g_xhat, weight.dtype)
        if need_b:
            grad_b = _as(sum_g, bias.dtype)
        if need_x:
            if ctx.training:
                count = xf.numel() // xf.shape[1]
                grad_x = training_input_gradient(
                    centred, g, delta, k, invstd, sum_g, sum_g_xhat, count
                )
            else:
                grad_x = g * _per_channel(k, xf)
            grad_x = _as(grad_x, x.dtype)
        return grad_x, grad_w, grad_b, None, None, None, None, None, None


def _double_differentiable_backward(ctx, grad_out, x, weight, bias, running_mean, running_var):
    """First derivatives built from differentiable operations, so autograd can differentiate them
    again: the reference formula is rebuilt and differentiated with ``create_graph=True``."""
    needs = ctx.needs_input_grad[:3]
    inputs = [t for t, need in zip((x, weight, bias), needs, strict=True) if need]
    with torch.enable_grad():
        if ctx.training:
            y = batch_norm_reference(x, None, None, weight, bias, True, 0.0, ctx.eps)
        else:  # prediction mode: the running statistics are constants
            y = batch_norm_reference(
                x, running_mean, running_var, weight, bias, False, 0.0, ctx.eps
            )
        grads = iter(torch.autograd.grad(y, inputs, grad_out, create_graph=True, allow_unused=True))
    out = [next(grads) if need else None for need in ctx.needs_input_grad[:3]]
    return (*out, None, None, None, None, None, None)


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
    in two passes over x with the closed-form backward of :class:`_BatchNormFunction`."""
    _check_args(x, running_mean, running_var, weight, bias, training, momentum, eps)
    return _BatchNormFunction.apply(
        x, weight, bias, running_mean, running_var, training, momentum, eps, unbiased_running_var
    )
