"""The IDX format of (Fashion-)MNIST: a big-endian header — two zero bytes, a type code (0x08 for
unsigned bytes), the number of dimensions — then one 4-byte size per dimension, then the data.
Files may be gzip-compressed."""

from __future__ import annotations

import gzip
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["IDX_IMAGES", "IDX_LABELS", "read_idx", "write_idx"]

IDX_LABELS = 2049  # 0x00000801: unsigned bytes, 1 dimension
IDX_IMAGES = 2051  # 0x00000803: unsigned bytes, 3 dimensions


def _raw(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (EOFError, OSError) as err:
            raise ValueError(f"{path} is a truncated or corrupt gzip file ({err})") from None
    return data


def read_idx(path: Path, expected_magic: int | None = None) -> Tensor:
    """An IDX file of unsigned bytes as a uint8 tensor, checking the magic number, the dimension
    sizes and that the data has exactly the size the header promises."""
    data = _raw(path)
    if len(data) < 4:
        raise ValueError(f"{path} is too short to be an IDX file ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic not in (IDX_LABELS, IDX_IMAGES) or (expected_magic and magic != expected_magic):
        want = expected_magic or f"{IDX_LABELS} or {IDX_IMAGES}"
        raise ValueError(f"{path} has IDX magic number {magic}, expected {want}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} ends inside its IDX header")
    shape = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = header + int(torch.tensor(shape).prod())
    if len(data) != expected:
        raise ValueError(
            f"{path} holds {len(data) - header} data bytes but its header promises shape "
            f"{shape} ({expected - header} bytes): the file is truncated or corrupt"
        )
    return torch.frombuffer(bytearray(data[header:]), dtype=torch.uint8).reshape(shape)


def write_idx(path: Path, tensor: Tensor, compress: bool = True) -> None:
    """Write a uint8 tensor of 1 or 3 dimensions as IDX (used to make test files)."""
    if tensor.dtype != torch.uint8 or tensor.dim() not in (1, 3):
        raise ValueError("write_idx takes a uint8 tensor of 1 (labels) or 3 (images) dimensions")
    magic = IDX_LABELS if tensor.dim() == 1 else IDX_IMAGES
    header = magic.to_bytes(4, "big") + b"".join(s.to_bytes(4, "big") for s in tensor.shape)
    data = header + tensor.contiguous().numpy().tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)
