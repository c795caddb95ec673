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

Medians over ``--repeats`` after warm-up; the two variants of each case run in the same
processes, interleaved.

Both are measured in two setups. "as launched": the processes as torchrun starts them (one
OpenMP thread each, scheduled anywhere). "isolated" (Linux): each process pinned to its own
core, and gloo's TCP event-loop thread, which busy-polls (pytorch/gloo#246), at the lowest
priority (:func:`trainlab.train.placement.isolate_process`, ``trainlab train --pin-cpus``).
On a machine with one core per process the polling threads otherwise compete with both
processes' compute, and a collective that takes ~0.2 ms can wait for a scheduler time slice
(~3 ms); the isolated setup shows what synchronization itself costs.

Run::

    python benchmarks/distributed.py            # about a minute on 2 cores
    python benchmarks/distributed.py --quick
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

from trainlab.models import book_resnet18, lenet
from trainlab.nn import BatchNorm, SyncBatchNorm, convert_sync_batch_norm
from trainlab.train.placement import isolate_process

SHAPES = [(256, 64, 28, 28), (256, 6, 28, 28), (128, 128, 14, 14), (256, 120), (4096, 1024)]
MODELS = {"LeNet-BN": lenet, "ResNet-18 (book)": book_resnet18}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _median_time(fn, repeats: int, warmup: int = 2) -> float:
    return _median_times([fn], repeats, warmup)[0]


def _median_times(fns, repeats: int, warmup: int = 2) -> list[float]:
    """Median seconds of each function, timed in alternation (so drifts hit all alike), each
    sample starting together on every process."""
    for _ in range(warmup):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, samples in zip(fns, times, strict=True):
            if dist.is_initialized():
                dist.barrier()
            tic = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - tic)
    return [statistics.median(samples) for samples in times]


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
        out[f"bn {shape}"] = tuple(
            _median_times([_bn_step(plain, x, g), _bn_step(sync, x, g)], repeats)
        )
    for name, build in MODELS.items():
        torch.manual_seed(0)
        model = DistributedDataParallel(convert_sync_batch_norm(build()))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        x, y = torch.rand(128, 1, 28, 28), torch.randint(0, 10, (128,))
        out[f"train {name}"] = _median_time(_train_step(model, optimizer, x, y), repeats)
    if rank == 0:
        results.put(out)
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    print(f"torch {torch.__version__}; gloo on 127.0.0.1; medians of {repeats} after warm-up")
    # As torchrun does for several processes per machine: one OpenMP thread per process. Set
    # only by torch.set_num_threads(1) inside the worker, libgomp's idle team can keep spinning
    # and steal the core that gloo's threads need (collectives of ~0.3 ms took 3 ms here).
    os.environ["OMP_NUM_THREADS"] = "1"
    setups = {"as launched": False}
    if sys.platform.startswith("linux"):
        setups["isolated"] = True
    context = mp.get_context("spawn")
    two = {}
    for setup, isolated in setups.items():
        results = context.SimpleQueue()
        mp.spawn(_worker, args=(_free_port(), repeats, isolated, results), nprocs=2, join=True)
        two[setup] = results.get()

    print("\n1. SyncBN vs plain BN, forward+backward, per process (2 processes × 1 thread)")
    print(f"{'setup':<13}{'global shape':<22}{'plain ms':>10}{'sync ms':>10}{'ratio':>8}  ≤ 1.3×")
    for setup in setups:
        for shape in SHAPES:
            t_plain, t_sync = two[setup][f"bn {shape}"]
            ratio = t_sync / t_plain
            verdict = "MET" if ratio <= 1.3 else "MISSED"
            print(
                f"{setup:<13}{shape!s:<22}{t_plain * 1e3:>10.2f}{t_sync * 1e3:>10.2f}"
                f"{ratio:>7.2f}×  {verdict}"
            )

    torch.set_num_threads(2)
    print(
        "\n2. Training step, 256 images in total, 28×28: 2 processes × 1 thread (DDP + SyncBN)"
        " vs 1 process × 2 threads"
    )
    print(f"{'model':<20}" + "".join(f"{'2×1 ' + setup:>22}" for setup in setups) + f"{'1×2':>10}")
    for name, build in MODELS.items():
        torch.manual_seed(0)
        model = build()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        x, y = torch.rand(256, 1, 28, 28), torch.randint(0, 10, (256,))
        one = 256 / _median_time(_train_step(model, optimizer, x, y), repeats)
        cells = []
        for setup in setups:
            parallel = 256 / two[setup][f"train {name}"]
            cells.append(f"{parallel:>11,.0f} ({parallel / one:.2f}×)")
        print(f"{name:<20}" + "".join(f"{c:>22}" for c in cells) + f"{one:>10,.0f}")


if __name__ == "__main__":
    main()
