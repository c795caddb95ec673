"""The NASA airfoil self-noise data (Brooks, Pope & Marcolini 1989; UCI, CC BY 4.0), prepared as
the book's minibatch-SGD experiment does.

1503 rows of 6 tab-separated numbers: frequency, angle of attack, chord length, free-stream
velocity, suction-side displacement thickness, and the target, the scaled sound pressure level
in dB. Every column, the target included, is standardized with the mean and the *population*
standard deviation over all 1503 rows; then the first 1500 rows are kept.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import torch
from torch import Tensor

from trainlab.data.fallback import diabetes_table
from trainlab.data.locate import DataFile, DataUnavailable, locate

__all__ = [
    "AIRFOIL",
    "RegressionData",
    "diabetes_fallback",
    "load_airfoil",
    "parse_table",
]

AIRFOIL = DataFile("airfoil_self_noise.dat", "76e5be1548fd8222e5074cf0faae75edff8cf93f", "sha1")
AIRFOIL_URLS = ("http://d2l-data.s3-accelerate.amazonaws.com/",)


@dataclass(frozen=True)
class RegressionData:
    features: Tensor  # (n, d) float32
    targets: Tensor  # (n,) float32
    source: str  # where the numbers came from, for every result that uses them
    name: str = "airfoil self-noise"
    fallback: bool = False


def load_airfoil(
    data_dir: str | Path | None = None,
    rows: int = 1500,
    cache_dir: str | Path | None = None,
    download: bool = True,
    fallback: bool = False,
    progress: TextIO | None = sys.stderr,
) -> RegressionData:
    """Read, verify (SHA-1) and standardize the airfoil data, found like every data set
    (:mod:`~trainlab.data.locate`).

    Raises :class:`~trainlab.data.locate.DataUnavailable` saying where it looked (unless
    ``fallback``: then the bundled diabetes data stands in, announced in one line and flagged)
    and ValueError for a file whose checksum or contents are wrong.
    """
    try:
        (path,) = locate(
            "airfoil", [AIRFOIL], "airfoil", data_dir, cache_dir, download, AIRFOIL_URLS, progress
        )
    except DataUnavailable as err:
        if not fallback:
            raise
        if progress is not None:
            progress.write(
                f"trainlab: {err.message(cli=False).split('. To fix')[0]}; using the bundled "
                "diabetes data instead: results on it are flagged\n"
            )
        return diabetes_fallback(f"{err.missing} not found")
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
    """The bundled diabetes data (442 patients, 10 features, disease progression;
    :mod:`~trainlab.data.fallback`), prepared the same way: a real regression set."""
    why = f" ({reason})" if reason else ""
    data = standardized(diabetes_table(), 442, f"bundled diabetes data{why}")
    return RegressionData(
        data.features,
        data.targets,
        data.source,
        name="diabetes (stand-in for airfoil)",
        fallback=True,
    )


def parse_table(text: str, columns: int) -> Tensor:
    """Whitespace-separated finite numbers, ``columns`` per line, as a float64 (rows, columns)
    tensor ("nan" and "inf", which float() accepts, are refused)."""
    values = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != columns:
            raise ValueError(f"line {number} has {len(fields)} fields, expected {columns}")
        try:
            row = [float(v) for v in fields]
        except ValueError:
            raise ValueError(f"line {number} holds a non-number: {line.strip()!r}") from None
        if not all(math.isfinite(v) for v in row):
            raise ValueError(f"line {number} holds a non-finite number: {line.strip()!r}")
        values.append(row)
    return torch.tensor(values, dtype=torch.float64)
