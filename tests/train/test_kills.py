"""SIGKILL at random moments of a real LeNet-BN run (``trainlab train`` on Fashion-MNIST):
every interrupted run resumes, never from a torn checkpoint, leaves no temporary behind, and
ends with exactly the weights and history of a run that was never interrupted."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

KILLS = int(os.environ.get("TRAINLAB_TEST_KILLS", "30"))  # more by hand, e.g. 100
# 10 epochs of 1,200 images: a checkpoint every ~0.1–0.3 s, so random kills land in training,
# in evaluation and in the checkpoint writes alike
ARGS = ["--model", "lenet-bn", "--epochs", "10", "--subset", "1200", "--batch-size", "128"]


def _command(data: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "trainlab",
        "train",
        *ARGS,
        "--data-dir",
        str(data),
        "--out",
        str(out),
        "--resume-if-any",
    ]


def _env() -> dict[str, str]:
    return {**os.environ, "TRAINLAB_ALLOCATOR": "system", "OMP_NUM_THREADS": "1"}


def _final(out: Path) -> tuple[dict, list]:
    """The checkpoint's tensors and the history without its timings."""
    weights = load_file(str(out / "checkpoint.safetensors"))
    history = json.loads((out / "history.json").read_text())["history"]
    timing = {"examples_per_s", "seconds", "data_seconds"}
    return weights, [{k: v for k, v in epoch.items() if k not in timing} for epoch in history]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_thirty_random_kills_lose_nothing(shared_data, tmp_path):
    reference = tmp_path / "reference"
    done = subprocess.run(
        _command(shared_data, reference), env=_env(), capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rng = random.Random(20261202)
    kills, rounds = 0, []
    while kills < KILLS:
        out = tmp_path / f"round{len(rounds)}"
        rounds.append(out)
        while kills < KILLS:
            process = subprocess.Popen(
                _command(shared_data, out),
                env=_env(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(rng.uniform(1.0, 4.0))
            if process.poll() is not None:  # finished before the kill: next round
                assert process.returncode == 0, process.stderr.read().decode()[-2000:]
                break
            process.send_signal(signal.SIGKILL)
            process.wait()
            process.stderr.close()
            kills += 1
    for out in rounds:
        resumed = subprocess.run(
            _command(shared_data, out), env=_env(), capture_output=True, text=True, timeout=600
        )
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert "SHA-256" not in resumed.stderr, resumed.stderr[-2000:]  # never a torn file
        assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
        weights, history = _final(out)
        want_weights, want_history = _final(reference)
        assert weights.keys() == want_weights.keys()
        assert all((weights[k] == want_weights[k]).all() for k in weights), out.name
        assert history == want_history, out.name
