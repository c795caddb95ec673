"""Figures without pyplot's global state: a ``matplotlib.figure.Figure`` renders on any machine
(no display, no backend choice) and is garbage-collected like any object."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from matplotlib.figure import Figure

from trainlab.train.loop import EpochStats

__all__ = ["FigureResult", "blank_figure", "curves_figure", "new_figure"]


@dataclass
class FigureResult:
    """A figure and the data drawn in it (so a report or test can use the numbers)."""

    figure: Figure
    data: dict[str, Any] = field(default_factory=dict)


def blank_figure(width: float = 4.5, height: float = 3.2) -> Figure:
    """An empty figure sized like the book's plots, for several axes."""
    return Figure(figsize=(width, height), layout="constrained")


def new_figure(width: float = 4.5, height: float = 3.2, **subplot_kw) -> tuple[Figure, Any]:
    """A figure with one axes."""
    figure = blank_figure(width, height)
    return figure, figure.add_subplot(**subplot_kw)


def curves_figure(history: Sequence[EpochStats], title: str = "") -> FigureResult:
    """The book's training curves: train loss, train accuracy and test accuracy per epoch."""
    fig = blank_figure(4.5, 3.2)
    ax = fig.add_subplot()
    epochs = [h.epoch for h in history]
    ax.plot(epochs, [h.loss for h in history], "o-", label="train loss")
    ax.plot(epochs, [h.train_acc for h in history], "s--", label="train acc")
    ax.plot(epochs, [h.test_acc for h in history], "^-.", label="test acc")
    ax.set(xlabel="epoch", title=title)
    ax.legend()
    return FigureResult(fig, {"history": [asdict(h) for h in history]})
