"""Synchronized batch normalization over torch.distributed, on CPU (gloo) and GPU (NCCL) alike.

When a batch is split over P processes, process k holds n_k of the m = Σ n_k values of a
channel. In training each process contributes (n_k, mean_k, M2_k), M2_k = Σ (x − mean_k)² over
its slice, and they are combined exactly with the parallel-variance formula

    μ = Σ n_k·mean_k / m,        M2 = Σ [M2_k + n_k·(mean_k − μ)²],        σ²_B = M2 / m,

which stays accurate when counts differ and when a slice is empty (n_k = 0). The backward
all-reduces the per-channel sums Σ g and Σ g·(x − μ) so every process computes the input
gradient of the whole batch's loss; the γ/β gradients stay local (DistributedDataParallel sums
them). Prediction mode uses the running statistics and needs no communication.
"""

from __future__ import annotations

import functools

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.autograd.function import once_differentiable
from torch.nn.modules.batchnorm import _BatchNorm

from trainlab.nn import _kernels as K
from trainlab.nn import functional as F
from trainlab.nn.batchnorm import BatchNorm

__all__ = [
    "SyncBatchNorm",
    "convert_sync_batch_norm",
    "revert_sync_batch_norm",
    "sync_batch_norm",
]


def _world_size(group) -> int:
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return dist.get_world_size(group)


def _local_moments(xf: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
    """This process's (count, mean (C,), M2 (C,)) packed in one float64 vector of 1 + 2C, with
    x − μ₀ (a new tensor, later the output) and the local shift μ₀; None for an empty slice."""
    channels = xf.shape[1]
    count = xf.numel() // channels if channels else 0
    packed = torch.zeros(1 + 2 * channels, dtype=torch.float64, device=xf.device)
    if count == 0:
        return packed, None, None
    shift = K.channel_sum(xf) / count
    centred, sums, squares = K.centre(xf, shift)
    packed[0] = count
    packed[1 : 1 + channels] = (shift + sums / count).double()
    packed[1 + channels :] = (squares - sums.square() / count).double().clamp_min(0)
    return packed, centred, shift


def _combine(gathered: list[Tensor], channels: int) -> tuple[int, Tensor, Tensor]:
    """The parallel-variance combination of every process's (n_k, mean_k, M2_k)."""
    table = torch.stack(gathered)  # (P, 1 + 2C)
    counts, means, m2 = table[:, :1], table[:, 1 : 1 + channels], table[:, 1 + channels :]
    total = counts.sum()
    mean = (counts * means).sum(0) / total
    m2_total = (m2 + counts * (means - mean).square()).sum(0)
    return int(total), mean, m2_total


class _SyncBatchNormFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, running_mean, running_var, momentum, eps, unbiased, group):
        xf = x.to(K.compute_dtype(x))
        channels = xf.shape[1]
        packed, centred, shift = _local_moments(xf)
        gathered = [torch.empty_like(packed) for _ in range(_world_size(group))]
        dist.all_gather(gathered, packed, group=group)
        count, mean, m2 = _combine(gathered, channels)
        ctx.count, ctx.group = count, group
        if count == 0:  # every slice is empty: nothing to normalize or record (as plain BN)
            ctx.save_for_backward(x, weight)
            return torch.empty_like(x)
        if count == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got {count} in total "
                f"over {len(gathered)} processes (local input size {x.size()})"
            )
        var = m2 / count  # σ²_B, biased
        if running_mean is not None:
            F.update_running_stats(
                running_mean, running_var, mean, var, momentum, count if unbiased else None
            )
        if shift is None:  # empty slice: nothing to normalize, but a shift for the backward
            shift, centred = mean.to(xf.dtype), torch.empty_like(xf)
        # y = (x − μ₀)·k + (β − δ·k) with the local shift μ₀ and δ = μ − μ₀: the x − μ₀ computed
        # for the local moments becomes the output, with no further pass over x
        delta = (mean - shift.double()).to(xf.dtype)
        invstd = torch.rsqrt(var + eps).to(xf.dtype)
        scale = invstd if weight is None else invstd * weight.to(xf.dtype)
        offset = -delta * scale if bias is None else bias.to(xf.dtype) - delta * scale
        y = K.scale_shift(centred, scale, offset, inplace=True)
        ctx.save_for_backward(x, weight, shift, delta, invstd)
        return y.to(x.dtype)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        if ctx.count == 0:  # the same on every process, so none of them all-reduces
            x, weight = ctx.saved_tensors
            need_x, need_w, need_b = ctx.needs_input_grad[:3]
            grad_x = torch.zeros_like(x) if need_x else None
            grad_w = x.new_zeros(x.shape[1]) if need_w else None
            grad_b = x.new_zeros(x.shape[1]) if need_b else None
            return grad_x, grad_w, grad_b, None, None, None, None, None, None
        x, weight, shift, delta, invstd = ctx.saved_tensors
        xf = x.to(K.compute_dtype(x))
        g = grad_out.to(xf.dtype)
        channels = xf.shape[1]
        k = invstd if weight is None else invstd * weight.to(xf.dtype)
        if xf.numel():
            sum_g = K.channel_sum(g)
            centred, dot = K.centred_dot(xf, shift, g)
            sum_g_xhat = (dot - delta * sum_g) * invstd  # Σ g·x̂ = σ̂⁻¹·Σ g·(x − μ_B)
        else:  # an empty slice still takes part in the all-reduce
            centred = torch.empty_like(xf)
            sum_g = sum_g_xhat = torch.zeros(channels, dtype=xf.dtype, device=xf.device)
        grad_w = sum_g_xhat.to(weight.dtype) if ctx.needs_input_grad[1] else None
        grad_b = sum_g.clone() if ctx.needs_input_grad[2] else None
        combined = torch.cat([sum_g, sum_g_xhat])
        dist.all_reduce(combined, op=dist.ReduceOp.SUM, group=ctx.group)
        total_g, total_g_xhat = combined[:channels], combined[channels:]
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = K.input_gradient(
                centred, g, delta, k, invstd, total_g, total_g_xhat, ctx.count
            ).to(x.dtype)
        if grad_b is not None:
            grad_b = grad_b.to(weight.dtype if weight is not None else grad_b.dtype)
        return grad_x, grad_w, grad_b, None, None, None, None, None, None


def sync_batch_norm(
    x: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
    unbiased_running_var: bool = True,
    group=None,
) -> Tensor:
    """Training-mode batch norm whose statistics cover the inputs of every process in ``group``
    (the same arguments as :func:`trainlab.nn.functional.batch_norm`). Every process must call
    it, and later its backward, in the same order. Second derivatives are not supported."""
    if not training:
        raise ValueError("sync_batch_norm is for training mode; use batch_norm to predict")
    F.check_args(x, running_mean, running_var, weight, bias, True, momentum, eps, local_count=False)
    return _SyncBatchNormFunction.apply(
        x, weight, bias, running_mean, running_var, momentum, eps, unbiased_running_var, group
    )


class SyncBatchNorm(BatchNorm):
    """:class:`~trainlab.nn.BatchNorm` whose training statistics are synchronized over a
    torch.distributed process group (CPU or GPU). Outside an initialized process group, in a
    group of one, and in prediction mode it is plain BN. Same parameters, buffers and state dict
    as :class:`~trainlab.nn.BatchNorm`."""

    def __init__(self, num_features: int, *args, process_group=None, **kwargs) -> None:
        super().__init__(num_features, *args, **kwargs)
        self.process_group = process_group

    def _implementation(self):
        if self.training and _world_size(self.process_group) > 1:
            return functools.partial(sync_batch_norm, group=self.process_group)
        return super()._implementation()


def _rebuild(source: nn.Module, cls: type, **extra) -> nn.Module:
    """A ``cls`` layer with ``source``'s settings, parameters, buffers, device, mode and
    requires_grad flags."""
    target = cls(
        source.num_features,
        source.eps,
        source.momentum,
        source.affine,
        source.track_running_stats,
        bias=source.bias is not None,
        dtype=source.weight.dtype if source.weight is not None else None,
        **extra,
    )
    tensors = [*source.parameters(), *source.buffers()]
    if tensors:
        target.to(tensors[0].device)
    target.load_state_dict(source.state_dict())
    target.train(source.training)
    for name, p in source.named_parameters(recurse=False):
        getattr(target, name).requires_grad_(p.requires_grad)
    return target


def convert_sync_batch_norm(model: nn.Module, process_group=None) -> nn.Module:
    """Replace every BN layer (trainlab's or torch's) in ``model`` by a :class:`SyncBatchNorm`
    with the same settings, parameters and buffers; returns the model (or the new layer, if
    ``model`` itself is a BN). :func:`revert_sync_batch_norm` undoes it."""
    if isinstance(model, (BatchNorm, _BatchNorm)) and not isinstance(model, SyncBatchNorm):
        convention = getattr(model, "convention", "torch")
        sync = _rebuild(model, SyncBatchNorm, convention=convention, process_group=process_group)
        sync.reverts_to = type(model)
        return sync
    for name, child in model.named_children():
        model.add_module(name, convert_sync_batch_norm(child, process_group))
    return model


def revert_sync_batch_norm(model: nn.Module) -> nn.Module:
    """Turn every :class:`SyncBatchNorm` made by :func:`convert_sync_batch_norm` back into the
    layer class it replaced, keeping parameters and buffers."""
    if isinstance(model, SyncBatchNorm):
        cls = getattr(model, "reverts_to", BatchNorm)
        extra = {"convention": model.convention} if issubclass(cls, BatchNorm) else {}
        return _rebuild(model, cls, **extra)
    for name, child in model.named_children():
        model.add_module(name, revert_sync_batch_norm(child))
    return model
