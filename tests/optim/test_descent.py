"""GD, Newton and preconditioning: the book's numbers exactly, and theory's exact predictions."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from trainlab.experiments import book as ledger
from trainlab.experiments import gradient_descent as book
from trainlab.experiments.settings import Context, Settings
from trainlab.optim.descent import gd, newton, preconditioned_gd, train_2d

F64 = torch.float64


def test_every_deterministic_number_of_the_book_exactly():
    ctx = Context(Settings("smoke"), progress=None)
    ours = {}
    for experiment in (book.gd_1d, book.newton_runs, book.gd_2d):
        ours.update({n.key: n.ours for n in experiment(ctx).numbers})
    exact = [
        k for k in ledger.ENTRIES if k.startswith(("gd.x2.", "gd.xcos", "newton.c", "newton.x"))
    ]
    assert len(exact) == 7
    for key in exact:
        assert ours[key] == ledger.ENTRIES[key].book, key  # bit for bit in float64
    # x1 = −5·0.8²⁰, x2 = −2·0.6²⁰ in exact arithmetic; 20 roundings away in float64
    x1, x2 = ours["gd.2d"]
    assert x1 == pytest.approx(-5 * 0.8**20, rel=1e-14) and x2 == pytest.approx(
        -2 * 0.6**20, rel=1e-14
    )
    assert f"{x1:f}, {x2:f}" == "-0.057646, -0.000073"


def test_autograd_agrees_with_the_books_hand_written_gradients():
    c = 0.15 * math.pi
    f = lambda x: x * torch.cos(c * x)  # noqa: E731
    ours = gd(f, 10.0, 2.0, 10)
    assert float(ours.x) == pytest.approx(ledger.ENTRIES["gd.xcos.eta2"].book, rel=1e-12)
    assert float(newton(f, 10.0, 0.5, 10).x) == pytest.approx(
        ledger.ENTRIES["newton.xcos.eta0.5"].book, rel=1e-10
    )


def test_gd_on_a_quadratic_contracts_each_eigen_direction_by_one_minus_eta_lambda():
    gen = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(4, 4, generator=gen, dtype=F64))
    lam = torch.tensor([0.5, 1.0, 3.0, 8.0], dtype=F64)
    A = q @ torch.diag(lam) @ q.T
    x0 = torch.randn(4, generator=gen, dtype=F64)
    eta = 0.2
    result = gd(lambda x: 0.5 * x @ A @ x, x0, eta, 12)
    for k, x in enumerate(result.trajectory):
        expected = (1 - eta * lam) ** k * (q.T @ x0)
        torch.testing.assert_close(q.T @ x, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "eta, norm, status",
    [
        (0.05, 0.07694, "max_steps"),
        (0.1, 0.0051538, "max_steps"),
        (0.19, 0.0051538, "max_steps"),
        (2 / 11, 6.2088e-5, "max_steps"),
        (0.2, 1.0, "max_steps"),
        (0.21, 117.39, "diverged"),
    ],
)
def test_the_learning_rate_table_for_diag_1_10(eta, norm, status):
    result = gd(lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2), torch.ones(2, dtype=F64), eta, 50)
    assert float(torch.linalg.vector_norm(result.x)) == pytest.approx(norm, rel=1e-4)  # as printed
    assert result.status == status
    if eta == 0.2:
        assert result.message.startswith("no convergence")
    if status == "diverged":
        assert "η < 0.2" in result.message and "L = λ_max(∇²f(x0)) = 10" in result.message
    assert len(result.trajectory) == 51 and result.step_sizes == [eta] * 50


def test_gd_stops_at_once_when_values_blow_up():
    result = gd(lambda x: x**4, 10.0, 1.0, 1000)
    assert result.diverged and result.nit < 20 and "blew up" in result.message


def test_gd_converges_with_a_tolerance():
    result = gd(lambda x: (x**2).sum(), torch.ones(3, dtype=F64), 0.25, 1000, tol=1e-10)
    assert result.converged and result.nit < 50
    assert result.grad_norms[-1] <= 1e-10


def test_newton_lands_on_a_quadratics_minimum_in_one_step():
    gen = torch.Generator().manual_seed(1)
    m = torch.randn(5, 5, generator=gen, dtype=F64)
    A, b = m @ m.T + torch.eye(5, dtype=F64), torch.randn(5, generator=gen, dtype=F64)
    result = newton(lambda x: 0.5 * x @ A @ x - b @ x, torch.zeros(5, dtype=F64), 1.0, 1)
    torch.testing.assert_close(result.x, torch.linalg.solve(A, b), rtol=1e-12, atol=1e-12)


def test_newton_converges_quadratically_on_exp_minus_2x():
    result = newton(lambda x: torch.exp(x) - 2 * x, 0.0, 1.0, 6)
    errors = [abs(float(x) - math.log(2)) for x in result.trajectory]
    ratios = [e1 / e0**2 for e0, e1 in itertools.pairwise(errors) if e0 > 1e-7]
    assert ratios[-1] == pytest.approx(0.5, abs=0.01)  # f'''/(2f'') at ln 2; not "linear"


def test_newton_goes_uphill_where_f_is_concave_and_the_fixes_go_down():
    c = 0.15 * math.pi
    f = lambda x: x * torch.cos(c * x)  # noqa: E731
    plain = newton(f, 10.0, 1.0, 10)
    assert plain.fun > f(torch.tensor(10.0, dtype=F64))  # ended higher than it started
    for fix in ("abs", "damping"):
        fixed = newton(f, 10.0, 0.5, 30, fix=fix, damping=1.0)
        assert fixed.fun < float(f(torch.tensor(10.0, dtype=F64)))


def test_newtons_fixes_at_a_saddle_by_hand():
    """f = x² − y² at (1, 1): g = (2, −2), H = diag(2, −2). Plain Newton jumps to the saddle
    (0, 0); |H| = diag(2, 2) steps to (0, 2), downhill in y; H + I = diag(3, −1) to (1/3, −1)."""
    f = lambda x: x[0] ** 2 - x[1] ** 2  # noqa: E731
    x0 = torch.ones(2, dtype=F64)
    assert newton(f, x0, 1.0, 1).x.tolist() == [0.0, 0.0]
    assert newton(f, x0, 1.0, 1, fix="abs").x.tolist() == [0.0, 2.0]
    torch.testing.assert_close(
        newton(f, x0, 1.0, 1, fix="damping", damping=1.0).x, torch.tensor([1 / 3, -1.0], dtype=F64)
    )


def test_preconditioning_undoes_axis_aligned_curvature():
    f = lambda x: 0.5 * (x[0] ** 2 + 10 * x[1] ** 2)  # noqa: E731
    result = preconditioned_gd(f, torch.ones(2, dtype=F64), 1.0, 1)
    assert torch.equal(result.x, torch.zeros(2, dtype=F64))
    half = preconditioned_gd(f, torch.ones(2, dtype=F64), 0.5, 3)
    torch.testing.assert_close(half.x, torch.full((2,), 0.125, dtype=F64))


def test_train_2d_runs_the_books_update_rules():
    points = train_2d(lambda x1, x2, s1, s2: (x1 - 0.2 * x1, x2 - 0.4 * x2, s1 + 1, s2), steps=3)
    assert points == [(-5.0, -2.0), (-4.0, -1.2), (-3.2, -0.72), (-2.56, -0.432)]


class TestBadInput:
    def test_non_scalar_function(self):
        with pytest.raises(ValueError, match=r"f must return a scalar .* \.sum\(\)"):
            gd(lambda x: x**2, torch.ones(2), 0.1)

    @pytest.mark.parametrize("x0", [float("nan"), float("inf")])
    def test_non_finite_start(self, x0):
        with pytest.raises(ValueError, match="x0 must be finite"):
            newton(lambda x: x**2, x0)

    @pytest.mark.parametrize("lr", [-0.1, 0.0, float("nan")])
    def test_bad_learning_rate(self, lr):
        with pytest.raises(ValueError, match="learning rate must be a positive finite number"):
            gd(lambda x: x**2, 1.0, lr)

    def test_singular_hessian_is_a_status_not_a_nan(self):
        result = newton(lambda x: x[0] ** 2 + 0 * x[1], torch.ones(2, dtype=F64))
        assert result.status == "failed" and "singular" in result.message
        assert bool(torch.isfinite(result.x).all())
        flat = newton(lambda x: x**3 - 3 * x, 0.0)  # f''(0) = 0 where f'(0) = −3
        assert flat.status == "failed" and "fix='damping'" in flat.message
        stationary = newton(lambda x: x**3, 0.0)  # ∇f(0) = 0: stationary, so nothing to do
        assert stationary.converged and stationary.nit == 0

    def test_unknown_fix(self):
        with pytest.raises(ValueError, match="fix must be None, 'abs' or 'damping'"):
            newton(lambda x: x**2, 1.0, fix="trust-region")


# --------------------------------------------------------------------------------------------
# The front doors' defaults, and that they pass every argument on


def _calls(fn):
    """fn, counting its calls in .n."""

    def counted(x):
        counted.n += 1
        return fn(x)

    counted.n = 0
    return counted


def test_gd_defaults_to_20_steps_and_keeps_the_trajectory_on_request():
    f = lambda x: x**2  # noqa: E731
    result = gd(f, 1.0, 0.1)
    assert result.nit == 20 and len(result.trajectory) == 21
    assert gd(f, 1.0, 0.1, keep_trajectory=False).trajectory == []


def test_newton_defaults_to_10_full_steps():
    f = lambda x: x**4  # noqa: E731  Newton: x ← 2x/3, never exactly at 0
    result = newton(f, 2.0)
    explicit = newton(f, 2.0, lr=1.0, steps=10)
    assert result.nit == 10 and len(result.trajectory) == 11
    assert result.trajectory == explicit.trajectory
    assert newton(f, 2.0, keep_trajectory=False).trajectory == []


def test_newton_uses_the_callers_derivatives_and_damping():
    grad = _calls(lambda x: 2 * x)
    hess = _calls(lambda x: 4 * torch.ones(1, 1, dtype=x.dtype))  # twice the true 2: half steps
    result = newton(lambda x: x**2, 8.0, steps=1, grad=grad, hess=hess)
    assert float(result.x) == pytest.approx(4.0) and grad.n > 0 and hess.n > 0
    damped = newton(lambda x: x**2, 6.0, steps=1, fix="damping", damping=1.0)
    assert float(damped.x) == pytest.approx(6.0 - 12.0 / 3.0)  # H + 1 = 3
    default = newton(lambda x: x**2, 6.0, steps=1, fix="damping")
    assert float(default.x) == pytest.approx(6.0 - 12.0 / 2.001)  # damping 1e-3


def test_preconditioned_gd_defaults_and_arguments():
    f = lambda x: x**4 / 4 - x**2 / 2  # noqa: E731  H = 3x² − 1 < 0 at x = 0.5
    plain = preconditioned_gd(f, 0.5, lr=0.1, steps=1)
    assert plain.status == "failed" and "is not positive" in plain.message  # H_ii < 0 refused
    absolute = preconditioned_gd(f, 0.5, lr=0.1, steps=1, absolute=True)
    assert float(absolute.x) == pytest.approx(0.5 + 0.1 * 0.375 / 0.25)  # divides by |H|
    q = lambda x: x**2  # noqa: E731
    result = preconditioned_gd(q, 1.0, lr=0.1)
    assert result.nit == 20 and len(result.trajectory) == 21  # tol = 0: every step
    assert preconditioned_gd(q, 1.0, lr=0.1, keep_trajectory=False).trajectory == []
    stopped = preconditioned_gd(q, 1.0, lr=0.5, tol=1e-3)  # x_k = 2^−k, ∇f = 2x_k ≤ 1e-3
    assert stopped.converged and stopped.nit == 11
    grad, diag = _calls(lambda x: 2 * x), _calls(lambda x: 4 * torch.ones_like(x))
    halved = preconditioned_gd(q, 1.0, lr=1.0, steps=1, grad=grad, hess_diag=diag)
    assert float(halved.x) == pytest.approx(0.5) and grad.n > 0 and diag.n > 0


def test_train_2d_starts_the_state_at_zero_and_takes_20_steps():
    seen = []

    def update(x1, x2, s1, s2):
        seen.append((s1, s2))
        return x1 * 0.5, x2 * 0.5, s1 + 1, s2 + 2

    points = train_2d(update)
    assert len(points) == 21 and points[0] == (-5.0, -2.0)
    assert seen[:2] == [(0.0, 0.0), (1.0, 2.0)]
