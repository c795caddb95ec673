"""Fold batch normalization into the convolution or linear layer before it, for inference.

In prediction mode BN is a per-channel affine map with constants, so after a conv or linear
layer it can be merged into that layer's weights:

    scale = γ / sqrt(running_var + ε)
    W'    = W · scale            (per output channel)
    b'    = (b − running_mean) · scale + β

and the BN disappears, saving one pass over the activations. A BN whose input is not the
output of a conv/linear layer used nowhere else (e.g. BN → ReLU → conv in DenseNet) stays, and
so does one that normalizes another dimension than the layer's output features (a Linear on
(N, L, F) input followed by BatchNorm1d(L)).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field

import torch
from torch import Tensor, fx, nn
from torch.fx.passes.shape_prop import ShapeProp
from torch.nn.modules.batchnorm import _BatchNorm

from trainlab.nn.batchnorm import BatchNorm
from trainlab.nn.freeze import FrozenBatchNorm

__all__ = ["FusionReport", "fuse_batch_norm"]

_NORMS = (BatchNorm, _BatchNorm, FrozenBatchNorm)
_FOLDABLE = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


class _BatchNormAsLeafTracer(fx.Tracer):
    """Keeps every BN module as one call in the graph, whatever its forward does inside."""

    def is_leaf_module(self, m: nn.Module, qualified_name: str) -> bool:
        return isinstance(m, _NORMS) or super().is_leaf_module(m, qualified_name)


@torch.no_grad()
def _fold(layer: nn.Module, norm: nn.Module) -> None:
    """Fold ``norm``'s prediction-mode affine map into ``layer`` in place (computed in float64)."""
    weight = layer.weight.double()
    scale = torch.rsqrt(norm.running_var.double() + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight.double()
    shift = -norm.running_mean.double() * scale
    if layer.bias is not None:
        shift = shift + layer.bias.double() * scale
    if norm.bias is not None:
        shift = shift + norm.bias.double()
    layer.weight.copy_(weight * scale.view(-1, *([1] * (weight.dim() - 1))))
    if layer.bias is None:
        layer.bias = nn.Parameter(layer.weight.new_empty(layer.weight.shape[0]))
    layer.bias.copy_(shift)


def _out_features(layer: nn.Module) -> int:
    return layer.out_features if isinstance(layer, nn.Linear) else layer.out_channels


@dataclass
class FusionReport:
    """What :func:`fuse_batch_norm` did: ``folded`` lists (BN, layer) name pairs, ``kept`` maps
    each BN that directly follows a conv/linear layer but stayed to the reason why."""

    folded: list[tuple[str, str]] = field(default_factory=list)
    kept: dict[str, str] = field(default_factory=dict)


def _why_not(layer: nn.Module, producer: fx.Node, norm: nn.Module, calls: int) -> str | None:
    """None when ``norm`` provably normalizes ``layer``'s output features; else the reason."""
    if len(producer.users) != 1:
        return "the layer's output is also used elsewhere, which needs it unnormalized"
    if calls != 1:
        return "the layer is called more than once (its weights are shared)"
    if _out_features(layer) != norm.num_features:
        return f"the layer has {_out_features(layer)} outputs but the BN {norm.num_features}"
    if isinstance(layer, nn.Linear):
        # BN normalizes dimension 1, which is the Linear's output-feature dimension only for
        # (N, F) input: on (N, L, F) it is L, and folding would be silently wrong when L == F.
        meta = producer.meta.get("tensor_meta")
        if meta is None:
            return (
                "a Linear's output features are BN's dimension 1 only for 2-D input; pass "
                "example_input= so the shapes can be traced"
            )
        if len(meta.shape) != 2:
            return (
                f"the Linear's output has shape {tuple(meta.shape)}: BN normalizes dimension 1, "
                "not the Linear's output features (the last dimension)"
            )
    return None


def fuse_batch_norm(model: nn.Module, example_input: Tensor | None = None) -> fx.GraphModule:
    """An inference copy of ``model`` (``model`` itself is untouched) in which every BN that
    provably normalizes the output features of the conv or linear layer before it is folded
    into that layer and removed.

    The model must be in prediction mode (``model.eval()``), since only then is BN a fixed affine
    map. A conv's output channels are always BN's dimension 1; a Linear's output features are
    only for 2-D input, so Linear + BN folds only when ``example_input`` (one input batch) lets
    the shapes be traced. The copy is a ``torch.fx.GraphModule`` with the same submodule names,
    computing the same function as the eval-mode model up to float rounding; its
    ``fusion_report`` (a :class:`FusionReport`) lists what was folded and why any BN after a
    conv/linear layer stayed, and a warning names those. BNs without running statistics and BNs
    after any other operation stay.
    """
    training = [name or type(model).__name__ for name, m in model.named_modules() if m.training]
    if training:
        raise ValueError(
            f"fuse_batch_norm folds running statistics, so the model must be in prediction mode, "
            f"but {training[0]!r} is training; call model.eval() first"
        )
    copied = copy.deepcopy(model)
    graph = _BatchNormAsLeafTracer().trace(copied)
    fused = fx.GraphModule(copied, graph, class_name=f"Fused{type(model).__name__}")
    if example_input is not None:
        with torch.no_grad():
            ShapeProp(fused).propagate(example_input)
    modules = dict(fused.named_modules())
    calls = {}
    for node in fused.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    report = FusionReport()
    for node in list(fused.graph.nodes):
        norm = modules.get(node.target) if node.op == "call_module" else None
        if not isinstance(norm, _NORMS) or norm.running_mean is None:
            continue
        producer = node.args[0]
        if not (isinstance(producer, fx.Node) and producer.op == "call_module"):
            continue
        layer = modules[producer.target]
        if not isinstance(layer, _FOLDABLE):
            continue
        reason = _why_not(layer, producer, norm, calls[producer.target])
        if reason is not None:
            report.kept[node.target] = reason
            continue
        _fold(layer, norm)
        node.replace_all_uses_with(producer)
        fused.graph.erase_node(node)
        report.folded.append((node.target, producer.target))
    fused.graph.lint()
    fused.delete_all_unused_submodules()
    fused.recompile()
    fused.fusion_report = report
    if report.kept:
        kept = "; ".join(f"{name}: {why}" for name, why in report.kept.items())
        warnings.warn(f"fuse_batch_norm kept {len(report.kept)} BN layer(s): {kept}", stacklevel=2)
    return fused
