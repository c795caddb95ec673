"""The NASA airfoil self-noise data (Brooks, Pope & Marcolini 1989; UCI, CC BY 4.0), prepared as
the book's minibatch-SGD experiment does.

1503 rows of 6 tab-separated numbers: frequency, angle of attack, chord length, free-stream
velocity, suction-side displacement thickness, and the target, the scaled sound pressure level
in dB. Every column, the target included, is standardized with the mean and the *population*
standard deviation over all 1503 rows; then the first 1500 rows are kept.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

__all__ = ["AIRFOIL_FILE", "AIRFOIL_SHA1", "RegressionData", "find_data_file", "load_airfoil"]

AIRFOIL_FILE = "airfoil_self_noise.dat"
AIRFOIL_SHA1 = "76e5be1548fd8222e5074cf0faae75edff8cf93f"
DATA_DIR_ENV = "TRAINLAB_DATA_DIR"


@dataclass(frozen=True)
class RegressionData:
    features: Tensor  # (n, d) float32
    targets: Tensor  # (n,) float32
    source: str  # where the numbers came from, for every result that uses them


def sha1_of(path: Path) -> str:
    digest = hashlib.sha1()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_data_file(name: str, data_dir: str | Path | None = None) -> Path | None:
    """``name`` in ``data_dir``, in a ``name``-free subfolder of it (``data_dir/airfoil/``), or
    under $TRAINLAB_DATA_DIR the same way; None when it is nowhere."""
    roots = [Path(p) for p in (data_dir, os.environ.get(DATA_DIR_ENV)) if p]
    for root in roots:
        for candidate in (root / name, *sorted(root.glob(f"*/{name}"))):
            if candidate.is_file():
                return candidate
    return None


def load_airfoil(data_dir: str | Path | None = None, rows: int = 1500) -> RegressionData:
    """Read, verify (SHA-1) and standardize the airfoil data from ``data_dir`` (or
    $TRAINLAB_DATA_DIR). Raises FileNotFoundError naming where it looked, and ValueError for a
    file whose checksum or contents are wrong."""
    path = find_data_file(AIRFOIL_FILE, data_dir)
    if path is None:
        looked = [str(p) for p in (data_dir, os.environ.get(DATA_DIR_ENV)) if p] or ["nowhere"]
        raise FileNotFoundError(
            f"{AIRFOIL_FILE} not found (looked in: {', '.join(looked)}); pass data_dir= or set "
            f"{DATA_DIR_ENV} to a folder that holds it"
        )
    digest = sha1_of(path)
    if digest != AIRFOIL_SHA1:
        raise ValueError(
            f"{path} has SHA-1 {digest}, expected {AIRFOIL_SHA1}: the file is corrupt or a "
            "different version; delete it and fetch the original"
        )
    table = parse_table(path.read_text(), columns=6)
    data = (table - table.mean(dim=0)) / table.std(dim=0, unbiased=False)
    data = data[:rows].float()
    return RegressionData(data[:, :-1], data[:, -1], f"airfoil self-noise ({path})")


def parse_table(text: str, columns: int) -> Tensor:
    """Whitespace-separated numbers, ``columns`` per line, as a float64 (rows, columns) tensor."""
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != columns:
            raise ValueError(f"line {number} has {len(fields)} fields, expected {columns}")
        try:
            values.append([float(v) for v in fields])
        except ValueError:
            raise ValueError(f"line {number} holds a non-number: {line.strip()!r}") from None
    return torch.tensor(values, dtype=torch.float64)
