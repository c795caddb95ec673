"""Layers: batch normalization, its variants, layer normalization, and tools for BN in whole
models."""

from trainlab._checks import ShapeMismatchError
from trainlab.nn.batchnorm import BatchNorm, BatchNorm1d, BatchNorm2d, BatchNorm3d
from trainlab.nn.freeze import (
    FrozenBatchNorm,
    batch_norm_layers,
    freeze_batch_norm,
    is_frozen,
    unfreeze_batch_norm,
)
from trainlab.nn.fusion import fuse_batch_norm
from trainlab.nn.layer_norm import LayerNorm
from trainlab.nn.running_stats import recompute_batch_norm_stats
from trainlab.nn.sync_batchnorm import (
    SyncBatchNorm,
    convert_sync_batch_norm,
    revert_sync_batch_norm,
)
from trainlab.nn.variants import BatchRenorm, GhostBatchNorm, renorm_limits

__all__ = [
    "BatchNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "BatchRenorm",
    "FrozenBatchNorm",
    "GhostBatchNorm",
    "LayerNorm",
    "ShapeMismatchError",
    "SyncBatchNorm",
    "batch_norm_layers",
    "convert_sync_batch_norm",
    "freeze_batch_norm",
    "fuse_batch_norm",
    "is_frozen",
    "recompute_batch_norm_stats",
    "renorm_limits",
    "revert_sync_batch_norm",
    "unfreeze_batch_norm",
]
