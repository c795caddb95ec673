"""Numbers as people read them: the book's precision where the ledger records one, else six
significant digits with powers of ten written out; shapes and points as tuples. The page puts
the full value (:func:`full`) on hover, and results.json keeps it too."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["full", "parts", "short"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
# a longer list (a whole curve) is elided in the middle: the page is for reading, not for data
_LONGEST = 12


def _scalar(value: Any, decimals: int | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, (bool, str)):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("∞" if value > 0 else "-∞")
    if decimals is not None:
        return f"{round(value, decimals) + 0.0:.{decimals}f}"  # + 0.0: no "-0.00"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e15:
        return _scalar(int(value), None)
    text = f"{value:.6g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _flat(values: list[Any], decimals: int | None) -> list[str]:
    texts = [short(v, decimals) for v in values]
    if len(texts) > _LONGEST:
        texts = [*texts[:8], "…", *texts[-2:]]
    return texts


def parts(value: Any, decimals: int | None = None) -> list[str]:
    """``value`` split where a line may break: one text per element of a list of shapes or
    points (each a tuple), a single text otherwise."""
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        return [short(v, decimals) for v in value]
    return [short(value, decimals)]


def short(value: Any, decimals: int | None = None) -> str:
    """The readable text of a number, a list of numbers (a tuple: ``(4, 3, 6, 6)``) or a list
    of lists; ``decimals`` fixes the digits after the point as the book prints them."""
    if isinstance(value, list):
        inner = ", ".join(_flat(value, decimals))
        suffix = f"; n = {len(value)}" if len(value) > _LONGEST else ""
        return f"({inner}{suffix})"
    return _scalar(value, decimals)


def full(value: Any) -> str:
    """The value at full precision (shortest repr that round-trips), for the hover text."""
    return json.dumps(value, ensure_ascii=False)
