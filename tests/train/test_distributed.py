"""Data-parallel training on two gloo processes on 127.0.0.1: equal to one process with twice
the batch (SyncBN on), a failed process ends the run, and torchrun drives the CLI."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from safetensors.torch import load_file, save_file

from trainlab.data.fashion_mnist import digits_fallback, subset
from trainlab.models import lenet
from trainlab.nn.sync_batchnorm import convert_sync_batch_norm
from trainlab.train import fit, load_checkpoint
from trainlab.train.placement import cores_for

BATCH = 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train_and_record(batch_size: int) -> dict[str, torch.Tensor]:
    """Two epochs of LeNet-BN (SyncBN) with SGD; the parameters after every step."""
    torch.manual_seed(0)
    data = subset(digits_fallback("test data"), 256, 64)
    model = convert_sync_batch_norm(lenet())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    record = {}

    def after_step(*_):
        step = len(record) // 100
        for i, p in enumerate(model.parameters()):
            record[f"{step}.{i}"] = p.detach().clone()
        record.update({f"{step}.pad{j}": torch.zeros(1) for j in range(100 - (i + 1))})

    optimizer.register_step_post_hook(after_step)
    fit(model, data, optimizer, 2, batch_size=batch_size, log=None, progress=None)
    for name, buffer in model.named_buffers():
        record[f"final.{name}"] = buffer.detach().clone()
    return record


def _worker(rank: int, port: int, folder: str) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2)  # fmt: skip
    try:
        save_file(_train_and_record(BATCH), f"{folder}/rank{rank}.safetensors")
    finally:
        dist.destroy_process_group()


def test_two_processes_with_batch_b_equal_one_process_with_batch_2b(tmp_path):
    mp.spawn(_worker, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    torch.set_num_threads(1)
    single = _train_and_record(2 * BATCH)
    ranks = [load_file(str(tmp_path / f"rank{r}.safetensors")) for r in range(2)]
    steps = {key.split(".")[0] for key in single if not key.startswith("final")}
    assert len(steps) == 2 * 256 // (2 * BATCH)  # 4 steps per epoch, 2 epochs
    for key, value in single.items():
        for r in ranks:  # every process holds the same model as the single process
            torch.testing.assert_close(r[key], value, rtol=1e-4, atol=1e-5, msg=key)


KILLED_RANK = textwrap.dedent("""
    import datetime, os, signal, sys, torch
    import torch.distributed as dist
    from trainlab.data.fashion_mnist import digits_fallback, subset
    from trainlab.models import lenet
    from trainlab.train import fit, load_checkpoint
    rank, port = int(sys.argv[1]), int(sys.argv[2])
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=2, timeout=datetime.timedelta(seconds=30))
    model = lenet()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    steps = 0
    step = optimizer.step
    def dying_step(*args, **kwargs):
        global steps
        steps += 1
        if rank == 1 and steps == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return step(*args, **kwargs)
    optimizer.step = dying_step
    fit(model, subset(digits_fallback("x"), 512, 64), optimizer, 5, batch_size=32, log=None,
        progress=None)
""")


def test_a_process_that_dies_ends_the_other_with_an_error_not_a_hang(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(KILLED_RANK)
    port = str(free_port())
    start = time.monotonic()
    ranks = [subprocess.Popen([sys.executable, str(script), str(r), port],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for r in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=120) for p in ranks]
    elapsed = time.monotonic() - start
    assert ranks[1].returncode == -9
    assert ranks[0].returncode != 0 and elapsed < 100
    assert "Error" in outputs[0][1]  # gloo reports the lost peer


@pytest.mark.parametrize("pin", [False, True])
def test_torchrun_drives_data_parallel_training(shared_data, tmp_path, pin):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
               "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
               "-m", "trainlab", "train", "--data-dir", str(shared_data), "--subset", "1024",
               "--epochs", "1", "--batch-size", "64", "--sync-bn", "--out", str(out)]  # fmt: skip
    if pin:
        command.append("--pin-cpus")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("epoch 1, loss") == 1  # rank 0 alone prints
    placed = re.findall(r"cores of the processes on this machine: (.*)", done.stdout)
    if pin:  # rank 0 alone reports each process's share of this machine's cores
        available = sorted(os.sched_getaffinity(0))
        assert placed == [str([cores_for(rank, 2, available) for rank in (0, 1)])]
    else:
        assert placed == []
    assert (out / "checkpoint.safetensors").is_file() and (out / "history.csv").is_file()
    assert load_checkpoint(out / "checkpoint")["config"]["processes"] == 2
