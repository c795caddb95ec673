"""The book ledger: every printed entry names its edition, section, verbatim text and location,
and its value is what that text prints; theory values are computed apart from the experiments;
the comparison rules say what the report shows."""

from __future__ import annotations

import ast
import inspect
import math

import pytest

from trainlab.experiments import book
from trainlab.experiments.book import ENTRIES, Entry, compare, entry
from trainlab.experiments.result import Number, Text

PRINTED = [e for e in ENTRIES.values() if e.kind == "printed"]


def _spellings(value) -> set[str]:
    """The ways a printed number can appear in a line of output."""
    if isinstance(value, list):
        return {", ".join(str(v) for v in value)}  # a shape: torch.Size([4, 3, 6, 6])
    out = {repr(value), str(value)}
    for digits in range(1, 7):
        out.add(f"{value:.{digits}f}")
    if value == 0:
        out.add("tensor(0.)")
    return out


def test_every_printed_entry_names_edition_section_text_and_location():
    assert len(PRINTED) >= 60
    for e in PRINTED:
        assert e.sources, e.key
        for source in e.sources:
            assert source.edition in ("COURSE", "E1-PT", "E2", "E3"), e.key
            assert source.section.startswith(source.edition), e.key
            assert source.text and source.location and source.url.startswith("https://"), e.key
            assert "@" in source.location, e.key  # repository@commit


def test_every_printed_number_is_in_its_verbatim_text():
    for e in PRINTED:
        if isinstance(e.book, list) and e.book and isinstance(e.book[0], list):
            continue  # layer walks: checked shape by shape below
        if e.key == "densenet.channels_96":  # the channel of each block's printed shape
            assert all(f"[1, {c}, " in e.sources[0].text for c in e.book)
            continue
        texts = " ".join(s.text for s in e.sources)
        if isinstance(e.book, list) and any(isinstance(v, float) for v in e.book):
            assert all(any(sp in texts for sp in _spellings(v)) for v in e.book), (e.key, e.book)
            continue
        assert any(spelling in texts for spelling in _spellings(e.book)), (e.key, e.book)


def test_layer_walks_are_the_printed_shapes():
    for key in ("resnet.walk_224", "resnet.walk_96"):
        texts = " ".join(s.text for s in ENTRIES[key].sources)
        for shape in ENTRIES[key].book:
            assert f"torch.Size({shape})" in texts, (key, shape)


def test_the_ledger_computes_theory_without_the_experiments():
    """A theory row must not compare ours with itself: book.py imports nothing of trainlab's
    but the result types, so its closed forms cannot call the code under test."""
    tree = ast.parse(inspect.getsource(book))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    trainlab_imports = {m for m in imported if m.startswith("trainlab")}
    assert trainlab_imports == {"trainlab.experiments.result"}
    theory = [e for e in ENTRIES.values() if e.kind == "theory"]
    assert len(theory) >= 20 and all(e.book is not None and e.derivation for e in theory)


def test_independent_closed_forms_agree_with_known_values():
    assert ENTRIES["resnet.parameters"].book == 11_178_378
    assert ENTRIES["linesearch.exact_step"].book == 101 / 1001
    assert ENTRIES["gd.quadratic.eta0.2"].book == pytest.approx(1.0)
    assert ENTRIES["gd.quadratic.eta0.21"].book == pytest.approx(117.39, rel=1e-4)
    assert ENTRIES["schedule.exponential.first"].book[0] == 0.1 * math.exp(-0.2)
    assert ENTRIES["minibatch.variance.B2.without"].book == pytest.approx(0.41667, abs=5e-6)


def test_bands_come_with_their_derivation():
    for e in ENTRIES.values():
        if e.band is not None or e.judge == "book":
            assert e.derivation is not None, e.key


def _entry(**kwargs) -> Entry:
    return Entry("k", Text("k", "k"), **kwargs)


def test_compare_rules():
    printed = _entry(kind="printed", book=0.060466, decimals=6)
    assert compare(printed, Number("k", 0.06046617599999997))[0] == "printed · exact"
    assert compare(printed, Number("k", 0.0604672))[0] == "mismatch"
    band = _entry(kind="printed", book=0.87, band=(0.85, 0.89))
    assert compare(band, Number("k", 0.86)) == ("printed · within band", (0.85, 0.89))
    assert compare(band, Number("k", 0.80))[0] == "outside band"
    placed = _entry(kind="printed", book=0.5, judge="book")
    assert compare(placed, Number("k", 0.1, band=(0.2, 0.6)))[0] == "printed · within band"
    assert compare(placed, Number("k", 0.5, band=(0.0, 0.4)))[0] == "outside band"
    theory = _entry(kind="theory", book=[1.0, 2.0], tolerance=1e-12)
    assert compare(theory, Number("k", [1.0, 2.0 + 1e-13]))[0] == "theory · exact"
    assert compare(theory, Number("k", [1.0, 2.1]))[0] == "mismatch"
    assert compare(_entry(kind="ours"), Number("k", 3.0))[0] == "ours only"


def test_an_edition_without_a_printed_value_falls_back_to_ours():
    assert entry("lenet_bn.scratch.test_acc@e3").kind == "ours"
    assert entry("lenet_bn.scratch.test_acc@course").kind == "printed"
    with pytest.raises(KeyError, match=r"add one to trainlab/experiments/book\.py"):
        entry("no.such.quantity")

