"""The experiments: the book's deterministic numbers exactly, the editions' settings followed,
the book's own loops matched, seed spreads, and results made only of numbers and ledger keys."""

from __future__ import annotations

import math

import pytest
import torch

from trainlab.experiments import book, convexity, gradient_descent, minibatch_sgd, resnet, sgd
from trainlab.experiments.editions import EDITION_SETTINGS, AirfoilRun
from trainlab.experiments.figures import style
from trainlab.experiments.result import Result, Text
from trainlab.experiments.sections import SECTIONS
from trainlab.experiments.settings import Context, Settings


def _numbers(result: Result) -> dict:
    return {n.key: n for n in result.numbers}


def _assert_well_formed(result: Result) -> None:
    for number in result.numbers:
        book.entry(number.key)  # every number has a ledger entry
        values = number.ours if isinstance(number.ours, list) else [number.ours]
        flat = [v for item in values for v in (item if isinstance(item, list) else [item])]
        assert all(v is None or isinstance(v, (int, float)) for v in flat), number.key
    for plot in result.plots:
        assert len(plot.caption.en.split()) > 5 and plot.caption.zh and plot.alt.en


@pytest.fixture
def ctx(tmp_path) -> Context:
    return Context(Settings("smoke"), tmp_path / "checkpoints", progress=None)


def test_every_deterministic_gd_and_newton_number_of_the_book_bit_for_bit(ctx):
    numbers = {}
    for experiment in (
        gradient_descent.gd_1d,
        gradient_descent.newton_runs,
        gradient_descent.gd_2d,
    ):
        result = experiment(ctx)
        _assert_well_formed(result)
        numbers.update(_numbers(result))
    for key in (
        "gd.x2.eta0.2",
        "gd.x2.eta0.05",
        "gd.x2.eta1.1",
        "gd.xcos.eta2",
        "newton.cosh",
        "newton.xcos.eta1",
        "newton.xcos.eta0.5",
    ):
        assert numbers[key].ours == book.ENTRIES[key].book, key  # the float64 repr COURSE prints
        assert book.compare(book.ENTRIES[key], numbers[key])[0] == "printed · exact"
    two_d = numbers["gd.2d"]
    assert book.compare(book.ENTRIES["gd.2d"], two_d)[0] == "printed · exact"
    assert (
        book.compare(book.ENTRIES["gd.2d.theory"], numbers["gd.2d.theory"])[0] == "theory · exact"
    )


@pytest.mark.parametrize("experiment", [*gradient_descent.EXPERIMENTS, *convexity.EXPERIMENTS])
def test_every_cheap_experiment_agrees_with_its_theory_rows(ctx, experiment):
    result = experiment(ctx)
    _assert_well_formed(result)
    for number in result.numbers:
        entry = book.entry(number.key)
        status, _ = book.compare(entry, number)
        if entry.kind == "theory":
            assert status == "theory · exact", (number.key, number.ours, entry.book)
    for plot in result.plots:
        for lang in ("en", "zh"):
            with style(lang):
                assert plot.draw(lang).axes


def book_loop_rates(formula, steps: int) -> list[float]:
    """The book's schedule loop exactly as its code writes it (d2l-en/zh sgd.md, COURSE
    notebook 18): ``t = 1`` before the loop, ``t += 1`` inside the rate function, the rate
    multiplied by η = 0.1 in the update."""
    t = 1

    def lr():
        nonlocal t
        t += 1
        return formula(t)

    return [0.1 * lr() for _ in range(steps)]


@pytest.mark.parametrize(
    ("name", "formula"),
    [
        ("exponential", lambda t: math.exp(-0.1 * t)),
        ("polynomial", lambda t: (1 + 0.1 * t) ** (-0.5)),
    ],
)
def test_the_books_schedule_loop_equals_the_experiments_rates_for_1000_steps(name, formula):
    expected = book_loop_rates(formula, 1000)
    ours = [sgd.book_rate(sgd.SCHEDULES[name], k) for k in range(1, 1001)]
    assert ours == expected


def test_sgd_spreads_are_over_the_profiles_seeds_and_seeded(ctx):
    result = sgd.trajectories(ctx)
    _assert_well_formed(result)
    for number in result.numbers:
        assert number.spread is not None and len(number.spread.values) == len(ctx.settings.seeds)
        assert number.band == (number.spread.min, number.spread.max)
    again = sgd.trajectories(ctx)
    assert [n.ours for n in again.numbers] == [n.ours for n in result.numbers]
    exponential = sgd.noisy_sgd(sgd.SCHEDULES["exponential"], 1000, seed=0)
    assert math.hypot(*exponential[-1]) > 0.5  # the decayed rate stalls far from the optimum


def test_course_noise_has_mean_one_tenth_and_e3_noise_mean_zero():
    assert EDITION_SETTINGS["course"].sgd_noise_mean == 0.1
    assert EDITION_SETTINGS["e3"].sgd_noise_mean == 0.0
    runs = [
        sgd.noisy_sgd(sgd.SCHEDULES["constant"], 2000, seed=s, noise_mean=0.1)[-200:]
        for s in range(3)
    ]
    mean_x1 = sum(p[0] for run in runs for p in run) / 600
    assert mean_x1 == pytest.approx(-0.05, abs=0.03)  # the fixed point of 2x₁ + 0.1 = 0


@pytest.mark.parametrize("edition", ["course", "e1", "e2", "e3"])
def test_the_concise_airfoil_run_uses_each_editions_settings(edition):
    concise = next(r for r in EDITION_SETTINGS[edition].airfoil_runs if r.concise)
    if edition in ("course", "e1"):
        assert (concise.lr, concise.epochs) == (0.05, 2)  # E1-PT and the course notebook
    else:
        assert (concise.lr, concise.epochs) == (0.01, 4)  # E2/E3's train_concise_ch11
    gd_run = next(r for r in EDITION_SETTINGS[edition].airfoil_runs if r.name == "gd")
    assert gd_run.epochs == (6 if edition in ("course", "e1") else 10)


def test_airfoil_runs_land_between_the_floor_and_the_books_band(shared_data):
    ctx = Context(Settings("smoke", data_dir=shared_data), progress=None)
    result = minibatch_sgd.airfoil_runs(ctx)
    _assert_well_formed(result)
    numbers = _numbers(result)
    floor = numbers["airfoil.floor"].ours
    assert 0.2410 < floor < 0.2420
    for key, number in numbers.items():
        if key != "airfoil.floor":
            assert number.band[0] == floor and floor <= number.spread.min <= number.band[1] < 0.26


def test_the_editions_record_the_loss_as_their_code_does(shared_data):
    data = Context(Settings("smoke", data_dir=shared_data), progress=None).airfoil()
    run = AirfoilRun("gd", 1.0, 1500, 10)
    course = minibatch_sgd.train(run, data, 0, "per_epoch_100")
    e2 = minibatch_sgd.train(run, data, 0, "cumulative_200")
    assert course.epochs_done[0] == 0.0 and len(course.losses) == 11  # the start + every epoch
    assert e2.epochs_done == [2.0, 4.0, 6.0, 8.0, 10.0]  # 3000 examples = every 2nd epoch
    assert course.losses[-1] == e2.losses[-1]  # the same run, recorded differently


def test_shapes_and_costs_are_the_printed_ones(ctx):
    result = resnet.shapes(ctx)
    _assert_well_formed(result)
    for number in result.numbers:
        status, _ = book.compare(book.entry(number.key), number)
        assert status in ("printed · exact", "theory · exact"), (number.key, number.ours)


def test_every_section_lists_experiments_and_code_that_exists():
    import importlib

    for section in SECTIONS.values():
        assert section.experiments and section.formulas and section.pages
        for formula in section.formulas:
            module, name = formula.code.split(":")
            target = importlib.import_module(module)
            for part in name.split("."):
                target = getattr(target, part)
            assert callable(target)


def test_a_training_run_resumes_from_its_checkpoint_in_the_context(shared_data, tmp_path):
    from trainlab.models import lenet

    ctx = Context(Settings("smoke", data_dir=shared_data), tmp_path, progress=None)
    data = ctx.images()
    from trainlab.data import subset

    small = subset(data, 256, 64)
    torch.manual_seed(0)
    model = lenet()
    first = ctx.train("run", "run", model, torch.optim.Adam(model.parameters()), small, 2)
    assert (tmp_path / "run.safetensors").is_file()
    torch.manual_seed(1)
    other = lenet()
    again = ctx.train("run", "run", other, torch.optim.Adam(other.parameters()), small, 2)
    assert [h.loss for h in again] == [h.loss for h in first]  # resumed, nothing retrained
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True)
    )


@pytest.mark.parametrize("epochs", [1, 2, 7])
def test_epoch_axes_tick_whole_epochs_only(epochs):
    from trainlab.experiments.figures import curves_figure
    from trainlab.train.loop import EpochStats

    history = [EpochStats(e, 1.0 / e, 0.5, 0.5, 100.0, 1.0, 0.1) for e in range(1, epochs + 1)]
    figure = curves_figure(history, Text("t", "t"), "en")
    ax = figure.axes[0]
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
    assert ax.get_xlabel() == "epoch"
