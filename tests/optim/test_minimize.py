"""The one minimizer driver on classical test problems: BFGS and L-BFGS against scipy on the
Moré–Garbow–Hillstrom set, the Moré–Thuente line-search functions, honest statuses, and the
conventions every method shares (dtype, counts, tolerance, bad input)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import scipy.optimize
import torch

from trainlab.optim import (
    BFGS,
    LBFGS,
    Backtracking,
    Bisection,
    DiagonalPreconditioner,
    StrongWolfe,
    backtracking,
    gd,
    line_search_gd,
    mgh,
    minimize,
    more_thuente,
    newton,
    strong_wolfe,
)
from trainlab.optim.linesearch import LineSearchError
from trainlab.optim.minimize import smoothness_hint
from trainlab.optim.objective import Objective

F64 = torch.float64


def _scipy_bfgs(p):
    grad = torch.func.grad(p.f)
    return scipy.optimize.minimize(
        lambda z: float(p.f(torch.tensor(z, dtype=F64))),
        p.x0().numpy(),
        jac=lambda z: grad(torch.tensor(z, dtype=F64)).numpy(),
        method="BFGS",
    )


@pytest.mark.parametrize("direction", ["bfgs", "lbfgs"])
def test_quasi_newton_solves_as_many_mgh_problems_as_scipy_bfgs_for_no_more_evaluations(direction):
    ours = [minimize(p.f, p.x0(), direction, keep_trajectory=False) for p in mgh.PROBLEMS]
    theirs = [_scipy_bfgs(p) for p in mgh.PROBLEMS]
    solved = sum(mgh.solved(p, r.fun) for p, r in zip(mgh.PROBLEMS, ours, strict=True))
    scipy_solved = sum(mgh.solved(p, r.fun) for p, r in zip(mgh.PROBLEMS, theirs, strict=True))
    assert solved >= scipy_solved >= 25
    if direction == "bfgs":  # the budget: no more function evaluations than scipy's BFGS
        assert sum(r.nfev for r in ours) <= sum(r.nfev for r in theirs)
    assert all(r.nfev == r.njev and r.nhev == 0 for r in ours)


@pytest.mark.parametrize("name", ["Rosenbrock", "helical valley", "Wood", "Watson"])
def test_bfgs_finds_scipys_minimum_with_comparable_work(name):
    p = mgh.problem(name)
    ours, theirs = minimize(p.f, p.x0(), "bfgs"), _scipy_bfgs(p)
    assert ours.converged, ours.message
    assert ours.fun == pytest.approx(float(theirs.fun), abs=1e-8 * (1 + abs(p.f_star)))
    assert ours.nfev <= 2 * theirs.nfev


def test_lbfgs_with_a_history_of_one_is_still_a_descent_method():
    p = mgh.problem("Rosenbrock")
    result = minimize(p.f, p.x0(), LBFGS(history=1), steps=5000)
    assert result.converged and result.fun < 1e-8
    assert all(b <= a + 1e-12 for a, b in zip(result.values, result.values[1:], strict=False))


def test_bfgs_in_float32_keeps_the_dtype_and_gets_close():
    p = mgh.problem("Rosenbrock")
    result = minimize(p.f, p.x0(torch.float32), BFGS(), tol=1e-3)
    assert result.x.dtype == torch.float32
    assert result.fun < 1e-4


# --------------------------------------------------------------------------------------------
# The Moré–Thuente line search on the paper's six functions
# --------------------------------------------------------------------------------------------


def _phi1(a, b=2.0):
    return -a / (a * a + b), (a * a - b) / (a * a + b) ** 2


def _phi2(a, b=0.004):
    return (a + b) ** 5 - 2 * (a + b) ** 4, (a + b) ** 3 * (5 * (a + b) - 8)


def _phi3(a, b=0.01, n=39):
    if a <= 1 - b:
        p, d = 1 - a, -1.0
    elif a >= 1 + b:
        p, d = a - 1, 1.0
    else:
        p, d = (a - 1) ** 2 / (2 * b) + b / 2, (a - 1) / b
    wave = 2 * (1 - b) / (n * math.pi)
    return p + wave * math.sin(n * math.pi * a / 2), d + (1 - b) * math.cos(n * math.pi * a / 2)


def _yanai(b1, b2):
    g = lambda b: math.sqrt(1 + b * b) - b  # noqa: E731

    def phi(a):
        s1, s2 = math.sqrt((1 - a) ** 2 + b2 * b2), math.sqrt(a * a + b1 * b1)
        return g(b1) * s1 + g(b2) * s2, -g(b1) * (1 - a) / s1 + g(b2) * a / s2

    return phi


MT_CASES = [
    (_phi1, 1e-3, 1e-1),
    (_phi2, 0.1, 0.1),
    (_phi3, 0.1, 0.1),
    (_yanai(1e-3, 1e-3), 1e-3, 1e-3),
    (_yanai(1e-2, 1e-3), 1e-3, 1e-3),
    (_yanai(1e-3, 1e-2), 1e-3, 1e-3),
]


# The evaluations Moré & Thuente (1994, Tables I–VI) report for MINPACK's search on these six
# functions from α₀ = 10⁻³, 10⁻¹, 10, 10³: 179 in all.
MT_PAPER_EVALS = [(6, 3, 1, 4), (12, 8, 8, 11), (12, 12, 10, 13), (4, 1, 3, 4), (6, 3, 7, 8),
                  (13, 11, 8, 11)]  # fmt: skip


def test_more_thuente_meets_strong_wolfe_on_all_24_cases_with_the_papers_evaluations():
    counts = []
    for phi, c1, c2 in MT_CASES:
        f0, g0 = phi(0.0)
        row = []
        for first in (1e-3, 1e-1, 1e1, 1e3):
            calls = []
            step = more_thuente(
                lambda a, phi=phi, calls=calls: calls.append(a) or phi(a), f0, g0, first, c1, c2
            )
            value, slope = phi(step)
            assert value <= f0 + c1 * step * g0
            assert abs(slope) <= c2 * abs(g0)
            row.append(len(calls))
        counts.append(tuple(row))
    assert counts == MT_PAPER_EVALS
    assert sum(map(sum, counts)) == 179


def test_more_thuente_takes_minpacks_trials_on_random_smooth_functions():
    """scipy's DCSRCH is a translation of MINPACK's search: on 2,000 random φ (a quartic plus a
    cosine) with random constants, bounds and first steps, every trial step agrees to rounding
    and so does the step returned. Compared only where MINPACK converges: where it stops at a
    bound with a warning, trainlab goes on searching inside the bounds."""
    from scipy.optimize._dcsrch import DCSRCH

    rng = np.random.default_rng(0)
    # (0.4, 1): a first bracket [0, 1] spans more than 0.66 of twice the allowed width, which
    # MINPACK's first bisection test measures against
    bounds = [(0.0, 1e10), (0.0, 2.0), (0.05, 5.0), (0.5, 1.0), (0.4, 1.0), (0.5, 1e10)]
    compared = 0
    while compared < 2000:
        a, b, c, d = rng.uniform(-2, 2, 4)
        q, w = abs(rng.uniform(-2, 2)), rng.uniform(0.5, 5)

        def value(e, a=a, b=b, c=c, d=d, q=q, w=w):
            return a * e + b * e * e + q * e**4 + d * math.cos(w * e)

        def slope(e, a=a, b=b, d=d, q=q, w=w):
            return a + 2 * b * e + 4 * q * e**3 - d * w * math.sin(w * e)

        f0, g0 = value(0.0), slope(0.0)
        step = float(rng.choice([0.01, 0.1, 1, 3, 10]))
        low, high = bounds[rng.integers(len(bounds))]
        ftol, gtol = rng.choice([1e-4, 0.1, 0.3]), rng.choice([0.9, 0.1, 0.01])
        if not (g0 < 0 and low <= step <= high):
            continue
        theirs, ours = [], []
        search = DCSRCH(
            lambda e, v=value, t=theirs: t.append(e) or v(e), slope, ftol, gtol, 1e-14, low, high
        )
        expected, *_, task = search(step, phi0=f0, derphi0=g0, maxiter=100)
        if not task.startswith(b"CONVERGENCE"):
            continue
        got = more_thuente(
            lambda e, v=value, s=slope, t=ours: t.append(e) or (v(e), s(e)),
            f0, g0, step, ftol, gtol, step_min=low, step_max=high, max_evals=100,
        )  # fmt: skip
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
        assert got == pytest.approx(expected, rel=1e-9)
        compared += 1


def test_more_thuente_defaults_are_the_usual_wolfe_constants():
    """c₁ = 10⁻⁴, c₂ = 0.9: on φ₁ from α₀ = 1 the first trial already satisfies both."""
    f0, g0 = _phi1(0.0)
    calls = []
    step = more_thuente(lambda a: calls.append(a) or _phi1(a), f0, g0, 1.0)
    value, slope = _phi1(step)
    assert step == 1.0 and len(calls) == 1
    assert value <= f0 + 1e-4 * step * g0 and abs(slope) <= 0.9 * abs(g0)


def test_more_thuente_halves_back_from_an_overflow():
    """φ = inf beyond η = 1: trials 8, 4, 2 overflow and are halved towards 0, then 1 is taken."""

    def phi(a):
        return (math.inf, math.inf) if a > 1 else ((a - 2) ** 2 - 4, 2 * (a - 2))

    calls = []
    step = more_thuente(lambda a: calls.append(a) or phi(a), 0.0, -4.0, 8.0, 1e-4, 0.9)
    assert calls == [8.0, 4.0, 2.0, 1.0] and step == 1.0


def test_strong_wolfe_on_function_2_from_a_large_first_step():
    """The case that used to fail: brackets at rounding level from α₀ = 10."""
    f0, g0 = _phi2(0.0)
    step = more_thuente(_phi2, f0, g0, 10.0, 0.1, 0.1)
    assert step == pytest.approx(1.596, abs=1e-3)


def test_line_search_refuses_an_ascent_direction():
    with pytest.raises(LineSearchError, match="not a descent direction"):
        more_thuente(_phi1, 0.0, 0.5, 1.0)


def test_bisection_line_search_solves_the_books_exercise():
    """Exercise 12.3.2: bisection on the sign of the derivative, minimizing
    log(eˣ + e^(−2x−3)), whose minimizer is (ln 2 − 3)/3."""
    f = lambda x: torch.log(torch.exp(x) + torch.exp(-2 * x - 3))  # noqa: E731
    result = minimize(f, 2.0, "gradient", Bisection(tol=1e-10), steps=50, tol=1e-10)
    assert result.converged
    assert float(result.x) == pytest.approx((math.log(2) - 3) / 3, abs=1e-9)
    assert result.fun == pytest.approx(-0.3634858, abs=1e-7)


# --------------------------------------------------------------------------------------------
# Honest statuses
# --------------------------------------------------------------------------------------------


def _gulf(x):
    """MGH problem 11 (Gulf research and development) as commonly implemented, m = 99."""
    i = torch.arange(1, 100, dtype=x.dtype)
    t = i / 100
    y = 25 + (-50 * torch.log(t)) ** (2 / 3)
    r = torch.exp(-((y - x[1]).abs() ** x[2]) / x[0]) - t
    return (r * r).sum()


def test_newton_blowing_up_on_gulf_is_diverged_not_max_steps():
    result = newton(_gulf, torch.tensor([5.0, 2.5, 0.15], dtype=F64), steps=50)
    assert result.status == "diverged", result.message
    assert "blew up" in result.message


def test_a_stationary_point_above_the_start_is_not_convergence():
    c = 0.15 * math.pi
    f = lambda x: x * torch.cos(c * x)  # noqa: E731
    result = newton(f, 10.0, 1.0, 50, tol=1e-10)  # climbs to the maximum near 10.9
    assert result.status == "failed"
    assert "went uphill" in result.message and result.fun > float(f(torch.tensor(10.0)))


def test_a_gradient_that_grows_past_the_stated_factor_diverges():
    result = gd(lambda x: torch.exp(x**2), 3.0, 1.0, 5)
    assert result.diverged and "blew up" in result.message


def test_counts_are_reported_for_every_method():
    f = lambda x: ((x - 1) ** 2).sum()  # noqa: E731
    plain = gd(f, torch.zeros(3, dtype=F64), 0.1, 10)
    assert (plain.nfev, plain.njev, plain.nhev) == (11, 11, 0)
    second = newton(f, torch.zeros(3, dtype=F64), 1.0, 3, tol=1e-12)
    assert second.converged and second.nhev == 1 and second.nit == 1


# --------------------------------------------------------------------------------------------
# Conventions and bad input
# --------------------------------------------------------------------------------------------


def test_every_method_keeps_the_start_dtype():
    f = lambda x: ((x - 1) ** 2).sum()  # noqa: E731
    start = torch.zeros(2, dtype=torch.float32)
    for result in (
        gd(f, start, 0.1, 3),
        newton(f, start, 1.0, 2),
        line_search_gd(f, start, "wolfe", 3),
        minimize(f, start, "lbfgs"),
    ):
        assert result.x.dtype == torch.float32
    assert minimize(f, start, "bfgs", dtype=F64).x.dtype == F64


def test_a_hand_written_gradient_may_return_floats_for_every_method():
    f = lambda x: (x - 3) ** 2  # noqa: E731
    grad = lambda x: 2 * (float(x) - 3)  # noqa: E731
    for method in ("backtracking", "wolfe", "bisection"):
        result = line_search_gd(f, 0.0, method, 30, grad=grad, tol=1e-9)
        assert float(result.x) == pytest.approx(3.0, abs=1e-8), method


def test_a_detached_gradient_is_an_error_not_convergence():
    for f in (lambda x: (x.detach() - 1) ** 2, lambda x: torch.tensor((x.item() - 1) ** 2)):
        with pytest.raises(ValueError, match=r"∇f\(x0\) is exactly 0, yet f changes"):
            gd(f, 0.0, 0.1)


def test_a_true_stationary_start_is_convergence_not_an_error():
    assert gd(lambda x: x**2, 0.0, 0.1).converged
    assert gd(lambda x: 1e6 * x**3, 0.0, 0.1).converged


@pytest.mark.parametrize("steps", [0, -1, 2.5, True])
def test_steps_must_be_a_positive_int(steps):
    with pytest.raises(ValueError, match="steps must be a positive int"):
        gd(lambda x: x**2, 1.0, 0.1, steps)


def test_projection_needs_a_constant_step():
    with pytest.raises(ValueError, match="constant step"):
        minimize(
            lambda x: (x**2).sum(), torch.ones(2), "gradient", StrongWolfe(), project=lambda x: x
        )


# --------------------------------------------------------------------------------------------
# The divergence thresholds, at their stated values


def test_f_rising_past_1e12_times_one_plus_its_start_is_divergence_at_that_step():
    # x ← x − 1.5·2x = −2x: f = x² grows 4× a step from f(x0) = 0.55, so f_k = 0.55·4^k; the rule
    # |f − f(x0)| > 1e12·(1 + |f(x0)|) = 1.55e12 first holds at step 21 (f_20 ≈ 6.0e11,
    # f_21 ≈ 2.42e12); a threshold 10× lower would stop at step 20, 10× higher at step 23, and
    # 1e12·(2 + |f(x0)|) at step 22
    result = gd(lambda x: x**2, math.sqrt(0.55), lr=1.5, steps=100)
    assert result.diverged and result.nit == 21
    assert result.message.startswith("f blew up to 2.42e+12 at step 21 from f(x0) = 0.55")
    assert "(beyond 1e+12·(1 + |f(x0)|))" in result.message


def test_a_value_that_turns_nan_is_divergence_even_with_a_finite_gradient():
    result = gd(torch.sqrt, 1.0, lr=1.0, steps=10, grad=lambda x: torch.ones_like(x))
    assert result.diverged and result.nit == 2
    assert result.message.startswith("f(x) or ∇f(x) blew up at step 2 (f = nan")


def test_strong_wolfe_function_form():
    """strong_wolfe(f, ∇f, x, g): the step along −g; on ‖x‖² from (1, 1) the exact minimizer
    η = 1/2 is a first trial that satisfies both conditions."""
    f = lambda x: (x**2).sum()  # noqa: E731
    gradient = lambda x: 2 * x  # noqa: E731
    x = torch.ones(2, dtype=F64)
    assert strong_wolfe(f, gradient, x, gradient(x), lr0=0.5) == 0.5
    eta = strong_wolfe(f, gradient, x, gradient(x))  # from η = 1, where f(x − ηg) = f(x)
    assert float(f(x - eta * gradient(x))) <= float(f(x)) - 1e-4 * eta * 8
    assert abs(float(gradient(x - eta * gradient(x)) @ gradient(x))) <= 0.9 * 8


def test_bisection_with_tol_0_stops_only_at_an_exact_zero_of_the_slope():
    """f = (x − 1)² from 0: φ(η) = (2η − 1)², whose minimizer η = 1/2 is the first midpoint."""
    result = minimize(lambda x: (x - 1) ** 2, 0.0, "gradient", Bisection(tol=0), steps=1)
    assert float(result.x) == 1.0 and result.converged
    assert result.step_sizes == [0.5] and result.njev == 3  # ∇f(x0), φ'(1), φ'(1/2): done


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"alpha": 0.5, "beta": 1.5},
            r"need 0 < alpha < 1 and 0 < beta < 1, got alpha=0\.5, beta=1\.5",
        ),
        ({"alpha": 1.5, "beta": 0.5}, r"got alpha=1\.5, beta=0\.5"),
        ({"lr0": -1}, r"^lr0 must be a positive finite number, got -1"),
    ],
)
def test_backtracking_refuses_bad_constants_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Backtracking(**kwargs)


def test_unknown_rules_and_line_searches_with_projections_are_refused_by_name():
    with pytest.raises(ValueError, match=r"^unknown direction 'gradientx'; choose from \['bfgs'"):
        minimize(lambda x: x**2, 1.0, "gradientx")
    with pytest.raises(ValueError, match=r"pass lr= \(η ≤ 1/L for an L-smooth f\) instead of a "
                       r"line search$"):  # fmt: skip
        minimize(lambda x: x**2, 1.0, "gradient", project=lambda x: x)


def test_newton_at_an_inflection_point_fails_with_the_fix():
    """f = x³ − x at 0: f''(0) = 0, so Newton's step −f'/f'' is undefined."""
    result = minimize(lambda x: x**3 - x, 0.0, "newton")
    assert result.status == "failed" and result.nit == 0
    assert result.message.startswith("stopped at step 1: f''(x) = 0 at x = 0;")
    assert result.message.endswith("Newton's step is undefined: use fix='damping'")


def test_a_diagonal_from_numpy_keeps_the_dtype_of_x():
    hess_diag = lambda x: np.array([1.0, 10.0])  # noqa: E731  (float64)
    f = lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)  # noqa: E731
    x0 = torch.tensor([1.0, 1.0])
    result = minimize(f, x0, DiagonalPreconditioner(hess_diag), lr=1.0, steps=3)
    assert result.x.dtype == torch.float32 and result.converged
    assert result.nhev == 1  # one diagonal: the first step lands on the minimizer


def test_evaluation_counts():
    objective = Objective(lambda x: (x**2).sum())
    x = torch.ones(3, dtype=F64)
    for _ in range(3):
        objective.gradient(x)
    assert (objective.nfev, objective.njev) == (0, 3)


def test_a_cut_graph_is_reported_with_the_slope_autograd_missed():
    """f = 2·Σx through float(): the slope along (1, 1)/√2 is 2√2 ≈ 2.83."""
    with pytest.raises(ValueError, match=r"slope ≈ 2\.83 along"):
        minimize(lambda x: torch.tensor(2.0 * float(x.detach().sum())), torch.ones(2, dtype=F64))


def test_status_messages_of_a_run_that_stops_early():
    f = lambda x: (x - 2) ** 2  # noqa: E731
    stalled = minimize(f, 1.0, "gradient", lr=1e-30, tol=0, steps=5)
    assert stalled.status == "failed" and stalled.nit == 0
    assert stalled.message.startswith("no progress at step 1: the step η·p is below rounding")
    slow = minimize(f, 1.0, "gradient", lr=1e-3, tol=1e-9, steps=3)
    assert slow.status == "max_steps" and slow.nit == 3
    assert re.fullmatch(r"no convergence in 3 steps: ‖∇f\(x\)‖ = 1\.98\d* > tol = 1e-09",
                        slow.message)  # fmt: skip
    blown = minimize(f, 1.0, "gradient", lr=1e308, steps=5)
    assert blown.status == "diverged" and blown.message.startswith("x blew up at step 1")
    assert torch.isinf(blown.x) and blown.x is blown.trajectory[-1]


def test_the_smoothness_hint_states_l_and_the_bound_for_a_gently_curved_f():
    """f = x²/4 has L = 1/2, below 1: the hint still names it and the bound η < 4."""
    assert smoothness_hint(lambda x: (x**2).sum() / 4, torch.ones(2, dtype=torch.float64)) == (
        "on a quadratic, gradient descent needs η < 2/L; here L = λ_max(∇²f(x0)) = 0.5, so η < 4"
    )


def test_the_generic_smoothness_hint_for_a_large_problem():
    """Above 500 coordinates no Hessian is formed; the hint states the rule instead."""
    assert smoothness_hint(lambda x: (x**2).sum(), torch.zeros(501)) == (
        "below 1/L for an L-smooth f"
    )


def test_backtracking_function_form():
    """On x² from 1 with g = 2: η = 1 lands on f = 1 (no decrease), η = 1/2 on the minimizer."""
    assert (
        backtracking(lambda x: x**2, torch.tensor(1.0, dtype=F64), torch.tensor(2.0, dtype=F64))
        == 0.5
    )


def test_a_quasi_newton_first_step_keeps_the_evaluation_budget():
    """BFGS's first, rescaled strong Wolfe search has the rule's own max_evals: with one trial
    on Rosenbrock it fails at step 1, restarted and all."""
    p = mgh.problem("Rosenbrock")
    result = minimize(p.f, p.x0(), BFGS(), StrongWolfe(max_evals=1))
    assert result.status == "failed" and result.nit == 0
    assert result.message.startswith("the line search failed at step 1: no strong Wolfe step in 1 ")


def test_bisection_gives_up_after_100_doublings_on_an_unbounded_f():
    result = minimize(lambda x: -x, 0.0, "gradient", Bisection())
    assert result.status == "failed"
    assert result.message.endswith(
        f"φ' stayed negative up to η = {2.0**100:.3g}: f may be unbounded"
    )


def test_backtracking_starts_from_lr0_1_by_default():
    """On x² from 1 (g = 2): η = 1 gives f = 1 (not enough decrease), η = 1/2 the minimizer.
    f is evaluated at x0, at η = 1, at η = 1/2 and with ∇f at the new point: 4 times (from
    lr0 = 2 it would be 5)."""
    result = minimize(lambda x: x**2, 1.0, "gradient", Backtracking(), steps=1)
    assert result.step_sizes == [0.5] and float(result.x) == 0.0
    assert result.nfev == 4


def test_the_tolerance_is_inclusive():
    """‖∇f(x0)‖ = 1 = tol: converged before any step."""
    result = minimize(lambda x: x**2, 0.5, "gradient", lr=0.1, tol=1.0)
    assert result.converged and result.nit == 0
