"""The renderer without a browser: numbers as read, formulas as MathML, the code beside them,
the summary's warnings (sections not run, fallback data, errata), a page that needs nothing
outside itself, and clear errors for what it cannot render."""

from __future__ import annotations

import copy
import html
import inspect
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from trainlab.nn.functional import batch_statistics
from trainlab.report.html import render
from trainlab.report.mathml import to_mathml
from trainlab.report.numbers import full, parts, short
from trainlab.report.source import code_for
from trainlab.report.sweep import curve_points, sweep_data


def _row(document: dict, key: str) -> dict:
    return next(r for s in document["sections"] for r in s["rows"] if r["key"] == key)


def _figure(document: dict, key: str) -> dict:
    return next(f for s in document["sections"] for f in s["figures"] if f["key"] == key)


# ----------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("value", "decimals", "text"),
    [
        (0.0013409506830259165, 4, "0.0013"),  # the book prints tanh'(4) as 0.0013
        (0.6322432193832387, 2, "0.63"),
        (-0.0000042, 2, "0.00"),  # never "-0.00"
        (0.06046617599999997, None, "0.0604662"),  # six significant digits
        (1.0658141036401503e-14, None, "1.06581×10⁻¹⁴"),
        (32.0, None, "32"),
        (11178378, None, "11,178,378"),
        (None, None, "—"),
        ([4, 3, 6, 6], None, "(4, 3, 6, 6)"),
        ([-0.057646075230342354, -7.312316880125945e-05], 6, "(-0.057646, -0.000073)"),
        ([[1, 64, 24, 24], [1, 10]], None, "((1, 64, 24, 24), (1, 10))"),
        (list(range(20)), None, "(0, 1, 2, 3, 4, 5, 6, 7, …, 18, 19; n = 20)"),
    ],
)
def test_numbers_read_as_the_book_prints_them(value, decimals, text):
    assert short(value, decimals) == text
    assert json.loads(full(value)) == value  # the hover text keeps every digit


def test_a_list_of_shapes_breaks_between_whole_shapes():
    walk = [[1, 64, 112, 112], [1, 64, 56, 56], [1, 10]]
    assert parts(walk) == ["(1, 64, 112, 112)", "(1, 64, 56, 56)", "(1, 10)"]
    assert parts([4, 3, 6, 6]) == ["(4, 3, 6, 6)"]


def test_rows_show_the_books_precision_with_the_full_value_on_hover(smoke):
    page = smoke.en.read_text()
    tanh = _row(smoke.document, "tanh_gradient_at_4")
    assert tanh["decimals"] == 4
    assert f'title="{tanh["ours"]!r}">0.0013</span>' in page
    shape = _row(smoke.document, "resnet.residual_shape")
    assert shape["ours"] == [4, 3, 6, 6]
    assert 'title="[4, 3, 6, 6]">(4, 3, 6, 6)</span>' in page
    walk = _row(smoke.document, "resnet.walk_224")
    assert '<span class="p">(1, 64, 112, 112)</span><span class="p">(1, 64, 56, 56)</span>' in page
    assert html.escape(full(walk["ours"])) in page


SPREAD_ROW = {
    "key": "sgd.constant.x1@test",
    "label": {"en": "SGD, constant η = 0.1, 50 steps: final x₁", "zh": "随机梯度下降，终点 x₁"},
    "kind": "printed",
    "ours": 0.13500958256158566,
    "book": -0.212807,
    "band": [-0.37096371295767155, 0.13879127893659735],
    "derivation": {"en": "the min–max of our seeds", "zh": "本实验各随机种子的最小–最大值"},
    "sources": [
        {
            "edition": "COURSE",
            "section": "COURSE 18 · 随机梯度下降参数更新",
            "text": "epoch 50, x1 -0.212807, x2 0.382566",
            "location": "CRuJia/Dive_into_Deep_Learning@2e5da319 18.梯度下降.ipynb cell 33",
            "url": "https://github.com/CRuJia/Dive_into_Deep_Learning/blob/2e5da319/18.ipynb",
        }
    ],
    "decimals": None,
    "status": "printed · within band",
    "spread": {
        "n": 3,
        "min": -0.37096371295767155,
        "median": 0.13500958256158566,
        "max": 0.13879127893659735,
        "values": [0.13500958256158566, -0.37096371295767155, 0.13879127893659735],
        "seeds": [0, 1, 2],
    },
    "detail": {"en": "the noise has std 1 per gradient", "zh": "每个梯度的噪声标准差为 1"},
}


def test_compared_rows_show_kind_band_derivation_spread_and_sources(smoke):
    document = copy.deepcopy(smoke.document)
    document["sections"][0]["rows"].append(SPREAD_ROW)
    page = render(document, smoke.run, "en")
    anchor = f'id="row-{document["sections"][0]["key"]}-{len(document["sections"][0]["rows"])}"'
    block = page[page.index(anchor) : page.index("</table>", page.index(anchor))]
    assert 'title="0.13500958256158566">0.13501</span>' in block
    assert "printed · within band" in block and "kind: printed in the book" in block
    assert "band</b> [" in block and "-0.370964" in block and "0.138791" in block
    assert "the min–max of our seeds" in block  # the band's derivation
    assert "over 3 seeds (0, 1, 2)</b> min" in block and "median" in block and "max" in block
    assert html.escape("the book's -0.212807 lies inside our range") in block
    assert block.count('class="seed"') == 3 and 'class="bookmark"' in block
    source = SPREAD_ROW["sources"][0]
    assert f'<a href="{source["url"]}">{source["section"]}</a>' in block
    assert f'<code class="verbatim">{source["text"]}</code>' in block
    assert source["location"] in block
    assert f'<a href="{source["url"]}"><span class="n"' in block  # the book's number links too
    assert "the noise has std 1 per gradient" in block
    outside = {**SPREAD_ROW, "book": 0.5, "status": "outside band"}
    document["sections"][0]["rows"][-1] = outside
    page = render(document, smoke.run, "en")
    assert html.escape("the book's 0.5 lies above our range") in page


# ----------------------------------------------------------------------------- formulas and code


def test_every_formula_becomes_mathml_with_no_tex_left(smoke):
    formulas = [f for s in smoke.document["sections"] for f in s["formulas"]]
    assert len(formulas) >= 15
    for formula in formulas:
        mathml = to_mathml(formula["tex"])
        assert mathml.startswith("<math") and 'display="block"' in mathml
        assert not re.search(r"\\[A-Za-z]", mathml), mathml
    page = smoke.en.read_text()
    assert page.count("<math ") == len(formulas)
    assert "\\frac" not in page and "\\sum" not in page


def test_a_formula_latex2mathml_cannot_translate_is_refused():
    with pytest.raises(ValueError, match="keeps TeX"):
        to_mathml(r"\notacommand{x} + 1")
    with pytest.raises(ValueError, match="cannot convert"):
        to_mathml(r"\frac{1}{")


def test_code_blocks_name_their_file_and_first_line(smoke):
    code = code_for("trainlab.nn.functional:batch_statistics")
    assert code.path == "trainlab/nn/functional.py"
    assert code.line == inspect.getsourcelines(batch_statistics)[1]
    assert "batch_statistics" in code.html and 'class="linenos"' in code.html
    page = smoke.en.read_text()
    for section in smoke.document["sections"]:
        for formula in section["formulas"]:
            where = code_for(formula["code"])
            assert f"<code>{where.path}</code> · line {where.line} · " in page
    with pytest.raises(ValueError, match="cannot find the reference code"):
        code_for("trainlab.nn.functional:no_such_function")
    with pytest.raises(ValueError, match="module:qualname"):
        code_for("trainlab.nn.functional")


# ----------------------------------------------------------------------------- the summary


def test_the_summary_counts_each_status_and_names_the_machine(smoke):
    page = smoke.en.read_text()
    summary = page[page.index('<section id="summary">') : page.index('<section id="machine">')]
    for section in smoke.document["sections"]:
        assert f'href="#s-{section["key"]}"' in summary
    statuses = Counter(r["status"] for s in smoke.document["sections"] for r in s["rows"])
    total = summary[summary.index("<tfoot>") :]
    assert f'data-label="printed · exact">{statuses["printed · exact"]}<' in total
    assert f'data-label="ours only">{statuses["ours only"]}<' in total
    machine = page[page.index('<section id="machine">') :]
    facts = smoke.document["machine"]
    for key in ("cpu", "torch", "python"):
        assert html.escape(str(facts[key])) in machine
    assert ", ".join(facts["isa"]) in machine


def test_a_run_under_a_smaller_isa_says_so_in_the_machine_facts(smoke):
    document = copy.deepcopy(smoke.document)
    document["machine"]["isa_limits"] = {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    for lang, said in (("en", "limited for this run by"), ("zh", "本次运行受限于")):
        machine = render(document, smoke.run, lang).split('<section id="machine">')[1]
        assert f"({said} ONEDNN_MAX_CPU_ISA=AVX2)</dd>" in machine
    assert "ONEDNN_MAX_CPU_ISA" not in render(smoke.document, smoke.run, "en")


def _variant(smoke) -> dict:
    """The smoke document with a section not run, fallback data and errata."""
    document = copy.deepcopy(smoke.document)
    resnet = next(s for s in document["sections"] if s["key"] == "resnet")
    document["sections"].remove(resnet)
    document["missing"] = [
        {"key": "resnet", "title": resnet["title"], "command": "trainlab reproduce --only resnet"}
    ]
    batchnorm = document["sections"][0]
    batchnorm["data"][0]["fallback"] = True
    batchnorm["data"][0]["source"] = "scikit-learn digits (bundled), resized to 28×28"
    document["errata"] = [
        {
            "key": "e2-gflops",
            "title": {"en": "E2 divides by the wrong time", "zh": "第二版除错了时间"},
            "evidence": {"en": "the rates printed are 10× too high", "zh": "印出的速率高了 10 倍"},
            "section": "minibatch_sgd",
        },
        {
            "key": "resnext-groups",
            "title": {"en": "ResNeXt groups mislabelled", "zh": "ResNeXt 分组标注错误"},
            "evidence": {"en": "groups is the group width", "zh": "groups 实为每组宽度"},
            "section": "resnet",
        },
    ]
    return document


def test_sections_not_run_fallback_data_and_errata_are_announced(smoke):
    page = render(_variant(smoke), smoke.run, "en")
    summary = page[page.index('<section id="summary">') : page.index('<section id="machine">')]
    assert "Not run with these settings: Residual networks, ResNeXt and DenseNet." in summary
    assert "<code>trainlab reproduce --only resnet</code>" in summary
    assert 'id="s-resnet"' not in page
    # fallback: a banner at the top of the summary, the table cell and the section itself
    assert 'class="alarm" role="alert">Some sections ran on fallback data' in summary
    assert '<strong class="fallback">FALLBACK DATA</strong>' in summary
    section = page[page.index('id="s-batchnorm"') : page.index('id="s-convexity"')]
    assert "scikit-learn digits (bundled), resized to 28×28" in section
    assert 'class="alarm" role="alert">This section ran on fallback data' in section
    # errata: in their section, linked from the summary; one whose section is absent stays there
    assert 'href="#erratum-e2-gflops">E2 divides by the wrong time</a>' in summary
    assert (
        "ResNeXt groups mislabelled" in summary and "its section is not in this report" in summary
    )
    mine = page[page.index('id="s-minibatch_sgd"') :]
    assert '<aside class="errata"><h3>Errata</h3>' in mine
    assert "the rates printed are 10× too high" in mine


def test_the_documents_own_errata_appear_in_their_sections(smoke):
    page = smoke.en.read_text()
    for erratum in smoke.document.get("errata", []):
        section = page[page.index(f'id="s-{erratum["section"]}"') :]
        box = section[section.index('<aside class="errata">') : section.index("</aside>")]
        assert html.escape(erratum["title"]["en"]) in box
        assert html.escape(erratum["evidence"]["en"]) in box
        assert f'href="#erratum-{erratum["key"]}"' in page  # linked from the summary


def test_a_document_without_errata_or_missing_sections_shows_neither(smoke):
    document = copy.deepcopy(smoke.document)
    document.pop("errata", None)
    document["missing"] = []
    page = render(document, smoke.run, "en")
    assert 'class="errata"' not in page and 'class="missing"' not in page
    assert 'role="alert"' not in page  # the smoke run had the real data


def test_the_summary_shows_the_predicted_time_beside_the_measured(smoke):
    document = copy.deepcopy(smoke.document)
    for record in document["sections"]:
        record["predicted_seconds"] = None
    document["sections"][0]["predicted_seconds"] = 75.0
    page = render(document, smoke.run, "en")
    summary = page[page.index('<section id="summary">') : page.index('<section id="machine">')]
    assert summary.count("predicted") == 1 and "predicted 1 min 15 s" in summary
    assert "预计 1 分 15 秒" in render(document, smoke.run, "zh")


def test_exercises_show_question_kind_answer_or_why_not_and_their_figures(smoke):
    document = copy.deepcopy(smoke.document)
    section = document["sections"][0]
    figure = copy.deepcopy(_figure(document, "gd_x2_sweep"))
    section["exercises"] = [
        {"number": "8.5.1", "question": {"en": "Can the bias go?", "zh": "能去掉偏置吗？"},
         "kind": "run", "answer": {"en": "Yes: accuracy 0.861 vs 0.862", "zh": "可以：0.861"},
         "values": {"with": 0.862}, "figures": [figure], "note": None},
        {"number": "8.5.7", "question": {"en": "Train longer?", "zh": "训练更久？"},
         "kind": "discussion", "answer": None, "values": {}, "figures": [],
         "note": {"en": "run --profile book", "zh": "请运行 --profile book"}},
    ]
    page = render(document, smoke.run, "en")
    block = page[page.index('<ol class="exercises">') :]
    block = block[: block.index("</ol>")]
    assert "Can the bias go?" in block and "Yes: accuracy 0.861 vs 0.862" in block
    assert 'id="ex-' + section["key"] + '-8-5-1"' in block and ">run<" in block
    assert 'id="ex-' + section["key"] + '-8-5-1-1"' in block  # its figure, anchored under it
    assert "not run" in block and "run --profile book" in block and ">discussion<" in block
    zh = render(document, smoke.run, "zh")
    assert "能去掉偏置吗？" in zh and "未运行" in zh and "Can the bias go?" not in zh
    section["exercises"][0]["question"].pop("zh")
    with pytest.raises(ValueError, match=r"exercise 8\.5\.1"):
        render(document, smoke.run, "zh")


# ----------------------------------------------------------------------------- one file, offline


def test_the_page_needs_nothing_outside_itself(smoke):
    page = smoke.en.read_text()
    assert "<script src" not in page and "<img" not in page and "@import" not in page
    assert re.findall(r"<link\b[^>]*>", page) == ['<link rel="icon" href="data:,">']
    assert not re.search(r"url\((?!#)", page)  # only references inside the page
    assert not re.search(r'\b(?:src|xlink:href|href)="(?!#|data:|https?://)', page)
    assert "default-src 'none'" in page  # the browser itself refuses any request
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert [i for i, n in Counter(ids).items() if n > 1] == []  # figures' ids do not collide


def test_every_figure_is_inline_svg_with_its_caption_and_alt_text(smoke):
    page = smoke.en.read_text()
    sections = smoke.document["sections"]
    figures = [f for s in sections for f in s["figures"]]
    figures += [f for s in sections for e in s["exercises"] for f in e["figures"]]
    assert page.count('<figure class="fig"') == len(figures) >= 20
    for figure in figures:
        start = page.index(f'data-key="{html.escape(figure["key"])}"')
        block = page[start : page.index("</figure>", start)]
        assert (
            f'<svg class="plot" role="img" aria-label="{html.escape(figure["alt"]["en"])}"' in block
        )
        assert html.escape(figure["caption"]["en"]) in block
        if figure["sweep"]:  # interactive: hidden until the script runs, the static SVG stays
            assert '<div class="sweep"' in block and " hidden>" in block


def test_a_sweep_embeds_its_series_as_valid_json(smoke):
    page = smoke.en.read_text()
    figure = _figure(smoke.document, "gd_x2_sweep")
    start = page.index('data-key="gd_x2_sweep"')
    block = page[start : page.index("</figure>", start)]
    payload = re.search(r'<script type="application/json" class="sweep-data">(.*?)</script>', block)
    data = json.loads(payload.group(1))
    sweep = figure["sweep"]
    assert len(data["series"]) == len(sweep["values"]) == len(data["captions"])
    assert data["captions"] == [s["caption"]["en"] for s in sweep["series"]]
    assert data["series"][3][0]["x"][:3] == pytest.approx(sweep["series"][3]["lines"][0]["x"][:3])
    assert data["curve"] is not None and data["curve"]["y"][0] == pytest.approx(625)


def test_sweep_curves_are_sampled_safely():
    points = curve_points("x*cos(0.15*pi*x)", -10, 10, log=False)
    assert len(points["x"]) == len(points["y"]) and points["x"][0] == -10
    assert points["y"][-1] == pytest.approx(10 * __import__("math").cos(1.5 * 3.141592653589793))
    assert curve_points("log(x)", 1, 1000, log=True)["y"][-1] == pytest.approx(6.907755, rel=1e-6)
    with pytest.raises(ValueError, match="only arithmetic"):
        curve_points("__import__('os').getcwd()", 0, 1, log=False)
    bad = {
        "parameter": {"en": "η", "zh": "η"},
        "values": [1, 2],
        "series": [{"lines": [], "caption": {"en": "a", "zh": "a"}}],
        "axes": {"x": [0, 1], "y": [0, 1]},
    }
    with pytest.raises(ValueError, match="one series per value"):
        sweep_data(bad, "en")
    nan = {
        **bad,
        "values": [1],
        "series": [{**bad["series"][0], "lines": [{"x": [0, 1], "y": [float("nan"), 1]}]}],
    }
    assert sweep_data(nan, "en")["series"][0][0]["y"] == [None, 1.0]


# ----------------------------------------------------------------------------- errors


def test_what_cannot_be_rendered_is_refused_by_name(smoke, tmp_path):
    with pytest.raises(ValueError, match="not 'fr'"):
        render(smoke.document, smoke.run, "fr")
    untranslated = copy.deepcopy(smoke.document)
    untranslated["sections"][0]["notes"][0] = {"en": "only English"}
    with pytest.raises(ValueError, match="no 'zh' text for a note of batchnorm"):
        render(untranslated, smoke.run, "zh")
    with pytest.raises(FileNotFoundError, match="cannot be read"):
        render(smoke.document, Path(tmp_path), "en")  # a folder without the figures
