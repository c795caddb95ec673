"""The worked projection examples of REFERENCE §4 and the errors."""

from __future__ import annotations

import pytest
import torch

from trainlab.convex import (
    project_affine,
    project_box,
    project_halfspace,
    project_hyperplane,
    project_l1_ball,
    project_l2_ball,
    project_linf_ball,
    project_simplex,
)


def t(*values):
    return torch.tensor(values, dtype=torch.float64)


@pytest.mark.parametrize(
    "v, expected",
    [
        (t(0.5, 2.1, -3.5), t(0.0, 1.0, 0.0)),
        (t(0.3, 0.2, 0.1), t(0.3 + 0.4 / 3, 0.2 + 0.4 / 3, 0.1 + 0.4 / 3)),
        (t(-1.0, -2.0, -3.0), t(1.0, 0.0, 0.0)),
    ],
)
def test_simplex_examples(v, expected):
    torch.testing.assert_close(project_simplex(v), expected)


def test_worked_examples_of_the_other_sets():
    torch.testing.assert_close(project_l1_ball(t(0.5, 2.1, -3.5)), t(0.0, 0.0, -1.0))
    torch.testing.assert_close(project_l2_ball(t(3.0, 4.0)), t(0.6, 0.8))
    torch.testing.assert_close(project_halfspace(t(2.0, 2.0), t(1.0, 1.0), 1.0), t(0.5, 0.5))
    torch.testing.assert_close(project_hyperplane(t(0.0, 0.0), t(1.0, 1.0), 1.0), t(0.5, 0.5))
    torch.testing.assert_close(project_linf_ball(t(3.0, -0.5, -7.0)), t(1.0, -0.5, -1.0))
    torch.testing.assert_close(project_box(t(-1.0, 0.5, 9.0), lower=0.0), t(0.0, 0.5, 9.0))
    A = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]], dtype=torch.float64)
    x = project_affine(t(3.0, -1.0, 2.0), A, t(1.0, 1.0))
    torch.testing.assert_close(A @ x, t(1.0, 1.0))


def test_simplex_radius_and_batching():
    v = torch.randn(4, 3, 5, dtype=torch.float64)
    p = project_simplex(v, radius=2.5)
    torch.testing.assert_close(p.sum(-1), torch.full((4, 3), 2.5, dtype=torch.float64))
    assert bool((p >= 0).all())
    torch.testing.assert_close(p[2, 1], project_simplex(v[2, 1], radius=2.5))


def test_inside_points_are_unchanged():
    inside = t(0.1, -0.2, 0.3)
    for project in (project_l1_ball, project_l2_ball, project_linf_ball):
        assert torch.equal(project(inside), inside)
    assert torch.equal(project_halfspace(inside, t(1.0, 1.0, 1.0), 5.0), inside)


def test_points_on_the_boundary_of_the_l1_ball_are_unchanged():
    # ‖v‖₁ = 1 exactly (in floating point too): v is in the ball and comes back bit for bit,
    # where the simplex route would round it (to 0.09999999999999987, ...)
    for v in (t(0.1, 0.2, 0.7), t(-0.1, 0.2, -0.7)):
        assert torch.equal(project_l1_ball(v), v)


def test_box_bounds_follow_the_device_of_v():
    # a meta tensor stands in for an accelerator; an empty batch reads no values
    v = torch.empty(0, 3, device="meta")
    for bounds in ({"lower": [0.0, 1.0, 2.0]}, {"upper": [1.0, 2.0, 3.0]}):
        x = project_box(v, **bounds)
        assert x.device.type == "meta" and x.shape == (0, 3)


class TestBadInput:
    @pytest.mark.parametrize(
        "project", [project_simplex, project_l1_ball, project_l2_ball, project_linf_ball]
    )
    @pytest.mark.parametrize("radius", [0.0, -1.0, float("inf"), float("nan")])
    def test_radius_must_be_positive_and_finite(self, project, radius):
        with pytest.raises(ValueError, match="radius must be a positive finite number"):
            project(t(1.0, 2.0), radius)

    def test_integer_vectors_are_refused(self):
        with pytest.raises(TypeError, match="floating-point tensor"):
            project_simplex(torch.tensor([1, 2, 3]))
        with pytest.raises(TypeError, match=r"floating-point tensor, got list; use v\.double"):
            project_l2_ball([1.0, 2.0], 1.0)

    def test_mismatched_normal(self):
        with pytest.raises(ValueError, match="the normal a has 2 entries but v has 3"):
            project_halfspace(t(1.0, 2.0, 3.0), t(1.0, 1.0), 0.0)

    def test_zero_normal(self):
        with pytest.raises(ValueError, match="must be non-zero"):
            project_hyperplane(t(1.0, 2.0), t(0.0, 0.0), 1.0)

    def test_empty_box(self):
        with pytest.raises(ValueError, match="the box is empty"):
            project_box(t(1.0, 2.0), lower=t(0.0, 3.0), upper=t(1.0, 2.0))

    def test_inconsistent_affine_set(self):
        A = torch.tensor([[1.0, 1.0], [2.0, 2.0]], dtype=torch.float64)
        with pytest.raises(ValueError, match="Ax = b has no solution"):
            project_affine(t(0.0, 0.0), A, t(1.0, 3.0))
        with pytest.raises(ValueError, match=r"expected A of shape \(m, 2\)"):
            project_affine(t(0.0, 0.0), torch.ones(1, 3, dtype=torch.float64), t(1.0))


@pytest.mark.parametrize(("bad", "word"), [(float("nan"), "NaN"), (float("inf"), "±inf")])
def test_non_finite_entries_are_named(bad, word):
    with pytest.raises(ValueError, match=rf"^v contains {word}: a projection needs finite"):
        project_simplex(t(1.0, bad))
