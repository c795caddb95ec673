"""Helpers shared by the benchmark scripts in this folder, so that each script holds only what it
measures: the machine's description and other processes' load, argument types, round-robin
timing, the samples' statistics, the header's environment line and the JSON output.

The scripts run as ``python benchmarks/NAME.py``, from any working directory: Python puts the
script's own folder first on ``sys.path``, so ``from common import ...`` finds this file. It is
not part of the trainlab package. What only one script uses stays in that script.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from trainlab.machine import describe, summary_line

# Other processes' load, in busy cores, above which timings are reported as disturbed.
DISTURBED_CORES = 0.25


# --------------------------------------------------------------------------------------------
# The machine
# --------------------------------------------------------------------------------------------


def cpu_busy_seconds() -> float | None:
    """CPU-seconds the whole machine has spent busy since boot (all processes, plus time stolen
    by the hypervisor), from /proc/stat; None where that file does not exist."""
    try:
        with open("/proc/stat", encoding="utf-8") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """How many cores other processes kept busy since this object was made: the machine's busy
    time minus this process's own CPU time (all its threads). Anything well above zero means the
    timings were disturbed -- multithreaded code most of all, as every parallel region waits for
    its worker threads to be scheduled again."""

    def __init__(self) -> None:
        self.busy0, self.own0, self.wall0 = cpu_busy_seconds(), time.process_time(), time.time()

    def cores(self) -> float | None:
        busy = cpu_busy_seconds()
        if busy is None or self.busy0 is None:
            return None
        own = time.process_time() - self.own0
        return max(0.0, (busy - self.busy0 - own) / max(time.time() - self.wall0, 1e-9))


def print_other_load(cores: float | None, warning: str) -> None:
    """The closing line on other processes' load (nothing where it is unknown), then `warning`
    if they kept more than DISTURBED_CORES busy."""
    if cores is None:
        return
    print(
        f"\nOther processes kept {cores:.2f} of {os.cpu_count()} logical CPUs busy on average "
        "during the run."
    )
    if cores > DISTURBED_CORES:
        print(warning)


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def time_once(fn: Callable[[], object], number: int = 1) -> float:
    """Seconds per call of fn, averaged over `number` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def time_round_robin(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    warmup: int,
    min_sample_s: float,
    *,
    same_number: bool = False,
    before_sample: Callable[[Callable[[], object]], object] | None = None,
) -> dict[str, tuple[int, list[float]]]:
    """Time every fn `repeats` times, interleaved: one sample of each fn per round, the starting
    fn rotating every round, so none of them is always first or last in a round. Returns, per
    name, the inner-loop count and the samples in seconds per call.

    Each sample loops the fn long enough to last about `min_sample_s`: the loop count is sized by
    the fn's own fastest warm-up call, or with `same_number` by the fastest call of any fn, so
    that every fn gets the same count (for variants that do the same work).
    `before_sample(fn)`, if given, runs untimed before each sample of fn.
    """
    names = list(fns)
    # Warm-up: first calls pay for lazy init, allocator growth, page faults. The warm-up calls are
    # timed too, to size the inner loop (at least one round is run for that); their fastest call
    # decides, so that one preempted call cannot.
    fastest = dict.fromkeys(names, math.inf)
    for _ in range(max(warmup, 1)):
        for name in names:
            fastest[name] = min(fastest[name], time_once(fns[name], 1))
    if same_number:
        fastest = dict.fromkeys(names, min(fastest.values()))
    number = {n: max(1, math.ceil(min_sample_s / max(fastest[n], 1e-9))) for n in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a cyclic-GC pause inside one sample would land on one variant only
    try:
        for r in range(repeats):
            for i in range(len(names)):
                name = names[(r + i) % len(names)]
                if before_sample is not None:
                    before_sample(fns[name])
                samples[name].append(time_once(fns[name], number[name]))
    finally:
        if gc_was_enabled:
            gc.enable()
    return {name: (number[name], samples[name]) for name in names}


class SampleStats:
    """Mixin for a dataclass with a ``samples_s`` field (seconds per call): median and spread."""

    samples_s: list[float]

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples_s)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median: how much to trust the median."""
        if len(self.samples_s) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.samples_s, n=4)
        return (q3 - q1) / self.median_s


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def environment_line(*extra: str) -> str:
    """The header's line on the machine and the software (trainlab.machine's facts: processor,
    ISA extensions, cores, threads, load, torch, oneDNN), then `extra`, joined by ' | '."""
    return " | ".join([summary_line(), *extra])


def environment_meta() -> dict:
    """The same facts for the JSON output's "meta"."""
    return describe()


def load_average_line() -> str:
    """The 1-minute load average before the run ('?' where the OS does not report it)."""
    load = f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"
    return f"load average before start (1 min): {load} on {os.cpu_count()} logical CPUs"


def write_json(path: str, payload: dict, tag: str = "benchmark") -> None:
    """Write atomically: a temp file (named after `tag`) in the same directory, then os.replace,
    so a reader never sees a half-written file and an interrupted run leaves the old one intact."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{tag}-", suffix=".json.tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it a normal file's mode
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(payload, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
