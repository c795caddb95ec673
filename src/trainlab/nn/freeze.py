"""Freeze every batch-norm layer of a model while the rest keeps training, and undo it.

Fine-tuning with small batches, or on data unlike the pre-training data, often works better when
BN layers keep the statistics and affine parameters they have: a frozen BN normalizes with its
running statistics (as in prediction mode) and its γ, β receive no gradient, even while
``model.train()`` is in effect for every other layer.
"""

from __future__ import annotations

import types

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from trainlab.nn.batchnorm import BatchNorm

__all__ = ["batch_norm_layers", "freeze_batch_norm", "is_frozen", "unfreeze_batch_norm"]

_STATE = "_trainlab_frozen"  # per module: (training flag, requires_grad of each parameter) before


def batch_norm_layers(model: nn.Module) -> list[nn.Module]:
    """Every trainlab or torch batch-norm layer in ``model`` (itself included), in module order."""
    return [m for m in model.modules() if isinstance(m, (BatchNorm, _BatchNorm))]


def _stay_in_eval(self: nn.Module, mode: bool = True) -> nn.Module:
    """Replaces ``train`` on a frozen layer, so ``model.train()`` leaves it in prediction mode."""
    return nn.Module.train(self, False)


def freeze_batch_norm(model: nn.Module) -> nn.Module:
    """Freeze every BN layer in ``model`` in place and return ``model``.

    A frozen layer uses its running statistics and no longer updates them, and its ``weight`` and
    ``bias`` stop requiring gradients (and lose any gradient they hold), whatever
    ``model.train()``/``model.eval()`` says later.
    Freezing twice is harmless. Pass only the still-trainable parameters to your optimizer, e.g.
    ``[p for p in model.parameters() if p.requires_grad]``.
    """
    for layer in batch_norm_layers(model):
        if is_frozen(layer):
            continue
        if not layer.track_running_stats:
            raise ValueError(
                f"cannot freeze {layer!r}: it has no running statistics "
                "(track_running_stats=False) to normalize with"
            )
        saved = (layer.training, {name: p.requires_grad for name, p in layer.named_parameters()})
        setattr(layer, _STATE, saved)
        layer.train = types.MethodType(_stay_in_eval, layer)
        layer.train(False)
        for p in layer.parameters():
            p.requires_grad_(False)
            p.grad = None  # a stale gradient would still move p in an optimizer that holds it
    return model


def unfreeze_batch_norm(model: nn.Module) -> nn.Module:
    """Undo :func:`freeze_batch_norm`: each layer gets back its mode and ``requires_grad`` flags
    from before it was frozen. Returns ``model``."""
    for layer in batch_norm_layers(model):
        if not is_frozen(layer):
            continue
        training, requires_grad = getattr(layer, _STATE)
        delattr(layer, _STATE)
        del layer.train  # the class's own train() is visible again
        layer.train(training)
        for name, p in layer.named_parameters():
            p.requires_grad_(requires_grad[name])
    return model


def is_frozen(layer: nn.Module) -> bool:
    """Whether ``layer`` was frozen by :func:`freeze_batch_norm`."""
    return hasattr(layer, _STATE)
