"""`trainlab reproduce`: every section end to end (smoke profile), the report's schema and
figures, exact book numbers, rendering in a real browser, and resuming after SIGINT."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import require_installed
from trainlab.experiments.sections import SECTIONS, Settings
from trainlab.report.reproduce import SCHEMA, reproduce

NUMBER_KEYS = {"name", "ours", "book", "kind", "band", "status"}
SECTION_KEYS = {
    "key",
    "title",
    "formulas",
    "dataset",
    "notes",
    "seconds",
    "figures",
    "command",
    "settings",
    "numbers",
}


@pytest.fixture(scope="module")
def report(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    document = reproduce(Settings("smoke", shared_data), out, log=None)
    return out, document


def test_results_json_has_the_schema(report):
    out, document = report
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(document))
    assert on_disk["schema"] == SCHEMA and on_disk["profile"] == "smoke"
    assert [s["key"] for s in on_disk["sections"]] == list(SECTIONS)
    for section in on_disk["sections"]:
        assert set(section) == SECTION_KEYS
        assert section["seconds"] >= 0 and section["formulas"] and section["numbers"]
        assert section["command"].startswith(
            f"trainlab reproduce --profile smoke --only {section['key']}"
        )
        for number in section["numbers"]:
            assert set(number) == NUMBER_KEYS
            assert number["kind"] in ("exact", "band", "info")
            assert number["status"] in ("exact match", "mismatch", "in band", "out of band", "—")
        for figure in section["figures"]:
            assert (out / figure).read_bytes()[:4] == b"\x89PNG"


def test_index_html_embeds_every_figure(report):
    out, document = report
    page = (out / "index.html").read_text()
    figures = [f for s in document["sections"] for f in s["figures"]]
    assert len(figures) >= 20
    for figure in figures:
        assert f'data-file="{figure}"' in page
    assert page.count("data:image/png;base64,") == len(figures)
    for section in document["sections"]:
        assert f'<section id="{section["key"]}">' in page and f'href="#{section["key"]}"' in page


def test_deterministic_numbers_match_the_book_exactly(report):
    _, document = report
    numbers = {n["name"]: n for s in document["sections"] for n in s["numbers"]}
    for name in (
        "gd x², η=0.2",
        "gd x², η=1.1",
        "gd x·cos(cx), η=2",
        "newton x·cos(cx), η=1",
        "newton x·cos(cx), η=0.5",
        "book ResNet-18 parameters",
    ):
        assert numbers[name]["status"] == "exact match", numbers[name]
    assert numbers["gd x², η=0.2"]["ours"] == 0.06046617599999997
    exact = [n for n in numbers.values() if n["kind"] == "exact"]
    assert len(exact) >= 20 and all(n["status"] == "exact match" for n in exact)
    bands = [n for n in numbers.values() if n["kind"] == "band"]
    assert bands and all(n["status"] == "in band" for n in bands)  # the airfoil runs


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_page_renders_in_a_headless_browser(report, tmp_path):
    browser = _chromium()
    require_installed(
        browser is not None,
        "Chromium is not installed (apt-get install chromium); the page was not rendered",
    )
    out, _ = report
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,3000",
            f"--screenshot={shot}",
            (out / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 20_000


def test_an_interrupted_run_resumes_from_the_cached_sections(shared_data, tmp_path):
    out = tmp_path / "report"
    command = [
        sys.executable,
        "-m",
        "trainlab",
        "reproduce",
        "--profile",
        "smoke",
        "--only",
        "batchnorm,resnet",
        "--out",
        str(out),
        "--data-dir",
        str(shared_data),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = out / "sections" / "batchnorm" / "result.json"
    deadline = time.monotonic() + 300
    while not first.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert first.exists()
    process.send_signal(signal.SIGINT)  # resnet is running now
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 130, stderr[-2000:]
    assert "finished sections are cached" in stderr
    assert not (out / "sections" / "resnet" / "result.json").exists()
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "[1/2] batchnorm: cached" in again.stdout
    assert "[2/2] resnet: 3 exact match" in again.stdout
    assert Path(out / "index.html").is_file()


def test_offline_without_data_runs_on_the_announced_fallback(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("TRAINLAB_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings("smoke", tmp_path / "no-data", download=False)
    document = reproduce(settings, tmp_path / "out", only=["batchnorm", "minibatch_sgd"], log=None)
    page = (tmp_path / "out" / "index.html").read_text()
    for section in document["sections"]:
        assert section["dataset"].startswith("FALLBACK: scikit-learn")
        assert all(n["kind"] != "band" for n in section["numbers"])  # nothing claims the band
    assert page.count("This section ran on fallback data") == 2
    assert "These sections ran on fallback data" in page
