"""The end-of-section exercises: every d2l-en exercise of the unit is listed once, in book order,
in its section; most are answered by a run or a numerical check; every quick one solves in the
smoke profile with a bilingual answer made of its own numbers, plain-number values and figures
that draw; and the claims the answers rest on hold (each assertion below could fail)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from trainlab.experiments.exercises import (
    batchnorm,
    convexity,
    densenet,
    gd,
    minibatch_sgd,
    optimization_intro,
    resnet,
    sgd,
)
from trainlab.experiments.figures import style
from trainlab.experiments.result import Exercise, ExerciseSpec
from trainlab.experiments.sections import SECTIONS, answer
from trainlab.experiments.settings import Context, Settings

# d2l-en section: (exercise module, number of top-level exercises)
BOOK = {
    "8.5": (batchnorm, 7),
    "8.6": (resnet, 5),
    "8.7": (densenet, 5),
    "12.1": (optimization_intro, 4),
    "12.2": (convexity, 8),
    "12.3": (gd, 5),
    "12.4": (sgd, 5),
    "12.5": (minibatch_sgd, 4),
}
PLACED = {
    "batchnorm": ("8.5",),
    "resnet": ("8.6", "8.7"),
    "convexity": ("12.1", "12.2"),
    "gradient_descent": ("12.3",),
    "sgd": ("12.4",),
    "minibatch_sgd": ("12.5",),
}
SPECS = {spec.number: spec for module, _ in BOOK.values() for spec in module.EXERCISES}
QUICK = [number for number, spec in SPECS.items() if spec.cost == "quick"]
BOOK_ONLY = [number for number, spec in SPECS.items() if spec.cost == "book"]


@pytest.fixture(scope="module")
def ctx(shared_data, tmp_path_factory):
    """One smoke context for the module: the data sets load once, and runs that several
    exercises share are trained once. One torch thread: these models are so small that a
    second thread only adds synchronization (and contention on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield Context(
        Settings("smoke", data_dir=shared_data), tmp_path_factory.mktemp("exercises"), progress=None
    )
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def solved(ctx):
    """number -> the exercise answered in the smoke profile (each solved once)."""
    cache: dict[str, Exercise] = {}

    def get(number: str) -> Exercise:
        if number not in cache:
            torch.manual_seed(0)
            cache[number] = answer(SPECS[number], ctx)
        return cache[number]

    return get


def _flat(value):
    if isinstance(value, list):
        for item in value:
            yield from _flat(item)
    else:
        yield value


def test_every_section_lists_its_exercises_in_book_order():
    for key, prefixes in PLACED.items():
        expected = [f"{prefix}.{i}" for prefix in prefixes for i in range(1, BOOK[prefix][1] + 1)]
        assert [e.number for e in SECTIONS[key].exercises] == expected, key
    numbers = [e.number for section in SECTIONS.values() for e in section.exercises]
    assert len(numbers) == len(set(numbers)) == sum(n for _, n in BOOK.values()) == 43
    for prefix, (module, _count) in BOOK.items():
        assert all(spec.number.startswith(prefix + ".") for spec in module.EXERCISES)


def test_most_exercises_are_answered_by_a_run_or_a_check():
    kinds = [spec.kind for spec in SPECS.values()]
    assert set(kinds) <= {"run", "check", "discussion"}
    assert sum(k in ("run", "check") for k in kinds) >= 35
    for spec in SPECS.values():
        assert spec.question.en.strip() and spec.question.zh.strip(), spec.number


@pytest.mark.parametrize("number", QUICK)
def test_quick_exercise_solves_in_smoke(solved, number):
    exercise = solved(number)
    assert exercise.answer is not None and exercise.note is None
    for text in (exercise.answer.en, exercise.answer.zh):
        assert any(c.isdigit() for c in text), number
    assert exercise.values, number
    for key, value in exercise.values.items():
        for item in _flat(value):
            assert isinstance(item, (int, float)) and not isinstance(item, bool), (key, item)
            assert math.isfinite(item), (key, item)
    for plot in exercise.plots:
        assert plot.caption.en and plot.caption.zh and plot.alt.en and plot.alt.zh
        with style("en"):
            assert plot.draw("en").axes, plot.key


def test_book_only_exercises_are_listed_with_a_note_in_smoke(ctx):
    """Every training exercise scales with the profile, so none is book-only today; one that is
    would be listed, unsolved, with a note saying how to run it."""

    def never(_ctx):
        raise AssertionError("a book-cost exercise must not run in the smoke profile")

    costly = ExerciseSpec("8.5.2", SPECS["8.5.2"].question, "run", never, cost="book")
    for spec in [costly, *(SPECS[number] for number in BOOK_ONLY)]:
        exercise = answer(spec, ctx)
        assert exercise.answer is None and exercise.note is not None, spec.number
        assert exercise.number == spec.number and exercise.kind == spec.kind
        assert "--profile book" in exercise.note.en and exercise.note.zh


def test_exercise_figures_have_keys_of_their_own(solved):
    """Figures are saved per section under their key: an exercise's must not collide with
    another's or with an experiment's (those never start with "ex")."""
    keys = [p.key for number in QUICK for p in solved(number).plots]
    assert len(keys) == len(set(keys))
    assert all(key.startswith("ex") for key in keys)


# the claims behind the answers ---------------------------------------------------------------


def test_a_bias_before_batch_norm_cancels(solved):
    values = solved("8.5.1").values
    assert values["output_gap"] < 1e-12
    assert values["bias_grad"] < 1e-12 < values["weight_grad"]


def test_the_bottleneck_block_matches_trainlabs_and_costs_less(solved):
    values = solved("8.6.3").values
    assert values["gap_to_trainlab"] == 0
    assert values["bottleneck_parameters"] * 10 < values["basic_parameters"]


def test_resnet_and_densenet_variants_have_torchvisions_parameter_counts(solved):
    assert solved("8.6.2").values["matches"] == 5
    assert solved("8.7.4").values["matches"] == 3


def test_permuted_hidden_units_give_identical_outputs(solved):
    values = solved("12.1.1").values
    assert values["permutations"] == values["factorial"] == values["distinct_points"] == 120
    assert values["max_output_gap"] < 1e-12


def test_discrete_symmetric_matrices_have_zero_eigenvalues(solved):
    values = solved("12.1.2").values
    assert values["discrete_positive"] == values["discrete_negative"]
    assert values["discrete_zero"] > 0


def test_gradient_descent_leaves_a_perturbed_saddle_only(solved):
    values = solved("12.1.4").values
    assert abs(values["escape_step_tiny"] - values["predicted_step"]) <= 2
    assert values["final_y_exact"] == 0 and "escape_step_exact" not in values


def test_only_the_half_norm_ball_is_refuted(solved):
    values = solved("12.2.2").values
    assert values["refuted_p05"] > 0
    assert values["refuted_p1"] == values["refuted_p2"] == values["refuted_pinf"] == 0


def test_min_of_convex_functions_is_refuted_and_max_is_not(solved):
    values = solved("12.2.3").values
    assert values["min_refuted"] == 1 and values["max_refuted"] == 0


def test_log_sum_exp_has_a_positive_semidefinite_hessian(solved):
    values = solved("12.2.4").values
    assert values["formula_gap"] < 1e-12 and values["smallest_eigenvalue"] > -1e-12
    assert values["refuted"] == 0


def test_the_projection_onto_a_null_space_is_linear_and_idempotent(solved):
    values = solved("12.2.6").values
    for key in ("idempotent", "symmetric", "in_null_space", "against_projection", "linearity"):
        assert values[key] < 1e-10, key
    assert values["rank"] == 3


def test_projections_onto_convex_sets_do_not_expand(solved):
    values = solved("12.2.8").values
    assert values["convex_max_ratio"] <= 1 + 1e-12 < values["sphere_ratio"]


def test_bisection_halves_its_interval_and_reaches_the_minimizer(solved):
    values = solved("12.3.2").values
    assert values["bisection_error"] < 1e-8
    assert values["width_ratios"] == [0.5, 0.5]
    assert abs(values["library_x"] - values["target"]) < 1e-8


def test_gradient_descent_needs_more_steps_as_the_condition_number_grows(solved):
    steps = solved("12.3.3").values["steps"]
    assert all(a < b for a, b in itertools.pairwise(steps))
    assert solved("12.3.3").values["theory"] == steps


def test_diagonal_preconditioning_solves_aligned_but_not_rotated_quadratics(solved):
    assert solved("12.3.4").values["one_step_f"] == [0.0] * 3
    values = solved("12.3.5").values
    assert values["aligned_one_step_f"] < 1e-20
    assert values["rotated_one_step_f"] > 1e-3 * values["start_f"]


def test_gradient_noise_is_a_random_minimizer(solved):
    values = solved("12.4.2").values
    assert values["trajectory_gap"] < 1e-12
    assert values["w_variances"][0] == pytest.approx(0.25, rel=0.05)
    assert values["w_variances"][1] == pytest.approx(1 / 16, rel=0.05)


def test_x_squared_one_plus_sine_has_eleven_minima_on_the_interval(solved):
    values = solved("12.4.5").values
    assert values["count"] == values["expected_count"] == 11
    assert values["max_value_at_minima"] < 1e-8
    assert values["tilted_increasing"] == 1


def test_step_lr_divides_the_rate_by_ten_each_epoch():
    assert minibatch_sgd.step_lr_rates(0.05, 0.1, 3) == pytest.approx([0.05, 0.005, 0.0005])


def test_a_duplicated_data_set_leaves_full_batch_gradient_descent_unchanged(solved):
    assert solved("12.5.4").values["gd_gap"] < 1e-12
