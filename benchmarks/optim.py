"""Time optimizer steps on the CPU: trainlab's SGD fast path against ``torch.optim.SGD``.

What is measured
----------------
1. SGD step -- one ``step()`` over the parameters of a ResNet-18
   (:func:`trainlab.models.resnet18`, 62 tensors, 11.7 M float32 values), with a random ``.grad``
   set once on every parameter: :class:`trainlab.optim.SGD` (``foreach=None``, its
   multi-tensor fast path) against ``torch.optim.SGD(foreach=True)``, what a practitioner would
   pick instead, at lr 1e-3, without momentum and with momentum 0.9. Each optimizer owns its own
   copy of the parameters, gradients and buffers. Before timing, one step of each from the same
   start is checked to give the same parameters and momentum buffers (bit for bit).
   Target: trainlab ≤ 1.1× torch's time per step.

Each section is one function returning a :class:`Section`; ``main`` runs them in turn (add a
section by appending its function to ``SECTIONS``).

How
---
The variants of one case run in one process on same-sized tensors. After warm-up, every
repetition times each variant once, round-robin with the starting variant rotating, so slow
drifts of the machine -- frequency scaling, a neighbour's load -- hit all variants alike. Calls
shorter than a minimum sample time are repeated in an inner loop and divided, with the same
count for every variant of a case. Tables report the median time per call, the ratio to the
baseline (torch), the best sample (the cost with the least interference from other processes)
and the spread (interquartile range / median). A missed target is reported, not an error: the
exit status is 0.

Run::

    python benchmarks/optim.py                    # everything, well under a minute on 2 cores
    python benchmarks/optim.py --quick            # fewer repeats, a smoke run
    python benchmarks/optim.py --repeats 41 --threads 1 --json optim.json
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

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
from trainlab.data.airfoil import load_airfoil
from trainlab.experiments.minibatch_sgd import BOOK_RUNS, train
from trainlab.models import resnet18
from trainlab.optim.sgd import SGD

TARGET_RATIO = 1.1  # trainlab's time per SGD step relative to torch.optim.SGD(foreach=True)
LR = 1e-3


@dataclass
class Row(SampleStats):
    """The samples of one variant in one case, in seconds per call."""

    case: str
    variant: str
    calls_per_sample: int
    samples_s: list[float]
    ratio: float = math.nan  # median / the baseline's median

    @property
    def best_s(self) -> float:
        """The fastest sample: the cost with the least interference from other processes."""
        return min(self.samples_s)


@dataclass
class Section:
    """One section's results: timed rows, correctness checks, target verdicts."""

    name: str
    baseline: str
    rows: list[Row] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)  # problems found; empty = all agree
    targets: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "baseline": self.baseline,
            "rows": [
                {
                    "case": r.case,
                    "variant": r.variant,
                    "median_ms": r.median_s * 1e3,
                    "best_ms": r.best_s * 1e3,
                    "ratio_to_baseline": r.ratio,
                    "spread": r.spread,
                    "calls_per_sample": r.calls_per_sample,
                    "samples_s": r.samples_s,
                }
                for r in self.rows
            ],
            "problems": self.checks,
            "targets": self.targets,
        }


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=positive_int, help="timed samples per variant (default 25)")
    p.add_argument("--threads", type=positive_int, help="torch intra-op threads (default: torch's)")
    p.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON (atomically)")
    p.add_argument(
        "--data-dir",
        help="folder with airfoil_self_noise.dat (else $TRAINLAB_DATA_DIR;"
        " the airfoil section is skipped when it is not found)",
    )
    args = p.parse_args(argv)
    # --quick only changes the defaults: an explicit --repeats still wins.
    if args.repeats is None:
        args.repeats = 5 if args.quick else 25
    args.warmup = 1 if args.quick else 3
    args.min_sample_s = 0.002 if args.quick else 0.005
    return args


# --------------------------------------------------------------------------------------------
# Section 1: one SGD step on ResNet-18's parameters
# --------------------------------------------------------------------------------------------


def resnet18_params_with_grads() -> list[torch.Tensor]:
    """ResNet-18's parameters, each with a random gradient (fixed seed)."""
    torch.manual_seed(0)
    params = [p.detach().requires_grad_() for p in resnet18().parameters()]
    for p in params:
        p.grad = torch.randn_like(p)
    return params


def clone_params(params: list[torch.Tensor]) -> list[torch.Tensor]:
    copies = [p.detach().clone().requires_grad_() for p in params]
    for c, p in zip(copies, params, strict=True):
        c.grad = p.grad.clone()
    return copies


def first_step_problems(case: str, optimizers: dict[str, torch.optim.Optimizer]) -> list[str]:
    """Step every optimizer once (they start from equal copies) and compare parameters and
    momentum buffers against the first one's: a benchmark of a wrong update is worthless."""
    for optimizer in optimizers.values():
        optimizer.step()
    (base_name, base), *others = optimizers.items()
    problems = []
    for name, optimizer in others:
        pairs = zip(
            base.param_groups[0]["params"], optimizer.param_groups[0]["params"], strict=True
        )
        for p, q in pairs:
            buf_p = base.state[p].get("momentum_buffer") if p in base.state else None
            buf_q = optimizer.state[q].get("momentum_buffer") if q in optimizer.state else None
            same_buf = (buf_p is None and buf_q is None) or (
                buf_p is not None and buf_q is not None and torch.equal(buf_p, buf_q)
            )
            if not (torch.equal(p, q) and same_buf):
                problems.append(f"{case}: {name} differs from {base_name} after one step")
                break
    return problems


def sgd_step(args: argparse.Namespace) -> Section:
    section = Section("SGD step on ResNet-18 parameters (11.7 M float32)", baseline="torch")
    params = resnet18_params_with_grads()
    for momentum in (0.0, 0.9):
        case = f"momentum {momentum:g}"
        optimizers = {
            "trainlab": SGD(clone_params(params), lr=LR, momentum=momentum),
            "torch": torch.optim.SGD(clone_params(params), lr=LR, momentum=momentum, foreach=True),
        }
        section.checks += first_step_problems(case, optimizers)
        timings = time_round_robin(
            {n: opt.step for n, opt in optimizers.items()},
            args.repeats,
            args.warmup,
            args.min_sample_s,
            same_number=True,  # the variants of a case do the same work: sample them alike
        )
        rows = [Row(case, n, number, samples) for n, (number, samples) in timings.items()]
        base = next(r for r in rows if r.variant == section.baseline)
        for row in rows:
            row.ratio = row.median_s / base.median_s
        section.rows += rows
        ours = next(r for r in rows if r.variant == "trainlab")
        section.targets.append(
            {
                "case": case,
                "ratio": ours.ratio,
                "limit": TARGET_RATIO,
                "status": "PASS" if ours.ratio <= TARGET_RATIO else "MISS",
            }
        )
        del optimizers
        gc.collect()
    return section


def airfoil_minibatch(args: argparse.Namespace) -> Section:
    """Seconds per epoch of the book's airfoil runs, each batch size, from scratch (p ← p − η∇p)
    and concise (torch.optim.SGD): the per-step Python overhead dominates at small batches."""
    section = Section("Minibatch SGD on airfoil: seconds per epoch", baseline="from scratch")
    try:
        data = load_airfoil(args.data_dir)
    except FileNotFoundError as err:
        section.checks.append(f"skipped: {err}")
        return section
    repeats = max(3, args.repeats // 5)
    for run in BOOK_RUNS:
        if run.concise:
            continue
        case = f"batch {run.batch_size}"
        rows = []
        for variant, concise in (("from scratch", False), ("concise", True)):
            timed = dataclasses.replace(run, epochs=1, concise=concise)
            samples = [train(timed, data, seed=i).seconds[-1] for i in range(repeats)]
            rows.append(Row(case, variant, 1, samples))
        for row in rows:
            row.ratio = row.median_s / rows[0].median_s
        section.rows += rows
    return section


# The benchmark's sections, run in this order; each takes the arguments and returns a Section.
SECTIONS: list[Callable[[argparse.Namespace], Section]] = [sgd_step, airfoil_minibatch]


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def print_header(args: argparse.Namespace) -> None:
    print("Optimizer benchmark: trainlab.optim vs torch.optim, float32, CPU")
    print(environment_line())
    print(
        f"{args.repeats} timed repetitions after {args.warmup} warm-up round(s), variants "
        "interleaved round-robin, median reported;\n"
        f"calls shorter than {args.min_sample_s * 1e3:g} ms are looped within a sample; "
        "spread = interquartile range / median"
    )
    print(load_average_line())


def print_section(section: Section) -> None:
    print(f"\n{section.name}")
    print(
        f"  {'case':<14} {'variant':<10} {'median ms':>10} {f'× {section.baseline}':>9} "
        f"{'best ms':>9} {'spread':>7} {'calls/sample':>12}"
    )
    for row in section.rows:
        print(
            f"  {row.case:<14} {row.variant:<10} {row.median_s * 1e3:>10.3f} {row.ratio:>9.3f} "
            f"{row.best_s * 1e3:>9.3f} {row.spread:>6.1%} {row.calls_per_sample:>12}"
        )
    for problem in section.checks:
        print(f"  WARNING: {problem}")
    if not section.checks and section.targets:
        print("  check: every variant's first step gave the same parameters and buffers")
    for t in section.targets:
        print(f"  target {t['status']}: {t['case']}: {t['ratio']:.3f}× (limit {t['limit']:g}×)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    other_load = OtherLoad()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print_header(args)
    sections = []
    for run_section in SECTIONS:
        section = run_section(args)
        print_section(section)  # print as we go
        sys.stdout.flush()
        sections.append(section)
    other_cores = other_load.cores()
    print_other_load(
        other_cores,
        "WARNING: the machine was not quiet; the times above are disturbed (ratios less so, as "
        "the\n         variants are interleaved). Rerun on an idle machine, or with --threads 1.",
    )
    if args.json:
        payload = {
            "meta": {
                **environment_meta(),
                "repeats": args.repeats,
                "warmup": args.warmup,
                "min_sample_s": args.min_sample_s,
                "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "other_processes_cores": other_cores,
            },
            "sections": {s.name: s.as_json() for s in sections},
        }
        write_json(args.json, payload, tag="optim")
        print(f"\nwrote {args.json}")
    return 0  # a report: a missed target is printed, not an error


if __name__ == "__main__":
    sys.exit(main())
