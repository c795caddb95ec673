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
baseline variant (torch BN, eval, contiguous), and the spread (interquartile range / median).
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
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from common import (
    DISTURBED_CORES,
    OtherLoad,
    SampleStats,
    environment_line,
    environment_meta,
    load_average_line,
    positive_int,
    time_round_robin,
    write_json,
)
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


@dataclass
class Measurement(SampleStats):
    """The samples of one variant in one case, in seconds per call (one call = one batch)."""

    section: str
    model: str
    size: int
    batch: int
    variant: str
    baseline: str
    calls_per_sample: int
    samples_s: list[float]
    ratio: float = math.nan  # images/s relative to the baseline variant of the same case
    other_cores: float | None = None  # CPUs other processes kept busy while this case ran
    note: str = ""

    @property
    def images_per_s(self) -> float:
        return self.batch / self.median_s


@dataclass
class Check:
    """One untimed comparison of two models' outputs."""

    name: str
    max_abs_diff: float
    scale: float  # max |expected|
    ok: bool


@dataclass
class Report:
    measurements: list[Measurement] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)


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


def measure(
    case: dict,
    fns: dict[str, Callable[[], object]],
    baseline: str,
    plan: Plan,
    mode: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
) -> list[Measurement]:
    """Time the variants `fns` of one case (`case` = section, model, size, batch) under `mode`,
    and express each one's images/s relative to `baseline`'s."""
    gc.collect()  # free the previous case's tensors before timing this one
    other_load = OtherLoad()
    with mode():
        results = time_round_robin(fns, plan.repeats, plan.warmup, plan.min_sample_s)
    other_cores = other_load.cores()
    rows = [
        Measurement(
            **case,
            variant=name,
            baseline=baseline,
            calls_per_sample=number,
            samples_s=samples,
            other_cores=other_cores,
        )
        for name, (number, samples) in results.items()
    ]
    base = next(m for m in rows if m.variant == baseline)
    for m in rows:
        m.ratio = m.images_per_s / base.images_per_s
    return rows


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
    """One SGD step per call on the next batch of a small fixed pool; keeps the last loss so that
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
        self.last_loss = torch.tensor(math.nan)

    def __call__(self) -> None:
        x, y = self.batches[self.calls % BATCH_POOL]
        self.calls += 1
        self.optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        self.last_loss = loss.detach()

    def note(self) -> str:
        loss = self.last_loss.item()
        return f"last loss {loss:.3g}" + ("" if math.isfinite(loss) else "  WARNING: diverged")


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


def compare(name: str, got: torch.Tensor, want: torch.Tensor) -> Check:
    """Loose float32 agreement: |got − want| ≤ 1e-3·|want| + 1e-3·max|want| elementwise."""
    scale = want.abs().max().item()
    ok = torch.allclose(got, want, rtol=1e-3, atol=1e-3 * max(scale, 1e-6))
    return Check(name, (got - want).abs().max().item(), scale, ok)


def print_check(check: Check) -> None:
    status = "ok" if check.ok else "MISMATCH"
    print(
        f"    check: {check.name}: {status} (max |diff| {check.max_abs_diff:.2e}, "
        f"max |reference| {check.scale:.2e})"
    )


# --------------------------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------------------------


def training_bn(size: int, args: argparse.Namespace) -> list[Measurement]:
    """Section 1: one training step, trainlab's BN vs torch's, same initial weights."""
    torch.manual_seed(0)
    ours = book_resnet18()
    theirs = book_resnet18(norm_layer=nn.BatchNorm2d)
    theirs.load_state_dict(ours.state_dict())  # same parameter and buffer names
    steps = {"trainlab": TrainStep(ours, size), "torch": TrainStep(theirs, size)}
    case = {"section": "train", "model": "book_resnet18", "size": size, "batch": TRAIN_BATCH}
    rows = measure(case, steps, "torch", plan_for(size, args))
    for m in rows:
        m.note = steps[m.variant].note()
    return rows


def bn_layers(size: int, args: argparse.Namespace) -> list[Measurement]:
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
    rows = []
    for shape, count in shapes.items():
        gen = torch.Generator().manual_seed(1)
        x = torch.randn(shape, generator=gen, requires_grad=True)
        g = torch.randn(shape, generator=gen)
        layers = {"trainlab": BatchNorm2d(shape[1]), "torch": nn.BatchNorm2d(shape[1])}

        def step(layer: nn.Module, x=x, g=g) -> Callable[[], None]:
            return lambda: layer(x).backward(g)

        case = {
            "section": "bn layer",
            "model": f"{shape[1]}@{shape[2]}×{shape[3]} ×{count}",
            "size": size,
            "batch": shape[0],
        }
        fns = {name: step(layer) for name, layer in layers.items()}
        rows += measure(case, fns, "torch", plan_for(size, args))
    return rows


def build_for_inference(model_name: str, size: int) -> nn.Module:
    torch.manual_seed(0)
    model = book_resnet18() if model_name == "book_resnet18" else lenet()
    return fill_running_stats(model, size)


def inference_fused(
    model_name: str, size: int, args: argparse.Namespace
) -> tuple[list[Measurement], list[Check]]:
    """Section 2: eval-mode model vs its BN-folded copy, at each inference batch size."""
    model = build_for_inference(model_name, size)
    fused = fuse_batch_norm(model, example_input=make_images(1, size, seed=7))
    rows, checks = [], []
    for batch in INFERENCE_BATCHES:
        x = make_images(batch, size, seed=7)
        with torch.inference_mode():
            checks.append(
                compare(
                    f"{model_name} {size}×{size} batch {batch}: fused == eval", fused(x), model(x)
                )
            )
        fns = {"eval": forward_call(model, x), "fused": forward_call(fused, x)}
        case = {"section": "inference", "model": model_name, "size": size, "batch": batch}
        rows += measure(case, fns, "eval", plan_for(size, args), mode=torch.inference_mode)
    return rows, checks


def channels_last_checks(model: nn.Module, model_cl: nn.Module, size: int) -> list[Check]:
    """Logits of the channels_last copy vs the contiguous model, in train and in eval mode (on
    throwaway copies, so the timed models' running statistics stay as they are)."""
    x = make_images(TRAIN_BATCH, size, seed=11)
    checks = []
    for mode in ("train", "eval"):
        a, b = copy.deepcopy(model), copy.deepcopy(model_cl)
        a.train(mode == "train")
        b.train(mode == "train")
        with torch.no_grad():
            checks.append(
                compare(
                    f"book_resnet18 {size}×{size} {mode} mode: channels_last == contiguous",
                    b(to_channels_last(x)),
                    a(x),
                )
            )
    return checks


def memory_format(size: int, args: argparse.Namespace) -> tuple[list[Measurement], list[Check]]:
    """Section 3: contiguous vs channels_last, training step and eval inference (trainlab BN)."""
    torch.manual_seed(0)
    model = book_resnet18()
    model_cl = copy.deepcopy(model).to(memory_format=torch.channels_last)
    checks = channels_last_checks(model, model_cl, size)
    plan = plan_for(size, args)
    base = {"model": "book_resnet18", "size": size}

    steps = {
        "contiguous": TrainStep(model, size),
        "channels_last": TrainStep(model_cl, size, channels_last=True),
    }
    rows = measure(
        {**base, "section": "memory_format train", "batch": TRAIN_BATCH}, steps, "contiguous", plan
    )
    for m in rows:
        m.note = steps[m.variant].note()

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
    rows += measure(
        {**base, "section": "memory_format inference", "batch": batch},
        fns,
        "contiguous",
        plan,
        mode=torch.inference_mode,
    )
    return rows, checks


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def print_header(args: argparse.Namespace) -> None:
    print("Model benchmark: float32, CPU, synthetic 1-channel images, 10 classes")
    print(environment_line())
    sizes = ", ".join(f"{s}×{s}" for s in args.sizes)
    plans = "; ".join(
        f"{s}×{s}: {p.warmup} warm-up + {p.repeats} timed"
        for s in args.sizes
        for p in [plan_for(s, args)]
    )
    print(f"input sizes {sizes} | rounds per case: {plans}")
    print(
        "variants interleaved round-robin, median reported; calls shorter than "
        f"{args.min_sample_s * 1e3:g} ms are looped within a sample (calls/sample column)"
    )
    print(
        "images/s = batch / median seconds per call; × = images/s relative to the case's "
        "baseline; spread = IQR / median;\nothers = CPUs that other processes kept busy while "
        "the case ran (well above 0: the case's timings are disturbed)"
    )
    print(load_average_line())


def print_section(title: str, baseline: str) -> None:
    print(f"\n{title}")
    print(
        f"  {'pass':<10} {'model':<14} {'input':<8} {'batch':>5}  {'variant':<14} "
        f"{'images/s':>10} {'ms/call':>9} {'× ' + baseline:>14} {'spread':>7} "
        f"{'calls/sample':>12} {'others':>6}  note"
    )


def format_cores(cores: float | None) -> str:
    return "?" if cores is None else f"{cores:.2f}"


def print_rows(rows: list[Measurement]) -> None:
    previous = None
    for m in rows:
        key = (m.section, m.model, m.size, m.batch)
        label = (
            (
                {"bn layer": "BN layer"}.get(
                    m.section, "train step" if m.section.endswith("train") else "inference"
                ),
                m.model,
                f"1×{m.size}×{m.size}",
                str(m.batch),
            )
            if key != previous
            else ("",) * 4
        )
        previous = key
        print(
            f"  {label[0]:<10} {label[1]:<14} {label[2]:<8} {label[3]:>5}  {m.variant:<14} "
            f"{m.images_per_s:>10.1f} {m.median_s * 1e3:>9.3f} {m.ratio:>13.3f}× "
            f"{m.spread:>6.1%} {m.calls_per_sample:>12} {format_cores(m.other_cores):>6}  "
            f"{m.note}".rstrip()
        )
    sys.stdout.flush()  # the large cases take a while: show each as it completes


def target_rows(report: Report) -> list[dict]:
    """Every measurement a target applies to, with its PASS/MISS."""
    targets = []
    for m in report.measurements:
        if m.section == "train" and m.variant == "trainlab":
            name, limit = "train: trainlab BN / torch BN images/s", TARGET_TRAIN_RATIO
        elif m.section == "inference" and m.variant == "fused" and m.batch == 1:
            name, limit = "inference batch 1: fused / eval images/s", TARGET_FUSED_SPEEDUP
        else:
            continue
        targets.append(
            {
                "target": name,
                "model": m.model,
                "size": m.size,
                "ratio": m.ratio,
                "limit": limit,
                "status": "PASS" if m.ratio >= limit else "MISS",
            }
        )
    return targets


def print_summary(report: Report, targets: list[dict], other_cores: float | None) -> None:
    print("\nSummary")
    for t in targets:
        line = (
            f"  {t['status']:<5} {t['target']:<42} {t['model']:<14} "
            f"1×{t['size']}×{t['size']:<6} {t['ratio']:.3f}× (target ≥ {t['limit']:.2f}×)"
        )
        if t["target"].startswith("train"):
            slower = 1 - t["ratio"]
            line += (
                f"  trainlab {abs(slower):.1%} "
                + ("slower" if slower > 0 else "faster")
                + " than torch"
            )
        print(line)
    if not targets:
        print("  no targets measured")
    bad = [c.name for c in report.checks if not c.ok]
    print(
        f"  {'PASS' if not bad else 'MISS':<5} output checks: {len(report.checks) - len(bad)}"
        f"/{len(report.checks)} agree (fused vs eval, channels_last vs contiguous)"
    )
    for name in bad:
        print(f"        mismatch: {name}")
    diverged = [m for m in report.measurements if "diverged" in m.note]
    if diverged:
        print(f"  WARNING: {len(diverged)} training variant(s) ended with a non-finite loss")
    disturbed = sorted(
        {
            (m.section, m.model, m.size, m.batch)
            for m in report.measurements
            if m.other_cores is not None and m.other_cores > DISTURBED_CORES
        }
    )
    if disturbed:
        print(
            f"  WARNING: {len(disturbed)} case(s) ran while other processes kept more than "
            f"{DISTURBED_CORES} CPUs busy (others column); rerun on a quiet machine"
        )
    if other_cores is not None:
        print(
            f"  other processes kept {other_cores:.2f} of {os.cpu_count()} logical CPUs busy "
            "on average during the run"
            + ("; timings disturbed" if other_cores > DISTURBED_CORES else "")
        )


def json_payload(
    args: argparse.Namespace, report: Report, targets: list[dict], other_cores: float | None
) -> dict:
    results = []
    for m in report.measurements:
        row = asdict(m)
        row.update(median_ms=m.median_s * 1e3, images_per_s=m.images_per_s, spread=m.spread)
        results.append(row)
    return {
        "meta": {
            **environment_meta(),
            "sizes": args.sizes,
            "plans": {str(s): asdict(plan_for(s, args)) for s in args.sizes},
            "dtype": "float32",
            "train": {
                "batch": TRAIN_BATCH,
                "optimizer": "Adam",
                "lr": LR,
                "loss": "cross_entropy",
            },
            "other_processes_cores": other_cores,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "results": results,
        "checks": [asdict(c) for c in report.checks],
        "targets": targets,
    }


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def run_sections(args: argparse.Namespace) -> Report:
    report = Report()

    def add(rows: list[Measurement], checks: tuple[Check, ...] | list[Check] = ()) -> None:
        for check in checks:
            print_check(check)
        print_rows(rows)
        report.measurements.extend(rows)
        report.checks.extend(checks)

    print_section(
        f"1. Training step (forward, cross-entropy, backward, Adam lr {LR}), batch "
        f"{TRAIN_BATCH}: trainlab BN vs torch BN",
        "torch",
    )
    for size in args.sizes:
        add(training_bn(size, args))

    print_section(
        "2. Inference under torch.inference_mode(): eval-mode model vs fuse_batch_norm(model)",
        "eval",
    )
    for size in args.sizes:
        add(*inference_fused("book_resnet18", size, args))
    if LENET_SIZE in args.sizes:
        add(*inference_fused("lenet", LENET_SIZE, args))

    print_section(
        f"3. Memory format, trainlab BN: training step (batch {TRAIN_BATCH}) and eval "
        f"inference (batch {MEMORY_FORMAT_INFERENCE_BATCH})",
        "contiguous",
    )
    if MEMORY_FORMAT_SIZE in args.sizes:
        add(*memory_format(MEMORY_FORMAT_SIZE, args))
    else:
        print(f"  skipped: runs at {MEMORY_FORMAT_SIZE}×{MEMORY_FORMAT_SIZE}, not in --sizes")

    print_section(
        f"4. BN per layer of section 1's step at {MEMORY_FORMAT_SIZE}×{MEMORY_FORMAT_SIZE}: "
        "forward + backward of one layer, trainlab vs torch (model column: channels@map ×layers)",
        "torch",
    )
    add(bn_layers(MEMORY_FORMAT_SIZE, args))
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    other_load = OtherLoad()
    torch.set_num_threads(args.threads)
    print_header(args)
    report = run_sections(args)
    targets = target_rows(report)
    other_cores = other_load.cores()
    print_summary(report, targets, other_cores)
    if args.json:
        write_json(args.json, json_payload(args, report, targets, other_cores), tag="models")
        print(f"\nwrote {args.json}")
    return 0  # a report: a missed target is printed, not an error


if __name__ == "__main__":
    sys.exit(main())
