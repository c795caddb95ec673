"""The training loop: history, exact resume (also after SIGKILL), refusals, non-finite loss."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from torch import nn

from trainlab.data.fashion_mnist import digits_fallback, load_fashion_mnist, subset
from trainlab.models import lenet
from trainlab.train import CheckpointError, NonFiniteLoss, fit


def _small_data():
    return subset(digits_fallback("test data", size=28), 600, 200)


def _run(data, epochs, checkpoint=None, resume=False, lr=1e-3, seed=0, init_seed=0):
    torch.manual_seed(init_seed)
    model = lenet()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = fit(
        model,
        data,
        optimizer,
        epochs,
        batch_size=64,
        seed=seed,
        checkpoint=checkpoint,
        resume=resume,
        config={"lr": lr},
        log=None,
        progress=None,
    )
    return model, history


def test_history_and_learning():
    _, history = _run(_small_data(), 3)
    assert [h.epoch for h in history] == [1, 2, 3]
    assert history[-1].loss < history[0].loss
    assert history[-1].test_acc > 0.5  # digits are easy: well above chance (0.1)
    assert all(h.examples_per_s > 0 and 0 <= h.data_seconds <= h.seconds for h in history)


def test_same_seed_same_history():
    data = _small_data()
    first, second = _run(data, 2)[1], _run(data, 2)[1]
    assert [h.loss for h in first] == [h.loss for h in second]


def test_resume_equals_an_uninterrupted_run_bit_for_bit(tmp_path):
    data = _small_data()
    straight, _ = _run(data, 3)
    _run(data, 2, checkpoint=tmp_path / "ck")
    # a different initialization is overwritten by the checkpoint's weights
    resumed, history = _run(data, 3, checkpoint=tmp_path / "ck", resume=True, init_seed=123)
    assert len(history) == 3
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    data = _small_data()
    _run(data, 1, checkpoint=tmp_path / "ck")
    with pytest.raises(CheckpointError, match=r"different run — lr: checkpoint 0\.001, now 0\.01"):
        _run(data, 2, checkpoint=tmp_path / "ck", resume=True, lr=0.01)
    optimizer_model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(CheckpointError, match="weights do not fit this model"):
        fit(
            optimizer_model,
            data,
            torch.optim.Adam(optimizer_model.parameters(), lr=1e-3),
            2,
            batch_size=64,
            checkpoint=tmp_path / "ck",
            resume=True,
            config={"lr": 1e-3},
            log=None,
            progress=None,
        )


def test_a_non_finite_loss_stops_with_a_clear_message_and_keeps_the_checkpoint(tmp_path):
    data = _small_data()
    _run(data, 1, checkpoint=tmp_path / "ck")
    before = (tmp_path / "ck.safetensors").read_bytes()
    model, _ = _run(data, 1)
    with torch.no_grad():
        model[-1].weight.fill_(float("inf"))  # what a far too large learning rate ends in
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    with pytest.raises(NonFiniteLoss, match=r"epoch 1, batch 1; try a smaller learning rate.*ck"):
        fit(
            model,
            data,
            optimizer,
            2,
            batch_size=64,
            checkpoint=tmp_path / "ck",
            config={"lr": 1e-3},
            log=None,
            progress=None,
        )
    assert (tmp_path / "ck.safetensors").read_bytes() == before


KILLED_RUN = textwrap.dedent("""
    import os, pathlib, signal, sys, torch
    from trainlab.data.fashion_mnist import digits_fallback, subset
    from trainlab.models import lenet
    from trainlab.train import fit
    torch.set_num_threads(1)
    torch.manual_seed(0)
    data = subset(digits_fallback("test data"), 600, 200)
    model = lenet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    kill_at = int(sys.argv[2])
    steps = 0
    step = optimizer.step
    def counting_step(*args, **kwargs):
        global steps
        steps += 1
        if steps == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # in the middle of an epoch, no clean-up
        return step(*args, **kwargs)
    optimizer.step = counting_step
    fit(model, data, optimizer, 3, batch_size=64, checkpoint=pathlib.Path(sys.argv[1]),
        resume="if_any", config={"lr": 1e-3}, log=None, progress=None)
    torch.save({k: v for k, v in model.state_dict().items()}, sys.argv[1] + ".final")
""")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_run_killed_mid_epoch_resumes_to_the_uninterrupted_result(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(KILLED_RUN)
    checkpoint = str(tmp_path / "ck")
    # 600 examples / 64 = 10 batches per epoch: step 15 is in the middle of epoch 2
    killed = subprocess.run([sys.executable, str(script), checkpoint, "15"], capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert not os.path.exists(checkpoint + ".final")
    resumed = subprocess.run([sys.executable, str(script), checkpoint, "0"], capture_output=True)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    straight = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "other"), "0"], capture_output=True
    )
    assert straight.returncode == 0
    a = torch.load(checkpoint + ".final")
    b = torch.load(str(tmp_path / "other") + ".final")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_lenet_bn_course_settings_reach_the_books_accuracy(shared_data):
    """REFERENCE §3: Adam 1e-3, batch 256, max pooling, 28×28, 5 epochs: the book printed test
    accuracy 0.859–0.870. This is the suite's one slow test (about a minute)."""
    torch.manual_seed(0)
    data = load_fashion_mnist(shared_data, download=False)
    model = lenet(norm="trainlab", pool="max")
    log = io.StringIO()
    history = fit(
        model,
        data,
        torch.optim.Adam(model.parameters(), lr=1e-3),
        5,
        batch_size=256,
        log=log,
        progress=None,
    )
    assert history[-1].test_acc >= 0.85
    assert log.getvalue().splitlines()[-1].startswith("epoch 5, loss ")


def test_resume_without_a_checkpoint_is_an_error_and_if_any_starts_fresh(tmp_path):
    data = _small_data()
    with pytest.raises(CheckpointError, match="cannot resume: no checkpoint"):
        _run(data, 1, checkpoint=tmp_path / "ck", resume=True)
    _, history = _run(data, 1, checkpoint=tmp_path / "ck", resume="if_any")
    assert len(history) == 1


def test_fewer_epochs_than_the_checkpoint_has_done_is_refused(tmp_path):
    data = _small_data()
    _run(data, 2, checkpoint=tmp_path / "ck")
    with pytest.raises(CheckpointError, match="has 2 epochs done; training for 1 would discard 1"):
        _run(data, 1, checkpoint=tmp_path / "ck", resume=True)


def test_a_finite_but_exploding_loss_is_divergence(tmp_path):
    from trainlab.train import TrainingDiverged

    data = _small_data()
    model, _ = _run(data, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e30)  # finite steps, absurd size
    with pytest.raises(TrainingDiverged, match=r"exploded to .*× the first batch's"):
        fit(model, data, optimizer, 3, batch_size=64, log=None, progress=None)


def test_a_last_batch_of_one_is_dropped_and_said(tmp_path):
    data = subset(digits_fallback("test data"), 129, 64)  # 129 = 2·64 + 1
    log = io.StringIO()
    torch.manual_seed(0)
    model = lenet()
    history = fit(
        model, data, torch.optim.Adam(model.parameters()), 1, batch_size=64, log=log, progress=None
    )
    assert "dropping each epoch's last batch of 1 example" in log.getvalue()
    assert history[0].examples_per_s > 0


def test_the_progress_display_names_the_run_and_shows_epoch_means(tmp_path):
    data = _small_data()
    stream = io.StringIO()
    torch.manual_seed(0)
    model = lenet()
    fit(
        model,
        data,
        torch.optim.Adam(model.parameters()),
        2,
        batch_size=64,
        log=None,
        progress=stream,
        label="LeNet-BN test",
    )
    lines = stream.getvalue().splitlines()
    assert lines and all(line.startswith("LeNet-BN test: ") for line in lines)
    assert any(
        "epoch 2/2" in line and "loss " in line and "acc " in line and "left" in line
        for line in lines
    )


@pytest.mark.parametrize("cpu_per_wall, noted", [(0.0, True), (2.0, False)])
def test_starved_threads_are_said_once_per_stream(monkeypatch, cpu_per_wall, noted):
    """The busy-machine note: torch's 2 threads getting no CPU in the first 20 batches (a stand-in
    process clock) is said once per stream, across runs, to log or, without one, to progress;
    threads getting their 2 cores' worth say nothing."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    perf_counter = time.perf_counter
    monkeypatch.setattr(time, "process_time", lambda: cpu_per_wall * perf_counter())
    data = subset(digits_fallback("test data", size=28), 640, 64)  # 40 batches of 16
    streams = {"log": io.StringIO(), "progress": io.StringIO()}
    try:
        for log, progress in [
            (streams["log"], None),
            (streams["log"], None),
            (None, streams["progress"]),
        ]:
            torch.manual_seed(0)
            model = lenet()
            optimizer = torch.optim.Adam(model.parameters())
            fit(model, data, optimizer, 1, batch_size=16, log=log, progress=progress)
    finally:
        torch.set_num_threads(threads)
    for stream in streams.values():
        said = stream.getvalue().count("--threads 1 is often several times faster")
        assert said == (1 if noted else 0), stream.getvalue()
