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
import time
from pathlib import Path

import torch

from common import OtherLoad, environment_line, environment_meta, load_average_line, write_json
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
    print(environment_line(f"profile {args.profile}", f"busy processes {args.busy}"))
    print(load_average_line())
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
    try:
        unit = eta.calibrate()
        predicted = eta.predict(args.profile, keys, unit)
        other_load = OtherLoad()
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            settings = Settings(args.profile, data_dir=args.data_dir)
            document = reproduce(settings, Path(out), keys, log=sys.stdout, progress=None)
        total = time.perf_counter() - start
        other_cores = other_load.cores()
    finally:
        for hog in hogs:
            hog.kill()
    print(
        "\ncalibration (s per unit): "
        + ", ".join(f"{k} {unit[k]:.4f} (reference {eta.REFERENCE_UNIT[k]:.4f})" for k in unit)
    )
    header = f"{'section':<18}{'measured s':>11}{'conv':>9}{'small':>9}{'other':>9}"
    print(f"\n{header}{'predicted s':>13}")
    rows = []
    for record in document["sections"]:
        key, parts = record["key"], record["seconds_by_kind"]
        guess = predicted.get(key)
        rows.append(
            {"section": key, "seconds": record["seconds"], "by_kind": parts, "predicted": guess}
        )
        shown = f"{guess:13.1f}" if guess else f"{'—':>13}"
        print(
            f"{key:<18}{record['seconds']:11.1f}{parts['conv']:9.1f}{parts['small']:9.1f}"
            f"{parts['other']:9.1f}{shown}"
        )
    measured = sum(r["seconds"] for r in rows)
    guessed = sum(r["predicted"] or 0 for r in rows)
    print(f"{'total':<18}{measured:11.1f}{'':27}{guessed:13.1f}")
    print(f"wall time including calibration and the report: {total:.1f} s")
    if other_cores is not None:
        print(f"other processes kept {other_cores:.2f} cores busy on average")
    if args.emit_reference:
        print("\n# paste into src/trainlab/experiments/eta.py")
        print(f"REFERENCE_UNIT = {{{', '.join(f'{k!r}: {v:.4f}' for k, v in unit.items())}}}")
        print(f"REFERENCE[{args.profile!r}] = {{")
        for r in rows:
            parts = ", ".join(f"{k!r}: {v}" for k, v in r["by_kind"].items())
            print(f"    {r['section']!r}: {{{parts}}},")
        print("}")
    if args.json:
        write_json(
            args.json,
            {
                "meta": environment_meta(),
                "profile": args.profile,
                "threads": torch.get_num_threads(),
                "busy": args.busy,
                "calibration": unit,
                "sections": rows,
                "wall_s": total,
                "other_cores": other_cores,
            },
            tag="reproduce",
        )


if __name__ == "__main__":
    main()
