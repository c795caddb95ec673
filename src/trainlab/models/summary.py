"""A layer-by-layer walk of an input through a network: the book's
``for layer in net: X = layer(X); print(name, 'output shape:', X.shape)``, with parameter counts."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["LayerSummary", "format_summary", "summarize"]


@dataclass(frozen=True)
class LayerSummary:
    name: str  # dotted module name, e.g. "resnet_block2" or "layer1.0"
    kind: str  # class name
    output_shape: tuple[int, ...]
    num_params: int


@torch.no_grad()
def summarize(
    model: nn.Module, input_shape: tuple[int, ...], depth: int = 1, **tensor_kwargs
) -> list[LayerSummary]:
    """Run one input of ``input_shape`` through ``model`` (in prediction mode, restored after) and
    record every module ``depth`` levels below the top (and every shallower leaf, so that the
    rows cover all parameters): its output shape and parameter count.

    ``summarize(book_resnet18(), (1, 1, 224, 224))`` gives the book's walk: (1, 64, 112, 112)
    after the stem conv, ..., (1, 512, 7, 7) after the last stage, (1, 10) at the end:

    >>> from trainlab.models import book_resnet18
    >>> rows = summarize(book_resnet18(), (1, 1, 224, 224))
    >>> rows[0].output_shape, rows[7].name, rows[7].output_shape, rows[-1].output_shape
    ((1, 64, 112, 112), 'resnet_block4', (1, 512, 7, 7), (1, 10))
    >>> sum(r.num_params for r in rows)
    11178378
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    rows: list[LayerSummary] = []
    hooks = []
    for name, module in model.named_modules():
        level = name.count(".") + 1
        is_leaf = next(module.children(), None) is None
        if name and (level == depth or (level < depth and is_leaf)):

            def record(m, _inputs, output, name=name):
                rows.append(
                    LayerSummary(
                        name,
                        type(m).__name__,
                        tuple(output.shape),
                        sum(p.numel() for p in m.parameters()),
                    )
                )

            hooks.append(module.register_forward_hook(record))
    modes = {m: m.training for m in model.modules()}
    try:
        model.eval()
        model(torch.zeros(input_shape, **tensor_kwargs))
    finally:
        for hook in hooks:
            hook.remove()
        for m, training in modes.items():
            m.training = training
    return rows


def format_summary(rows: list[LayerSummary]) -> str:
    """A table of ``rows`` with a total parameter count, for printing."""
    lines = [f"{'layer':<24}{'type':<20}{'output shape':<24}{'params':>12}"]
    for r in rows:
        lines.append(f"{r.name:<24}{r.kind:<20}{r.output_shape!s:<24}{r.num_params:>12,}")
    lines.append(f"{'total':<68}{sum(r.num_params for r in rows):>12,}")
    return "\n".join(lines)
