"""Run the unit's sections, cache each as it finishes, and write the report.

Every combination of profile, edition, seed and device gets its own folder under OUT
(:func:`run_folder`, e.g. ``report/quick``, ``report/book-e2-seed3``), so a run with other
settings never overwrites another's results. Inside it: ``sections/KEY/result.json`` with the
section's figures (SVG, one per language) and ``sections/KEY/checkpoints/`` for its training
runs; ``results.json`` (everything, machine-readable); ``index.html`` (one self-contained page).

A finished section is reused by the next run with the same settings; an interrupted one resumes
its training runs from their last finished epoch (the checkpoints), so Ctrl-C or a kill loses
at most one epoch. A second run on the same folder is refused while the first holds its lock.
Every file is written atomically.
"""

from __future__ import annotations

import io
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import torch

import trainlab
from trainlab._io import FolderLock, atomic_write_bytes, atomic_write_text, remove_stale_temporaries
from trainlab.experiments import book, errata, eta
from trainlab.experiments.catalog import DEFAULT_EDITION, LANGUAGES
from trainlab.experiments.figures import style
from trainlab.experiments.result import Plot, Result
from trainlab.experiments.sections import SECTIONS, run_section
from trainlab.experiments.settings import Context, Settings
from trainlab.machine import describe
from trainlab.progress import Bar, format_seconds

__all__ = ["SCHEMA", "CacheMismatch", "command_for", "reproduce", "run_folder"]

SCHEMA = "trainlab-results-2"


class CacheMismatch(RuntimeError):
    """The run folder holds sections made with other settings."""


def run_folder(out: Path, settings: Settings) -> Path:
    """OUT/<profile>[-<edition>][-seed<N>][-<device>]: one folder per set of settings that
    changes results (the default edition, seed 0 and the CPU leave no suffix)."""
    parts = [settings.profile]
    if settings.edition != DEFAULT_EDITION:
        parts.append(settings.edition)
    if settings.seed != 0:
        parts.append(f"seed{settings.seed}")
    if settings.device != "cpu":
        parts.append(settings.device.replace(":", ""))
    return out / "-".join(parts)


def command_for(
    settings: Settings, out: Path, only: list[str] | None = None, lang: str = "en"
) -> str:
    """The command that reruns exactly these settings (so it hits the same cache)."""
    parts = ["trainlab reproduce", f"--profile {settings.profile}", f"--edition {settings.edition}"]
    if only:
        parts.append(f"--only {','.join(only)}")
    parts += [f"--out {out}", f"--seed {settings.seed}", f"--device {settings.device}"]
    if settings.data_dir:
        parts.append(f"--data-dir {settings.data_dir}")
    if not settings.allow_fallback:
        parts.append("--no-fallback")
    if not settings.download:
        parts.append("--no-download")
    if lang != "en":
        parts.append(f"--lang {lang}")
    return " ".join(parts)


def _rows(result: Result) -> list[dict[str, Any]]:
    rows = []
    for number in result.numbers:
        entry = book.entry(number.key)
        status, band = book.compare(entry, number)
        rows.append(
            {
                "key": number.key,
                "label": entry.label.as_dict(),
                "kind": entry.kind,
                "ours": number.ours,
                "book": entry.book,
                "band": list(band) if band is not None else None,
                "derivation": entry.derivation.as_dict() if entry.derivation else None,
                "sources": [s.as_dict() for s in entry.sources],
                "decimals": entry.decimals,
                "status": status,
                "spread": number.spread.as_dict() if number.spread else None,
                "detail": number.detail.as_dict() if number.detail else None,
            }
        )
    return rows


def _save_figures(folder: Path, plots: list[Plot], run: Path) -> list[dict[str, Any]]:
    figures = []
    for plot in plots:
        files = {}
        for lang in LANGUAGES:
            with style(lang):
                figure = plot.draw(lang)
                buffer = io.BytesIO()
                figure.savefig(buffer, format="svg")
            path = folder / f"{plot.key}.{lang}.svg"
            atomic_write_bytes(path, buffer.getvalue())
            files[lang] = str(path.relative_to(run))
        figures.append(
            {
                "key": plot.key,
                "files": files,
                "caption": plot.caption.as_dict(),
                "alt": plot.alt.as_dict(),
                "sweep": plot.sweep,
            }
        )
    return figures


def _record(
    key: str, result: Result, ctx: Context, seconds: float, folder: Path, run: Path, command: str
) -> dict[str, Any]:
    section = SECTIONS[key]
    return {
        "key": key,
        "title": section.title.as_dict(),
        "pages": [list(p) for p in section.pages],
        "formulas": [
            {"tex": f.tex, "code": f.code, "caption": f.caption.as_dict()} for f in section.formulas
        ],
        "data": list(ctx.datasets.values()),
        "seconds": round(seconds, 2),
        "seconds_by_kind": {  # what benchmarks/reproduce.py turns into eta.REFERENCE
            **{k: round(v, 2) for k, v in ctx.training_seconds.items()},
            "other": round(max(0.0, seconds - sum(ctx.training_seconds.values())), 2),
        },
        "command": command,
        "settings": ctx.settings.key(),
        "rows": _rows(result),
        "figures": _save_figures(folder, result.plots, run),
        "notes": [n.as_dict() for n in result.notes],
        "exercises": [
            {
                "number": e.number,
                "question": e.question.as_dict(),
                "kind": e.kind,
                "answer": e.answer.as_dict() if e.answer else None,
                "values": e.values,
                "figures": _save_figures(folder, e.plots, run),
                "note": e.note.as_dict() if e.note else None,
            }
            for e in result.exercises
        ],
    }


def _cached(folder: Path, settings: Settings, run: Path, force: bool) -> dict[str, Any] | None:
    path = folder / "result.json"
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if record.get("settings") != settings.key():
        if force:
            return None
        raise CacheMismatch(
            f"{folder} holds a result made with other settings ({record.get('settings')}); this "
            f"run has {settings.key()}. Pass --force to replace it, or choose another --out"
        )
    if any(d.get("fallback") for d in record.get("data", [])):
        return None  # the real data may be reachable this time
    for figure in record.get("figures", []):
        for file in figure["files"].values():
            target = run / file
            if not target.is_file() or target.stat().st_size == 0:
                return None
    return record


def _summary(record: dict[str, Any]) -> str:
    statuses = [r["status"] for r in record["rows"]]
    counts = {s: statuses.count(s) for s in dict.fromkeys(statuses)}
    return ", ".join(f"{v} {k}" for k, v in counts.items()) + f"; {record['seconds']:.1f} s"


def reproduce(
    settings: Settings,
    out: Path,
    only: list[str] | None = None,
    log: TextIO | str | None = "stdout",
    progress: TextIO | str | None = "stderr",
    force: bool = False,
    lang: str = "en",
    wait: bool = False,
) -> dict[str, Any]:
    """Run (or reuse from the cache) the chosen sections, then write results.json and
    index.html covering every section finished with these settings. Returns the results.
    ``log`` (section lines) and ``progress`` (bars) default to this process's stdout and
    stderr; None silences them."""
    from trainlab.report.html import render  # after the runs: the page needs only their records

    log = sys.stdout if log == "stdout" else log  # resolved now: the streams of this call
    progress = sys.stderr if progress == "stderr" else progress
    keys = only or list(SECTIONS)
    unknown = [k for k in keys if k not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    run = run_folder(out, settings).resolve()
    with FolderLock(run, wait=wait):
        records = _run_sections(settings, out, run, keys, log, progress, force, lang)
        document = _document(settings, out, run, records, lang)
        atomic_write_text(run / "results.json", json.dumps(document, indent=1, ensure_ascii=False))
        atomic_write_text(run / "index.html", render(document, run, lang))
    if log:
        log.write(
            f"report: {(run / 'index.html').as_uri()}\nresults: {(run / 'results.json').as_uri()}\n"
        )
    return document


def _predicted(settings: Settings, todo: list[str], log: TextIO | None) -> dict[str, float]:
    """The sections' predicted seconds on this machine (calibrated now, a few seconds), said in
    the log; empty where the profile has no reference times (smoke runs in seconds)."""
    if not todo or settings.profile not in eta.REFERENCE:
        return {}
    predicted = eta.predict(settings.profile, todo, eta.calibrate())
    if log:
        parts = ", ".join(f"{k} {format_seconds(v)}" for k, v in predicted.items())
        log.write(
            f"estimated time on this machine: {format_seconds(sum(predicted.values()))} "
            f"({parts}; from a calibration against {eta.REFERENCE_MACHINE})\n"
        )
        log.flush()
    return predicted


def _run_sections(settings, out, run, keys, log, progress, force, lang) -> list[dict[str, Any]]:
    records = []
    folders = {key: run / "sections" / key for key in keys}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(folder)
    cached = {key: _cached(folders[key], settings, run, force) for key in keys}
    predicted = _predicted(settings, [k for k in keys if cached[k] is None], log)
    bar = Bar(progress, "sections", len(keys), unit="section")
    try:
        for i, key in enumerate(keys, start=1):
            folder = folders[key]
            record = cached[key]
            if record is not None:
                if log:
                    log.write(f"[{i}/{len(keys)}] {key}: cached ({_summary(record)})\n")
            else:
                if log:
                    log.write(f"[{i}/{len(keys)}] {key}: running …\n")
                    log.flush()
                checkpoints = folder / "checkpoints"
                checkpoints.mkdir(exist_ok=True)
                remove_stale_temporaries(checkpoints)
                ctx = Context(settings, checkpoints, progress)
                start = time.perf_counter()
                result = run_section(key, ctx)
                command = command_for(settings, out, [key], lang)
                record = _record(
                    key, result, ctx, time.perf_counter() - start, folder, run, command
                )
                record["predicted_seconds"] = round(predicted[key], 1) if key in predicted else None
                atomic_write_text(
                    folder / "result.json", json.dumps(record, indent=1, ensure_ascii=False)
                )
                if log:
                    guess = f" (predicted {predicted[key]:.0f} s)" if key in predicted else ""
                    log.write(f"[{i}/{len(keys)}] {key}: {_summary(record)}{guess}\n")
            records.append(record)
            bar.update(i, section=key)
    finally:
        bar.close()
    ran = {r["key"] for r in records}
    for key in SECTIONS:  # the report covers every section finished with these settings
        if key not in ran:
            try:
                earlier = _cached(run / "sections" / key, settings, run, force=True)
            except CacheMismatch:
                earlier = None
            if earlier is not None:
                records.append(earlier)
    records.sort(key=lambda r: list(SECTIONS).index(r["key"]))
    return records


def _document(settings, out, run, records, lang) -> dict[str, Any]:
    present = {r["key"] for r in records}
    missing = [
        {
            "key": k,
            "title": SECTIONS[k].title.as_dict(),
            "command": command_for(settings, out, [k], lang),
        }
        for k in SECTIONS
        if k not in present
    ]
    return {
        "schema": SCHEMA,
        "trainlab_version": trainlab.__version__,
        "torch_version": torch.__version__,
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "settings": settings.key(),
        "command": command_for(settings, out, lang=lang),
        "folder": str(run),
        "machine": describe(settings.device),
        "sections": records,
        "missing": missing,
        "errata": errata.evidence(),
    }
