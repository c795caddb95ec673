"""Checkpoints without pickle, in one file that is never torn.

A checkpoint is one safetensors file: the tensors of a nested state (model, optimizer, RNG, …)
under their paths, and in the file's metadata the JSON rest of the state (epoch, history,
settings) with a SHA-256 over both — the tensors' bytes as written and the JSON. The file is
written by :func:`trainlab._io.atomic_write`; before it replaces ``NAME.safetensors`` the
previous checkpoint becomes ``NAME.prev.safetensors``, so a kill at any point leaves at least
one complete checkpoint, and :func:`load_checkpoint` falls back to the previous one (saying so)
when the newest is missing or damaged. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import Tensor

from trainlab._io import atomic_write_bytes

__all__ = [
    "CheckpointError",
    "load_checkpoint",
    "previous_path",
    "save_checkpoint",
    "split_tensors",
]

FORMAT = "trainlab-checkpoint-2"


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged, or does not fit the run that loads it."""


def checkpoint_path(path: str | Path) -> Path:
    """``path`` as a checkpoint file: NAME (or NAME.safetensors) -> NAME.safetensors."""
    path = Path(path)
    return path if path.suffix == ".safetensors" else path.with_name(path.name + ".safetensors")


def previous_path(path: str | Path) -> Path:
    """Where the checkpoint before ``path`` is kept: NAME.prev.safetensors."""
    path = checkpoint_path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def split_tensors(tree: Any, prefix: str, tensors: dict[str, Tensor]) -> Any:
    """Move every tensor of a nested dict/list into ``tensors`` (keyed by its path) and return
    the JSON-able rest, with {"__tensor__": key} where each tensor was (dicts and tuples are
    tagged too, so that integer keys and tuples come back as they were)."""
    if isinstance(tree, Tensor):
        tensors[prefix] = tree.detach().cpu().contiguous().clone()
        return {"__tensor__": prefix}
    if isinstance(tree, dict):
        return {
            "__dict__": [[k, split_tensors(v, f"{prefix}.{k}", tensors)] for k, v in tree.items()]
        }
    if isinstance(tree, (list, tuple)):
        items = [split_tensors(v, f"{prefix}.{i}", tensors) for i, v in enumerate(tree)]
        return {"__tuple__": items} if isinstance(tree, tuple) else items
    return tree


def _join_tensors(tree: Any, tensors: dict[str, Tensor]) -> Any:
    if isinstance(tree, dict) and "__tensor__" in tree:
        return tensors[tree["__tensor__"]]
    if isinstance(tree, dict) and "__tuple__" in tree:
        return tuple(_join_tensors(v, tensors) for v in tree["__tuple__"])
    if isinstance(tree, dict) and "__dict__" in tree:  # keys keep their type (int state keys)
        return {k: _join_tensors(v, tensors) for k, v in tree["__dict__"]}
    if isinstance(tree, list):
        return [_join_tensors(v, tensors) for v in tree]
    return tree


def _digest(tensors: dict[str, Tensor], document: str) -> str:
    """SHA-256 over every tensor (name, dtype, shape, bytes, in name order) and the JSON."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name]
        digest.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        digest.update(memoryview(t.contiguous().reshape(-1).view(torch.uint8).numpy()))
    digest.update(document.encode())
    return digest.hexdigest()


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save a nested dict of tensors, numbers, strings, lists and dicts as one file ``path``
    (NAME.safetensors), keeping the checkpoint it replaces as NAME.prev.safetensors."""
    tensors: dict[str, Tensor] = {}
    document = json.dumps({"format": FORMAT, "state": split_tensors(state, "state", tensors)})
    data = save_tensors(
        tensors, metadata={"trainlab": document, "sha256": _digest(tensors, document)}
    )
    path = checkpoint_path(path)
    if path.exists():
        os.replace(path, previous_path(path))  # the last good one stays until the new is in place
    atomic_write_bytes(path, data)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = path.read_bytes()
        tensors = load_tensors(data)
        # safetensors: an 8-byte little-endian header length, then the JSON header
        header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
        metadata = header.get("__metadata__") or {}
    except (SafetensorError, OSError, ValueError, AttributeError) as err:
        raise CheckpointError(f"{path} is not a readable checkpoint ({err})") from None
    document = metadata.get("trainlab")
    if document is None or metadata.get("sha256") != _digest(tensors, document):
        raise CheckpointError(
            f"{path} fails its SHA-256 check: the file is damaged or was not written by trainlab"
        )
    parsed = json.loads(document)
    if not isinstance(parsed, dict) or parsed.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} file")
    bad = [
        name
        for name, t in tensors.items()
        if t.is_floating_point() and not bool(torch.isfinite(t).all())
    ]
    if bad:
        raise CheckpointError(
            f"{path} holds non-finite values in {bad[0]}"
            + (f" and {len(bad) - 1} more tensors" if len(bad) > 1 else "")
            + ": it comes from a run that diverged; resume from an earlier checkpoint or start over"
        )
    return _join_tensors(parsed["state"], tensors)


def checkpoint_exists(path: str | Path) -> bool:
    """Whether a checkpoint (the newest or the previous one) is at ``path``."""
    return checkpoint_path(path).is_file() or previous_path(path).is_file()


def load_checkpoint(path: Path, log=None) -> dict[str, Any]:
    """Load what :func:`save_checkpoint` saved at ``path``, verified; when it is missing or
    damaged and the previous checkpoint is good, that one (a line on ``log`` says so)."""
    path = checkpoint_path(path)
    previous = previous_path(path)
    if not path.is_file() and not previous.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        return _read(path)
    except CheckpointError as err:
        if not previous.is_file():
            raise
        state = _read(previous)
        if log is not None:
            log.write(f"trainlab: {err}; using the previous checkpoint {previous}\n")
        return state
