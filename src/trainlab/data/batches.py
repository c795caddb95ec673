"""Minibatches straight from in-memory tensors: one gather and one division per batch, instead
of a per-sample Dataset, transform and collate (70,000 small images fit in 55 MB)."""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = ["epoch_order", "image_batches", "num_batches"]


def epoch_order(n: int, seed: int, epoch: int) -> Tensor:
    """The shuffled order of epoch ``epoch``: a function of (seed, epoch) only, so a resumed run
    sees exactly the batches an uninterrupted one would."""
    # one generator seed per (seed, epoch) pair: 100,003 is a prime larger than any epoch count,
    # so distinct pairs never share a seed (reduced mod 2⁶³, the range manual_seed takes)
    key = (seed * 100_003 + epoch) % (1 << 63)
    return torch.randperm(n, generator=torch.Generator().manual_seed(key))


def num_batches(n: int, batch_size: int) -> int:
    return (n + batch_size - 1) // batch_size


def image_batches(
    images: Tensor,
    labels: Tensor,
    batch_size: int,
    shuffle: bool = False,
    seed: int = 0,
    epoch: int = 0,
    resize: int | None = None,
    device: torch.device | str | None = None,
    start: int = 0,
    shard: tuple[int, int] | None = None,
) -> Iterator[tuple[Tensor, Tensor]]:
    """(x, y) batches: x float32 (B, C, H, W) in [0, 1] (bilinearly resized to resize×resize on
    the whole batch when asked), y int64. ``start`` skips the first batches of the epoch.

    ``shard=(rank, world)`` gives process ``rank`` of ``world`` every world-th example of the
    epoch's order, starting at ``rank``: disjoint shards that cover the epoch (less its last
    n mod world examples, so that every process runs the same number of batches), and batch j of
    the shards together is batch j of a single process with world × the batch size."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size}")
    n = len(labels)
    order = epoch_order(n, seed, epoch) if shuffle else torch.arange(n)
    if shard is not None:
        rank, world = shard
        order = order[: n - n % world][rank::world]
    for first in range(start * batch_size, len(order), batch_size):
        rows = order[first : first + batch_size]
        x = images[rows].to(device=device, dtype=torch.float32).div_(255)
        if resize is not None and x.shape[-1] != resize:
            x = F.interpolate(x, size=(resize, resize), mode="bilinear", align_corners=False)
        yield x, labels[rows].to(device)
