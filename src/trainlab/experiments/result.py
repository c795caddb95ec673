"""What every experiment returns: its numbers, each keyed to the book ledger
(:mod:`trainlab.experiments.book`), its figures, each captioned with the claim it tests and the
run's own numbers, and notes — in English and Chinese.

A section builder runs a list of experiments and concatenates their results; the report reads
only these types (no experiment-specific unpacking).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from matplotlib.figure import Figure

__all__ = ["Exercise", "ExerciseSpec", "Lang", "Number", "Plot", "Result", "Spread", "Text"]

Lang = Literal["en", "zh"]


@dataclass(frozen=True)
class Text:
    """A sentence in both languages of the report."""

    en: str
    zh: str

    def __call__(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh": self.zh}


@dataclass(frozen=True)
class Spread:
    """One quantity over several seeds."""

    values: tuple[float, ...]
    seeds: tuple[int, ...]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def max(self) -> float:
        return max(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "n": len(self.values),
            "min": self.min,
            "median": self.median,
            "max": self.max,
            "values": list(self.values),
            "seeds": list(self.seeds),
        }


@dataclass
class Number:
    """Our value of the ledger quantity ``key``: a number or a list of numbers (shapes,
    points), never a formatted string. ``spread`` holds the values over seeds when the
    experiment ran several (``ours`` is then their median), ``band`` a band computed from the
    run (its derivation is the ledger entry's), ``detail`` a sentence for the reader (a
    counterexample in words)."""

    key: str
    ours: float | int | list | None
    spread: Spread | None = None
    band: tuple[float, float] | None = None
    detail: Text | None = None


@dataclass
class Plot:
    """A figure — ``draw(lang)`` renders it with its text in that language — with the claim it
    tests as its caption (computed from the run), alt text, and optionally the data of an
    interactive version: ``sweep`` = {"parameter": {"en", "zh"}, "values": [...], "series":
    [{"lines": [{"x": [...], "y": [...]}, ...], "caption": {"en", "zh"}}, ...], "axes": {...}},
    one series per parameter value, computed by trainlab (the page only switches between
    them)."""

    key: str
    draw: Callable[[Lang], Figure]
    caption: Text
    alt: Text
    sweep: dict[str, Any] | None = None


@dataclass
class Exercise:
    """An end-of-section exercise answered: ``answer`` states the finding with the run's own
    numbers (None when the profile did not run it: ``note`` says how to run it); ``plots`` and
    ``values`` show the evidence."""

    number: str  # d2l-en numbering, e.g. "12.3.2"
    question: Text  # paraphrased, in our words
    kind: Literal["run", "check", "discussion"]
    answer: Text | None
    values: dict[str, Any] = field(default_factory=dict)  # numbers behind the answer
    plots: list[Plot] = field(default_factory=list)
    note: Text | None = None


@dataclass(frozen=True)
class ExerciseSpec:
    """How an exercise is answered: ``solve(ctx)`` returns (answer, values, plots). ``cost``
    "book" marks an answer that needs training too long for the quick profile: it runs only
    with ``--profile book`` and is listed as such otherwise."""

    number: str
    question: Text
    kind: Literal["run", "check", "discussion"]
    solve: Callable[[Any], tuple[Text, dict[str, Any], list[Plot]]]
    cost: Literal["quick", "book"] = "quick"


@dataclass
class Result:
    """One experiment's output."""

    key: str
    numbers: list[Number] = field(default_factory=list)
    plots: list[Plot] = field(default_factory=list)
    notes: list[Text] = field(default_factory=list)
    exercises: list[Exercise] = field(default_factory=list)

    def extend(self, others: Sequence[Result]) -> Result:
        for other in others:
            self.numbers += other.numbers
            self.plots += other.plots
            self.notes += other.notes
            self.exercises += other.exercises
        return self
