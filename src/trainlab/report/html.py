"""One self-contained HTML page (figures embedded as data URLs, no script, no server needed)."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

__all__ = ["render"]

STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; max-width: 70rem; margin: 2rem auto; padding: 0 1rem;
       color: #1d232a; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 0.2rem;
margin-top: 2.5rem; }
nav ol { columns: 2; } .meta { color: #57606a; font-size: 0.9rem; }
.formulas { background: #f6f8fa; border-left: 3px solid #0969da; padding: 0.5rem 1rem;
            font-family: ui-monospace, monospace; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
.ok { background: #dafbe1; } .bad { background: #ffebe9; } .na { color: #57606a; }
figure { display: inline-block; margin: 0.5rem; } img { max-width: 100%; }
code { background: #f6f8fa; padding: 0.1rem 0.3rem; border-radius: 3px; }
"""

_CLASS = {"exact match": "ok", "in band": "ok", "mismatch": "bad", "out of band": "bad"}


def _figure(out: Path, relative: str) -> str:
    data = base64.b64encode((out / relative).read_bytes()).decode()
    name = escape(Path(relative).stem.replace("_", " "))
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{name}" '
        f'data-file="{escape(relative)}"><figcaption>{name}</figcaption></figure>'
    )


def _value(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def _section(out: Path, record: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr class="{_CLASS.get(n["status"], "na")}"><td>{escape(n["name"])}</td>'
        f"<td>{_value(n['ours'])}</td><td>{_value(n['book'])}</td>"
        f"<td>{escape(n['status'])}</td></tr>"
        for n in record["numbers"]
    )
    notes = "".join(f"<li>{escape(note)}</li>" for note in record["notes"])
    formulas = "<br>".join(escape(f) for f in record["formulas"])
    figures = "".join(_figure(out, f) for f in record["figures"])
    fallback = (
        f'<p class="bad">This section ran on fallback data, not the book\'s: '
        f"{escape(record['dataset'])}. Its numbers are not comparable with the book's.</p>"
        if record["dataset"].startswith("FALLBACK")
        else ""
    )
    return f"""
<section id="{escape(record["key"])}">
<h2>{escape(record["title"])}</h2>
{fallback}
<p class="meta">data: {escape(record["dataset"])} · {record["seconds"]:.1f} s ·
re-run only this section: <code>{escape(record["command"])}</code></p>
{f'<ul class="meta">{notes}</ul>' if notes else ""}
<div class="formulas">{formulas}</div>
<table><tr><th>quantity</th><th>ours</th><th>book</th><th>status</th></tr>{rows}</table>
{figures}
</section>"""


def render(document: dict[str, Any], out: Path) -> str:
    """The report page for a results document whose figures lie under ``out``."""
    sections = document["sections"]
    toc = "".join(
        f'<li><a href="#{escape(s["key"])}">{escape(s["title"])}</a></li>' for s in sections
    )
    fallback = [s["title"] for s in sections if s["dataset"].startswith("FALLBACK")]
    warning = (
        f'<p class="bad">These sections ran on fallback data, not the book\'s: '
        f"{escape(', '.join(fallback))}.</p>"
        if fallback
        else ""
    )
    body = "".join(_section(out, s) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>trainlab: the unit reproduced</title><style>{STYLE}</style></head>
<body>
<h1>trainlab: the unit reproduced</h1>
<p class="meta">profile <b>{escape(document["profile"])}</b> · seed {document["seed"]} ·
device {escape(document["device"])} · trainlab {escape(document["trainlab_version"])} ·
torch {escape(document["torch_version"])} · {escape(document["created"])}</p>
{warning}
<nav><h3>Contents</h3><ol>{toc}</ol></nav>
{body}
</body></html>
"""
