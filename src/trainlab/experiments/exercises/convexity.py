"""Exercises of d2l §12.2 (convexity): each proof stated in short and backed by a numerical
check that could fail — sampled chords and segments (trainlab.convex's checkers, which can only
refute convexity), Hessian eigenvalues, projection matrices, Taylor remainders, and the distances
of projected pairs."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from trainlab.convex import (
    check_convex_function,
    check_convex_set,
    project_affine,
    project_box,
    project_l1_ball,
    project_l2_ball,
    project_simplex,
)
from trainlab.experiments.figures import blank_figure
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context

__all__ = ["EXERCISES", "inside_polygon", "p_norm"]

F64 = torch.float64


def _samples(ctx: Context, quick: int) -> int:
    return max(quick // 10, 200) if ctx.settings.profile == "smoke" else quick


# 12.2.1 ------------------------------------------------------------------------------------


def inside_polygon(points: Tensor, vertices: Tensor) -> Tensor:
    """Whether each of the (n, 2) points lies inside the simple polygon with (k, 2) vertices in
    order (even-odd ray casting)."""
    x, y = points[:, :1], points[:, 1:]
    a, b = vertices, vertices.roll(-1, 0)
    crosses = (a[:, 1] > y) != (b[:, 1] > y)
    at = a[:, 0] + (y - a[:, 1]) * (b[:, 0] - a[:, 0]) / (b[:, 1] - a[:, 1])
    return ((crosses & (x < at)).sum(1) % 2) == 1


def _diagonals_outside(vertices: Tensor) -> tuple[int, int]:
    """(diagonals with a point outside the polygon, diagonals tested): the segments between
    non-adjacent vertices, sampled at 99 interior points each."""
    k = len(vertices)
    t = torch.linspace(0.01, 0.99, 99, dtype=F64).unsqueeze(1)
    outside = tested = 0
    for i in range(k):
        for j in range(i + 2, k - (1 if i == 0 else 0)):
            tested += 1
            segment = (1 - t) * vertices[i] + t * vertices[j]
            outside += int(not bool(inside_polygon(segment, vertices).all()))
    return outside, tested


def boundary_points(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.1: the diagonals of a convex octagon and of a star polygon, tested for leaving the
    shape."""
    angles = torch.arange(8, dtype=F64) * (2 * math.pi / 8)
    octagon = torch.stack([torch.cos(angles), torch.sin(angles)], 1)
    star_radius = torch.tensor([1.0, 0.4] * 5, dtype=F64)
    star_angles = torch.arange(10, dtype=F64) * (2 * math.pi / 10)
    star = torch.stack(
        [star_radius * torch.cos(star_angles), star_radius * torch.sin(star_angles)], 1
    )
    convex_out, convex_tested = _diagonals_outside(octagon)
    star_out, star_tested = _diagonals_outside(star)

    def draw(lang: Lang):
        fig = blank_figure(7.0, 3.4)
        for index, (shape, title) in enumerate(
            (
                (octagon, Text("convex octagon", "凸八边形")),
                (star, Text("star (not convex)", "星形（非凸）")),
            )
        ):
            ax = fig.add_subplot(1, 2, index + 1)
            closed = torch.cat([shape, shape[:1]])
            ax.plot(closed[:, 0], closed[:, 1], "k-")
            for i in range(len(shape)):
                for j in range(i + 2, len(shape) - (1 if i == 0 else 0)):
                    ax.plot(shape[[i, j], 0], shape[[i, j], 1], "-", color="C0", linewidth=0.4)
            ax.set(title=title(lang), aspect="equal")
            ax.set_axis_off()
        return fig

    answer = Text(
        f"(a) Boundary pairs suffice for a closed set X: if x, y ∈ X and the segment between them "
        f"leaves X, extend the line through x and y; it meets the boundary at a point before x and a "
        f"point after y (or at x, y themselves), and the segment between these two boundary points "
        f"contains the offending one. So if every boundary chord stays inside, every chord does. (b) "
        f"For a polygon (a polytope), the vertices suffice: a polygon is convex exactly when every "
        f"diagonal between its vertices lies inside it — at a reflex vertex some diagonal runs outside "
        f"— and then the polygon is the convex hull of its vertices. Check: of the {convex_tested} "
        f"diagonals of a regular octagon, {convex_out} leave it; of the {star_tested} diagonals of a "
        f"five-pointed star, {star_out} do. For sets with curved boundaries every boundary point is a "
        f"'vertex' (an extreme point), so (b) is (a).",
        f"(a) 对闭集 X 只需检查边界点对：若 x, y ∈ X 而它们之间的线段离开了 X，延长过 x、y 的直线，它在 x 之前和 y 之后各与边界"
        f"相交于一点（或就是 x、y 本身），这两个边界点之间的线段包含那个出界的点。所以若所有边界点之间的线段都在集合内，则所有"
        f"线段都在。(b) 对多边形（多面体）只需检查顶点：多边形是凸的，当且仅当其顶点之间的每条对角线都在其内部——在凹顶点处"
        f"必有对角线跑到外面——此时多边形就是其顶点的凸包。验证：正八边形的 {convex_tested} 条对角线中有 {convex_out} 条出界；"
        f"五角星的 {star_tested} 条对角线中有 {star_out} 条出界。边界弯曲的集合中每个边界点都是“顶点”（极点），此时 (b) 即 (a)。",
    )
    values = {
        "octagon_diagonals": convex_tested,
        "octagon_outside": convex_out,
        "star_diagonals": star_tested,
        "star_outside": star_out,
    }
    plot = Plot(
        "ex12_2_1_diagonals",
        draw,
        Text(
            f"every diagonal of the octagon stays inside ({convex_out} of {convex_tested} leave); "
            f"{star_out} of the star's {star_tested} diagonals leave it",
            f"八边形的对角线全部在内部（{convex_tested} 条中 {convex_out} 条出界）；星形的 {star_tested} 条对角线中 {star_out} 条出界",
        ),
        Text(
            "a convex octagon and a star with all their diagonals drawn",
            "画出全部对角线的凸八边形与星形",
        ),
    )
    return answer, values, [plot]


# 12.2.2 ------------------------------------------------------------------------------------


def p_norm(x: Tensor, p: float) -> Tensor:
    """(Σ|x_i|^p)^(1/p) over the last axis (the maximum for p = ∞)."""
    if math.isinf(p):
        return x.abs().amax(-1)
    return x.abs().pow(p).sum(-1).pow(1 / p)


def p_balls(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.2: sampled chords of p-balls for p = ½, 1, 2, ∞, and the triangle inequality on random
    pairs."""
    samples = _samples(ctx, 4000)
    results = {}
    for d in (2, 3):
        for p in (0.5, 1.0, 2.0, math.inf):
            report = check_convex_set(
                lambda v, p=p: p_norm(v, p) <= 1,
                (-torch.ones(d), torch.ones(d)),
                samples,
                ctx.settings.seed,
            )
            results[(d, p)] = report
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    u, v = torch.randn(2, samples, 3, generator=gen, dtype=F64)
    triangle = {
        p: float((p_norm(u + v, p) - p_norm(u, p) - p_norm(v, p)).max())
        for p in (0.5, 1.0, 2.0, math.inf)
    }
    name = {0.5: "0.5", 1.0: "1", 2.0: "2", math.inf: "∞"}
    refuted = {name[p]: [d for d in (2, 3) if results[(d, p)].refuted] for p in name}
    example = results[(2, 0.5)].violation
    pair = example.points.tolist() if example else None

    def summary(lang: Lang) -> str:
        yes, no = Text("refuted", "被否定")(lang), Text("no counterexample", "未找到反例")(lang)
        return "; ".join(f"p = {name[p]}: {yes if refuted[name[p]] else no}" for p in name)

    answer = Text(
        f"For p ≥ 1, ‖·‖_p is a norm: it is homogeneous and satisfies the triangle inequality "
        f"(Minkowski), so for x, y in B_p[r] and λ ∈ [0, 1], ‖λx + (1 − λ)y‖_p ≤ λ‖x‖_p + (1 − λ)‖y‖_p "
        f"≤ r. For p < 1 the triangle inequality fails and so does convexity. Check with "
        f"trainlab.convex.check_convex_set ({samples} sampled chords, d = 2 and 3, r = 1): {summary('en')}"
        f"{f'; a counterexample for p = 0.5: ({pair[0][0]:.3f}, {pair[0][1]:.3f}) and ({pair[1][0]:.3f}, {pair[1][1]:.3f}) are in the ball, a mix of them is not' if pair else ''}. "
        f"Largest ‖u + v‖_p − ‖u‖_p − ‖v‖_p over {samples} random pairs in ℝ³: "
        f"{', '.join(f'p = {name[p]}: {g:.3f}' for p, g in triangle.items())} (above rounding only for p = 0.5).",
        f"p ≥ 1 时 ‖·‖_p 是范数：齐次且满足三角不等式（闵可夫斯基不等式），所以对 B_p[r] 中的 x、y 和 λ ∈ [0, 1]，"
        f"‖λx + (1 − λ)y‖_p ≤ λ‖x‖_p + (1 − λ)‖y‖_p ≤ r。p < 1 时三角不等式不成立，凸性也随之失去。用 "
        f"trainlab.convex.check_convex_set 检验（{samples} 条抽样弦，d = 2 与 3，r = 1）：{summary('zh')}"
        f"{f'；p = 0.5 的一个反例：({pair[0][0]:.3f}, {pair[0][1]:.3f}) 与 ({pair[1][0]:.3f}, {pair[1][1]:.3f}) 在球内，其某个凸组合不在' if pair else ''}。"
        f"ℝ³ 中 {samples} 对随机向量上 ‖u + v‖_p − ‖u‖_p − ‖v‖_p 的最大值："
        f"{'，'.join(f'p = {name[p]}：{g:.3f}' for p, g in triangle.items())}（仅 p = 0.5 超出舍入误差）。",
    )
    values = {
        "refuted_p05": len(refuted["0.5"]),
        "refuted_p1": len(refuted["1"]),
        "refuted_p2": len(refuted["2"]),
        "refuted_pinf": len(refuted["∞"]),
        "triangle_gap": [triangle[p] for p in name],
    }
    return answer, values, []


# 12.2.3 ------------------------------------------------------------------------------------


def max_and_min(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.3: the convexity checker on the maximum and the minimum of (x − 1)² and (x + 1)²."""
    samples = _samples(ctx, 4000)
    f = lambda x: (x - 1) ** 2  # noqa: E731
    g = lambda x: (x + 1) ** 2  # noqa: E731
    reports = {
        "max": check_convex_function(
            lambda x: torch.maximum(f(x), g(x)),
            (-3.0, 3.0),
            num_samples=samples,
            seed=ctx.settings.seed,
        ),
        "min": check_convex_function(
            lambda x: torch.minimum(f(x), g(x)),
            (-3.0, 3.0),
            num_samples=samples,
            seed=ctx.settings.seed,
        ),
    }
    violation = reports["min"].violation
    midpoint = float(min(f(torch.tensor(0.0)), g(torch.tensor(0.0))))
    answer = Text(
        f"Max: for λ ∈ [0, 1], max(f, g)(λx + (1 − λ)y) ≤ max(λf(x) + (1 − λ)f(y), λg(x) + (1 − λ)g(y)) "
        f"≤ λ max(f, g)(x) + (1 − λ) max(f, g)(y), using convexity of f and g and then max(a + b, c + d) "
        f"≤ max(a, c) + max(b, d). Min: f = (x − 1)² and g = (x + 1)² are convex, but min(f, g) is 0 at "
        f"±1 and {midpoint:g} at the midpoint 0, above the chord. trainlab.convex.check_convex_function "
        f"({samples} chords and Jensen tests on [−3, 3]): max(f, g) — "
        f"{'refuted' if reports['max'].refuted else 'no counterexample'}; min(f, g) — "
        f"{'refuted' if reports['min'].refuted else 'no counterexample'}"
        f"{f', e.g. at {violation.points.reshape(-1).tolist()[0]:.3f} and {violation.points.reshape(-1).tolist()[1]:.3f} the chord is {-violation.gap:.3f} below the graph' if violation is not None and violation.kind == 'chord' else ''}.",
        f"最大值：对 λ ∈ [0, 1]，max(f, g)(λx + (1 − λ)y) ≤ max(λf(x) + (1 − λ)f(y), λg(x) + (1 − λ)g(y)) ≤ λ max(f, g)(x) "
        f"+ (1 − λ) max(f, g)(y)，先用 f、g 的凸性，再用 max(a + b, c + d) ≤ max(a, c) + max(b, d)。最小值：f = (x − 1)² 与 "
        f"g = (x + 1)² 都是凸的，但 min(f, g) 在 ±1 处为 0，在中点 0 处为 {midpoint:g}，高于弦。用 "
        f"trainlab.convex.check_convex_function 检验（[−3, 3] 上 {samples} 次弦与詹森检验）：max(f, g)——"
        f"{'被否定' if reports['max'].refuted else '未找到反例'}；min(f, g)——{'被否定' if reports['min'].refuted else '未找到反例'}"
        f"{f'，例如在 {violation.points.reshape(-1).tolist()[0]:.3f} 与 {violation.points.reshape(-1).tolist()[1]:.3f} 之间弦低于图像 {-violation.gap:.3f}' if violation is not None and violation.kind == 'chord' else ''}。",
    )
    values = {
        "max_refuted": int(reports["max"].refuted),
        "min_refuted": int(reports["min"].refuted),
    }
    return answer, values, []


# 12.2.4 ------------------------------------------------------------------------------------


def log_sum_exp(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.4: log-sum-exp's Hessian against diag(p) − ppᵀ, its eigenvalues, and the convexity
    checker."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    d, n = 5, _samples(ctx, 1000)
    points = torch.randn(n, d, generator=gen, dtype=F64) * 3
    hessians = torch.func.vmap(torch.func.hessian(torch.logsumexp, argnums=0), in_dims=(0, None))(
        points, 0
    )
    p = torch.softmax(points, 1)
    closed_form = torch.diag_embed(p) - p.unsqueeze(2) * p.unsqueeze(1)
    formula_gap = float((hessians - closed_form).abs().max())
    eig = torch.linalg.eigvalsh(hessians)
    smallest, largest = float(eig[:, 0].min()), float(eig[:, -1].max())
    null = float((closed_form @ torch.ones(d, dtype=F64)).abs().max())
    report = check_convex_function(
        lambda x: torch.logsumexp(x, 0),
        (-5 * torch.ones(d), 5 * torch.ones(d)),
        num_samples=n,
        seed=ctx.settings.seed,
    )
    answer = Text(
        f"With p = softmax(x), ∇ log Σ exp(x_i) = p and the Hessian is H = diag(p) − ppᵀ. For any v, vᵀHv "
        f"= Σ p_i v_i² − (Σ p_i v_i)² = Var_p(v) ≥ 0 (a variance under the distribution p), so H is "
        f"positive semidefinite everywhere and the function is convex; it is flat along 1, since adding "
        f"c to every x_i adds c to the value (H·1 = 0). Check at {n} random points in ℝ^{d}: autograd's "
        f"Hessian matches diag(p) − ppᵀ to {formula_gap:.1e}; its eigenvalues lie in [{smallest:.1e}, "
        f"{largest:.3f}] (the smallest is the zero along 1, up to rounding; |H·1| ≤ {null:.1e}); and "
        f"check_convex_function finds {'a counterexample' if report.refuted else 'no counterexample'} in "
        f"{n} chords, Jensen tests and Hessians on [−5, 5]^{d}.",
        f"记 p = softmax(x)，则 ∇ log Σ exp(x_i) = p，黑塞矩阵 H = diag(p) − ppᵀ。对任意 v，vᵀHv = Σ p_i v_i² − "
        f"(Σ p_i v_i)² = Var_p(v) ≥ 0（在分布 p 下的方差），所以 H 处处半正定，函数是凸的；它沿 1 方向是平的，因为每个 x_i 都加 c "
        f"时函数值加 c（H·1 = 0）。在 ℝ^{d} 中 {n} 个随机点上验证：自动微分的黑塞矩阵与 diag(p) − ppᵀ 相差不超过 "
        f"{formula_gap:.1e}；其特征值位于 [{smallest:.1e}, {largest:.3f}]（最小的是沿 1 方向的零，仅差舍入；|H·1| ≤ {null:.1e}）；"
        f"check_convex_function 在 [−5, 5]^{d} 上的 {n} 次弦、詹森与黑塞检验中{'找到反例' if report.refuted else '未找到反例'}。",
    )
    values = {
        "formula_gap": formula_gap,
        "smallest_eigenvalue": smallest,
        "largest_eigenvalue": largest,
        "null_direction": null,
        "refuted": int(report.refuted),
    }
    return answer, values, []


# 12.2.5 ------------------------------------------------------------------------------------


def _system(ctx: Context) -> tuple[Tensor, Tensor, torch.Generator]:
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    W = torch.randn(3, 6, generator=gen, dtype=F64)
    return W, torch.randn(3, generator=gen, dtype=F64), gen


def affine_set(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.5: convex combinations of random solutions of a random linear system."""
    W, b, gen = _system(ctx)
    n = _samples(ctx, 2000)
    particular = torch.linalg.lstsq(W, b.unsqueeze(1)).solution.squeeze(1)
    null_basis = torch.linalg.svd(W).Vh[3:]  # W's null space, 3 directions
    solutions = particular + torch.randn(2, n, 3, generator=gen, dtype=F64) @ null_basis * 5
    lam = torch.rand(n, 1, generator=gen, dtype=F64)
    mixes = lam * solutions[0] + (1 - lam) * solutions[1]
    before = float((solutions @ W.T - b).abs().max())
    residual = float((mixes @ W.T - b).abs().max())
    answer = Text(
        f"If Wx = b and Wy = b, then for λ ∈ [0, 1], W(λx + (1 − λ)y) = λWx + (1 − λ)Wy = λb + (1 − λ)b = "
        f"b: the solution set is closed under convex combinations, hence convex (an affine subspace; "
        f"empty sets are convex too). Check with a random 3×6 system: {n} pairs of solutions "
        f"(particular solution plus random null-space directions; residual ≤ {before:.1e}) and random λ "
        f"give mixtures with residual ‖W(λx + (1 − λ)y) − b‖∞ ≤ {residual:.1e}, i.e. rounding.",
        f"若 Wx = b 且 Wy = b，则对 λ ∈ [0, 1]，W(λx + (1 − λ)y) = λWx + (1 − λ)Wy = λb + (1 − λ)b = b：解集对凸组合封闭，"
        f"因而是凸的（一个仿射子空间；空集也是凸的）。用随机 3×6 方程组验证：{n} 对解（特解加随机零空间方向；残差 ≤ "
        f"{before:.1e}）与随机 λ 得到的凸组合，残差 ‖W(λx + (1 − λ)y) − b‖∞ ≤ {residual:.1e}，即舍入误差。",
    )
    return answer, {"pairs": n, "solution_residual": before, "mixture_residual": residual}, []


# 12.2.6 ------------------------------------------------------------------------------------


def null_projection(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.6: the projection matrix onto a null space: idempotent, symmetric, linear, equal to
    trainlab's projection."""
    W, _b, gen = _system(ctx)
    n = W.shape[1]
    M = torch.eye(n, dtype=F64) - W.T @ torch.linalg.solve(W @ W.T, W)
    vectors = torch.randn(200, n, generator=gen, dtype=F64)
    checks = {
        "idempotent": float((M @ M - M).abs().max()),
        "symmetric": float((M - M.T).abs().max()),
        "in_null_space": float((W @ M).abs().max()),
        "against_projection": float(
            (vectors @ M.T - project_affine(vectors, W, torch.zeros(3, dtype=F64))).abs().max()
        ),
    }
    u, v = vectors[0], vectors[1]
    a, c = 2.5, -1.5
    checks["linearity"] = float((M @ (a * u + c * v) - a * (M @ u) - c * (M @ v)).abs().max())
    rank = int(torch.linalg.matrix_rank(M))
    answer = Text(
        f"The projection of x onto {{x : Wx = 0}} minimizes ½‖x − z‖² subject to Wz = 0. Setting the "
        f"gradient of the Lagrangian to zero gives z = x − Wᵀμ, and Wz = 0 gives μ = (WWᵀ)⁻¹Wx (W of "
        f"full row rank), so z = (I − Wᵀ(WWᵀ)⁻¹W)x = Mx: a fixed matrix, i.e. a linear map. Check for a "
        f"random 3×6 W: ‖M² − M‖ = {checks['idempotent']:.1e} (idempotent), ‖M − Mᵀ‖ = "
        f"{checks['symmetric']:.1e} (orthogonal projection), ‖WM‖ = {checks['in_null_space']:.1e}, rank M "
        f"= {rank} = 6 − 3; M agrees with trainlab.convex.project_affine on 200 random vectors to "
        f"{checks['against_projection']:.1e}, and M(2.5u − 1.5v) − 2.5Mu + 1.5Mv = "
        f"{checks['linearity']:.1e}.",
        f"x 到 {{x : Wx = 0}} 的投影在 Wz = 0 的约束下最小化 ½‖x − z‖²。令拉格朗日函数的梯度为零得 z = x − Wᵀμ，再由 Wz = 0 得 "
        f"μ = (WWᵀ)⁻¹Wx（W 行满秩），所以 z = (I − Wᵀ(WWᵀ)⁻¹W)x = Mx：一个固定矩阵，即线性映射。对随机 3×6 的 W 验证："
        f"‖M² − M‖ = {checks['idempotent']:.1e}（幂等），‖M − Mᵀ‖ = {checks['symmetric']:.1e}（正交投影），‖WM‖ = "
        f"{checks['in_null_space']:.1e}，rank M = {rank} = 6 − 3；M 在 200 个随机向量上与 trainlab.convex.project_affine 相差不超过 "
        f"{checks['against_projection']:.1e}，M(2.5u − 1.5v) − 2.5Mu + 1.5Mv = {checks['linearity']:.1e}。",
    )
    return answer, checks | {"rank": rank}, []


# 12.2.7 ------------------------------------------------------------------------------------

TAYLOR = {
    "exp": (torch.exp, torch.exp, torch.exp),
    "cosh": (torch.cosh, torch.sinh, torch.cosh),
    "softplus": (
        torch.nn.functional.softplus,
        torch.sigmoid,
        lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x)),
    ),
    "x⁴": (lambda x: x**4, lambda x: 4 * x**3, lambda x: 12 * x**2),
}


def taylor(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.7: the Lagrange remainder's ξ located on a grid for random x and ε, for four functions."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    trials = _samples(ctx, 2000)
    x = torch.rand(trials, generator=gen, dtype=F64) * 4 - 2
    eps = (torch.rand(trials, generator=gen, dtype=F64) * 2 - 1) * 1.5
    eps = torch.where(eps.abs() < 1e-2, torch.full_like(eps, 0.5), eps)
    grid = torch.linspace(0, 1, 2001, dtype=F64)
    found, worst = {}, {}
    for name, (f, df, d2f) in TAYLOR.items():
        needed = 2 * (f(x + eps) - f(x) - eps * df(x)) / eps**2  # the value f'' must take at x + ξ
        along = d2f(x.unsqueeze(1) + grid * eps.unsqueeze(1)) - needed.unsqueeze(
            1
        )  # over ξ ∈ [0, ε]
        sign_change = (along[:, :-1] * along[:, 1:] <= 0).any(1)
        found[name] = int(sign_change.sum())
        worst[name] = float(along.abs().amin(1).max())
    answer = Text(
        f"Let g(t) = f(x + t) − f(x) − t f′(x) − t² R/2, with R chosen so that g(ε) = 0. Then g(0) = g(ε) "
        f"= 0, so by Rolle g′(s) = 0 for some s between 0 and ε; g′(0) = 0 too, so Rolle again gives "
        f"g″(ξ) = f″(x + ξ) − R = 0 for some ξ between 0 and s. Hence f(x + ε) = f(x) + εf′(x) + ½ε²f″(x + ξ) "
        f"(Taylor's theorem with the Lagrange remainder; for convex f the last term is ≥ 0, so f lies "
        f"above its tangents). Check for {trials} random (x, ε) with |ε| ≤ 1.5 each: the value "
        f"R = 2(f(x + ε) − f(x) − εf′(x))/ε² is taken by f″ between x and x + ε (a sign change on a grid "
        f"of 2001 points) in {', '.join(f'{found[n]}/{trials} ({n})' for n in TAYLOR)} cases; the nearest "
        f"grid point is within {max(worst.values()):.1e} of R, the grid's resolution.",
        f"令 g(t) = f(x + t) − f(x) − t f′(x) − t² R/2，取 R 使 g(ε) = 0。于是 g(0) = g(ε) = 0，由罗尔定理存在 0 与 ε 之间的 s "
        f"使 g′(s) = 0；又 g′(0) = 0，再用一次罗尔定理得存在 0 与 s 之间的 ξ 使 g″(ξ) = f″(x + ξ) − R = 0。因此 "
        f"f(x + ε) = f(x) + εf′(x) + ½ε²f″(x + ξ)（带拉格朗日余项的泰勒定理；f 凸时最后一项 ≥ 0，所以 f 在其切线之上）。"
        f"对每个函数取 {trials} 组随机 (x, ε)，|ε| ≤ 1.5 验证：R = 2(f(x + ε) − f(x) − εf′(x))/ε² 这个值被 f″ 在 x 与 x + ε "
        f"之间取到（在 2001 点网格上有符号变化）的情形为 {'，'.join(f'{found[n]}/{trials}（{n}）' for n in TAYLOR)}；最近的"
        f"网格点与 R 相差不超过 {max(worst.values()):.1e}，即网格的分辨率。",
    )
    values = {
        "trials": trials,
        "found": [found[n] for n in TAYLOR],
        "worst_grid_miss": max(worst.values()),
    }
    return answer, values, []


# 12.2.8 ------------------------------------------------------------------------------------


def _sphere(v: Tensor) -> Tensor:
    return v / torch.linalg.vector_norm(v, dim=-1, keepdim=True)


def nonexpansive(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.2.8: distance ratios of projected random pairs for four convex sets and the (non-convex)
    sphere."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    n, d = _samples(ctx, 5000), 5
    scale = 10 ** (torch.rand(n, 1, generator=gen, dtype=F64) * 2 - 1.5)  # pairs from 0.03 to 3
    x, y = torch.randn(2, n, d, generator=gen, dtype=F64) * scale
    sets = {
        "ℓ2 ball": project_l2_ball,
        "ℓ1 ball": project_l1_ball,
        "box [−½, ½]⁵": lambda v: project_box(v, -0.5, 0.5),
        "simplex": project_simplex,
        "unit sphere (not convex)": _sphere,
    }
    ratios = {}
    for name, project in sets.items():
        distance = torch.linalg.vector_norm(x - y, dim=1)
        ratios[name] = float(
            (torch.linalg.vector_norm(project(x) - project(y), dim=1) / distance).max()
        )
    convex_max = max(v for k, v in ratios.items() if "sphere" not in k)
    answer = Text(
        f"Let a = Proj(x), b = Proj(y). The projection onto a closed convex set is characterized by "
        f"(x − a)ᵀ(z − a) ≤ 0 for every z in X; with z = b, and the same for y with z = a, adding the two "
        f"gives (x − y − (a − b))ᵀ(b − a) ≤ 0, i.e. ‖a − b‖² ≤ (x − y)ᵀ(a − b) ≤ ‖x − y‖‖a − b‖ "
        f"(Cauchy–Schwarz), so ‖a − b‖ ≤ ‖x − y‖. Check on {n} random pairs in ℝ⁵ (scales from 0.03 to 3), largest "
        f"‖Proj x − Proj y‖ / ‖x − y‖: {', '.join(f'{k} {v:.6f}' for k, v in ratios.items())}. Every convex "
        f"set stays at or below 1 (largest {convex_max:.12f}); the sphere, which is not convex, stretches "
        f"pairs near the origin.",
        f"记 a = Proj(x)，b = Proj(y)。闭凸集上的投影由“对 X 中每个 z 有 (x − a)ᵀ(z − a) ≤ 0”刻画；取 z = b，对 y 取 z = a，"
        f"两式相加得 (x − y − (a − b))ᵀ(b − a) ≤ 0，即 ‖a − b‖² ≤ (x − y)ᵀ(a − b) ≤ ‖x − y‖‖a − b‖（柯西—施瓦茨），所以 "
        f"‖a − b‖ ≤ ‖x − y‖。在 ℝ⁵ 中 {n} 对随机向量（尺度 0.03 到 3）上 ‖Proj x − Proj y‖ / ‖x − y‖ 的最大值："
        f"{'，'.join(f'{k} {v:.6f}' for k, v in ratios.items())}。凸集全都不超过 1（最大 {convex_max:.12f}）；单位球面不是凸集，"
        f"会拉开靠近原点的点对。",
    )
    values = {
        "ratios": [ratios[k] for k in sets],
        "convex_max_ratio": convex_max,
        "sphere_ratio": ratios["unit sphere (not convex)"],
    }
    return answer, values, []


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "12.2.1",
        Text(
            "Suppose we test whether a set is convex by drawing all segments between its points and "
            "checking that they stay inside. (a) Show that pairs of boundary points suffice. (b) Show "
            "that the vertices of the set suffice.",
            "假设通过画出集合中各点之间的所有线段、检查它们是否都在集合内来判断凸性。(a) 证明只需检查边界上的点对。(b) 证明只需检查"
            "集合的顶点。",
        ),
        "discussion",
        boundary_points,
    ),
    ExerciseSpec(
        "12.2.2",
        Text(
            "The p-norm ball B_p[r] collects the vectors of p-norm at most r. Show that it is a convex "
            "set whenever p ≥ 1.",
            "p 范数球 B_p[r] 由 p 范数不超过 r 的向量组成。证明只要 p ≥ 1，它就是凸集。",
        ),
        "check",
        p_balls,
    ),
    ExerciseSpec(
        "12.2.3",
        Text(
            "With f and g convex, prove that their pointwise maximum is convex, and show why their "
            "pointwise minimum can fail to be.",
            "设 f 与 g 是凸函数，证明它们的逐点最大值是凸的，并说明逐点最小值为何可能不是。",
        ),
        "check",
        max_and_min,
    ),
    ExerciseSpec(
        "12.2.4",
        Text(
            "Show that log Σᵢ exp(xᵢ), the log-partition term of softmax, is a convex function.",
            "证明 softmax 的对数配分项 log Σᵢ exp(xᵢ) 是凸函数。",
        ),
        "check",
        log_sum_exp,
    ),
    ExerciseSpec(
        "12.2.5",
        Text(
            "Prove that the solutions of a linear system, {x : Wx = b}, form a convex set.",
            "证明线性方程组的解集 {x : Wx = b} 是凸集。",
        ),
        "check",
        affine_set,
    ),
    ExerciseSpec(
        "12.2.6",
        Text(
            "For b = 0, show that projecting onto {x : Wx = 0} is a linear map x ↦ Mx for some matrix M.",
            "当 b = 0 时，证明向 {x : Wx = 0} 的投影是某个矩阵 M 给出的线性映射 x ↦ Mx。",
        ),
        "check",
        null_projection,
    ),
    ExerciseSpec(
        "12.2.7",
        Text(
            "For a twice-differentiable convex f, show that f(x + ε) = f(x) + εf′(x) + ½ε²f″(x + ξ) "
            "for some ξ between 0 and ε.",
            "对二阶可微的凸函数 f，证明存在介于 0 与 ε 之间的 ξ，使 f(x + ε) = f(x) + εf′(x) + ½ε²f″(x + ξ)。",
        ),
        "check",
        taylor,
    ),
    ExerciseSpec(
        "12.2.8",
        Text(
            "For a convex set X and two vectors x and y, prove that projecting onto X never moves them "
            "further apart: ‖Proj_X(x) − Proj_X(y)‖ ≤ ‖x − y‖.",
            "对凸集 X 和两个向量 x、y，证明投影到 X 不会使它们的距离变大：‖Proj_X(x) − Proj_X(y)‖ ≤ ‖x − y‖。",
        ),
        "check",
        nonexpansive,
    ),
)
