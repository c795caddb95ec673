"""What a measurement ran on: the processor and the instruction-set extensions that matter for
torch's kernels, cores, threads, load, and the versions of torch and its oneDNN — so that
figures taken on two machines are never compared as if they were equal. Used by the report and
by every benchmark."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["describe", "summary_line"]

_ISA = (
    "avx2",
    "fma",
    "avx512f",
    "avx512_bf16",
    "avx512_vnni",
    "amx_tile",
    "amx_bf16",
    "asimd",
    "sve",
)


# Variables that make torch's kernels, oneDNN and MKL use a smaller ISA than the processor has
# (e.g. AVX2 on an AVX-512 machine, to see what a processor without AVX-512 gets): a run under
# them is not a run of this processor at full speed, so the facts say so.
_ISA_LIMITS = (
    "ATEN_CPU_CAPABILITY",
    "ONEDNN_MAX_CPU_ISA",
    "DNNL_MAX_CPU_ISA",
    "MKL_ENABLE_INSTRUCTIONS",
)


def _cpuinfo() -> tuple[str, list[str]]:
    """The processor's name with its family and model numbers (a virtual machine may name only
    the vendor: "AMD EPYC" in family 25 is Zen 3 at model 1, Zen 4 at model 17; family 26 is
    Zen 5), and the ISA flags."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return model, flags
    if m := re.search(r"^model name\s*:\s*(.+)$", text, re.M):
        model = m.group(1).strip()
    family = re.search(r"^cpu family\s*:\s*(\d+)$", text, re.M)
    number = re.search(r"^model\s*:\s*(\d+)$", text, re.M)
    if family and number:
        model += f" (family {family.group(1)}, model {number.group(1)})"
    if m := re.search(r"^(?:flags|Features)\s*:\s*(.+)$", text, re.M):
        present = set(m.group(1).split())
        flags = [f for f in _ISA if f in present]
    return model, flags


def _onednn() -> str | None:
    import torch

    if m := re.search(r"(?:oneDNN|MKL-DNN) v([\d.]+)", torch.__config__.show()):
        return m.group(1)
    return None


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def describe(device: str = "cpu") -> dict[str, Any]:
    """The machine's facts as a JSON-able dict."""
    import torch

    model, flags = _cpuinfo()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    facts = {
        "cpu": model,
        "isa": flags,
        "cores": usable,
        "threads": torch.get_num_threads(),
        "kernels": torch.backends.cpu.get_cpu_capability(),  # the ISA torch's kernels dispatch to
        "isa_limits": {name: os.environ[name] for name in _ISA_LIMITS if os.environ.get(name)},
        "load_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "device": device,
        "torch": torch.__version__,
        "onednn": _onednn(),
        "python": platform.python_version(),
        "git_commit": _git_commit(),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        facts["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return facts


def summary_line(facts: dict[str, Any] | None = None) -> str:
    """One line for a benchmark's header."""
    f = facts or describe()
    isa = ",".join(f["isa"]) or "none listed"
    limits = "".join(f"; {name}={value}" for name, value in f.get("isa_limits", {}).items())
    return (
        f"CPU {f['cpu']} ({isa}; torch kernels {f['kernels']}{limits}) | {f['cores']} cores, "
        f"torch threads {f['threads']} | load {f['load_1min']} | torch {f['torch']}, "
        f"oneDNN {f['onednn']} | python {f['python']}"
    )
