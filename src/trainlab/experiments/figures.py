"""Figures without pyplot's global state: a ``matplotlib.figure.Figure`` renders on any machine
(no display, no backend choice) and is garbage-collected like any object.

Every figure is drawn in the report's language (:func:`style` sets a font with CJK glyphs for
Chinese), with labelled axes, integer epoch ticks and a legend large enough to read; the report
stores it as SVG (vector: sharp at any pixel density, glyphs turned into paths, so the file needs
no font).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from trainlab.experiments.result import Lang, Text
from trainlab.train.loop import EpochStats

__all__ = ["CJK_FONTS", "blank_figure", "curves_figure", "epoch_axis", "new_figure", "style"]

# Fonts with Chinese glyphs, in order of preference (Debian: fonts-noto-cjk).
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "WenQuanYi Zen Hei")
_BASE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "svg.fonttype": "path",
    "axes.unicode_minus": False,  # U+2212 is missing from some fonts; ASCII minus never is
}


@functools.cache
def cjk_font() -> str | None:
    """The first installed font of :data:`CJK_FONTS`, or None (install fonts-noto-cjk)."""
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


@contextlib.contextmanager
def style(lang: Lang) -> Iterator[None]:
    """matplotlib settings for drawing a figure in ``lang`` (legible sizes; a CJK font for zh,
    with DejaVu Sans behind it for Latin and math glyphs). Raises when no CJK font is installed
    for zh: its figures would show boxes instead of characters."""
    if lang == "zh" and cjk_font() is None:
        raise RuntimeError(
            f"no font with Chinese glyphs is installed (looked for {', '.join(CJK_FONTS)}); "
            "install one, e.g. apt-get install fonts-noto-cjk"
        )
    # a list of families: matplotlib falls back glyph by glyph (CJK, then DejaVu's subscripts)
    family = [cjk_font(), "DejaVu Sans"] if lang == "zh" else ["DejaVu Sans"]
    with matplotlib.rc_context({**_BASE, "font.family": family}):
        yield


def blank_figure(width: float = 5.2, height: float = 3.6) -> Figure:
    """An empty figure for several axes."""
    return Figure(figsize=(width, height), layout="constrained")


def new_figure(width: float = 5.2, height: float = 3.6, **subplot_kw):
    """A figure with one axes."""
    figure = blank_figure(width, height)
    return figure, figure.add_subplot(**subplot_kw)


_LOSS = Text("train loss", "训练损失")
_TRAIN = Text("train accuracy", "训练精度")
_TEST = Text("test accuracy", "测试精度")
_EPOCH = Text("epoch", "迭代周期")


def epoch_axis(ax, lang: Lang) -> None:
    """Label ax's x axis "epoch" with whole-epoch ticks only (one tick for a one-epoch run)."""
    ax.set_xlabel(_EPOCH(lang))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def curves_figure(history: Sequence[EpochStats], title: Text, lang: Lang) -> Figure:
    """The book's training curves: train loss, train accuracy and test accuracy per epoch."""
    fig, ax = new_figure()
    epochs = [h.epoch for h in history]
    ax.plot(epochs, [h.loss for h in history], "o-", label=_LOSS(lang))
    ax.plot(epochs, [h.train_acc for h in history], "s--", label=_TRAIN(lang))
    ax.plot(epochs, [h.test_acc for h in history], "^-.", label=_TEST(lang))
    ax.set(title=title(lang))
    epoch_axis(ax, lang)
    ax.legend()
    return fig
