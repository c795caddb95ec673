"""Seconds per epoch of LeNet-BN on full Fashion-MNIST: trainlab's loop vs the book's pipeline.

What is measured
----------------
* ``trainlab``: :func:`trainlab.train.fit` for one epoch (batch 256, Adam 1e-3): the images stay a
  uint8 tensor in memory and each batch is one gather and one division. Its epoch time is split
  into data time (producing batches) and compute time (forward, backward, step).
* ``book-style``: the same model and optimizer fed the way the book does: a per-sample
  ``torch.utils.data.Dataset`` whose items go through a to-tensor transform, batched by a
  ``DataLoader`` (shuffle, ``--workers`` worker processes; the book uses 4).
* ``allocator``: with ``--allocator``, the same measurements are repeated in child processes
  with jemalloc preloaded (Debian's ``libjemalloc2``) if it is installed, to show what the glibc
  allocator's page faults cost a whole training step.

Both variants run in the same process (the allocator comparison in children), one after the
other, ``--repeats`` times in alternation; the table shows medians. Targets: the data pipeline
≤ 5 % of trainlab's epoch time; trainlab ≥ 1.5× the examples/s of the book-style pipeline.

Run::

    python benchmarks/training.py --data-dir ../shared/data              # ~1–2 min
    python benchmarks/training.py --data-dir ../shared/data --allocator  # plus jemalloc
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset

from trainlab.data.fashion_mnist import load_fashion_mnist
from trainlab.models import book_resnet18, lenet
from trainlab.train import fit

JEMALLOC = Path("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2")


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
    start = time.perf_counter()
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


def resnet_step_seconds(steps: int, batch_size: int = 128) -> float:
    """Median seconds per training step of the book's ResNet-18 on 96×96 inputs (the run
    whose activations — 150 MB per layer at this batch — meet the allocator's mmap path)."""
    torch.manual_seed(0)
    model = book_resnet18()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.rand(batch_size, 1, 96, 96), torch.randint(0, 10, (batch_size,))
    times = []
    for _ in range(steps + 1):  # the first step warms up
        tic = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - tic)
    return statistics.median(times[1:])


def measure(args) -> dict:
    data = load_fashion_mnist(args.data_dir, download=False)
    n = len(data.train_labels)
    runs = {"trainlab": [], "book-style": []}
    for _ in range(args.repeats):
        runs["trainlab"].append(trainlab_epoch(data, args.batch_size))
        runs["book-style"].append(book_style_epoch(data, args.batch_size, args.workers))
    result = {}
    for name, samples in runs.items():
        seconds = statistics.median(s for s, _ in samples)
        data_seconds = statistics.median(d for _, d in samples)
        result[name] = {
            "seconds": seconds,
            "data_seconds": data_seconds,
            "examples_per_s": n / seconds,
        }
    if args.resnet_steps:
        result["resnet18_96_step_s"] = resnet_step_seconds(args.resnet_steps)
    return result


def print_table(title: str, result: dict) -> None:
    print(f"\n{title}")
    print(f"{'pipeline':<12}{'s/epoch':>10}{'data s':>10}{'data %':>9}{'examples/s':>13}")
    for name in ("trainlab", "book-style"):
        r = result[name]
        share = 100 * r["data_seconds"] / r["seconds"]
        print(
            f"{name:<12}{r['seconds']:>10.2f}{r['data_seconds']:>10.2f}{share:>8.1f}%"
            f"{r['examples_per_s']:>13,.0f}"
        )
    ours, book = result["trainlab"], result["book-style"]
    share = ours["data_seconds"] / ours["seconds"]
    speedup = ours["examples_per_s"] / book["examples_per_s"]
    print(
        f"targets: data ≤ 5% of trainlab's epoch: {share:.1%} "
        f"({'MET' if share <= 0.05 else 'MISSED'}); trainlab ≥ 1.5× book-style: {speedup:.2f}× "
        f"({'MET' if speedup >= 1.5 else 'MISSED'})"
    )
    if "resnet18_96_step_s" in result:
        step = result["resnet18_96_step_s"]
        print(
            f"book ResNet-18, 96×96, batch 128: {step:.2f} s per training step "
            f"({128 / step:.0f} images/s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=4, help="DataLoader workers (the book's 4)")
    parser.add_argument(
        "--resnet-steps",
        type=int,
        default=0,
        help="also time N training steps of the book's ResNet-18 at 96×96",
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--allocator", action="store_true", help="also measure with jemalloc")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child:  # measured in a process whose allocator the parent chose
        print(json.dumps(measure(args)))
        return
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"batch {args.batch_size}, DataLoader workers {args.workers}, medians of "
        f"{args.repeats} epochs each"
    )
    print_table("glibc malloc (this process)", measure(args))
    if args.allocator:
        if not JEMALLOC.exists():
            print(f"\njemalloc: not installed ({JEMALLOC}); apt-get install libjemalloc2")
            return
        env = dict(
            os.environ, LD_PRELOAD=str(JEMALLOC), MALLOC_CONF="dirty_decay_ms:-1,muzzy_decay_ms:-1"
        )
        command = [
            sys.executable,
            __file__,
            "--child",
            "--resnet-steps",
            str(args.resnet_steps),
            "--repeats",
            str(args.repeats),
            "--threads",
            str(args.threads),
            "--workers",
            str(args.workers),
            "--batch-size",
            str(args.batch_size),
        ]
        if args.data_dir:
            command += ["--data-dir", str(args.data_dir)]
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        print_table("jemalloc (LD_PRELOAD, decay off)", json.loads(out.stdout.splitlines()[-1]))


if __name__ == "__main__":
    main()
