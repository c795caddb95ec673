"""Helpers shared by the benchmark scripts in this folder, so that each script holds only what it
measures: the machine's description and other processes' load, argument types, the timing
(:func:`time_once`, :func:`timed`, :func:`time_round_robin` and the :class:`Samples` it returns)
and the one reporter, :class:`Report` (header, tables printed row by row, checks, targets with
PASS/MISS, the closing summary and the JSON output).

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
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
    time minus this process's own CPU time (all its threads, and its child processes once they
    have exited and been waited for: DataLoader workers, spawned ranks). Anything well above zero
    means the timings were disturbed -- multithreaded code most of all, as every parallel region
    waits for its worker threads to be scheduled again."""

    def __init__(self) -> None:
        self.busy0, self.own0, self.wall0 = cpu_busy_seconds(), own_cpu_seconds(), time.time()

    def cores(self) -> float | None:
        busy = cpu_busy_seconds()
        if busy is None or self.busy0 is None:
            return None
        own = own_cpu_seconds() - self.own0
        return max(0.0, (busy - self.busy0 - own) / max(time.time() - self.wall0, 1e-9))


def own_cpu_seconds() -> float:
    """CPU-seconds of this process and of its exited, waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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


@dataclass
class Samples:
    """Timed samples of one fn in seconds per call, each the mean of `calls_per_sample` calls."""

    calls_per_sample: int
    samples_s: list[float]

    @property
    def median_s(self) -> float:
        return statistics.median(self.samples_s)

    @property
    def best_s(self) -> float:
        """The fastest sample: the cost with the least interference from other processes."""
        return min(self.samples_s)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median: how much to trust the median."""
        if len(self.samples_s) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(self.samples_s, n=4)
        return (q3 - q1) / self.median_s


def time_once(fn: Callable[[], object], number: int = 1) -> float:
    """Seconds per call of fn, averaged over `number` back-to-back calls."""
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    """One call of fn: what it returned and the seconds it took."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def time_round_robin(
    fns: dict[str, Callable[[], object]],
    repeats: int,
    warmup: int,
    min_sample_s: float,
    *,
    same_number: bool = False,
    before_sample: Callable[[Callable[[], object]], object] | None = None,
) -> dict[str, Samples]:
    """Time every fn `repeats` times, interleaved: one sample of each fn per round, the starting
    fn rotating every round, so none of them is always first or last in a round. Returns the
    samples per name.

    Each sample loops the fn long enough to last about `min_sample_s`: the loop count is sized by
    the fn's own fastest warm-up call, or with `same_number` by the fastest call of any fn, so
    that every fn gets the same count (for variants that do the same work). With `min_sample_s`
    0 every sample is one call, and `warmup` may be 0.
    `before_sample(fn)`, if given, runs untimed before each sample of fn.
    """
    names = list(fns)
    # Warm-up: first calls pay for lazy init, allocator growth, page faults. The warm-up calls are
    # timed too, to size the inner loop (at least one round is run for that, unless samples are
    # single calls); their fastest call decides, so that one preempted call cannot.
    fastest = dict.fromkeys(names, math.inf)
    for _ in range(max(warmup, 1 if min_sample_s > 0 else 0)):
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
    return {name: Samples(number[name], samples[name]) for name in names}


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


def _finite(value: object) -> object:
    """`value` with every NaN or infinity replaced by None (JSON has no such numbers); tuples
    become lists, numpy and torch numbers plain ones."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "tolist"):  # numpy scalars and arrays, tensors
        return _finite(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_json_atomically(path: str, payload: dict) -> None:
    """Write through a temp file in the same directory, then os.replace, so a reader never sees a
    half-written file and an interrupted run leaves the old one intact."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".benchmark-", suffix=".json.tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; give it a normal file's mode
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(_finite(payload), f, indent=2, default=str, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


class Table:
    """One table of a Report; made by :meth:`Report.table`."""

    def __init__(self, title: str, columns: Sequence[str], rows: list[dict]) -> None:
        self.columns = [_Column(text) for text in columns]
        self.rows = rows
        print(f"\n{title}")
        print("  " + "  ".join(c.pad(c.name) for c in self.columns).rstrip())

    def row(self, *values: object, **extra: object) -> None:
        """Print one row now (one value per column), record it for the JSON output, together with
        `extra` (JSON only: e.g. the raw samples)."""
        cells = list(zip(self.columns, values, strict=True))  # one value per column
        print("  " + "  ".join(c.cell(v) for c, v in cells).rstrip())
        sys.stdout.flush()  # rows can take a while each: show them as they come
        self.rows.append({c.name: v for c, v in cells} | extra)


class _Column:
    """'name:spec': numbers are formatted by the format spec (e.g. '.3f', '.1%', ','), everything
    else by str() (None as '—'); cells are as wide as the name or the spec's width, aligned as
    the spec says, else right for numeric specs and left for the others."""

    def __init__(self, text: str) -> None:
        name, sep, spec = text.rpartition(":")
        self.name, self.spec = (name, spec) if sep else (text, "")
        align, width = re.match(r"(?:.?([<>^=]))?[-+ ]?z?#?0?(\d*)", self.spec).groups()
        numeric = self.spec[-1:] in tuple("bcdeEfFgGnoxX%,")
        self.align = align or (">" if numeric else "<")
        self.width = max(len(self.name), int(width or 0))

    def pad(self, text: str) -> str:
        return f"{text:{self.align}{self.width}}"

    def cell(self, value: object) -> str:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.pad(format(value, self.spec))
        return self.pad("—" if value is None else str(value))


class Report:
    """What a benchmark prints and writes, in order of the run:

    * the header, when made: `title`, the machine line (environment_line, with `env`), the
      `settings` (also kept for the JSON output's meta) and the load average before the run;
    * :meth:`table`: a titled table whose rows print as they are measured;
    * :meth:`check` (an untimed correctness comparison), :meth:`warn` and :meth:`target` (a
      measured value against its limit, PASS or MISS) as they come up;
    * :meth:`summary`: the targets, the checks, the warnings, the wall time, other processes'
      load over the whole run and, above DISTURBED_CORES, the warning that the timings are
      disturbed;
    * :meth:`write_json`: everything recorded, with environment_meta().

    A missed target or a failed check is reported, not an error: the scripts exit with 0.
    """

    def __init__(self, title: str, *, env: Sequence[str] = (), **settings: object) -> None:
        self.settings = settings
        self.tables: dict[str, list[dict]] = {}
        self.checks: list[dict] = []
        self.warnings: list[str] = []
        self.targets: list[dict] = []
        self.other_load, self.started = OtherLoad(), time.perf_counter()
        self.total_s = self.other_cores = None  # set by summary
        print(title)
        print(environment_line(*env))
        if settings:
            print("settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()))
        print(load_average_line())

    def table(self, title: str, columns: Sequence[str]) -> Table:
        """Print `title` and the column names; columns are 'name:format spec' (see _Column)."""
        return Table(title, columns, self.tables.setdefault(title.strip(), []))

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append({"name": name, "ok": bool(ok), "detail": detail})
        print(f"  check {'ok' if ok else 'MISMATCH'}: {name}" + (f" ({detail})" if detail else ""))
        return ok

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        print(f"  WARNING: {text}")

    def target(self, name: str, value: float, limit: float, higher_is_better: bool = True) -> bool:
        """Record `value` against `limit` (value ≥ limit passes, or ≤ where lower is better)."""
        ok = value >= limit if higher_is_better else value <= limit
        self.targets.append(
            {
                "name": name,
                "value": value,
                "limit": limit,
                "higher_is_better": higher_is_better,
                "status": "PASS" if ok else "MISS",
            }
        )
        return ok

    def summary(self, disturbed: str = "the timings above are disturbed") -> None:
        """The closing lines; `disturbed` says what other processes' load did to the numbers."""
        self.total_s = time.perf_counter() - self.started
        self.other_cores = self.other_load.cores()
        print("\nSummary")
        width = max((len(t["name"]) for t in self.targets), default=0)
        for t in self.targets:
            sign = "≥" if t["higher_is_better"] else "≤"
            line = f"  {t['status']:<5} {t['name']:<{width}}  {t['value']:#.3g} "
            line += f"(target {sign} {t['limit']:g})"
            if t["status"] == "MISS" and t["limit"]:
                off = abs(t["value"] / t["limit"] - 1)
                line += f", {off:.0%} {'under' if t['higher_is_better'] else 'over'}"
            print(line)
        if self.checks:
            failed = [c["name"] for c in self.checks if not c["ok"]]
            agree = f"{len(self.checks) - len(failed)}/{len(self.checks)}"
            print(f"  {'PASS' if not failed else 'MISS':<5} checks: {agree} agree")
            for name in failed:
                print(f"        mismatch: {name}")
        for text in self.warnings:
            print(f"  WARNING: {text}")
        print(f"  total {self.total_s:.0f} s")
        if self.other_cores is not None:
            print(
                f"  other processes kept {self.other_cores:.2f} of {os.cpu_count()} logical CPUs "
                "busy on average during the run"
            )
            if self.other_cores > DISTURBED_CORES:
                print(f"  WARNING: the machine was not quiet: {disturbed}.")
                print("           Rerun on an idle machine.")

    def write_json(self, path: str) -> None:
        """Everything recorded (call after summary), written atomically."""
        meta = {
            **environment_meta(),
            "settings": self.settings,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "total_s": self.total_s,
            "other_processes_cores": self.other_cores,
        }
        payload = {"meta": meta, "tables": self.tables, "checks": self.checks}
        payload |= {"warnings": self.warnings, "targets": self.targets}
        _write_json_atomically(path, payload)
        print(f"wrote {path}")
