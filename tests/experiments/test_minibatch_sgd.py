"""Minibatch SGD on the real airfoil data: in the book's band, above the least-squares floor."""

from __future__ import annotations

import pytest

from trainlab.data import load_airfoil
from trainlab.experiments.minibatch_sgd import (
    BOOK_RUNS,
    least_squares_floor,
    minibatch_figure,
    train,
)


@pytest.fixture
def shared_airfoil(shared_data):
    return load_airfoil(shared_data)


def test_every_book_run_ends_in_the_books_band_and_above_the_floor(shared_airfoil):
    floor = least_squares_floor(shared_airfoil)
    assert 0.2410 < floor < 0.2420
    results = [train(run, shared_airfoil) for run in BOOK_RUNS]
    for result in results:
        assert 0.242 <= result.final_loss <= 0.25, result.run
        assert min(result.losses) >= floor - 1e-6, result.run  # nothing beats least squares
        assert result.losses[0] > 0.45  # starts near var(y)/2 = 0.5
        assert result.examples[-1] == result.run.epochs
    figure = minibatch_figure(results, floor)
    assert set(figure.data["final"]) == {run.name for run in BOOK_RUNS}


def test_runs_are_reproducible_from_the_seed(shared_airfoil):
    run = BOOK_RUNS[3]
    assert train(run, shared_airfoil, seed=3).losses == train(run, shared_airfoil, seed=3).losses
    assert train(run, shared_airfoil, seed=3).losses != train(run, shared_airfoil, seed=4).losses
