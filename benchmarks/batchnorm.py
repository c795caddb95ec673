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
inner loop and divided. The table reports the median. Other processes' CPU use during the run is
measured and reported: on a busy machine the numbers (native's multithreaded kernel most) are not
usable.

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
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from common import (
    OtherLoad,
    SampleStats,
    environment_line,
    environment_meta,
    load_average_line,
    positive_int,
    print_other_load,
    time_round_robin,
    write_json,
)
from trainlab.nn.functional import batch_norm, batch_norm_reference

DEFAULT_SHAPES = ((256, 64, 28, 28), (256, 6, 28, 28), (128, 128, 14, 14), (256, 120), (4096, 1024))
VARIANTS = {"reference": batch_norm_reference, "fast": batch_norm, "native": F.batch_norm}
PASSES = ("fwd", "fwd+bwd")
BYTES_PER_ELEMENT = 4  # float32
TENSOR_PASSES = {"fwd": 2, "fwd+bwd": 5}  # minimal full-size tensor reads + writes, see docstring
# Target for the fast path's fwd+bwd time relative to native, by input rank.
TARGET_RATIO = {4: 2.0, 2: 2.5}
MOMENTUM, EPS = 0.1, 1e-5


@dataclass
class Timing(SampleStats):
    """The samples of one variant on one shape and pass, in seconds per call."""

    shape: tuple[int, ...]
    pass_name: str
    variant: str
    calls_per_sample: int
    samples_s: list[float]


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
) -> dict[str, tuple[int, list[float]]]:
    """common.time_round_robin with this benchmark's settings, each sample preceded by settle:
    per name, the inner-loop count and the samples in seconds per call."""
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


def check_agreement(inputs: dict[str, torch.Tensor]) -> list[str]:
    """Compare y, dx, dγ, dβ of reference and fast against native once: a benchmark of a broken
    kernel is worthless. Returns the problems found (empty when everything agrees)."""

    def run(variant: str) -> list[torch.Tensor]:
        x, w, b = inputs["x"], inputs["weight"], inputs["bias"]
        c = x.shape[1]
        y = VARIANTS[variant](x, torch.zeros(c), torch.ones(c), w, b, True, MOMENTUM, EPS)
        return [y.detach(), *torch.autograd.grad(y, (x, w, b), inputs["dy"])]

    expected = run("native")
    problems = []
    for variant in ("reference", "fast"):
        for name, got, want in zip(
            ("y", "dx", "dweight", "dbias"), run(variant), expected, strict=True
        ):
            # relative to the largest magnitude: float32 sums over ~10⁷ terms drift by ~1e-6
            err = (got - want).abs().max().item() / max(want.abs().max().item(), 1e-12)
            if not err <= 1e-3:
                problems.append(f"{variant} {name} differs from native: max rel error {err:.1e}")
    return problems


def benchmark_shape(
    shape: tuple[int, ...], args: argparse.Namespace
) -> tuple[list[Timing], list[str]]:
    """Timings of every variant and pass on one shape, and any disagreement with native."""
    inputs = make_inputs(shape)
    problems = check_agreement(inputs)
    timings = []
    for pass_name in PASSES:
        calls = {v: make_call(fn, inputs, pass_name) for v, fn in VARIANTS.items()}
        results = time_variants(calls, args)
        for variant, (number, samples) in results.items():
            timings.append(Timing(shape, pass_name, variant, number, samples))
    return timings, problems


def memory_bandwidth(shape: tuple[int, ...], args: argparse.Namespace) -> dict[str, float]:
    """GB/s of plain memory traffic on one float32 tensor of `shape` (read + write = 2·numel·4
    bytes each): copy into a fresh tensor, copy into a reused buffer, in-place add."""
    x = torch.randn(shape)
    buffer = torch.empty_like(x)
    calls = {
        "copy into fresh tensor": lambda: torch.empty_like(x).copy_(x),
        "copy into reused buffer": lambda: buffer.copy_(x),
        "in-place add_(1.0)": lambda: buffer.add_(1.0),
    }
    results = time_variants(calls, args)
    nbytes = 2 * x.numel() * BYTES_PER_ELEMENT
    return {name: nbytes / statistics.median(s) / 1e9 for name, (_, s) in results.items()}


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def effective_gbps(t: Timing) -> float:
    numel = math.prod(t.shape)
    return TENSOR_PASSES[t.pass_name] * numel * BYTES_PER_ELEMENT / t.median_s / 1e9


def native_ratio(t: Timing, timings: list[Timing]) -> float:
    native = next(
        o
        for o in timings
        if o.shape == t.shape and o.pass_name == t.pass_name and o.variant == "native"
    )
    return t.median_s / native.median_s


def print_header(args: argparse.Namespace) -> None:
    print("Batch normalization benchmark: training mode, float32, CPU, contiguous input,")
    print(
        "weight + bias + running-stats buffers given (updated in place), "
        f"momentum {MOMENTUM}, eps {EPS}"
    )
    print(environment_line(f"last-level cache {last_level_cache()}"))
    print(
        f"{args.repeats} timed repetitions after {args.warmup} warm-up round(s), variants "
        "interleaved round-robin, median reported;\n"
        f"calls shorter than {args.min_sample_s * 1e3:g} ms are looped within a sample "
        "(calls/sample column)"
    )
    reset = "heap trimmed (malloc_trim), then " if reset_allocator is not None else ""
    print(f"before each sample: {reset}one untimed call of the same variant")
    print("fwd = forward under no_grad; fwd+bwd = forward + autograd.grad w.r.t. x, weight, bias")
    print("GB/s = minimal bytes / median time, minimal bytes: fwd reads x, writes y = 2·numel·4;")
    print("       fwd+bwd adds read x, read dy, write dx = 5·numel·4 in all")
    print("spread = interquartile range / median of the samples")
    print(load_average_line())


def print_bandwidth(shape: tuple[int, ...], gbps: dict[str, float]) -> None:
    mb = math.prod(shape) * BYTES_PER_ELEMENT / 1e6
    print(
        f"\nMemory bandwidth reference on {shape_str(shape)}, {mb:.1f} MB per tensor "
        f"(last-level cache {last_level_cache()}); bytes = read + write = 2·numel·4:"
    )
    for name, value in gbps.items():
        print(f"  {name:<24} {value:>7.1f} GB/s  {2 * mb / value:>8.3f} ms")
    fresh, reused = gbps["copy into fresh tensor"], gbps["copy into reused buffer"]
    fault_ms = 2 * mb * (1 / fresh - 1 / reused)  # MB / (GB/s) = ms
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


def print_table(timings: list[Timing]) -> None:
    shapes = list(dict.fromkeys(t.shape for t in timings))
    for shape in shapes:
        numel = math.prod(shape)
        print(
            f"\n{shape_str(shape)}  numel {numel:,}  ({numel * BYTES_PER_ELEMENT / 1e6:.1f} MB "
            "per tensor)"
        )
        print(
            f"  {'pass':<8} {'variant':<10} {'median ms':>10} {'× native':>9} {'GB/s':>7} "
            f"{'spread':>7} {'calls/sample':>12}"
        )
        for pass_name in PASSES:
            rows = [t for t in timings if t.shape == shape and t.pass_name == pass_name]
            for i, t in enumerate(rows):
                label = pass_name if i == 0 else ""
                print(
                    f"  {label:<8} {t.variant:<10} {t.median_s * 1e3:>10.3f} "
                    f"{native_ratio(t, timings):>9.2f} {effective_gbps(t):>7.2f} "
                    f"{t.spread:>6.1%} {t.calls_per_sample:>12}"
                )


def check_targets(timings: list[Timing]) -> list[dict]:
    """fast fwd+bwd vs native against TARGET_RATIO for each shape whose rank has a target."""
    checks = []
    for t in timings:
        if t.variant != "fast" or t.pass_name != "fwd+bwd":
            continue
        limit = TARGET_RATIO.get(len(t.shape))
        ratio = native_ratio(t, timings)
        status = "n/a" if limit is None else ("PASS" if ratio <= limit else "MISS")
        checks.append({"shape": list(t.shape), "ratio": ratio, "limit": limit, "status": status})
    return checks


def print_targets(checks: list[dict]) -> None:
    print("\nTargets: fast fwd+bwd ≤ 2.0× native on 4-D shapes, ≤ 2.5× native on 2-D shapes")
    for c in checks:
        shape = shape_str(tuple(c["shape"]))
        if c["limit"] is None:
            print(f"  n/a   {shape:<20} {c['ratio']:.2f}×  (no target for {len(c['shape'])}-D)")
            continue
        line = f"  {c['status']:<5} {shape:<20} {c['ratio']:.2f}×  (limit {c['limit']:.1f}×)"
        if c["status"] == "MISS":
            over = c["ratio"] / c["limit"] - 1
            line += f"  over by {c['ratio'] - c['limit']:.2f}× ({over:.0%} slower than allowed)"
        print(line)


def json_payload(
    args: argparse.Namespace,
    bandwidth_shape: tuple[int, ...],
    bandwidth: dict[str, float],
    timings: list[Timing],
    checks: list[dict],
) -> dict:
    results = []
    for t in timings:
        row = asdict(t)
        row.update(
            median_ms=t.median_s * 1e3,
            ratio_to_native=native_ratio(t, timings),
            effective_gbps=effective_gbps(t),
            spread=t.spread,
        )
        results.append(row)
    return {
        "meta": {
            **environment_meta(),
            "last_level_cache": last_level_cache(),
            "repeats": args.repeats,
            "warmup": args.warmup,
            "min_sample_s": args.min_sample_s,
            "dtype": "float32",
            "bytes_definition": "fwd: 2*numel*4 (read x, write y); "
            "fwd+bwd: 5*numel*4 (also read x, read dy, write dx)",
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
        "memory_bandwidth": {"shape": list(bandwidth_shape), "gbps": bandwidth},
        "results": results,
        "targets": checks,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    other_load = OtherLoad()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print_header(args)

    # The bandwidth reference should exceed the caches whatever --shapes selects.
    largest = max([*args.shapes, *DEFAULT_SHAPES], key=math.prod)
    bandwidth = memory_bandwidth(largest, args)
    print_bandwidth(largest, bandwidth)

    timings: list[Timing] = []
    for shape in args.shapes:
        gc.collect()  # free the previous shape's tensors before timing the next
        shape_timings, problems = benchmark_shape(shape, args)
        print_table(shape_timings)  # print as we go: the large shapes take a while
        for problem in problems:
            print(f"  WARNING: {problem}")
        sys.stdout.flush()
        timings += shape_timings

    checks = check_targets(timings)
    print_targets(checks)
    other_cores = other_load.cores()
    print_other_load(
        other_cores,
        "WARNING: the machine was not quiet; the timings above are disturbed (native's "
        "multithreaded\n         kernel most of all). Rerun on an idle machine.",
    )
    if args.json:
        payload = json_payload(args, largest, bandwidth, timings, checks)
        payload["meta"]["other_processes_cores"] = other_cores
        write_json(args.json, payload, tag="batchnorm")
        print(f"\nwrote {args.json}")
    return 0  # a report: a missed target is printed, not an error


if __name__ == "__main__":
    sys.exit(main())
