"""The ``trainlab`` command line: ``trainlab train ...`` (and ``python -m trainlab ...``)."""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from trainlab.data.fashion_mnist import load_fashion_mnist, subset
from trainlab.experiments.figures import curves_figure
from trainlab.experiments.sections import PROFILES, SECTIONS, Settings
from trainlab.models import book_densenet, book_resnet18, lenet
from trainlab.nn.sync_batchnorm import convert_sync_batch_norm
from trainlab.report.reproduce import reproduce
from trainlab.train import CheckpointError, EpochStats, NonFiniteLoss, fit, xavier_init
from trainlab.train.placement import cores_for, isolate_process

__all__ = ["main", "run"]

# Where Debian's libjemalloc2 puts the library. With many fresh large tensors per step, glibc's
# malloc maps and page-faults every block above its mmap threshold anew; jemalloc keeps them
# (measured: the book's ResNet-18 at 96×96 trains ~10% faster, LeNet-BN ~6%).
JEMALLOC = (
    "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
    "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
    "/usr/lib64/libjemalloc.so.2",
)
ALLOCATOR_ENV = "TRAINLAB_ALLOCATOR"  # "system" keeps glibc's malloc

MODELS: dict[str, Callable[[], nn.Module]] = {
    "lenet": lambda: lenet(norm="none"),
    "lenet-bn": lambda: lenet(norm="trainlab"),
    "lenet-bn-concise": lambda: lenet(norm="torch"),
    "resnet18": lambda: book_resnet18(),
    "densenet": lambda: book_densenet(),
}
OPTIMIZERS = {
    "sgd": lambda params, lr: torch.optim.SGD(params, lr=lr),
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
}


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="trainlab", description="Batch norm, ResNets, convex optimization and GD: the unit."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train a model of the unit on Fashion-MNIST",
        description="Train on Fashion-MNIST and write history.csv, history.json, curves.png and "
        "a checkpoint to --out; prints the book's line per epoch.",
    )
    train.add_argument(
        "--model",
        choices=sorted(MODELS),
        default="lenet-bn",
        help="lenet (no BN), lenet-bn (trainlab BN, the book's scratch version), "
        "lenet-bn-concise (torch BN), resnet18 or densenet (the book's)",
    )
    train.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    train.add_argument("--lr", type=_positive_float, default=1e-3, help="learning rate")
    train.add_argument("--batch-size", type=_positive_int, default=256)
    train.add_argument("--epochs", type=_positive_int, default=5)
    train.add_argument(
        "--resize",
        type=_positive_int,
        default=None,
        help="resize images to N×N (the book uses 96 for ResNet/DenseNet)",
    )
    train.add_argument("--xavier", action="store_true", help="the book's Xavier initialization")
    train.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with the Fashion-MNIST .gz files (default: cache/download)",
    )
    train.add_argument("--no-download", action="store_true", help="never use the network")
    train.add_argument(
        "--fallback",
        action="store_true",
        help="if Fashion-MNIST cannot be had, train on scikit-learn's digits",
    )
    train.add_argument(
        "--subset",
        type=_positive_int,
        default=None,
        help="train on the first N training images and test on the first N//6 (quick checks)",
    )
    train.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder")
    train.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    train.add_argument(
        "--sync-bn",
        action="store_true",
        help="synchronize batch-norm statistics across processes (under torchrun)",
    )
    train.add_argument(
        "--pin-cpus",
        action="store_true",
        help="Linux: give each process of this machine its own cores and gloo's polling thread "
        "the lowest priority (faster data-parallel training on CPU; see README)",
    )
    train.add_argument(
        "--timeout",
        type=_positive_float,
        default=120.0,
        help="seconds a process waits for the others before the run fails (under torchrun)",
    )

    run = commands.add_parser(
        "reproduce",
        help="run the whole unit and write the report",
        description="Run every experiment of the unit and write OUT/index.html (our numbers "
        "beside the book's, with the figures), OUT/results.json and the figures as PNG. "
        "Finished sections are cached: an interrupted run continues where it stopped.",
    )
    run.add_argument(
        "--profile",
        choices=PROFILES,
        default="quick",
        help="smoke: seconds; quick: under 15 minutes on 2 CPU cores (default); "
        "book: the book's settings in full (GPU recommended)",
    )
    run.add_argument(
        "--only",
        type=_sections,
        default=None,
        help=f"comma-separated sections: {','.join(SECTIONS)}",
    )
    run.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    run.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with the Fashion-MNIST and airfoil files",
    )
    run.add_argument(
        "--no-fallback",
        action="store_true",
        help="fail instead of using bundled data when Fashion-MNIST is unavailable",
    )
    run.add_argument("--no-download", action="store_true", help="never use the network")
    run.add_argument("--device", default="cpu", help="cpu, cuda, ...")
    run.add_argument("--seed", type=int, default=0)
    return parser


def _sections(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SECTIONS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}"
        )
    return keys


def _write_history(out: Path, history: Sequence[EpochStats], source: str, model: str) -> None:
    rows = [asdict(h) for h in history]
    with (out / "history.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / "history.json").write_text(json.dumps({"dataset": source, "history": rows}, indent=1))
    curves_figure(history, model).figure.savefig(out / "curves.png", dpi=100)


def _train(args: argparse.Namespace) -> int:
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            f"trainlab: error: --device {args.device}: no CUDA device here; use --device cpu",
            file=sys.stderr,
        )
        return 2
    rank = _join_process_group(args)  # only rank 0 prints and writes files
    if args.pin_cpus:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        try:
            isolate_process(local_rank, local_world)
        except RuntimeError as error:
            print(f"trainlab: error: {error}", file=sys.stderr)
            return 2
        if rank == 0:
            shares = [cores_for(r, local_world, available) for r in range(local_world)]
            print(f"cores of the processes on this machine: {shares}")
    torch.manual_seed(args.seed)
    data = load_fashion_mnist(args.data_dir, download=not args.no_download, fallback=args.fallback)
    if args.subset is not None:
        data = subset(data, args.subset)
    model = MODELS[args.model]()
    if args.xavier:
        xavier_init(model)
    if args.sync_bn:
        model = convert_sync_batch_norm(model)
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), args.lr)
    args.out.mkdir(parents=True, exist_ok=True)
    config = {
        "model": args.model,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "xavier": args.xavier,
        "dataset": data.source,
        "subset": args.subset,
        "processes": dist.get_world_size() if dist.is_initialized() else 1,
        "sync_bn": args.sync_bn,
    }
    if rank == 0:
        print(f"training {args.model} on {data.source} (allocator: {_allocator()})")
    history = fit(
        model,
        data,
        optimizer,
        args.epochs,
        args.batch_size,
        seed=args.seed,
        resize=args.resize,
        device=args.device,
        checkpoint=args.out / "checkpoint",
        resume=args.resume,
        config=config,
    )
    if rank == 0:
        _write_history(args.out, history, data.source, args.model)
        print(f"wrote {args.out / 'history.csv'}, history.json, curves.png and checkpoint.*")
    if dist.is_initialized():
        dist.destroy_process_group()
    return 0


def _join_process_group(args: argparse.Namespace) -> int:
    """Under torchrun (WORLD_SIZE > 1) join the process group — NCCL for CUDA, gloo otherwise —
    with a timeout, so that a failed process ends the others instead of hanging them."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0
    if args.device.startswith("cuda"):
        local = int(os.environ.get("LOCAL_RANK", "0"))
        args.device = f"cuda:{local}"
        torch.cuda.set_device(local)
    dist.init_process_group(
        "nccl" if args.device.startswith("cuda") else "gloo",
        timeout=datetime.timedelta(seconds=args.timeout),
    )
    return dist.get_rank()


def _reproduce(args: argparse.Namespace) -> int:
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(
            f"trainlab: error: --device {args.device}: no CUDA device here; use --device cpu",
            file=sys.stderr,
        )
        return 2
    settings = Settings(
        args.profile,
        args.data_dir,
        args.device,
        args.seed,
        not args.no_fallback,
        not args.no_download,
    )
    try:
        reproduce(settings, args.out, args.only)
    except KeyboardInterrupt:
        print(
            "\ninterrupted: finished sections are cached; run the same command to continue",
            file=sys.stderr,
        )
        return 130
    return 0


def _use_fast_allocator(argv: list[str]) -> None:
    """For ``train`` and ``reproduce``: re-execute this command with jemalloc preloaded when it
    is installed, unless $TRAINLAB_ALLOCATOR is "system" or it is already loaded."""
    if not argv or argv[0] not in ("train", "reproduce"):
        return
    if os.environ.get(ALLOCATOR_ENV) == "system" or "jemalloc" in os.environ.get("LD_PRELOAD", ""):
        return
    library = next((path for path in JEMALLOC if os.path.exists(path)), None)
    if library is None:
        return
    preload = " ".join(p for p in (library, os.environ.get("LD_PRELOAD")) if p)
    env = dict(os.environ, LD_PRELOAD=preload, **{ALLOCATOR_ENV: "jemalloc"})
    env.setdefault("MALLOC_CONF", "dirty_decay_ms:-1,muzzy_decay_ms:-1")  # keep freed pages
    os.execve(sys.executable, [sys.executable, "-m", "trainlab", *argv], env)


def _allocator() -> str:
    return "jemalloc" if "jemalloc" in os.environ.get("LD_PRELOAD", "") else "system malloc"


def run() -> None:
    """The ``trainlab`` console command (and ``python -m trainlab``)."""
    _use_fast_allocator(sys.argv[1:])
    sys.exit(main())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _train(args) if args.command == "train" else _reproduce(args)
    except (FileNotFoundError, CheckpointError, NonFiniteLoss, ValueError) as err:
        print(f"trainlab: error: {err}", file=sys.stderr)
        return 1
    except dist.DistBackendError as err:
        rank = dist.get_rank() if dist.is_initialized() else "?"
        print(
            f"trainlab: error: process {rank} lost contact with the others (did one fail?): "
            f"{str(err).splitlines()[0]}",
            file=sys.stderr,
        )
        return 1
