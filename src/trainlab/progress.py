"""A progress display per epoch: one self-updating line on a terminal, a few plain lines
otherwise (logs and CI output stay readable)."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Call ``update(batches_done, loss, examples)`` after each batch and ``close()`` at the end."""

    def __init__(self, stream: TextIO | None, label: str, total: int, plain_lines: int = 4):
        self.stream, self.label, self.total = stream, label, total
        self.tty = bool(stream is not None and stream.isatty())
        self.every = max(1, total // plain_lines)
        self.start = time.perf_counter()
        self.examples = 0

    def update(self, done: int, loss: float, examples: int) -> None:
        self.examples += examples
        if self.stream is None or not (self.tty or done % self.every == 0 or done == self.total):
            return
        rate = self.examples / max(time.perf_counter() - self.start, 1e-9)
        width = 24
        bar = "#" * (width * done // self.total) + "." * (width - width * done // self.total)
        text = f"{self.label} [{bar}] {done}/{self.total} loss {loss:.4f} {rate:,.0f} ex/s"
        self.stream.write(("\r" + text) if self.tty else (text + "\n"))
        self.stream.flush()

    def close(self) -> None:
        if self.stream is not None and self.tty:
            self.stream.write("\n")
            self.stream.flush()
