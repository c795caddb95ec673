"""Freeze every batch-norm layer of a model while the rest keeps training, and undo it.

Fine-tuning with small batches, or on data unlike the pre-training data, often works better when
BN layers keep the statistics and affine parameters they have: a frozen BN normalizes with its
running statistics (as in prediction mode) and its γ, β receive no gradient, even while
``model.train()`` is in effect for every other layer.

Freezing swaps each BN layer for a :class:`FrozenBatchNorm` (the approach of torchvision's
``FrozenBatchNorm2d``): a module of its own class, so a frozen model pickles, deep-copies, saves
with ``torch.save`` and compiles like any other, and its state dict has BN's keys.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as torch_functional
from torch.nn.modules.batchnorm import _BatchNorm

from trainlab.nn.batchnorm import BatchNorm

__all__ = [
    "FrozenBatchNorm",
    "batch_norm_layers",
    "freeze_batch_norm",
    "is_frozen",
    "unfreeze_batch_norm",
]

_STATE = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def batch_norm_layers(model: nn.Module) -> list[nn.Module]:
    """Every trainlab or torch batch-norm layer in ``model`` (itself included), in module order
    (frozen layers are not batch-norm layers any more: they no longer normalize per batch)."""
    return [m for m in model.modules() if isinstance(m, (BatchNorm, _BatchNorm))]


class FrozenBatchNorm(nn.Module):
    r"""Batch norm with fixed statistics and affine parameters, in every mode:

    .. math:: y = \frac{x - \text{running\_mean}}{\sqrt{\text{running\_var} + \epsilon}}
              \cdot \gamma + \beta

    ``weight`` (γ), ``bias`` (β), ``running_mean``, ``running_var`` and ``num_batches_tracked``
    are buffers — nothing here is trained — under BN's state-dict keys, so BN checkpoints load
    into a frozen model and back. Built by :func:`freeze_batch_norm` from a BN layer, which it
    keeps (outside its submodules, so that the layer's parameters reach no optimizer) to give
    back, with the current buffer values, on :func:`unfreeze_batch_norm`.
    """

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        if not layer.track_running_stats:
            raise ValueError(
                f"cannot freeze {layer!r}: it has no running statistics "
                "(track_running_stats=False) to normalize with"
            )
        self.num_features, self.eps = layer.num_features, layer.eps
        for name in _STATE:
            value = getattr(layer, name)
            self.register_buffer(name, None if value is None else value.detach().clone())
        # The layer to give back, with its mode and requires_grad flags from before; kept in
        # __dict__, not as a submodule, so that its parameters stay out of parameters().
        self.__dict__["_layer"] = layer
        self._was_training = layer.training
        self._requires_grad = {name: p.requires_grad for name, p in layer.named_parameters()}
        super().train(False)

    def train(self, mode: bool = True) -> FrozenBatchNorm:
        """Stays in prediction mode whatever ``model.train()`` says."""
        return super().train(False)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2 or x.shape[1] != self.num_features:  # torch's type (TorchScript-able)
            raise RuntimeError(
                f"expected input of shape (N, {self.num_features}, *), got {list(x.shape)}"
            )
        return torch_functional.batch_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0, self.eps
        )

    @torch.no_grad()
    def unfrozen(self) -> nn.Module:
        """The BN layer this was made from, holding this module's current buffer values, on its
        device, with its former mode and requires_grad flags."""
        layer = self.__dict__["_layer"]
        layer.to(self.running_mean.device)
        for name in _STATE:
            target, value = getattr(layer, name), getattr(self, name)
            if target is not None:
                target.copy_(value)
        layer.train(self._was_training)
        for name, p in layer.named_parameters():
            p.requires_grad_(self._requires_grad[name])
        return layer

    def extra_repr(self) -> str:
        original = type(self.__dict__["_layer"]).__name__
        return f"{self.num_features}, eps={self.eps}, frozen from {original}"


def _swap(model: nn.Module, replace) -> nn.Module:
    """``model`` with each child replaced by ``replace(child)`` (None: recurse into it)."""
    new = replace(model)
    if new is not None:
        return new
    for name, child in model.named_children():
        model.add_module(name, _swap(child, replace))
    return model


def freeze_batch_norm(model: nn.Module) -> nn.Module:
    """Swap every BN layer in ``model`` (trainlab's, its variants, torch's) for a
    :class:`FrozenBatchNorm` in place; returns ``model`` (or the frozen layer, when ``model``
    itself is a BN layer).

    A frozen layer uses its running statistics and no longer updates them, and its γ, β are
    buffers that no optimizer sees: build the optimizer after freezing (``model.parameters()``
    then holds only what still trains). Freezing twice is harmless.
    """

    def freeze(m: nn.Module) -> nn.Module | None:
        if not isinstance(m, (BatchNorm, _BatchNorm)):
            return None
        for p in m.parameters():
            p.grad = None  # a stale gradient would still move p in an optimizer that holds it
        return FrozenBatchNorm(m)

    return _swap(model, freeze)


def unfreeze_batch_norm(model: nn.Module) -> nn.Module:
    """Undo :func:`freeze_batch_norm`: each frozen layer becomes the BN layer it was, with the
    frozen buffers' current values, its mode and requires_grad flags from before. Returns
    ``model`` (or the layer, when ``model`` itself is frozen). Rebuild the optimizer afterwards:
    the layers' parameters train again."""
    return _swap(model, lambda m: m.unfrozen() if isinstance(m, FrozenBatchNorm) else None)


def is_frozen(layer: nn.Module) -> bool:
    """Whether ``layer`` is a :class:`FrozenBatchNorm` made by :func:`freeze_batch_norm`."""
    return isinstance(layer, FrozenBatchNorm)
