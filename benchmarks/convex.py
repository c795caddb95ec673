"""Time the convex toolkit on the CPU: the O(n log n) projections, and projected gradient descent
against scipy's SLSQP on box-constrained least squares.

What is measured
----------------
1. Projections. :func:`trainlab.convex.project_simplex` (radius 1) and
   :func:`trainlab.convex.project_l1_ball` (radius 1) on one float64 vector v ~ N(0, I) of
   n = 10³ ... 10⁷ entries (‖v‖₁ ≈ 0.8 n > 1, so the ℓ1 projection sorts and thresholds rather
   than returning v). Reported: the median time per call, the time per n·log2(n), and the slope
   of a least-squares fit of log(time) against log(n) over n ≥ 10⁴ (≈ 1 means n log n-like:
   log n changes slowly, so n log n fits a slope a little above 1; the sort dominates).

2. Box-constrained least squares, min ½‖Ax − b‖² s.t. 0 ≤ x ≤ 1, A of 200 × 100 with N(0, 1)
   entries, b = A x_true + noise with x_true ~ U(−0.5, 1.5) (so many bounds are active), seed 0.
   scipy.optimize.minimize(method="SLSQP", analytic jac, bounds, ftol 1e-12) from x0 = 0.5 gives
   f_slsqp. Projected gradient descent (:func:`trainlab.convex.projected_gradient_descent`,
   lr = 1/L with L = ‖A‖₂², keep_trajectory=False), plain and accelerated (FISTA), from the same
   x0, is given the smallest max_steps K (found by doubling, then bisection) at which its final
   f ≤ f_slsqp + 1e-6, checked to reach the target; then whole calls with that K and SLSQP's
   whole call are timed, interleaved round-robin (median). Reported: the times and their ratio
   (target: each projected GD variant at least 10× faster).

3. Scaling, m = 2n, n = 10³, 10⁴, 10⁵, same problem family. A dense Gaussian A/√m at n = 10⁵
   would hold 2·10¹⁰ entries (160 GB), so the scaling rows use a sparse random A with k = 10
   nonzeros per row, values N(0, n/(m k)) (so columns have unit expected norm, as for the dense
   Gaussian/√m), stored as (column index, value) pairs and applied with index_select and a row
   sum: dense-free, and torch.func.grad (which projected_gradient_descent uses) differentiates it
   (the backward is an index_add). At n = 10³ the dense Gaussian/√m problem is run as well, and
   SLSQP on it under a time cap (SLSQP's cost is O(n³) per iteration; larger n are skipped). L is
   the top eigenvalue of AᵀA from scipy's eigsh (Lanczos). Projected GD starts at x0 = 0.5 and
   stops when the gradient mapping ‖x − P(x − η∇f(x))‖/η falls below 1e-6 of its value at x0, or
   at max_steps (5000); one
   timed run each. Reported: steps, time, final f and gradient-mapping norm (recomputed
   independently, with Aᵀ(Ax − b) applied explicitly).

How
---
float64 throughout; torch runs single-threaded by default (--threads): SLSQP is single-threaded,
and on a shared machine a second torch thread mostly waits for a core. Before any timing each
call runs once untimed (torch.func's first call traces; allocations and page faults settle).
The variants of a case (simplex and ℓ1 ball; SLSQP and both projected GDs) are timed
interleaved, round-robin. Calls shorter than a few milliseconds are repeated in an inner loop
and divided. Medians are reported; fewer repeats are taken at large n.

Run::

    python benchmarks/convex.py                  # everything, ~2-4 min on 2 cores
    python benchmarks/convex.py --quick          # smoke run, < 1 min (n ≤ 10⁶ / 10⁴, no SLSQP
                                                 # at n = 10³)
    python benchmarks/convex.py --repeats 9 --json convex.json
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize
from scipy.sparse.linalg import LinearOperator, eigsh

from common import Report, Table, positive_int, time_round_robin, timed
from trainlab.convex import (
    project_box,
    project_l1_ball,
    project_simplex,
    projected_gradient_descent,
)

F64 = torch.float64
PROJECTION_SIZES = (10**3, 10**4, 10**5, 10**6, 10**7)
SCALING_SIZES = (10**3, 10**4, 10**5)
BOX_M, BOX_N = 200, 100
TARGET_GAP = 1e-6  # projected GD must reach f ≤ f_slsqp + TARGET_GAP
TARGET_SPEEDUP = 10.0
NONZEROS_PER_ROW = 10
SLSQP_OPTIONS = {"ftol": 1e-12, "maxiter": 1000}


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="smaller sizes and fewer repeats, for a smoke run (< 1 min)",
    )
    p.add_argument(
        "--repeats",
        type=positive_int,
        help="timed samples per measurement at small n (default 7, --quick 3); "
        "large n and SLSQP take fewer",
    )
    p.add_argument(
        "--threads", type=positive_int, default=1, help="torch intra-op threads (default 1)"
    )
    p.add_argument(
        "--slsqp-cap",
        type=float,
        metavar="SECONDS",
        help="time cap for SLSQP on the n = 10³ scaling problem (default 90; "
        "--quick: 0, i.e. skipped)",
    )
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = p.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    if args.slsqp_cap is None:
        args.slsqp_cap = 0.0 if args.quick else 90.0
    args.projection_sizes = PROJECTION_SIZES[:-1] if args.quick else PROJECTION_SIZES
    args.scaling_sizes = SCALING_SIZES[:-1] if args.quick else SCALING_SIZES
    args.min_sample_s = 0.002 if args.quick else 0.005
    args.max_steps = 2000 if args.quick else 5000
    return args


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def repeats_for(n: int, repeats: int) -> int:
    """Fewer samples for the large sizes: one call at n = 10⁷ takes about a second."""
    return repeats if n <= 10**5 else max(2, min(repeats, 3))


# --------------------------------------------------------------------------------------------
# 1. Projections
# --------------------------------------------------------------------------------------------


def benchmark_projections(args: argparse.Namespace, report: Report) -> None:
    table = report.table(
        "1. Projections onto the simplex and the ℓ1 ball (radius 1), float64, v ~ N(0, I)",
        [
            "n:>10,",
            "simplex ms:12.4g",
            "simplex ns/(n·log2 n):.2f",
            "l1 ball ms:12.4g",
            "l1 ball ns/(n·log2 n):.2f",
            "repeats:d",
        ],
    )
    gen = torch.Generator().manual_seed(0)
    times = {"simplex": [], "l1 ball": []}
    for n in args.projection_sizes:
        v = torch.randn(n, generator=gen, dtype=F64)
        assert float(v.abs().sum()) > 1.0  # the ℓ1 projection does real work
        # A benchmark of a wrong answer is worthless: check feasibility once per size.
        x = project_simplex(v)
        assert float(x.min()) >= 0 and abs(float(x.sum()) - 1) <= 1e-9, "simplex infeasible"
        y = project_l1_ball(v)
        assert abs(float(y.abs().sum()) - 1) <= 1e-9, "ℓ1 projection not on the sphere"
        del x, y
        r = repeats_for(n, args.repeats)
        fns = {"simplex": lambda v=v: project_simplex(v), "l1 ball": lambda v=v: project_l1_ball(v)}
        results = time_round_robin(fns, r, 1, args.min_sample_s)
        t = {name: s.median_s for name, s in results.items()}
        for name in times:
            times[name].append(t[name])
        nlogn = n * math.log2(n)
        ns = {name: t[name] / nlogn * 1e9 for name in t}
        row = (n, t["simplex"] * 1e3, ns["simplex"], t["l1 ball"] * 1e3, ns["l1 ball"], r)
        table.row(*row)
    fit = [i for i, n in enumerate(args.projection_sizes) if n >= 10**4]
    lo, hi = args.projection_sizes[fit[0]], args.projection_sizes[fit[-1]]
    nlogn_slope = math.log(hi * math.log(hi) / (lo * math.log(lo))) / math.log(hi / lo)
    table = report.table(
        f"   least-squares slope of log(time) on log(n) over n = {lo:.0e} ... {hi:.0e} (an exact "
        "n·log n over the same range: the last column; exactly linear: 1)",
        ["projection:<10", "slope:.3f", "n·log n slope:.3f"],
    )
    logn = np.log([args.projection_sizes[i] for i in fit])
    for name, t in times.items():
        table.row(name, float(np.polyfit(logn, np.log([t[i] for i in fit]), 1)[0]), nlogn_slope)


# --------------------------------------------------------------------------------------------
# Problems: min ½‖Ax − b‖² over the box [0, 1]ⁿ
# --------------------------------------------------------------------------------------------


@dataclass
class Problem:
    """A box-constrained least-squares problem with A given as an operator."""

    name: str
    m: int
    n: int
    matvec: Callable[[torch.Tensor], torch.Tensor]  # x -> Ax, torch.func-differentiable
    rmatvec: Callable[[torch.Tensor], torch.Tensor]  # r -> Aᵀr, explicit
    b: torch.Tensor
    dense: torch.Tensor | None = None  # A itself where it fits

    def f(self, x: torch.Tensor) -> torch.Tensor:
        return 0.5 * (self.matvec(x) - self.b).square().sum()

    def gradient(self, x: torch.Tensor) -> torch.Tensor:
        return self.rmatvec(self.matvec(x) - self.b)

    def lipschitz(self) -> float:
        """L = ‖A‖₂² = λ_max(AᵀA), by Lanczos (eigsh) on the operator x -> Aᵀ(Ax)."""
        if self.dense is not None and self.n <= BOX_N:  # small: exact, from the SVD
            return float(torch.linalg.matrix_norm(self.dense, ord=2)) ** 2

        def normal(x: np.ndarray) -> np.ndarray:
            z = torch.from_numpy(np.ascontiguousarray(x.reshape(-1)))
            return self.rmatvec(self.matvec(z)).numpy()

        operator = LinearOperator((self.n, self.n), matvec=normal, dtype=np.float64)
        v0 = np.ones(self.n)  # deterministic start
        return float(eigsh(operator, k=1, which="LA", tol=1e-8, v0=v0)[0][0])

    def mapping_norm(self, x: torch.Tensor, lr: float) -> float:
        """‖x − P(x − η∇f(x))‖/η, computed with the explicit gradient Aᵀ(Ax − b)."""
        step = x - project_unit_box(x - lr * self.gradient(x))
        return float(torch.linalg.vector_norm(step)) / lr

    def active_bounds(self, x: torch.Tensor) -> tuple[int, int]:
        return int((x <= 1e-9).sum()), int((x >= 1 - 1e-9).sum())


def project_unit_box(x: torch.Tensor) -> torch.Tensor:
    return project_box(x, 0.0, 1.0)


def dense_problem(m: int, n: int, seed: int, scale: float, noise: float) -> Problem:
    """A with N(0, scale²) entries, b = A x_true + noise·N(0, I), x_true ~ U(−0.5, 1.5)."""
    gen = torch.Generator().manual_seed(seed)
    A = torch.randn(m, n, generator=gen, dtype=F64) * scale
    x_true = torch.rand(n, generator=gen, dtype=F64) * 2 - 0.5
    b = A @ x_true + noise * torch.randn(m, generator=gen, dtype=F64)
    return Problem(
        f"dense Gaussian, entries N(0, {scale:.3g}²)",
        m,
        n,
        lambda x: A @ x,
        lambda r: A.T @ r,
        b,
        A,
    )


def sparse_problem(m: int, n: int, seed: int, noise: float, k: int = NONZEROS_PER_ROW) -> Problem:
    """k nonzeros per row at uniform random columns, values N(0, n/(m k)); applied as
    Ax = Σ_j vals[:, j]·x[cols[:, j]] (index_select + row sum), Aᵀr by index_add."""
    gen = torch.Generator().manual_seed(seed)
    cols = torch.randint(0, n, (m * k,), generator=gen)
    vals = torch.randn(m, k, generator=gen, dtype=F64) * math.sqrt(n / (m * k))
    flat_vals = vals.reshape(-1)

    def matvec(x: torch.Tensor) -> torch.Tensor:
        return (vals * x.index_select(0, cols).view(m, k)).sum(-1)

    def rmatvec(r: torch.Tensor) -> torch.Tensor:
        contributions = flat_vals * r.repeat_interleave(k)
        return torch.zeros(n, dtype=F64).index_add_(0, cols, contributions)

    x_true = torch.rand(n, generator=gen, dtype=F64) * 2 - 0.5
    b = matvec(x_true) + noise * torch.randn(m, generator=gen, dtype=F64)
    return Problem(f"sparse, {k} nonzeros/row (index_select/index_add)", m, n, matvec, rmatvec, b)


def run_pgd(problem: Problem, lr: float, max_steps: int, tol: float, accelerated: bool):
    return projected_gradient_descent(
        problem.f,
        torch.full((problem.n,), 0.5, dtype=F64),
        project_unit_box,
        lr,
        max_steps=max_steps,
        tol=tol,
        accelerated=accelerated,
        keep_trajectory=False,
    )


class SlsqpTimeout(Exception):
    pass


def run_slsqp(problem: Problem, cap_s: float = math.inf):
    """SLSQP from x0 = 0.5 with the analytic gradient and the bounds; raises SlsqpTimeout
    (from inside the objective) once cap_s seconds have passed."""
    A, b = problem.dense.numpy(), problem.b.numpy()
    start = time.perf_counter()

    def fun(x: np.ndarray) -> float:
        if time.perf_counter() - start > cap_s:
            raise SlsqpTimeout
        r = A @ x - b
        return 0.5 * float(r @ r)

    return minimize(
        fun,
        np.full(problem.n, 0.5),
        jac=lambda x: A.T @ (A @ x - b),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * problem.n,
        options=SLSQP_OPTIONS,
    )


# --------------------------------------------------------------------------------------------
# 2. Projected GD against SLSQP at n = 100
# --------------------------------------------------------------------------------------------


def steps_to_reach(
    problem: Problem, lr: float, target: float, accelerated: bool, limit: int = 200_000
) -> int:
    """The smallest max_steps K (doubling, then bisection) whose final f ≤ target."""

    def reaches(k: int) -> bool:
        return run_pgd(problem, lr, k, 1e-14, accelerated).fun <= target

    lo, hi = 0, 8  # invariant: lo steps do not reach the target, hi steps do
    while not reaches(hi):
        if hi >= limit:
            raise RuntimeError(f"projected GD did not reach f ≤ {target} in {limit} steps")
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if reaches(mid) else (mid, hi)
    return hi


def benchmark_box_least_squares(args: argparse.Namespace, report: Report) -> None:
    problem = dense_problem(BOX_M, BOX_N, seed=0, scale=1.0, noise=0.5)
    slsqp = run_slsqp(problem)
    if not slsqp.success:
        report.warn(f"SLSQP did not succeed: {slsqp.message}")
    f_slsqp, target = float(slsqp.fun), float(slsqp.fun) + TARGET_GAP
    L = problem.lipschitz()
    lr = 1.0 / L
    # f* to high accuracy, to show how close SLSQP itself got
    reference = run_pgd(problem, lr, 100_000, 1e-12, accelerated=False)
    lower, upper = problem.active_bounds(reference.x)
    report.table(
        f"2. Box-constrained least squares min ½‖Ax − b‖², 0 ≤ x ≤ 1: A {BOX_M}×{BOX_N} "
        "N(0, 1), seed 0, x0 = 0.5, lr = 1/L",
        [
            "L = ‖A‖₂²:.2f",
            "entries at 0:d",
            "at 1:d",
            "f*:16.10f",
            "f_slsqp:16.10f",
            "f_slsqp − f*:.1e",
        ],
    ).row(L, lower, upper, reference.fun, f_slsqp, f_slsqp - reference.fun)
    fns: dict[str, Callable[[], object]] = {"SLSQP": lambda: run_slsqp(problem)}
    steps, fun = {"SLSQP": int(slsqp.nit)}, {"SLSQP": f_slsqp}
    for accelerated in (True, False):
        name = "accelerated (FISTA)" if accelerated else "plain"
        steps[name] = steps_to_reach(problem, lr, target, accelerated)
        fun[name] = run_pgd(problem, lr, steps[name], 1e-14, accelerated).fun
        assert fun[name] <= target, "the timed configuration must reach the target"
        fns[name] = lambda a=accelerated, k=steps[name]: run_pgd(problem, lr, k, 1e-14, a)
    results = time_round_robin(fns, args.repeats, 1, args.min_sample_s)
    table = report.table(
        f"   SLSQP (jac, bounds, ftol {SLSQP_OPTIONS['ftol']:g}) and projected GD with the fewest "
        f"steps K that reach f ≤ f_slsqp + {TARGET_GAP:g}",
        ["solver:<20", "steps K:>8", "ms:10.4g", "f − f_slsqp:12.1e", "SLSQP time / this:17.1f"],
    )
    for name, s in results.items():
        speedup = results["SLSQP"].median_s / s.median_s
        table.row(name, steps[name], s.median_s * 1e3, fun[name] - f_slsqp, speedup)
        if name != "SLSQP":
            name = f"projected GD {name} at n = {BOX_N}: SLSQP time / its time"
            report.target(name, speedup, TARGET_SPEEDUP)


# --------------------------------------------------------------------------------------------
# 3. Scaling, m = 2n
# --------------------------------------------------------------------------------------------


SCALING_COLUMNS = [
    "n:>7,",
    "variant:<12",
    "status:<10",
    "steps:>6",
    "s:10.4g",
    "ms/step:9.2f",
    "f:16.8f",
    "‖G(x)‖:10.2e",
    "/‖G(x0)‖:9.1e",
]


def scaling_row(
    problem: Problem, args: argparse.Namespace, accelerated: bool, table: Table
) -> tuple[float, float]:
    """One timed run of projected GD on `problem`, as a row; returns its final f and seconds."""
    L = problem.lipschitz()
    lr = 1.0 / L
    x0 = torch.full((problem.n,), 0.5, dtype=F64)
    g0 = problem.mapping_norm(x0, lr)
    result, elapsed = timed(lambda: run_pgd(problem, lr, args.max_steps, 1e-6 * g0, accelerated))
    mapping = problem.mapping_norm(result.x, lr)
    table.row(
        problem.n,
        "accelerated" if accelerated else "plain",
        result.status,
        result.nit,
        elapsed,
        elapsed / result.nit * 1e3,
        result.fun,
        mapping,
        mapping / g0,
        operator=problem.name,
        m=problem.m,
        L=L,
    )
    return result.fun, elapsed


def benchmark_scaling(args: argparse.Namespace, report: Report) -> None:
    print(
        "\n3. Scaling: min ½‖Ax − b‖², 0 ≤ x ≤ 1, m = 2n, x0 = 0.5, lr = 1/L (L by Lanczos), "
        f"stop at gradient mapping ≤ 1e-6·(its value at x0) or {args.max_steps} steps"
    )
    n0 = args.scaling_sizes[0]
    dense = dense_problem(2 * n0, n0, seed=1, scale=1 / math.sqrt(2 * n0), noise=0.1)
    table = report.table(
        f"   A: {dense.name} = Gaussian/√m (n = {n0:,} only: a dense A at n = 10⁵ would need "
        "2·10¹⁰ entries)",
        SCALING_COLUMNS,
    )
    runs = [scaling_row(dense, args, accelerated, table) for accelerated in (True, False)]
    if args.slsqp_cap > 0:
        try:
            res, elapsed = timed(lambda: run_slsqp(dense, args.slsqp_cap))
            best, fastest = min(f for f, _ in runs), min(t for _, t in runs)
            columns = ["n:>7,", "s:.4g", "iterations:d", "f:16.8f", "f − best projected GD:.1e"]
            table = report.table(
                "   SLSQP on the dense problem",
                [*columns, "time / faster projected GD:.0f", "message"],
            )
            row = (n0, elapsed, int(res.nit), float(res.fun), res.fun - best, elapsed / fastest)
            table.row(*row, res.message)
        except SlsqpTimeout:
            report.warn(f"SLSQP at n = {n0:,}: stopped at the {args.slsqp_cap:g} s cap")
    else:
        print(f"   SLSQP at n = {n0:,}: skipped (--quick / --slsqp-cap 0)")
    for n in args.scaling_sizes[1:]:
        print(f"   SLSQP at n = {n:,}: skipped: SLSQP is O(n³) per iteration")

    table = report.table(
        f"   A: sparse, {NONZEROS_PER_ROW} nonzeros per row at random columns, values "
        f"N(0, n/(m·{NONZEROS_PER_ROW})) (unit expected column norms, like Gaussian/√m);\n"
        "      Ax by index_select + row sum (torch.func differentiates it), Aᵀr by index_add",
        SCALING_COLUMNS,
    )
    for n in args.scaling_sizes:
        problem = sparse_problem(2 * n, n, seed=2, noise=0.1)
        for accelerated in (True, False):
            scaling_row(problem, args, accelerated, table)
        del problem


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    report = Report(
        "Convex toolkit benchmark: projections, projected gradient descent vs scipy SLSQP",
        env=[f"numpy {np.__version__}"],
        repeats=f"{args.repeats} (fewer at n > 10⁵), medians after one warm-up call",
        quick=args.quick,
        min_sample_s=args.min_sample_s,
    )
    benchmark_projections(args, report)
    benchmark_box_least_squares(args, report)
    benchmark_scaling(args, report)
    report.summary()
    if args.json:
        report.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
