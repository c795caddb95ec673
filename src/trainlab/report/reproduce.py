"""Run the unit's sections, cache each one as it finishes, and write the report.

Layout of OUT:  sections/KEY/result.json and sections/KEY/*.png (one folder per finished
section: a re-run with the same settings reuses it, so an interrupted run picks up where it
stopped), results.json (everything, machine-readable) and index.html (one self-contained page).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

import torch

import trainlab
from trainlab.experiments.sections import SECTIONS, Section, Settings
from trainlab.report.html import render

__all__ = ["SCHEMA", "reproduce"]

SCHEMA = "trainlab-results-1"


def _write_atomic(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(handle, "w") as file:
        file.write(text)
    os.chmod(temporary, 0o644)  # mkstemp makes files private; a report is for reading
    os.replace(temporary, path)


def _settings_key(settings: Settings) -> dict[str, Any]:
    return {
        "profile": settings.profile,
        "seed": settings.seed,
        "device": settings.device,
        "data_dir": str(settings.data_dir) if settings.data_dir else None,
        "allow_fallback": settings.allow_fallback,
    }


def _command(settings: Settings, out: Path, key: str) -> str:
    parts = [
        "trainlab reproduce",
        f"--profile {settings.profile}",
        f"--only {key}",
        f"--out {out}",
        f"--seed {settings.seed}",
        f"--device {settings.device}",
    ]
    if settings.data_dir:
        parts.append(f"--data-dir {settings.data_dir}")
    return " ".join(parts)


def _save_section(
    folder: Path, section: Section, seconds: float, settings: Settings, command: str
) -> dict[str, Any]:
    folder.mkdir(parents=True, exist_ok=True)
    figures = []
    for name, figure in section.figures.items():
        figure.savefig(folder / f"{name}.png", dpi=90)
        figures.append(f"sections/{section.key}/{name}.png")
    record = {
        "key": section.key,
        "title": section.title,
        "formulas": section.formulas,
        "dataset": section.dataset,
        "notes": section.notes,
        "seconds": round(seconds, 2),
        "figures": figures,
        "command": command,
        "settings": _settings_key(settings),
        "numbers": [dict(asdict(n), status=n.status) for n in section.numbers],
    }
    _write_atomic(folder / "result.json", json.dumps(record, indent=1, ensure_ascii=False))
    return record


def _cached(folder: Path, settings: Settings) -> dict[str, Any] | None:
    path = folder / "result.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError:
        return None
    if record.get("settings") != _settings_key(settings):
        return None
    if record["dataset"].startswith("FALLBACK"):  # the real data may be reachable this time
        return None
    if not all((folder.parent.parent / f).is_file() for f in record["figures"]):
        return None
    return record


def _summary(record: dict[str, Any]) -> str:
    statuses = [n["status"] for n in record["numbers"]]
    counts = {s: statuses.count(s) for s in ("exact match", "mismatch", "in band", "out of band")}
    checked = ", ".join(f"{v} {k}" for k, v in counts.items() if v) or "no book numbers"
    return f"{checked}; {record['seconds']:.1f} s"


def reproduce(
    settings: Settings,
    out: Path,
    only: list[str] | None = None,
    log: TextIO | None = sys.stdout,
) -> dict[str, Any]:
    """Run (or reuse from the cache) the chosen sections, then write results.json and index.html
    covering every section finished with these settings. Returns the results document."""
    keys = only or list(SECTIONS)
    unknown = [k for k in keys if k not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    out.mkdir(parents=True, exist_ok=True)
    records = []
    for i, key in enumerate(keys, start=1):
        folder = out / "sections" / key
        record = _cached(folder, settings)
        if record is not None:
            if log:
                log.write(f"[{i}/{len(keys)}] {key}: cached ({_summary(record)})\n")
        else:
            if log:
                log.write(f"[{i}/{len(keys)}] {key}: running ...\n")
                log.flush()
            start = time.perf_counter()
            section = SECTIONS[key](settings)
            record = _save_section(
                folder, section, time.perf_counter() - start, settings, _command(settings, out, key)
            )
            if log:
                log.write(f"[{i}/{len(keys)}] {key}: {_summary(record)}\n")
        records.append(record)
    # The report covers every section finished with these settings, not only those run now.
    ran = {r["key"] for r in records}
    for key in SECTIONS:
        cached = None if key in ran else _cached(out / "sections" / key, settings)
        if cached is not None:
            records.append(cached)
    records.sort(key=lambda r: list(SECTIONS).index(r["key"]))
    document = {
        "schema": SCHEMA,
        "trainlab_version": trainlab.__version__,
        "torch_version": torch.__version__,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        **_settings_key(settings),
        "sections": records,
    }
    _write_atomic(out / "results.json", json.dumps(document, indent=1, ensure_ascii=False))
    _write_atomic(out / "index.html", render(document, out))
    if log:
        log.write(f"report: {out / 'index.html'}\n")
    return document
