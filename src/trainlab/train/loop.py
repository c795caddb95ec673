"""The training loop: epochs of minibatch updates, evaluation in prediction mode, a history,
checkpoints after every epoch, and exact resumption.

Resuming continues from the last completed epoch with the model, optimizer, scheduler and RNG
states saved then; the batches of an epoch depend only on (seed, epoch), so a resumed run
computes exactly what an uninterrupted one would (bit for bit on the same CPU and threads).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from trainlab.data.batches import image_batches, num_batches
from trainlab.data.fashion_mnist import ImageData
from trainlab.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from trainlab.train.progress import Progress

__all__ = ["EpochStats", "NonFiniteLoss", "evaluate", "fit", "xavier_init"]


@dataclass
class EpochStats:
    epoch: int  # 1-based, as the book prints it
    loss: float  # mean training loss over the epoch
    train_acc: float  # accuracy on the training batches, in training mode (as the book)
    test_acc: float  # accuracy on the test set, in prediction mode
    examples_per_s: float
    seconds: float  # wall-clock of the epoch's training (evaluation excluded)
    data_seconds: float  # of which spent producing batches

    def line(self) -> str:
        """The book's per-epoch line."""
        return (
            f"epoch {self.epoch}, loss {self.loss:.4f}, train acc {self.train_acc:.3f}, "
            f"test acc {self.test_acc:.3f}, {self.examples_per_s:,.0f} examples/sec"
        )


class NonFiniteLoss(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def xavier_init(model: nn.Module) -> nn.Module:
    """The book's initialization: Xavier-uniform weights for every conv and linear layer."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
    return model


@torch.no_grad()
def evaluate(model: nn.Module, images, labels, batch_size: int = 1024, resize=None, device=None):
    """Accuracy in prediction mode (the model's mode is restored afterwards)."""
    was_training = model.training
    model.eval()
    correct = 0
    for x, y in image_batches(images, labels, batch_size, resize=resize, device=device):
        correct += int((model(x).argmax(1) == y).sum())
    model.train(was_training)
    return correct / len(labels)


def _state(model, optimizer, scheduler, epoch, history, config) -> dict[str, Any]:
    return {
        "epoch": epoch,
        "config": config,
        "history": [asdict(h) for h in history],
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": torch.get_rng_state(),
    }


def _check_same_run(saved: dict, config: dict, model: nn.Module) -> None:
    differs = [
        f"{k}: checkpoint {saved.get(k)!r}, now {config.get(k)!r}"
        for k in sorted(set(saved) | set(config))
        if k != "epochs" and saved.get(k) != config.get(k)
    ]
    if differs:
        raise CheckpointError("the checkpoint belongs to a different run — " + "; ".join(differs))


def fit(
    model: nn.Module,
    data: ImageData,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    batch_size: int = 256,
    seed: int = 0,
    resize: int | None = None,
    device: torch.device | str = "cpu",
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    checkpoint: Path | None = None,
    resume: bool = False,
    config: dict[str, Any] | None = None,
    log: TextIO | None = sys.stdout,
    progress: TextIO | None = sys.stderr,
) -> list[EpochStats]:
    """Train ``model`` with cross-entropy for ``epochs`` epochs and return the history.

    ``scheduler`` (if any) steps once per epoch. With ``checkpoint`` a checkpoint is written
    after every epoch; with ``resume`` training continues from it (``config`` — anything JSON,
    e.g. the command-line settings — must match the checkpoint's, except ``epochs``).

    Inside an initialized torch.distributed process group of several processes, training is
    data-parallel: the model is wrapped in DistributedDataParallel, each process trains on its
    shard of every epoch with ``batch_size`` examples per step (see ``image_batches``), the
    history covers all shards, and only rank 0 logs, shows progress and writes checkpoints.
    """
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if rank != 0:
        log = progress = None
    config = dict(config or {}, epochs=epochs, batch_size=batch_size, seed=seed, resize=resize)
    history: list[EpochStats] = []
    first_epoch = 0
    if resume and checkpoint is not None and checkpoint.with_suffix(".json").exists():
        saved = load_checkpoint(checkpoint)
        _check_same_run(saved["config"], config, model)
        try:
            model.load_state_dict(saved["model"])
        except RuntimeError as err:
            raise CheckpointError(
                f"the checkpoint's weights do not fit this model: {err}"
            ) from None
        optimizer.load_state_dict(saved["optimizer"])
        if scheduler is not None and saved["scheduler"] is not None:
            scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])
        history = [EpochStats(**h) for h in saved["history"]]
        first_epoch = saved["epoch"]
        if log is not None:
            log.write(f"resumed from {checkpoint} after epoch {first_epoch}\n")
    model.to(device)
    trained = DistributedDataParallel(model) if world > 1 else model
    loss_fn = nn.CrossEntropyLoss()
    steps = num_batches(len(data.train_labels) // world, batch_size)
    for epoch in range(first_epoch, epochs):
        model.train()
        bar = Progress(progress, f"epoch {epoch + 1}/{epochs}", steps)
        total_loss, correct, seen, data_time = 0.0, 0, 0, 0.0
        start = time.perf_counter()
        batches = image_batches(
            data.train_images,
            data.train_labels,
            batch_size,
            shuffle=True,
            seed=seed,
            epoch=epoch,
            resize=resize,
            device=device,
            shard=(rank, world) if world > 1 else None,
        )
        for index in range(steps):
            tic = time.perf_counter()
            x, y = next(batches)
            data_time += time.perf_counter() - tic
            logits = trained(x)
            loss = loss_fn(logits, y)
            loss_value = loss.item()
            if not math.isfinite(loss_value):
                raise NonFiniteLoss(
                    f"the loss became {loss_value} in epoch {epoch + 1}, batch {index + 1}; "
                    f"try a smaller learning rate. The last good checkpoint is kept"
                    + (f" ({checkpoint})" if checkpoint is not None else "")
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total_loss += loss_value * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
            bar.update(index + 1, loss_value, len(y))
        seconds = time.perf_counter() - start
        bar.close()
        if world > 1:  # the epoch's numbers over every shard
            totals = torch.tensor([total_loss, correct, seen], dtype=torch.float64)
            dist.all_reduce(totals)
            total_loss, correct, seen = totals[0].item(), int(totals[1]), int(totals[2])
        if scheduler is not None:
            scheduler.step()
        stats = EpochStats(
            epoch + 1,
            total_loss / seen,
            correct / seen,
            evaluate(model, data.test_images, data.test_labels, resize=resize, device=device),
            seen / seconds,
            seconds,
            data_time,
        )
        history.append(stats)
        if log is not None:
            log.write(stats.line() + "\n")
            log.flush()
        if checkpoint is not None and rank == 0:
            save_checkpoint(
                checkpoint, _state(model, optimizer, scheduler, epoch + 1, history, config)
            )
    return history
