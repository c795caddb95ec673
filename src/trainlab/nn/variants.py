"""Batch-norm variants beyond PyTorch: Ghost Batch Normalization and Batch Renormalization.

Both are drop-in :class:`~trainlab.nn.BatchNorm` subclasses (same parameters, buffers and state
dict) that change only what happens in training mode; prediction mode is plain batch norm.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from trainlab.nn import functional as F
from trainlab.nn.batchnorm import BatchNorm

__all__ = ["BatchRenorm", "GhostBatchNorm", "renorm_limits"]


class GhostBatchNorm(BatchNorm):
    """Ghost Batch Normalization (Hoffer, Hubara & Soudry, 2017).

    In training mode the batch is split along axis 0 into "ghost" batches of
    ``virtual_batch_size`` samples (the last one may be smaller) and each is normalized with its
    own statistics. Use it when training with large batches: small ghost batches keep the
    regularizing noise of small-batch BN, which large-batch training otherwise loses.

    Prediction mode is *plain* batch norm with the running statistics — the ghost split is a
    training-time regularizer only, and a model's predictions must not depend on how a
    prediction batch happens to be split.

    The running statistics are updated once per training call, with the mean over ghost
    batches of their means and of their unbiased variances (torch convention; biased with
    ``convention="book"``), so ``momentum`` keeps its usual meaning per optimizer step.
    """

    def __init__(self, num_features: int, virtual_batch_size: int = 32, **kwargs) -> None:
        if (
            isinstance(virtual_batch_size, bool)
            or not isinstance(virtual_batch_size, int)
            or (virtual_batch_size < 1)
        ):
            raise ValueError(
                f"virtual_batch_size must be a positive int, got {virtual_batch_size!r}"
            )
        super().__init__(num_features, **kwargs)
        self.virtual_batch_size = virtual_batch_size

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return super().forward(x)
        self._check_input_dim(x)
        ghosts = x.split(self.virtual_batch_size)
        values_per_channel = x[:1, :1].numel()
        if ghosts[-1].shape[0] * values_per_channel == 1:
            raise ValueError(
                f"the last ghost batch of a batch of {x.shape[0]} split into virtual batches of "
                f"{self.virtual_batch_size} has one value per channel, which cannot be normalized; "
                "choose a virtual_batch_size that leaves a remainder other than 1"
            )
        normalize = self._implementation()
        extra = {} if self.impl == "native" else {"unbiased_running_var": False}
        y = torch.cat(
            [
                normalize(g, None, None, self.weight, self.bias, True, 0.0, self.eps, **extra)
                for g in ghosts
            ]
        )
        if self.track_running_stats and x.numel():  # an empty batch has nothing to record
            self._record(ghosts)
        elif self.track_running_stats:
            self.num_batches_tracked.add_(1)  # as torch counts an empty batch
        return y

    @torch.no_grad()
    def _record(self, ghosts: tuple[Tensor, ...]) -> None:
        means, variances = [], []
        for g in ghosts:
            mean, var = F.batch_statistics(g)
            m = g.numel() // g.shape[1]
            means.append(mean)
            variances.append(var * (m / (m - 1)) if self.convention == "torch" else var)
        F.update_running_stats(
            self.running_mean,
            self.running_var,
            torch.stack(means).mean(0),
            torch.stack(variances).mean(0),
            self._new_batch_weight(),
        )  # each ghost's variance was already made unbiased (torch convention) above
        self.num_batches_tracked.add_(1)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, virtual_batch_size={self.virtual_batch_size}"


def renorm_limits(
    step: int,
    *,
    r_max: float = 3.0,
    d_max: float = 5.0,
    warmup_steps: int = 5_000,
    r_max_reached_at: int = 40_000,
    d_max_reached_at: int = 25_000,
) -> tuple[float, float]:
    """The paper's schedule for Batch Renorm's clipping limits at a training step.

    For the first ``warmup_steps`` steps r_max = 1 and d_max = 0 (plain batch norm); then both
    rise linearly to ``r_max`` (reached at ``r_max_reached_at``) and ``d_max`` (reached at
    ``d_max_reached_at``) and stay there. Defaults are Ioffe (2017)'s ImageNet values.
    """

    def ramp(start: float, end: float, end_step: int) -> float:
        # at step == warmup_steps the ramp's progress is 0, so `<` returns the same start value
        if step <= warmup_steps:  # pragma: no mutate
            return start
        progress = min(1.0, (step - warmup_steps) / max(1, end_step - warmup_steps))
        return start + (end - start) * progress

    return ramp(1.0, r_max, r_max_reached_at), ramp(0.0, d_max, d_max_reached_at)


class BatchRenorm(BatchNorm):
    r"""Batch Renormalization (Ioffe, 2017).

    Training mode normalizes with the batch statistics and then corrects towards the running
    ones, so training and prediction compute the same function in expectation:

    .. math::
        r = \mathrm{clip}_{[1/r_{max},\, r_{max}]}\Big(\frac{\sigma_B}{\sigma}\Big),\quad
        d = \mathrm{clip}_{[-d_{max},\, d_{max}]}\Big(\frac{\mu_B - \mu}{\sigma}\Big),\quad
        y = \gamma\Big(\frac{x - \mu_B}{\sigma_B}\, r + d\Big) + \beta

    with σ_B = sqrt(σ²_B + ε) and σ = sqrt(running_var + ε); r and d are treated as constants
    by the backward (no gradient flows through them). With r_max = 1 and d_max = 0 it is plain
    batch norm. Use it when batches are small or not i.i.d. (e.g. grouped by class), where
    plain BN's training-mode outputs differ from its predictions.

    ``r_max``/``d_max`` can be set at any time, or ramped automatically by passing
    ``limits=renorm_limits`` (any ``step -> (r_max, d_max)``), evaluated at
    ``num_batches_tracked``. Always implemented with the reference formulas and autograd.
    """

    def __init__(
        self,
        num_features: int,
        r_max: float = 3.0,
        d_max: float = 5.0,
        limits: Callable[[int], tuple[float, float]] | None = None,
        **kwargs,
    ) -> None:
        if kwargs.get("track_running_stats") is False:
            raise ValueError(
                "BatchRenorm corrects batch statistics towards the running ones, so it needs "
                "track_running_stats=True; use BatchNorm for batch statistics only"
            )
        super().__init__(num_features, **kwargs)
        self.r_max, self.d_max = r_max, d_max
        self.limits = limits

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return super().forward(x)
        self._check_input_dim(x)
        if self.limits is not None:
            self.r_max, self.d_max = self.limits(int(self.num_batches_tracked))
        if not (self.r_max >= 1 and self.d_max >= 0):
            raise ValueError(
                f"BatchRenorm needs r_max >= 1 and d_max >= 0, got r_max={self.r_max!r}, "
                f"d_max={self.d_max!r}; r_max=1, d_max=0 is plain batch norm"
            )
        m = x.numel() // x.shape[1] if x.shape[1] else 0
        if m == 0:  # an empty batch: an empty output, the statistics untouched (as torch's BN)
            self.num_batches_tracked.add_(1)
            return F.batch_norm(x, None, None, self.weight, self.bias, True, 0.0, self.eps)
        if m == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size {x.size()}"
            )
        shape = (1, -1, *([1] * (x.dim() - 2)))
        xf = x.to(torch.promote_types(x.dtype, torch.float32))
        mean, var = F.batch_statistics(xf)  # differentiable: gradients flow through μ_B, σ_B
        sigma_batch = torch.sqrt(var + self.eps)
        with torch.no_grad():
            sigma = torch.sqrt(self.running_var.to(xf.dtype) + self.eps)
            r = (sigma_batch / sigma).clamp(1 / self.r_max, self.r_max)
            d = ((mean - self.running_mean.to(xf.dtype)) / sigma).clamp(-self.d_max, self.d_max)
        x_hat = (xf - mean.view(shape)) / sigma_batch.view(shape) * r.view(shape) + d.view(shape)
        y = x_hat
        if self.weight is not None:
            y = y * self.weight.view(shape)
        if self.bias is not None:
            y = y + self.bias.view(shape)
        F.update_running_stats(
            self.running_mean,
            self.running_var,
            mean.detach(),
            var.detach(),
            self._new_batch_weight(),
            m if self.convention == "torch" else None,
        )
        self.num_batches_tracked.add_(1)
        return y.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, r_max={self.r_max}, d_max={self.d_max}"
