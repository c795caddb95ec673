"""Downloads that never leave a half-written file: the bytes stream into a temporary file beside
the target (:func:`trainlab._io.atomic_write`), are verified against the published checksum,
and only then replace the target. A killed download leaves only a ``.NAME.*.tmp`` file, which
the next download into that folder removes once it is old enough to be nobody's."""

from __future__ import annotations

import hashlib
import os
import sys
import urllib.request
from pathlib import Path
from typing import TextIO

from trainlab._io import atomic_write, remove_stale_temporaries
from trainlab.progress import Bar

__all__ = ["DEFAULT_CACHE", "cache_dir", "checksum", "download"]

CACHE_ENV = "TRAINLAB_CACHE_DIR"
DEFAULT_CACHE = Path.home() / ".cache" / "trainlab"
STALE_AFTER_S = 6 * 3600  # a temporary this old belongs to no live download


def cache_dir(override: str | Path | None = None) -> Path:
    """Where downloads are kept: ``override``, else $TRAINLAB_CACHE_DIR, else ~/.cache/trainlab."""
    return Path(override or os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def checksum(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str,
    target: Path,
    expected: str,
    algorithm: str = "md5",
    timeout: float = 30.0,
    progress: TextIO | None = sys.stderr,
) -> Path:
    """Fetch ``url`` to ``target``, verifying its ``algorithm`` digest equals ``expected``.
    Raises OSError (network, disk) or ValueError (checksum); either way ``target`` is left as it
    was and no partial file stays behind."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent, older_than_s=STALE_AFTER_S)

    def stream(out) -> None:
        digest = hashlib.new(algorithm)
        with urllib.request.urlopen(url, timeout=timeout) as response:
            total = int(response.headers.get("Content-Length") or 0)
            bar = Bar(progress, target.name, total or 1, unit="B", unit_scale=True)
            done = 0
            try:
                while block := response.read(1 << 16):
                    out.write(block)
                    digest.update(block)
                    done += len(block)
                    if total:
                        bar.update(done)
            finally:
                bar.close()
        if digest.hexdigest() != expected:
            raise ValueError(
                f"{url} gave {algorithm} {digest.hexdigest()}, expected {expected}; "
                "the download is corrupt or the file changed upstream, so it was discarded"
            )

    return atomic_write(target, stream)
