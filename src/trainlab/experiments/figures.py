"""Figures without pyplot's global state: a ``matplotlib.figure.Figure`` renders on any machine
(no display, no backend choice) and is garbage-collected like any object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure

__all__ = ["FigureResult", "blank_figure", "new_figure"]


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
