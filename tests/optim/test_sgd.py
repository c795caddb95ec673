"""trainlab.optim.sgd.SGD against torch.optim.SGD, and its fast path against its reference loop.

The parity runs train a small LeNet-style conv net with cross-entropy on random data for 100
steps, once with each optimizer from the same weights on the same batches, and compare at 1e-7
(float32) and 1e-14 (float64). The two updates use the same floating-point ops, so in fact the
trajectories agree to the last bit; test_bit_for_bit_with_torch_sgd pins that down on a few
steps, the training runs leave room for a harmless change of op order in a future torch.
"""

from __future__ import annotations

import copy
import itertools
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from trainlab.optim import sgd as sgd_module
from trainlab.optim.sgd import SGD

STEPS = 100
BATCH = 16
ATOL = {torch.float32: 1e-7, torch.float64: 1e-14}

CONFIGS = {
    "plain": {"lr": 0.05},
    "momentum": {"lr": 0.05, "momentum": 0.9},
    "dampening": {"lr": 0.05, "momentum": 0.9, "dampening": 0.5},
    "nesterov": {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    "weight_decay": {"lr": 0.05, "weight_decay": 1e-2},
    "nesterov_weight_decay": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-2},
    "maximize": {"lr": 0.01, "momentum": 0.5, "weight_decay": 1e-3, "maximize": True},
}
MOMENTUM_CONFIGS = [name for name, cfg in CONFIGS.items() if cfg.get("momentum", 0) > 0]


# --------------------------------------------------------------------------------------------
# A small model, data and a training loop
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """The tensors here are tiny: a second intra-op thread only adds synchronization, which
    costs a lot on a busy machine. Restored afterwards, so other test modules are unaffected."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_model(dtype: torch.dtype = torch.float32) -> nn.Module:
    """LeNet-style: conv → ReLU → pool → conv → ReLU → two linear layers, for 1×12×12 input."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3),  # (N, 4, 10, 10)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 4, 5, 5)
        nn.Conv2d(4, 8, 3),  # (N, 8, 3, 3)
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(8 * 3 * 3, 32),
        nn.ReLU(),
        nn.Linear(32, 10),
    ).to(dtype)


def make_batches(
    steps: int = STEPS, dtype: torch.dtype = torch.float32
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    gen = torch.Generator().manual_seed(1)
    return [
        (
            torch.randn(BATCH, 1, 12, 12, generator=gen, dtype=dtype),
            torch.randint(0, 10, (BATCH,), generator=gen),
        )
        for _ in range(steps)
    ]


def loss_closure(model: nn.Module, optimizer: torch.optim.Optimizer, x, y):
    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return loss

    return closure


def train_step(model, optimizer, x, y, use_closure: bool = False) -> float:
    closure = loss_closure(model, optimizer, x, y)
    if use_closure:
        loss = optimizer.step(closure)
    else:
        loss = closure()
        optimizer.step()
    return loss.item()


def reloaded(optimizer: torch.optim.Optimizer, params) -> torch.optim.Optimizer:
    """A fresh optimizer of the same class, built with default hyperparameters, that loads a
    snapshot of ``optimizer``'s state dict (deepcopy: a live state dict shares the momentum
    buffers, which the old optimizer would keep updating)."""
    state = copy.deepcopy(optimizer.state_dict())
    fresh = type(optimizer)(params)
    fresh.load_state_dict(state)
    return fresh


def assert_params_close(a: nn.Module, b: nn.Module, atol: float) -> None:
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.isfinite(p).all(), name
        torch.testing.assert_close(p, q, atol=atol, rtol=0, msg=lambda m, n=name: f"{n}: {m}")


def assert_states_equal(
    ours: torch.optim.Optimizer, theirs: torch.optim.Optimizer, skip: tuple[str, ...] = ()
) -> None:
    """Same state entries (momentum buffers) and the same hyperparameters in every group (but
    those in ``skip``; keys only torch's groups have, such as ``fused``, are ignored)."""
    a, b = ours.state_dict(), theirs.state_dict()
    assert a["state"].keys() == b["state"].keys()
    for index, entry in a["state"].items():
        assert entry.keys() == b["state"][index].keys() == {"momentum_buffer"}
        torch.testing.assert_close(entry["momentum_buffer"], b["state"][index]["momentum_buffer"])
    for ga, gb in zip(a["param_groups"], b["param_groups"], strict=True):
        assert {k: v for k, v in gb.items() if k in ga and k not in skip} == {
            k: v for k, v in ga.items() if k not in skip
        }


# --------------------------------------------------------------------------------------------
# Parity with torch.optim.SGD
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_matches_torch_sgd_with_state_dict_round_trip(config, foreach, dtype):
    """100 steps; halfway both optimizers are rebuilt from deep-copied state dicts."""
    ours_model = make_model(dtype)
    torch_model = copy.deepcopy(ours_model)
    ours = SGD(ours_model.parameters(), foreach=foreach, **CONFIGS[config])
    theirs = torch.optim.SGD(torch_model.parameters(), foreach=foreach, **CONFIGS[config])
    for step, (x, y) in enumerate(make_batches(dtype=dtype)):
        if step == STEPS // 2:
            assert_states_equal(ours, theirs)
            ours = reloaded(ours, ours_model.parameters())
            theirs = reloaded(theirs, torch_model.parameters())
        loss_ours = train_step(ours_model, ours, x, y)
        loss_torch = train_step(torch_model, theirs, x, y)
        assert loss_ours == pytest.approx(loss_torch, rel=1e-5, abs=1e-6), f"step {step}"
    assert_params_close(ours_model, torch_model, ATOL[dtype])
    assert_states_equal(ours, theirs)
    assert isinstance(ours, SGD) and ours.param_groups[0]["foreach"] is foreach


@pytest.mark.parametrize("direction", ["torch_to_trainlab", "trainlab_to_torch"])
@pytest.mark.parametrize("config", MOMENTUM_CONFIGS)
def test_state_dicts_interchange_with_torch(config, direction):
    """Train 50 steps with one class, move its state into the other class on a copy of the
    model, and continue both: the switched run equals the uninterrupted one."""
    first, second = (
        (torch.optim.SGD, SGD) if direction == "torch_to_trainlab" else (SGD, torch.optim.SGD)
    )
    model = make_model()
    optimizer = first(model.parameters(), **CONFIGS[config])
    batches = make_batches()
    for x, y in batches[: STEPS // 2]:
        train_step(model, optimizer, x, y)

    switched_model = copy.deepcopy(model)
    switched = second(switched_model.parameters())  # hyperparameters come from the state dict
    switched.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    assert switched.param_groups[0]["momentum"] == CONFIGS[config]["momentum"]
    for x, y in batches[STEPS // 2 :]:
        train_step(model, optimizer, x, y)
        train_step(switched_model, switched, x, y)
    assert_params_close(switched_model, model, ATOL[torch.float32])


@pytest.mark.parametrize(
    "make_scheduler",
    [
        lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5),
        lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=1e-3),
    ],
    ids=["StepLR", "CosineAnnealingLR"],
)
def test_torch_lr_schedulers_drive_it_like_torch_sgd(make_scheduler):
    ours_model = make_model()
    torch_model = copy.deepcopy(ours_model)
    ours = SGD(ours_model.parameters(), lr=0.1, momentum=0.9)
    theirs = torch.optim.SGD(torch_model.parameters(), lr=0.1, momentum=0.9)
    ours_sched, torch_sched = make_scheduler(ours), make_scheduler(theirs)
    lrs = []
    for x, y in make_batches(60):
        train_step(ours_model, ours, x, y)
        train_step(torch_model, theirs, x, y)
        ours_sched.step()
        torch_sched.step()
        lrs.append(ours.param_groups[0]["lr"])
        assert lrs[-1] == theirs.param_groups[0]["lr"]
    assert ours_sched.get_last_lr() == torch_sched.get_last_lr()
    assert min(lrs) < 0.01  # the schedule did act
    assert_params_close(ours_model, torch_model, ATOL[torch.float32])


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
def test_param_groups_with_their_own_hyperparameters(foreach):
    def groups(model: nn.Module) -> list[dict]:
        convs = [p for m in model if isinstance(m, nn.Conv2d) for p in m.parameters()]
        linears = [p for m in model if isinstance(m, nn.Linear) for p in m.parameters()]
        return [
            {"params": convs, "lr": 0.1, "momentum": 0.9},
            {
                "params": linears,
                "lr": 0.01,
                "momentum": 0.5,
                "nesterov": True,
                "weight_decay": 1e-2,
            },
        ]

    ours_model = make_model()
    torch_model = copy.deepcopy(ours_model)
    ours = SGD(groups(ours_model), lr=0.05, foreach=foreach)
    theirs = torch.optim.SGD(groups(torch_model), lr=0.05, foreach=foreach)
    assert [g["lr"] for g in ours.param_groups] == [0.1, 0.01]
    for x, y in make_batches(30):
        train_step(ours_model, ours, x, y)
        train_step(torch_model, theirs, x, y)
    assert_params_close(ours_model, torch_model, ATOL[torch.float32])
    assert_states_equal(ours, theirs)


def test_closure_is_evaluated_and_its_loss_returned():
    ours_model = make_model()
    torch_model = copy.deepcopy(ours_model)
    ours = SGD(ours_model.parameters(), lr=0.05, momentum=0.9)
    theirs = torch.optim.SGD(torch_model.parameters(), lr=0.05, momentum=0.9)
    for x, y in make_batches(20):
        closure = loss_closure(ours_model, ours, x, y)
        with torch.no_grad():  # the closure still gets gradients, as with torch's optimizers
            returned = ours.step(closure)
        assert isinstance(returned, torch.Tensor) and returned.requires_grad
        assert returned.item() == pytest.approx(
            train_step(torch_model, theirs, x, y, use_closure=True), rel=1e-6
        )
    assert_params_close(ours_model, torch_model, ATOL[torch.float32])
    assert ours.step() is None


# --------------------------------------------------------------------------------------------
# Fast path == reference loop
# --------------------------------------------------------------------------------------------


def make_params() -> list[torch.Tensor]:
    """Mixed shapes and dtypes in one group, so the fast path splits into (device, dtype)
    buckets; the last parameter gets no gradient on the first step."""
    shapes_dtypes = [
        ((4, 3), torch.float32),
        ((5,), torch.float64),
        ((2, 3, 2), torch.float32),
        ((7,), torch.float64),
        ((3,), torch.float32),
    ]
    return [torch.randn(s, dtype=d, requires_grad=True) for s, d in shapes_dtypes]


@pytest.mark.parametrize(
    ("momentum", "dampening", "nesterov", "weight_decay", "maximize"),
    [
        c
        for c in itertools.product(
            [0.0, 0.9], [0.0, 0.3], [False, True], [0.0, 0.01], [False, True]
        )
        if not (c[2] and (c[0] == 0 or c[1] != 0))  # Nesterov needs momentum and no dampening
    ],
)
def test_fast_path_equals_reference_and_leaves_grads_alone(
    momentum, dampening, nesterov, weight_decay, maximize
):
    hyper = {
        "lr": 0.1,
        "momentum": momentum,
        "dampening": dampening,
        "nesterov": nesterov,
        "weight_decay": weight_decay,
        "maximize": maximize,
    }
    loop_params = make_params()
    fast_params = [p.detach().clone().requires_grad_() for p in loop_params]
    loop = SGD(loop_params, foreach=False, **hyper)
    fast = SGD(fast_params, foreach=True, **hyper)
    for step in range(4):
        for i, (p, q) in enumerate(zip(loop_params, fast_params, strict=True)):
            grad = None if step == 0 and i == len(loop_params) - 1 else torch.randn_like(p)
            p.grad = None if grad is None else grad.clone()
            q.grad = None if grad is None else grad.clone()
        loop.step()
        fast.step()
        for p, q in zip(loop_params, fast_params, strict=True):
            assert torch.equal(p, q)
            if p.grad is not None:  # .grad is read, never written
                assert torch.equal(p.grad, q.grad)
                assert p.grad is not loop.state.get(p, {}).get("momentum_buffer")
        assert_states_equal(loop, fast, skip=("foreach",))


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_bit_for_bit_with_torch_sgd(config, foreach):
    """Both paths use torch's ops in torch's order (e.g. g.add(p, alpha=λ), one rounding, not
    g + λ·p, two), so the parameters agree exactly, not just within a tolerance."""
    ours_params = make_params()
    torch_params = [p.detach().clone().requires_grad_() for p in ours_params]
    ours = SGD(ours_params, foreach=foreach, **CONFIGS[config])
    theirs = torch.optim.SGD(torch_params, foreach=foreach, **CONFIGS[config])
    for _ in range(5):
        for p, q in zip(ours_params, torch_params, strict=True):
            p.grad = torch.randn_like(p)
            q.grad = p.grad.clone()
        ours.step()
        theirs.step()
        assert all(torch.equal(p, q) for p, q in zip(ours_params, torch_params, strict=True))


def test_foreach_none_picks_the_fast_path(monkeypatch):
    calls = []
    for name in ("_sgd_reference", "_sgd_foreach"):
        original = getattr(sgd_module, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(sgd_module, name, spy)
    for foreach, expected in [
        (None, "_sgd_foreach"),
        (True, "_sgd_foreach"),
        (False, "_sgd_reference"),
    ]:
        p = torch.ones(3, requires_grad=True)
        p.grad = torch.ones(3)
        SGD([p], lr=0.5, foreach=foreach).step()
        assert calls.pop() == expected
        assert torch.equal(p, torch.full((3,), 0.5))


# --------------------------------------------------------------------------------------------
# Details of the semantics
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("foreach", [False, True], ids=["loop", "foreach"])
def test_parameters_without_grad_are_skipped(foreach):
    a = torch.randn(3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    b_before = b.detach().clone()
    optimizer = SGD([a, b], lr=0.1, momentum=0.9, foreach=foreach)
    a.grad = torch.ones(3)
    optimizer.step()
    assert torch.equal(b, b_before)
    assert b not in optimizer.state and set(optimizer.state[a]) == {"momentum_buffer"}
    # the first buffer is a copy of the gradient, not the gradient itself
    assert torch.equal(optimizer.state[a]["momentum_buffer"], a.grad)
    assert optimizer.state[a]["momentum_buffer"] is not a.grad


def test_no_momentum_keeps_no_state_like_torch():
    model = make_model()
    optimizer = SGD(model.parameters(), lr=0.1, weight_decay=1e-3)
    x, y = make_batches(1)[0]
    train_step(model, optimizer, x, y)
    assert optimizer.state_dict()["state"] == {}


def test_repr_and_defaults_match_torch_on_shared_keys():
    p = [torch.zeros(2, requires_grad=True)]
    ours, theirs = SGD(p), torch.optim.SGD(p)
    assert {k: v for k, v in theirs.defaults.items() if k in ours.defaults} == ours.defaults
    assert repr(ours).startswith("SGD (")


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lr": -0.1}, r"lr=-0\.1 .*>= 0.*maximize=True"),
        ({"lr": float("nan")}, r"lr=nan"),
        ({"momentum": -0.5}, r"momentum=-0\.5 .*>= 0"),
        ({"weight_decay": -1e-4}, r"weight_decay=-0\.0001 .*>= 0"),
        ({"nesterov": True}, r"nesterov=True needs momentum > 0 .*got momentum=0\.0"),
        ({"nesterov": True, "momentum": 0.9, "dampening": 0.1}, r"dampening=0\.1"),
    ],
)
def test_bad_hyperparameters_raise_like_torch(kwargs, match):
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match=match):
        SGD(p, **kwargs)
    if not math.isnan(kwargs.get("lr", 0.0)):  # torch accepts a NaN lr, and refuses the rest
        with pytest.raises(ValueError):
            torch.optim.SGD(p, **kwargs)


def test_bad_param_group_is_refused_and_not_added():
    a, b = torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match=r"lr=-1 in param group 1"):
        SGD([{"params": [a]}, {"params": [b], "lr": -1}], lr=0.1)
    optimizer = SGD([a], lr=0.1)
    with pytest.raises(ValueError, match=r"nesterov=True in param group 1"):
        optimizer.add_param_group({"params": [b], "nesterov": True})
    assert len(optimizer.param_groups) == 1


@pytest.mark.parametrize("foreach", [False, True, None], ids=["loop", "foreach", "default"])
@pytest.mark.parametrize(
    "config",
    [{}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.3}, {"maximize": True}],
    ids=["plain", "momentum", "dampening", "maximize"],
)
def test_sparse_gradients_update_as_torch_sgd_does(foreach, config):
    """torch.optim.SGD supports sparse gradients (nn.Embedding(sparse=True)); so does trainlab's,
    bit for bit, in a group mixed with dense parameters."""
    results = []
    for cls in (SGD, torch.optim.SGD):
        torch.manual_seed(0)
        dense, embedding = nn.Linear(3, 2), nn.Embedding(10, 3, sparse=True)
        optimizer = cls(
            [*dense.parameters(), *embedding.parameters()], lr=0.1, foreach=foreach, **config
        )
        for step in range(3):
            optimizer.zero_grad()
            dense(embedding(torch.tensor([1, 2, step + 3]))).square().sum().backward()
            assert embedding.weight.grad.is_sparse
            optimizer.step()
        results.append([p.detach() for p in (*dense.parameters(), embedding.weight)])
    for ours, theirs in zip(*results, strict=True):
        assert torch.equal(ours, theirs)


@pytest.mark.parametrize("flag", ["differentiable", "fused"])
def test_torchs_variants_are_refused_with_torchs_optimizer_as_the_fix(flag):
    with pytest.raises(ValueError, match=rf"{flag}=True is not supported.*use torch\.optim\.SGD"
                       rf"\(\.\.\., {flag}=True\)$"):  # fmt: skip
        SGD([torch.zeros(2, requires_grad=True)], lr=0.1, **{flag: True})
