"""The main job timed: `trainlab reproduce` per section, the run-time prediction beside it.

Runs the profile from scratch into a temporary folder (nothing cached), in this process, and
prints per section the measured seconds, split into conv-net training, small-net training and
the rest (what :mod:`trainlab.experiments.eta` scales), and the seconds the prediction gave at
the start. ``--emit-reference`` prints the measured split as the literal to paste into
``eta.py`` (measure on a quiet machine, load < 0.5). ``--busy N`` starts N CPU-bound processes
(``while True: pass``) for the whole run — the busy-machine case; ``--threads`` sets torch's
threads (as ``trainlab reproduce --threads``).

    python benchmarks/reproduce.py --profile quick --data-dir ../shared/data [--threads 1]
        [--busy 1] [--only resnet] [--emit-reference] [--json PATH]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from common import Report, timed
from trainlab.experiments import eta
from trainlab.experiments.sections import SECTIONS
from trainlab.experiments.settings import Settings
from trainlab.report.reproduce import reproduce


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--profile", default="quick", choices=["smoke", "quick", "book"])
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--only", default=None, help="comma-separated sections (default: all)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--busy", type=int, default=0, help="CPU-bound processes to run beside")
    p.add_argument("--emit-reference", action="store_true")
    p.add_argument("--json", metavar="PATH")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    keys = args.only.split(",") if args.only else list(SECTIONS)
    report = Report(
        "trainlab reproduce, timed per section beside the run-time prediction",
        profile=args.profile,
        sections=",".join(keys),
        busy_processes=args.busy,
    )
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        unit = eta.calibrate()
        predicted = eta.predict(args.profile, keys, unit)
        with tempfile.TemporaryDirectory() as out:
            settings = Settings(args.profile, data_dir=args.data_dir)
            document, total = timed(
                lambda: reproduce(settings, Path(out), keys, log=sys.stdout, progress=None)
            )
    finally:
        for hog in hogs:  # killed, not waited for: their CPU time stays other processes' load
            hog.kill()
    table = report.table(
        "Calibration, seconds per unit", ["kind:<6", "measured:.4f", "reference:.4f"]
    )
    for kind, value in unit.items():
        table.row(kind, value, eta.REFERENCE_UNIT[kind])
    table = report.table(
        "Seconds per section",
        ["section:<18", "measured s:.1f", "conv:.1f", "small:.1f", "other:.1f", "predicted s:.1f"],
    )
    measured = guessed = 0.0
    for record in document["sections"]:
        key, parts = record["key"], record["seconds_by_kind"]
        guess = predicted.get(key)
        row = (key, record["seconds"], parts["conv"], parts["small"], parts["other"], guess)
        table.row(*row)
        measured, guessed = measured + record["seconds"], guessed + (guess or 0)
    table.row("total", measured, None, None, None, guessed, wall_s=total)
    print(f"  wall time of the run and the report (calibration excluded): {total:.1f} s")
    if args.emit_reference:
        print("\n# paste into src/trainlab/experiments/eta.py")
        print(f"REFERENCE_UNIT = {{{', '.join(f'{k!r}: {v:.4f}' for k, v in unit.items())}}}")
        print(f"REFERENCE[{args.profile!r}] = {{")
        for record in document["sections"]:
            parts = ", ".join(f"{k!r}: {v}" for k, v in record["seconds_by_kind"].items())
            print(f"    {record['key']!r}: {{{parts}}},")
        print("}")
    report.summary()
    for hog in hogs:
        hog.wait()
    if args.json:
        report.write_json(args.json)


if __name__ == "__main__":
    main()
