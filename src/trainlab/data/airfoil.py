"""The NASA airfoil self-noise data (Brooks, Pope & Marcolini 1989; UCI, CC BY 4.0), prepared as
the book's minibatch-SGD experiment does.

1503 rows of 6 tab-separated numbers: frequency, angle of attack, chord length, free-stream
velocity, suction-side displacement thickness, and the target, the scaled sound pressure level
in dB. Every column, the target included, is standardized with the mean and the *population*
standard deviation over all 1503 rows; then the first 1500 rows are kept.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch
from torch import Tensor

from trainlab.data.download import cache_dir as cache_dir_for
from trainlab.data.download import checksum
from trainlab.data.download import download as fetch

__all__ = [
    "AIRFOIL_FILE",
    "AIRFOIL_SHA1",
    "RegressionData",
    "diabetes_fallback",
    "find_data_file",
    "load_airfoil",
]

AIRFOIL_FILE = "airfoil_self_noise.dat"
AIRFOIL_SHA1 = "76e5be1548fd8222e5074cf0faae75edff8cf93f"
AIRFOIL_URL = "http://d2l-data.s3-accelerate.amazonaws.com/airfoil_self_noise.dat"
DATA_DIR_ENV = "TRAINLAB_DATA_DIR"


@dataclass(frozen=True)
class RegressionData:
    features: Tensor  # (n, d) float32
    targets: Tensor  # (n,) float32
    source: str  # where the numbers came from, for every result that uses them


def find_data_file(name: str, data_dir: str | Path | None = None) -> Path | None:
    """``name`` in ``data_dir``, in a ``name``-free subfolder of it (``data_dir/airfoil/``), or
    under $TRAINLAB_DATA_DIR the same way; None when it is nowhere."""
    roots = [Path(p) for p in (data_dir, os.environ.get(DATA_DIR_ENV)) if p]
    for root in roots:
        for candidate in (root / name, *sorted(root.glob(f"*/{name}"))):
            if candidate.is_file():
                return candidate
    return None


def load_airfoil(
    data_dir: str | Path | None = None,
    rows: int = 1500,
    cache_dir: str | Path | None = None,
    download: bool = True,
    fallback: bool = False,
    progress: TextIO | None = sys.stderr,
) -> RegressionData:
    """Read, verify (SHA-1) and standardize the airfoil data, found like Fashion-MNIST: in
    ``data_dir`` (or $TRAINLAB_DATA_DIR), in the cache, or downloaded into the cache.

    Raises FileNotFoundError saying where it looked (unless ``fallback``: then scikit-learn's
    bundled diabetes data stands in, announced in one line and in ``source``) and ValueError for
    a file whose checksum or contents are wrong.
    """
    path = find_data_file(AIRFOIL_FILE, data_dir)
    cached = cache_dir_for(cache_dir) / "airfoil" / AIRFOIL_FILE
    if path is None and cached.is_file() and checksum(cached, "sha1") == AIRFOIL_SHA1:
        path = cached
    failure = ""
    if path is None and download:
        try:
            path = fetch(AIRFOIL_URL, cached, AIRFOIL_SHA1, "sha1", progress=progress)
        except (OSError, ValueError) as err:
            failure = f"; download failed: {err}"
    if path is None:
        looked = [str(p) for p in (data_dir, os.environ.get(DATA_DIR_ENV)) if p]
        reason = (
            f"{AIRFOIL_FILE} not found (looked in: {', '.join([*looked, str(cached)])}){failure}"
        )
        if fallback:
            if progress is not None:
                progress.write(
                    f"trainlab: {reason}; using the fallback scikit-learn diabetes data instead\n"
                )
            return diabetes_fallback(reason)
        raise FileNotFoundError(
            f"{reason}; pass data_dir= or set {DATA_DIR_ENV} to a folder that holds it, or "
            "allow fallback=True"
        )
    digest = checksum(path, "sha1")
    if digest != AIRFOIL_SHA1:
        raise ValueError(
            f"{path} has SHA-1 {digest}, expected {AIRFOIL_SHA1}: the file is corrupt or a "
            "different version; delete it and fetch the original"
        )
    return standardized(
        parse_table(path.read_text(), columns=6), rows, f"airfoil self-noise ({path})"
    )


def standardized(table: Tensor, rows: int, source: str) -> RegressionData:
    """The book's preparation: every column (target last) z-scored with the mean and population
    std over all rows, then the first ``rows`` rows kept, as float32."""
    data = (table - table.mean(dim=0)) / table.std(dim=0, unbiased=False)
    data = data[:rows].float()
    return RegressionData(data[:, :-1], data[:, -1], source)


def diabetes_fallback(reason: str = "") -> RegressionData:
    """scikit-learn's bundled diabetes data (442 patients, 10 features, disease progression),
    prepared the same way: a real regression set that needs no network."""
    try:
        from sklearn.datasets import load_diabetes
    except ImportError:
        raise FileNotFoundError(
            f"no data: {reason}; and the fallback needs scikit-learn (pip install scikit-learn)"
        ) from None
    bunch = load_diabetes()
    table = torch.cat(
        [
            torch.tensor(bunch.data, dtype=torch.float64),
            torch.tensor(bunch.target, dtype=torch.float64).unsqueeze(1),
        ],
        dim=1,
    )
    return standardized(table, len(table), f"FALLBACK: scikit-learn diabetes ({reason})")


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
