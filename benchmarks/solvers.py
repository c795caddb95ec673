"""trainlab's minimizers beside scipy's on classical test sets: the 29 Moré–Garbow–Hillstrom
problems (unconstrained), the Hock–Schittkowski subset (constrained) and the six Moré–Thuente
line-search functions from four first steps.

For each method: problems solved (the sets' own ``solved`` tests), evaluations of f, ∇f and
∇²f in total (for the constrained set the worst constraint violation among the solved problems),
and wall time (one run over the set). Every derivative is torch autograd for both libraries, so
the counts compare the algorithms, not the derivative code. For the line search: evaluations
per case, and whether the step found satisfies the strong Wolfe conditions.

    python benchmarks/solvers.py [--quick] [--json PATH]

``--quick`` runs the first 10 problems of each set (and every line-search case): a smoke run.
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import scipy.optimize
import torch

from common import Report, timed
from trainlab.convex import augmented_lagrangian, penalty_method
from trainlab.convex import hock_schittkowski as hs
from trainlab.optim import mgh
from trainlab.optim.linesearch import LineSearchError, more_thuente
from trainlab.optim.minimize import minimize

QUICK_PROBLEMS = 10


def _numpy(fn):
    return lambda z: fn(torch.tensor(z, dtype=torch.float64)).detach().numpy()


def mgh_trainlab(direction: str):
    def run(p):
        r = minimize(p.f, p.x0(), direction, "wolfe", steps=2000, keep_trajectory=False)
        return r.fun, r.nfev, r.njev, r.nhev

    return run


def mgh_scipy(method: str):
    def run(p):
        jac = _numpy(torch.func.grad(p.f))
        hess = _numpy(torch.func.hessian(p.f)) if method == "Newton-CG" else None
        r = scipy.optimize.minimize(
            lambda z: float(p.f(torch.tensor(z, dtype=torch.float64))),
            p.x0().numpy(),
            jac=jac,
            hess=hess,
            method=method,
        )
        return float(r.fun), r.nfev, r.get("njev", 0), r.get("nhev", 0)

    return run


def hs_trainlab(method):
    def run(p):
        r = method(p.f, p.x0(), eq=p.eq if p.n_eq else None, ineq=p.ineq if p.n_ineq else None)
        return r.fun, p.violation(r.x), r.nit

    return run


def hs_scipy(method: str):
    def run(p):
        f = lambda z: float(p.f(torch.tensor(z, dtype=torch.float64)))  # noqa: E731
        jac = _numpy(torch.func.grad(p.f))
        cons = []
        general = [(p.eq, "eq"), (p.ineq, "ineq")]
        for fn, kind in general:
            if (p.n_eq if kind == "eq" else p.n_ineq) == 0:
                continue
            sign = 1.0 if kind == "eq" else -1.0  # scipy's inequalities are c(x) ≥ 0
            cons.append(
                {
                    "type": kind,
                    "fun": lambda z, fn=fn, s=sign: s * _numpy(fn)(z),
                    "jac": lambda z, fn=fn, s=sign: s * _numpy(torch.func.jacrev(fn))(z),
                }
            )
        r = scipy.optimize.minimize(f, p.x0().numpy(), jac=jac, constraints=cons, method=method)
        return float(r.fun), p.violation(torch.tensor(r.x, dtype=torch.float64)), r.nfev

    return run


def line_search_cases():
    """Moré & Thuente (1994), Table 1: six functions φ(α) with (c₁, c₂)."""

    def f1(a, b=2.0):
        return -a / (a * a + b), (a * a - b) / (a * a + b) ** 2

    def f2(a, b=0.004):
        return (a + b) ** 5 - 2 * (a + b) ** 4, (a + b) ** 3 * (5 * (a + b) - 8)

    def f3(a, b=0.01, n=39):
        if a <= 1 - b:
            p, d = 1 - a, -1.0
        elif a >= 1 + b:
            p, d = a - 1, 1.0
        else:
            p, d = (a - 1) ** 2 / (2 * b) + b / 2, (a - 1) / b
        wave = 2 * (1 - b) / (n * math.pi)
        return p + wave * math.sin(n * math.pi * a / 2), d + (1 - b) * math.cos(n * math.pi * a / 2)

    def yanai(b1, b2):
        g = lambda b: math.sqrt(1 + b * b) - b  # noqa: E731

        def f(a):
            s1, s2 = math.sqrt((1 - a) ** 2 + b2 * b2), math.sqrt(a * a + b1 * b1)
            return g(b1) * s1 + g(b2) * s2, -g(b1) * (1 - a) / s1 + g(b2) * a / s2

        return f

    return [
        (f1, 1e-3, 1e-1),
        (f2, 0.1, 0.1),
        (f3, 0.1, 0.1),
        (yanai(1e-3, 1e-3), 1e-3, 1e-3),
        (yanai(1e-2, 1e-3), 1e-3, 1e-3),
        (yanai(1e-3, 1e-2), 1e-3, 1e-3),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument(
        "--quick", action="store_true", help=f"the first {QUICK_PROBLEMS} problems of each set"
    )
    args = parser.parse_args()
    mgh_problems = mgh.PROBLEMS[:QUICK_PROBLEMS] if args.quick else mgh.PROBLEMS
    hs_problems = hs.PROBLEMS[:QUICK_PROBLEMS] if args.quick else hs.PROBLEMS
    report = Report(
        "Solver benchmark: trainlab's minimizers beside scipy's on classical test sets",
        env=[f"scipy {scipy.__version__}"],
        mgh_problems=len(mgh_problems),
        hs_problems=len(hs_problems),
    )

    methods = {
        "trainlab BFGS (strong Wolfe)": mgh_trainlab("bfgs"),
        "trainlab L-BFGS (strong Wolfe)": mgh_trainlab("lbfgs"),
        "trainlab Newton (strong Wolfe)": mgh_trainlab("newton"),
        "scipy BFGS": mgh_scipy("BFGS"),
        "scipy L-BFGS-B": mgh_scipy("L-BFGS-B"),
        "scipy Newton-CG": mgh_scipy("Newton-CG"),
    }
    table = report.table(
        f"Moré–Garbow–Hillstrom, {len(mgh_problems)} problems from the standard starts",
        ["method:<30", "solved:>6", "nfev:>6", "njev:>6", "nhev:>6", "seconds:.1f", "unsolved"],
    )
    for name, run in methods.items():
        runs, seconds = timed(lambda run=run: [run(p) for p in mgh_problems])
        ok = [mgh.solved(p, r[0]) for p, r in zip(mgh_problems, runs, strict=True)]
        nfev, njev, nhev = (sum(r[i] for r in runs) for i in (1, 2, 3))
        unsolved = [p.number for p, good in zip(mgh_problems, ok, strict=True) if not good]
        table.row(name, f"{sum(ok)}/{len(ok)}", nfev, njev, nhev, seconds, unsolved)

    methods = {
        "trainlab augmented Lagrangian": hs_trainlab(augmented_lagrangian),
        "trainlab penalty": hs_trainlab(penalty_method),
        "scipy SLSQP": hs_scipy("SLSQP"),
        "scipy trust-constr": hs_scipy("trust-constr"),
    }
    table = report.table(
        "Hock–Schittkowski subset (solved: violation ≤ 1e-6 and f within 1e-6 of f*)",
        ["method:<30", "solved:>6", "worst violation when solved:.1e", "seconds:.1f", "unsolved"],
    )
    for name, run in methods.items():
        runs, seconds = timed(lambda run=run: [run(p) for p in hs_problems])
        ok = [hs.solved(p, r[0], r[1]) for p, r in zip(hs_problems, runs, strict=True)]
        worst = max((r[1] for r, good in zip(runs, ok, strict=True) if good), default=0.0)
        unsolved = [p.number for p, good in zip(hs_problems, ok, strict=True) if not good]
        table.row(name, f"{sum(ok)}/{len(ok)}", worst, seconds, unsolved)

    firsts = (1e-3, 1e-1, 1e1, 1e3)
    table = report.table(
        "Moré–Thuente line search: evaluations per case",
        ["function:>8", "c₁:>6", "c₂:>6", *(f"α₀ = {a:g}:>10" for a in firsts)],
    )
    total = 0
    for number, (phi, c1, c2) in enumerate(line_search_cases(), start=1):
        counts, ok = [], []
        for first in firsts:
            calls = [0]

            def counted(a, phi=phi, calls=calls):
                calls[0] += 1
                return phi(a)

            f0, g0 = phi(0.0)
            try:
                step = more_thuente(counted, f0, g0, first, c1, c2, max_evals=100)
                value, slope = phi(step)
                ok.append(value <= f0 + c1 * step * g0 and abs(slope) <= c2 * abs(g0))
            except LineSearchError:
                ok.append(False)
            counts.append(calls[0])
            total += calls[0]
        cells = [f"{n}{'' if good else ' (failed)'}" for n, good in zip(counts, ok, strict=True)]
        table.row(number, c1, c2, *cells, evals=counts, ok=ok)
    print(f"  total {total} evaluations (the paper's: 179)")
    report.summary()
    if args.json:
        report.write_json(args.json)


if __name__ == "__main__":
    np.seterr(all="ignore")
    warnings.filterwarnings("ignore", module="scipy")  # trust-constr's quasi-Newton notes
    main()
