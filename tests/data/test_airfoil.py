"""The airfoil loader: checksum, parsing, the book's standardization."""

from __future__ import annotations

import io
import shutil

import pytest
import torch

from trainlab.data import airfoil
from trainlab.data.airfoil import AIRFOIL, load_airfoil, parse_table

AIRFOIL_FILE = AIRFOIL.name


def test_real_file_is_standardized_like_the_book(shared_data):
    data = load_airfoil(shared_data)
    assert data.features.shape == (1500, 5) and data.targets.shape == (1500,)
    assert data.features.dtype == torch.float32
    assert "airfoil" in data.source
    # standardized over all 1503 rows with the population std, then 1500 kept
    raw = parse_table((shared_data / "airfoil" / AIRFOIL_FILE).read_text(), 6)
    full = (raw - raw.mean(0)) / raw.std(0, unbiased=False)
    torch.testing.assert_close(
        full.mean(0), torch.zeros(6, dtype=torch.float64), atol=1e-12, rtol=0
    )
    torch.testing.assert_close(full.std(0, unbiased=False), torch.ones(6, dtype=torch.float64))
    torch.testing.assert_close(data.targets, full[:1500, -1].float())
    assert raw.shape == (1503, 6)


def test_a_corrupted_copy_is_refused(shared_data, tmp_path):
    copy = tmp_path / AIRFOIL_FILE
    shutil.copy(shared_data / "airfoil" / AIRFOIL_FILE, copy)
    copy.write_bytes(copy.read_bytes().replace(b"126.201", b"126.202", 1))
    with pytest.raises(ValueError, match=r"does not have the published sha1 76e5be15"):
        load_airfoil(tmp_path)


def test_missing_file_says_where_it_looked_and_names_the_fix(tmp_path, monkeypatch):
    from trainlab.data import DataUnavailable

    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    with pytest.raises(
        FileNotFoundError, match=f"{AIRFOIL_FILE} not found .*{tmp_path.name}"
    ) as info:
        load_airfoil(tmp_path, cache_dir=tmp_path / "cache", download=False)
    err = info.value
    assert isinstance(err, DataUnavailable) and str(tmp_path / "cache" / "airfoil") in str(err)
    assert "data_dir=" in str(err) and "--data-dir" not in str(err)
    assert "--data-dir DIR" in err.message(cli=True) and "data_dir=" not in err.message(cli=True)


def test_offline_fallback_is_announced_real_regression_data(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    stream = io.StringIO()
    data = load_airfoil(
        tmp_path, cache_dir=tmp_path / "cache", download=False, fallback=True, progress=stream
    )
    assert data.fallback and data.name.startswith("diabetes")
    assert data.source.startswith("bundled diabetes data")
    assert len(stream.getvalue().splitlines()) == 1 and "flagged" in stream.getvalue()
    assert data.features.shape == (442, 10) and data.targets.shape == (442,)
    torch.testing.assert_close(
        data.targets.double().mean(), torch.tensor(0.0, dtype=torch.float64), atol=1e-6, rtol=0
    )


def test_download_into_the_cache_then_offline(server, shared_data, tmp_path, monkeypatch):
    base, root = server
    shutil.copy(shared_data / "airfoil" / AIRFOIL_FILE, root / AIRFOIL_FILE)
    monkeypatch.setattr(airfoil, "AIRFOIL_URLS", (base,))
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    cache = tmp_path / "cache"
    first = load_airfoil(tmp_path / "empty", cache_dir=cache, progress=None)
    assert (cache / "airfoil" / AIRFOIL_FILE).is_file()
    (root / AIRFOIL_FILE).unlink()
    again = load_airfoil(tmp_path / "empty", cache_dir=cache, download=False)
    torch.testing.assert_close(again.features, first.features)


def test_environment_variable_names_the_folder(shared_data, monkeypatch):
    monkeypatch.setenv("TRAINLAB_DATA_DIR", str(shared_data))
    assert load_airfoil().features.shape == (1500, 5)


def test_malformed_tables():
    with pytest.raises(ValueError, match="line 2 has 2 fields, expected 3"):
        parse_table("1 2 3\n4 5\n", 3)
    with pytest.raises(ValueError, match="line 1 holds a non-number"):
        parse_table("1 x 3\n", 3)
    for word in ("nan", "inf", "-inf"):  # float() reads them; a data file must not hold them
        with pytest.raises(ValueError, match="line 1 holds a non-finite number"):
            parse_table(f"1 {word} 3\n", 3)
