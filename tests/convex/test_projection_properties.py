"""Property tests of the Euclidean projections, and agreement with scipy's SLSQP.

For every projection P onto a closed convex set X, with random valid parameters (hypothesis):

* feasibility     P(v) ∈ X (within a tolerance relative to the magnitudes involved);
* idempotence     P(P(v)) = P(v);
* fixed points    x ∈ X, built independently of trainlab, is left unchanged;
* obtuse angle    ⟨v − P(v), z − P(v)⟩ ≤ 0 for z ∈ X: z = P(w), an independent member, and
                  the member z that maximizes ⟨v − P(v), z⟩ (which makes it a characterization);
* non-expansive   ‖P(u) − P(v)‖ ≤ ‖u − v‖, for independent u and for u near v;
* batching        a batch of shape (..., n) gives the rows projected one at a time;
* float32         float32 in, float32 out, close to the float64 answer on the same input.

Then, with fixed seeds, against scipy.optimize.minimize(method="SLSQP"):

* the simplex and ℓ1-ball projections, written as the QP min ½‖x − v‖² over X;
* augmented_lagrangian on random convex QPs with linear inequalities (feasible by construction)
  and one linear equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.linalg import null_space
from scipy.optimize import minimize

from trainlab.convex import (
    augmented_lagrangian,
    project_affine,
    project_box,
    project_halfspace,
    project_hyperplane,
    project_l1_ball,
    project_l2_ball,
    project_linf_ball,
    project_simplex,
)

F64 = torch.float64
BOUND = 1e3  # |entries| of the random vectors
SETS = ["simplex", "l1_ball", "l2_ball", "linf_ball", "box", "halfspace", "hyperplane", "affine"]
# Relative accuracy demanded: float64 arithmetic on n ≤ 20 entries is good to ~1e-14, a wrong
# formula is off by O(1); float32 is good to ~1e-6.
RTOL64, RTOL32 = 1e-9, 2e-5
# database=None: no .hypothesis/ folder in the working tree; a failure still prints its example.
PROPERTY = settings(max_examples=30, deadline=None, database=None)

dims = st.integers(1, 20)
finite = {"allow_nan": False, "allow_infinity": False}


def vectors(n: int, shape: tuple[int, ...] = (), bound: float = BOUND):
    return hnp.arrays(np.float64, (*shape, n), elements=st.floats(-bound, bound, **finite))


def as_tensor(x: np.ndarray, dtype=F64) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x), dtype=dtype)


@dataclass
class ConvexSet:
    """One random instance of a set: how to project onto it, how far a point is outside it, and
    how to build members of it without trainlab."""

    name: str
    n: int
    params: dict = field(default_factory=dict)
    magnitude: float = 1.0  # the size of the set's data, for tolerances
    conditioning: float = 1.0  # cond(A) for the affine set: rounding errors scale with it

    def project(self, v: torch.Tensor) -> torch.Tensor:
        p = self.params
        if self.name == "simplex":
            return project_simplex(v, p["radius"])
        if self.name == "l1_ball":
            return project_l1_ball(v, p["radius"])
        if self.name == "l2_ball":
            return project_l2_ball(v, p["radius"])
        if self.name == "linf_ball":
            return project_linf_ball(v, p["radius"])
        if self.name == "box":
            return project_box(v, p["lower"], p["upper"])
        if self.name == "halfspace":
            return project_halfspace(v, as_tensor(p["a"]), p["b"])
        if self.name == "hyperplane":
            return project_hyperplane(v, as_tensor(p["a"]), p["b"])
        return project_affine(v, as_tensor(p["A"]), as_tensor(p["b"]))

    def violation(self, x: torch.Tensor) -> float:
        """How far outside the set x (any leading axes) is, in the units of x; 0 inside."""
        x = x.double()
        p = self.params
        zero = x.new_zeros(())
        if self.name == "simplex":
            return max(float((-x).max()), float((x.sum(-1) - p["radius"]).abs().max()), 0.0)
        if self.name in ("l1_ball", "l2_ball", "linf_ball"):
            order = {"l1_ball": 1, "l2_ball": 2, "linf_ball": float("inf")}[self.name]
            norm = torch.linalg.vector_norm(x, ord=order, dim=-1)
            return float(torch.maximum(norm - p["radius"], zero).max())
        if self.name == "box":
            worst = 0.0
            if p["lower"] is not None:
                worst = max(worst, float((as_tensor(p["lower"]) - x).max()))
            if p["upper"] is not None:
                worst = max(worst, float((x - as_tensor(p["upper"])).max()))
            return worst
        if self.name in ("halfspace", "hyperplane"):
            a = as_tensor(p["a"])
            excess = ((x * a).sum(-1) - p["b"]) / torch.linalg.vector_norm(a)
            if self.name == "halfspace":
                return float(torch.maximum(excess, zero).max())
            return float(excess.abs().max())
        A, b = as_tensor(p["A"]), as_tensor(p["b"])
        return float((x @ A.T - b).abs().max()) / float(torch.linalg.matrix_norm(A, ord=2))

    def tol(self, *points: torch.Tensor, rtol: float = RTOL64) -> float:
        """An absolute tolerance for points of this set: rtol times the magnitudes involved."""
        size = max([self.magnitude, *(float(p.double().abs().max()) for p in points)])
        return rtol * self.conditioning * self.n * (1.0 + size)


@st.composite
def convex_sets(draw, name: str, n: int) -> ConvexSet:
    radius = draw(st.floats(1e-3, BOUND))
    if name in ("simplex", "l1_ball", "l2_ball", "linf_ball"):
        return ConvexSet(name, n, {"radius": radius}, magnitude=radius)
    if name == "box":
        ends = np.sort(draw(vectors(n, (2,))), axis=0)
        kind = draw(st.sampled_from(["both", "lower only", "upper only", "scalars"]))
        if kind == "scalars":
            lower, upper = sorted(float(e) for e in draw(vectors(2)))
        else:
            lower = None if kind == "upper only" else ends[0]
            upper = None if kind == "lower only" else ends[1]
        return ConvexSet(name, n, {"lower": lower, "upper": upper}, magnitude=BOUND)
    if name in ("halfspace", "hyperplane"):
        a = draw(vectors(n, bound=10.0))
        if np.linalg.norm(a) < 1e-2:  # a ≠ 0, and not so small that the plane is at infinity
            a[draw(st.integers(0, n - 1))] += 1.0
        b = draw(st.floats(-BOUND, BOUND))
        return ConvexSet(name, n, {"a": a, "b": b}, magnitude=abs(b) / np.linalg.norm(a))
    # affine: Gaussian A, full row rank almost surely
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    m = draw(st.integers(1, n))
    A = rng.standard_normal((m, n))
    b = rng.standard_normal(m) * draw(st.sampled_from([1.0, 100.0]))
    conditioning = float(np.linalg.cond(A))
    magnitude = float(np.abs(np.linalg.lstsq(A, b, rcond=None)[0]).max())
    return ConvexSet(name, n, {"A": A, "b": b}, magnitude, conditioning)


def member(data, s: ConvexSet) -> np.ndarray:
    """A point of the set s, built with numpy/scipy only (independent of trainlab)."""
    p, n = s.params, s.n
    w = data.draw(vectors(n))
    t = data.draw(st.floats(0.0, 1.0))
    if s.name == "simplex":
        w = np.abs(w)
        w = w if w.sum() > 0 else np.ones(n)
        return p["radius"] * (w / w.sum())
    if s.name in ("l1_ball", "l2_ball"):
        norm = np.linalg.norm(w, ord=1 if s.name == "l1_ball" else 2)
        return w * (t * p["radius"] / norm) if norm > 0 else w
    if s.name == "linf_ball":
        return data.draw(vectors(n, bound=1.0)) * p["radius"]
    if s.name == "box":
        lower, upper = p["lower"], p["upper"]
        if lower is not None and upper is not None:
            fraction = data.draw(vectors(n, bound=1.0)) * 0.5 + 0.5  # in [0, 1]
            return np.clip(lower + fraction * (np.asarray(upper) - lower), lower, upper)
        if lower is not None:
            return lower + np.abs(w)
        return upper - np.abs(w)
    if s.name in ("halfspace", "hyperplane"):
        a, b = p["a"], p["b"]
        on_plane = b * a / (a @ a)
        if n > 1:
            on_plane = on_plane + null_space(a[None, :]) @ data.draw(vectors(n - 1))
        if s.name == "halfspace":
            on_plane = on_plane - t * BOUND * a / np.linalg.norm(a)  # step inside
        return on_plane
    A, b = p["A"], p["b"]
    particular = np.linalg.lstsq(A, b, rcond=None)[0]
    basis = null_space(A)
    if basis.shape[1] == 0:
        return particular
    return particular + basis @ data.draw(vectors(basis.shape[1]))


def support_point(s: ConvexSet, d: np.ndarray, x: np.ndarray) -> np.ndarray:
    """A point z of s that (nearly) maximizes ⟨d, z⟩, built without trainlab.

    With d = v − P(v), the obtuse-angle condition for this z is the hardest of all: P(v) is the
    projection exactly when P(v) ∈ X and ⟨d, z − P(v)⟩ ≤ 0 here. Sets without a finite maximizer
    get a feasible point far along d's feasible part instead (x's own piece of the boundary,
    moved along the set's directions of recession)."""
    p, n = s.params, s.n
    if s.name == "simplex":
        return p["radius"] * np.eye(n)[np.argmax(d)]
    if s.name == "l1_ball":
        k = np.argmax(np.abs(d))
        return p["radius"] * np.sign(d[k]) * np.eye(n)[k]
    if s.name == "l2_ball":
        norm = np.linalg.norm(d)
        return p["radius"] * d / norm if norm > 0 else x
    if s.name == "linf_ball":
        return p["radius"] * np.sign(d)
    if s.name == "box":
        far = np.abs(x) + BOUND  # feasible far point along an unbounded side
        lower = x - far if p["lower"] is None else np.broadcast_to(p["lower"], n)
        upper = x + far if p["upper"] is None else np.broadcast_to(p["upper"], n)
        return np.where(d > 0, upper, lower)
    if s.name in ("halfspace", "hyperplane"):
        a, b = p["a"], p["b"]
        basis = null_space(a[None, :]) if n > 1 else np.zeros((n, 0))
        on_plane = b * a / (a @ a) + basis @ (basis.T @ x)  # x moved onto the plane
        z = on_plane + BOUND * basis @ (basis.T @ d)
        if s.name == "halfspace":  # also move inward (−a) if d points that way
            z = z - BOUND * max(0.0, -(d @ a)) / (a @ a) * a
        return z
    A, b = p["A"], p["b"]
    basis = null_space(A)
    particular = np.linalg.lstsq(A, b, rcond=None)[0]
    return particular + basis @ (basis.T @ (x + BOUND * d))


def _finite(bound, default: float):
    return default if bound is None else bound


def draw_case(data, name: str, shape: tuple[int, ...] = ()):
    n = data.draw(dims, label="n")
    s = data.draw(convex_sets(name, n), label="set")
    v = as_tensor(data.draw(vectors(n, shape), label="v"))
    return s, v


# --------------------------------------------------------------------------------------------
# Properties of every projection
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SETS)
@PROPERTY
@given(data=st.data())
def test_projection_is_feasible(name, data):
    s, v = draw_case(data, name)
    x = s.project(v)
    assert x.shape == v.shape and x.dtype == F64
    assert bool(torch.isfinite(x).all())
    assert s.violation(x) <= s.tol(v, x)


@pytest.mark.parametrize("name", SETS)
@PROPERTY
@given(data=st.data())
def test_projection_is_idempotent(name, data):
    s, v = draw_case(data, name)
    x = s.project(v)
    torch.testing.assert_close(s.project(x), x, rtol=0, atol=s.tol(v, x))


@pytest.mark.parametrize("name", SETS)
@PROPERTY
@given(data=st.data())
def test_points_of_the_set_are_unchanged(name, data):
    s = data.draw(convex_sets(name, data.draw(dims)))
    x = as_tensor(member(data, s))
    assert s.violation(x) <= s.tol(x)  # the construction itself is right
    torch.testing.assert_close(s.project(x), x, rtol=0, atol=s.tol(x))


@pytest.mark.parametrize("name", SETS)
@PROPERTY
@given(data=st.data())
def test_obtuse_angle_condition(name, data):
    s, v = draw_case(data, name)
    x = s.project(v)
    candidates = (
        s.project(as_tensor(data.draw(vectors(s.n)))),
        as_tensor(member(data, s)),
        as_tensor(support_point(s, (v - x).numpy(), x.numpy())),
    )
    for z in candidates:
        assert s.violation(z) <= s.tol(z)  # z is in the set
        inner = float((v - x) @ (z - x))
        # rounding in x is ~tol, and enters multiplied by ‖v − x‖ + ‖z − x‖
        slack = s.tol(v, x, z) * (
            1.0 + float(torch.linalg.vector_norm(v - x)) + float(torch.linalg.vector_norm(z - x))
        )
        assert inner <= slack, f"⟨v − P(v), z − P(v)⟩ = {inner:.3g} > 0"


@pytest.mark.parametrize("name", SETS)
@PROPERTY
@given(data=st.data(), nearby=st.booleans())
def test_projection_is_non_expansive(name, data, nearby):
    s, v = draw_case(data, name)
    if nearby:  # u close to v: the local Lipschitz constant, where kinks matter
        u = v + as_tensor(data.draw(vectors(s.n, bound=1.0))) * data.draw(
            st.sampled_from([1e-6, 1e-3, 1.0])
        )
    else:
        u = as_tensor(data.draw(vectors(s.n)))
    moved = float(torch.linalg.vector_norm(s.project(u) - s.project(v)))
    assert moved <= float(torch.linalg.vector_norm(u - v)) + s.tol(u, v)


@pytest.mark.parametrize("name", SETS)
@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
def test_batch_equals_rows_projected_one_at_a_time(name, data, shape):
    s, v = draw_case(data, name, shape)
    batched = s.project(v)
    assert batched.shape == v.shape
    rows = v.reshape(-1, s.n)
    one_at_a_time = torch.stack([s.project(row) for row in rows]).reshape(v.shape)
    torch.testing.assert_close(batched, one_at_a_time, rtol=0, atol=s.tol(v))


# Per-row normals a (B, n) with offsets b (B,): b must line up with the rows, not broadcast
# against them to (B, B) (a bug this test found).
@pytest.mark.parametrize("name", ["halfspace", "hyperplane", "box"])
@PROPERTY
@given(data=st.data(), batch=st.integers(1, 4))
def test_per_row_parameters_equal_rows_projected_one_at_a_time(name, data, batch):
    n = data.draw(dims, label="n")
    sets = [data.draw(convex_sets(name, n)) for _ in range(batch)]
    v = as_tensor(data.draw(vectors(n, (batch,)), label="v"))
    if name == "box":
        lower = as_tensor(
            np.stack([np.broadcast_to(_finite(s.params["lower"], -np.inf), n) for s in sets])
        )
        upper = as_tensor(
            np.stack([np.broadcast_to(_finite(s.params["upper"], np.inf), n) for s in sets])
        )
        batched = project_box(v, lower, upper)
    else:
        a = as_tensor(np.stack([s.params["a"] for s in sets]))
        b = as_tensor(np.array([s.params["b"] for s in sets]))
        batched = (project_halfspace if name == "halfspace" else project_hyperplane)(v, a, b)
    one_at_a_time = torch.stack([s.project(row) for s, row in zip(sets, v, strict=True)])
    tol = max(s.tol(v) for s in sets)
    torch.testing.assert_close(batched, one_at_a_time, rtol=0, atol=tol)


# float32 input: the affine projection once refused half of all consistent float32 systems as
# unsolvable (a float64-tight check on float32 arithmetic), which this test found.
@pytest.mark.parametrize("name", SETS)
@PROPERTY
@given(data=st.data())
def test_float32_input_gives_float32_close_to_float64(name, data):
    s, v = draw_case(data, name)
    # float32 keeps ~7 digits; with cond(A) > 10³ an affine set is barely defined in float32
    assume(s.conditioning < 1e3)
    v32 = v.float()
    x32 = s.project(v32)
    assert x32.dtype == torch.float32 and x32.shape == v.shape
    x64 = s.project(v32.double())  # the same input, in exact-ish arithmetic
    torch.testing.assert_close(x32.double(), x64, rtol=0, atol=s.tol(v32, x64, rtol=RTOL32))


# --------------------------------------------------------------------------------------------
# Agreement with scipy's SLSQP
# --------------------------------------------------------------------------------------------

SLSQP_OPTIONS = {"ftol": 1e-12, "maxiter": 1000}


def _slsqp_projection_simplex(v: np.ndarray, radius: float) -> np.ndarray:
    n = v.size
    res = minimize(
        lambda x: 0.5 * np.sum((x - v) ** 2),
        np.full(n, radius / n),
        jac=lambda x: x - v,
        method="SLSQP",
        bounds=[(0.0, None)] * n,
        constraints=[
            {"type": "eq", "fun": lambda x: x.sum() - radius, "jac": lambda x: np.ones((1, n))}
        ],
        options=SLSQP_OPTIONS,
    )
    assert res.success, res.message
    return res.x


def _slsqp_projection_l1(v: np.ndarray, radius: float) -> np.ndarray:
    """‖x‖₁ ≤ r is not smooth: write x = p − q with p, q ≥ 0 and Σ(p + q) ≤ r, a smooth QP."""
    n = v.size

    def objective(pq):
        return 0.5 * np.sum((pq[:n] - pq[n:] - v) ** 2)

    def gradient(pq):
        r = pq[:n] - pq[n:] - v
        return np.concatenate([r, -r])

    res = minimize(
        objective,
        np.zeros(2 * n),
        jac=gradient,
        method="SLSQP",
        bounds=[(0.0, None)] * (2 * n),
        constraints=[
            {
                "type": "ineq",
                "fun": lambda pq: radius - pq.sum(),
                "jac": lambda pq: -np.ones((1, 2 * n)),
            }
        ],
        options=SLSQP_OPTIONS,
    )
    assert res.success, res.message
    return res.x[:n] - res.x[n:]


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("name", ["simplex", "l1_ball"])
def test_simplex_and_l1_projections_match_slsqp(name, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 7))
    v = rng.standard_normal(n) * 2.0
    radius = float(rng.uniform(0.5, 3.0))
    if seed == 7:
        v *= 0.1 * radius / np.abs(v).sum()  # inside the ℓ1 ball: P(v) = v
    if name == "simplex":
        got, want = project_simplex(as_tensor(v), radius), _slsqp_projection_simplex(v, radius)
    else:
        got, want = project_l1_ball(as_tensor(v), radius), _slsqp_projection_l1(v, radius)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-5)


def _random_qp(seed: int):
    """min ½xᵀQx + cᵀx  s.t.  Gx ≤ h,  eᵀx = d, with Q = MᵀM + 0.1I ≻ 0 and h = G x_feas + slack,
    d = eᵀx_feas, so x_feas is strictly feasible for the inequalities and on the equality.

    The first inequality is aimed at x_eq, the minimizer under the equality alone: its normal is
    x_eq − x_feas and its slack half the way there, so it cuts x_eq off and some inequality is
    active at the solution."""
    rng = np.random.default_rng(1000 + seed)
    n = int(rng.integers(2, 7))
    p = int(rng.integers(2, 2 * n + 1))
    M = rng.standard_normal((n, n))
    Q = M.T @ M + 0.1 * np.eye(n)
    c = rng.standard_normal(n) * 5.0
    e = rng.standard_normal(n)
    x_feas = rng.standard_normal(n)
    d = float(e @ x_feas)
    kkt = np.block([[Q, e[:, None]], [e[None, :], np.zeros((1, 1))]])
    x_eq = np.linalg.solve(kkt, np.concatenate([-c, [d]]))[:n]
    G = rng.standard_normal((p, n))
    G[0] = x_eq - x_feas
    slack = rng.uniform(0.1, 1.0, p)
    slack[0] = 0.5 * G[0] @ G[0]
    h = G @ x_feas + slack
    return Q, c, G, h, e, d


@pytest.mark.parametrize("seed", range(5))
def test_augmented_lagrangian_matches_slsqp_on_convex_qp(seed):
    Q, c, G, h, e, d = _random_qp(seed)
    n = c.size
    res = minimize(
        lambda x: 0.5 * x @ Q @ x + c @ x,
        np.zeros(n),
        jac=lambda x: Q @ x + c,
        method="SLSQP",
        constraints=[
            {"type": "ineq", "fun": lambda x: h - G @ x, "jac": lambda x: -G},
            {"type": "eq", "fun": lambda x: np.array([e @ x - d]), "jac": lambda x: e[None, :]},
        ],
        options=SLSQP_OPTIONS,
    )
    assert res.success, res.message
    # The instance is worth testing: some inequality is active at the solution.
    assert np.any(np.abs(G @ res.x - h) < 1e-6), "no active inequality: change the generator"

    Qt, ct, Gt, ht, et = (as_tensor(z) for z in (Q, c, G, h, e))
    result = augmented_lagrangian(
        lambda x: 0.5 * x @ Qt @ x + ct @ x,
        torch.zeros(n, dtype=F64),
        eq=lambda x: et @ x - d,
        ineq=lambda x: Gt @ x - ht,
    )
    assert result.status == "converged", result.message
    assert result.violation <= 1e-6
    scale = 1.0 + float(np.abs(res.x).max())
    np.testing.assert_allclose(result.x.numpy(), res.x, rtol=0, atol=1e-4 * scale)
    assert abs(result.fun - res.fun) <= 1e-4 * (1.0 + abs(res.fun))
