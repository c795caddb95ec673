"""Constrained minimization: projected gradient descent, the penalty method, the augmented
Lagrangian method, and projected torch optimizers.

For   minimize f(x)  subject to  h(x) = 0 (equalities),  g(x) ≤ 0 (inequalities)
the Lagrangian is L(x, ν, μ) = f(x) + νᵀh(x) + μᵀg(x) with μ ≥ 0, and a solution satisfies the
KKT conditions: ∇f + J_hᵀν + J_gᵀμ = 0, h = 0, g ≤ 0, μ ≥ 0 and μ_i g_i = 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.func import grad, jacrev

from trainlab.optim.minimize import minimize
from trainlab.optim.result import OptimizeResult

__all__ = [
    "ConstrainedResult",
    "augmented_lagrangian",
    "penalty_method",
    "project_parameters",
    "projected_gradient_descent",
]

Constraint = Callable[[Tensor], Tensor]  # x -> (m,) values
_MULTIPLIER_BOUND = 1e8  # the safeguard on the multiplier estimates the subproblems see


def _scalar_function(f: Callable[[Tensor], Tensor], x: Tensor) -> float:
    value = f(x)
    if not isinstance(value, Tensor) or value.numel() != 1:
        shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
        raise ValueError(f"f must return a scalar tensor, got {shape}")
    if not math.isfinite(float(value)):
        raise ValueError(f"f is not finite at the starting point x0 = {x.tolist()}")
    return float(value)


def _start(x0: Tensor | Sequence[float]) -> Tensor:
    x = torch.as_tensor(x0)
    if not x.is_floating_point():
        x = x.double()
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"x0 must be finite, got {x.tolist()}")
    return x.detach().clone()


def projected_gradient_descent(
    f: Callable[[Tensor], Tensor],
    x0: Tensor | Sequence[float],
    project: Callable[[Tensor], Tensor],
    lr: float,
    max_steps: int = 10_000,
    tol: float = 1e-8,
    accelerated: bool = False,
    keep_trajectory: bool = True,
) -> OptimizeResult:
    """Minimize f over a convex set X given by its projection:  x ← P_X(x − η∇f(x))
    (:func:`trainlab.optim.minimize` with ``project``).

    Converged when the gradient mapping ‖(x − P_X(x − η∇f(x)))/η‖ — zero exactly at a
    constrained minimum — falls below ``tol``. With an L-smooth f, η ≤ 1/L guarantees
    descent. ``accelerated=True`` adds Nesterov/FISTA momentum (O(1/k²) instead of O(1/k)).
    """
    return minimize(
        f,
        x0,
        "gradient",
        lr=lr,
        steps=max_steps,
        tol=tol,
        project=project,
        accelerated=accelerated,
        keep_trajectory=keep_trajectory,
    )


@dataclass
class ConstrainedResult(OptimizeResult):
    """Adds the multipliers ν (equalities) and μ (inequalities), the largest constraint
    violation max(|h|, g⁺), and the KKT residual max(‖∇f + J_hᵀν + J_gᵀμ‖∞, max|μ_i g_i|)."""

    eq_multipliers: Tensor | None = None
    ineq_multipliers: Tensor | None = None
    violation: float = float("nan")
    kkt_residual: float = float("nan")


def _values(constraint: Constraint | None, x: Tensor) -> Tensor:
    if constraint is None:
        return x.new_zeros(0)
    out = constraint(x)
    return out.reshape(-1)


def _minimize_unconstrained(
    objective: Callable[[Tensor], Tensor], x: Tensor, max_iter: int, tol: float
) -> OptimizeResult:
    """L-BFGS with a strong-Wolfe line search (:func:`trainlab.optim.minimize`): the inner
    solver of both methods."""
    return minimize(objective, x, "lbfgs", "wolfe", steps=max_iter, tol=tol, keep_trajectory=False)


def _kkt(f, eq, ineq, x, nu, mu) -> tuple[float, float]:
    h, g = _values(eq, x), _values(ineq, x)
    stationarity = grad(f)(x).reshape(-1)
    if h.numel():
        stationarity = (
            stationarity + jacrev(lambda z: _values(eq, z))(x).reshape(h.numel(), -1).T @ nu
        )
    if g.numel():
        stationarity = (
            stationarity + jacrev(lambda z: _values(ineq, z))(x).reshape(g.numel(), -1).T @ mu
        )
    violation = max([0.0, *h.abs().tolist(), *g.clamp_min(0).tolist()])
    complementarity = float((mu * g).abs().max()) if g.numel() else 0.0
    return violation, max(float(stationarity.abs().max()), complementarity)


def _check_constraints(eq, ineq, x) -> None:
    if eq is None and ineq is None:
        raise ValueError("give eq= and/or ineq= constraints; for none, use an unconstrained method")
    for name, c in (("eq", eq), ("ineq", ineq)):
        if c is not None:
            value = c(x)
            if not isinstance(value, Tensor) or value.dim() > 1:
                raise ValueError(f"{name} must map x to a 0-d or 1-d tensor of constraint values")
            if not bool(torch.isfinite(value).all()):
                raise ValueError(f"the {name} constraints are not finite at x0 = {x.tolist()}")


def _constrained(
    f, x0, eq, ineq, tol, max_outer, inner_iter, rho, rho_growth, rho_max, lagrangian: bool
) -> ConstrainedResult:
    x = _start(x0)
    _scalar_function(f, x)
    _check_constraints(eq, ineq, x)
    if not (0 < rho <= rho_max and rho_growth > 1):
        raise ValueError(
            f"need 0 < rho <= rho_max and rho_growth > 1, got rho={rho!r}, "
            f"rho_max={rho_max!r}, rho_growth={rho_growth!r}"
        )
    nu = x.new_zeros(_values(eq, x).numel())
    mu = x.new_zeros(_values(ineq, x).numel())
    result = ConstrainedResult(x, float("nan"), "max_steps", "", 0)
    kkt_tol = math.sqrt(tol)
    previous_violation = math.inf
    for outer in range(1, max_outer + 1):
        # the multipliers the subproblem sees are safeguarded (Birgin & Martínez 2014): a
        # bounded estimate keeps one bad round from poisoning the next
        nu_bar, mu_bar = (
            nu.clamp(-_MULTIPLIER_BOUND, _MULTIPLIER_BOUND),
            mu.clamp_max(_MULTIPLIER_BOUND),
        )

        def objective(z, rho=rho, nu=nu_bar, mu=mu_bar):
            h, g = _values(eq, z), _values(ineq, z)
            if lagrangian:  # f + νᵀh + ρ/2‖h‖² + 1/(2ρ) Σ (max(0, μ + ρg)² − μ²)
                return (
                    f(z)
                    + nu @ h
                    + rho / 2 * h.square().sum()
                    + ((mu + rho * g).clamp_min(0).square() - mu.square()).sum() / (2 * rho)
                )
            return f(z) + rho / 2 * (h.square().sum() + g.clamp_min(0).square().sum())

        inner = _minimize_unconstrained(objective, x, inner_iter, max(tol, 1e-12))
        if inner.status == "diverged":
            result.status = "diverged"
            result.message = (
                f"round {outer}: the {'augmented Lagrangian' if lagrangian else 'penalized'} "
                f"subproblem has no minimum at ρ = {rho:.3g} ({inner.message}); the penalty is "
                "too weak to hold the iterates: start with a larger rho"
            )
            x = inner.x if bool(torch.isfinite(inner.x).all()) else x
            break
        x = inner.x
        h, g = _values(eq, x).detach(), _values(ineq, x).detach()
        if lagrangian:
            nu, mu = nu_bar + rho * h, (mu_bar + rho * g).clamp_min(0)
        else:  # the multipliers the penalty implies at its minimizer
            nu, mu = rho * h, rho * g.clamp_min(0)
        violation, kkt = _kkt(f, eq, ineq, x, nu, mu)
        result.trajectory.append(x)
        result.values.append(float(f(x)))
        result.grad_norms.append(kkt)
        result.step_sizes.append(rho)
        result.nit = outer
        if violation <= tol and kkt <= kkt_tol:
            result.status = "converged"
            result.message = (
                f"violation {violation:.2g} ≤ {tol:g} and KKT residual {kkt:.2g} ≤ {kkt_tol:.2g} "
                f"after {outer} rounds"
            )
            break
        # the standard rule: more penalty only when the violation did not shrink enough
        # (always, for the plain penalty method, which is exact only as ρ → ∞); never past
        # rho_max, where the subproblems become too ill-conditioned to solve
        if (not lagrangian or violation > 0.25 * previous_violation) and rho < rho_max:
            rho = min(rho * rho_growth, rho_max)
        previous_violation = violation
    else:
        result.message = (
            f"stopped after max_outer={max_outer} rounds with violation {violation:.3g} and KKT "
            f"residual {kkt:.3g} (ρ = {rho:.3g})"
        )
    result.x, result.fun = x, float(f(x))
    result.eq_multipliers = nu if eq is not None else None
    result.ineq_multipliers = mu if ineq is not None else None
    result.violation, result.kkt_residual = _kkt(f, eq, ineq, x, nu, mu)
    return result


def penalty_method(
    f: Callable[[Tensor], Tensor],
    x0: Tensor | Sequence[float],
    eq: Constraint | None = None,
    ineq: Constraint | None = None,
    tol: float = 1e-6,
    max_outer: int = 30,
    inner_iter: int = 200,
    rho: float = 1.0,
    rho_growth: float = 10.0,
    rho_max: float = 1e10,
) -> ConstrainedResult:
    """Quadratic penalty: minimize f + ρ/2 (‖h‖² + ‖max(0, g)‖²) for ρ = rho, rho·growth, ...
    until the violation is below ``tol``. Simple, but only exact as ρ → ∞, where the problems
    become ill-conditioned; multipliers are estimated as ν = ρh, μ = ρ·max(0, g)."""
    return _constrained(
        f,
        x0,
        eq,
        ineq,
        tol,
        max_outer,
        inner_iter,
        rho,
        rho_growth,
        rho_max,
        False,  # pragma: no mutate (None for False: the flag is only ever tested for truth)
    )


def augmented_lagrangian(
    f: Callable[[Tensor], Tensor],
    x0: Tensor | Sequence[float],
    eq: Constraint | None = None,
    ineq: Constraint | None = None,
    tol: float = 1e-8,
    max_outer: int = 50,
    inner_iter: int = 200,
    rho: float = 10.0,
    rho_growth: float = 10.0,
    rho_max: float = 1e8,
) -> ConstrainedResult:
    """Augmented Lagrangian (method of multipliers) for h(x) = 0 and g(x) ≤ 0: minimize
    L_ρ = f + νᵀh + ρ/2‖h‖² + 1/(2ρ) Σ(max(0, μ + ρg)² − μ²) over x, then ν ← ν + ρh,
    μ ← max(0, μ + ρg). Exact at finite ρ: the multipliers, not ρ, absorb the constraints."""
    return _constrained(f, x0, eq, ineq, tol, max_outer, inner_iter, rho, rho_growth, rho_max, True)


def project_parameters(
    optimizer: torch.optim.Optimizer,
    projection: Callable[[Tensor], Tensor] | Sequence[Callable[[Tensor], Tensor] | None],
) -> torch.optim.Optimizer:
    """Make ``optimizer`` projected: after every ``step()``, each parameter of param group i is
    replaced in place by ``projection[i](p)`` (one callable applies to every group; None leaves a
    group free). Parameters are projected once right away, so training starts feasible.

    The optimizer stays the same object: its ``state_dict``, param groups and torch's LR
    schedulers work as before (a restored optimizer must be made projected again). Projections
    act on the last axis, batched over the rest: simplex on a (out, in) weight makes each row a
    probability vector; use ``functools.partial(project_box, lower=0)`` for non-negativity.
    """
    groups = optimizer.param_groups
    projections = (
        list(projection) if isinstance(projection, Sequence) else [projection] * len(groups)
    )
    if len(projections) != len(groups):
        raise ValueError(
            f"got {len(projections)} projections for {len(groups)} param groups; give one per group"
        )

    @torch.no_grad()
    def project_all(*_args) -> None:
        for group, project in zip(groups, projections, strict=True):
            if project is not None:
                for p in group["params"]:
                    p.copy_(project(p))

    project_all()
    optimizer.register_step_post_hook(project_all)
    return optimizer
