"""One self-contained HTML page from a results document: it opens offline as a single file and
makes no network request (a Content-Security-Policy forbids any), because everything it shows —
figures as inline SVG, formulas as MathML, highlighted code, the stylesheet and the small script
of the interactive figures — is built into it here.

The page reads top-down as a reviewer checks the unit: a summary (what matched the book, what
did not, what was not run, on which data and machine), then per section the formulas beside the
code that implements them, the numbers beside the book's with the printed text they come from,
and the figures captioned with the claim each one tests. Every string is in the page's language:
the document carries the experiments' texts in both, :mod:`trainlab.report.i18n` the page's own.
"""

from __future__ import annotations

import json
import math
import re
from html import escape
from pathlib import Path
from typing import Any

from trainlab.report.assets import SCRIPT, STYLE
from trainlab.report.i18n import HTML_LANG, LANGS, STATUSES, Lang, kind_name, status_name, ui
from trainlab.report.mathml import to_mathml
from trainlab.report.numbers import full, parts, short
from trainlab.report.source import code_for, stylesheet
from trainlab.report.sweep import sweep_data

__all__ = ["render"]

# The summary's columns: each row status falls in exactly one.
_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("printed · exact", ("printed · exact",)),
    ("theory · exact", ("theory · exact",)),
    ("within_band", ("printed · within band", "theory · within band")),
    ("outside band", ("outside band",)),
    ("mismatch", ("mismatch",)),
    ("ours only", ("ours only",)),
)
_BAD = frozenset({"outside band", "mismatch"})
_TONE = {
    status: "bad" if status in _BAD else "neutral" if status == "ours only" else "good"
    for status in STATUSES
}

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
_SVG_JUNK = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.S)
_SVG_ID = re.compile(r'\bid="([^"]+)"')
_SVG_REF = re.compile(r'(href="#|url\(#)([^")]+)')


def _raw(texts: dict[str, str], lang: Lang, where: str) -> str:
    """A document text in ``lang``. Raises when that language is missing: a page in one
    language must not quietly show the other."""
    value = texts.get(lang)
    if not value:
        raise ValueError(f"the results document has no {lang!r} text for {where}: {texts!r}")
    return value


def _text(texts: dict[str, str], lang: Lang, where: str) -> str:
    """:func:`_raw`, escaped for HTML."""
    return escape(_raw(texts, lang, where))


def _e(value: object) -> str:
    return escape(str(value))


# ----------------------------------------------------------------------------- numbers


def _number(value: Any, decimals: int | None) -> str:
    """A number as read (the book's digits, else 6 significant), its full value on hover."""
    if value is None:
        return "—"
    texts = parts(value, decimals)
    # a list breaks between its elements (a list of shapes between whole shapes), a scalar never
    pieces = (
        "".join(f'<span class="p">{_e(p)}</span>' for p in texts)
        if len(texts) > 1
        else _e(texts[0])
    )
    wrap = " wrap" if isinstance(value, list) else ""
    return f'<span class="n{wrap}" title="{_e(full(value))}">{pieces}</span>'


def _seconds(seconds: float, lang: Lang) -> str:
    if seconds < 60:
        return ui("seconds", lang, value=f"{seconds:.1f}" if seconds < 10 else f"{seconds:.0f}")
    minutes, rest = divmod(round(seconds), 60)
    return ui("minutes", lang, minutes=minutes, seconds=rest)


def _badge(status: str, lang: Lang) -> str:
    """A row status as a coloured badge, its meaning on hover."""
    name, meaning = status_name(status, lang), STATUSES[status][lang][1]
    return f'<span class="badge {_TONE[status]}" title="{_e(meaning)}">{_e(name)}</span>'


def _counts(record: dict[str, Any]) -> dict[str, int]:
    statuses = [row["status"] for row in record["rows"]]
    for status in statuses:
        status_name(status, "en")  # an unknown status fails here, named
    return {column: sum(statuses.count(s) for s in members) for column, members in _COLUMNS}


def _column_name(column: str, lang: Lang) -> str:
    return ui(column, lang) if column == "within_band" else status_name(column, lang)


# ----------------------------------------------------------------------------- summary


def _data_cell(record: dict[str, Any], lang: Lang) -> str:
    if not record["data"]:
        return f'<span class="zero">{_e(ui("no_data", lang))}</span>'
    items = []
    for data in record["data"]:
        name = f'<span class="dataname" title="{_e(data["source"])}">{_e(data["name"])}</span>'
        if data["fallback"]:
            name = f'<strong class="fallback">{_e(ui("fallback", lang))}</strong> {name}'
        items.append(name)
    return "<br>".join(items)


def _time_cell(record: dict[str, Any], lang: Lang) -> str:
    """The measured time, and the prediction made at the start of the run when there was one."""
    measured = _e(_seconds(record["seconds"], lang))
    predicted = record.get("predicted_seconds")
    if predicted is None:
        return measured
    guess = _e(ui("predicted", lang, time=_seconds(predicted, lang)))
    return f'{measured}<br><span class="zero">{guess}</span>'


def _summary(document: dict[str, Any], lang: Lang, errata: list[dict[str, Any]]) -> str:
    sections = document["sections"]
    names = [_e(_column_name(c, lang)) for c, _ in _COLUMNS]
    time_name, data_name = _e(ui("time", lang)), _e(ui("data", lang))
    head = "".join(f'<th class="num" scope="col">{name}</th>' for name in names)
    body, totals, seconds = [], dict.fromkeys([c for c, _ in _COLUMNS], 0), 0.0

    def count_cell(column: str, count: int, name: str) -> str:
        tone = "hot" if count and column in _BAD else "" if count else "zero"
        return f'<td class="num {tone}" data-label="{name}">{count}</td>'

    for number, record in enumerate(sections, start=1):
        counts = _counts(record)
        for column, _ in _COLUMNS:
            totals[column] += counts[column]
        seconds += record["seconds"]
        cells = "".join(
            count_cell(c, counts[c], n) for (c, _), n in zip(_COLUMNS, names, strict=True)
        )
        body.append(
            f'<tr><th scope="row"><a href="#s-{_e(record["key"])}">{number} '
            f"{_text(record['title'], lang, 'a section title')}</a></th>{cells}"
            f'<td class="num" data-label="{time_name}">{_time_cell(record, lang)}</td>'
            f'<td data-label="{data_name}">{_data_cell(record, lang)}</td></tr>'
        )
    total_cells = "".join(
        count_cell(c, totals[c], n) for (c, _), n in zip(_COLUMNS, names, strict=True)
    )
    table = (
        f'<div class="scroll"><table class="summary"><thead><tr><th scope="col">{_e(ui("section", lang))}</th>'
        f'{head}<th class="num" scope="col">{time_name}</th><th scope="col">{data_name}</th></tr></thead>'
        f'<tbody>{"".join(body)}</tbody><tfoot><tr><th scope="row">{_e(ui("total", lang))}</th>{total_cells}'
        f'<td class="num" data-label="{time_name}">{_e(_seconds(seconds, lang))}</td><td></td></tr></tfoot></table></div>'
    )
    return (
        f'<section id="summary"><h2>{_e(ui("summary", lang))}</h2>{_fallback_banner(sections, lang)}'
        f"{table}{_missing(document, lang)}{_errata_summary(errata, sections, lang)}{_legend(lang)}"
        f'<p class="meta">{_e(ui("full_precision", lang))}</p></section>'
    )


def _fallback_banner(sections: list[dict[str, Any]], lang: Lang) -> str:
    hit = [
        _text(s["title"], lang, "a section title")
        for s in sections
        if any(d["fallback"] for d in s["data"])
    ]
    if not hit:
        return ""
    sep = "、" if lang == "zh" else ", "
    return (
        f'<p class="alarm" role="alert">{ui("fallback_banner", lang, sections=sep.join(hit))}</p>'
    )


def _missing(document: dict[str, Any], lang: Lang) -> str:
    items = [
        f"<li>{_e(ui('missing', lang, title=_raw(m['title'], lang, 'a section title')))} "
        f"<code>{_e(m['command'])}</code></li>"
        for m in document.get("missing", [])
    ]
    return f'<ul class="missing" id="missing">{"".join(items)}</ul>' if items else ""


def _errata_summary(
    errata: list[dict[str, Any]], sections: list[dict[str, Any]], lang: Lang
) -> str:
    if not errata:
        return ""
    present = {s["key"] for s in sections}
    items = []
    for erratum in errata:
        where = f"erratum {erratum['key']}"
        title = _text(erratum["title"], lang, where)
        if erratum.get("section") in present:
            items.append(f'<li><a href="#erratum-{_e(erratum["key"])}">{title}</a></li>')
        else:
            evidence = _text(erratum["evidence"], lang, where)
            elsewhere = _e(ui("errata_elsewhere", lang))
            items.append(f'<li>{title} <span class="zero">{elsewhere}</span><br>{evidence}</li>')
    return f'<div class="errata"><h3>{_e(ui("errata_summary", lang))}</h3><ul>{"".join(items)}</ul></div>'


def _legend(lang: Lang) -> str:
    entries = "".join(
        f"<dt>{_badge(status, lang)}</dt><dd>{_e(texts[lang][1])}</dd>"
        for status, texts in STATUSES.items()
    )
    return f'<dl class="legend" aria-label="{_e(ui("statuses_help", lang))}">{entries}</dl>'


def _machine(document: dict[str, Any], lang: Lang) -> str:
    facts = document.get("machine", {})
    unknown = ui("unknown", lang)

    def fact(key: str) -> str:
        value = facts.get(key)
        return _e(unknown if value is None else value)

    isa = ", ".join(facts.get("isa") or []) or ui("isa_none", lang)
    limits = ", ".join(f"{name}={value}" for name, value in facts.get("isa_limits", {}).items())
    if limits:  # the run used a smaller ISA than the processor has
        isa += f" ({ui('isa_limited', lang)} {limits})"
    versions = (
        f"torch {fact('torch')} · oneDNN {fact('onednn')} · Python {fact('python')} · "
        f"trainlab {_e(document.get('trainlab_version', unknown))}"
    )
    device = fact("device") + (f" ({_e(facts['gpu'])})" if facts.get("gpu") else "")
    settings = document["settings"]
    rows = [
        (ui("cpu", lang), fact("cpu")),
        (ui("isa", lang), _e(isa)),
        (ui("cores", lang), fact("cores")),
        (ui("threads", lang), fact("threads")),
        (ui("load", lang), fact("load_1min")),
        (ui("device", lang), device),
        (ui("versions", lang), versions),
        (ui("git_commit", lang), f"<code>{fact('git_commit')}</code>"),
        (ui("profile", lang), _e(settings["profile"])),
        (ui("edition", lang), _e(settings["edition"])),
        (ui("seed", lang), _e(settings["seed"])),
        (ui("command", lang), f"<code>{_e(document['command'])}</code>"),
    ]
    items = "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows)
    return f'<section id="machine"><h2>{_e(ui("machine", lang))}</h2><dl class="facts">{items}</dl></section>'


# ----------------------------------------------------------------------------- formulas


def _formulas(record: dict[str, Any], lang: Lang) -> str:
    blocks, shown = [], {}
    for i, formula in enumerate(record["formulas"], start=1):
        anchor = f"formula-{record['key']}-{i}"
        code = code_for(formula["code"])
        where = (
            f"<code>{_e(code.path)}</code> · {_e(ui('line', lang, line=code.line))} · "
            f"<code>{_e(formula['code'].partition(':')[2])}</code>"
        )
        if formula["code"] in shown:
            first = shown[formula["code"]]
            body = f'<p class="where">{where} — <a href="#formula-{record["key"]}-{first}">{_e(ui("shown_above", lang, n=first))}</a></p>'
        else:
            shown[formula["code"]] = i
            body = f'<p class="where">{where}</p><div class="codebox">{code.html}</div>'
        caption = _text(formula["caption"], lang, f"formula {formula['code']}")
        blocks.append(
            f'<div class="formula" id="{_e(anchor)}"><div><p class="cap"><span class="fno">({i})</span>{caption}</p>'
            f'<div class="math">{to_mathml(formula["tex"])}</div></div><div class="code">{body}</div></div>'
        )
    return "".join(blocks)


# ----------------------------------------------------------------------------- rows


def _spread(row: dict[str, Any], lang: Lang) -> str:
    """min / median / max of our seeds as text, and as a strip: the seeds as dots, the median
    as a tick, the band shaded and the book's value as a diamond placed among them."""
    spread, band, decimals = row["spread"], row["band"], row["decimals"]
    book = (
        row["book"]
        if isinstance(row["book"], (int, float)) and not isinstance(row["book"], bool)
        else None
    )
    values = [v for v in spread["values"] if math.isfinite(v)]
    marks = values + (list(band) if band else []) + ([book] if book is not None else [])
    lo, hi = min(marks), max(marks)
    pad = (hi - lo) * 0.06 or abs(lo) * 0.1 or 1.0
    lo, hi = lo - pad, hi + pad
    width, height = 200, 24

    def x(v: float) -> str:
        return f"{4 + (v - lo) / (hi - lo) * (width - 8):.1f}"

    shapes = []
    if band:
        shapes.append(
            f'<rect class="bandrect" x="{x(band[0])}" y="5" width="{float(x(band[1])) - float(x(band[0])):.1f}" height="14"/>'
        )
    shapes.append(
        f'<line class="range" x1="{x(spread["min"])}" x2="{x(spread["max"])}" y1="12" y2="12"/>'
    )
    shapes += [f'<circle class="seed" cx="{x(v)}" cy="12" r="3"/>' for v in values]
    shapes.append(
        f'<line class="median" x1="{x(spread["median"])}" x2="{x(spread["median"])}" y1="4" y2="20"/>'
    )
    if book is not None:
        cx = float(x(book))
        shapes.append(
            f'<polygon class="bookmark" points="{cx:.1f},4 {cx + 5:.1f},12 {cx:.1f},20 {cx - 5:.1f},12"/>'
        )
    strip = (
        f'<svg class="strip" viewBox="0 0 {width} {height}" role="img" aria-label="{_e(ui("spread_label", lang))}">'
        f"<title>{_e(ui('spread_label', lang))}</title>{''.join(shapes)}</svg>"
    )
    seeds = ", ".join(str(s) for s in spread["seeds"])
    text = (
        f"<b>{_e(ui('spread', lang, n=spread['n'], seeds=seeds))}</b> "
        f"{_e(ui('spread_min', lang))} {_number(spread['min'], decimals)} · "
        f"{_e(ui('spread_median', lang))} {_number(spread['median'], decimals)} · "
        f"{_e(ui('spread_max', lang))} {_number(spread['max'], decimals)}"
    )
    if book is not None:
        where = (
            "book_below"
            if book < spread["min"]
            else "book_above"
            if book > spread["max"]
            else "book_inside"
        )
        text += f"; {_e(ui(where, lang, value=short(book, decimals)))}"
    return f"<div>{text}{strip}</div>"


def _sources(row: dict[str, Any], lang: Lang) -> str:
    items = []
    for source in row["sources"]:
        # the section usually starts with its edition ("E3 §12.1.2.3 …"): name it once
        named = source["section"].startswith(source["edition"])
        edition = "" if named else f'<span class="ed">{_e(source["edition"])}</span> '
        items.append(
            f'<li>{edition}<a href="{_e(source["url"])}">{_e(source["section"])}</a>'
            f'<code class="verbatim">{_e(source["text"])}</code><span class="loc">{_e(source["location"])}</span></li>'
        )
    return f'<div><b>{_e(ui("sources", lang))}</b><ul class="sources">{"".join(items)}</ul></div>'


def _row(row: dict[str, Any], lang: Lang, anchor: str) -> str:
    decimals, where = row["decimals"], f"row {row['key']}"
    book = _number(row["book"], decimals)
    if row["sources"] and row["book"] is not None:
        book = f'<a href="{_e(row["sources"][0]["url"])}">{book}</a>'
    tone = _TONE[row["status"]]
    label = _text(row["label"], lang, where)
    main = (
        f'<tr class="main {tone}" id="{_e(anchor)}"><td class="label">{label}</td>'
        f'<td class="num" data-label="{_e(ui("ours", lang))}">{_number(row["ours"], decimals)}</td>'
        f'<td class="num" data-label="{_e(ui("book", lang))}">{book}</td>'
        f'<td class="status">{_badge(row["status"], lang)}</td></tr>'
    )
    more = []
    if row["band"] is not None:
        band = f"[{_number(row['band'][0], decimals)}, {_number(row['band'][1], decimals)}]"
        why = f" — {_text(row['derivation'], lang, where)}" if row["derivation"] else ""
        more.append(f"<div><b>{_e(ui('band', lang))}</b> {band}{why}</div>")
    elif row["derivation"]:
        more.append(
            f"<div><b>{_e(ui('derivation', lang))}</b> {_text(row['derivation'], lang, where)}</div>"
        )
    if row["spread"]:
        more.append(_spread(row, lang))
    if row["sources"]:
        more.append(_sources(row, lang))
    if row["detail"]:
        more.append(f'<div class="detail">{_text(row["detail"], lang, where)}</div>')
    if row["kind"] != "ours":  # for ours-only rows the status already says so
        more.insert(
            0, f'<span class="tag">{_e(ui("kind", lang, kind=kind_name(row["kind"], lang)))}</span>'
        )
    if not more:
        return main
    return f'{main}<tr class="more {tone}"><td colspan="4">{"".join(more)}</td></tr>'


def _rows(record: dict[str, Any], lang: Lang) -> str:
    if not record["rows"]:
        return ""
    head = "".join(
        f'<th scope="col"{" class=num" if k in ("ours", "book") else ""}>{_e(ui(k, lang))}</th>'
        for k in ("quantity", "ours", "book", "status")
    )
    body = "".join(
        _row(row, lang, f"row-{record['key']}-{i}") for i, row in enumerate(record["rows"], start=1)
    )
    return (
        f"<h3>{_e(ui('results', lang))}</h3>"
        f'<div class="scroll"><table class="rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
    )


# ----------------------------------------------------------------------------- figures


def _inline_svg(path: Path, prefix: str, label: str) -> str:
    """A matplotlib SVG file as an element of the page: prolog and metadata dropped, its ids
    prefixed so that two figures' ids cannot collide, labelled for screen readers."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise FileNotFoundError(
            f"the figure {path} named in the results document cannot be read ({error}); rerun "
            "`trainlab reproduce` with --force to draw it again"
        ) from error
    text = _SVG_JUNK.sub("", text).strip()
    if not text.startswith("<svg"):
        raise ValueError(f"{path} is not an SVG file")
    ids = set(_SVG_ID.findall(text))
    text = _SVG_ID.sub(lambda m: f'id="{prefix}{m[1]}"', text)
    text = _SVG_REF.sub(lambda m: f"{m[1]}{prefix}{m[2]}" if m[2] in ids else m[0], text)
    return text.replace("<svg", f'<svg class="plot" role="img" aria-label="{escape(label)}"', 1)


def _sweep(figure: dict[str, Any], lang: Lang, anchor: str, alt: str) -> str:
    data = sweep_data(figure["sweep"], lang)
    data["aria"] = [
        ui("interactive_label", lang, alt=alt, parameter=data["parameter"], value=value)
        for value in data["labels"]
    ]
    payload = json.dumps(data, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")
    last = len(data["labels"]) - 1
    return (
        f'<div class="sweep" id="{_e(anchor)}-sweep" hidden>'
        f'<p class="hint">{_e(ui("interactive", lang, parameter=data["parameter"]))}</p>'
        f'<svg class="sweep-plot" viewBox="0 0 480 300" role="img" aria-label="{_e(data["aria"][0])}"></svg>'
        f'<div class="control"><label for="{_e(anchor)}-input">{_e(data["parameter"])}</label>'
        f'<input type="range" id="{_e(anchor)}-input" min="0" max="{last}" step="1" value="0">'
        f'<output for="{_e(anchor)}-input">{_e(data["labels"][0])}</output></div>'
        f'<p class="sweep-caption" aria-live="polite">{_e(data["captions"][0])}</p>'
        f'<script type="application/json" class="sweep-data">{payload}</script></div>'
    )


def _figures(record: dict[str, Any], run: Path, lang: Lang, section_number: int) -> str:
    if not record["figures"]:
        return ""
    blocks = _figure_blocks(record["figures"], f"fig-{record['key']}", run, lang, section_number)
    return f"<h3>{_e(ui('figures', lang))}</h3>{''.join(blocks)}"


def _figure_blocks(
    figures: list[dict[str, Any]], prefix: str, run: Path, lang: Lang, numbering: object
) -> list[str]:
    """Each figure inlined with its caption, numbered ``numbering.k`` and anchored ``prefix-k``."""
    blocks = []
    for k, figure in enumerate(figures, start=1):
        anchor = f"{prefix}-{k}"
        where = f"figure {figure['key']}"
        alt = _raw(figure["alt"], lang, f"the alt text of {where}")
        svg = _inline_svg(
            run / _raw(figure["files"], lang, f"the file of {where}"), f"{anchor}-", alt
        )
        sweep = _sweep(figure, lang, anchor, alt) if figure.get("sweep") else ""
        number = ui("figure", lang, n=f"{numbering}.{k}")
        blocks.append(
            f'<figure class="fig" id="{_e(anchor)}" data-key="{_e(figure["key"])}"><div class="card">{svg}</div>{sweep}'
            f"<figcaption><b>{_e(number)}</b> {_text(figure['caption'], lang, where)}</figcaption></figure>"
        )
    return blocks


def _exercises(record: dict[str, Any], run: Path, lang: Lang) -> str:
    """The section's end-of-section exercises: the question (paraphrased), how it is answered,
    the answer with the run's own numbers (or why it was not run), and its figures."""
    exercises = record.get("exercises") or []
    if not exercises:
        return ""
    items = []
    for exercise in exercises:
        number, where = exercise["number"], f"exercise {exercise['number']}"
        anchor = f"ex-{record['key']}-{number.replace('.', '-')}"
        kind = ui(f"kind_{exercise['kind']}", lang)
        if exercise["answer"] is not None:
            body = f'<p class="answer">{_text(exercise["answer"], lang, where)}</p>'
        else:
            note = _text(exercise["note"], lang, where) if exercise.get("note") else ""
            body = f'<p class="answer off"><b>{_e(ui("not_run", lang))}</b> {note}</p>'
        figures = "".join(_figure_blocks(exercise["figures"], anchor, run, lang, number))
        items.append(
            f'<li id="{_e(anchor)}"><p class="question"><b>{_e(number)}</b> '
            f'<span class="badge neutral">{_e(kind)}</span> {_text(exercise["question"], lang, where)}</p>'
            f"{body}{figures}</li>"
        )
    return (
        f"<h3>{_e(ui('exercises', lang))}</h3><p class=\"zero\">{_e(ui('exercise_kinds', lang))}</p>"
        f'<ol class="exercises">{"".join(items)}</ol>'
    )


# ----------------------------------------------------------------------------- sections


def _section(
    record: dict[str, Any], run: Path, lang: Lang, number: int, errata: list[dict[str, Any]]
) -> str:
    key = record["key"]
    title = _text(record["title"], lang, f"section {key}")
    pages = " · ".join(f'<a href="{_e(url)}">{_e(label)}</a>' for label, url in record["pages"])
    data = []
    for d in record["data"]:
        source = f'{_e(d["name"])} <span class="zero">({_e(d["source"])})</span>'
        data.append(
            f'<strong class="fallback">{_e(ui("fallback", lang))}</strong> {source}'
            if d["fallback"]
            else source
        )
    facts = [
        f'<dt>{_e(ui("pages", lang))}</dt><dd class="pages">{pages}</dd>',
        f"<dt>{_e(ui('time', lang))}</dt><dd>{_e(_seconds(record['seconds'], lang))}</dd>",
        f"<dt>{_e(ui('data', lang))}</dt><dd>{'<br>'.join(data) or _e(ui('no_data', lang))}</dd>",
        f"<dt>{_e(ui('rerun', lang))}</dt><dd><code>{_e(record['command'])}</code></dd>",
    ]
    alarms = "".join(
        f'<p class="alarm" role="alert">{_e(ui("fallback_section", lang, source=d["source"]))}</p>'
        for d in record["data"]
        if d["fallback"]
    )
    counts = _counts(record)
    badges = "".join(
        f'<span class="badge {_TONE[members[0]]}">{_e(ui("count", lang, name=_column_name(column, lang), count=counts[column]))}</span>'
        for column, members in _COLUMNS
        if counts[column]
    )
    errata_box = _errata_box([e for e in errata if e.get("section") == key], lang)
    notes = "".join(f"<li>{_text(n, lang, f'a note of {key}')}</li>" for n in record["notes"])
    return (
        f'<section class="unit" id="s-{_e(key)}"><h2>{number} {title}</h2>{alarms}'
        f'<dl class="facts sectionfacts">{"".join(facts)}</dl><div class="counts">{badges}</div>{errata_box}'
        f"<h3>{_e(ui('formulas', lang))}</h3>{_formulas(record, lang)}{_rows(record, lang)}"
        f"{_figures(record, run, lang, number)}"
        + (f'<h3>{_e(ui("notes", lang))}</h3><ul class="notes">{notes}</ul>' if notes else "")
        + _exercises(record, run, lang)
        + "</section>"
    )


def _errata_box(errata: list[dict[str, Any]], lang: Lang) -> str:
    if not errata:
        return ""
    items = []
    for erratum in errata:
        where = f"erratum {erratum['key']}"
        title, evidence = (
            _text(erratum["title"], lang, where),
            _text(erratum["evidence"], lang, where),
        )
        located = (
            f' <span class="loc">{_e(erratum["where"])}</span>' if erratum.get("where") else ""
        )
        items.append(
            f'<li id="erratum-{_e(erratum["key"])}"><b>{title}</b>{located}<br>{evidence}</li>'
        )
    return (
        f'<aside class="errata"><h3>{_e(ui("errata", lang))}</h3><ul>{"".join(items)}</ul></aside>'
    )


def _contents(document: dict[str, Any], lang: Lang) -> str:
    items = [
        f'<li><a href="#summary">{_e(ui("summary", lang))}</a></li>',
        f'<li><a href="#machine">{_e(ui("machine", lang))}</a></li>',
    ]
    for number, record in enumerate(document["sections"], start=1):
        title = _text(record["title"], lang, f"section {record['key']}")
        items.append(f'<li><a href="#s-{_e(record["key"])}">{number} {title}</a></li>')
    for missing in document.get("missing", []):
        items.append(
            f'<li class="off"><a href="#missing">{_text(missing["title"], lang, "a section title")}</a></li>'
        )
    return f'<nav class="toc" aria-label="{_e(ui("contents", lang))}"><h2>{_e(ui("contents", lang))}</h2><ol>{"".join(items)}</ol></nav>'


def render(document: dict[str, Any], run: Path, lang: str = "en") -> str:
    """The report page for ``document`` in ``lang`` ("en" or "zh"); ``run`` is the run folder
    the document's figure paths are relative to. Raises ValueError for an unknown language, a
    missing translation, a formula that does not convert or reference code that cannot be found,
    and FileNotFoundError for a missing figure — a page that silently lacks them would mislead."""
    if lang not in LANGS:
        raise ValueError(f"the report is written in {' or '.join(LANGS)}, not {lang!r}")
    page_lang: Lang = "zh" if lang == "zh" else "en"
    run = Path(run)
    errata = list(document.get("errata") or [])
    settings = document["settings"]
    meta = "".join(
        f"<span>{_e(ui(k, page_lang))} {_e(v)}</span>"
        for k, v in (
            ("created", document.get("created", "")),
            ("profile", settings["profile"]),
            ("edition", settings["edition"]),
            ("seed", settings["seed"]),
            ("device", settings["device"]),
        )
    )
    sections = "".join(
        _section(record, run, page_lang, number, errata)
        for number, record in enumerate(document["sections"], start=1)
    )
    results = run / "results.json"
    title = _e(ui("page_title", page_lang))
    return (
        f'<!DOCTYPE html>\n<html lang="{HTML_LANG[page_lang]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="color-scheme" content="light dark"><link rel="icon" href="data:,">'
        f"<title>{title}</title><style>{STYLE}{stylesheet()}</style></head><body>"
        f'<div class="layout"><header><h1>{title}</h1><p class="lede">{_e(ui("lede", page_lang))}</p>'
        f'<p class="meta">{meta}</p></header>{_contents(document, page_lang)}<main>'
        f"{_summary(document, page_lang, errata)}{_machine(document, page_lang)}{sections}</main>"
        f"<footer><p>results.json — {_e(ui('results_file', page_lang))}: <code>{_e(results)}</code></p></footer>"
        f"</div><script>{SCRIPT}</script></body></html>\n"
    )
