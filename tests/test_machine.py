"""The machine's facts that every benchmark and report carries."""

import json
import re

import torch

from trainlab import machine
from trainlab.machine import describe, summary_line


def test_facts_name_processor_threads_and_versions():
    facts = describe()
    json.dumps(facts)
    assert facts["threads"] == torch.get_num_threads()
    assert facts["torch"] == torch.__version__
    assert facts["kernels"] == torch.backends.cpu.get_cpu_capability()
    assert facts["cores"] >= 1 and facts["cpu"]
    if torch.backends.mkldnn.is_available():
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?", facts["onednn"])
    known = {"avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile", "amx_bf16"}
    assert set(facts["isa"]) <= known | {"asimd", "sve"}


def test_summary_line_reflects_the_thread_count():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert "torch threads 1 " in summary_line()
    finally:
        torch.set_num_threads(before)
    line = summary_line()
    assert f"torch {torch.__version__}" in line and "oneDNN" in line


def test_an_isa_limit_in_the_environment_is_a_fact_of_the_run(monkeypatch):
    for name in machine._ISA_LIMITS:
        monkeypatch.delenv(name, raising=False)
    assert describe()["isa_limits"] == {}
    assert "_ISA=" not in summary_line() and "CAPABILITY=" not in summary_line()
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "avx2")
    facts = describe()
    assert facts["isa_limits"] == {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert "; ATEN_CPU_CAPABILITY=avx2; ONEDNN_MAX_CPU_ISA=AVX2) |" in summary_line(facts)
