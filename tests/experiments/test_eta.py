"""The run-time prediction: the kinds of work, the scaling, the reference table, the log."""

from __future__ import annotations

import io

import pytest
from torch import nn

from trainlab.experiments import eta
from trainlab.experiments.sections import SECTIONS
from trainlab.experiments.settings import Settings
from trainlab.models import book_densenet, book_resnet18, lenet
from trainlab.report.reproduce import reproduce


def test_wide_convolutions_are_conv_work_and_lenet_is_small():
    assert eta.kind_of(book_resnet18()) == "conv"
    assert eta.kind_of(book_densenet()) == "conv"
    assert eta.kind_of(lenet()) == "small"
    assert eta.kind_of(nn.Sequential(nn.Flatten(), nn.Linear(784, 10))) == "small"
    assert eta.kind_of(nn.Conv2d(1, 31, 3)) == "small"
    assert eta.kind_of(nn.Conv2d(1, 32, 3)) == "conv"


def test_each_kind_scales_with_its_own_calibration(monkeypatch):
    monkeypatch.setattr(eta, "REFERENCE_UNIT", {"conv": 0.1, "small": 0.01, "other": 0.02})
    monkeypatch.setattr(
        eta, "REFERENCE", {"quick": {"a": {"conv": 100.0, "small": 10.0, "other": 1.0}}}
    )
    same = eta.predict("quick", ["a"], {"conv": 0.1, "small": 0.01, "other": 0.02})
    assert same == {"a": pytest.approx(111.0)}
    slow_convs = eta.predict("quick", ["a"], {"conv": 0.6, "small": 0.01, "other": 0.02})
    assert slow_convs["a"] == pytest.approx(600 + 10 + 1)
    slow_python = eta.predict("quick", ["a"], {"conv": 0.1, "small": 0.01, "other": 0.04})
    assert slow_python["a"] == pytest.approx(100 + 10 + 2)
    assert eta.predict("quick", ["unknown"], same) == {"unknown": 0}
    assert eta.predict("book", ["a"], same) == {"a": 0}


def test_the_reference_covers_every_section_of_the_quick_profile():
    assert set(eta.REFERENCE["quick"]) == set(SECTIONS)
    for section, parts in eta.REFERENCE["quick"].items():
        assert set(parts) == set(eta.KINDS), section
        assert all(v >= 0 for v in parts.values()) and sum(parts.values()) > 0, section
    assert all(eta.REFERENCE_UNIT[k] > 0 for k in eta.KINDS)


def test_calibration_times_every_kind():
    unit = eta.calibrate()
    assert set(unit) == set(eta.KINDS) and all(0 < v < 60 for v in unit.values())


def test_reproduce_says_the_estimate_first_and_records_the_split(
    shared_data, tmp_path, monkeypatch
):
    monkeypatch.setattr(eta, "REFERENCE_UNIT", {"conv": 1.0, "small": 1.0, "other": 1.0})
    monkeypatch.setattr(
        eta, "REFERENCE", {"smoke": {"resnet": {"conv": 30.0, "small": 0.0, "other": 6.0}}}
    )
    monkeypatch.setattr(eta, "calibrate", lambda: {"conv": 2.0, "small": 1.0, "other": 0.5})
    log = io.StringIO()
    document = reproduce(
        Settings("smoke", data_dir=shared_data), tmp_path, ["resnet"], log=log, progress=None
    )
    first = log.getvalue().splitlines()[0]
    assert first.startswith("estimated time on this machine: 1:03 (resnet 1:03;"), first
    (record,) = document["sections"]
    assert record["predicted_seconds"] == 63.0
    parts = record["seconds_by_kind"]
    assert parts["conv"] > 0 and parts["small"] == 0  # ResNet-18 and DenseNet train here
    assert sum(parts.values()) == pytest.approx(record["seconds"], abs=0.05)
    again = io.StringIO()  # everything cached: nothing to predict, no calibration
    reproduce(
        Settings("smoke", data_dir=shared_data), tmp_path, ["resnet"], log=again, progress=None
    )
    assert "estimated" not in again.getvalue()
