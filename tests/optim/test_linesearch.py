"""Line search: the book's backtracking sequence, the exact step, Armijo and Wolfe conditions."""

from __future__ import annotations

import pytest
import torch

from trainlab.optim.linesearch import line_search_gd

F64 = torch.float64


def quadratic(x):
    return 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)


def test_backtracking_sequence_of_the_reference():
    result = line_search_gd(
        quadratic, torch.ones(2, dtype=F64), "backtracking", 5, alpha=0.3, beta=0.5
    )
    assert result.step_sizes == [0.125, 0.125, 0.25, 0.125, 0.5]
    assert [round(v, 4) for v in result.values[:5]] == [5.5, 0.6953, 0.3126, 0.2088, 0.129]


def test_armijo_holds_at_every_accepted_step():
    alpha = 0.3
    result = line_search_gd(
        quadratic, torch.tensor([3.0, -2.0], dtype=F64), "backtracking", 30, alpha=alpha
    )
    for k, eta in enumerate(result.step_sizes):
        decrease = alpha * eta * result.grad_norms[k] ** 2
        assert result.values[k + 1] <= result.values[k] - decrease + 1e-15


def test_exact_step_on_a_quadratic():
    result = line_search_gd(quadratic, torch.ones(2, dtype=F64), "exact", 3)
    assert result.step_sizes[0] == pytest.approx(101 / 1001, rel=1e-15)
    # each exact step minimizes f along −g, so the next gradient is orthogonal to this one
    g0 = torch.tensor([1.0, 10.0], dtype=F64)
    x1 = result.trajectory[1]
    assert float(torch.tensor([x1[0], 10 * x1[1]]) @ g0) == pytest.approx(0.0, abs=1e-14)


def test_strong_wolfe_conditions_hold():
    f = lambda x: torch.log(torch.exp(x) + torch.exp(-2 * x - 3)).sum() + 0.1 * (x**2).sum()  # noqa: E731
    result = line_search_gd(f, torch.tensor([2.0, -3.0], dtype=F64), "wolfe", 15, lr0=4.0)
    c1, c2 = 1e-4, 0.9
    grad = torch.func.grad(f)
    for k, eta in enumerate(result.step_sizes):
        x = result.trajectory[k]
        g = grad(x)
        slope = -float(g @ g)
        x_next = x - eta * g
        assert float(f(x_next)) <= float(f(x)) + c1 * eta * slope + 1e-15
        assert abs(float(grad(x_next) @ -g)) <= c2 * abs(slope) + 1e-15
    assert result.values[-1] < result.values[0]


def test_a_gradient_of_zero_is_convergence_and_non_convex_exact_steps_fail():
    assert line_search_gd(quadratic, torch.zeros(2, dtype=F64)).converged
    saddle = line_search_gd(lambda x: x[0] ** 2 - x[1] ** 2, torch.tensor([0.0, 1.0]), "exact")
    assert saddle.status == "failed" and "gᵀAg" in saddle.message


def test_unknown_method():
    message = "method must be 'backtracking', 'wolfe', 'exact' or 'bisection'"
    with pytest.raises(ValueError, match=message):
        line_search_gd(quadratic, torch.ones(2), "golden")
