"""Where a data set's files come from, the same way for every data set, offline first:

1. ``data_dir`` (or $TRAINLAB_DATA_DIR): the file itself, or one folder below it
   (``data_dir/fashion-mnist/…`` works as well as ``data_dir/…``);
2. the cache (``cache_dir``, $TRAINLAB_CACHE_DIR or ~/.cache/trainlab), in the data set's folder;
3. a download into the cache, verified and atomic (:mod:`trainlab.data.download`), when allowed.

A file found locally must have its published checksum (a wrong one is an error, never a silent
replacement). When every place fails, :class:`DataUnavailable` lists the folders searched and
why each download failed; its message names the library's keywords or, for the command line,
its flags.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from trainlab.data.download import cache_dir as default_cache_dir
from trainlab.data.download import checksum, download

__all__ = ["DATA_DIR_ENV", "DataFile", "DataUnavailable", "locate"]

DATA_DIR_ENV = "TRAINLAB_DATA_DIR"


@dataclass(frozen=True)
class DataFile:
    name: str  # the published file name
    digest: str  # its published checksum
    algorithm: str = "md5"


class DataUnavailable(FileNotFoundError):
    """A data set's files are nowhere to be had: neither found locally nor downloadable."""

    def __init__(self, dataset: str, missing: str, searched: list[Path], failures: list[str]):
        self.dataset, self.missing, self.searched, self.failures = (
            dataset,
            missing,
            searched,
            failures,
        )
        super().__init__(self.message(cli=False))

    def message(self, cli: bool) -> str:
        """The explanation, with the fix in the caller's words: CLI flags or Python keywords."""
        looked = ", ".join(str(p) for p in self.searched) or "nowhere (no folder given)"
        text = f"{self.dataset}: {self.missing} not found (searched: {looked})"
        if self.failures:
            text += "; download failed: " + "; ".join(self.failures)
        if cli:
            fix = (
                "pass --data-dir DIR with a folder that holds the files (or set "
                f"{DATA_DIR_ENV}), run without --no-download on a connected machine, or without "
                "--no-fallback to use the bundled stand-in data"
            )
        else:
            fix = (
                f"pass data_dir= (or set {DATA_DIR_ENV}) to a folder that holds the files, "
                "download=True on a connected machine, or fallback=True for the bundled stand-in"
            )
        return f"{text}. To fix: {fix}"


def _roots(data_dir: str | Path | None) -> list[Path]:
    return [Path(p) for p in (data_dir, os.environ.get(DATA_DIR_ENV)) if p]


def _find(name: str, roots: list[Path]) -> Path | None:
    for root in roots:
        for candidate in (root / name, *sorted(root.glob(f"*/{name}"))):
            if candidate.is_file():
                return candidate
    return None


def locate(
    dataset: str,
    files: Sequence[DataFile],
    folder: str,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    allow_download: bool = True,
    urls: Sequence[str] = (),
    progress: TextIO | None = sys.stderr,
) -> list[Path]:
    """The verified local paths of ``files`` (in order), found or fetched as the module
    docstring says; ``folder`` is the data set's folder in the cache, ``urls`` the bases the
    file names are appended to. Raises :class:`DataUnavailable`, or ValueError for a local file
    with the wrong checksum."""
    roots = _roots(data_dir)
    cache = default_cache_dir(cache_dir) / folder
    found = []
    for file in files:
        local = _find(file.name, roots)
        if local is not None:
            if checksum(local, file.algorithm) != file.digest:
                raise ValueError(
                    f"{local} does not have the published {file.algorithm} {file.digest}: the "
                    "file is corrupt or a different version; replace it with the original"
                )
            found.append(local)
            continue
        cached = cache / file.name
        if cached.is_file() and checksum(cached, file.algorithm) == file.digest:
            found.append(cached)
            continue
        failures = []
        if allow_download:
            for base in urls:
                try:
                    found.append(
                        download(
                            base + file.name, cached, file.digest, file.algorithm, progress=progress
                        )
                    )
                    break
                except (OSError, ValueError) as err:
                    failures.append(f"{base}: {err}")
            else:
                raise DataUnavailable(dataset, file.name, [*roots, cache], failures)
        else:
            raise DataUnavailable(dataset, file.name, [*roots, cache], ["not tried (offline)"])
    return found
