"""Memory-layout-aware kernels behind the fast batch-norm paths (plain and synchronized BN).

The formulas live in :mod:`trainlab.nn.functional`; this module only decides *how* a per-channel
sum, a centring pass or a per-channel affine map walks memory, so that each pass over x reads it
once. Two layouts get their own walk:

* planes: (N, C, *) contiguous, every channel's values of one sample adjacent in memory: reduce
  each plane along memory, then over the batch; planes of fewer than :data:`SHORT_PLANE`
  values (the late stages of a ResNet: 512 channels of 1×1, 256 of 2×2) are reduced as the
  columns of an (N, C·L) matrix instead, then each channel's L column sums — a reduction of
  each plane over a handful of values costs 3–7× more there;
* rows: an (N, C) matrix, or channels-last memory, where the C channels of one position are
  adjacent: work a cache-sized block of rows at a time.

Everything else goes through plain reductions over every axis but the channel axis (1).
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "CACHED_BYTES",
    "as_dtype",
    "centre",
    "centred_dot",
    "channel_mean",
    "channel_sum",
    "compute_dtype",
    "input_gradient",
    "is_cached",
    "per_channel",
    "reduce_dims",
    "scale_shift",
]

# Tensors up to this size stay in cache: a temporary costs less than another pass over x.
CACHED_BYTES = 1 << 20
# Channel planes shorter than this are reduced as columns (see the module docstring).
SHORT_PLANE = 32


def is_cached(t: Tensor) -> bool:
    return t.numel() * t.element_size() <= CACHED_BYTES


def reduce_dims(x: Tensor) -> list[int]:
    """Every axis but the channel axis (1): the m values a channel is normalized over."""
    return [0, *range(2, x.dim())]


def per_channel(t: Tensor, x: Tensor) -> Tensor:
    """View a (C,) tensor as (1, C, 1, ..., 1) so that it broadcasts against x (an (N, C) x
    needs no view: (C,) already broadcasts)."""
    return t if x.dim() == 2 else t.view(1, -1, *([1] * (x.dim() - 2)))


def compute_dtype(x: Tensor) -> torch.dtype:
    """Half-precision input is normalized in float32, so its statistics keep float32 precision."""
    return torch.promote_types(x.dtype, torch.float32)


def as_dtype(t: Tensor, dtype: torch.dtype) -> Tensor:
    """t in ``dtype``, without a call when it already is (this path is call-overhead bound for
    small inputs)."""
    return t if t.dtype == dtype else t.to(dtype)


def _planes(t: Tensor) -> Tensor | None:
    """t as an (N·C, L) matrix of contiguous channel planes, or None when its memory is not laid
    out that way (channels-last, a transposed view, no trailing axes, or no elements)."""
    if t.dim() > 2 and t.numel() and t.is_contiguous():
        return t.view(t.shape[0] * t.shape[1], -1)
    return None


def _columns(t: Tensor) -> Tensor | None:
    """t as an (N, C·L) matrix when it is laid out as planes shorter than SHORT_PLANE, else
    None. Summing its rows walks memory in order; the C·L sums then fold into C."""
    if _planes(t) is not None and t.numel() // (t.shape[0] * t.shape[1]) < SHORT_PLANE:
        return t.view(t.shape[0], -1)
    return None


def _fold(column_sums: Tensor, channels: int) -> Tensor:
    """C·L column sums (channel-major) → the C channel sums."""
    return column_sums.view(channels, -1).sum(dim=1)


def channel_sum(t: Tensor) -> Tensor:
    """Σ of t over every axis but the channel axis; shape (C,)."""
    columns = _columns(t)
    if columns is not None:
        return _fold(columns.sum(dim=0), t.shape[1])
    planes = _planes(t)
    if planes is not None:  # sum each plane along memory, then over the batch: fastest order
        return planes.sum(dim=1).view(t.shape[0], t.shape[1]).sum(dim=0)
    return t.sum(dim=reduce_dims(t))


def channel_mean(t: Tensor) -> Tensor:
    """Mean of t over every axis but the channel axis; shape (C,)."""
    planes = _planes(t)
    if planes is not None:
        return channel_sum(t).div_(planes.shape[1] * t.shape[0])
    return t.mean(dim=reduce_dims(t))


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
    step = max(1, CACHED_BYTES // max(channels * x_rows.element_size(), 1))
    totals = x_rows.new_zeros(2 if g_rows is None else 1, channels)
    others = (out_rows if g_rows is None else g_rows).split(step)
    for xb, cb, ob in zip(x_rows.split(step), out_rows.split(step), others, strict=True):
        torch.sub(xb, shift, out=cb)
        if g_rows is None:
            totals[0] += cb.sum(dim=0)
        totals[-1] += torch.linalg.vecdot(cb, ob, dim=0)
    return tuple(totals.unbind(0))


def centre(xf: Tensor, shift: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """c = x − shift (a new tensor), Σc and Σc² per channel, with no other tensor of x's size
    (but for small x, where a temporary is cheaper than a third pass)."""
    if not is_cached(xf) and (rows := _rows(xf)) is not None:
        centred = torch.empty_like(xf)
        sums, squares = _centre_rows(rows, shift, _rows(centred))
        return centred, sums, squares
    centred = xf - per_channel(shift, xf)
    columns = _columns(centred)
    if columns is not None:
        c = xf.shape[1]
        squares = _fold(torch.linalg.vecdot(columns, columns, dim=0), c)
        return centred, _fold(columns.sum(dim=0), c), squares
    planes = _planes(centred)
    if planes is not None:  # a norm along each contiguous plane never materializes the squares
        n, c = xf.shape[:2]
        sums = planes.sum(dim=1).view(n, c).sum(dim=0)
        squares = torch.linalg.vector_norm(planes, dim=1).square().view(n, c).sum(dim=0)
        return centred, sums, squares
    sums = channel_sum(centred)
    if is_cached(centred):
        return centred, sums, channel_sum(centred * centred)
    # Large, other layouts: square in place, reduce, then recompute x − shift into that memory.
    squares = channel_sum(centred.square_())
    return torch.sub(xf, per_channel(shift, xf), out=centred), sums, squares


def centred_dot(xf: Tensor, shift: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    """x − μ₀ (a new tensor) and Σ g·(x − μ₀) per channel, with no other tensor of x's size
    (but for small x, where a temporary is cheaper than recomputing x − μ₀)."""
    if is_cached(xf):
        centred = xf - per_channel(shift, xf)
        return centred, channel_sum(centred * g)
    if (rows := _rows(xf)) is not None and (g_rows := _rows(g)) is not None:
        centred = torch.empty_like(xf)
        (dot,) = _centre_rows(rows, shift, _rows(centred), g_rows)
        return centred, dot
    centred = xf - per_channel(shift, xf)
    dot = channel_sum(centred.mul_(g))
    return torch.sub(xf, per_channel(shift, xf), out=centred), dot


def scale_shift(t: Tensor, scale: Tensor, offset: Tensor, inplace: bool) -> Tensor:
    """t·scale + offset per channel, into t or a new tensor. In place over large contiguous
    planes in two passes (a broadcasting addcmul is slow there, 1.4× here); otherwise one fused
    addcmul (over channel rows 2.7× faster than the two passes)."""
    scale, offset = per_channel(scale, t), per_channel(offset, t)
    if not inplace:
        return torch.addcmul(offset, t, scale)
    if _planes(t) is not None:
        return t.mul_(scale).add_(offset)
    return torch.addcmul(offset, t, scale, out=t)


def input_gradient(
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
    grad_x = scale_shift(centred, a, c, inplace=not is_cached(centred))
    return grad_x.addcmul_(g, per_channel(k, centred))
