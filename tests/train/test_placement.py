"""Placing data-parallel processes on cores: the partition, and the placement itself in a gloo
process (run in a subprocess, so that this test process keeps its cores)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from trainlab.train.placement import cores_for, isolate_process


@pytest.mark.parametrize("processes", [1, 2, 3, 4, 8])
def test_the_shares_are_contiguous_disjoint_balanced_and_cover_the_cores(processes):
    cores = [0, 1, 2, 3, 8, 9, 10, 11]  # the cores a process may use need not be 0..n-1
    shares = [cores_for(rank, processes, cores) for rank in range(processes)]
    assert [c for share in shares for c in share] == cores
    sizes = [len(share) for share in shares]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_more_processes_than_cores_take_one_core_each_in_turn():
    assert [cores_for(rank, 5, [4, 7]) for rank in range(5)] == [[4], [7], [4], [7], [4]]


def test_bad_ranks_and_no_cores_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"local_rank must lie in \[0, 2\), got 2; torchrun"):
        cores_for(2, 2, [0, 1])
    with pytest.raises(ValueError, match="no cores"):
        cores_for(0, 1, [])


def test_other_systems_are_told_to_run_without_pinning(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(RuntimeError, match=r"needs Linux.*run without --pin-cpus"):
        isolate_process(0, 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="placement is Linux-only")
def test_a_gloo_process_is_pinned_and_its_polling_thread_yields():
    script = textwrap.dedent(
        """
        import json, os, socket
        import torch, torch.distributed as dist
        from trainlab.train.placement import POLLING_THREAD, cores_for, isolate_process

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0,
                                world_size=1)
        available = sorted(os.sched_getaffinity(0))
        cores = isolate_process(1, 2)  # the second process of two on this machine
        threads = {}
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            threads[tid] = (name, sorted(os.sched_getaffinity(int(tid))),
                            os.getpriority(os.PRIO_PROCESS, int(tid)))
        print(json.dumps({"cores": cores, "expected": cores_for(1, 2, available),
                          "threads": threads, "torch_threads": torch.get_num_threads(),
                          "polling": POLLING_THREAD}))
        dist.destroy_process_group()
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["cores"] == report["expected"]
    assert report["torch_threads"] == len(report["cores"])
    threads = report["threads"].values()
    assert all(affinity == report["cores"] for _, affinity, _ in threads)
    polling = [nice for name, _, nice in threads if name.startswith(report["polling"])]
    others = [nice for name, _, nice in threads if not name.startswith(report["polling"])]
    assert polling and all(nice == 19 for nice in polling)
    assert all(nice == 0 for nice in others)
