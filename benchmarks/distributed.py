"""Synchronized batch norm and data-parallel training on 2 CPU processes (gloo, 127.0.0.1).

What is measured
----------------
1. SyncBN overhead: forward+backward of :class:`trainlab.nn.SyncBatchNorm` (statistics
   all-gathered, backward sums all-reduced) vs plain trainlab BN on the same per-process slice,
   for the batch-norm benchmark's shapes split over 2 processes (1 thread each). Target: SyncBN
   ≤ 1.3× plain BN.
2. Training throughput (images/s) of LeNet-BN (28×28) and the book's ResNet-18 (28×28), batch
   256 per step in total: 2 processes × 1 thread with DistributedDataParallel and SyncBN, vs
   1 process × 2 threads.

Medians over ``--repeats`` after 2 warm-up calls, one call per sample (rank 0's samples are
reported); the two variants of each case run in the same processes, interleaved round-robin,
every sample starting together on both processes (a barrier before it).

Both are measured in two setups. "as launched": the processes as torchrun starts them (one
OpenMP thread each, scheduled anywhere). "isolated" (Linux): each process pinned to its own
core, and gloo's TCP event-loop thread, which busy-polls (pytorch/gloo#246), at the lowest
priority (:func:`trainlab.train.placement.isolate_process`, ``trainlab train --pin-cpus``).
On a machine with one core per process the polling threads otherwise compete with both
processes' compute, and a collective that takes ~0.2 ms can wait for a scheduler time slice
(~3 ms); the isolated setup shows what synchronization itself costs.

Run::

    python benchmarks/distributed.py            # about a minute on 2 cores
    python benchmarks/distributed.py --quick    # 3 repeats
    python benchmarks/distributed.py --repeats 15 --json distributed.json
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from common import Report, Samples, positive_int, time_round_robin
from trainlab.models import book_resnet18, lenet
from trainlab.nn import BatchNorm, SyncBatchNorm, convert_sync_batch_norm
from trainlab.train.placement import isolate_process

SHAPES = [(256, 64, 28, 28), (256, 6, 28, 28), (128, 128, 14, 14), (256, 120), (4096, 1024)]
MODELS = {"LeNet-BN": lenet, "ResNet-18 (book)": book_resnet18}
WARMUP = 2
TARGET_RATIO = 1.3  # SyncBN's time relative to plain BN's


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _time(fns: dict, repeats: int) -> dict[str, Samples]:
    """common.time_round_robin, one call per sample (both processes must make the same number of
    collective calls), each sample starting together on every process."""
    barrier = (lambda _fn: dist.barrier()) if dist.is_initialized() else None
    return time_round_robin(fns, repeats, WARMUP, 0.0, before_sample=barrier)


def _bn_step(module, x, g):
    def run():
        xi = x.detach().requires_grad_()
        torch.autograd.grad(module(xi), (xi, module.weight, module.bias), g)

    return run


def _train_step(model, optimizer, x, y):
    def run():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return run


def _worker(rank: int, port: int, repeats: int, isolated: bool, results) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    if isolated:
        isolate_process(rank, 2)
    out = {}
    for shape in SHAPES:
        local = (shape[0] // 2, *shape[1:])
        x, g = torch.randn(local), torch.randn(local)
        plain, sync = BatchNorm(shape[1]), SyncBatchNorm(shape[1])
        fns = {"plain": _bn_step(plain, x, g), "sync": _bn_step(sync, x, g)}
        out[f"bn {shape}"] = _time(fns, repeats)
    for name, build in MODELS.items():
        torch.manual_seed(0)
        model = DistributedDataParallel(convert_sync_batch_norm(build()))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
        out[f"train {name}"] = _time({"step": _train_step(model, optimizer, x, y)}, repeats)
    if rank == 0:
        results.put(out)
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=positive_int, help="timed samples (default 9)")
    parser.add_argument("--quick", action="store_true", help="3 repeats: a smoke run")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 9)
    # As torchrun does for several processes per machine: one OpenMP thread per process. Set
    # only by torch.set_num_threads(1) inside the worker, libgomp's idle team can keep spinning
    # and steal the core that gloo's threads need (collectives of ~0.3 ms took 3 ms here).
    os.environ["OMP_NUM_THREADS"] = "1"
    report = Report(
        "Distributed benchmark: SyncBN and DDP on 2 CPU processes, gloo on 127.0.0.1",
        repeats=repeats,
        warmup=WARMUP,
    )
    setups = {"as launched": False}
    if sys.platform.startswith("linux"):
        setups["isolated"] = True
    context = mp.get_context("spawn")
    two = {}
    for setup, isolated in setups.items():
        results = context.SimpleQueue()
        mp.spawn(_worker, args=(_free_port(), repeats, isolated, results), nprocs=2, join=True)
        two[setup] = results.get()

    table = report.table(
        "1. SyncBN vs plain BN, forward+backward, per process (2 processes × 1 thread)",
        ["setup:<12", "global shape:<20", "plain ms:.2f", "sync ms:.2f", "ratio:.2f"],
    )
    for setup in setups:
        for shape in SHAPES:
            s = two[setup][f"bn {shape}"]
            ratio = s["sync"].median_s / s["plain"].median_s
            row = (setup, str(shape), s["plain"].median_s * 1e3, s["sync"].median_s * 1e3, ratio)
            table.row(
                *row, plain_samples_s=s["plain"].samples_s, sync_samples_s=s["sync"].samples_s
            )
            name = f"{setup} {shape}: SyncBN / plain BN time"
            report.target(name, ratio, TARGET_RATIO, higher_is_better=False)

    torch.set_num_threads(2)
    table = report.table(
        "2. Training step, 256 images in total, 28×28: 2 processes × 1 thread (DDP + SyncBN)"
        " vs 1 process × 2 threads",
        ["model:<18", "setup:<12", "2×1 images/s:,.0f", "1×2 images/s:,.0f", "2×1 / 1×2:.2f"],
    )
    for name, build in MODELS.items():
        torch.manual_seed(0)
        model = build()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
        one = 256 / _time({"step": _train_step(model, optimizer, x, y)}, repeats)["step"].median_s
        for setup in setups:
            parallel = 256 / two[setup][f"train {name}"]["step"].median_s
            table.row(name, setup, parallel, one, parallel / one)
    report.summary()
    if args.json:
        report.write_json(args.json)


if __name__ == "__main__":
    main()
