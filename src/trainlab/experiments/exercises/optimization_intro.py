"""Exercises of d2l §12.1 (optimization and deep learning), answered with numerical checks:
the d! hidden-unit permutations of an MLP, the eigenvalues of random symmetric matrices (by
Monte Carlo, and exactly by enumerating every 3×3 matrix with entries in {−1, 0, 1}), the
vanishing and exploding products behind deep nets' difficulties, and gradient descent leaving a
saddle point."""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from trainlab.experiments.figures import blank_figure, new_figure
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context

__all__ = ["EXERCISES", "mlp", "saddle_escape"]

F64 = torch.float64


def mlp(params: tuple[Tensor, Tensor, Tensor, Tensor], x: Tensor) -> Tensor:
    """A one-hidden-layer MLP with a scalar output: w₂ᵀ tanh(W₁x + b₁) + b₂, for rows of x."""
    w1, b1, w2, b2 = params
    return torch.tanh(x @ w1.T + b1) @ w2 + b2


# 12.1.1 ------------------------------------------------------------------------------------


def permutations(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.1.1: every permutation of a trained MLP's hidden units: outputs, losses and distinct
    parameter vectors."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    d, inputs = 5, 3
    x = torch.randn(64, inputs, generator=gen, dtype=F64)
    y = torch.sin(x.sum(1))
    params = [
        torch.randn(d, inputs, generator=gen, dtype=F64),
        torch.randn(d, generator=gen, dtype=F64),
        torch.randn(d, generator=gen, dtype=F64) / d,
        torch.zeros((), dtype=F64),
    ]
    for p in params:
        p.requires_grad_()
    optimizer = torch.optim.SGD(params, lr=0.1)
    for step in range(301):  # 300 steps towards a (local) minimum, then the gradient there
        optimizer.zero_grad()
        ((mlp(params, x) - y) ** 2).mean().backward()
        if step < 300:
            optimizer.step()
    w1, b1, w2, b2 = (p.detach() for p in params)
    reference = mlp((w1, b1, w2, b2), x)
    gaps, losses, points = [], [], set()
    for perm in itertools.permutations(range(d)):
        index = torch.tensor(perm)
        permuted = (w1[index], b1[index], w2[index], b2)
        out = mlp(permuted, x)
        gaps.append(float((out - reference).abs().max()))
        losses.append(float(((out - y) ** 2).mean()))
        points.add(tuple(torch.cat([t.reshape(-1) for t in permuted]).tolist()))
    gradient = float(torch.cat([p.grad.reshape(-1) for p in params]).norm())
    answer = Text(
        f"Relabelling the hidden units changes nothing the net computes: permuting the rows of W₁ "
        f"and b₁ together with the entries of w₂ by the same permutation π gives w₂ᵀπᵀ σ(πW₁x + πb₁) "
        f"= w₂ᵀ σ(W₁x + b₁), since an elementwise σ commutes with π. So every parameter vector has d! "
        f"relabelled copies with the same function, the same loss and (permuted) the same gradient; if "
        f"it is a local minimum, so are they, and when the hidden units are distinct these copies are "
        f"distinct points. Check with d = {d} after 300 steps of gradient descent (‖∇‖ = "
        f"{gradient:.2e}): {len(gaps)} = {d}! permutations, {len(points)} distinct parameter vectors, "
        f"largest output difference {max(gaps):.1e}, losses between {min(losses):.12f} and "
        f"{max(losses):.12f}. (Sign flips of tanh units, σ(−z) = −σ(z), multiply the count by 2^d more.)",
        f"给隐藏单元重新编号不会改变网络的计算：用同一个置换 π 同时置换 W₁、b₁ 的行与 w₂ 的分量，得到 w₂ᵀπᵀ σ(πW₁x + πb₁) "
        f"= w₂ᵀ σ(W₁x + b₁)，因为逐元素的 σ 与 π 可交换。所以每个参数向量都有 d! 个重新编号的副本，函数、损失相同，梯度"
        f"（经置换后）也相同；若它是局部极小点，这些副本也都是，而隐藏单元互不相同时这些副本是不同的点。验证：d = {d}，"
        f"梯度下降 300 步后（‖∇‖ = {gradient:.2e}）：{len(gaps)} = {d}! 个置换，{len(points)} 个不同的参数向量，输出最大差 "
        f"{max(gaps):.1e}，损失介于 {min(losses):.12f} 与 {max(losses):.12f} 之间。（tanh 单元的符号翻转 σ(−z) = −σ(z) "
        f"还使个数再乘以 2^d。）",
    )
    values = {
        "hidden_units": d,
        "permutations": len(gaps),
        "factorial": math.factorial(d),
        "distinct_points": len(points),
        "max_output_gap": max(gaps),
        "loss_spread": max(losses) - min(losses),
        "gradient_norm": gradient,
    }
    return answer, values, []


# 12.1.2 ------------------------------------------------------------------------------------


def _symmetric(n: int, count: int, draw, gen: torch.Generator) -> Tensor:
    upper = torch.triu(draw((count, n, n), gen))
    return upper + upper.triu(1).transpose(1, 2)


def eigenvalues(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.1.2: eigenvalue signs of random symmetric matrices (Monte Carlo) and of all 3×3 ones with
    entries in {−1, 0, 1}."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    n, count = 8, 400 if ctx.settings.profile == "smoke" else 4000
    laws = {
        "normal": (
            lambda shape, g: torch.randn(shape, generator=g, dtype=F64),
            Text("normal", "正态"),
        ),
        "uniform": (
            lambda shape, g: torch.rand(shape, generator=g, dtype=F64) * 2 - 1,
            Text("uniform on [−1, 1]", "[−1, 1] 上均匀"),
        ),
    }
    monte_carlo, samples = {}, {}
    for key, (draw, _label) in laws.items():
        eig = torch.linalg.eigvalsh(_symmetric(n, count, draw, gen)).reshape(-1)
        samples[key] = eig
        monte_carlo[key] = (float((eig > 0).double().mean()), float((eig < 0).double().mean()))
    # every symmetric 3×3 matrix with entries in {−1, 0, 1}: 3⁶ = 729, equally likely
    entries = torch.tensor(list(itertools.product((-1.0, 0.0, 1.0), repeat=6)), dtype=F64)
    rows, cols = torch.triu_indices(3, 3)
    matrices = torch.zeros(len(entries), 3, 3, dtype=F64)
    matrices[:, rows, cols] = entries
    matrices[:, cols, rows] = entries
    eig = torch.linalg.eigvalsh(matrices)
    zero = eig.abs() < 1e-9
    positive, negative = int((eig > 1e-9).sum()), int((eig < -1e-9).sum())
    zeros = int(zero.sum())
    singular = int(zero.any(1).sum())
    total = eig.numel()

    def draw_histogram(lang: Lang):
        fig, ax = new_figure()
        for key, eig_sample in samples.items():
            ax.hist(
                eig_sample.numpy(), bins=60, histtype="step", density=True, label=laws[key][1](lang)
            )
        ax.set(xlabel=Text("eigenvalue", "特征值")(lang), ylabel=Text("density", "密度")(lang))
        ax.legend()
        return fig

    answer = Text(
        f"(a) If the entries are symmetric about zero, M and −M have the same distribution, and the "
        f"eigenvalues of −M are those of M negated; so the eigenvalue distribution is symmetric and "
        f"P(λ > 0) = P(λ < 0). Monte Carlo with {count} symmetric {n}×{n} matrices: fraction positive / "
        f"negative = {monte_carlo['normal'][0]:.4f} / {monte_carlo['normal'][1]:.4f} (normal entries), "
        f"{monte_carlo['uniform'][0]:.4f} / {monte_carlo['uniform'][1]:.4f} (uniform entries). (b) "
        f"Symmetry says nothing about λ = 0, which can carry probability when the entries are "
        f"discrete. All 729 symmetric 3×3 matrices with entries in {{−1, 0, 1}}: of their {total} "
        f"eigenvalues {positive} are positive, {negative} negative and {zeros} zero, so P(λ = 0) = "
        f"{zeros / total:.4f} and P(λ > 0) = P(λ < 0) = {positive / total:.4f} < 0.5; {singular} of the "
        f"729 matrices are singular. For continuous entries P(λ = 0) = 0 and both probabilities are ½.",
        f"(a) 若元素关于零对称分布，则 M 与 −M 同分布，而 −M 的特征值是 M 的特征值取负；所以特征值分布对称，P(λ > 0) = "
        f"P(λ < 0)。用 {count} 个 {n}×{n} 对称矩阵做蒙特卡罗：正 / 负特征值比例 = {monte_carlo['normal'][0]:.4f} / "
        f"{monte_carlo['normal'][1]:.4f}（正态元素），{monte_carlo['uniform'][0]:.4f} / {monte_carlo['uniform'][1]:.4f}"
        f"（均匀元素）。(b) 对称性对 λ = 0 没有约束，元素离散时 λ = 0 可以有正的概率。枚举全部 729 个元素取自 {{−1, 0, 1}} "
        f"的 3×3 对称矩阵：{total} 个特征值中 {positive} 个为正、{negative} 个为负、{zeros} 个为零，所以 P(λ = 0) = "
        f"{zeros / total:.4f}，P(λ > 0) = P(λ < 0) = {positive / total:.4f} < 0.5；729 个矩阵中有 {singular} 个奇异。元素连续时 "
        f"P(λ = 0) = 0，两个概率都是 ½。",
    )
    values = {
        "normal_positive": monte_carlo["normal"][0],
        "normal_negative": monte_carlo["normal"][1],
        "uniform_positive": monte_carlo["uniform"][0],
        "uniform_negative": monte_carlo["uniform"][1],
        "discrete_positive": positive,
        "discrete_negative": negative,
        "discrete_zero": zeros,
        "discrete_singular_matrices": singular,
    }
    plot = Plot(
        "ex12_1_2_eigenvalues",
        draw_histogram,
        Text(
            f"eigenvalues of {count} random symmetric {n}×{n} matrices: both histograms are mirror-symmetric about 0",
            f"{count} 个随机 {n}×{n} 对称矩阵的特征值：两个直方图都关于 0 镜像对称",
        ),
        Text(
            "histograms of eigenvalues of random symmetric matrices", "随机对称矩阵特征值的直方图"
        ),
    )
    return answer, values, [plot]


# 12.1.3 ------------------------------------------------------------------------------------


def difficulties(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.1.3: further difficulties, with the vanishing and exploding products of deep nets
    computed."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    depth, width = 50, 64
    sigmoid_bound = 0.25**depth
    products = {}
    for scale in (0.9, 1.0, 1.1):
        v = torch.randn(width, generator=gen, dtype=F64)
        v /= v.norm()
        for _ in range(depth):
            v = (torch.randn(width, width, generator=gen, dtype=F64) * scale / math.sqrt(width)) @ v
        products[scale] = float(v.norm())
    answer = Text(
        f"Besides local minima and saddle points: vanishing and exploding gradients — the gradient "
        f"through {depth} sigmoid layers carries a factor of at most 0.25^{depth} = {sigmoid_bound:.1e}, "
        f"and {depth} random {width}×{width} layers of gain 0.9, 1.0, 1.1 scale a unit vector to "
        f"{products[0.9]:.1e}, {products[1.0]:.2f}, {products[1.1]:.1e}, so initialization must be tuned to "
        f"the depth; ill-conditioned curvature (long narrow valleys where one learning rate is too big "
        f"for one direction and too small for another); plateaus and flat regions with near-zero "
        f"gradient; cliffs where one step overshoots far; the noise and bias of minibatch gradients; "
        f"the dependence of the result on initialization, batch size and learning-rate schedule; "
        f"non-differentiable points (ReLU, max); and, last, the gap between minimizing the training "
        f"loss and generalizing.",
        f"除局部极小点与鞍点外：梯度消失与爆炸——经过 {depth} 个 sigmoid 层的梯度至多带有因子 0.25^{depth} = "
        f"{sigmoid_bound:.1e}，而增益为 0.9、1.0、1.1 的 {depth} 个随机 {width}×{width} 层把单位向量缩放为 "
        f"{products[0.9]:.1e}、{products[1.0]:.2f}、{products[1.1]:.1e}，所以初始化必须与深度相配；病态的曲率（狭长山谷中，"
        f"同一个学习率对一个方向太大、对另一个方向太小）；梯度近乎为零的平台与平坦区域；一步就冲出很远的悬崖；小批量梯度的"
        f"噪声与偏差；结果对初始化、批量大小与学习率调度的依赖；不可微点（ReLU、max）；最后，最小化训练损失与泛化之间的差距。",
    )
    values = {
        "sigmoid_bound": sigmoid_bound,
        "product_norms": [products[s] for s in (0.9, 1.0, 1.1)],
        "depth": depth,
    }
    return answer, values, []


# 12.1.4 ------------------------------------------------------------------------------------


def saddle_escape(
    y0: float, eta: float, steps: int, noise: float = 0.0, seed: int = 0
) -> list[tuple[float, float]]:
    """Gradient descent on f(x, y) = x² − y² from (1, y0), optionally with N(0, noise²) added to
    each gradient coordinate; the points visited."""
    gen = torch.Generator().manual_seed(seed)
    x, y = 1.0, y0
    path = [(x, y)]
    for _ in range(steps):
        gx, gy = 2 * x, -2 * y
        if noise:
            jitter = torch.randn(2, generator=gen, dtype=F64) * noise
            gx, gy = gx + float(jitter[0]), gy + float(jitter[1])
        x, y = x - eta * gx, y - eta * gy
        path.append((x, y))
    return path


def saddle(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.1.4: gradient descent on x² − y² from the ridge, slightly off it, and with gradient
    noise."""
    eta, steps = 0.1, 150
    runs = {
        "exact": (saddle_escape(0.0, eta, steps), Text("y₀ = 0", "y₀ = 0")),
        "tiny": (saddle_escape(1e-8, eta, steps), Text("y₀ = 10⁻⁸", "y₀ = 10⁻⁸")),
        "noise": (
            saddle_escape(0.0, eta, steps, 1e-3, ctx.settings.seed),
            Text("y₀ = 0, gradient noise 10⁻³", "y₀ = 0，梯度噪声 10⁻³"),
        ),
    }

    def escape(path) -> int | None:
        return next((k for k, (_x, y) in enumerate(path) if abs(y) >= 1), None)

    escapes = {k: escape(path) for k, (path, _) in runs.items()}
    predicted = math.log(1e8) / math.log(1 + 2 * eta)

    def draw(lang: Lang):
        fig = blank_figure(5.4, 3.6)
        ax = fig.add_subplot()
        for path, label in runs.values():
            ax.semilogy([max(abs(y), 1e-20) for _x, y in path], label=label(lang))
        ax.axhline(1, color="k", linestyle=":", linewidth=1)
        ax.set(xlabel=Text("step", "步数")(lang), ylabel="|y|", ylim=(1e-20, 1e3))
        ax.legend()
        return fig

    def when(key: str, lang: Lang) -> str:
        k = escapes[key]
        return (
            Text(f"step {k}", f"第 {k} 步")(lang)
            if k is not None
            else Text(f"never in {steps} steps", f"{steps} 步内从未")(lang)
        )

    answer = Text(
        f"(a) A saddle is an unstable equilibrium: along the descending direction any displacement, "
        f"however small, grows, and a real ball is never exactly on the ridge line nor perfectly still, "
        f"so it rolls off; to balance it one must cancel every disturbance. (b) Gradient descent "
        f"inherits the same instability, which helps it: on f = x² − y² with η = {eta}, y is multiplied "
        f"by 1 + 2η = {1 + 2 * eta:g} per step, so from (1, 10⁻⁸) |y| passes 1 at {when('tiny', 'en')} "
        f"(predicted ln 10⁸ / ln {1 + 2 * eta:g} = {predicted:.0f}), while from exactly y = 0 GD converges "
        f"to the saddle and stays ({when('exact', 'en')}). Gradient noise of 10⁻³ from y = 0 escapes at "
        f"{when('noise', 'en')}: the noise of SGD, or a small random perturbation, is what pushes "
        f"iterates off saddle points (perturbed gradient descent escapes them in polynomial time).",
        f"(a) 鞍点是不稳定平衡：沿下降方向，任何微小的偏移都会增长，而真实的球既不会恰好在脊线上，也不会完全静止，所以会"
        f"滚落；要让它保持平衡，必须抵消每一个扰动。(b) 梯度下降继承了同样的不稳定性，这反而有帮助：在 f = x² − y² 上取 "
        f"η = {eta}，y 每步乘以 1 + 2η = {1 + 2 * eta:g}，所以从 (1, 10⁻⁸) 出发，|y| 在{when('tiny', 'zh')}超过 1（预测 "
        f"ln 10⁸ / ln {1 + 2 * eta:g} = {predicted:.0f}），而从恰好 y = 0 出发，梯度下降收敛到鞍点并停在那里（{when('exact', 'zh')}）。"
        f"从 y = 0 出发加 10⁻³ 的梯度噪声，在{when('noise', 'zh')}逃离：随机梯度下降的噪声或小的随机扰动正是把迭代点推离"
        f"鞍点的力量（带扰动的梯度下降能在多项式时间内逃离鞍点）。",
    )
    values = {
        "predicted_step": predicted,
        "final_y_exact": runs["exact"][0][-1][1],
        "final_x_exact": runs["exact"][0][-1][0],
    } | {f"escape_step_{k}": step for k, step in escapes.items() if step is not None}
    plot = Plot(
        "ex12_1_4_saddle",
        draw,
        Text(
            f"|y| per gradient-descent step on x² − y² (η = {eta}) from x = 1: from y₀ = 10⁻⁸ it passes 1 at "
            f"{when('tiny', 'en')}; from y₀ = 0 it stays 0",
            f"在 x² − y² 上（η = {eta}）从 x = 1 出发每步的 |y|：从 y₀ = 10⁻⁸ 出发在{when('tiny', 'zh')}超过 1；从 y₀ = 0 出发始终为 0",
        ),
        Text(
            "distance from the saddle's ridge per step, log scale",
            "每步与鞍点脊线的距离（对数坐标）",
        ),
    )
    return answer, values, [plot]


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "12.1.1",
        Text(
            "An MLP has one hidden layer of width d and one output. Argue that any local minimum has "
            "at least d! twins that compute exactly the same function.",
            "多层感知机有一个宽度为 d 的隐藏层和一个输出。论证任何局部极小点都至少有 d! 个计算完全相同函数的“孪生”解。",
        ),
        "check",
        permutations,
    ),
    ExerciseSpec(
        "12.1.2",
        Text(
            "Let M be a random symmetric matrix whose entries M_ij = M_ji are drawn from distributions "
            "symmetric about zero. (a) Show that its eigenvalue distribution is symmetric as well: "
            "P(λ > 0) = P(λ < 0). (b) Why does that not give P(λ > 0) = 0.5?",
            "设 M 是随机对称矩阵，其元素 M_ij = M_ji 取自关于零对称的分布。(a) 证明其特征值分布也对称：P(λ > 0) = P(λ < 0)。"
            "(b) 为什么这并不意味着 P(λ > 0) = 0.5？",
        ),
        "check",
        eigenvalues,
    ),
    ExerciseSpec(
        "12.1.3",
        Text(
            "What other difficulties of optimization in deep learning can you name?",
            "你还能想到深度学习优化中的哪些其他挑战？",
        ),
        "discussion",
        difficulties,
    ),
    ExerciseSpec(
        "12.1.4",
        Text(
            "Picture keeping an actual ball at rest on an actual saddle. (a) What makes that so "
            "difficult? (b) Could optimizers turn the same instability to their advantage?",
            "设想让一个真实的球静止在一个真实的马鞍上。(a) 为什么这么难？(b) 优化算法能否把同样的不稳定性变为自己的优势？",
        ),
        "check",
        saddle,
    ),
)
