"""Layer normalization: the textbook reference, the fast path and a drop-in for torch.nn.LayerNorm.

Batch normalization normalizes each channel over the batch; layer normalization normalizes each
example over its own features. For an input of shape (*, S₁, …, S_k) and
``normalized_shape`` = (S₁, …, S_k), each of the ∏(*) examples has D = S₁·…·S_k values x_j:

    μ   = 1/D Σ_j x_j                  (mean of one example)
    σ²  = 1/D Σ_j (x_j − μ)²           (its variance, biased)
    x̂_j = (x_j − μ) / sqrt(σ² + ε)
    y_j = γ_j x̂_j + β_j                (γ, β of shape normalized_shape, shared by all examples)

The statistics belong to one example, so there are no running averages: training and prediction
compute the same function, and an example's output does not depend on the rest of its batch
(a batch of one is fine).
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Literal

import torch
import torch.nn.functional as torch_functional
from torch import Tensor, nn

from trainlab import _checks
from trainlab._checks import ShapeMismatchError
from trainlab.nn import _kernels as K

__all__ = [
    "LayerNorm",
    "check_args",
    "check_normalized_shape",
    "layer_norm",
    "layer_norm_reference",
]

Impl = Literal["fast", "reference", "native"]


def check_normalized_shape(normalized_shape: Any) -> tuple[int, ...]:
    """``normalized_shape`` as a tuple of ints: an int (one trailing dimension) or a sequence of
    ints (list, tuple, ``torch.Size``), at least one, none negative."""
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (normalized_shape,)
    try:
        sizes = tuple(normalized_shape)
    except TypeError:
        raise TypeError(
            "normalized_shape must be an int or a sequence of ints (the trailing sizes each "
            f"example is normalized over, e.g. 768 or (C, H, W)), got {normalized_shape!r} "
            f"({type(normalized_shape).__name__})"
        ) from None
    if not sizes:
        raise ValueError(
            "normalized_shape must name at least one trailing dimension, got (); to normalize "
            "over the last dimension of x pass x.shape[-1:]"
        )
    return tuple(
        _checks.check_int(
            f"normalized_shape[{i}]", size, minimum=0, hint="; a size cannot be negative"
        )
        for i, size in enumerate(sizes)
    )


def check_args(
    x: Tensor,
    normalized_shape: Any,
    weight: Tensor | None,
    bias: Tensor | None,
    eps: Any,
) -> tuple[tuple[int, ...], float]:
    """Validate layer_norm's arguments; return ``normalized_shape`` as a tuple and ε as a float.

    A size mismatch is a :class:`~trainlab.nn.ShapeMismatchError`, a ``RuntimeError`` like
    torch's. ε may be any finite number: torch accepts ε ≤ 0 (ε = 0 turns a constant example
    into NaN, there as here), but a NaN or infinite ε, which torch lets through to a NaN or
    all-zero output, is refused."""
    _checks.check_floating_tensor(x, "layer_norm")
    shape = check_normalized_shape(normalized_shape)
    k = len(shape)
    if x.dim() < k or tuple(x.shape[x.dim() - k :]) != shape:
        raise ShapeMismatchError(
            f"layer_norm normalizes each example over its last {k} dimension(s), "
            f"normalized_shape={shape}, but got an input of shape {tuple(x.shape)}, whose shape "
            f"does not end with {shape}; normalized_shape must equal the input's trailing sizes"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be a tensor or None, got {type(t).__name__}")
        if tuple(t.shape) != shape:
            raise ShapeMismatchError(
                f"{name} has shape {tuple(t.shape)} but normalized_shape is {shape}; γ and β "
                "have one entry per normalized value, so their shape must be normalized_shape"
            )
    return shape, _checks.check_finite_real("layer_norm eps", eps)


def layer_norm_reference(
    x: Tensor,
    normalized_shape: int | tuple[int, ...] | list[int] | torch.Size,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """The textbook formulas, one line each, in float64; autograd derives the backward.

    Args:
        x: input of shape (*, S₁, …, S_k); every index of * is one example.
        normalized_shape: (S₁, …, S_k), the trailing sizes each example is normalized over
            (an int for one trailing dimension).
        weight, bias: γ and β of shape normalized_shape, or None for γ = 1, β = 0.
        eps: ε added to the variance.

    Returns y in x's dtype.
    """
    shape, eps = check_args(x, normalized_shape, weight, bias, eps)
    xf = x.to(torch.float64)  # the reference trades speed for accuracy: it is the yardstick
    dims = tuple(range(-len(shape), 0))  # the normalized dimensions of each example
    mean = xf.mean(dim=dims, keepdim=True)  # μ
    var = ((xf - mean) ** 2).mean(dim=dims, keepdim=True)  # σ², biased
    x_hat = (xf - mean) / torch.sqrt(var + eps)  # x̂
    y = x_hat
    if weight is not None:
        y = y * weight.to(torch.float64)  # γ ⊙ x̂
    if bias is not None:
        y = y + bias.to(torch.float64)  # + β
    return y.to(x.dtype)


def _rows(t: Tensor, ndim: int, dtype: torch.dtype) -> Tensor:
    """t (*, S₁, …, S_ndim) as an (M, D) matrix, one example per row, in ``dtype`` (a view when
    t is contiguous and already of that dtype, otherwise a copy)."""
    split = t.dim() - ndim
    rows = t.reshape(math.prod(t.shape[:split]), math.prod(t.shape[split:]))
    return K.as_dtype(rows, dtype)


def _vector(t: Tensor | None, dtype: torch.dtype) -> Tensor | None:
    """γ or β flattened to (D,) in ``dtype``, so that it broadcasts over the rows."""
    return None if t is None else K.as_dtype(t.reshape(-1), dtype)


class _LayerNormFunction(torch.autograd.Function):
    r"""Layer normalization with a hand-derived backward and forward-mode derivative.

    Per row (example) of D values, write σ̂⁻¹ = 1/sqrt(σ² + ε), g = ∂L/∂y and ĝ = γ ⊙ g. Then

        ∂L/∂β = Σ_batch g,          ∂L/∂γ = Σ_batch g ⊙ x̂

    (sums over the examples), and since μ and σ² depend on every x_j of the row,

        ∂L/∂σ² = Σ_j ĝ_j (x_j − μ) · (−½)(σ² + ε)^(−3/2)
        ∂L/∂μ  = −σ̂⁻¹ Σ_j ĝ_j             (the term through σ² vanishes: Σ_j (x_j − μ) = 0)
        ∂L/∂x_j = σ̂⁻¹ ĝ_j + ∂L/∂σ² · 2(x_j − μ)/D + ∂L/∂μ / D

    which collapses to

        ∂L/∂x = σ̂⁻¹/D · (D·ĝ − Σ_j ĝ_j − x̂ · Σ_j ĝ_j x̂_j).

    The backward recomputes x̂ from x and the per-row statistics; it saves nothing else of x's
    size (never x̂).

    Forward mode (``jvp``): for tangents ẋ, γ̇, β̇, with means over each row,

        ẋ̂ = σ̂⁻¹ · (ẋ − mean(ẋ) − x̂ · mean(x̂ ⊙ ẋ)),      ẏ = γ ⊙ ẋ̂ + γ̇ ⊙ x̂ + β̇,

    with x̂ and σ̂⁻¹ recomputed from x by differentiable operations, so that reverse mode over
    forward mode (``jacrev(jacfwd(f))``) sees how ẏ depends on x.

    ``vmap`` moves the mapped axis of x to the front, where it is one more batch axis: a mapped
    example is just more rows. A mapped γ or β (one per mapped example, as with an ensemble's
    stacked parameters) is applied by broadcasting, after a normalization without them.

    Precision. Half-precision input is normalized in float32 (so are its statistics). The
    variance takes two passes: pass 1 gives μ₀, the row mean rounded to the compute precision
    (near 10⁴ a float32 is good only to 10⁻³); pass 2 works on x − μ₀, exact for x near μ₀,
    and recovers the rounding error δ = mean(x − μ₀): μ = μ₀ + δ and σ² = mean((x − μ₀)²) − δ²
    (the corrected two-pass algorithm of Chan, Golub & LeVeque). x̂ is formed from x − μ₀ and δ,
    never from x − μ with μ rounded.

    Memory. On CPU a fresh tensor of x's size costs more than a pass over it: its pages fault
    in one by one (measured here: a new 25 MB tensor took 10 ms, a pass in place 1.6 ms). So
    the forward allocates only y, written in place over x − μ₀, and the backward x̂ and g ⊙ x̂,
    the latter overwritten by the gradient it returns. Besides y the forward returns the
    per-row (μ₀, δ, σ̂⁻¹), each (M, 1), non-differentiable, for the backward. The backward can
    run under ``vmap`` (a batched gradient, ``is_grads_batched=True``), so it writes in place
    only into tensors computed from every operand they meet: a batched operand never lands in
    an unbatched tensor.

    Second derivatives (``create_graph=True``, and ``torch.func``'s reverse transforms, which
    differentiate with grad mode on) differentiate the same first-derivative formulas written
    out of place (:func:`_differentiable_backward`).
    """

    @staticmethod
    def forward(x, weight, bias, ndim, eps):
        xf = _rows(x, ndim, K.compute_dtype(x))
        count = max(xf.shape[1], 1)  # an example of D = 0 values has an empty output anyway
        shift = xf.sum(dim=1, keepdim=True).div_(count)  # pass 1: μ₀ ≈ μ
        # pass 2 over x − μ₀, into the one tensor of x's size the forward allocates: xf itself
        # when it is already a copy (half precision, or a layout that reshape had to copy)
        centred = xf.sub_(shift) if xf.data_ptr() != x.data_ptr() else xf - shift
        delta = centred.sum(dim=1, keepdim=True).div_(count)  # δ = μ − μ₀
        squares = torch.linalg.vector_norm(centred, dim=1, keepdim=True).square_().div_(count)
        var = squares.addcmul_(delta, delta, value=-1).clamp_(min=0)  # mean(c²) − δ²
        invstd = var.add_(eps).rsqrt_()
        # x̂ = (x − μ₀ − δ)·σ̂⁻¹ = (x − μ₀)·σ̂⁻¹ − δ·σ̂⁻¹, then γ ⊙ x̂ + β, all over x − μ₀
        y = torch.addcmul(-delta * invstd, centred, invstd, out=centred)
        w, b = _vector(weight, xf.dtype), _vector(bias, xf.dtype)
        if w is not None:
            y = y.mul_(w) if b is None else torch.addcmul(b, y, w, out=y)
        elif b is not None:
            y = y.add_(b)
        return K.as_dtype(y, x.dtype).view(x.shape), shift, delta, invstd

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, weight, bias, ndim, eps = inputs
        _, shift, delta, invstd = output
        ctx.mark_non_differentiable(shift, delta, invstd)
        ctx.set_materialize_grads(False)  # the statistics get no gradient: allocate none
        ctx.save_for_backward(x, weight, bias, shift, delta, invstd)
        ctx.save_for_forward(x, weight)
        ctx.ndim, ctx.eps = ndim, eps

    @staticmethod
    def backward(ctx, grad_out, *_):
        x, weight, bias, shift, delta, invstd = ctx.saved_tensors
        if grad_out is None:
            return None, None, None, None, None
        if torch.is_grad_enabled():
            return _differentiable_backward(ctx, grad_out, x, weight, bias)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        xf = _rows(x, ctx.ndim, K.compute_dtype(x))
        g = _rows(grad_out, ctx.ndim, xf.dtype)
        w = _vector(weight, xf.dtype)
        count = max(xf.shape[1], 1)
        grad_x = grad_w = grad_b = None
        if need_b:
            grad_b = K.as_dtype(g.sum(dim=0), bias.dtype).view(bias.shape)  # Σ_batch g
        if need_x or need_w:
            x_hat = torch.sub(xf, shift).sub_(delta).mul_(invstd)  # recomputed, never saved
            g_x_hat = g * x_hat
            if need_w:
                grad_w = K.as_dtype(g_x_hat.sum(dim=0), weight.dtype).view(weight.shape)
        if need_x:
            # Σ_j ĝ_j and Σ_j ĝ_j x̂_j per row, ĝ = γ ⊙ g: matrix-vector products with γ
            sum_g = g.sum(dim=1, keepdim=True) if w is None else (g @ w).unsqueeze(1)
            dot = g_x_hat.sum(dim=1, keepdim=True) if w is None else (g_x_hat @ w).unsqueeze(1)
            # σ̂⁻¹·(ĝ − x̂·Σĝx̂/D − Σĝ/D), written over g ⊙ x̂, no longer needed
            grad_x = g_x_hat.copy_(x_hat).mul_(dot.div_(-count)).add_(sum_g.div_(-count))
            grad_x = grad_x.add_(g) if w is None else grad_x.addcmul_(g, w)
            grad_x = K.as_dtype(grad_x.mul_(invstd), x.dtype).view(x.shape)
        return grad_x, grad_w, grad_b, None, None

    @staticmethod
    def jvp(ctx, x_t, weight_t, bias_t, *_):
        x, weight = ctx.saved_tensors
        xf = _rows(x, ctx.ndim, K.compute_dtype(x))
        count = max(xf.shape[1], 1)
        x_hat, invstd = _differentiable_statistics(xf, ctx.eps)
        if x_t is None:
            y_t = torch.zeros_like(xf)
        else:
            xt = _rows(x_t, ctx.ndim, xf.dtype)
            mean_t = xt.sum(dim=1, keepdim=True) / count
            mean_x_hat_t = (x_hat * xt).sum(dim=1, keepdim=True) / count
            y_t = (xt - mean_t - x_hat * mean_x_hat_t) * invstd  # ẋ̂
            if weight is not None:
                y_t = y_t * _vector(weight, xf.dtype)  # γ ⊙ ẋ̂
        if weight_t is not None:
            y_t = y_t + x_hat * _vector(weight_t, xf.dtype)  # + γ̇ ⊙ x̂
        if bias_t is not None:
            y_t = y_t + _vector(bias_t, xf.dtype)  # + β̇
        return K.as_dtype(y_t, x.dtype).view(x.shape), None, None, None

    @staticmethod
    def vmap(info, in_dims, x, weight, bias, ndim, eps):
        size = info.batch_size
        x_dim, weight_dim, bias_dim = in_dims[:3]
        if x_dim is not None:
            x = x.movedim(x_dim, 0)  # (B, *, S): the mapped axis is one more batch axis
        # x's axes before the normalized ones, the mapped one aside
        lead = x.dim() - ndim - (x_dim is not None)
        stats_dim = None if x_dim is None else 0

        def per_mapped_example(stat):  # (B·M, 1) -> (B, M, 1)
            return stat if x_dim is None else stat.view(size, math.prod(x.shape[1:][:lead]), 1)

        if weight_dim is None and bias_dim is None:
            y, *stats = _LayerNormFunction.apply(x, weight, bias, ndim, eps)
        else:  # γ, β of each mapped example, broadcast over its examples: (B, 1, …, 1, *S)
            y, *stats = _LayerNormFunction.apply(x, None, None, ndim, eps)
            dtype = K.compute_dtype(x)
            y = K.as_dtype(y, dtype)
            for t, dim, combine in ((weight, weight_dim, torch.mul), (bias, bias_dim, torch.add)):
                if t is not None:
                    t = (
                        t
                        if dim is None
                        else t.movedim(dim, 0).view(size, *[1] * lead, *t.shape[1:])
                    )
                    y = combine(y, K.as_dtype(t, dtype))
            y = K.as_dtype(y, x.dtype)
        stats = [per_mapped_example(s) for s in stats]
        return (y, *stats), (0, stats_dim, stats_dim, stats_dim)


def _differentiable_statistics(xf: Tensor, eps: float) -> tuple[Tensor, Tensor]:
    """x̂ and σ̂⁻¹ of the rows of xf recomputed with out-of-place operations, so that they stay
    functions of x: the saved statistics are constants to autograd, and a derivative formula
    built on them could not be differentiated again with respect to x."""
    count = max(xf.shape[1], 1)
    centred = xf - xf.sum(dim=1, keepdim=True) / count
    invstd = torch.rsqrt(centred.square().sum(dim=1, keepdim=True) / count + eps)
    return centred * invstd, invstd


def _differentiable_backward(ctx, grad_out, x, weight, bias):
    """The first derivatives of the class docstring with out-of-place operations only, μ and σ²
    recomputed from x, so that autograd (and ``torch.func``'s transforms) can differentiate
    them again: double backward, ``hessian``, forward-over-reverse."""
    xf = _rows(x, ctx.ndim, K.compute_dtype(x))
    g = _rows(grad_out, ctx.ndim, xf.dtype)
    count = max(xf.shape[1], 1)
    x_hat, invstd = _differentiable_statistics(xf, ctx.eps)
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    grad_x = grad_w = grad_b = None
    if need_x:
        g_hat = g if weight is None else g * _vector(weight, xf.dtype)
        mean_g = g_hat.sum(dim=1, keepdim=True) / count
        mean_g_x_hat = (g_hat * x_hat).sum(dim=1, keepdim=True) / count
        grad_x = K.as_dtype((g_hat - mean_g - x_hat * mean_g_x_hat) * invstd, x.dtype)
        grad_x = grad_x.view(x.shape)
    if need_w:
        grad_w = K.as_dtype((g * x_hat).sum(dim=0), weight.dtype).view(weight.shape)
    if need_b:
        grad_b = K.as_dtype(g.sum(dim=0), bias.dtype).view(bias.shape)
    return grad_x, grad_w, grad_b, None, None


def layer_norm(
    x: Tensor,
    normalized_shape: int | tuple[int, ...] | list[int] | torch.Size,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """The fast path: the same function as :func:`layer_norm_reference` (same arguments),
    computed in the input's precision (float32 for half-precision input) with the closed-form
    backward of :class:`_LayerNormFunction`. The output is contiguous, as torch's. Like the
    module, and unlike ``torch.nn.functional.layer_norm``, it also takes an int
    ``normalized_shape`` (one trailing dimension).

    Works under ``torch.func`` (``jvp``, ``jacfwd``, ``jacrev``, ``hessian``, ``vmap``)."""
    shape, eps = check_args(x, normalized_shape, weight, bias, eps)
    y, *_ = _LayerNormFunction.apply(x, weight, bias, len(shape), eps)
    return y


_IMPLS = {
    "fast": layer_norm,
    "reference": layer_norm_reference,
    "native": torch_functional.layer_norm,
}


class LayerNorm(nn.Module):
    r"""Layer normalization over the trailing ``normalized_shape`` dimensions: a drop-in for
    ``torch.nn.LayerNorm`` (same arguments, parameter names and state dict).

    .. math::
        y = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta

    with μ and the biased σ² of each example over its normalized dimensions. Training and
    evaluation mode compute the same function; there are no running statistics.

    ``elementwise_affine=False`` learns neither γ nor β; ``bias=False`` learns γ alone.

    ``impl`` picks the implementation: ``"fast"`` (hand-derived backward, :func:`layer_norm`),
    ``"reference"`` (the formulas with autograd, :func:`layer_norm_reference`) or ``"native"``
    (PyTorch's kernel, with trainlab's argument checks). It can be changed at any time:
    ``ln.impl = "reference"``.

    Errors have torch's type where torch raises: an input whose shape does not end with
    ``normalized_shape`` is a :class:`~trainlab.nn.ShapeMismatchError`, a ``RuntimeError``
    like torch's. Deliberately not torch's: a non-floating input is a ``TypeError`` (torch's
    kernel raises ``NotImplementedError``), as in every trainlab layer; a NaN or infinite ε is
    refused (torch propagates it into the output); an empty or negative ``normalized_shape``
    is a ``ValueError`` at construction (torch raises a ``RuntimeError``, from ``torch.empty``,
    or for () only at the first forward).
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...] | list[int] | torch.Size,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        impl: Impl = "fast",
    ) -> None:
        super().__init__()
        self.normalized_shape = check_normalized_shape(normalized_shape)
        _checks.check_finite_real("layer_norm eps", eps)
        self.eps = eps  # as given, so that the repr reads as torch's
        self.elementwise_affine = elementwise_affine
        self.impl = impl
        self._implementation()  # validates impl
        factory = {"device": device, "dtype": dtype}
        shape = self.normalized_shape
        self.register_parameter(
            "weight", nn.Parameter(torch.empty(shape, **factory)) if elementwise_affine else None
        )
        self.register_parameter(
            "bias",
            nn.Parameter(torch.empty(shape, **factory)) if elementwise_affine and bias else None,
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ ← 1, β ← 0."""
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def _implementation(self):
        try:
            return _IMPLS[self.impl]
        except (KeyError, TypeError):
            raise ValueError(
                f"impl must be 'fast', 'reference' or 'native', got {self.impl!r}"
            ) from None

    def forward(self, x: Tensor) -> Tensor:
        implementation = self._implementation()
        if self.impl == "native":  # torch's kernel lets a NaN ε through, with terser messages
            check_args(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return implementation(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        text = (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
        if self.impl != "fast":
            text += f", impl={self.impl!r}"
        return text
