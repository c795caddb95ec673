"""Downloads that never leave a half-written file: stream to a temporary file beside the target,
verify the checksum, then rename (atomic on one file system)."""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import TextIO

__all__ = ["DEFAULT_CACHE", "cache_dir", "checksum", "download"]

CACHE_ENV = "TRAINLAB_CACHE_DIR"
DEFAULT_CACHE = Path.home() / ".cache" / "trainlab"


def cache_dir(override: str | Path | None = None) -> Path:
    """Where downloads are kept: ``override``, else $TRAINLAB_CACHE_DIR, else ~/.cache/trainlab."""
    return Path(override or os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def checksum(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _progress(stream: TextIO, name: str, done: int, total: int | None, final: bool) -> None:
    if total:
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        text = f"{name} [{bar}] {done / 2**20:.1f}/{total / 2**20:.1f} MiB"
    else:
        text = f"{name} {done / 2**20:.1f} MiB"
    if stream.isatty():
        stream.write("\r" + text + ("\n" if final else ""))
    elif final:  # no terminal: one line per file, not a line per block
        stream.write(text + "\n")
    stream.flush()


def download(
    url: str,
    target: Path,
    expected: str,
    algorithm: str = "md5",
    timeout: float = 30.0,
    progress: TextIO | None = sys.stderr,
) -> Path:
    """Fetch ``url`` to ``target``, verifying its ``algorithm`` digest equals ``expected``.

    The bytes go to a temporary file in ``target``'s folder that is renamed over ``target`` only
    once complete and verified, so an interrupted or corrupt download leaves nothing behind that
    could later pass for the real file. Raises OSError (network) or ValueError (checksum).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    temp_path = Path(temporary)
    try:
        digest = hashlib.new(algorithm)
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            done = 0
            while block := resp.read(1 << 16):
                out.write(block)
                digest.update(block)
                done += len(block)
                if progress is not None:
                    _progress(progress, target.name, done, total, final=False)
            out.flush()
            os.fsync(out.fileno())
        if progress is not None:
            _progress(progress, target.name, done, total, final=True)
        if digest.hexdigest() != expected:
            raise ValueError(
                f"{url} gave {algorithm} {digest.hexdigest()}, expected {expected}; "
                "the download is corrupt or the file changed upstream, so it was discarded"
            )
        os.chmod(temp_path, 0o644)  # mkstemp's files are private; a cache file is not
        os.replace(temp_path, target)
        return target
    finally:
        temp_path.unlink(missing_ok=True)
