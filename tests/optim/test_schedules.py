"""Learning-rate schedules against their closed forms, the book's numbers, and torch's schedulers.

Where a test evaluates the same formula as the schedule, it demands exact float equality;
where the arithmetic differs (torch's recursive cosine), 1e-12.
"""

from __future__ import annotations

import copy
import json
import math
import pickle

import pytest
import torch

from trainlab.optim import schedules as schedules_module
from trainlab.optim.schedules import (
    ScheduledLR,
    book_exponential,
    book_polynomial,
    constant,
    cosine,
    exponential,
    join,
    linear_warmup,
    piecewise_constant,
    polynomial,
)
from trainlab.optim.sgd import SGD

N = 300
STEPS = range(N + 1)


# --------------------------------------------------------------------------------------------
# Closed forms at every step t = 0..N
# --------------------------------------------------------------------------------------------


def test_constant():
    schedule = constant(0.3)
    assert all(schedule(t) == 0.3 for t in STEPS)
    assert type(constant(1)(0)) is float


@pytest.mark.parametrize(("lr0", "rate"), [(1.0, 0.1), (0.5, 0.013), (2.0, 0.0)])
def test_exponential(lr0, rate):
    schedule = exponential(lr0, rate)
    assert [schedule(t) for t in STEPS] == [lr0 * math.exp(-rate * t) for t in STEPS]


@pytest.mark.parametrize(("lr0", "alpha", "beta"), [(1.0, 0.5, 0.1), (0.3, 1.0, 2.0), (0.1, 0, 1)])
def test_polynomial(lr0, alpha, beta):
    schedule = polynomial(lr0, alpha, beta)
    assert [schedule(t) for t in STEPS] == [lr0 * (beta * t + 1) ** (-alpha) for t in STEPS]


@pytest.mark.parametrize(
    ("lr0", "total", "final"), [(0.1, 100, 0.0), (1.0, 7, 0.05), (0.2, 1, 0.2)]
)
def test_cosine_follows_half_a_cosine_then_stays_at_final_lr(lr0, total, final):
    schedule = cosine(lr0, total, final)
    expected = [
        final + (lr0 - final) * (1 + math.cos(math.pi * t / total)) / 2 if t < total else final
        for t in STEPS
    ]
    assert [schedule(t) for t in STEPS] == expected
    assert schedule(0) == lr0
    # the formula itself reaches final_lr at t = total: the clamp adds no jump
    at_end = final + (lr0 - final) * (1 + math.cos(math.pi)) / 2
    assert at_end == pytest.approx(final, abs=1e-12) and schedule(total) == final


def test_cosine_equals_torch_cosine_annealing_within_1e_12():
    """torch's CosineAnnealingLR updates its lr recursively; our closed form agrees with it."""
    param = [torch.zeros(1, requires_grad=True)]
    ours = torch.optim.SGD(param, lr=0.1)
    theirs = torch.optim.SGD(param, lr=0.1)
    ours_sched = ScheduledLR(ours, cosine(0.1, 50, final_lr=1e-3))
    torch_sched = torch.optim.lr_scheduler.CosineAnnealingLR(theirs, T_max=50, eta_min=1e-3)
    for _ in range(50):
        assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], abs=1e-12)
        ours.step()
        theirs.step()
        ours_sched.step()
        torch_sched.step()
    assert ours.param_groups[0]["lr"] == 1e-3


def test_piecewise_constant_switches_exactly_at_each_boundary():
    boundaries, values = [10, 25, 100], [1.0, 0.5, 0.1, 0.01]
    schedule = piecewise_constant(boundaries, values)
    for t in STEPS:
        i = sum(
            t >= b for b in boundaries
        )  # value i applies for boundaries[i-1] ≤ t < boundaries[i]
        assert schedule(t) == values[i]
    assert [schedule(t) for t in (9, 10, 24, 25, 99, 100)] == [1.0, 0.5, 0.5, 0.1, 0.1, 0.01]
    assert piecewise_constant([], [0.2])(N) == 0.2


def test_linear_warmup_rises_linearly_then_follows_the_schedule():
    inner = cosine(0.1, 200, 1e-3)
    schedule = linear_warmup(inner, warmup_steps=20, start_lr=0.01)
    target = inner(20)
    for t in STEPS:
        expected = 0.01 + (target - 0.01) * t / 20 if t < 20 else inner(t)
        assert schedule(t) == expected
    assert schedule(0) == 0.01 and schedule(20) == target
    # equal increments during the warm-up
    steps = [schedule(t + 1) - schedule(t) for t in range(20)]
    assert max(steps) - min(steps) < 1e-15
    assert linear_warmup(inner, 0)(5) == inner(5)


def test_join_restarts_the_step_count_of_each_schedule():
    first, second, third = constant(0.1), exponential(0.1, 0.05), polynomial(0.02, 0.5, 1.0)
    schedule = join([first, second, third], [50, 120])
    for t in STEPS:
        if t < 50:
            expected = first(t)
        elif t < 120:
            expected = second(t - 50)
        else:
            expected = third(t - 120)
        assert schedule(t) == expected
    assert schedule(49) == 0.1 and schedule(50) == second(0) and schedule(120) == third(0)


def test_join_accepts_any_callable_and_nests():
    warmup_then_cosine = join([lambda t: 0.001 * t, cosine(0.1, 100)], [100])
    schedule = join([warmup_then_cosine, constant(0.0)], [200])
    assert schedule(10) == 0.001 * 10 and schedule(150) == cosine(0.1, 100)(50)
    assert schedule(200) == 0.0


# --------------------------------------------------------------------------------------------
# The book's schedules
# --------------------------------------------------------------------------------------------


def book_rates(lr_function, steps: int) -> list[float]:
    """The book's loop as its code writes it (d2l-en/zh sgd.md, the course notebook 18): a
    global counter that starts at t = 1 and is incremented *before* the rate is computed."""
    t = 1

    def next_lr() -> float:
        nonlocal t
        t += 1
        return lr_function(t)

    return [next_lr() for _ in range(steps)]


def test_book_exponential_from_t_2():
    rates = [book_exponential()(t) for t in range(2, 7)]
    assert rates == book_rates(lambda t: math.exp(-0.1 * t), 5)
    assert rates[0] == math.exp(-0.2) == 0.8187307530779818  # the book's first rate: e^(−0.2)
    assert book_exponential()(0) == 1.0  # t = 0 and 1 are steps the book never takes


def test_book_polynomial_from_t_2():
    rates = [book_polynomial()(t) for t in range(2, 7)]
    assert rates == book_rates(lambda t: (1 + 0.1 * t) ** (-0.5), 5)
    assert rates[0] == pytest.approx(0.9128709291752769, abs=0)  # (1 + 0.1·2)^(−0.5)


def test_book_schedules_are_the_named_general_ones():
    assert book_exponential() == exponential(1.0, 0.1)
    assert book_polynomial() == polynomial(1.0, 0.5, 0.1)
    for builder in (book_exponential, book_polynomial):
        assert "t = 2" in builder.__doc__


# --------------------------------------------------------------------------------------------
# Schedules as objects: pure, readable, picklable
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "schedule",
    [
        constant(0.1),
        piecewise_constant([10, 20], [0.1, 0.01, 0.001]),
        exponential(1.0, 0.1),
        polynomial(1.0, 0.5, 0.1),
        cosine(0.1, 100, 0.001),
        linear_warmup(cosine(0.1, 100), 10, 0.01),
        join([constant(0.1), exponential(0.1, 0.1)], [5]),
    ],
    ids=lambda s: type(s).__name__,
)
def test_repr_is_the_call_and_schedules_are_pure_values(schedule):
    rebuilt = eval(repr(schedule), vars(schedules_module))
    assert rebuilt == schedule
    assert pickle.loads(pickle.dumps(schedule)) == schedule
    values = [schedule(t) for t in range(30)]
    assert values == [schedule(t) for t in range(30)] == [rebuilt(t) for t in range(30)]
    assert all(type(v) is float for v in values)


def test_repr_example():
    assert repr(exponential(1.0, 0.1)) == "exponential(lr0=1.0, rate=0.1)"


# --------------------------------------------------------------------------------------------
# ScheduledLR: a schedule as a torch LR scheduler
# --------------------------------------------------------------------------------------------


def make_optimizer() -> SGD:
    a, b = torch.zeros(3, requires_grad=True), torch.zeros(2, requires_grad=True)
    return SGD([{"params": [a]}, {"params": [b], "lr": 5.0}], lr=1.0, momentum=0.9)


def test_scheduled_lr_sets_every_group_to_schedule_of_t():
    schedule = join([linear_warmup(constant(0.1), 5), book_polynomial()], [10])
    optimizer = make_optimizer()
    scheduler = ScheduledLR(optimizer, schedule)
    for t in range(40):
        # t = number of scheduler.step() calls so far: the first optimizer step uses schedule(0)
        assert [g["lr"] for g in optimizer.param_groups] == [schedule(t)] * 2
        assert scheduler.get_last_lr() == [schedule(t)] * 2 and scheduler.last_epoch == t
        optimizer.step()
        scheduler.step()


def test_scheduled_lr_trains_like_setting_the_lr_by_hand():
    schedule = exponential(0.1, 0.05)
    x_auto = torch.tensor([3.0, -2.0], requires_grad=True)
    x_hand = x_auto.detach().clone().requires_grad_()
    auto, hand = SGD([x_auto], momentum=0.5), SGD([x_hand], momentum=0.5)
    scheduler = ScheduledLR(auto, schedule)
    for t in range(30):
        for x, optimizer in ((x_auto, auto), (x_hand, hand)):
            optimizer.zero_grad()
            (x**2).sum().backward()
        hand.param_groups[0]["lr"] = schedule(t)
        auto.step()
        hand.step()
        scheduler.step()
    assert torch.equal(x_auto, x_hand)


def test_scheduled_lr_state_dict_round_trips():
    schedule = cosine(0.1, 30, 0.001)
    optimizer = make_optimizer()
    scheduler = ScheduledLR(optimizer, schedule)
    for _ in range(7):
        optimizer.step()
        scheduler.step()
    state = copy.deepcopy(scheduler.state_dict())
    assert "schedule" not in state and "optimizer" not in state
    json.dumps(state)  # plain data: the schedule is code, not state

    # torch's order: build the scheduler (which sets lr = schedule(0)), then load both states
    resumed_optimizer = make_optimizer()
    resumed = ScheduledLR(resumed_optimizer, schedule)
    resumed_optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    resumed.load_state_dict(state)
    assert resumed.state_dict() == scheduler.state_dict()
    assert resumed_optimizer.param_groups[0]["lr"] == schedule(7)
    for _ in range(10):
        for opt, sched in ((optimizer, scheduler), (resumed_optimizer, resumed)):
            opt.step()
            sched.step()
        assert resumed.last_epoch == scheduler.last_epoch
        assert resumed_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    assert scheduler.last_epoch == 17 and optimizer.param_groups[1]["lr"] == schedule(17)


def test_scheduled_lr_rejects_a_non_callable():
    with pytest.raises(TypeError, match="schedule must be a schedule, a callable"):
        ScheduledLR(make_optimizer(), 0.1)


# --------------------------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda: constant(-0.1), ValueError, r"lr=-0\.1 is negative"),
        (lambda: constant(float("inf")), ValueError, r"lr must be finite"),
        (lambda: constant("0.1"), TypeError, r"lr must be a number"),
        (lambda: exponential(-1.0, 0.1), ValueError, r"lr0=-1\.0 is negative"),
        (lambda: exponential(1.0, -0.1), ValueError, r"rate=-0\.1 is negative"),
        (lambda: exponential(1.0, float("nan")), ValueError, r"rate must be finite"),
        (lambda: polynomial(-1.0, 0.5, 0.1), ValueError, r"lr0=-1\.0 is negative"),
        (lambda: polynomial(1.0, -0.5, 0.1), ValueError, r"alpha=-0\.5"),
        (lambda: polynomial(1.0, 0.5, -0.1), ValueError, r"beta=-0\.1"),
        (lambda: cosine(0.1, 0), ValueError, r"total_steps must be >= 1, got 0"),
        (lambda: cosine(0.1, 10.5), TypeError, r"total_steps must be an int"),
        (lambda: cosine(0.1, 10, final_lr=-1e-3), ValueError, r"final_lr=-0\.001"),
        (
            lambda: piecewise_constant([20, 10], [1, 2, 3]),
            ValueError,
            r"strictly increasing.*\[10, 20\]",
        ),
        (lambda: piecewise_constant([10, 10], [1, 2, 3]), ValueError, r"strictly increasing"),
        (
            lambda: piecewise_constant([0, 10], [1, 2, 3]),
            ValueError,
            r"boundaries\[0\] must be >= 1",
        ),
        (lambda: piecewise_constant([10], [1.0]), ValueError, r"1 boundaries and 1 values"),
        (lambda: piecewise_constant([10], [1.0, 2.0, 3.0]), ValueError, r"one more value"),
        (lambda: piecewise_constant([10], [1.0, -2.0]), ValueError, r"values\[1\]=-2\.0"),
        (lambda: linear_warmup(constant(0.1), -1), ValueError, r"warmup_steps must be >= 0"),
        (lambda: linear_warmup(0.1, 10), TypeError, r"schedule must be a schedule"),
        (lambda: linear_warmup(constant(0.1), 5, start_lr=-1), ValueError, r"start_lr"),
        (lambda: join([constant(0.1)], [10]), ValueError, r"one more schedule than boundaries"),
        (lambda: join([constant(0.1), 0.2], [10]), TypeError, r"schedules\[1\] must be"),
        (lambda: join([constant(1), constant(2), constant(3)], [5, 2]), ValueError, r"increasing"),
    ],
)
def test_bad_arguments_raise(build, error, match):
    with pytest.raises(error, match=match):
        build()


@pytest.mark.parametrize(
    ("step", "error", "match"),
    [
        (-1, ValueError, r"step must be >= 0, got -1"),
        (1.5, TypeError, r"int >= 0, got 1\.5 \(float\)"),
        (2.0, TypeError, r"got 2\.0"),
        (True, TypeError, r"got True"),
        ("3", TypeError, r"got '3'"),
    ],
)
def test_bad_steps_raise(step, error, match):
    with pytest.raises(error, match=match):
        exponential(1.0, 0.1)(step)


def test_integer_like_steps_are_accepted():
    schedule = exponential(1.0, 0.1)
    assert schedule(torch.tensor(3)) == schedule(3)


def test_a_schedule_that_gives_a_negative_rate_is_refused_with_the_rule():
    optimizer = SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = ScheduledLR(optimizer, lambda t: 0.1 - 0.05 * t)
    optimizer.step()
    scheduler.step()  # lr 0.05
    optimizer.step()
    scheduler.step()  # lr 0
    optimizer.step()
    with pytest.raises(ValueError, match=r"gave lr = -0\.05.* at step 3; a learning rate must be "
                       r"a finite number >= 0 \(check the schedule's parameters\)"):  # fmt: skip
        scheduler.step()
