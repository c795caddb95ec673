"""Checkpoints without pickle: every tensor in a safetensors file, everything else in JSON.

A checkpoint is two files, ``NAME.safetensors`` and ``NAME.json``. Each is written to a temporary
file and renamed into place, the tensors first; the JSON records the SHA-256 of the tensor file,
so a pair that does not belong together (a crash between the two renames) is detected on load.
Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from safetensors.torch import load_file, save_file
from torch import Tensor

__all__ = ["CheckpointError", "load_checkpoint", "save_checkpoint", "split_tensors"]

FORMAT = "trainlab-checkpoint-1"


class CheckpointError(ValueError):
    """A checkpoint is missing, damaged, or does not fit the run that loads it."""


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        with open(temporary, "rb") as file:
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)  # mkstemp's files are private; keep the usual permissions
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


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


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Save a nested dict of tensors, numbers, strings, lists and dicts as ``path``.safetensors
    plus ``path``.json, atomically."""
    tensors: dict[str, Tensor] = {}
    rest = split_tensors(state, "state", tensors)
    tensor_path, json_path = path.with_suffix(".safetensors"), path.with_suffix(".json")
    _atomic_write(tensor_path, lambda p: save_file(tensors, str(p)))
    digest = hashlib.sha256(tensor_path.read_bytes()).hexdigest()
    document = {"format": FORMAT, "tensors_sha256": digest, "state": rest}
    _atomic_write(json_path, lambda p: p.write_text(json.dumps(document, indent=1)))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Load what :func:`save_checkpoint` saved, verifying the pair belongs together."""
    tensor_path, json_path = path.with_suffix(".safetensors"), path.with_suffix(".json")
    if not json_path.is_file() or not tensor_path.is_file():
        raise CheckpointError(
            f"no checkpoint at {path} (expected {json_path.name} and {tensor_path.name})"
        )
    try:
        document = json.loads(json_path.read_text())
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{json_path} is not valid JSON ({err})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(f"{json_path} is not a {FORMAT} file")
    digest = hashlib.sha256(tensor_path.read_bytes()).hexdigest()
    if digest != document["tensors_sha256"]:
        raise CheckpointError(
            f"{tensor_path} does not match {json_path} (SHA-256 differs): the checkpoint is "
            "damaged or half-written; delete both files to start over"
        )
    return _join_tensors(document["state"], load_file(str(tensor_path)))
