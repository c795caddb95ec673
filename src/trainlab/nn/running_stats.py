"""Recompute the running statistics of every batch-norm layer in one pass over data.

After weight averaging (SWA, EMA of weights), pruning, or a change of input distribution, the
running statistics no longer describe the activations the weights now produce; predictions then
drift. One pass in training mode with ``momentum=None`` (the cumulative average) sets each
layer's running mean and variance to the average of its per-batch statistics over that pass.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from trainlab.nn.freeze import batch_norm_layers, is_frozen

__all__ = ["recompute_batch_norm_stats"]


@torch.no_grad()
def recompute_batch_norm_stats(
    model: nn.Module,
    batches: Iterable[Tensor | tuple | list],
    num_batches: int | None = None,
    device: torch.device | str | None = None,
) -> int:
    """Reset and re-estimate the running statistics of every tracking, non-frozen BN layer.

    Args:
        model: any model; only its BN layers change (parameters, and every other layer's state,
            are untouched; modes and momenta are restored afterwards).
        batches: iterable of inputs, or of (input, target, ...) tuples/lists whose first element is
            the input (a data loader works as is).
        num_batches: stop after this many batches (default: the whole iterable).
        device: move each input there first.

    Returns the number of batches used. Each batch weighs equally in the averages (the
    cumulative average of ``momentum=None``), so prefer batches of equal size. Frozen layers
    (:func:`trainlab.nn.freeze_batch_norm`) are left as they are.
    """
    if num_batches is not None and num_batches < 1:
        raise ValueError(f"num_batches must be a positive int or None, got {num_batches!r}")
    layers = [m for m in batch_norm_layers(model) if m.track_running_stats and not is_frozen(m)]
    if not layers:
        return 0
    modes = {m: m.training for m in model.modules()}
    momenta = {m: m.momentum for m in layers}
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    used = 0
    try:
        for batch in batches:
            if num_batches is not None and used == num_batches:
                break
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            model(x.to(device) if device is not None else x)
            used += 1
    finally:
        for m, momentum in momenta.items():
            m.momentum = momentum
        for m, training in modes.items():
            m.training = training
    if used == 0:
        raise ValueError("recompute_batch_norm_stats got no batches; pass a non-empty iterable")
    return used
