"""The data an interactive figure redraws from: the sweep's series as trainlab computed them
(rounded to what a plot can show, non-finite values dropped so the JSON is valid), the labels of
the parameter values, the captions in the page's language, and the sweep's background curve
sampled here, in Python — the page's script only scales and draws points, it computes nothing.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from typing import Any

from trainlab.report.i18n import Lang
from trainlab.report.numbers import short

__all__ = ["curve_points", "sweep_data"]

_SAMPLES = 241
_FUNCTIONS: dict[str, Callable[[float], float]] = {
    name: getattr(math, name)
    for name in ("sin", "cos", "tan", "exp", "log", "sqrt", "sinh", "cosh", "tanh")
}
_FUNCTIONS["abs"] = abs
_CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def _compile(expression: str) -> Callable[[float], float]:
    """``expression`` in x (``"x*cos(0.15*pi*x)"``) as a function, accepting only arithmetic,
    pi, e and the functions of :data:`_FUNCTIONS` — never ``eval``."""
    try:
        tree = ast.parse(expression, mode="eval").body
    except SyntaxError as error:
        raise ValueError(
            f"the sweep's curve {expression!r} is not an expression: {error}"
        ) from None

    def build(node: ast.AST) -> Callable[[float], float]:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            value = float(node.value)
            return lambda x: value
        if isinstance(node, ast.Name) and node.id == "x":
            return lambda x: x
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            constant = _CONSTANTS[node.id]
            return lambda x: constant
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = build(node.operand)
            sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
            return lambda x: sign * operand(x)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            operator, left, right = _BINARY[type(node.op)], build(node.left), build(node.right)
            return lambda x: operator(left(x), right(x))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and len(node.args) == 1
            and not node.keywords
        ):
            function, argument = _FUNCTIONS[node.func.id], build(node.args[0])
            return lambda x: function(argument(x))
        raise ValueError(
            f"the sweep's curve {expression!r} uses {ast.unparse(node)!r}; only arithmetic in x, "
            f"pi, e and {', '.join(_FUNCTIONS)} are drawn"
        )

    return build(tree)


def _plain(value: Any) -> float | None:
    """A coordinate as JSON can hold it, to 7 significant digits (enough for any plot)."""
    if value is None:
        return None
    number = float(value)
    return float(f"{number:.7g}") if math.isfinite(number) else None


def curve_points(expression: str, lo: float, hi: float, log: bool) -> dict[str, list]:
    """The curve y = expression(x) sampled over [lo, hi] (evenly in log x when ``log``)."""
    function = _compile(expression)
    if log:
        if lo <= 0 or hi <= 0:
            raise ValueError(f"a log x axis needs positive limits, not [{lo}, {hi}]")
        a, b = math.log10(lo), math.log10(hi)
        xs = [10 ** (a + (b - a) * i / (_SAMPLES - 1)) for i in range(_SAMPLES)]
    else:
        xs = [lo + (hi - lo) * i / (_SAMPLES - 1) for i in range(_SAMPLES)]
    ys: list[float | None] = []
    for x in xs:
        try:
            ys.append(_plain(function(x)))
        except (ArithmeticError, ValueError):  # outside the function's domain: a gap
            ys.append(None)
    return {"x": [_plain(x) for x in xs], "y": ys}


def sweep_data(sweep: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """What the page's script needs for one sweep, in ``lang``. Raises ValueError when the
    sweep is malformed (a series per value, each with lines of equal-length x and y)."""
    values, series, axes = sweep["values"], sweep["series"], sweep["axes"]
    if len(values) != len(series) or not series:
        raise ValueError(
            f"a sweep needs one series per value: {len(values)} values, {len(series)} series"
        )
    lines = []
    for one in series:
        drawn = []
        for line in one["lines"]:
            if len(line["x"]) != len(line["y"]):
                raise ValueError("a sweep line needs as many x as y values")
            drawn.append({"x": [_plain(v) for v in line["x"]], "y": [_plain(v) for v in line["y"]]})
        lines.append(drawn)
    log_x, log_y = axes.get("xscale") == "log", axes.get("yscale") == "log"
    curve = axes.get("curve")
    return {
        "parameter": sweep["parameter"][lang],
        "labels": [short(v) for v in values],
        "captions": [one["caption"][lang] for one in series],
        "series": lines,
        "x": [float(v) for v in axes["x"]],
        "y": [float(v) for v in axes["y"]],
        "logx": log_x,
        "logy": log_y,
        "curve": curve_points(curve, *map(float, axes["x"]), log_x) if curve else None,
    }
