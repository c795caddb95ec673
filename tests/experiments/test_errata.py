"""Every erratum's evidence is computed, and says what the erratum claims."""

import json
import math

import pytest

from trainlab.experiments import errata
from trainlab.experiments.sections import SECTIONS


@pytest.fixture(scope="module")
def records():
    return {r["key"]: r for r in errata.evidence()}


def test_every_erratum_has_a_section_a_place_and_both_languages(records):
    assert len(records) == len(errata.ERRATA)
    for r in records.values():
        assert r["section"] in SECTIONS, r["key"]
        assert r["where"].strip()
        for text in (r["title"], r["evidence"]):
            assert text["en"].strip() and text["zh"].strip()
    json.dumps(list(records.values()), allow_nan=False)  # the report stores them as JSON


def test_gflops_overstated_by_the_ratio_of_2_to_the_real_work(records):
    v = records["e2_gflops"]["values"]
    assert v["factor"] == pytest.approx(2 / (2 * 256**3 / 1e9))
    assert v["factor"] == pytest.approx(59.6, abs=0.05)
    assert v["full_gflops"] == pytest.approx(195.625 / v["factor"])


def test_zero_start_inflates_predictions_by_sqrt_10_then_fades(records):
    v = records["moving_var_zero"]["values"]
    # the biased batch variance makes it slightly more than √10
    assert v["inflation_after_1"] == pytest.approx(math.sqrt(10), rel=0.01)
    assert v["after_50"] == pytest.approx(1.0, abs=0.01)


def test_momentum_conventions_differ_by_the_exponent(records):
    v = records["momentum_meaning"]["values"]
    assert v["e2"] == pytest.approx(1 - 0.9**10)
    assert v["e3_with_0.9"] == pytest.approx(1 - 0.1**10)


def test_newton_error_ratio_tends_to_half_f2_over_f1(records):
    v = records["newton_linear"]["values"]
    # minimising f = eˣ − 2x is Newton on g = f' = eˣ − 2, whose error constant g''/(2g') at
    # x* = ln 2 is e^{x*}/(2e^{x*}) = 1/2
    assert v["quadratic_ratio"] == pytest.approx(0.5, abs=0.01)
    assert v["linear_ratio"] < 1e-3


def test_noise_of_mean_point_one_moves_the_fixed_point(records):
    v = records["noise_mean"]["values"]
    assert v["mean_x1"] == pytest.approx(-0.1 / 2, abs=0.01)
    assert v["mean_x2"] == pytest.approx(-0.1 / 4, abs=0.01)


def test_printed_resnext_block_has_group_width_not_group_count(records):
    assert records["resnext_groups"]["values"]["groups_built"] == 32 // 16


def test_lazy_layers_escape_the_type_check(records):
    assert records["lazy_init"]["values"]["init_applies"] == 0.0


def test_schedule_first_rate_is_two_steps_in(records):
    assert records["schedule_start"]["values"]["first_rate"] == pytest.approx(0.1 * math.exp(-0.2))


def test_exercise_noise_needs_quarter_variance(records):
    assert records["exercise_variable"]["values"]["noise_variance"] == pytest.approx(1.0, abs=0.02)


def test_timer_laps_per_epoch(records):
    assert records["seconds_per_epoch"]["values"]["laps_per_epoch"] == 1500 / 200


def test_loss_rescaled_to_the_course_scale(records):
    assert records["loss_scale"]["values"]["rescaled"] == pytest.approx(0.3045, rel=0.02)
