"""SGD's exact facts (REFERENCE §6) and the book's schedule runs."""

from __future__ import annotations

import math

import pytest
import torch

from trainlab.experiments.sgd import (
    SCHEDULE_RUNS,
    drawn_at_least_once,
    minibatch_gradient_variance,
    noisy_sgd,
    running_mean_by_sgd,
)


def test_sgd_with_one_over_t_is_the_running_mean():
    xi = torch.randn(200, generator=torch.Generator().manual_seed(0), dtype=torch.float64).tolist()
    ours = running_mean_by_sgd(xi)
    for t in (1, 2, 10, 200):
        assert ours[t - 1] == pytest.approx(sum(xi[:t]) / t, rel=1e-12, abs=1e-15)


def test_probability_of_being_drawn():
    assert drawn_at_least_once(1) == 1.0
    assert drawn_at_least_once(2) == 0.75
    assert drawn_at_least_once(10**6) == pytest.approx(1 - 1 / math.e, abs=1e-6)
    assert round(drawn_at_least_once(1000), 2) == 0.63


@pytest.mark.parametrize(
    "batch, replacement, expected",
    [(2, False, 0.41667), (2, True, 0.625), (4, False, 0.0), (4, True, 0.3125)],
)
def test_minibatch_variance_table_by_exact_enumeration(batch, replacement, expected):
    enumerated, closed = minibatch_gradient_variance([1, 2, 3, 4], batch, replacement)
    assert enumerated == pytest.approx(expected, abs=5e-6)
    assert enumerated == pytest.approx(closed, abs=1e-15)


def test_schedules_the_book_compares():
    finals = {}
    for name, (schedule, steps) in SCHEDULE_RUNS.items():
        points, figure = noisy_sgd(schedule, steps)
        assert len(points) == steps + 1 and points[0] == (-5.0, -2.0)
        finals[name] = points[-1][0] ** 2 + 2 * points[-1][1] ** 2
        assert figure.figure.axes
    # exponential decay stalls far from the minimum; polynomial decay gets close in 50 steps
    assert finals["exponential"] > 0.1
    assert finals["polynomial"] < 0.1


def test_noise_is_seeded():
    schedule, steps = SCHEDULE_RUNS["polynomial"]
    assert noisy_sgd(schedule, steps, seed=1)[0] == noisy_sgd(schedule, steps, seed=1)[0]
    assert noisy_sgd(schedule, steps, seed=1)[0] != noisy_sgd(schedule, steps, seed=2)[0]
