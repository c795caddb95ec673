"""trainlab's minimizers beside scipy's on classical test sets: the 29 Moré–Garbow–Hillstrom
problems (unconstrained), the Hock–Schittkowski subset (constrained) and the six Moré–Thuente
line-search functions from four first steps.

For each method: problems solved (the sets' own ``solved`` tests), evaluations of f, ∇f and
∇²f in total, and wall time. Every derivative is torch autograd for both libraries, so the
counts compare the algorithms, not the derivative code.

    python benchmarks/solvers.py [--json PATH]
"""

from __future__ import annotations

import argparse
import math
import time
import warnings

import numpy as np
import scipy.optimize
import torch

from common import environment_line, environment_meta, load_average_line, write_json
from trainlab.convex import augmented_lagrangian, penalty_method
from trainlab.convex import hock_schittkowski as hs
from trainlab.optim import mgh
from trainlab.optim.linesearch import LineSearchError, more_thuente
from trainlab.optim.minimize import minimize


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


def table(title, header, rows):
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(v) for v in row) + " |")


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
    args = parser.parse_args()
    print(environment_line(f"scipy {scipy.__version__}"))
    print(load_average_line())
    results = {"meta": environment_meta(), "mgh": {}, "hs": {}, "line_search": []}

    methods = {
        "trainlab BFGS (strong Wolfe)": mgh_trainlab("bfgs"),
        "trainlab L-BFGS (strong Wolfe)": mgh_trainlab("lbfgs"),
        "trainlab Newton (strong Wolfe)": mgh_trainlab("newton"),
        "scipy BFGS": mgh_scipy("BFGS"),
        "scipy L-BFGS-B": mgh_scipy("L-BFGS-B"),
        "scipy Newton-CG": mgh_scipy("Newton-CG"),
    }
    rows = []
    for name, run in methods.items():
        solved, nfev, njev, nhev, failed = 0, 0, 0, 0, []
        start = time.perf_counter()
        for p in mgh.PROBLEMS:
            value, fe, je, he = run(p)
            ok = mgh.solved(p, value)
            solved += ok
            nfev, njev, nhev = nfev + fe, njev + je, nhev + he
            if not ok:
                failed.append(p.number)
        seconds = time.perf_counter() - start
        rows.append(
            (name, f"{solved}/{len(mgh.PROBLEMS)}", nfev, njev, nhev, f"{seconds:.1f}", failed)
        )
        results["mgh"][name] = {
            "solved": solved,
            "nfev": nfev,
            "njev": njev,
            "nhev": nhev,
            "seconds": seconds,
            "unsolved": failed,
        }
    table(
        "Moré–Garbow–Hillstrom, 29 problems from the standard starts",
        ["method", "solved", "nfev", "njev", "nhev", "seconds", "unsolved"],
        rows,
    )

    methods = {
        "trainlab augmented Lagrangian": hs_trainlab(augmented_lagrangian),
        "trainlab penalty": hs_trainlab(penalty_method),
        "scipy SLSQP": hs_scipy("SLSQP"),
        "scipy trust-constr": hs_scipy("trust-constr"),
    }
    rows = []
    for name, run in methods.items():
        solved, failed, worst = 0, [], 0.0
        start = time.perf_counter()
        for p in hs.PROBLEMS:
            value, violation, _ = run(p)
            ok = hs.solved(p, value, violation)
            solved += ok
            worst = max(worst, violation) if ok else worst
            if not ok:
                failed.append(p.number)
        seconds = time.perf_counter() - start
        rows.append(
            (name, f"{solved}/{len(hs.PROBLEMS)}", f"{worst:.1e}", f"{seconds:.1f}", failed)
        )
        results["hs"][name] = {"solved": solved, "seconds": seconds, "unsolved": failed}
    table(
        "Hock–Schittkowski subset (solved: violation ≤ 1e-6 and f within 1e-6 of f*)",
        ["method", "solved", "worst violation when solved", "seconds", "unsolved"],
        rows,
    )

    rows, total = [], 0
    for number, (phi, c1, c2) in enumerate(line_search_cases(), start=1):
        counts = []
        for first in (1e-3, 1e-1, 1e1, 1e3):
            calls = [0]

            def counted(a, phi=phi, calls=calls):
                calls[0] += 1
                return phi(a)

            f0, g0 = phi(0.0)
            try:
                step = more_thuente(counted, f0, g0, first, c1, c2, max_evals=100)
                value, slope = phi(step)
                ok = value <= f0 + c1 * step * g0 and abs(slope) <= c2 * abs(g0)
            except LineSearchError:
                ok = False
            counts.append(f"{calls[0]}{'' if ok else ' (failed)'}")
            total += calls[0]
            results["line_search"].append(
                {"function": number, "first": first, "evals": calls[0], "ok": ok}
            )
        rows.append((number, c1, c2, *counts))
    table(
        f"Moré–Thuente line search: evaluations per case (total {total}; the paper's: 179)",
        ["function", "c₁", "c₂", "α₀ = 1e-3", "1e-1", "1e1", "1e3"],
        rows,
    )
    if args.json:
        write_json(args.json, results, "solvers")


if __name__ == "__main__":
    np.seterr(all="ignore")
    warnings.filterwarnings("ignore", module="scipy")  # trust-constr's quasi-Newton notes
    main()
