"""Fold batch normalization into the convolution or linear layer before it, for inference.

In prediction mode BN is a per-channel affine map with constants, so after a conv or linear
layer it can be merged into that layer's weights:

    scale = γ / sqrt(running_var + ε)
    W'    = W · scale            (per output channel)
    b'    = (b − running_mean) · scale + β

and the BN disappears, saving one pass over the activations. A BN whose input is not the
output of a conv/linear layer used nowhere else (e.g. BN → ReLU → conv in DenseNet) stays.
"""

from __future__ import annotations

import copy

import torch
from torch import fx, nn
from torch.nn.modules.batchnorm import _BatchNorm

from trainlab.nn.batchnorm import BatchNorm

__all__ = ["fuse_batch_norm"]

_NORMS = (BatchNorm, _BatchNorm)
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


def fuse_batch_norm(model: nn.Module) -> fx.GraphModule:
    """An inference copy of ``model`` (``model`` itself is untouched) in which every BN that
    directly follows a conv or linear layer is folded into that layer and removed.

    The model must be in prediction mode (``model.eval()``), since only then is BN a fixed affine
    map. The copy is a ``torch.fx.GraphModule`` with the same submodule names, computing the same
    function as the eval-mode model up to float rounding. BNs without running statistics, BNs
    after a layer whose output is also used elsewhere, and BNs after any other operation stay.
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
    modules = dict(fused.named_modules())
    calls = {}
    for node in fused.graph.nodes:
        if node.op == "call_module":
            calls[node.target] = calls.get(node.target, 0) + 1
    for node in list(fused.graph.nodes):
        norm = modules.get(node.target) if node.op == "call_module" else None
        if not isinstance(norm, _NORMS) or norm.running_mean is None:
            continue
        producer = node.args[0]
        if not (isinstance(producer, fx.Node) and producer.op == "call_module"):
            continue
        layer = modules[producer.target]
        if (
            isinstance(layer, _FOLDABLE)
            and len(producer.users) == 1
            and calls[producer.target] == 1  # a layer called twice shares its weights
            and _out_features(layer) == norm.num_features
        ):
            _fold(layer, norm)
            node.replace_all_uses_with(producer)
            fused.graph.erase_node(node)
    fused.graph.lint()
    fused.delete_all_unused_submodules()
    fused.recompile()
    return fused
