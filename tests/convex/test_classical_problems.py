"""The constrained methods on the Hock–Schittkowski subset, projections against exact rational
answers on adversarial inputs, and the convexity check's dtype-aware tolerance."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import scipy.optimize
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from trainlab.convex import (
    augmented_lagrangian,
    check_convex_function,
    penalty_method,
    project_l1_ball,
    project_l2_ball,
    project_simplex,
)
from trainlab.convex import hock_schittkowski as hs

F64 = torch.float64


def _run(method, p, **kwargs):
    return method(
        p.f, p.x0(), eq=p.eq if p.n_eq else None, ineq=p.ineq if p.n_ineq else None, **kwargs
    )


def test_hs71_multipliers_penalty_and_kkt_residual_are_right():
    p = hs.problem(71)
    result = _run(augmented_lagrangian, p, rho_max=1e6)
    assert result.converged, result.message
    assert max(result.step_sizes) <= 1e6  # ρ is capped (it used to reach 1e42)
    assert abs(float(result.eq_multipliers[0])) == pytest.approx(0.16147, abs=1e-4)
    assert float(result.ineq_multipliers[0]) == pytest.approx(0.55229, abs=1e-4)
    assert result.kkt_residual <= 1e-4 and result.violation <= 1e-8
    assert hs.solved(p, result.fun, p.violation(result.x))


def test_the_penalty_method_reports_an_unbounded_subproblem_as_divergence():
    result = _run(penalty_method, hs.problem(40))
    assert result.status == "diverged" and "start with a larger rho" in result.message
    better = _run(penalty_method, hs.problem(40), rho=100.0)
    assert better.converged and better.fun == pytest.approx(-0.25, abs=1e-5)


def _slsqp_solved(p) -> bool:
    constraints = []
    for fn, kind, count in ((p.eq, "eq", p.n_eq), (p.ineq, "ineq", p.n_ineq)):
        if count:
            sign = 1.0 if kind == "eq" else -1.0  # scipy's inequalities are c(x) ≥ 0

            def values(z, fn=fn, sign=sign):
                return sign * fn(torch.tensor(z, dtype=F64)).numpy()

            constraints.append({"type": kind, "fun": values})
    grad = torch.func.grad(p.f)
    r = scipy.optimize.minimize(
        lambda z: float(p.f(torch.tensor(z, dtype=F64))),
        p.x0().numpy(),
        jac=lambda z: grad(torch.tensor(z, dtype=F64)).numpy(),
        constraints=constraints,
        method="SLSQP",
    )
    return hs.solved(p, float(r.fun), p.violation(torch.tensor(r.x, dtype=F64)))


def test_the_augmented_lagrangian_solves_the_subset_at_least_as_often_as_slsqp():
    ours = [
        p.number
        for p in hs.PROBLEMS
        if hs.solved(p, (r := _run(augmented_lagrangian, p)).fun, p.violation(r.x))
    ]
    theirs = [p.number for p in hs.PROBLEMS if _slsqp_solved(p)]
    assert len(hs.PROBLEMS) >= 20
    assert len(ours) >= len(theirs)


# --------------------------------------------------------------------------------------------
# Projections: exact answers in rational arithmetic
# --------------------------------------------------------------------------------------------


def _exact_simplex(values: list[float], radius: float) -> list[Fraction]:
    v = [Fraction(x) for x in values]
    r = Fraction(radius)
    u = sorted(v, reverse=True)
    total, theta = Fraction(0), None
    for j, uj in enumerate(u, start=1):
        total += uj
        candidate = (total - r) / j
        if uj - candidate > 0:
            theta = candidate
    return [max(x - theta, Fraction(0)) for x in v]


def _close(got: torch.Tensor, exact: list[Fraction], scale: float) -> None:
    eps = torch.finfo(got.dtype).eps
    for g, e in zip(got.tolist(), exact, strict=True):
        assert abs(Fraction(g) - e) <= 8 * eps * scale, (g, float(e))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(
    "values, radius",
    [
        ([1000.0, 3.0, 1.0], 1e-6),  # radius below the rounding unit of the largest entry
        ([1e30, -1e30, 1.0], 1.0),
        ([1e-30, 2e-30, 3e-30], 1e-30),
        ([5.0, 5.0, 5.0, 5.0], 1e-20),
        ([0.5, 2.1, -3.5], 1.0),
    ],
)
def test_simplex_projection_is_exact_and_feasible_on_adversarial_inputs(values, radius, dtype):
    v = torch.tensor(values, dtype=dtype)
    x = project_simplex(v, radius)
    exact = _exact_simplex(v.tolist(), radius)
    _close(x, exact, scale=max(radius, 1e-300))
    assert bool((x >= 0).all())
    assert float(x.double().sum()) == pytest.approx(
        radius, rel=len(values) * 4 * torch.finfo(dtype).eps
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_subnormal=False), min_size=1, max_size=8),
    st.floats(1e-12, 1e6),
)
def test_simplex_projection_matches_rational_arithmetic(values, radius):
    v = torch.tensor(values, dtype=F64)
    _close(
        project_simplex(v, radius),
        _exact_simplex(values, radius),
        scale=max(radius, max(map(abs, values))),
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_l1_ball_projection_for_a_radius_below_rounding(dtype):
    x = project_l1_ball(torch.tensor([1000.0, -3.0, 1.0], dtype=dtype), 1e-6)
    assert float(x[0]) == pytest.approx(1e-6, rel=1e-6) and float(x[1:].abs().sum()) == 0.0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("scale, radius", [(1e20, 1.0), (1e-25, 1e-30), (1e30, 1e29)])
def test_l2_ball_projection_with_scaled_norms(scale, radius, dtype):
    v = torch.tensor([3.0, 4.0], dtype=F64) * scale
    x = project_l2_ball(v.to(dtype), radius)
    torch.testing.assert_close(
        x.double(), torch.tensor([0.6, 0.8], dtype=F64) * radius, rtol=1e-6, atol=0
    )
    assert float(torch.linalg.vector_norm(x.double())) <= radius * (1 + 4 * torch.finfo(dtype).eps)


@pytest.mark.parametrize("project", [project_simplex, project_l1_ball, project_l2_ball])
def test_radius_as_any_real_scalar_nan_refused_empty_kept(project):
    v = torch.tensor([0.3, 0.2, 0.1])
    expected = project(v, 1.0)
    for radius in (np.float32(1.0), np.float64(1.0), torch.tensor(1.0), 1):
        torch.testing.assert_close(project(v, radius), expected)
    with pytest.raises(ValueError, match="contains NaN"):
        project(torch.tensor([1.0, float("nan")]), 1.0)
    assert project(torch.empty(0), 1.0).shape == (0,)
    assert project(torch.empty(3, 0), 1.0).shape == (3, 0)


# --------------------------------------------------------------------------------------------
# Convexity check: tolerance by dtype, functions vmap cannot trace
# --------------------------------------------------------------------------------------------


def _piecewise_linear_float32(x):
    return torch.maximum((x.float() - 0.3).abs() * 3, 0.5 * x.float() + 1).sum()


def test_a_convex_float32_function_is_not_refuted_at_float32_resolution():
    box = (torch.full((3,), -2.0), torch.full((3,), 2.0))
    report = check_convex_function(_piecewise_linear_float32, box, tests=("chord", "jensen"))
    assert not report.refuted, str(report)
    # a float64-sized tolerance mistakes float32 rounding for a counterexample
    strict = check_convex_function(
        _piecewise_linear_float32, box, tests=("chord", "jensen"), tol=1e-9
    )
    assert strict.refuted and abs(strict.violation.gap) < 1e-4


def test_python_control_flow_falls_back_to_one_point_at_a_time():
    def relu_squared(x):
        return x**2 if x > 0 else 0 * x  # a Python `if` on a tensor: vmap cannot trace it

    assert not check_convex_function(relu_squared, (-2.0, 2.0), num_samples=200).refuted
    assert check_convex_function(
        lambda x: torch.sin(x) if x > 0 else x, (-3.0, 3.0), num_samples=200
    ).refuted
