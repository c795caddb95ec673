"""The convexity section's figures render and carry the book's numbers."""

from __future__ import annotations

import io
import math

import pytest
import torch

from trainlab.experiments import convexity


@pytest.mark.parametrize("name", convexity.__all__)
def test_every_figure_renders_to_png(name):
    result = getattr(convexity, name)()
    buffer = io.BytesIO()
    result.figure.savefig(buffer, format="png", dpi=50)
    assert buffer.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.figure.axes


def test_the_numbers_behind_the_figures():
    assert convexity.vanishing_gradient().data["gradient_at_4"] == pytest.approx(0.0013, abs=5e-5)
    minima = convexity.local_and_global_minimum().data
    assert minima["local_min"] == pytest.approx(-0.27, abs=0.01)
    assert minima["global_min"] == pytest.approx(1.09, abs=0.01)
    risk = convexity.risk_and_empirical_risk().data
    assert abs(risk["argmin_risk"] - risk["argmin_empirical_risk"]) > 0.05
    gaps = convexity.convex_and_nonconvex_functions().data["min_chord_minus_graph"]
    assert gaps["0.5x²"] >= 0 and gaps["exp(0.5x)"] >= 0 and gaps["cos(πx)"] < 0
    saddle = convexity.saddle_points().data
    assert saddle["saddle_kind"] == "saddle" and saddle["cube_kind"] == "inconclusive"
    assert convexity.local_minimum_is_global().data["argmin"] == pytest.approx(1.0, abs=0.01)


def test_projection_figure_points_are_feasible():
    data = convexity.projection_onto_a_ball().data
    assert bool((data["on_ball"].norm(dim=1) <= 1 + 1e-12).all())
    torch.testing.assert_close(data["on_simplex"].sum(1), torch.ones(8, dtype=torch.float64))


def test_sublevel_set_of_a_custom_function():
    data = convexity.sublevel_set(lambda v: v.abs().sum(), level=1.0).data
    inside = data["mask"]
    area = float(inside.double().mean()) * 16  # the box is [−2, 2]²; the ℓ1 ball has area 2
    assert area == pytest.approx(2.0, rel=0.1)
    assert math.isfinite(float(data["values"].max()))
