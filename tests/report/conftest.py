"""One smoke reproduction shared by every report test (it takes ~25 s), its page in both
languages, and one headless Chromium that opens them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import require_installed
from trainlab.experiments.settings import Settings
from trainlab.report.html import render
from trainlab.report.reproduce import reproduce

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass(frozen=True)
class Smoke:
    """A finished smoke run: its results document, its folder and its two pages."""

    document: dict[str, Any]
    run: Path
    en: Path
    zh: Path


@pytest.fixture(scope="session")
def smoke(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Smoke:
    out = tmp_path_factory.mktemp("report")
    document = reproduce(Settings("smoke", data_dir=shared_data), out, log=None, progress=None)
    run = Path(document["folder"])
    zh = run / "index.zh.html"
    zh.write_text(render(document, run, "zh"), encoding="utf-8")
    return Smoke(document, run, run / "index.html", zh)


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $TRAINLAB_ARTIFACTS, else a folder of this test session."""
    folder = os.environ.get("TRAINLAB_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's headless Chromium driven by its chromedriver, logging the console and the
    network (the DevTools performance log)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    require_installed(
        chromium is not None,
        "Chromium is not installed (apt-get install chromium); the report page was not rendered",
    )
    require_installed(
        driver is not None,
        "chromedriver is not installed (apt-get install chromium-driver); the report page was "
        "not rendered",
    )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.binary_location = chromium
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    session = webdriver.Chrome(options=options, service=Service(driver))
    try:
        yield session
    finally:
        session.quit()
