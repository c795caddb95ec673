"""Time whole models on the CPU: trainlab's batch norm vs PyTorch's in a ResNet training step,
BN folding for inference, and channels_last vs contiguous memory format.

What is measured
----------------
Everything runs in float32 on the CPU, on synthetic Fashion-MNIST-shaped data (1 channel,
10 classes), with ``torch.set_num_threads(2)`` unless ``--threads`` says otherwise.

1. Training step -- forward, cross-entropy loss, backward, ``Adam(lr=1e-3)`` step (the quick
   profile's setting) -- of the book's ResNet-18 (:func:`trainlab.models.book_resnet18`), batch
   256, at 1×28×28 and 1×96×96 input, built once with trainlab's ``BatchNorm2d`` (the default,
   ``impl="fast"``) and once with ``norm_layer=torch.nn.BatchNorm2d``. Both start from the same
   weights and cycle through the same few pre-made batches. Target: trainlab ≥ 0.95× torch's
   images/s.
2. Inference -- an eval-mode model vs :func:`trainlab.nn.fusion.fuse_batch_norm` of it (BN
   folded into the preceding conv/linear), at batch 1 and 64, under ``torch.inference_mode()``:
   the book's ResNet-18 at each input size and ``lenet()`` at 28×28. The BN running statistics
   are first filled by a few train-mode forward passes, so the fold is not the identity, and the
   fused model's logits are checked against the eval model's before timing.
   Target: fused ≥ 1.1× eval's images/s at batch 1.
3. Memory format -- the book's ResNet-18 (trainlab BN) at 28×28, contiguous vs channels_last
   (model and input converted with ``.to(memory_format=torch.channels_last)``): the training step
   of section 1 and eval inference at batch 64. Before timing, the channels_last model's logits
   (train and eval mode) are checked against the contiguous model's.
4. BN per layer -- every distinct input shape of the BN layers in section 1's step at 28×28
   (from 64×14×14 down to 512×1×1, batch 256), forward + backward of one layer alone:
   trainlab's ``BatchNorm2d`` vs ``torch.nn.BatchNorm2d``, with the number of layers of that
   shape, so the step's BN cost can be read per stage.

How
---
The variants of one case (e.g. trainlab vs torch BN at 28×28) run in one process on the same
inputs. After warm-up, every repetition times each variant once, round-robin with the starting
variant rotating, so slow drifts of the machine -- frequency scaling, a neighbour's load -- hit
all variants alike. Calls shorter than a minimum sample time are repeated in an inner loop and
divided. Tables report images/s = batch / median seconds per call, the ratio to the case's
baseline variant (torch BN, eval, contiguous), the spread (interquartile range / median) and the
CPUs other processes kept busy while the case ran.
The 96×96 cases take about a second per training step on 2 cores, so they default to fewer
repetitions. A missed target is reported, not an error: the exit status is 0.

Run::

    python benchmarks/models.py                  # everything, a couple of minutes on 2 cores
    python benchmarks/models.py --quick          # 28×28 only, fewer repeats, well under 1 min
    python benchmarks/models.py --sizes 28 --threads 1 --repeats 9 --json models.json
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import gc
import math
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from common import DISTURBED_CORES, OtherLoad, Report, Table, positive_int, time_round_robin
from trainlab.models import book_resnet18, lenet
from trainlab.nn import BatchNorm2d
from trainlab.nn.fusion import fuse_batch_norm

DEFAULT_SIZES = (28, 96)
LENET_SIZE = 28  # LeNet's flatten layer fixes its input at 28×28
MEMORY_FORMAT_SIZE = 28
TRAIN_BATCH = 256
INFERENCE_BATCHES = (1, 64)
MEMORY_FORMAT_INFERENCE_BATCH = 64
BATCH_POOL = 4  # pre-made batches a training step cycles through
LR = 1e-3  # Adam, as the quick profile trains
NUM_CLASSES = 10
TARGET_TRAIN_RATIO = 0.95  # trainlab BN images/s ≥ 0.95 × torch BN images/s
TARGET_FUSED_SPEEDUP = 1.1  # fused images/s ≥ 1.1 × eval images/s at batch 1
LARGE_SIZE = 48  # from this input size on, a training step takes ~1 s on 2 cores: fewer repeats
# (warm-up rounds, timed repetitions) by default: [quick or full][small or large input]
DEFAULT_PLAN = {False: {False: (3, 15), True: (2, 11)}, True: {False: (1, 5), True: (1, 3)}}


@dataclass
class Plan:
    """How one case is timed."""

    warmup: int
    repeats: int
    min_sample_s: float


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    """'28,96' -> [28, 96]."""
    try:
        sizes = [int(item) for item in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad sizes {text!r}; write e.g. 28,96") from None
    if any(s < 16 for s in sizes):  # the book's ResNet-18 shrinks the input 32-fold
        raise argparse.ArgumentTypeError(f"sizes must be at least 16 pixels, got {text!r}")
    return list(dict.fromkeys(sizes))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--sizes",
        type=parse_sizes,
        help="input heights = widths for the ResNet, comma-separated (default 28,96; "
        "28 with --quick); LeNet and the memory-format section need 28",
    )
    p.add_argument(
        "--threads", type=positive_int, default=2, help="torch intra-op threads (default 2)"
    )
    p.add_argument(
        "--repeats",
        type=positive_int,
        help="timed samples per variant, all cases (default 15, or 11 for inputs of "
        f"{LARGE_SIZE}×{LARGE_SIZE} and up; 5 and 3 with --quick)",
    )
    p.add_argument(
        "--warmup",
        type=int,
        help="untimed rounds before timing, all cases (default 3, or 2 for large "
        "inputs; 1 with --quick; at least 1 is run)",
    )
    p.add_argument("--quick", action="store_true", help="fewer repeats, 28×28 only: a smoke run")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    # --quick only changes the defaults: explicit --sizes/--repeats/--warmup still win.
    if args.sizes is None:
        args.sizes = [28] if args.quick else list(DEFAULT_SIZES)
    if args.warmup is not None and args.warmup < 0:
        p.error("--warmup must be >= 0")
    # Each timed sample lasts at least this long (inner loop), so the timer's resolution and the
    # Python overhead of the timing loop stay far below what is measured (LeNet at batch 1).
    args.min_sample_s = 0.02 if args.quick else 0.05
    return args


def plan_for(size: int, args: argparse.Namespace) -> Plan:
    warmup, repeats = DEFAULT_PLAN[args.quick][size >= LARGE_SIZE]
    warmup = warmup if args.warmup is None else args.warmup
    repeats = repeats if args.repeats is None else args.repeats
    # The warm-up round also sizes the inner loop, so at least one is run.
    return Plan(max(warmup, 1), repeats, args.min_sample_s)


# --------------------------------------------------------------------------------------------
# Measuring (shared by every section)
# --------------------------------------------------------------------------------------------


def columns(baseline: str) -> list[str]:
    return [
        "pass:<10",
        "model:<14",
        "input:<8",
        "batch:>5",
        "variant:<14",
        "images/s:10.1f",
        "ms/call:9.3f",
        f"× {baseline}:.3f",
        "spread:7.1%",
        "calls/sample:d",
        "others:.2f",
        "note",
    ]


def measure(
    report: Report,
    table: Table,
    case: tuple[str, str, int, int],
    fns: dict[str, Callable[[], object]],
    baseline: str,
    plan: Plan,
    mode: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> dict[str, float]:
    """Time the variants `fns` of one case (pass, model, size, batch) under `mode`, one row each;
    returns each one's images/s relative to `baseline`'s. A TrainStep's row notes its last loss."""
    gc.collect()  # free the previous case's tensors before timing this one
    other_load = OtherLoad()
    with mode():
        results = time_round_robin(fns, plan.repeats, plan.warmup, plan.min_sample_s)
    others = other_load.cores()
    pass_name, model, size, batch = case
    ratios = {}
    for name, s in results.items():
        ratios[name] = results[baseline].median_s / s.median_s
        fn = fns[name]
        note = f"last loss {fn.last_loss:.3g}" if isinstance(fn, TrainStep) else ""
        if isinstance(fn, TrainStep) and not math.isfinite(fn.last_loss):
            report.warn(f"{pass_name} {model} {size}×{size}: {name} diverged ({note})")
        table.row(
            pass_name,
            model,
            f"1×{size}×{size}",
            batch,
            name,
            batch / s.median_s,
            s.median_s * 1e3,
            ratios[name],
            s.spread,
            s.calls_per_sample,
            others,
            note,
            samples_s=s.samples_s,
        )
    return ratios


# --------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------


def make_images(batch: int, size: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 1, size, size, generator=gen)


def make_labels(batch: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(0, NUM_CLASSES, (batch,), generator=gen)


def to_channels_last(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous(memory_format=torch.channels_last)


class TrainStep:
    """One Adam step per call on the next batch of a small fixed pool; keeps the last loss so that
    a diverging run (whose NaNs would time differently) can be spotted."""

    def __init__(self, model: nn.Module, size: int, channels_last: bool = False) -> None:
        self.model = model.train()
        self.optimizer = torch.optim.Adam(model.parameters(), lr=LR)
        convert = to_channels_last if channels_last else (lambda t: t)
        self.batches = [
            (convert(make_images(TRAIN_BATCH, size, seed)), make_labels(TRAIN_BATCH, seed))
            for seed in range(BATCH_POOL)
        ]
        self.calls = 0
        self.last_loss = math.nan

    def __call__(self) -> None:
        x, y = self.batches[self.calls % BATCH_POOL]
        self.calls += 1
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        self.last_loss = loss.item()


def forward_call(model: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    return lambda: model(x)


@torch.no_grad()
def fill_running_stats(model: nn.Module, size: int, passes: int = 2, batch: int = 32) -> nn.Module:
    """A few train-mode forward passes, so the BN running statistics are those of data rather than
    0 and 1 (a fold of those would be nearly the identity); returns the model in eval mode."""
    model.train()
    for seed in range(passes):
        model(make_images(batch, size, 100 + seed))
    return model.eval()


def compare(report: Report, name: str, got: torch.Tensor, want: torch.Tensor) -> None:
    """Loose float32 agreement: |got − want| ≤ 1e-3·|want| + 1e-3·max|want| elementwise."""
    scale = want.abs().max().item()
    ok = torch.allclose(got, want, rtol=1e-3, atol=1e-3 * max(scale, 1e-6))
    diff = (got - want).abs().max().item()
    report.check(name, ok, f"max |diff| {diff:.2e}, max |reference| {scale:.2e}")


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def training_bn(size: int, args: argparse.Namespace, report: Report, table: Table) -> None:
    """Section 1: one training step, trainlab's BN vs torch's, same initial weights."""
    torch.manual_seed(0)
    ours = book_resnet18()
    theirs = book_resnet18(norm_layer=nn.BatchNorm2d)
    theirs.load_state_dict(ours.state_dict())  # same parameter and buffer names
    steps = {"trainlab": TrainStep(ours, size), "torch": TrainStep(theirs, size)}
    case = ("train step", "book_resnet18", size, TRAIN_BATCH)
    ratios = measure(report, table, case, steps, "torch", plan_for(size, args))
    name = f"train {size}×{size}: trainlab BN / torch BN images/s"
    report.target(name, ratios["trainlab"], TARGET_TRAIN_RATIO)


def bn_layers(size: int, args: argparse.Namespace, report: Report, table: Table) -> None:
    """Section 4: each distinct BN input shape of the training step, one layer alone."""
    shapes: Counter[tuple[int, ...]] = Counter()
    model = book_resnet18()
    hooks = [
        m.register_forward_pre_hook(lambda _m, inputs: shapes.update([tuple(inputs[0].shape)]))
        for m in model.modules()
        if isinstance(m, BatchNorm2d)
    ]
    model(make_images(TRAIN_BATCH, size, 0))
    for hook in hooks:
        hook.remove()
    for shape, count in shapes.items():
        gen = torch.Generator().manual_seed(1)
        x = torch.randn(shape, generator=gen, requires_grad=True)
        g = torch.randn(shape, generator=gen)
        layers = {"trainlab": BatchNorm2d(shape[1]), "torch": nn.BatchNorm2d(shape[1])}

        def step(layer: nn.Module, x=x, g=g) -> Callable[[], None]:
            return lambda: layer(x).backward(g)

        case = ("BN layer", f"{shape[1]}@{shape[2]}×{shape[3]} ×{count}", size, shape[0])
        fns = {name: step(layer) for name, layer in layers.items()}
        measure(report, table, case, fns, "torch", plan_for(size, args))


def build_for_inference(model_name: str, size: int) -> nn.Module:
    torch.manual_seed(0)
    model = book_resnet18() if model_name == "book_resnet18" else lenet()
    return fill_running_stats(model, size)


def inference_fused(
    model_name: str, size: int, args: argparse.Namespace, report: Report, table: Table
) -> None:
    """Section 2: eval-mode model vs its BN-folded copy, at each inference batch size."""
    model = build_for_inference(model_name, size)
    fused = fuse_batch_norm(model, example_input=make_images(1, size, seed=7))
    for batch in INFERENCE_BATCHES:
        x = make_images(batch, size, seed=7)
        with torch.inference_mode():
            name = f"{model_name} {size}×{size} batch {batch}: fused == eval"
            compare(report, name, fused(x), model(x))
        fns = {"eval": forward_call(model, x), "fused": forward_call(fused, x)}
        case = ("inference", model_name, size, batch)
        plan = plan_for(size, args)
        ratios = measure(report, table, case, fns, "eval", plan, mode=torch.inference_mode)
        if batch == 1:
            name = f"inference {model_name} {size}×{size} batch 1: fused / eval images/s"
            report.target(name, ratios["fused"], TARGET_FUSED_SPEEDUP)


def channels_last_checks(model: nn.Module, model_cl: nn.Module, size: int, report: Report) -> None:
    """Logits of the channels_last copy vs the contiguous model, in train and in eval mode (on
    throwaway copies, so the timed models' running statistics stay as they are)."""
    x = make_images(TRAIN_BATCH, size, seed=11)
    for mode in ("train", "eval"):
        a, b = copy.deepcopy(model), copy.deepcopy(model_cl)
        a.train(mode == "train")
        b.train(mode == "train")
        with torch.no_grad():
            name = f"book_resnet18 {size}×{size} {mode} mode: channels_last == contiguous"
            compare(report, name, b(to_channels_last(x)), a(x))


def memory_format(size: int, args: argparse.Namespace, report: Report, table: Table) -> None:
    """Section 3: contiguous vs channels_last, training step and eval inference (trainlab BN)."""
    torch.manual_seed(0)
    model = book_resnet18()
    model_cl = copy.deepcopy(model).to(memory_format=torch.channels_last)
    channels_last_checks(model, model_cl, size, report)
    plan = plan_for(size, args)
    steps = {
        "contiguous": TrainStep(model, size),
        "channels_last": TrainStep(model_cl, size, channels_last=True),
    }
    case = ("train step", "book_resnet18", size, TRAIN_BATCH)
    measure(report, table, case, steps, "contiguous", plan)

    # Eval inference on the trained weights and running statistics of the contiguous model; the
    # copy into model_cl's parameters keeps their channels_last strides.
    model_cl.load_state_dict(model.state_dict())
    model.eval()
    model_cl.eval()
    batch = MEMORY_FORMAT_INFERENCE_BATCH
    x = make_images(batch, size, seed=7)
    fns = {
        "contiguous": forward_call(model, x),
        "channels_last": forward_call(model_cl, to_channels_last(x)),
    }
    case = ("inference", "book_resnet18", size, batch)
    measure(report, table, case, fns, "contiguous", plan, mode=torch.inference_mode)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

LEGEND = """\
variants interleaved round-robin, median reported; calls shorter than min_sample_s are looped
within a sample (calls/sample column)
images/s = batch / median seconds per call; × = images/s relative to the case's baseline;
spread = IQR / median; others = CPUs that other processes kept busy while the case ran
(well above 0: the case's timings are disturbed)"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    plans = {s: plan_for(s, args) for s in args.sizes}
    report = Report(
        "Model benchmark: float32, CPU, synthetic 1-channel images, 10 classes",
        sizes=args.sizes,
        warmup_repeats={s: (p.warmup, p.repeats) for s, p in plans.items()},
        min_sample_s=args.min_sample_s,
        train=f"batch {TRAIN_BATCH}, Adam lr {LR}, cross-entropy",
    )
    print(LEGEND)

    table = report.table(
        f"1. Training step (forward, cross-entropy, backward, Adam lr {LR}), batch "
        f"{TRAIN_BATCH}: trainlab BN vs torch BN",
        columns("torch"),
    )
    for size in args.sizes:
        training_bn(size, args, report, table)

    table = report.table(
        "2. Inference under torch.inference_mode(): eval-mode model vs fuse_batch_norm(model)",
        columns("eval"),
    )
    for size in args.sizes:
        inference_fused("book_resnet18", size, args, report, table)
    if LENET_SIZE in args.sizes:
        inference_fused("lenet", LENET_SIZE, args, report, table)

    table = report.table(
        f"3. Memory format, trainlab BN: training step (batch {TRAIN_BATCH}) and eval "
        f"inference (batch {MEMORY_FORMAT_INFERENCE_BATCH})",
        columns("contiguous"),
    )
    if MEMORY_FORMAT_SIZE in args.sizes:
        memory_format(MEMORY_FORMAT_SIZE, args, report, table)
    else:
        print(f"  skipped: runs at {MEMORY_FORMAT_SIZE}×{MEMORY_FORMAT_SIZE}, not in --sizes")

    table = report.table(
        f"4. BN per layer of section 1's step at {MEMORY_FORMAT_SIZE}×{MEMORY_FORMAT_SIZE}: "
        "forward + backward of one layer, trainlab vs torch (model column: channels@map ×layers)",
        columns("torch"),
    )
    bn_layers(MEMORY_FORMAT_SIZE, args, report, table)

    rows = [row for rows in report.tables.values() for row in rows]
    case = ("pass", "model", "input", "batch")
    disturbed = {tuple(r[k] for k in case) for r in rows if (r["others"] or 0) > DISTURBED_CORES}
    if disturbed:
        report.warn(
            f"{len(disturbed)} case(s) ran while other processes kept more than "
            f"{DISTURBED_CORES} CPUs busy (others column)"
        )
    report.summary()
    if args.json:
        report.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
