"""`trainlab reproduce`: the results document's schema, the book's numbers, the editions, caches
keyed by their settings (nothing overwritten), resuming a killed run mid-training to the same
result, re-run commands that hit the cache, the offline fallback on a default install."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trainlab._io import FolderBusy, FolderLock
from trainlab.experiments.catalog import EDITIONS, SECTIONS
from trainlab.experiments.settings import Settings
from trainlab.report.reproduce import SCHEMA, CacheMismatch, reproduce, run_folder

ROW_KEYS = {
    "key",
    "label",
    "kind",
    "ours",
    "book",
    "band",
    "derivation",
    "sources",
    "decimals",
    "status",
    "spread",
    "detail",
}
STATUSES = {
    "printed · exact",
    "printed · within band",
    "theory · exact",
    "theory · within band",
    "outside band",
    "mismatch",
    "ours only",
}


@pytest.fixture(scope="module")
def smoke(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    document = reproduce(Settings("smoke", data_dir=shared_data), out, log=None, progress=None)
    return out, document


def _numbers_only(value) -> bool:
    if isinstance(value, list):
        return all(_numbers_only(v) for v in value)
    return value is None or (isinstance(value, (int, float, str)) and not isinstance(value, str))


def test_results_json_has_the_schema(smoke):
    out, document = smoke
    run = run_folder(out, Settings("smoke"))
    on_disk = json.loads((run / "results.json").read_text())
    assert on_disk == json.loads(json.dumps(document))
    assert on_disk["schema"] == SCHEMA and on_disk["settings"]["profile"] == "smoke"
    assert {"cpu", "cores", "threads", "torch", "device", "git_commit"} <= set(on_disk["machine"])
    assert [s["key"] for s in on_disk["sections"]] == list(SECTIONS) and on_disk["missing"] == []
    for section in on_disk["sections"]:
        assert section["rows"] and section["formulas"] and section["pages"]
        for row in section["rows"]:
            assert set(row) == ROW_KEYS and row["status"] in STATUSES
            assert _numbers_only(row["ours"]) and _numbers_only(row["book"]), row["key"]
            if row["kind"] == "printed":
                assert row["sources"] and all(
                    s["edition"] and s["section"] and s["text"] for s in row["sources"]
                )
            if row["band"] is not None:
                assert row["derivation"], row["key"]
        for figure in section["figures"]:
            for lang in ("en", "zh"):
                path = run / figure["files"][lang]
                assert path.read_bytes().lstrip().startswith(b"<?xml"), path


def test_no_mismatch_and_every_deterministic_book_number_exact(smoke):
    _, document = smoke
    rows = {r["key"]: r for s in document["sections"] for r in s["rows"]}
    assert not [k for k, r in rows.items() if r["status"] == "mismatch"]
    for key in (
        "gd.x2.eta0.2",
        "gd.x2.eta1.1",
        "gd.xcos.eta2",
        "newton.xcos.eta1",
        "gd.2d",
        "resnet.walk_224",
        "densenet.channels_96",
        "resnext.block_shape",
    ):
        assert rows[key]["status"] == "printed · exact", rows[key]
    assert rows["gd.x2.eta0.2"]["ours"] == 0.06046617599999997
    assert rows["resnet.parameters"]["status"] == "theory · exact"
    in_smoke = [r for r in rows.values() if r["key"].endswith("@course")]
    assert in_smoke == []  # smoke numbers are never held against the book's


def _cli(*args, timeout=600, env=None):
    return subprocess.run(
        [sys.executable, "-m", "trainlab", "reproduce", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


@pytest.mark.parametrize("edition", [e for e in EDITIONS if e != "course"])
def test_each_edition_runs_and_is_named_in_every_section(shared_data, tmp_path, edition):
    done = _cli(
        "--profile", "smoke", "--edition", edition, "--out", tmp_path, "--data-dir", shared_data
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / f"smoke-{edition}"
    document = json.loads((run / "results.json").read_text())
    assert document["settings"]["edition"] == edition
    assert all(s["settings"]["edition"] == edition for s in document["sections"])
    assert all(f"--edition {edition}" in s["command"] for s in document["sections"])


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != ".trainlab.lock":
            h.update(path.name.encode() + path.read_bytes())
    return h.hexdigest()


def test_runs_with_other_settings_write_beside_each_other(shared_data, tmp_path):
    quick = reproduce(
        Settings("quick", data_dir=shared_data),
        tmp_path,
        ["gradient_descent"],
        log=None,
        progress=None,
    )
    before = _digest(tmp_path / "quick")
    reproduce(
        Settings("smoke", data_dir=shared_data),
        tmp_path,
        ["gradient_descent"],
        log=None,
        progress=None,
    )
    reproduce(
        Settings("smoke", seed=1, data_dir=shared_data),
        tmp_path,
        ["gradient_descent"],
        log=None,
        progress=None,
    )
    assert _digest(tmp_path / "quick") == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quick", "smoke", "smoke-seed1"]
    assert quick["settings"]["profile"] == "quick"
    other_data = Settings("quick", data_dir=tmp_path / "elsewhere")
    with pytest.raises(CacheMismatch, match="--force"):
        reproduce(other_data, tmp_path, ["gradient_descent"], log=None, progress=None)


def test_a_second_run_on_the_same_folder_is_refused(shared_data, tmp_path):
    settings = Settings("smoke", data_dir=shared_data)
    with FolderLock(run_folder(tmp_path, settings)), pytest.raises(FolderBusy, match="PID"):
        reproduce(settings, tmp_path, ["gradient_descent"], log=None, progress=None)


def test_every_printed_rerun_command_is_a_cache_hit(smoke):
    _, document = smoke
    for section in document["sections"][:3]:
        args = section["command"].split()[2:]
        done = _cli(*args)
        assert done.returncode == 0, done.stderr[-2000:]
        assert ": cached (" in done.stdout and "running" not in done.stdout, done.stdout


def _training_state(run: Path) -> dict:
    from trainlab.train.checkpoint import load_checkpoint

    state = load_checkpoint(run / "sections" / "resnet" / "checkpoints" / "resnet18")
    return state["model"]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_sigkill_in_the_resnet_sections_second_epoch_resumes_to_the_same_result(
    shared_data, tmp_path
):
    args = ["--profile", "smoke", "--only", "resnet", "--data-dir", shared_data, "--threads", "1"]
    straight = _cli(*args, "--out", tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr[-2000:]
    killed_out = tmp_path / "killed"
    command = [
        sys.executable,
        "-m",
        "trainlab",
        "reproduce",
        *map(str, args),
        "--out",
        str(killed_out),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first_epoch = (
        killed_out / "smoke" / "sections" / "resnet" / "checkpoints" / "resnet18.safetensors"
    )
    deadline = time.monotonic() + 300
    while not first_epoch.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert first_epoch.exists()
    process.send_signal(signal.SIGKILL)  # in epoch 2 of ResNet-18: no clean-up at all
    process.wait(timeout=60)
    assert not (killed_out / "smoke" / "results.json").exists()
    resumed = _cli(*args, "--out", killed_out)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    rows = {}
    for name in ("straight", "killed"):
        document = json.loads((tmp_path / name / "smoke" / "results.json").read_text())
        rows[name] = {r["key"]: r["ours"] for s in document["sections"] for r in s["rows"]}
    assert rows["straight"] == rows["killed"]
    a, b = _training_state(tmp_path / "straight" / "smoke"), _training_state(killed_out / "smoke")
    assert a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)


def test_offline_without_data_runs_on_the_bundled_stand_ins_flagged(tmp_path, monkeypatch):
    monkeypatch.delenv("TRAINLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("TRAINLAB_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings("smoke", data_dir=tmp_path / "no-data", download=False)
    document = reproduce(
        settings, tmp_path / "out", ["batchnorm", "minibatch_sgd"], log=None, progress=None
    )
    for section in document["sections"]:
        assert section["data"] and all(d["fallback"] for d in section["data"])
        assert all("@" not in r["key"] for r in section["rows"])  # nothing held against the book
    assert [m["key"] for m in document["missing"]] == [
        "resnet",
        "convexity",
        "gradient_descent",
        "sgd",
    ]
    assert all(m["command"].startswith("trainlab reproduce") for m in document["missing"])


VENV = Path(os.environ.get("TRAINLAB_TEST_VENV", Path.home() / ".cache" / "trainlab-test-venv"))


def _default_install() -> Path:
    """A fresh virtual environment with the project's default install (no extras), built once
    per pyproject.toml (cached under ~/.cache)."""
    root = Path(__file__).resolve().parents[1]
    key = hashlib.sha256((root / "pyproject.toml").read_bytes()).hexdigest()[:12]
    venv = VENV / key
    python = venv / "bin" / "python"
    if not (venv / "ready").is_file():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        install = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-e", str(root)],
            capture_output=True,
            text=True,
            timeout=1800,
        )
        assert install.returncode == 0, install.stderr[-3000:]
        (venv / "ready").write_text(key)
    return python


def test_a_default_install_offline_and_without_scikit_learn_runs_on_the_fallback(tmp_path):
    python = _default_install()
    probe = subprocess.run([str(python), "-c", "import sklearn"], capture_output=True)
    assert probe.returncode != 0  # the fallback must not need scikit-learn
    env = {k: v for k, v in os.environ.items() if k not in ("TRAINLAB_DATA_DIR", "PYTHONPATH")}
    env |= {
        "TRAINLAB_CACHE_DIR": str(tmp_path / "cache"),
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "HOME": str(tmp_path),
    }
    done = subprocess.run(
        [
            str(python),
            "-m",
            "trainlab",
            "reproduce",
            "--profile",
            "smoke",
            "--out",
            str(tmp_path / "out"),
            "--only",
            "batchnorm,minibatch_sgd",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads((tmp_path / "out" / "smoke" / "results.json").read_text())
    assert all(d["fallback"] for s in document["sections"] for d in s["data"])
    assert "bundled" in done.stderr
