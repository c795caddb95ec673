"""Fashion-MNIST: the real files, the cache, downloads from a local server, and the fallback."""

from __future__ import annotations

import hashlib
import io
import shutil

import pytest
import torch

from trainlab.data import fashion_mnist as fm
from trainlab.data.batches import epoch_order, image_batches
from trainlab.data.idx import write_idx
from trainlab.data.locate import DataFile


@pytest.fixture(scope="module")
def real(request):
    return fm.load_fashion_mnist(request.getfixturevalue("shared_data"), download=False)


def test_the_real_data(real):
    assert real.train_images.shape == (60_000, 1, 28, 28) and real.train_images.dtype == torch.uint8
    assert real.test_images.shape == (10_000, 1, 28, 28)
    assert real.train_labels.bincount().tolist() == [6000] * 10
    assert real.test_labels.bincount().tolist() == [1000] * 10
    pixels = real.train_images.double() / 255
    assert float(pixels.mean()) == pytest.approx(0.2860, abs=5e-5)
    assert float(pixels.std()) == pytest.approx(0.3530, abs=5e-5)
    assert real.classes[0] == "t-shirt" and real.classes[-1] == "ankle boot"
    assert "Fashion-MNIST" in real.source


def test_batches_are_scaled_resized_and_reproducible(real):
    x, y = next(
        image_batches(
            real.train_images, real.train_labels, 64, shuffle=True, seed=1, epoch=2, resize=96
        )
    )
    assert x.shape == (64, 1, 96, 96) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    assert torch.equal(epoch_order(100, 1, 2), epoch_order(100, 1, 2))
    assert not torch.equal(epoch_order(100, 1, 2), epoch_order(100, 1, 3))
    batches = list(image_batches(real.test_images[:10], real.test_labels[:10], 4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    rest = list(image_batches(real.test_images[:10], real.test_labels[:10], 4, start=2))
    assert torch.equal(rest[0][0], batches[2][0])


def _fake_files(folder):
    """Small valid IDX files under the real names, and their MD5s."""
    folder.mkdir(parents=True, exist_ok=True)
    md5s = {}
    for key, name in ((k, f.name) for k, f in fm.FILES.items()):
        n = 12 if key.startswith("train") else 6
        tensor = (
            torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8)
            if key.endswith("images")
            else torch.arange(n, dtype=torch.uint8) % 10
        )
        write_idx(folder / name, tensor)
        md5s[key] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    return md5s


def test_download_into_the_cache_then_offline_from_the_cache(server, tmp_path, monkeypatch):
    base, root = server
    md5s = _fake_files(root)
    monkeypatch.setattr(fm, "FILES", {k: DataFile(f.name, md5s[k]) for k, f in fm.FILES.items()})
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    cache = tmp_path / "cache"
    stream = io.StringIO()
    data = fm.load_fashion_mnist(cache_dir=cache, base_urls=(base,), progress=stream)
    assert data.train_images.shape == (12, 1, 28, 28) and len(data.test_labels) == 6
    assert len(stream.getvalue().splitlines()) == 4  # one progress line per file
    assert sorted(p.name for p in (cache / "fashion-mnist").iterdir()) == sorted(
        f.name for f in fm.FILES.values()
    )
    for f in root.iterdir():  # the server loses the files: the cache is enough now
        f.unlink()
    again = fm.load_fashion_mnist(cache_dir=cache, base_urls=(base,), download=False)
    assert torch.equal(again.train_images, data.train_images)


def test_a_download_with_the_wrong_checksum_is_not_kept(server, tmp_path, monkeypatch):
    base, root = server
    _fake_files(root)
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match=r"download failed: .* corrupt"):
        fm.load_fashion_mnist(cache_dir=tmp_path / "cache", base_urls=(base,), progress=None)
    assert list((tmp_path / "cache" / "fashion-mnist").iterdir()) == []


def test_a_corrupt_local_file_is_refused(shared_data, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    for name in (f.name for f in fm.FILES.values()):
        shutil.copy(shared_data / "fashion-mnist" / name, folder / name)
    name = fm.FILES["test_labels"].name
    (folder / name).write_bytes((folder / name).read_bytes()[:-10])
    with pytest.raises(ValueError, match="does not have the published md5"):
        fm.load_fashion_mnist(folder, cache_dir=tmp_path / "cache", download=False)


def test_offline_without_data_is_one_clear_error_or_the_announced_fallback(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    with pytest.raises(FileNotFoundError, match=r"Fashion-MNIST: .* not found .* fallback=True"):
        fm.load_fashion_mnist(tmp_path, cache_dir=tmp_path / "cache", download=False)
    stream = io.StringIO()
    data = fm.load_fashion_mnist(
        tmp_path, cache_dir=tmp_path / "cache", download=False, fallback=True, progress=stream
    )
    assert data.fallback and data.source.startswith("bundled 8×8 digits")
    assert "bundled 8×8 digits" in stream.getvalue() and len(stream.getvalue().splitlines()) == 1
    assert data.train_images.shape[1:] == (1, 28, 28) and data.train_images.dtype == torch.uint8
    assert len(data.train_labels) + len(data.test_labels) == 1797
    assert set(data.train_labels.tolist()) == set(range(10))
