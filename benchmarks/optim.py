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
2. Minibatch SGD on airfoil -- seconds per epoch of the second edition's airfoil runs (batch
   1500, 1, 100, 10) with the book's from-scratch update (p ← p − η∇p) and with
   ``torch.optim.SGD`` ("concise"), one epoch each, the median of ``max(3, repeats // 5)``
   seeds: the per-step Python overhead dominates at small batches. Skipped (with a warning)
   where airfoil_self_noise.dat is not found.

Each section is one function of the arguments and the report; ``main`` runs them in turn (add
a section by appending its function to ``SECTIONS``).

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
import sys
from collections.abc import Callable

import torch

from common import Report, Samples, Table, positive_int, time_round_robin
from trainlab.data.airfoil import load_airfoil
from trainlab.experiments.editions import EDITION_SETTINGS
from trainlab.experiments.minibatch_sgd import train
from trainlab.models import resnet18
from trainlab.optim.sgd import SGD

TARGET_RATIO = 1.1  # trainlab's time per SGD step relative to torch.optim.SGD(foreach=True)
LR = 1e-3
AIRFOIL_RUNS = EDITION_SETTINGS["e2"].airfoil_runs  # the second edition's runs


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


def rows(table: Table, case: str, results: dict[str, Samples], baseline: str) -> dict[str, float]:
    """One row per variant; returns each one's median relative to the baseline's."""
    ratios = {}
    for variant, s in results.items():
        ratios[variant] = s.median_s / results[baseline].median_s
        table.row(
            case,
            variant,
            s.median_s * 1e3,
            ratios[variant],
            s.best_s * 1e3,
            s.spread,
            s.calls_per_sample,
            samples_s=s.samples_s,
        )
    return ratios


def columns(baseline: str) -> list[str]:
    return [
        "case:<14",
        "variant:<12",
        "median ms:10.3f",
        f"× {baseline}:9.3f",
        "best ms:9.3f",
        "spread:7.1%",
        "calls/sample:d",
    ]


def sgd_step(args: argparse.Namespace, report: Report) -> None:
    table = report.table("SGD step on ResNet-18 parameters (11.7 M float32)", columns("torch"))
    params = resnet18_params_with_grads()
    for momentum in (0.0, 0.9):
        case = f"momentum {momentum:g}"
        optimizers = {
            "trainlab": SGD(clone_params(params), lr=LR, momentum=momentum),
            "torch": torch.optim.SGD(clone_params(params), lr=LR, momentum=momentum, foreach=True),
        }
        problems = first_step_problems(case, optimizers)
        name = f"{case}: every variant's first step gives the same parameters and buffers"
        report.check(name, not problems, "; ".join(problems))
        results = time_round_robin(
            {n: opt.step for n, opt in optimizers.items()},
            args.repeats,
            args.warmup,
            args.min_sample_s,
            same_number=True,  # the variants of a case do the same work: sample them alike
        )
        ratios = rows(table, case, results, "torch")
        name = f"SGD step {case}: trainlab / torch time"
        report.target(name, ratios["trainlab"], TARGET_RATIO, higher_is_better=False)
        del optimizers
        gc.collect()


def airfoil_minibatch(args: argparse.Namespace, report: Report) -> None:
    """Seconds per epoch of the book's airfoil runs, each batch size, from scratch (p ← p − η∇p)
    and concise (torch.optim.SGD): the per-step Python overhead dominates at small batches. The
    epoch time is the one train() measures (recording the loss excluded)."""
    try:
        data = load_airfoil(args.data_dir)
    except FileNotFoundError as err:
        report.warn(f"airfoil section skipped: {err}")
        return
    table = report.table("Minibatch SGD on airfoil: one epoch", columns("from scratch"))
    repeats = max(3, args.repeats // 5)
    for run in AIRFOIL_RUNS:
        if run.concise:
            continue
        results = {}
        for variant, concise in (("from scratch", False), ("concise", True)):
            timed = dataclasses.replace(run, epochs=1, concise=concise)
            samples = [train(timed, data, seed=i).seconds[-1] for i in range(repeats)]
            results[variant] = Samples(1, samples)
        rows(table, f"batch {run.batch_size}", results, "from scratch")


# The benchmark's sections, run in this order; each takes the arguments and the report.
SECTIONS: list[Callable[[argparse.Namespace, Report], None]] = [sgd_step, airfoil_minibatch]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    report = Report(
        "Optimizer benchmark: trainlab.optim vs torch.optim, float32, CPU",
        repeats=args.repeats,
        warmup=args.warmup,
        min_sample_s=args.min_sample_s,
    )
    print(
        "variants interleaved round-robin, median reported; calls shorter than min_sample_s are\n"
        "looped within a sample, as often for every variant; spread = interquartile range / median"
    )
    for section in SECTIONS:
        section(args, report)
    report.summary("the times above are disturbed (ratios less so: the variants are interleaved)")
    if args.json:
        report.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
