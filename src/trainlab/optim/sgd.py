"""Stochastic gradient descent with momentum: the update of ``torch.optim.SGD``, written out.

Two code paths compute the same update, operation for operation as PyTorch does, so the results
agree bit for bit with ``torch.optim.SGD`` and with each other:

* ``_sgd_reference`` -- a plain loop over the parameters; read it beside the formulas in
  :class:`SGD`'s docstring.
* ``_sgd_foreach`` -- the fast path: the same steps on whole lists of tensors with
  ``torch._foreach_*`` ops, one list per (device, dtype), so a step costs a handful of kernel
  launches instead of a handful per parameter.

The optimizer state is ``state[p]["momentum_buffer"]`` as in PyTorch, so state dicts move both
ways between this class and ``torch.optim.SGD``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

__all__ = ["SGD"]


class SGD(torch.optim.Optimizer):
    r"""Stochastic gradient descent, optionally with momentum, weight decay and Nesterov momentum.

    For every parameter p with a gradient ∇f(p), each ``step()`` does (η = ``lr``,
    μ = ``momentum``, τ = ``dampening``, λ = ``weight_decay``)::

        g ← −∇f(p) if maximize else ∇f(p)
        g ← g + λ·p                          (weight decay; skipped when λ = 0)
        b ← g                   on the first step (a copy: b is state)   } momentum buffer;
        b ← μ·b + (1 − τ)·g     on later steps                          } skipped when μ = 0
        g ← g + μ·b  with Nesterov, else  g ← b
        p ← p − η·g

    This is PyTorch's convention: the buffer starts at the first gradient (not at zero, so
    dampening only acts from the second step on) and η multiplies the buffer, not the gradient
    inside it. With μ = 0 this is the textbook's SGD, x ← x − η∇fᵢ(x).

    Args:
        params: parameters or param groups (dicts), as for any ``torch.optim.Optimizer``.
        lr: learning rate η ≥ 0.
        momentum: μ ≥ 0.
        dampening: τ; the buffer adds (1 − τ)·g.
        weight_decay: λ ≥ 0, the L2 penalty λ/2·‖p‖² added to the objective.
        nesterov: use g + μ·b instead of b (needs μ > 0 and τ = 0).
        maximize: ascend f instead of descending it.
        foreach: True or None (the default): the multi-tensor fast path; False: the
            per-parameter reference loop. Both give identical results.

    Differences from ``torch.optim.SGD``: ``foreach=None`` means the fast path on every device
    (PyTorch loops per parameter on the CPU); ``differentiable=True`` and ``fused=True`` are
    refused with an error that says what to use instead (the signature is torch's, so wrappers
    that forward all of torch's arguments work); a NaN hyperparameter is rejected. Sparse
    gradients (``nn.Embedding(..., sparse=True)``) are updated as torch does, one parameter at
    a time. Parameters whose ``.grad`` is None are skipped, and ``.grad`` is never modified.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict[str, Any]],
        lr: float | Tensor = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float | Tensor = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        _check_hyperparameters(defaults)
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group; its own hyperparameters are checked like the constructor's, before
        the group is added."""
        where = f" in param group {len(self.param_groups)}"
        _check_hyperparameters({**self.defaults, **param_group}, where)
        super().add_param_group(param_group)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # load_state_dict and unpickling come through here: fill keys an older or foreign
        # (torch.optim.SGD) state dict may lack.
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient. ``closure``, if given, recomputes
        the loss (with gradients enabled) before the update; its return value is returned."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [p.grad for p in params]
            # Only touch self.state when there is momentum, as torch does, so that the state
            # dicts of the two optimizers hold the same entries.
            use_buffers = group["momentum"] != 0
            buffers = (
                [self.state[p].get("momentum_buffer") for p in params]
                if use_buffers
                else [None] * len(params)
            )
            # foreach ops take no sparse tensors: torch updates those one at a time as well
            loop = group["foreach"] is False or any(g.is_sparse for g in grads)
            update = _sgd_reference if loop else _sgd_foreach
            update(
                params,
                grads,
                buffers,
                lr=_as_scalar(group["lr"]),
                momentum=group["momentum"],
                dampening=group["dampening"],
                weight_decay=group["weight_decay"],
                nesterov=group["nesterov"],
                maximize=group["maximize"],
            )
            if use_buffers:
                for p, buffer in zip(params, buffers, strict=True):
                    self.state[p]["momentum_buffer"] = buffer
        return loss


def _as_scalar(value: float | Tensor) -> float | Tensor:
    """A 1-element tensor hyperparameter as a 0-d tensor (torch's ``_to_scalar``), so that
    ``alpha=-lr`` rounds exactly as in torch.optim.SGD."""
    return value.squeeze() if isinstance(value, Tensor) and value.dim() != 0 else value


def _check_hyperparameters(group: dict[str, Any], where: str = "") -> None:
    """torch.optim.SGD's checks with torch's messages (code and tests that match them keep
    working), each followed by what to do instead; NaN is refused too."""
    lr = group["lr"]
    if isinstance(lr, Tensor):
        if lr.numel() != 1:
            raise ValueError(
                f"Tensor lr must be 1-element{where}, got shape {tuple(lr.shape)}; "
                "pass a number or a tensor such as torch.tensor(0.01)"
            )
        if lr.requires_grad:
            raise ValueError(
                f"SGD: an lr tensor that requires grad{where} needs differentiable=True, which "
                "trainlab's SGD does not support; use torch.optim.SGD(..., differentiable=True)"
            )
    labels = {
        "lr": "learning rate",
        "momentum": "momentum value",
        "weight_decay": "weight_decay value",
    }
    for name, label in labels.items():
        raw = group[name]
        if not float(raw) >= 0:  # also catches NaN
            raise ValueError(
                f"Invalid {label}: {raw}; SGD: {name}={raw!r}{where} must be a number >= 0"
                + (" (to ascend, pass maximize=True)" if name == "lr" else "")
            )
    if math.isnan(group["dampening"]):
        raise ValueError(f"SGD: dampening=nan{where} is invalid; pass a number such as 0.0")
    if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
        raise ValueError(
            f"Nesterov momentum requires a momentum and zero dampening; SGD: nesterov=True{where} "
            f"needs momentum > 0 and dampening = 0, got momentum={group['momentum']!r} and "
            f"dampening={group['dampening']!r}; set momentum (e.g. 0.9) and dampening=0, or "
            "nesterov=False"
        )
    if group.get("differentiable"):
        raise ValueError(
            f"SGD: differentiable=True{where} is not supported: trainlab's SGD steps under "
            "torch.no_grad(). To differentiate through the update, use "
            "torch.optim.SGD(..., differentiable=True)"
        )
    if group.get("fused"):
        raise ValueError(
            f"SGD: fused=True{where} is not supported: trainlab's SGD has no fused kernel. "
            "foreach=None (the default) takes its multi-tensor path; for a fused kernel use "
            "torch.optim.SGD(..., fused=True)"
        )


def _sgd_reference(
    params: list[Tensor],
    grads: list[Tensor],
    buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    """The update of :class:`SGD`, one parameter at a time. New momentum buffers are written
    into ``buffers`` (existing ones are updated in place).

    Each line is one line of the formula; the ops are the ones torch.optim.SGD uses
    (``add(x, alpha=a)`` computes g + a·x in one rounding), so results match it bit for bit.
    """
    for i, (p, grad) in enumerate(zip(params, grads, strict=True)):
        g = -grad if maximize else grad  # g ← ±∇f(p)
        if weight_decay != 0:
            g = g.add(p, alpha=weight_decay)  # g ← g + λ·p
        if momentum != 0:
            b = buffers[i]
            if b is None:
                b = buffers[i] = g.detach().clone()  # b ← g (first step)
            else:
                b.mul_(momentum).add_(g, alpha=1 - dampening)  # b ← μ·b + (1 − τ)·g
            g = g.add(b, alpha=momentum) if nesterov else b  # g ← g + μ·b  |  g ← b
        p.add_(g, alpha=-lr)  # p ← p − η·g


def _sgd_foreach(
    params: list[Tensor],
    grads: list[Tensor],
    buffers: list[Tensor | None],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    weight_decay: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    """The update of :class:`SGD` on lists of tensors, one (device, dtype) bucket at a time
    (a ``torch._foreach_*`` op needs all its tensors on one device). Same arguments and results
    as :func:`_sgd_reference`."""
    for idx in _buckets(params):
        p = [params[i] for i in idx]
        g = [grads[i] for i in idx]
        # Until an op makes a new list, g *is* the .grad tensors: only ops that return new tensors
        # may touch it. `owned` says when in-place ops on g are safe (and save an allocation).
        owned = False
        if maximize:
            g, owned = torch._foreach_neg(g), True  # g ← −∇f(p)
        if weight_decay != 0:
            if owned:
                torch._foreach_add_(g, p, alpha=weight_decay)  # g ← g + λ·p
            else:
                g, owned = torch._foreach_add(g, p, alpha=weight_decay), True
        if momentum != 0:
            b = [buffers[i] for i in idx]
            if all(t is not None for t in b):
                torch._foreach_mul_(b, momentum)  # b ← μ·b
                torch._foreach_add_(b, g, alpha=1 - dampening)  # b ← b + (1 − τ)·g
            else:  # first step (or a parameter that had no gradient until now)
                for j, i in enumerate(idx):
                    if b[j] is None:
                        b[j] = buffers[i] = g[j].detach().clone()  # b ← g
                    else:
                        b[j].mul_(momentum).add_(g[j], alpha=1 - dampening)
            if not nesterov:
                g = b  # g ← b
            elif owned:
                torch._foreach_add_(g, b, alpha=momentum)  # g ← g + μ·b
            else:
                g = torch._foreach_add(g, b, alpha=momentum)
        torch._foreach_add_(p, g, alpha=-lr)  # p ← p − η·g


def _buckets(params: list[Tensor]) -> list[list[int]]:
    """Indices of ``params`` grouped by (device, dtype), in order of first appearance."""
    buckets: dict[tuple[torch.device, torch.dtype], list[int]] = {}
    for i, p in enumerate(params):
        buckets.setdefault((p.device, p.dtype), []).append(i)
    return list(buckets.values())
