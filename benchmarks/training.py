"""Seconds per epoch of LeNet-BN on full Fashion-MNIST: trainlab's loop vs the book's pipeline.

What is measured
----------------
* ``trainlab``: :func:`trainlab.train.fit` for one epoch (batch 256, Adam 1e-3): the images stay a
  uint8 tensor in memory and each batch is one gather and one division. Its epoch time (fit's
  own: the test-set evaluation excluded) is split into data time (producing batches) and
  compute time (forward, backward, step).
* ``book-style``: the same model and optimizer fed the way the book does: a per-sample
  ``torch.utils.data.Dataset`` whose items go through a to-tensor transform, batched by a
  ``DataLoader`` (shuffle, ``--workers`` worker processes; the book uses 4); the time waiting
  for each batch is its data time.
* ``--resnet-steps N``: also N training steps (after a warm-up step) of the book's ResNet-18
  at 96×96, batch 128.
* ``allocator``: with ``--allocator``, the same measurements are repeated in child processes
  with jemalloc preloaded (Debian's ``libjemalloc2``) if it is installed, to show what the glibc
  allocator's page faults cost a whole training step.

Both variants run in the same process (the allocator comparison in children), one after the
other, ``--repeats`` times in alternation; the table shows medians. Targets: the data pipeline
≤ 5 % of trainlab's epoch time; trainlab ≥ 1.5× the examples/s of the book-style pipeline.
``--quick`` is one epoch each on the first 10,000 training images: a smoke run.

Run::

    python benchmarks/training.py --data-dir ../shared/data              # ~1–2 min
    python benchmarks/training.py --data-dir ../shared/data --allocator  # plus jemalloc
    python benchmarks/training.py --data-dir ../shared/data --quick --json training.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from common import Report, Samples, positive_int, time_round_robin
from trainlab.data.fashion_mnist import load_fashion_mnist, subset
from trainlab.models import book_resnet18, lenet
from trainlab.train import fit

JEMALLOC = Path("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")
QUICK_IMAGES = 10_000
RESNET_BATCH = 128
TARGET_DATA_SHARE = 0.05  # data seconds / trainlab's epoch seconds
TARGET_SPEEDUP = 1.5  # trainlab's examples/s / the book-style pipeline's


class PerSampleImages(Dataset):
    """The book's way: one image at a time, converted by a to-tensor transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor):
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        image = self.images[i].to(torch.float32).div(255)  # ToTensor: uint8 HWC -> float CHW
        return image, int(self.labels[i])


def book_style_epoch(data, batch_size: int, workers: int) -> tuple[float, float]:
    """(seconds, data seconds) for one epoch through a DataLoader."""
    torch.manual_seed(0)
    model = lenet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(
        PerSampleImages(data.train_images, data.train_labels),
        batch_size,
        shuffle=True,
        num_workers=workers,
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()  # the split needs a clock inside the loop
    data_time = 0.0
    tic = time.perf_counter()
    for x, y in loader:
        data_time += time.perf_counter() - tic
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        tic = time.perf_counter()
    return time.perf_counter() - start, data_time


def trainlab_epoch(data, batch_size: int) -> tuple[float, float]:
    torch.manual_seed(0)
    model = lenet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    stats = fit(model, data, optimizer, 1, batch_size, log=None, progress=None)[0]
    return stats.seconds, stats.data_seconds


def resnet_step_samples(steps: int) -> list[float]:
    """Seconds per training step of the book's ResNet-18 on 96×96 inputs (the run whose
    activations — 150 MB per layer at this batch — meet the allocator's mmap path)."""
    torch.manual_seed(0)
    model = book_resnet18()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.rand(RESNET_BATCH, 1, 96, 96), torch.randint(0, 10, (RESNET_BATCH,))

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return time_round_robin({"step": step}, steps, 1, 0.0)["step"].samples_s


def measure(args: argparse.Namespace) -> dict:
    """The samples, as plain numbers (a --child prints them as JSON)."""
    data = load_fashion_mnist(args.data_dir, download=False)
    if args.quick:
        data = subset(data, QUICK_IMAGES)
    runs = {"trainlab": [], "book-style": []}
    for _ in range(args.repeats):
        runs["trainlab"].append(trainlab_epoch(data, args.batch_size))
        runs["book-style"].append(book_style_epoch(data, args.batch_size, args.workers))
    result = {"examples": len(data.train_labels), "resnet18_96_step_s": []}
    for name, samples in runs.items():
        result[name] = {"seconds": [s for s, _ in samples], "data_seconds": [d for _, d in samples]}
    if args.resnet_steps:
        result["resnet18_96_step_s"] = resnet_step_samples(args.resnet_steps)
    return result


def report_result(report: Report, title: str, result: dict) -> None:
    table = report.table(
        title, ["pipeline:<12", "s/epoch:.2f", "data s:.2f", "data %:7.1%", "examples/s:10,.0f"]
    )
    median = {}
    for name in ("trainlab", "book-style"):
        seconds = median[name] = Samples(1, result[name]["seconds"]).median_s
        data_seconds = Samples(1, result[name]["data_seconds"]).median_s
        share = data_seconds / seconds
        table.row(name, seconds, data_seconds, share, result["examples"] / seconds, **result[name])
        if name == "trainlab":
            target = f"{title}: data / trainlab's epoch time"
            report.target(target, share, TARGET_DATA_SHARE, higher_is_better=False)
    speedup = median["book-style"] / median["trainlab"]
    report.target(f"{title}: trainlab / book-style examples/s", speedup, TARGET_SPEEDUP)
    if result["resnet18_96_step_s"]:
        step = Samples(1, result["resnet18_96_step_s"])
        report.table(
            f"{title}: book ResNet-18 training step, 96×96, batch {RESNET_BATCH}",
            ["s/step:.2f", "images/s:.0f", "spread:7.1%"],
        ).row(step.median_s, RESNET_BATCH / step.median_s, step.spread, samples_s=step.samples_s)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--batch-size", type=positive_int, default=256)
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers (the book's 4)")
    parser.add_argument(
        "--resnet-steps",
        type=int,
        default=0,
        help="also time N training steps of the book's ResNet-18 at 96×96",
    )
    parser.add_argument("--repeats", type=positive_int, help="epochs per variant (default 2)")
    parser.add_argument("--threads", type=positive_int, default=torch.get_num_threads())
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"one epoch each of the first {QUICK_IMAGES:,} training images: a smoke run",
    )
    parser.add_argument("--allocator", action="store_true", help="also measure with jemalloc")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats is None:  # --quick only changes the default
        args.repeats = 1 if args.quick else 2
    return args


def jemalloc_child(args: argparse.Namespace) -> dict:
    """measure() in a child process with jemalloc preloaded."""
    env = dict(
        os.environ, LD_PRELOAD=str(JEMALLOC), MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1"
    )
    command = [sys.executable, __file__, "--child", "--repeats", str(args.repeats)]
    for option in ("resnet_steps", "threads", "workers", "batch_size", "data_dir"):
        if getattr(args, option) is not None:
            command += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    command += ["--quick"] if args.quick else []
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    if args.child:  # measured in a process whose allocator the parent chose
        print(json.dumps(measure(args)))
        return
    report = Report(
        "Training epoch benchmark: LeNet-BN on Fashion-MNIST, trainlab's fit vs a book-style "
        "DataLoader",
        batch=args.batch_size,
        workers=args.workers,
        epochs_per_variant=args.repeats,
        images="all" if not args.quick else f"first {QUICK_IMAGES:,}",
    )
    report_result(report, "glibc malloc (this process)", measure(args))
    if args.allocator:
        if JEMALLOC.exists():
            report_result(report, "jemalloc (LD_PRELOAD, decay off)", jemalloc_child(args))
        else:
            report.warn(f"jemalloc: not installed ({JEMALLOC}); apt-get install libjemalloc2")
    report.summary()
    if args.json:
        report.write_json(args.json)


if __name__ == "__main__":
    main()
