"""Checkpoints: safetensors + JSON, atomic, verified, never unpickled."""

from __future__ import annotations

import json

import pytest
import torch

from trainlab.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


def _state():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    model(torch.randn(5, 3)).sum().backward()
    optimizer.step()
    return {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": 2,
        "history": [{"loss": 0.5}],
        "rng": torch.get_rng_state(),
        "none": None,
    }


def test_round_trip(tmp_path):
    state = _state()
    save_checkpoint(tmp_path / "ck", state)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]
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


def test_the_json_is_plain_json_and_nothing_is_pickled(tmp_path):
    save_checkpoint(tmp_path / "ck", _state())
    document = json.loads((tmp_path / "ck.json").read_text())
    assert document["format"] == "trainlab-checkpoint-1"
    assert b"pickle" not in (tmp_path / "ck.safetensors").read_bytes()[:2000]


def test_a_mismatched_or_damaged_pair_is_refused(tmp_path):
    save_checkpoint(tmp_path / "a", _state())
    save_checkpoint(tmp_path / "b", {"x": torch.ones(2)})
    (tmp_path / "b.safetensors").replace(tmp_path / "a.safetensors")
    with pytest.raises(CheckpointError, match=r"does not match .* \(SHA-256 differs\)"):
        load_checkpoint(tmp_path / "a")
    (tmp_path / "b.json").write_text("{not json")
    (tmp_path / "b.safetensors").write_bytes(b"")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / "b")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing")


def test_overwriting_leaves_no_temporary_files(tmp_path):
    for epoch in range(3):
        save_checkpoint(tmp_path / "ck", {"epoch": epoch, "w": torch.full((2,), float(epoch))})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck.json", "ck.safetensors"]
    assert load_checkpoint(tmp_path / "ck")["epoch"] == 2
