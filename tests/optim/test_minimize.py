"""The one minimizer driver on classical test problems: BFGS and L-BFGS against scipy on the
Moré–Garbow–Hillstrom set, the Moré–Thuente line-search functions, honest statuses, and the
conventions every method shares (dtype, counts, tolerance, bad input)."""

from __future__ import annotations

import math

import pytest
import scipy.optimize
import torch

from trainlab.optim import (
    BFGS,
    LBFGS,
    Bisection,
    StrongWolfe,
    gd,
    line_search_gd,
    mgh,
    minimize,
    more_thuente,
    newton,
)
from trainlab.optim.linesearch import LineSearchError

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


def test_more_thuente_meets_strong_wolfe_on_all_24_cases_within_the_papers_budget():
    """Moré & Thuente (1994) report 179 evaluations over these 24 cases for MINPACK's search."""
    total = 0
    for phi, c1, c2 in MT_CASES:
        f0, g0 = phi(0.0)
        for first in (1e-3, 1e-1, 1e1, 1e3):
            calls = []
            step = more_thuente(
                lambda a, phi=phi, calls=calls: calls.append(a) or phi(a), f0, g0, first, c1, c2
            )
            value, slope = phi(step)
            assert value <= f0 + c1 * step * g0
            assert abs(slope) <= c2 * abs(g0)
            total += len(calls)
    assert total <= 179


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
