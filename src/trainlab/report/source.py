"""The reference code behind a formula: resolved from its ``module:qualname`` name, highlighted
with pygments when the page is built (the page then needs no script for it), with the file it
lives in and the line it starts on, so a reader can check the formula against the code."""

from __future__ import annotations

import importlib
import inspect
import textwrap
from dataclasses import dataclass
from pathlib import Path

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

import trainlab

__all__ = ["Code", "code_for", "stylesheet"]

_PACKAGE = Path(trainlab.__file__).resolve().parent
_CLASS = "hl"


@dataclass(frozen=True)
class Code:
    """One definition's source: ``path`` relative to the folder above the trainlab package
    (``trainlab/nn/functional.py``), ``line`` its first line, ``html`` the highlighted block."""

    name: str
    path: str
    line: int
    html: str


def _resolve(name: str) -> object:
    module_name, _, qualname = name.partition(":")
    if not module_name or not qualname:
        raise ValueError(f"reference code {name!r} is not of the form 'module:qualname'")
    try:
        target: object = importlib.import_module(module_name)
        for attribute in qualname.split("."):
            target = getattr(target, attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot find the reference code {name!r}: {error}") from error
    return inspect.unwrap(target)  # a decorated function's own lines, not the decorator's


def code_for(name: str) -> Code:
    """The source of ``name`` (``"trainlab.nn.functional:batch_statistics"``), highlighted
    with line numbers that match the file's."""
    target = _resolve(name)
    try:
        lines, first = inspect.getsourcelines(target)  # type: ignore[arg-type]
        file = Path(inspect.getsourcefile(target) or "").resolve()  # type: ignore[arg-type]
    except (OSError, TypeError) as error:
        raise ValueError(f"no source for the reference code {name!r}: {error}") from error
    try:
        path = file.relative_to(_PACKAGE.parent).as_posix()
    except ValueError:
        path = file.as_posix()  # outside trainlab: the absolute path is still a real answer
    formatter = HtmlFormatter(cssclass=_CLASS, linenos="inline", linenostart=max(first, 1))
    html = highlight(textwrap.dedent("".join(lines)), PythonLexer(), formatter)
    return Code(name, path, max(first, 1), html)


def stylesheet() -> str:
    """The highlighting colours: a light scheme, and a dark one for screens that prefer it
    (print always takes the light one)."""
    light = HtmlFormatter(style="default", cssclass=_CLASS)
    dark = HtmlFormatter(style="github-dark", cssclass=_CLASS)

    def rules(formatter: HtmlFormatter) -> str:
        scope = f".{_CLASS}"
        return "\n".join(
            formatter.get_background_style_defs(scope) + formatter.get_token_style_defs(scope)
        )

    return f"{rules(light)}\n@media screen and (prefers-color-scheme: dark) {{\n{rules(dark)}\n}}\n"
