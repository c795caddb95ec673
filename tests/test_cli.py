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
        (["train", "--lr", "-1"], "argument --lr: must be a positive finite number, got -1.0"),
        (["train", "--seed", str(2**70)], "argument --seed: must lie in [0, 2**63 − 1]"),
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
    assert str(tmp_path) in err[0] and "--data-dir DIR" in err[0] and "data_dir=" not in err[0]


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


def _one_line(capsys, argv, fragment, code=None):
    result = main(argv)
    text = capsys.readouterr().err
    err = [line for line in text.splitlines() if line.startswith("trainlab: error:")]
    assert len(err) == 1 and fragment in err[0] and "Traceback" not in text, text
    if code is not None:
        assert result == code
    return err[0]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--resize", "1", "--model", "densenet"], "--resize 1: too small for densenet"),
        (["--resize", "96"], "--resize 96: LeNet's first fully connected layer takes"),
        (["--resize", "5000", "--model", "resnet18"], "GiB for resnet18's activations"),
        (["--device", "bogus"], "--device 'bogus' is not a device"),
        (["--device", "meta"], "trainlab trains on cpu or cuda[:N], not meta"),
    ],
)
def test_flags_that_cannot_work_are_refused_before_any_work(tmp_path, capsys, extra, fragment):
    _one_line(capsys, ["train", "--out", str(tmp_path / "o"), *extra], fragment, code=2)
    assert not (tmp_path / "o").exists()  # nothing was started


def test_an_output_folder_that_is_a_file_or_read_only_is_refused_at_once(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    _one_line(capsys, ["train", "--out", str(blocker)], "is a file, not a folder", code=2)
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):  # root ignores permissions: nothing to test here
            return
        _one_line(capsys, ["train", "--out", str(locked)], "is not writable", code=2)
    finally:
        locked.chmod(0o700)


def test_resume_without_a_checkpoint_is_an_error(tmp_path, capsys):
    _one_line(capsys, ["train", "--out", str(tmp_path), "--resume"], "--resume: no checkpoint in")


def test_a_second_run_on_the_same_out_is_refused_naming_the_first(tmp_path, capsys):
    from trainlab._io import FolderLock

    with FolderLock(tmp_path):
        line = _one_line(capsys, ["train", "--out", str(tmp_path), "--subset", "64"], "in use by")
    assert f"PID {os.getpid()}" in line and "--wait" in line


def test_a_full_disk_is_one_line(shared_data, tmp_path, capsys, monkeypatch):
    import errno

    import trainlab.train.checkpoint as checkpoint

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", full)
    argv = [
        "train",
        "--data-dir",
        str(shared_data),
        "--subset",
        "64",
        "--epochs",
        "1",
        "--out",
        str(tmp_path),
    ]
    _one_line(capsys, argv, "the disk is full", code=1)


def test_help_and_version_do_not_import_torch():
    probe = (
        "import sys, io, contextlib\n"
        "from trainlab.cli import main\n"
        "for argv in (['--help'], ['--version'], ['reproduce', '--help']):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try: main(argv)\n"
        "        except SystemExit: pass\n"
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr
    version = subprocess.run(
        [sys.executable, "-m", "trainlab", "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.strip().startswith("trainlab ")


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["reproduce", "--help"])
    text = capsys.readouterr().out
    assert "(default: quick)" in text and "(default: course)" in text and "--threads" in text
    assert "(default: 0)" in text  # the seed
    assert "(default: None)" not in text and "(default: False)" not in text  # switches: noise


def test_sigint_during_train_is_one_line_and_resumable(shared_data, tmp_path):
    import signal
    import time

    out = tmp_path / "run"
    command = [
        sys.executable,
        "-m",
        "trainlab",
        "train",
        "--data-dir",
        str(shared_data),
        "--subset",
        "4096",
        "--epochs",
        "30",
        "--batch-size",
        "64",
        "--out",
        str(out),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.safetensors").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "interrupted: the checkpoint after the last finished epoch is kept" in err
    assert "Traceback" not in err
