"""IDX parsing (generated, corrupt and truncated files) and atomic, verified downloads served
from a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import io

import pytest
import torch

from trainlab.data.download import download
from trainlab.data.idx import IDX_IMAGES, IDX_LABELS, read_idx, write_idx


def test_round_trip_of_generated_idx_files(tmp_path):
    images = torch.randint(0, 256, (7, 5, 4), dtype=torch.uint8)
    labels = torch.randint(0, 10, (7,), dtype=torch.uint8)
    write_idx(tmp_path / "i.gz", images)
    write_idx(tmp_path / "l", labels, compress=False)
    assert torch.equal(read_idx(tmp_path / "i.gz", IDX_IMAGES), images)
    assert torch.equal(read_idx(tmp_path / "l", IDX_LABELS), labels)


def test_bad_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes((1234).to_bytes(4, "big") + bytes(8))
    with pytest.raises(ValueError, match="magic number 1234"):
        read_idx(path)
    write_idx(path, torch.zeros(3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="magic number 2049, expected 2051"):
        read_idx(path, IDX_IMAGES)


def test_truncated_data_and_gzip(tmp_path):
    path = tmp_path / "t"
    write_idx(path, torch.zeros(4, 3, 3, dtype=torch.uint8), compress=False)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(ValueError, match="truncated or corrupt"):
        read_idx(path)
    zipped = tmp_path / "t.gz"
    zipped.write_bytes(gzip.compress(bytes(100))[:20])
    with pytest.raises(ValueError, match="truncated or corrupt gzip"):
        read_idx(zipped)


def test_download_verifies_and_writes_atomically(server, tmp_path):
    base, root = server
    payload = bytes(range(256)) * 1000
    (root / "file.bin").write_bytes(payload)
    target = tmp_path / "cache" / "file.bin"
    md5 = hashlib.md5(payload).hexdigest()
    assert download(base + "file.bin", target, md5, progress=None) == target
    assert target.read_bytes() == payload
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]  # no temporary left


def test_a_wrong_checksum_leaves_nothing_behind(server, tmp_path):
    base, root = server
    (root / "file.bin").write_bytes(b"not what was published")
    target = tmp_path / "cache" / "file.bin"
    with pytest.raises(ValueError, match="corrupt or the file changed upstream"):
        download(base + "file.bin", target, "0" * 32, progress=None)
    assert list(target.parent.iterdir()) == []


def test_an_unreachable_file_raises_and_leaves_nothing(server, tmp_path):
    base, _ = server
    target = tmp_path / "cache" / "missing.bin"
    with pytest.raises(OSError):
        download(base + "missing.bin", target, "0" * 32, progress=None)
    assert list(target.parent.iterdir()) == []


def test_progress_is_one_plain_line_without_a_terminal(server, tmp_path):
    base, root = server
    (root / "f").write_bytes(b"x" * 300_000)
    stream = io.StringIO()
    download(base + "f", tmp_path / "f", hashlib.md5(b"x" * 300_000).hexdigest(), progress=stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("f: 0.3/0.3 MiB")
