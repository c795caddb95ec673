"""Convexity checks refute non-convex functions and sets, and never claim convexity."""

from __future__ import annotations

import math

import pytest
import torch

from trainlab.convex import (
    check_convex_function,
    check_convex_set,
    classify_critical_point,
    sample_box,
    sublevel_set_grid,
    sublevel_set_samples,
)
from trainlab.convex.convexity import _random_weights

PI = torch.pi
BOX3 = (torch.full((3,), -2.0), torch.full((3,), 2.0))
Q = torch.tensor([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]], dtype=torch.float64)


@pytest.mark.parametrize(
    "f",
    [
        lambda x: torch.cos(PI * x),
        lambda x: x**3,
        lambda x: x * torch.cos(PI * x),
    ],
    ids=["cos", "cube", "xcos"],
)
def test_finds_a_counterexample_for_non_convex_functions(f):
    report = check_convex_function(f, (-1.0, 2.0))
    assert report.refuted
    v = report.violation
    assert v.kind == "chord" and v.gap < 0
    # the counterexample is real: recompute both sides of the inequality
    lam = v.weights
    lhs = lam[0] * f(v.points[0, 0]) + lam[1] * f(v.points[1, 0])
    rhs = f(lam[0] * v.points[0, 0] + lam[1] * v.points[1, 0])
    assert lhs == pytest.approx(v.lhs) and rhs == pytest.approx(v.rhs) and lhs < rhs
    assert str(report).startswith("not convex: chord inequality fails")


@pytest.mark.parametrize(
    "f, bounds",
    [
        (lambda x: x**2, (-1.0, 2.0)),
        (lambda x: torch.exp(0.5 * x), (-1.0, 2.0)),
        (lambda x: torch.logsumexp(x, 0), BOX3),
        (lambda x: torch.linalg.vector_norm(x), BOX3),
        (lambda x: x @ Q @ x, BOX3),
    ],
    ids=["square", "exp", "logsumexp", "norm", "psd_quadratic"],
)
def test_finds_no_violation_for_convex_functions_and_says_only_that(f, bounds):
    report = check_convex_function(f, bounds, num_samples=500)
    assert not report.refuted
    assert str(report) == "no violation in 500 samples (sampling cannot prove convexity)"


def test_the_hessian_catches_a_dent_too_small_for_chords():
    # x⁴ − 1e-4·x² is non-convex only for |x| < 0.0041, where f'' = 12x² − 2e-4 < 0.
    f = lambda x: x**4 - 1e-4 * x**2  # noqa: E731
    assert not check_convex_function(f, (-1.0, 1.0), tests=("chord", "jensen")).refuted
    report = check_convex_function(f, (-1.0, 1.0))
    assert report.refuted and report.violation.kind == "hessian"
    assert report.violation.lhs < 0 and abs(float(report.violation.points[0, 0])) < 0.0041
    assert "Hessian eigenvalue" in str(report)


def test_jensen_with_several_points():
    f = lambda x: torch.cos(PI * x)  # noqa: E731
    report = check_convex_function(f, (-1.0, 2.0), jensen_points=5, tests=("jensen",))
    v = report.violation
    assert v.kind == "jensen" and v.points.shape == (5, 1)
    assert v.weights.dtype == torch.float64  # the weights are drawn in float64, like the points
    assert float(v.weights.sum()) == pytest.approx(1.0, abs=1e-15) and bool((v.weights >= 0).all())
    lhs = (v.weights * f(v.points[:, 0])).sum()
    rhs = f((v.weights * v.points[:, 0]).sum())
    assert lhs == pytest.approx(v.lhs) and rhs == pytest.approx(v.rhs) and lhs < rhs


def test_a_custom_sampler_for_a_non_box_domain():
    def disc(n, gen):
        r = torch.rand(n, 1, generator=gen, dtype=torch.float64).sqrt()
        a = 2 * PI * torch.rand(n, 1, generator=gen, dtype=torch.float64)
        return torch.cat([r * torch.cos(a), r * torch.sin(a)], dim=1)

    assert check_convex_function(lambda x: x[0] ** 2 - x[1] ** 2, sampler=disc).refuted


def test_convex_sets():
    box = (torch.tensor([-3.0, -3.0]), torch.tensor([5.0, 5.0]))
    disc = lambda p: p.norm(dim=1) <= 1  # noqa: E731
    two_discs = lambda p: (p.norm(dim=1) <= 1) | ((p - 3).norm(dim=1) <= 1)  # noqa: E731
    assert not check_convex_set(disc, box).refuted
    assert not check_convex_set(lambda p: disc(p) & (p[:, 0] >= 0), box).refuted  # intersection
    report = check_convex_set(two_discs, box)  # a union need not be convex
    assert report.refuted
    a, b = report.violation.points
    lam = report.violation.weights
    assert two_discs(torch.stack([a, b])).all()
    assert not two_discs((lam[0] * a + lam[1] * b).unsqueeze(0)).any()
    # a set violation has no function values: lhs is nan, rhs 0 and the gap −1 by convention
    v = report.violation
    assert v.kind == "set" and isinstance(v.lhs, float) and math.isnan(v.lhs)
    assert (v.rhs, v.gap) == (0.0, -1.0) and lam.dtype == torch.float64
    assert str(report).startswith(f"not convex: {a.tolist()} and {b.tolist()} are in the set")


def test_sublevel_sets_of_a_convex_function_are_convex():
    f = lambda x: x @ Q[:2, :2] @ x  # noqa: E731
    grids, values, mask = sublevel_set_grid(
        f, 1.0, (torch.full((2,), -2.0), torch.full((2,), 2.0)), num=41
    )
    assert grids[0].shape == values.shape == mask.shape == (41, 41)
    assert 0 < int(mask.sum()) < 41 * 41
    inside = sublevel_set_samples(f, 1.0, (torch.full((2,), -2.0), torch.full((2,), 2.0)))
    assert bool((torch.stack([f(p) for p in inside]) <= 1.0).all())
    members = lambda p: torch.einsum("ni,ij,nj->n", p, Q[:2, :2], p) <= 1.0  # noqa: E731
    assert not check_convex_set(members, (torch.full((2,), -2.0), torch.full((2,), 2.0))).refuted


def test_critical_points():
    saddle = classify_critical_point(lambda x: x[0] ** 2 - x[1] ** 2, torch.zeros(2))
    assert saddle.kind == "saddle"
    torch.testing.assert_close(saddle.eigenvalues, torch.tensor([-2.0, 2.0], dtype=torch.float64))
    assert classify_critical_point(lambda x: x**2, 0.0).kind == "minimum"
    assert classify_critical_point(lambda x: -(x**2), 0.0).kind == "maximum"
    assert classify_critical_point(lambda x: x**3, 0.0).kind == "inconclusive"
    assert classify_critical_point(lambda x: x**2, 1.0).kind == "not critical"


def test_a_one_dimensional_sublevel_set_grid():
    # in 1-D, f gets 0-d points, so an elementwise f such as x² is a scalar function
    grids, values, mask = sublevel_set_grid(lambda x: x**2, 1.0, (-2.0, 2.0), num=5)
    assert len(grids) == 1
    assert grids[0].tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert values.tolist() == [4.0, 1.0, 0.0, 1.0, 4.0]
    assert mask.tolist() == [False, True, True, True, False]


def test_sampling_depends_on_the_seed_only_not_on_the_global_generator():
    box = (torch.full((2,), -2.0), torch.full((2,), 2.0))
    f = lambda x: x.square().sum()  # noqa: E731
    with torch.random.fork_rng():  # the global generator's state is restored afterwards
        torch.manual_seed(1)
        first = sublevel_set_samples(f, 1.0, box, n=200, seed=3)
        points = sample_box(box, 50, torch.Generator().manual_seed(3))
        torch.manual_seed(2)
        assert torch.equal(sublevel_set_samples(f, 1.0, box, n=200, seed=3), first)
        assert torch.equal(sample_box(box, 50, torch.Generator().manual_seed(3)), points)
    assert not torch.equal(sublevel_set_samples(f, 1.0, box, n=200, seed=4), first)
    assert 0 < len(first) < 200 and bool((first.square().sum(1) <= 1.0).all())


def test_sample_box_returns_the_requested_dtype_inside_the_box():
    # bounds given as float64 tensors, points asked for in float32
    low = torch.tensor([0.0, -1.0], dtype=torch.float64)
    high = torch.tensor([1.0, 3.0], dtype=torch.float64)
    points = sample_box((low, high), 1000, torch.Generator().manual_seed(0), dtype=torch.float32)
    assert points.shape == (1000, 2) and points.dtype == torch.float32
    assert bool((points >= low.float()).all() and (points <= high.float()).all())


def test_weights_are_uniform_on_the_simplex():
    # Dirichlet(1, 1, 1): each weight is Beta(1, 2), so P(w_i < 1/2) = 1 − (1/2)² = 3/4 and
    # Var(w_i) = 1·2/(3²·4) = 1/18
    weights = _random_weights(20_000, 3, torch.Generator().manual_seed(0))
    assert weights.dtype == torch.float64 and bool((weights >= 0).all())
    torch.testing.assert_close(weights.sum(1), torch.ones(20_000, dtype=torch.float64))
    for w in weights.T:
        assert float((w < 0.5).double().mean()) == pytest.approx(0.75, abs=0.015)
        assert float(w.var()) == pytest.approx(1 / 18, rel=0.05)


def test_the_eigenvalue_threshold_is_symmetric():
    # with tol = 0.5 and max |λ| = 2 the threshold is 0.5·(1 + 2) = 1.5: an eigenvalue of
    # exactly ±1.5 counts as zero, so the test is inconclusive whatever its sign
    for sign in (1.0, -1.0):
        point = classify_critical_point(
            lambda x, s=sign: x[0] ** 2 + s * 0.75 * x[1] ** 2, torch.zeros(2), tol=0.5
        )
        assert point.kind == "inconclusive", sign
        assert sorted(point.eigenvalues.abs().tolist()) == [1.5, 2.0]
    # −1.6 < −1.5 is negative: a saddle
    saddle = classify_critical_point(lambda x: x[0] ** 2 - 0.8 * x[1] ** 2, torch.zeros(2), 0.5)
    assert saddle.kind == "saddle"


def test_functions_that_read_values_with_item_fall_back_to_one_point_at_a_time():
    # vmap refuses float(x) (.item()) with a message that says nothing of control flow
    def x_abs_x(x):
        return x * abs(float(x))  # x|x|: convex for x > 0, concave for x < 0

    tests = ("chord", "jensen")
    assert check_convex_function(x_abs_x, (-2.0, 2.0), num_samples=200, tests=tests).refuted
    assert not check_convex_function(x_abs_x, (0.0, 2.0), num_samples=200, tests=tests).refuted


class TestBadInput:
    def test_domain_must_be_given_once(self):
        with pytest.raises(ValueError, match="exactly one of bounds"):
            check_convex_function(lambda x: x**2)
        with pytest.raises(ValueError, match="tests must be drawn from"):
            check_convex_function(lambda x: x**2, (0.0, 1.0), tests=("second-order",))

    def test_bounds_must_be_ordered(self):
        with pytest.raises(ValueError, match="high > low"):
            check_convex_function(lambda x: x**2, (1.0, -1.0))

    def test_non_scalar_function(self):
        with pytest.raises(ValueError, match="f must return a scalar"):
            check_convex_function(
                lambda x: torch.stack([x[0], x[1]]), BOX3[:2] and (torch.zeros(2), torch.ones(2))
            )

    def test_non_finite_values(self):
        with pytest.raises(ValueError, match="f is not finite"):
            check_convex_function(lambda x: torch.log(x), (-1.0, 1.0))

    def test_set_with_no_members_in_the_box(self):
        with pytest.raises(ValueError, match="only 0 of"):
            check_convex_set(lambda p: p[:, 0] > 10, (torch.zeros(2), torch.ones(2)))


def test_a_critical_point_reports_its_gradient_norm():
    f = lambda x: (x**2).sum()  # noqa: E731
    assert classify_critical_point(f, torch.zeros(2)).gradient_norm == 0.0
    away = classify_critical_point(f, torch.tensor([3.0, 4.0]))
    assert away.kind == "not critical" and away.gradient_norm == pytest.approx(10.0)


def test_bounds_of_different_sizes_are_refused():
    with pytest.raises(ValueError, match=r"^bounds must be \(low, high\) with high > low"):
        sublevel_set_grid(lambda x: x.square().sum(), 1.0, ([0.0, 0.0], [1.0, 1.0, 1.0]), num=3)
