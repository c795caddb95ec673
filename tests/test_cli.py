"""The command line: help, one-line errors for bad input, and a short real run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import require_installed
from trainlab.cli import main


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in (
        "--model",
        "--optimizer",
        "--lr",
        "--batch-size",
        "--epochs",
        "--resize",
        "--data-dir",
        "--out",
        "--resume",
        "--seed",
        "--device",
        "--fallback",
    ):
        assert flag in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--lr", "-1"], "argument --lr: must be a positive number, got -1.0"),
        (["train", "--epochs", "0"], "argument --epochs: must be a positive integer, got 0"),
        (["train", "--model", "vgg"], "argument --model: invalid choice: 'vgg'"),
    ],
)
def test_bad_flags_get_one_line_not_a_traceback(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_missing_data_offline_is_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("TRAINLAB_CACHE_DIR", str(tmp_path / "cache"))
    code = main(["train", "--data-dir", str(tmp_path), "--no-download", "--out", str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and err[0].startswith("trainlab: error: Fashion-MNIST")


def test_a_short_run_writes_history_figure_and_checkpoint(shared_data, tmp_path):
    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "trainlab",
        "train",
        "--data-dir",
        str(shared_data),
        "--subset",
        "1024",
        "--epochs",
        "2",
        "--batch-size",
        "128",
        "--out",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("epoch ")]
    assert len(lines) == 2 and lines[1].startswith("epoch 2, loss ")
    for name in (
        "history.csv",
        "history.json",
        "curves.png",
        "checkpoint.json",
        "checkpoint.safetensors",
    ):
        assert (out / name).is_file()
    history = json.loads((out / "history.json").read_text())
    assert "Fashion-MNIST" in history["dataset"] and len(history["history"]) == 2
    resumed = subprocess.run(
        [*command[:-4], "--epochs", "3", "--out", str(out), "--resume", "--lr", "0.01"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 1
    assert resumed.stderr.strip().endswith("lr: checkpoint 0.001, now 0.01")


def test_train_runs_under_jemalloc_when_installed_unless_turned_off(shared_data, tmp_path):
    from trainlab.cli import JEMALLOC

    require_installed(
        any(os.path.exists(p) for p in JEMALLOC),
        "jemalloc is not installed (apt-get install libjemalloc2)",
    )
    base = [
        sys.executable,
        "-m",
        "trainlab",
        "train",
        "--data-dir",
        str(shared_data),
        "--subset",
        "256",
        "--epochs",
        "1",
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "TRAINLAB_ALLOCATOR")}
    fast = subprocess.run(
        [*base, "--out", str(tmp_path / "a")], capture_output=True, text=True, env=env, timeout=300
    )
    assert fast.returncode == 0, fast.stderr[-2000:]
    assert "(allocator: jemalloc)" in fast.stdout
    env["TRAINLAB_ALLOCATOR"] = "system"
    plain = subprocess.run(
        [*base, "--out", str(tmp_path / "b")], capture_output=True, text=True, env=env, timeout=300
    )
    assert plain.returncode == 0 and "(allocator: system malloc)" in plain.stdout
