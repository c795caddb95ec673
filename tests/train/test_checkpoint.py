"""Checkpoints: one safetensors file with the JSON state and a SHA-256 in its metadata, written
atomically beside the previous one; verified on load, the previous one used when the newest is
damaged; never unpickled. Kill points: a process stopped at every write boundary leaves a
checkpoint that loads."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from trainlab._io import remove_stale_temporaries
from trainlab.train.checkpoint import (
    CheckpointError,
    checkpoint_path,
    load_checkpoint,
    previous_path,
    save_checkpoint,
)


def _state(epoch=2):
    torch.manual_seed(epoch)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": epoch,
        "history": [{"loss": 0.5}],
        "rng": torch.get_rng_state(),
        "none": None,
    }


def test_round_trip(tmp_path):
    state = _state()
    save_checkpoint(tmp_path / "ck", state)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.safetensors"]
    loaded = load_checkpoint(tmp_path / "ck")
    for key, value in state["model"].items():
        assert torch.equal(loaded["model"][key], value)
    assert loaded["optimizer"]["param_groups"] == state["optimizer"]["param_groups"]
    assert set(loaded["optimizer"]["state"]) == {0, 1, 2, 3}  # integer keys survive JSON
    assert torch.equal(
        loaded["optimizer"]["state"][0]["exp_avg"], state["optimizer"]["state"][0]["exp_avg"]
    )
    assert loaded["epoch"] == 2 and loaded["none"] is None and loaded["history"] == [{"loss": 0.5}]
    assert torch.equal(loaded["rng"], state["rng"])


def test_the_state_is_plain_json_in_the_header_and_nothing_is_pickled(tmp_path):
    save_checkpoint(tmp_path / "ck", _state())
    data = (tmp_path / "ck.safetensors").read_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    document = json.loads(header["__metadata__"]["trainlab"])
    assert (
        document["format"] == "trainlab-checkpoint-2"
        and len(header["__metadata__"]["sha256"]) == 64
    )
    assert b"pickle" not in data[:4000]


def test_any_changed_byte_is_detected_and_the_previous_checkpoint_is_used(tmp_path):
    save_checkpoint(tmp_path / "ck", _state(1))
    save_checkpoint(tmp_path / "ck", _state(2))
    assert previous_path(tmp_path / "ck").is_file()
    path = checkpoint_path(tmp_path / "ck")
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # a tensor byte
    path.write_bytes(bytes(data))
    log = __import__("io").StringIO()
    assert load_checkpoint(tmp_path / "ck", log=log)["epoch"] == 1
    assert "SHA-256" in log.getvalue() and "previous checkpoint" in log.getvalue()
    previous_path(tmp_path / "ck").write_bytes(b"")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_checkpoint(tmp_path / "ck")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing")


def test_an_edited_state_is_detected(tmp_path):
    """The JSON is hashed with the tensors: editing the epoch in the header is caught."""
    save_checkpoint(tmp_path / "ck", _state(2))
    path = checkpoint_path(tmp_path / "ck")
    data = path.read_bytes()
    edited = data.replace(b'\\"epoch\\", 2', b'\\"epoch\\", 5', 1)
    assert edited != data
    path.write_bytes(edited)
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(tmp_path / "ck")


def test_non_finite_weights_are_refused_with_the_right_reason(tmp_path):
    state = _state()
    state["model"]["0.weight"] = torch.full((4, 3), float("nan"))
    save_checkpoint(tmp_path / "ck", state)
    with pytest.raises(CheckpointError, match=r"non-finite values in state\.model\.0\.weight"):
        load_checkpoint(tmp_path / "ck")


def test_overwriting_leaves_only_the_newest_and_the_previous(tmp_path):
    for epoch in range(3):
        save_checkpoint(tmp_path / "ck", {"epoch": epoch, "w": torch.full((2,), float(epoch))})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.prev.safetensors", "ck.safetensors"]
    assert load_checkpoint(tmp_path / "ck")["epoch"] == 2


def test_a_full_disk_keeps_the_previous_checkpoint_and_leaves_no_temporary(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "ck", {"epoch": 1, "w": torch.ones(2)})
    real_fsync = os.fsync

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError) as info:
        save_checkpoint(tmp_path / "ck", {"epoch": 2, "w": torch.zeros(2)})
    assert info.value.errno == errno.ENOSPC
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert load_checkpoint(tmp_path / "ck")["epoch"] == 1


# A process that saves epochs 1 and 2 and dies (os._exit, no clean-up, like SIGKILL) at the
# k-th call of one of the write steps while saving epoch 2.
KILLED_SAVE = textwrap.dedent("""
    import os, sys, pathlib, torch
    from trainlab.train.checkpoint import save_checkpoint
    folder, step, k = pathlib.Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    save_checkpoint(folder / "ck", {"epoch": 1, "w": torch.full((1000,), 1.0)})
    calls = [0]
    real = {"write": os.write, "fsync": os.fsync, "replace": os.replace, "chmod": os.chmod}
    def dying(*args, **kwargs):
        calls[0] += 1
        if calls[0] == k:
            os._exit(9)
        return real[step](*args, **kwargs)
    setattr(os, step, dying)
    save_checkpoint(folder / "ck", {"epoch": 2, "w": torch.full((1000,), 2.0)})
    os._exit(0)
""")


@pytest.mark.parametrize(
    ("step", "k"), [(s, k) for s in ("fsync", "replace", "chmod") for k in (1, 2)]
)
def test_a_kill_at_any_write_step_leaves_a_checkpoint_that_loads(tmp_path, step, k):
    script = tmp_path / "save.py"
    script.write_text(KILLED_SAVE)
    folder = tmp_path / "run"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, str(script), str(folder), step, str(k)], capture_output=True
    )
    assert done.returncode in (0, 9), done.stderr.decode()[-2000:]
    epoch = load_checkpoint(folder / "ck")["epoch"]
    assert epoch in (1, 2)
    if done.returncode == 0:
        assert epoch == 2
    remove_stale_temporaries(folder)
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
