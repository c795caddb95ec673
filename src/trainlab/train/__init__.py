"""Training: the loop, checkpoints, progress."""

from trainlab.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from trainlab.train.loop import (
    EpochStats,
    NonFiniteLoss,
    TrainingDiverged,
    evaluate,
    fit,
    xavier_init,
)

__all__ = [
    "CheckpointError",
    "EpochStats",
    "NonFiniteLoss",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "load_checkpoint",
    "save_checkpoint",
    "xavier_init",
]
