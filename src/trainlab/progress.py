"""Progress a person can read: on a terminal, tqdm bars (one per training run, under an optional
overall bar with the total ETA); elsewhere (logs, CI) a few plain lines per epoch.

Every display names what runs ("LeNet-BN scratch", "ResNet-18"), shows the epoch, the running
mean loss and accuracy of the epoch so far (not the last batch's), the throughput and the time
left. Downloads use the same class with bytes as the unit.
"""

from __future__ import annotations

import math
import time
from typing import TextIO

__all__ = ["Bar", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """1:02:03 / 2:05 / 0:07, the way tqdm writes times ("?" when unknown)."""
    if not math.isfinite(seconds):
        return "?"
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Bar:
    """A progress bar over ``total`` units on ``stream`` (None: silent).

    ``update(done, **fields)`` sets the units done so far and the fields shown after the bar;
    on a terminal it redraws a tqdm bar (at ``position`` under the ones above it), otherwise it
    writes a plain line at each quarter of ``plain_every`` units (an epoch, say), so logs stay
    short. ``close()`` ends it."""

    def __init__(
        self,
        stream: TextIO | None,
        label: str,
        total: int,
        unit: str = "batch",
        position: int = 0,
        plain_every: int | None = None,
        unit_scale: bool = False,
    ) -> None:
        self.stream, self.label, self.total, self.unit = stream, label, max(total, 1), unit
        self.start, self.done = time.perf_counter(), 0
        self.tty = bool(stream is not None and stream.isatty())
        self.quarter = max(1, (plain_every or self.total) // 4)
        self._bar = None
        if self.tty:
            from tqdm import tqdm  # imported on use: `trainlab --help` stays fast

            self._bar = tqdm(
                total=self.total,
                desc=label,
                unit=unit,
                file=stream,
                position=position,
                leave=position == 0,
                dynamic_ncols=True,
                unit_scale=unit_scale,
            )

    def eta(self) -> float:
        """Seconds left at the average pace so far."""
        elapsed = time.perf_counter() - self.start
        return elapsed / self.done * (self.total - self.done) if self.done else float("nan")

    def update(self, done: int, **fields: str) -> None:
        step, self.done = done - self.done, done
        if self.stream is None:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(
                ", ".join(f"{k} {v}" for k, v in fields.items()), refresh=False
            )
            self._bar.update(step)
            return
        if done % self.quarter == 0 or done == self.total:
            amount = (
                f"{done / 2**20:.1f}/{self.total / 2**20:.1f} MiB"
                if self.unit == "B"
                else f"{done}/{self.total}"
            )
            shown = "".join(f" {k} {v}" for k, v in fields.items())
            self.stream.write(
                f"{self.label}: {amount}{shown} · {format_seconds(self.eta())} left\n"
            )
            self.stream.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
