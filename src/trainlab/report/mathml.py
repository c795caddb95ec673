"""TeX to MathML when the page is built, so the browser draws the formulas with no script, no
font download and no network — and a reader never sees raw TeX."""

from __future__ import annotations

import re

from latex2mathml.converter import convert

__all__ = ["to_mathml"]

# a TeX control word left in the text of an element: latex2mathml passed a command through
_LEFTOVER = re.compile(r">[^<]*\\[A-Za-z]+[^<]*<")


def to_mathml(tex: str) -> str:
    """``tex`` as a display-style ``<math>`` element. Raises ValueError when the converter
    cannot translate a command (it would show up on the page as backslash-TeX)."""
    try:
        mathml = convert(tex, display="block")
    except Exception as error:  # latex2mathml raises its own assorted exception types
        raise ValueError(
            f"cannot convert the formula {tex!r} to MathML ({type(error).__name__}: {error})"
        ) from error
    if leftover := _LEFTOVER.search(mathml):
        raise ValueError(
            f"the formula {tex!r} keeps TeX after conversion to MathML ({leftover.group(0)}); "
            "rewrite it with commands latex2mathml knows"
        )
    return mathml
