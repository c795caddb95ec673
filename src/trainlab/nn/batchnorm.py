"""Batch-normalization modules: a drop-in for ``torch.nn.BatchNorm1d/2d/3d``.

Parameters and buffers carry torch's names (``weight`` = γ, ``bias`` = β, ``running_mean``,
``running_var``, ``num_batches_tracked``) and state-dict version 2, so checkpoints move both ways.
The book calls the running statistics ``moving_mean``/``moving_var``.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as torch_functional
from torch import Tensor, nn

from trainlab._checks import ShapeMismatchError, check_eps
from trainlab.nn import functional as F

__all__ = ["BatchNorm", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d"]

Convention = Literal["torch", "book"]
Impl = Literal["fast", "reference", "native"]

_IMPLS = {"fast": F.batch_norm, "reference": F.batch_norm_reference}


class BatchNorm(nn.Module):
    r"""Batch normalization over the channel axis (1) of an input of shape (N, C, *).

    In training mode (``module.training``) each channel is normalized with the statistics of the
    batch, over all N·∏(*) of its values:

    .. math::
        y = \gamma \odot \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta

    and the running averages are updated. In evaluation mode the running averages replace
    μ_B and σ²_B, so one sample's output no longer depends on the rest of its batch.

    Conventions:

    * ``convention="torch"`` (default, exactly ``torch.nn.BatchNorm*``):
      ``running = (1 − momentum)·running + momentum·batch`` with ``momentum=0.1``; the running
      variance records the *unbiased* batch variance; ``momentum=None`` gives the cumulative
      average (factor 1/num_batches_tracked).
    * ``convention="book"`` (the textbook's scratch code): ``momentum`` is the weight of the *old*
      value, ``moving = momentum·moving + (1 − momentum)·batch``, so pass ``momentum=0.9``;
      the running variance records the *biased* batch variance.

    ``impl`` picks the implementation: ``"fast"`` (hand-derived backward,
    :func:`trainlab.nn.functional.batch_norm`), ``"reference"`` (the formulas with autograd,
    :func:`~trainlab.nn.functional.batch_norm_reference`) or ``"native"`` (PyTorch's kernel,
    torch convention only). It can be changed at any time: ``bn.impl = "reference"``.

    ``track_running_stats=False`` keeps no running statistics and normalizes with batch
    statistics in evaluation mode too.

    One batch of the values 1 and 3 (mean 2, biased variance 1, unbiased 2) from the initial
    running mean 0 and variance 1: both conventions move the mean to 0.2; torch's records the
    unbiased variance (0.9·1 + 0.1·2 = 1.1), the book's the biased one (0.9·1 + 0.1·1 = 1):

    >>> import torch
    >>> from trainlab.nn import BatchNorm1d
    >>> x = torch.tensor([[1.0], [3.0]])
    >>> torch_bn, book_bn = BatchNorm1d(1), BatchNorm1d(1, momentum=0.9, convention="book")
    >>> _ = torch_bn(x), book_bn(x)
    >>> torch_bn.running_mean, torch_bn.running_var, book_bn.running_var
    (tensor([0.2000]), tensor([1.1000]), tensor([1.]))
    """

    _version = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        bias: bool = True,
        convention: Convention = "torch",
        impl: Impl = "fast",
    ) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features < 1:
            raise ValueError(
                "num_features must be a positive int (the number of channels C), "
                f"got {num_features!r}"
            )
        # ε is checked when it is used, as torch does: positive for batch statistics, ≥ 0 to
        # predict (torch's own error tests build a layer with eps ≤ 0 and expect the forward to
        # fail).
        if momentum is not None and not (isinstance(momentum, (int, float)) and 0 <= momentum <= 1):
            raise ValueError(
                f"momentum must be None (cumulative average) or lie in [0, 1], got {momentum!r}"
            )
        if convention not in ("torch", "book"):
            raise ValueError(f"convention must be 'torch' or 'book', got {convention!r}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.convention = convention
        self.impl = impl
        BatchNorm._implementation(self)  # validates impl against the convention
        factory = {"device": device, "dtype": dtype}
        self.register_parameter(
            "weight", nn.Parameter(torch.empty(num_features, **factory)) if affine else None
        )
        self.register_parameter(
            "bias", nn.Parameter(torch.empty(num_features, **factory)) if affine and bias else None
        )
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            count = torch.tensor(0, device=device)  # int64, as torch's
            self.register_buffer("num_batches_tracked", count)
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean ← 0, running_var ← 1, num_batches_tracked ← 0."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        """Reset the running statistics and set γ ← 1, β ← 0."""
        self.reset_running_stats()
        if self.weight is not None:
            nn.init.ones_(self.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def _implementation(self):
        if self.impl == "native":
            if self.convention != "torch":
                raise ValueError(
                    "impl='native' (PyTorch's kernel) records the unbiased running variance, so it "
                    "cannot follow convention='book'; use impl='fast' or impl='reference'"
                )
            return torch_functional.batch_norm
        try:
            return _IMPLS[self.impl]
        except KeyError:
            raise ValueError(
                f"impl must be 'fast', 'reference' or 'native', got {self.impl!r}"
            ) from None

    def _new_batch_weight(self) -> float:
        """The weight of this batch's statistics in the running averages."""
        if self.momentum is None:  # cumulative average over the batches seen so far
            return 1.0 / float(self.num_batches_tracked + 1)
        return 1.0 - self.momentum if self.convention == "book" else self.momentum

    def forward(self, x: Tensor) -> Tensor:
        self._check_input_dim(x)
        if x.shape[1] != self.num_features:
            raise ShapeMismatchError(
                f"expected input with {self.num_features} channels in dimension 1, got shape "
                f"{tuple(x.shape)}; build the layer with num_features={x.shape[1]} or fix the input"
            )
        update = self.training and self.track_running_stats
        use_batch_stats = self.training or self.running_mean is None
        if self.impl == "native":  # torch's own check lets a NaN ε through
            check_eps(self.eps, use_batch_stats)
        tracked = not self.training or self.track_running_stats
        kwargs = (
            {} if self.impl == "native" else {"unbiased_running_var": self.convention == "torch"}
        )
        y = self._implementation()(
            x,
            self.running_mean if tracked else None,
            self.running_var if tracked else None,
            self.weight,
            self.bias,
            use_batch_stats,
            self._new_batch_weight() if update else 0.0,
            self.eps,
            **kwargs,
        )
        if update:
            self.num_batches_tracked.add_(1)
        return y

    def extra_repr(self) -> str:
        text = (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )
        if self.convention != "torch":
            text += f", convention={self.convention!r}"
        if self.impl != "fast":
            text += f", impl={self.impl!r}"
        return text

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        # Version 2 added num_batches_tracked; an older checkpoint keeps the module's own count
        # (0 for a fresh module), as torch does.
        version = local_metadata.get("version", None)
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and key not in state_dict:
            state_dict[key] = self.num_batches_tracked.clone()
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


class BatchNorm1d(BatchNorm):
    """:class:`BatchNorm` for (N, C) or (N, C, L) input, as ``torch.nn.BatchNorm1d``."""

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {x.dim()}D input)")


class BatchNorm2d(BatchNorm):
    """:class:`BatchNorm` for (N, C, H, W) input, as ``torch.nn.BatchNorm2d``: per channel over
    the N·H·W values (the text's m·p·q)."""

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() != 4:
            raise ValueError(f"expected 4D input (got {x.dim()}D input)")


class BatchNorm3d(BatchNorm):
    """:class:`BatchNorm` for (N, C, D, H, W) input, as ``torch.nn.BatchNorm3d``."""

    def _check_input_dim(self, x: Tensor) -> None:
        if x.dim() != 5:
            raise ValueError(f"expected 5D input (got {x.dim()}D input)")
