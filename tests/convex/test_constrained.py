"""Constrained minimization: the known optima of REFERENCE §4, projected optimizers, errors."""

from __future__ import annotations

import copy
import functools
import math

import pytest
import torch
from torch import nn

from trainlab.convex import (
    augmented_lagrangian,
    penalty_method,
    project_box,
    project_l2_ball,
    project_parameters,
    project_simplex,
    projected_gradient_descent,
)


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


def qp(x):
    return 2 * x[0] ** 2 + x[1] ** 2 + x[0] * x[1] + x[0] + x[1]


QP_EQ = lambda x: (x[0] + x[1] - 1).reshape(1)  # noqa: E731
QP_INEQ = lambda x: -x  # x ≥ 0  # noqa: E731


@pytest.mark.parametrize("method, tol", [(augmented_lagrangian, 1e-7), (penalty_method, 1e-5)])
def test_the_quadratic_program(method, tol):
    result = method(qp, t(0.0, 0.0), eq=QP_EQ, ineq=QP_INEQ)
    assert result.converged, result.message
    torch.testing.assert_close(result.x, t(0.25, 0.75), atol=tol, rtol=0)
    assert result.fun == pytest.approx(1.875, abs=tol)
    # KKT: ∇f = (4x₁ + x₂ + 1, 2x₂ + x₁ + 1) = (2.75, 2.75) = −ν·(1, 1); x > 0 so μ = 0
    assert float(result.eq_multipliers[0]) == pytest.approx(-2.75, abs=1e-3)
    torch.testing.assert_close(result.ineq_multipliers, t(0.0, 0.0), atol=1e-6, rtol=0)
    assert result.violation <= 1e-5 and result.kkt_residual <= 1e-3
    # one entry per round in the history, the last round's iterate being the answer
    assert len(result.trajectory) == len(result.values) == len(result.step_sizes) == result.nit
    assert torch.equal(result.trajectory[-1], result.x) and result.values[-1] == result.fun


@pytest.mark.parametrize("method", [augmented_lagrangian, penalty_method])
def test_an_active_inequality(method):
    # min (x + 1)² s.t. x ≥ 1: x* = 1, f* = 4, and μ = f'(1) = 4 (∇f + μ∇g = 4 − μ = 0)
    result = method(lambda x: (x[0] + 1) ** 2, t(0.0), ineq=lambda x: 1 - x)
    assert result.converged, result.message
    assert float(result.x[0]) == pytest.approx(1.0, abs=1e-6)
    assert result.fun == pytest.approx(4.0, abs=1e-5)
    assert float(result.ineq_multipliers[0]) == pytest.approx(4.0, abs=1e-3)
    assert result.eq_multipliers is None


@pytest.mark.parametrize("method", [augmented_lagrangian, penalty_method])
def test_an_exact_start_converges_at_zero_tolerance(method):
    # x0 = 0 minimizes x² and satisfies x ≤ 5 strictly: violation = KKT residual = 0 ≤ tol = 0
    result = method(lambda x: x[0] ** 2, t(0.0), ineq=lambda x: x - 5, tol=0.0)
    assert result.converged and result.nit == 1, result.message
    assert result.violation == 0.0 and result.kkt_residual == 0.0


def test_the_penalty_grows_tenfold_up_to_rho_max():
    # at tol = 0 the penalty method never converges on x ≥ 1 (its violation is 2/(2 + ρ) > 0)
    result = penalty_method(
        lambda x: x[0] ** 2, t(0.0), ineq=lambda x: 1 - x, tol=0.0, max_outer=12
    )
    assert result.status == "max_steps"
    assert result.step_sizes == [10.0**k for k in range(11)] + [1e10]  # the default rho_max
    assert "(ρ = 1e+10)" in result.message


def test_one_penalty_round_reports_the_complementarity_residual():
    # min x² s.t. x ≥ 1 at ρ = 1: the penalized minimizer is x = 1/3, so g = 1 − x = 2/3 and
    # μ = ρ·g = 2/3; stationarity 2x − μ = 0 holds, and the KKT residual is |μ·g| = 4/9
    result = penalty_method(
        lambda x: x[0] ** 2, t(0.0), ineq=lambda x: 1 - x, tol=0.0, max_outer=1, rho=1.0
    )
    assert float(result.x[0]) == pytest.approx(1 / 3, abs=1e-8)
    assert result.violation == pytest.approx(2 / 3, abs=1e-8)
    assert result.kkt_residual == pytest.approx(4 / 9, abs=1e-8)


@pytest.mark.parametrize("method", [augmented_lagrangian, penalty_method])
def test_rho_may_start_at_rho_max(method):
    result = method(lambda x: x[0] ** 2, t(0.0), ineq=lambda x: 1 - x, rho=10.0, rho_max=10.0)
    assert set(result.step_sizes) == {10.0}


def test_the_penalty_may_grow_by_less_than_twofold():
    result = penalty_method(
        lambda x: x[0] ** 2, t(0.0), ineq=lambda x: 1 - x, tol=0.0, max_outer=3, rho_growth=1.5
    )
    assert result.step_sizes == [1.0, 1.5, 2.25]


def test_the_augmented_lagrangian_reports_an_unbounded_subproblem():
    # min −x² s.t. x = 1: at ρ = 1 the subproblem −x² + ν(x − 1) + (x − 1)²/2 is unbounded
    f, eq = (lambda x: -(x[0] ** 2)), (lambda x: x - 1)
    result = augmented_lagrangian(f, t(0.0), eq=eq, rho=1.0)
    assert result.diverged
    assert result.message.startswith(
        "round 1: the augmented Lagrangian subproblem has no minimum at ρ = 1 ("
    )
    assert result.message.endswith("start with a larger rho")
    better = augmented_lagrangian(f, t(0.0), eq=eq, rho=10.0)
    assert better.converged and float(better.x[0]) == pytest.approx(1.0, abs=1e-8)


def test_the_linear_program():
    def constraints(x):
        return torch.stack([-x[0] + x[1] - 1, 2 - x[0] - x[1], -x[1], x[0] - 2 * x[1] - 4])

    result = augmented_lagrangian(lambda x: 2 * x[0] + x[1], t(0.0, 0.0), ineq=constraints)
    assert result.converged, result.message
    torch.testing.assert_close(result.x, t(0.5, 1.5), atol=1e-6, rtol=0)
    assert result.fun == pytest.approx(2.5, abs=1e-6)
    # active constraints are the first two; the others have zero multipliers
    assert float(result.ineq_multipliers[2]) == 0 and float(result.ineq_multipliers[3]) == 0
    assert bool((result.ineq_multipliers[:2] > 0).all())


def test_minimum_norm_point_on_a_hyperplane_and_its_multiplier():
    a, b = t(1.0, -2.0, 0.5), 3.0
    result = augmented_lagrangian(
        lambda x: 0.5 * x.square().sum(), t(0.0, 0.0, 0.0), eq=lambda x: (a @ x - b).reshape(1)
    )
    norm2 = float(a.square().sum())
    torch.testing.assert_close(result.x, b * a / norm2, atol=1e-7, rtol=0)
    assert float(result.eq_multipliers[0]) == pytest.approx(-b / norm2, abs=1e-6)


def test_the_line_search_exercise_minimum():
    f = lambda x: torch.log(torch.exp(x) + torch.exp(-2 * x - 3)).sum()  # noqa: E731
    box = functools.partial(project_box, lower=-5, upper=5)
    result = projected_gradient_descent(f, t(2.0), box, lr=0.5, tol=1e-10)
    assert result.converged
    assert float(result.x[0]) == pytest.approx((math.log(2) - 3) / 3, abs=1e-8)
    assert float(result.x[0]) == pytest.approx(-0.7689509, abs=1e-7)
    assert result.fun == pytest.approx(-0.3634858, abs=1e-7)


@pytest.mark.parametrize("accelerated", [False, True])
def test_projected_gradient_descent_on_a_box_constrained_least_squares(accelerated):
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(30, 10, generator=gen, dtype=torch.float64)
    b = torch.randn(30, generator=gen, dtype=torch.float64) * 3
    f = lambda x: 0.5 * (A @ x - b).square().sum()  # noqa: E731
    lipschitz = float(torch.linalg.matrix_norm(A, ord=2)) ** 2
    box = functools.partial(project_box, lower=0.0, upper=1.0)
    x0 = torch.zeros(10, dtype=torch.float64)
    result = projected_gradient_descent(
        f, x0, box, lr=1 / lipschitz, tol=1e-9, accelerated=accelerated
    )
    assert result.converged
    x = result.x
    assert bool(((x >= 0) & (x <= 1)).all())
    # optimality for a box: the gradient points into the box at active bounds, vanishes inside
    g = A.T @ (A @ x - b)
    inside = (x > 1e-9) & (x < 1 - 1e-9)
    assert float(g[inside].abs().max()) < 1e-6
    assert bool((g[x <= 1e-9] >= -1e-6).all()) and bool((g[x >= 1 - 1e-9] <= 1e-6).all())
    assert len(result.trajectory) == len(result.values) == result.nit + 1
    assert (
        all(a >= b - 1e-12 for a, b in zip(result.values, result.values[1:], strict=False))
        or accelerated
    )


def test_projected_gradient_descent_reports_divergence():
    result = projected_gradient_descent(
        lambda x: (x**2).sum(), t(1.0, 1.0), lambda x: x, lr=1e200, max_steps=100
    )
    assert result.diverged and "lower lr" in result.message


def test_one_projection_applies_to_every_group():
    w = nn.Parameter(torch.tensor([-1.0, 2.0]))
    b = nn.Parameter(torch.tensor([3.0, -4.0]))
    optimizer = torch.optim.SGD([{"params": [w]}, {"params": [b]}], lr=1.0)
    assert project_parameters(optimizer, functools.partial(project_box, lower=0.0)) is optimizer
    assert w.tolist() == [0.0, 2.0] and b.tolist() == [3.0, 0.0]  # projected right away
    (w.sum() - b.sum()).backward()  # a step of lr 1 moves w by −1 and b by +1
    optimizer.step()
    assert w.tolist() == [0.0, 1.0] and b.tolist() == [4.0, 1.0]


def _classifier_with_constraints():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Softplus(), nn.Linear(3, 2))
    optimizer = torch.optim.SGD(
        [
            {"params": model[0].parameters()},  # free
            {"params": [model[2].weight]},  # each row on the simplex
            {"params": [model[2].bias]},  # in the unit ℓ2 ball
        ],
        lr=0.1,
        momentum=0.9,
    )
    project_parameters(optimizer, [None, project_simplex, project_l2_ball])
    return model, optimizer


def _feasible(model) -> bool:
    w, b = model[2].weight, model[2].bias
    return bool((w >= 0).all() and torch.allclose(w.sum(1), torch.ones(2)) and b.norm() <= 1 + 1e-6)


def test_projected_optimizer_keeps_parameters_feasible_through_training():
    model, optimizer = _classifier_with_constraints()
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    assert _feasible(model)  # projected right away
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long()
    first = None
    for _ in range(20):
        loss = nn.functional.cross_entropy(model(x), y)
        first = first or loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        assert _feasible(model)
    assert loss.item() < first
    assert optimizer.param_groups[1]["lr"] == pytest.approx(0.1 * 0.5**4)


def test_projected_optimizer_state_dict_round_trips():
    model, optimizer = _classifier_with_constraints()
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))

    def step(model, optimizer):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()

    step(model, optimizer)
    clone, clone_optimizer = _classifier_with_constraints()
    clone.load_state_dict(model.state_dict())
    # a copy, as if saved to disk: a live state dict shares its momentum buffers
    clone_optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    for _ in range(3):
        step(model, optimizer)
        step(clone, clone_optimizer)
    for a, b in zip(model.parameters(), clone.parameters(), strict=True):
        assert torch.equal(a, b)


class TestBadInput:
    def test_non_scalar_function(self):
        with pytest.raises(ValueError, match="f must return a scalar"):
            projected_gradient_descent(lambda x: x * 2, t(1.0, 2.0), lambda x: x, lr=0.1)

    def test_non_finite_start(self):
        with pytest.raises(ValueError, match="x0 must be finite"):
            augmented_lagrangian(qp, t(float("nan"), 0.0), eq=QP_EQ)
        with pytest.raises(ValueError, match="f is not finite at the starting point"):
            penalty_method(lambda x: torch.log(x).sum(), t(-1.0, 1.0), eq=QP_EQ)

    def test_bad_learning_rate(self):
        with pytest.raises(ValueError, match="learning rate must be a positive finite number"):
            projected_gradient_descent(qp, t(0.0, 0.0), lambda x: x, lr=0.0)

    def test_missing_or_malformed_constraints(self):
        with pytest.raises(ValueError, match="give eq= and/or ineq="):
            augmented_lagrangian(qp, t(0.0, 0.0))
        with pytest.raises(ValueError, match="0-d or 1-d tensor"):
            augmented_lagrangian(qp, t(0.0, 0.0), eq=lambda x: torch.ones(2, 2))
        with pytest.raises(
            ValueError, match=r"the ineq constraints are not finite at x0 = \[0.0, 0.0\]"
        ):
            penalty_method(qp, t(0.0, 0.0), ineq=lambda x: torch.log(x - 1))

    def test_one_projection_per_group(self):
        model, _ = _classifier_with_constraints()
        optimizer = torch.optim.SGD(
            [{"params": [model[0].weight]}, {"params": [model[0].bias]}], lr=0.1
        )
        with pytest.raises(ValueError, match="got 3 projections for 2 param groups"):
            project_parameters(optimizer, [None, None, None])


def test_a_non_scalar_objective_is_named_by_its_shape_or_type():
    with pytest.raises(ValueError, match=r"^f must return a scalar tensor, got \(2,\)$"):
        penalty_method(lambda x: x, t(0.0, 0.0), eq=lambda x: x.sum(-1, keepdim=True))
    with pytest.raises(ValueError, match=r"^f must return a scalar tensor, got list$"):
        penalty_method(lambda x: [0.0], t(0.0, 0.0), eq=lambda x: x.sum(-1, keepdim=True))


def test_the_penalty_method_stops_after_30_rounds_by_default():
    result = penalty_method(lambda x: x[0] ** 2, t(0.0), ineq=lambda x: 1 - x, tol=0.0)
    assert result.status == "max_steps" and result.nit == 30
