"""Time batch normalization on the CPU: the textbook reference, the fast path, and PyTorch's kernel.

What is measured
----------------
For each input shape, three implementations of training-mode batch normalization (float32,
contiguous input, weight and bias given, running-statistics buffers given and updated in place):

* ``reference`` -- :func:`trainlab.nn.functional.batch_norm_reference` (formulas, autograd backward)
* ``fast``      -- :func:`trainlab.nn.functional.batch_norm` (two passes, hand-derived backward)
* ``native``    -- :func:`torch.nn.functional.batch_norm` (PyTorch's ATen kernel)

and two passes:

* ``fwd``     -- the forward call alone, under ``torch.no_grad()``;
* ``fwd+bwd`` -- forward, then ``torch.autograd.grad`` of a fixed random upstream gradient w.r.t.
  input, weight and bias (``autograd.grad`` rather than ``.backward()`` so that nothing is
  accumulated into ``.grad`` between repetitions).

How
---
All variants run in one process on the same tensors. After warm-up, every repetition times each
variant once, round-robin (with the starting variant rotating), so slow drifts of the machine --
frequency scaling, a neighbour's load -- hit all variants equally. Before each timed sample the
heap is trimmed (glibc's malloc_trim) and the variant is called once untimed, so every sample sees
the allocator state that variant itself leaves, not its predecessor's: glibc's adaptive mmap and
trim thresholds otherwise make a variant 2-5x slower or faster depending on what ran just before
(page faults on fresh memory). Calls much shorter than the timer's resolution are repeated in an
inner loop and divided. The table reports the median. Before timing, y, dx, dγ and dβ of reference
and fast are checked against native's. Other processes' CPU use during the run is measured and
reported: on a busy machine the numbers (native's multithreaded kernel most) are not usable.
Targets: fast fwd+bwd ≤ 2.0× native's time on 4-D shapes, ≤ 2.5× on 2-D shapes.

Effective bandwidth uses the *minimum* traffic any kernel must generate (per-channel parameters
ignored): the forward reads x and writes y, 2·numel·4 bytes; forward+backward also reads x and dy
and writes dx, 5·numel·4 bytes in all. A plain copy on the largest shape is timed as the ceiling.

Run::

    python benchmarks/batchnorm.py                       # everything, about 1 min on 2 cores
    python benchmarks/batchnorm.py --quick               # smoke run
    python benchmarks/batchnorm.py --shapes 256x120,4096x1024 --threads 1 --json out.json
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import math
import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F

from common import Report, Samples, positive_int, time_round_robin
from trainlab.nn.functional import batch_norm, batch_norm_reference

DEFAULT_SHAPES = ((256, 64, 28, 28), (256, 6, 28, 28), (128, 128, 14, 14), (256, 120), (4096, 1024))
VARIANTS = {"reference": batch_norm_reference, "fast": batch_norm, "native": F.batch_norm}
PASSES = ("fwd", "fwd+bwd")
BYTES_PER_ELEMENT = 4  # float32
TENSOR_PASSES = {"fwd": 2, "fwd+bwd": 5}  # minimal full-size tensor reads + writes, see docstring
# Target for the fast path's fwd+bwd time relative to native, by input rank.
TARGET_RATIO = {4: 2.0, 2: 2.5}
MOMENTUM, EPS = 0.1, 1e-5


# --------------------------------------------------------------------------------------------
# Environment
# --------------------------------------------------------------------------------------------


def last_level_cache() -> str:
    """Size of the largest CPU cache (e.g. '32768K'), from sysfs; '?' where unknown. Tensors that
    fit in it are served partly from cache, so their GB/s can beat the copy reference."""
    best = (0, "?")
    for index in range(16):
        base = f"/sys/devices/system/cpu/cpu0/cache/index{index}"
        try:
            with open(f"{base}/level") as f_level, open(f"{base}/size") as f_size:
                level, size = int(f_level.read()), f_size.read().strip()
        except (OSError, ValueError):
            break
        best = max(best, (level, size))
    return best[1]


def parse_shapes(text: str) -> list[tuple[int, ...]]:
    """'256x120,4096x1024' -> [(256, 120), (4096, 1024)]."""
    shapes = []
    for item in text.split(","):
        try:
            shape = tuple(int(d) for d in item.strip().lower().split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"bad shape {item!r}; write e.g. 256x64x28x28"
            ) from None
        if len(shape) < 2 or min(shape) < 1:
            raise argparse.ArgumentTypeError(f"shape {item!r} needs N, C and positive sizes")
        shapes.append(shape)
    return shapes


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=positive_int, help="timed samples per variant (default 15)")
    p.add_argument(
        "--warmup", type=int, help="untimed rounds before timing (default 3; at least 1 is run)"
    )
    p.add_argument("--threads", type=positive_int, help="torch intra-op threads (default: torch's)")
    p.add_argument(
        "--shapes",
        type=parse_shapes,
        default=list(DEFAULT_SHAPES),
        help="comma-separated shapes, e.g. 256x120,4096x1024",
    )
    p.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    # --quick only changes the defaults: an explicit --repeats/--warmup still wins.
    if args.repeats is None:
        args.repeats = 5 if args.quick else 15
    if args.warmup is None:
        args.warmup = 1 if args.quick else 3
    if args.warmup < 0:
        p.error("--warmup must be >= 0")
    args.warmup = max(args.warmup, 1)  # the warm-up round also sizes the inner loop
    # Each timed sample lasts at least this long (inner loop), so the timer's resolution and the
    # Python overhead of the timing loop itself stay far below the quantity measured.
    args.min_sample_s = 0.002 if args.quick else 0.005
    return args


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def _malloc_trim() -> Callable[[], object] | None:
    """glibc's malloc_trim(0): give every free page of the heap back to the kernel. None where
    the C library has no such function (musl, macOS, Windows)."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return lambda: trim(0)


reset_allocator = _malloc_trim()


def settle(fn: Callable[[], object]) -> None:
    """Before each timed sample: hand fn the same allocator state every time, then let one untimed
    call settle it into the state fn itself leaves behind. Without that, whatever runs after the
    reference (which frees several large float64 temporaries, so glibc trims its heap)
    page-faults all its allocations and looks 2-5x slower."""
    if reset_allocator is not None:
        reset_allocator()
    fn()


def time_variants(
    fns: dict[str, Callable[[], object]], args: argparse.Namespace
) -> dict[str, Samples]:
    """common.time_round_robin with this benchmark's settings, each sample preceded by settle."""
    return time_round_robin(fns, args.repeats, args.warmup, args.min_sample_s, before_sample=settle)


# --------------------------------------------------------------------------------------------
# The workloads
# --------------------------------------------------------------------------------------------


def make_inputs(shape: tuple[int, ...], seed: int = 0) -> dict[str, torch.Tensor]:
    """Input, upstream gradient and per-channel parameters for one shape."""
    gen = torch.Generator().manual_seed(seed)
    channels = shape[1]
    return {
        # requires_grad on the leaves is harmless for the forward pass, which runs under no_grad
        "x": torch.randn(shape, generator=gen).requires_grad_(),
        "dy": torch.randn(shape, generator=gen),
        "weight": (torch.rand(channels, generator=gen) + 0.5).requires_grad_(),
        "bias": torch.randn(channels, generator=gen).requires_grad_(),
    }


def make_call(
    fn: Callable, inputs: dict[str, torch.Tensor], pass_name: str
) -> Callable[[], object]:
    """A no-argument closure running one pass of one variant.

    Each call gets its own running-statistics buffers, updated in place on every call as in
    training, so that no variant's inputs depend on how often another one ran.
    """
    x, dy, weight, bias = inputs["x"], inputs["dy"], inputs["weight"], inputs["bias"]
    channels = x.shape[1]
    running_mean, running_var = torch.zeros(channels), torch.ones(channels)

    def forward() -> torch.Tensor:
        return fn(x, running_mean, running_var, weight, bias, True, MOMENTUM, EPS)

    if pass_name == "fwd":

        def call() -> object:
            with torch.no_grad():
                return forward()

    else:

        def call() -> object:
            return torch.autograd.grad(forward(), (x, weight, bias), dy)

    return call


def check_agreement(inputs: dict[str, torch.Tensor]) -> tuple[float, list[str]]:
    """Compare y, dx, dγ, dβ of reference and fast against native once: a benchmark of a broken
    kernel is worthless. Returns the largest relative error and the problems found."""

    def run(variant: str) -> list[torch.Tensor]:
        x, w, b = inputs["x"], inputs["weight"], inputs["bias"]
        c = x.shape[1]
        y = VARIANTS[variant](x, torch.zeros(c), torch.ones(c), w, b, True, MOMENTUM, EPS)
        return [y.detach(), *torch.autograd.grad(y, (x, w, b), inputs["dy"])]

    expected = run("native")
    worst, problems = 0.0, []
    for variant in ("reference", "fast"):
        for name, got, want in zip(
            ("y", "dx", "dweight", "dbias"), run(variant), expected, strict=True
        ):
            # relative to the largest magnitude: float32 sums over ~10⁷ terms drift by ~1e-6
            err = (got - want).abs().max().item() / max(want.abs().max().item(), 1e-12)
            worst = max(worst, err)
            if not err <= 1e-3:
                problems.append(f"{variant} {name}: max rel error {err:.1e}")
    return worst, problems


def benchmark_shape(shape: tuple[int, ...], args: argparse.Namespace, report: Report) -> None:
    """Check, then time, every variant and pass on one shape: one table, and the target."""
    gc.collect()  # free the previous shape's tensors before timing the next
    inputs = make_inputs(shape)
    numel = math.prod(shape)
    table = report.table(
        f"{shape_str(shape)}  numel {numel:,}  ({numel * BYTES_PER_ELEMENT / 1e6:.1f} MB per "
        "tensor)",
        COLUMNS,
    )
    worst, problems = check_agreement(inputs)
    report.check(
        f"{shape_str(shape)}: y, dx, dγ, dβ of reference and fast agree with native",
        not problems,
        "; ".join(problems) or f"max rel error {worst:.1e}",
    )
    for pass_name in PASSES:
        calls = {v: make_call(fn, inputs, pass_name) for v, fn in VARIANTS.items()}
        results = time_variants(calls, args)
        for variant, s in results.items():
            ratio = s.median_s / results["native"].median_s
            gbps = TENSOR_PASSES[pass_name] * numel * BYTES_PER_ELEMENT / s.median_s / 1e9
            table.row(
                pass_name,
                variant,
                s.median_s * 1e3,
                ratio,
                gbps,
                s.spread,
                s.calls_per_sample,
                shape=shape,
                samples_s=s.samples_s,
            )
            if variant == "fast" and pass_name == "fwd+bwd" and len(shape) in TARGET_RATIO:
                name = f"fast fwd+bwd / native time {shape_str(shape)}"
                report.target(name, ratio, TARGET_RATIO[len(shape)], higher_is_better=False)


def memory_bandwidth(shape: tuple[int, ...], args: argparse.Namespace, report: Report) -> None:
    """GB/s of plain memory traffic on one float32 tensor of `shape` (read + write = 2·numel·4
    bytes each): copy into a fresh tensor, copy into a reused buffer, in-place add."""
    x = torch.randn(shape)
    buffer = torch.empty_like(x)
    calls = {
        "copy into fresh tensor": lambda: torch.empty_like(x).copy_(x),
        "copy into reused buffer": lambda: buffer.copy_(x),
        "in-place add_(1.0)": lambda: buffer.add_(1.0),
    }
    mb = math.prod(shape) * BYTES_PER_ELEMENT / 1e6
    table = report.table(
        f"Memory bandwidth reference on {shape_str(shape)}, {mb:.1f} MB per tensor; "
        "bytes = read + write = 2·numel·4",
        ["operation:<24", "GB/s:7.1f", "ms:8.3f"],
    )
    ms = {name: s.median_s * 1e3 for name, s in time_variants(calls, args).items()}
    for name, t in ms.items():
        table.row(name, 2 * mb / t, t, shape=shape)
    fault_ms = ms["copy into fresh tensor"] - ms["copy into reused buffer"]
    print(
        f"  Allocating the destination costs {fault_ms:+.2f} ms: glibc serves blocks above its "
        "mmap threshold\n"
        "  (adaptive, ≤ 32 MiB) with fresh mmap()s and returns them on free, so a new large "
        "tensor is\n"
        "  page-faulted (and zeroed by the kernel) on first touch -- a cost every variant pays "
        "for each\n"
        "  large tensor it allocates. Tensors that fit in the last-level cache can beat these "
        "figures."
    )


def shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


COLUMNS = [
    "pass:<8",
    "variant:<10",
    "median ms:10.3f",
    "× native:.2f",
    "GB/s:7.2f",
    "spread:7.1%",
    "calls/sample:d",
]
LEGEND = """\
fwd = forward under no_grad; fwd+bwd = forward + autograd.grad w.r.t. x, weight, bias
variants interleaved round-robin, median reported; calls shorter than min_sample_s are looped
within a sample (calls/sample column);
before each sample: {reset}one untimed call of the same variant
GB/s = minimal bytes / median time, minimal bytes: fwd reads x, writes y = 2·numel·4;
       fwd+bwd adds read x, read dy, write dx = 5·numel·4 in all
spread = interquartile range / median of the samples"""


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    report = Report(
        "Batch normalization benchmark: training mode, float32, CPU, contiguous input, weight + "
        "bias + running-stats buffers given (updated in place)",
        env=[f"last-level cache {last_level_cache()}"],
        momentum=MOMENTUM,
        eps=EPS,
        repeats=args.repeats,
        warmup=args.warmup,
        min_sample_s=args.min_sample_s,
    )
    reset = "heap trimmed (malloc_trim), then " if reset_allocator is not None else ""
    print(LEGEND.format(reset=reset))
    # The bandwidth reference should exceed the caches whatever --shapes selects.
    memory_bandwidth(max([*args.shapes, *DEFAULT_SHAPES], key=math.prod), args, report)
    for shape in args.shapes:
        benchmark_shape(shape, args, report)
    report.summary("the timings above are disturbed, native's multithreaded kernel most of all")
    if args.json:
        report.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
