"""The Chinese page: in Chinese throughout (headings, labels, statuses, the zh figures), marked
zh-CN, and every character the zh figures draw or the page shows for them has a glyph in the
font matplotlib resolved for Chinese (or in DejaVu Sans, its fallback for Latin and math)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from conftest import require_installed
from trainlab.experiments.figures import cjk_font
from trainlab.report.i18n import STATUSES

CJK = re.compile(r"[\u3400-\u9fff]")


class _Headings(HTMLParser):
    """The text of every h1–h3 and the <html lang> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.lang: str | None = None
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        if tag in ("h1", "h2", "h3"):
            self._open = []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._open is not None:
            self.headings.append("".join(self._open).strip())
            self._open = None


def _parse(page: Path) -> _Headings:
    parser = _Headings()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_the_zh_page_is_marked_and_headed_in_chinese(smoke):
    zh = _parse(smoke.zh)
    assert zh.lang == "zh-CN"
    assert len(zh.headings) >= 20
    assert [h for h in zh.headings if not CJK.search(h)] == []
    en = _parse(smoke.en)
    assert en.lang == "en" and len(en.headings) == len(zh.headings)
    assert [h for h in en.headings if CJK.search(h)] == []  # and the English page is not


def test_the_zh_page_uses_the_courses_terms_and_its_own_figures(smoke):
    page = smoke.zh.read_text(encoding="utf-8")
    for term in (
        "批量归一化",
        "残差网络",
        "梯度下降",
        "小批量随机梯度下降",
        "摘要",
        "公式与参考代码",
    ):
        assert term in page
    for status in {r["status"] for s in smoke.document["sections"] for r in s["rows"]}:
        assert STATUSES[status]["zh"][0] in page
    for english in ("Summary", "Formulas and reference code", "printed · exact", "book pages"):
        assert f">{english}<" not in page
    for section in smoke.document["sections"]:
        for figure in section["figures"]:
            assert f'aria-label="{html.escape(figure["alt"]["zh"])}"' in page
            assert figure["files"]["zh"].endswith(".zh.svg")


def _drawn_texts(svg: Path) -> list[str]:
    """The strings matplotlib drew into an SVG: with glyphs stored as paths it writes each text
    as an XML comment before its glyphs."""
    return [t.strip() for t in re.findall(r"<!-- (.*?) -->", svg.read_text(encoding="utf-8"))]


def _charmap(family: str) -> set[int]:
    path = font_manager.findfont(
        font_manager.FontProperties(family=family), fallback_to_default=False
    )
    return set(FT2Font(path).get_charmap())


def test_the_cjk_font_has_a_glyph_for_every_character_of_the_zh_texts(smoke):
    family = cjk_font()
    require_installed(
        family is not None, "no CJK font is installed (apt-get install fonts-noto-cjk)"
    )
    covered = _charmap(family) | _charmap("DejaVu Sans")
    texts = []
    for section in smoke.document["sections"]:
        texts.append(section["title"]["zh"])
        for figure in section["figures"]:
            texts += [figure["caption"]["zh"], figure["alt"]["zh"]]
            texts += _drawn_texts(smoke.run / figure["files"]["zh"])
            if figure["sweep"]:
                texts.append(figure["sweep"]["parameter"]["zh"])
                texts += [s["caption"]["zh"] for s in figure["sweep"]["series"]]
    drawn = [t for t in texts if CJK.search(t)]
    assert len(drawn) >= 30  # the zh figures really are in Chinese
    missing = sorted({c for t in texts for c in t if not c.isspace() and ord(c) not in covered})
    assert missing == [], f"no glyph for {missing} in {family} or DejaVu Sans"


def test_the_glyph_check_can_fail():
    # the check above is only as good as this: a character a Latin font lacks is reported
    assert ord("梯") not in _charmap("DejaVu Sans") and ord("x") in _charmap("DejaVu Sans")
