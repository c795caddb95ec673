"""The generated pages in docs/ are current: regenerate them with
``python -m trainlab.experiments.docs docs``."""

from pathlib import Path

import pytest

from trainlab.experiments.docs import PAGES, write

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("name", sorted(PAGES))
def test_committed_page_is_current(name):
    assert (DOCS / name).read_text(encoding="utf-8") == PAGES[name](), (
        f"docs/{name} is stale: regenerate it with python -m trainlab.experiments.docs docs"
    )


def test_write_produces_every_page(tmp_path):
    write(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(PAGES)
