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
import weakref
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, TextIO

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from trainlab.data.batches import image_batches, num_batches
from trainlab.data.fashion_mnist import ImageData
from trainlab.progress import Bar
from trainlab.train.checkpoint import (
    CheckpointError,
    checkpoint_exists,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)

__all__ = [
    "EpochStats",
    "NonFiniteLoss",
    "TrainingDiverged",
    "evaluate",
    "fit",
    "last_batch_rule",
    "xavier_init",
]

# A finite loss this many times the first batch's has diverged as surely as an infinite one.
DIVERGENCE_FACTOR = 1e6
# torch's threads should keep this share of their cores busy; below it, others compete.
BUSY_SHARE = 0.6


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


class TrainingDiverged(RuntimeError):
    """The loss became non-finite or exploded; the last good checkpoint is kept."""


class NonFiniteLoss(TrainingDiverged):
    """The loss became NaN or infinite."""


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
    try:
        correct = 0
        for x, y in image_batches(images, labels, batch_size, resize=resize, device=device):
            correct += int((model(x).argmax(1) == y).sum())
    finally:
        model.train(was_training)
    return correct / len(labels)


def last_batch_rule(n: int, batch_size: int, drop_last: bool | None) -> bool:
    """Whether to drop an epoch's incomplete last batch: always with ``drop_last=True``, never
    with False; with None (the default) only a last batch of one example, which batch norm
    cannot normalize in training (one value per channel)."""
    if drop_last is None:
        return n % batch_size == 1
    return drop_last and n % batch_size != 0


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


def _checked(saved: Any, path: Path) -> tuple[int, list[EpochStats], dict]:
    """The checkpoint's epoch, history and config, with their types checked (its hash only
    proves trainlab wrote it, not that this version reads it the same way)."""
    names = {f.name for f in fields(EpochStats)}
    try:
        epoch, history, config = saved["epoch"], saved["history"], saved["config"]
        if not (isinstance(epoch, int) and epoch >= 0 and isinstance(config, dict)):
            raise TypeError
        if not (isinstance(history, list) and len(history) == epoch):
            raise TypeError
        if any(not isinstance(h, dict) or set(h) != names for h in history):
            raise TypeError
        for key in ("model", "optimizer", "rng", "scheduler"):
            saved[key]
    except (KeyError, TypeError):
        raise CheckpointError(
            f"{path} does not hold a training checkpoint of this trainlab version (missing or "
            "mistyped epoch/history/config/model/optimizer/rng); delete it to start over"
        ) from None
    return epoch, [EpochStats(**h) for h in history], config


def _check_same_run(saved: dict, config: dict) -> None:
    differs = [
        f"{k}: checkpoint {saved.get(k)!r}, now {config.get(k)!r}"
        for k in sorted(set(saved) | set(config))
        if k != "epochs" and saved.get(k) != config.get(k)
    ]
    if differs:
        raise CheckpointError("the checkpoint belongs to a different run — " + "; ".join(differs))


def _resume(path, model, optimizer, scheduler, config, epochs, log):
    """Restore the state saved at ``path``; returns (epochs done, history)."""
    saved = load_checkpoint(path, log=log)
    done, history, saved_config = _checked(saved, path)
    _check_same_run(saved_config, config)
    if done > epochs:
        raise CheckpointError(
            f"the checkpoint at {path} has {done} epochs done; training for {epochs} would "
            f"discard {done - epochs} of them: ask for at least {done} epochs"
        )
    try:
        model.load_state_dict(saved["model"])
    except RuntimeError as err:
        raise CheckpointError(f"the checkpoint's weights do not fit this model: {err}") from None
    optimizer.load_state_dict(saved["optimizer"])
    if scheduler is not None and saved["scheduler"] is not None:
        scheduler.load_state_dict(saved["scheduler"])
    torch.set_rng_state(saved["rng"])
    if log is not None:
        log.write(f"resumed from {path} after epoch {done}\n")
    return done, history


class _ThreadWatch:
    """Says when torch's threads get much less CPU than they ask for: other programs compete for
    the cores, and fewer threads (``--threads 1``) usually train faster then. Measured over the
    first ``after_batches`` batches of every run, said once per output stream (a reproduce run
    trains many models into one stream)."""

    warned: ClassVar[weakref.WeakSet[TextIO]] = weakref.WeakSet()

    def __init__(self, out: TextIO | None, after_batches: int = 20) -> None:
        self.out, self.after = out, after_batches
        self.threads = torch.get_num_threads()
        self.wall, self.cpu, self.batches = time.perf_counter(), time.process_time(), 0

    def batch(self) -> None:
        self.batches += 1
        if self.out is None or self.batches != self.after or self.threads < 2:
            return
        share = (time.process_time() - self.cpu) / max(time.perf_counter() - self.wall, 1e-9)
        if share < BUSY_SHARE * self.threads and self.out not in self.warned:
            self.warned.add(self.out)
            self.out.write(
                f"trainlab: torch's {self.threads} threads got {share:.1f} cores of CPU in the "
                "first batches: other programs compete for the cores; --threads 1 is often "
                "several times faster on a busy machine\n"
            )


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
    resume: bool | Literal["if_any"] = False,
    config: dict[str, Any] | None = None,
    log: TextIO | None = sys.stdout,
    progress: TextIO | None = sys.stderr,
    label: str = "training",
    drop_last: bool | None = None,
) -> list[EpochStats]:
    """Train ``model`` with cross-entropy for ``epochs`` epochs and return the history.

    ``scheduler`` (if any) steps once per epoch. With ``checkpoint`` (a file path) a checkpoint
    is written after every epoch; ``resume=True`` continues from it and fails when there is
    none, ``resume="if_any"`` continues from it when there is one. ``config`` — anything JSON,
    e.g. the command-line settings — must match the checkpoint's, except ``epochs``.
    ``label`` names the run in the progress display; ``drop_last`` is :func:`last_batch_rule`'s.
    When torch's threads get well under their cores' worth of CPU in the first 20 batches (a busy
    machine), a note suggesting ``--threads 1`` goes to ``log`` (else ``progress``), once per
    stream.

    A loss that becomes non-finite, or exceeds 1e6 times the first batch's, stops the run with
    :class:`TrainingDiverged` (:class:`NonFiniteLoss` for NaN/inf); the last good checkpoint
    stays.

    Inside an initialized torch.distributed process group of several processes, training is
    data-parallel: the model is wrapped in DistributedDataParallel, each process trains on its
    shard of every epoch with ``batch_size`` examples per step (see ``image_batches``), the
    history covers all shards, and only rank 0 logs, shows progress and writes checkpoints.
    """
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    if rank != 0:
        log = progress = None
    config = dict(config or {}, epochs=epochs, batch_size=batch_size, seed=seed, resize=resize)
    path = checkpoint_path(checkpoint) if checkpoint is not None else None
    history: list[EpochStats] = []
    first_epoch = 0
    if resume and path is None:
        raise ValueError("resume needs a checkpoint path")
    if resume is True and not checkpoint_exists(path):
        raise CheckpointError(f"cannot resume: no checkpoint at {path}; run without --resume")
    if resume and checkpoint_exists(path):
        first_epoch, history = _resume(path, model, optimizer, scheduler, config, epochs, log)
    model.to(device)
    trained = DistributedDataParallel(model) if world > 1 else model
    shard = len(data.train_labels) // world
    drop = last_batch_rule(shard, batch_size, drop_last)
    steps = num_batches(shard, batch_size) - (1 if drop else 0)
    if drop and log is not None and first_epoch < epochs:
        log.write(
            f"note: dropping each epoch's last batch of {shard % batch_size} example(s) "
            f"({shard} examples, batch {batch_size})\n"
        )
    bar = Bar(progress, label, (epochs - first_epoch) * steps, plain_every=steps)
    watch = _ThreadWatch(log if log is not None else progress)
    reference = [None]  # the first batch's loss, the yardstick for an exploding one
    try:
        for epoch in range(first_epoch, epochs):
            run = _EpochRun(
                trained,
                model,
                optimizer,
                data,
                epochs,
                steps,
                batch_size,
                seed,
                resize,
                device,
                (rank, world),
                bar,
                watch,
                reference,
                path,
            )
            stats = run(epoch, done_before=(epoch - first_epoch) * steps)
            if scheduler is not None:
                scheduler.step()
            stats.test_acc = evaluate(
                model, data.test_images, data.test_labels, resize=resize, device=device
            )
            history.append(stats)
            if log is not None:
                log.write(stats.line() + "\n")
                log.flush()
            if path is not None and rank == 0:
                save_checkpoint(
                    path, _state(model, optimizer, scheduler, epoch + 1, history, config)
                )
    finally:
        bar.close()
    return history


@dataclass
class _EpochRun:
    """What every epoch of one ``fit`` shares."""

    trained: nn.Module  # the model, or its DistributedDataParallel wrapper
    model: nn.Module
    optimizer: torch.optim.Optimizer
    data: ImageData
    epochs: int
    steps: int
    batch_size: int
    seed: int
    resize: int | None
    device: Any
    placement: tuple[int, int]  # (rank, world)
    bar: Bar
    watch: _ThreadWatch
    reference: list  # [the first batch's loss], the yardstick for an exploding one
    path: Path | None

    def __call__(self, epoch: int, done_before: int) -> EpochStats:
        """One epoch of updates; the stats lack the test accuracy (filled in after)."""
        _rank, world = self.placement
        self.model.train()
        loss_fn = nn.CrossEntropyLoss()
        total_loss, correct, seen, data_time = 0.0, 0, 0, 0.0
        start = time.perf_counter()
        batches = image_batches(
            self.data.train_images,
            self.data.train_labels,
            self.batch_size,
            shuffle=True,
            seed=self.seed,
            epoch=epoch,
            resize=self.resize,
            device=self.device,
            shard=self.placement if world > 1 else None,
        )
        for index in range(self.steps):
            tic = time.perf_counter()
            x, y = next(batches)
            data_time += time.perf_counter() - tic
            logits = self.trained(x)
            loss = loss_fn(logits, y)
            loss_value = loss.item()
            _check_loss(loss_value, self.reference, epoch, index, self.path)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total_loss += loss_value * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
            self.watch.batch()
            rate = seen / max(time.perf_counter() - start, 1e-9)
            self.bar.update(
                done_before + index + 1,
                epoch=f"{epoch + 1}/{self.epochs}",
                loss=f"{total_loss / seen:.4f}",
                acc=f"{correct / seen:.3f}",
                rate=f"{rate:,.0f} ex/s",
            )
        seconds = time.perf_counter() - start
        if world > 1:  # the epoch's numbers over every shard
            totals = torch.tensor([total_loss, correct, seen], dtype=torch.float64)
            dist.all_reduce(totals)
            total_loss, correct, seen = totals[0].item(), int(totals[1]), int(totals[2])
        return EpochStats(
            epoch + 1,
            total_loss / seen,
            correct / seen,
            math.nan,
            seen / seconds,
            seconds,
            data_time,
        )


def _check_loss(value: float, reference: list, epoch: int, index: int, path) -> None:
    where = f"epoch {epoch + 1}, batch {index + 1}"
    kept = " The last good checkpoint is kept" + (f" ({path})" if path is not None else "")
    if not math.isfinite(value):
        raise NonFiniteLoss(
            f"the loss became {value} in {where}; try a smaller learning rate.{kept}"
        )
    if reference[0] is None:
        reference[0] = max(value, 1e-12)
    elif value > DIVERGENCE_FACTOR * reference[0]:
        raise TrainingDiverged(
            f"the loss exploded to {value:.3g} in {where}, {value / reference[0]:.2g}× the first "
            f"batch's {reference[0]:.3g}: training diverged; try a smaller learning rate.{kept}"
        )
