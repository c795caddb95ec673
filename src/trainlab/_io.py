"""Files that are never half-written, and one writer per output folder.

Every file trainlab writes — checkpoints, downloads, figures, the report, benchmark JSON — goes
through :func:`atomic_write`: the bytes go to a temporary file in the target's folder, are
flushed to disk (fsync), get the usual permissions, and only then replace the target by a
rename, which is atomic on one file system. A reader, or the next run after a kill at any point,
sees the old file or the new one, never a mix or a truncated file. Temporaries a kill leaves
behind carry the prefix ``.`` and the suffix ``.tmp`` and are removed by
:func:`remove_stale_temporaries` at the next start.

:class:`FolderLock` is an advisory lock (``fcntl.flock``) on ``FOLDER/.trainlab.lock`` holding
the owner's PID: a second ``trainlab train`` or ``reproduce`` on the same folder fails at once,
naming the first one, or waits for it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = [
    "FolderBusy",
    "FolderLock",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "remove_stale_temporaries",
]

TEMP_SUFFIX = ".tmp"
LOCK_NAME = ".trainlab.lock"


def _fsync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _permissions() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Create or replace ``path`` with what ``write(file)`` writes into a binary file object,
    atomically (see the module docstring). Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent
    )
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, _permissions())  # mkstemp makes files private; ours are not
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(path.parent)
    return path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return atomic_write(path, lambda file: file.write(data))


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(folder: str | Path, older_than_s: float = 0.0) -> list[Path]:
    """Delete the temporaries that killed writers left in ``folder`` (not recursively); call it
    while holding the folder's lock, so no live writer's file is taken. Returns what went."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    now = time.time()
    for candidate in folder.glob(f".*{TEMP_SUFFIX}"):
        try:
            if now - candidate.stat().st_mtime >= older_than_s:
                candidate.unlink()
                removed.append(candidate)
        except FileNotFoundError:
            continue
    return removed


class FolderBusy(RuntimeError):
    """Another process holds the folder's lock."""


class FolderLock:
    """``with FolderLock(folder, wait=False):`` — exclusive use of ``folder`` by this process.

    The lock is the kernel's (``fcntl.flock``), so it disappears with its holder, even after
    SIGKILL: a stale lock file never blocks anyone. Without ``wait`` a second holder gets
    :class:`FolderBusy` naming the holder's PID; with it, it waits."""

    def __init__(self, folder: str | Path, wait: bool = False) -> None:
        self.folder, self.wait = Path(folder), wait
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        import fcntl  # POSIX; trainlab's run commands need it

        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except OSError as err:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise FolderBusy(
                    f"{self.folder} is in use by another trainlab run (PID {holder}); wait for "
                    "it, pass --wait to queue behind it, or choose another --out"
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the flock
            self._fd = None
