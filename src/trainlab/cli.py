"""The ``trainlab`` command line: ``trainlab train …`` and ``trainlab reproduce …`` (also
``python -m trainlab …``).

Only the standard library is imported until a command runs, so ``--help`` and ``--version``
answer at once. Every flag whose mistake would only show after minutes of work (the device, the
output folder, the input size, a checkpoint to resume, the seed) is checked before any work;
every run-time failure trainlab knows (a full disk, a read-only folder, a damaged checkpoint, a
lost process, Ctrl-C) ends with one line saying what failed and what to do — the traceback only
with ``--debug``.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import trainlab
from trainlab.experiments.catalog import DEFAULT_EDITION, EDITIONS, LANGUAGES, PROFILES, SECTIONS

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

MODELS = ("lenet", "lenet-bn", "lenet-bn-concise", "resnet18", "densenet")
OPTIMIZERS = ("sgd", "adam")
MAX_SEED = 2**63 - 1


class UsageError(ValueError):
    """A flag's value cannot work; found before any work was done."""


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {value}")
    return value


def _seed(text: str) -> int:
    value = int(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must lie in [0, 2**63 − 1], got {value}")
    return value


def _sections(text: str) -> list[str]:
    keys = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in keys if k not in SECTIONS]
    if unknown or not keys:
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}"
        )
    return keys


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, …")
    parser.add_argument(
        "--seed", type=_seed, default=0, help="random seed (0 ≤ seed < 2**63)"
    )
    parser.add_argument(
        "--threads",
        type=_positive_int,
        default=None,
        help="torch's CPU threads (default: torch's choice, one per core); on a busy machine "
        "--threads 1 is often several times faster",
    )
    parser.add_argument("--data-dir", type=Path, default=None, help="folder with the data files")
    parser.add_argument("--no-download", action="store_true", help="never use the network")
    parser.add_argument(
        "--wait", action="store_true", help="wait for another run on the same --out to finish"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")


class _Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default where it says something: not for switches (off unless given)
    and not for options whose help already says what happens without them."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def _parser() -> argparse.ArgumentParser:
    defaults = _Defaults
    parser = argparse.ArgumentParser(
        prog="trainlab",
        description="Batch norm, ResNets, convex optimization and GD: the unit.",
        formatter_class=defaults,
    )
    parser.add_argument("--version", action="version", version=f"trainlab {trainlab.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser(
        "train",
        help="train a model of the unit on Fashion-MNIST",
        description="Train on Fashion-MNIST and write history.csv, history.json, curves.png and "
        "a checkpoint to --out; prints the book's line per epoch.",
        formatter_class=defaults,
    )
    train.add_argument(
        "--model",
        choices=MODELS,
        default="lenet-bn",
        help="lenet (no BN), lenet-bn (trainlab BN, the book's scratch version), "
        "lenet-bn-concise (torch BN), resnet18 or densenet (the book's)",
    )
    train.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="the optimizer")
    train.add_argument("--lr", type=_positive_float, default=1e-3, help="learning rate")
    train.add_argument(
        "--batch-size", type=_positive_int, default=256, help="examples per step"
    )
    train.add_argument("--epochs", type=_positive_int, default=5, help="passes over the data")
    train.add_argument(
        "--resize",
        type=_positive_int,
        default=None,
        help="resize images to N×N (the book uses 96 for ResNet/DenseNet; LeNet takes only 28)",
    )
    train.add_argument("--xavier", action="store_true", help="the book's Xavier initialization")
    train.add_argument(
        "--fallback",
        action="store_true",
        help="if Fashion-MNIST cannot be had, train on the bundled digits",
    )
    train.add_argument(
        "--subset",
        type=_positive_int,
        default=None,
        help="train on the first N training images and test on the first N//6 (quick checks)",
    )
    train.add_argument(
        "--drop-last",
        action="store_true",
        help="drop each epoch's incomplete last batch (a last batch of one is always dropped: "
        "batch norm cannot normalize it)",
    )
    train.add_argument("--out", type=Path, default=Path("runs/train"), help="output folder")
    resume = train.add_mutually_exclusive_group()
    resume.add_argument("--resume", action="store_true", help="continue from --out's checkpoint")
    resume.add_argument(
        "--resume-if-any", action="store_true", help="continue if --out has a checkpoint"
    )
    _common(train)
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
        description="Run every experiment of the unit and write OUT/<profile>/index.html (our "
        "numbers beside the book's, with the figures), results.json and the figures. Finished "
        "sections are cached and training runs checkpointed: an interrupted run continues "
        "where it stopped.",
        formatter_class=defaults,
    )
    run.add_argument(
        "--profile",
        choices=PROFILES,
        default="quick",
        help="smoke: seconds; quick: minutes on 2 CPU cores; book: the edition's settings in full "
        "(GPU recommended)",
    )
    run.add_argument(
        "--edition",
        choices=EDITIONS,
        default=DEFAULT_EDITION,
        help="whose settings and code to follow: course (the 2020 course), e1 (1st Chinese "
        "edition, PyTorch port), e2 (2nd Chinese), e3 (d2l-en)",
    )
    run.add_argument(
        "--only",
        type=_sections,
        default=None,
        help=f"comma-separated sections: {','.join(SECTIONS)}",
    )
    run.add_argument("--out", type=Path, default=Path("report"), help="output folder")
    run.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="the report's language (default: from $LANG, zh_* gives Chinese, else English)",
    )
    run.add_argument(
        "--no-fallback",
        action="store_true",
        help="fail instead of using the bundled data when a data set is unavailable",
    )
    run.add_argument(
        "--force", action="store_true", help="replace cached sections made with other settings"
    )
    _common(run)
    return parser


# --------------------------------------------------------------------------------------------
# Checks before any work
# --------------------------------------------------------------------------------------------


def _check_device(text: str) -> str:
    import torch

    try:
        device = torch.device(text)
    except (RuntimeError, ValueError):
        raise UsageError(f"--device {text!r} is not a device; use cpu or cuda[:N]") from None
    if device.type not in ("cpu", "cuda"):
        raise UsageError(f"--device {text}: trainlab trains on cpu or cuda[:N], not {device.type}")
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"--device {text}: no CUDA device here; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(
                f"--device {text}: this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
    return text


def _check_writable(folder: Path) -> None:
    from trainlab._io import atomic_write_text

    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--out {folder} is a file, not a folder; choose a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = atomic_write_text(folder / ".write-probe", "")
        probe.unlink()
    except OSError as err:
        raise UsageError(
            f"--out {folder} is not writable ({err.strerror}); choose a folder you can write to"
        ) from None


def _available_memory() -> int | None:
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _check_resize(model_name: str, resize: int | None, batch_size: int) -> None:
    """LeNet takes 28×28 only; the convolutional models need inputs their halvings survive and
    that fit in memory (estimated from a small dry run, scaled by the area)."""
    import torch

    if model_name.startswith("lenet"):
        if resize not in (None, 28):
            raise UsageError(
                f"--resize {resize}: LeNet's first fully connected layer takes 16·4·4 features, "
                "i.e. 28×28 input; drop --resize"
            )
        return
    if resize is None:
        return
    model = _build_model(model_name).eval()
    probe = min(resize, 64)
    activations = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, o: activations.append(o.numel()))
        for m in model.modules()
        if not list(m.children())
    ]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 1, probe, probe))
    except RuntimeError:
        raise UsageError(
            f"--resize {resize}: too small for {model_name}, whose stride-2 stages need a larger "
            "input (the book uses 96)"
        ) from None
    finally:
        for hook in hooks:
            hook.remove()
    # forward activations kept for the backward, their gradients, and room for temporaries
    estimate = 3 * 4 * sum(activations) * (resize / probe) ** 2 * batch_size
    available = _available_memory()
    if available is not None and estimate > 0.8 * available:
        raise UsageError(
            f"--resize {resize} with --batch-size {batch_size} needs about {estimate / 2**30:.1f} "
            f"GiB for {model_name}'s activations, more than the {available / 2**30:.1f} GiB free; "
            "use a smaller --resize or --batch-size"
        )


def _threads(args: argparse.Namespace) -> str:
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    line = f"threads: {torch.get_num_threads()} on {cores} cores"
    if hasattr(os, "getloadavg") and os.getloadavg()[0] > cores and torch.get_num_threads() > 1:
        line += (
            f"\nnote: the machine is busy (load {os.getloadavg()[0]:.1f} on {cores} cores): "
            "torch's threads will compete with the other programs; --threads 1 is often faster"
        )
    return line


# --------------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------------


def _build_model(name: str):
    from trainlab.models import book_densenet, book_resnet18, lenet

    return {
        "lenet": lambda: lenet(norm="none"),
        "lenet-bn": lambda: lenet(norm="trainlab"),
        "lenet-bn-concise": lambda: lenet(norm="torch"),
        "resnet18": book_resnet18,
        "densenet": book_densenet,
    }[name]()


def _write_history(out: Path, history, source: str, model: str) -> None:
    import csv
    import io
    import json
    from dataclasses import asdict

    from trainlab._io import atomic_write, atomic_write_text
    from trainlab.experiments.figures import curves_figure, style
    from trainlab.experiments.result import Text

    rows = [asdict(h) for h in history]
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / "history.csv", table.getvalue())
    atomic_write_text(
        out / "history.json", json.dumps({"dataset": source, "history": rows}, indent=1)
    )
    with style("en"):
        figure = curves_figure(history, Text(model, model), "en")
        atomic_write(out / "curves.png", lambda file: figure.savefig(file, format="png", dpi=150))


def _train(args: argparse.Namespace) -> int:
    import torch
    import torch.distributed as dist

    from trainlab._io import FolderLock, remove_stale_temporaries
    from trainlab.data.fashion_mnist import load_fashion_mnist, subset
    from trainlab.nn.sync_batchnorm import convert_sync_batch_norm
    from trainlab.train import CheckpointError, fit, xavier_init
    from trainlab.train.checkpoint import checkpoint_exists
    from trainlab.train.placement import cores_for, isolate_process

    _check_device(args.device)
    _check_resize(args.model, args.resize, args.batch_size)
    rank = _join_process_group(args)  # only rank 0 prints and writes files
    if rank == 0:
        _check_writable(args.out)
    checkpoint = args.out / "checkpoint"
    if args.resume and not checkpoint_exists(checkpoint):
        raise CheckpointError(
            f"--resume: no checkpoint in {args.out}; run without --resume (or with "
            "--resume-if-any) to start"
        )
    if args.pin_cpus:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        isolate_process(local_rank, local_world)
        if rank == 0:
            shares = [cores_for(r, local_world, available) for r in range(local_world)]
            print(f"cores of the processes on this machine: {shares}")
    elif rank == 0:
        print(_threads(args))
    lock = FolderLock(args.out, wait=args.wait) if rank == 0 else None
    if lock is not None:
        lock.__enter__()
    try:
        if rank == 0:
            remove_stale_temporaries(args.out)
        torch.manual_seed(args.seed)
        data = load_fashion_mnist(
            args.data_dir, download=not args.no_download, fallback=args.fallback
        )
        if args.subset is not None:
            data = subset(data, args.subset)
        model = _build_model(args.model)
        if args.xavier:
            xavier_init(model)
        if args.sync_bn:
            model = convert_sync_batch_norm(model)
        optimizer = (torch.optim.Adam if args.optimizer == "adam" else torch.optim.SGD)(
            model.parameters(), lr=args.lr
        )
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
            checkpoint=checkpoint,
            resume="if_any" if args.resume_if_any else args.resume,
            config=config,
            label=args.model,
            drop_last=True if args.drop_last else None,
            log=sys.stdout,
            progress=sys.stderr,
        )
        if rank == 0:
            _write_history(args.out, history, data.source, args.model)
            out = args.out.resolve()
            print(
                f"wrote {(out / 'history.csv').as_uri()}, history.json, curves.png and "
                f"{(out / 'checkpoint.safetensors').as_uri()}"
            )
    finally:
        if lock is not None:
            lock.__exit__(None, None, None)
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


def _join_process_group(args: argparse.Namespace) -> int:
    """Under torchrun (WORLD_SIZE > 1) join the process group — NCCL for CUDA, gloo otherwise —
    with a timeout, so that a failed process ends the others instead of hanging them."""
    import datetime

    import torch
    import torch.distributed as dist

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


def _language(args: argparse.Namespace) -> str:
    if args.lang is not None:
        return args.lang
    return "zh" if os.environ.get("LANG", "").lower().startswith("zh") else "en"


def _reproduce(args: argparse.Namespace) -> int:
    from trainlab.experiments.settings import Settings
    from trainlab.report.reproduce import reproduce

    _check_device(args.device)
    _check_writable(args.out)
    print(_threads(args))
    settings = Settings(
        args.profile,
        args.edition,
        args.seed,
        args.data_dir,
        args.device,
        not args.no_fallback,
        not args.no_download,
    )
    reproduce(settings, args.out, args.only, force=args.force, lang=_language(args), wait=args.wait)
    return 0


# --------------------------------------------------------------------------------------------
# Errors at the boundary
# --------------------------------------------------------------------------------------------


def _explain(err: BaseException, command: str) -> str | None:
    """One line for a failure trainlab knows; None for anything else (a bug: a traceback)."""
    from safetensors import SafetensorError

    from trainlab._io import FolderBusy
    from trainlab.data.locate import DataUnavailable
    from trainlab.report.reproduce import CacheMismatch
    from trainlab.train.checkpoint import CheckpointError
    from trainlab.train.loop import TrainingDiverged

    if isinstance(err, DataUnavailable):
        return err.message(cli=True)
    if isinstance(err, (UsageError, CheckpointError, TrainingDiverged, FolderBusy, CacheMismatch)):
        return str(err)
    if isinstance(err, SafetensorError):
        return f"a checkpoint could not be read or written ({err}); delete it to start over"
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        if err.errno == errno.ENOSPC:
            return (
                f"the disk is full{where}: free some space or use --out on another disk; the "
                "previous checkpoint is kept"
            )
        if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return f"cannot write{where}: {err.strerror}; choose an --out you can write to"
        return f"{err.strerror or err}{where}"
    if _is_distributed(err):
        return (
            "a process lost contact with the others (did one fail or get killed?): "
            f"{str(err).splitlines()[0] if str(err) else type(err).__name__}"
        )
    if isinstance(err, ValueError):
        return str(err)
    return None


def _is_distributed(err: BaseException) -> bool:
    import torch.distributed as dist

    kinds = tuple(
        getattr(dist, name)
        for name in ("DistError", "DistBackendError", "DistStoreError", "DistNetworkError")
        if hasattr(dist, name)
    )
    text = str(err).lower()
    return isinstance(err, kinds) or (
        isinstance(err, RuntimeError)
        and any(w in text for w in ("gloo", "connection closed by peer", "nccl"))
    )


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
    except KeyboardInterrupt:
        if args.debug:
            raise
        kept = (
            "the checkpoint after the last finished epoch is kept; rerun with --resume to continue",
            "finished sections are cached and training runs checkpointed; rerun to continue",
        )
        what = kept[0] if args.command == "train" else kept[1]
        print(f"\ninterrupted: {what}", file=sys.stderr)
        return 130
    except Exception as err:  # the boundary: known failures become one line
        line = None if args.debug else _explain(err, args.command)
        if line is None:
            raise
        print(f"trainlab: error: {line}", file=sys.stderr)
        return 2 if isinstance(err, UsageError) else 1
