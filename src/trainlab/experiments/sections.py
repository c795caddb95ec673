"""The unit's six sections as lists of experiments: a section runs its experiments in order and
concatenates their results. Each section also names its formulas (TeX, rendered by the report)
with the reference code that implements each (shown beside it), and the d2l pages it reproduces.

Profiles: "smoke" (seconds, for tests), "quick" (the default: the book's settings where they fit
a 2-core CPU in minutes, reduced and said so elsewhere), "book" (the edition's settings in full;
a GPU is recommended).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from trainlab.experiments import (
    batchnorm,
    convexity,
    gradient_descent,
    minibatch_sgd,
    resnet,
    sgd,
    vectorization,
)
from trainlab.experiments.book import PAGES
from trainlab.experiments.catalog import SECTIONS as TITLES
from trainlab.experiments.exercises import batchnorm as batchnorm_exercises
from trainlab.experiments.exercises import convexity as convexity_exercises
from trainlab.experiments.exercises import densenet as densenet_exercises
from trainlab.experiments.exercises import gd as gd_exercises
from trainlab.experiments.exercises import minibatch_sgd as minibatch_sgd_exercises
from trainlab.experiments.exercises import optimization_intro as optimization_intro_exercises
from trainlab.experiments.exercises import resnet as resnet_exercises
from trainlab.experiments.exercises import sgd as sgd_exercises
from trainlab.experiments.result import Exercise, ExerciseSpec, Result, Text
from trainlab.experiments.settings import Context

__all__ = ["SECTIONS", "Formula", "Section", "answer", "run_section"]


@dataclass(frozen=True)
class Formula:
    """A formula in TeX and the reference code that implements it (``module:qualname``)."""

    tex: str
    code: str
    caption: Text


@dataclass(frozen=True)
class Section:
    key: str
    formulas: tuple[Formula, ...]
    experiments: tuple[Callable[[Context], Result], ...]
    exercises: tuple[ExerciseSpec, ...] = ()

    @property
    def title(self) -> Text:
        return Text(*TITLES[self.key])

    @property
    def pages(self) -> tuple[tuple[str, str], ...]:
        return PAGES[self.key]


def _f(tex: str, code: str, en: str, zh: str) -> Formula:
    return Formula(tex, code, Text(en, zh))


SECTIONS: dict[str, Section] = {
    "batchnorm": Section(
        "batchnorm",
        (
            _f(
                r"\mu_B = \frac{1}{m}\sum_{i=1}^{m} x_i,\qquad \sigma_B^2 = \frac{1}{m}\sum_{i=1}^{m}(x_i-\mu_B)^2",
                "trainlab.nn.functional:batch_statistics",
                "batch statistics per channel",
                "每个通道的批量统计量",
            ),
            _f(
                r"\hat{x}_i = \frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}},\qquad y_i = \gamma\odot\hat{x}_i+\beta",
                "trainlab.nn.functional:batch_norm_reference",
                "normalize, then scale and shift",
                "标准化，再拉伸与偏移",
            ),
            _f(
                r"\hat{\mu} \leftarrow \lambda\,\hat{\mu} + (1-\lambda)\,\mu_B,\qquad \hat{\sigma}^2 \leftarrow \lambda\,\hat{\sigma}^2 + (1-\lambda)\,\sigma_B^2",
                "trainlab.nn.functional:update_running_stats",
                "moving averages for prediction (the book: λ = 0.9)",
                "预测用的移动平均（书中 λ = 0.9）",
            ),
            _f(
                r"\mathrm{LN}(x) = \gamma\odot\frac{x-\mu(x)}{\sqrt{\sigma^2(x)+\epsilon}}+\beta",
                "trainlab.nn.layer_norm:layer_norm_reference",
                "layer norm: statistics over each example's features",
                "层归一化：在每个样本的特征上求统计量",
            ),
        ),
        batchnorm.EXPERIMENTS,
        exercises=batchnorm_exercises.EXERCISES,
    ),
    "resnet": Section(
        "resnet",
        (
            _f(
                r"y = \mathrm{ReLU}\big(F(x) + x\big),\quad F = \mathrm{BN}\circ\mathrm{conv}_{3\times3}\circ\mathrm{ReLU}\circ\mathrm{BN}\circ\mathrm{conv}_{3\times3}",
                "trainlab.nn.residual:Residual",
                "the residual block",
                "残差块",
            ),
            _f(
                r"\text{cost}(\mathrm{conv}_{k\times k}, g) = k^2\,\frac{c_i\,c_o}{g}",
                "trainlab.models.cost:grouped_conv_cost",
                "ResNeXt: a grouped convolution costs 1/g",
                "ResNeXt：分组卷积代价为 1/g",
            ),
            _f(
                r"x \leftarrow [x,\ f(x)]",
                "trainlab.models.densenet:DenseBlock",
                "dense block: concatenate along channels",
                "稠密块：沿通道连结",
            ),
        ),
        resnet.EXPERIMENTS,
        exercises=(*resnet_exercises.EXERCISES, *densenet_exercises.EXERCISES),
    ),
    "convexity": Section(
        "convexity",
        (
            _f(
                r"\lambda f(x) + (1-\lambda) f(x') \ge f\big(\lambda x + (1-\lambda) x'\big)",
                "trainlab.convex.convexity:check_convex_function",
                "convexity (chords above the graph)",
                "凸性（弦在图像之上）",
            ),
            _f(
                r"\sum_i \alpha_i f(x_i) \ge f\Big(\sum_i \alpha_i x_i\Big)",
                "trainlab.convex.convexity:check_convex_function",
                "Jensen's inequality",
                "詹森不等式",
            ),
            _f(
                r"L(x, \alpha) = f(x) + \sum_i \alpha_i c_i(x),\quad \alpha_i \ge 0",
                "trainlab.convex.constrained:augmented_lagrangian",
                "the Lagrangian",
                "拉格朗日函数",
            ),
            _f(
                r"\mathrm{Proj}_X(x) = \operatorname*{argmin}_{x' \in X} \|x - x'\|",
                "trainlab.convex.projections:project_l2_ball",
                "projection onto a convex set",
                "向凸集投影",
            ),
        ),
        convexity.EXPERIMENTS,
        exercises=(*optimization_intro_exercises.EXERCISES, *convexity_exercises.EXERCISES),
    ),
    "gradient_descent": Section(
        "gradient_descent",
        (
            _f(
                r"x \leftarrow x - \eta\,\nabla f(x)",
                "trainlab.optim.directions:Gradient",
                "gradient descent",
                "梯度下降",
            ),
            _f(
                r"x \leftarrow x - \eta\,H^{-1}\nabla f(x)",
                "trainlab.optim.directions:Newton",
                "Newton's method",
                "牛顿法",
            ),
            _f(
                r"x \leftarrow x - \eta\,\mathrm{diag}(H)^{-1}\nabla f(x)",
                "trainlab.optim.directions:DiagonalPreconditioner",
                "diagonal preconditioning",
                "对角预条件",
            ),
            _f(
                r"f(x + \eta p) \le f(x) + \alpha\,\eta\,\nabla f(x)^\top p",
                "trainlab.optim.linesearch:Backtracking",
                "backtracking line search (Armijo)",
                "回溯线搜索（Armijo 条件）",
            ),
        ),
        gradient_descent.EXPERIMENTS,
        exercises=gd_exercises.EXERCISES,
    ),
    "sgd": Section(
        "sgd",
        (
            _f(
                r"x \leftarrow x - \eta_t\,\nabla f_i(x),\qquad \mathbb{E}_i\,\nabla f_i(x) = \nabla f(x)",
                "trainlab.optim.sgd:_sgd_reference",
                "stochastic gradient descent",
                "随机梯度下降",
            ),
            _f(
                r"\eta_t = \eta_0\,e^{-\lambda t},\qquad \eta_t = \eta_0\,(\beta t + 1)^{-\alpha}",
                "trainlab.optim.schedules:_Exponential",
                "exponential and polynomial schedules",
                "指数与多项式学习率调度",
            ),
            _f(
                r"\mathbb{E}[R(\bar{x})] - R^* \le \frac{r L}{\sqrt{T}}\quad\text{for}\quad \eta = \frac{r}{L\sqrt{T}}",
                "trainlab.experiments.sgd:convex_bound",
                "convergence on convex problems",
                "凸问题上的收敛",
            ),
        ),
        sgd.EXPERIMENTS,
        exercises=sgd_exercises.EXERCISES,
    ),
    "minibatch_sgd": Section(
        "minibatch_sgd",
        (
            _f(
                r"w \leftarrow w - \frac{\eta}{|\mathcal{B}|}\sum_{i \in \mathcal{B}} \nabla \ell_i(w)",
                "trainlab.experiments.minibatch_sgd:train",
                "minibatch SGD",
                "小批量随机梯度下降",
            ),
            _f(
                r"\mathrm{Var}\Big[\frac{1}{B}\sum_{i\in\mathcal{B}} g_i\Big] = \frac{\sigma^2}{B}\ \ (\text{with replacement})",
                "trainlab.experiments.sgd:minibatch_gradient_variance",
                "the variance of a minibatch gradient",
                "小批量梯度的方差",
            ),
        ),
        (*vectorization.EXPERIMENTS, *minibatch_sgd.EXPERIMENTS),
        exercises=minibatch_sgd_exercises.EXERCISES,
    ),
}


def answer(spec: ExerciseSpec, ctx: Context) -> Exercise:
    """Solve one exercise, unless it needs the book profile and this is not it."""
    if spec.cost == "book" and ctx.settings.profile != "book":
        return Exercise(spec.number, spec.question, spec.kind, None, note=Text(
            "needs longer training than this profile allows: run trainlab reproduce --profile book",
            "所需训练超出本配置：请运行 trainlab reproduce --profile book"))
    text, values, plots = spec.solve(ctx)
    return Exercise(spec.number, spec.question, spec.kind, text, values, plots)


def run_section(key: str, ctx: Context) -> Result:
    """Run every experiment of section ``key`` in ``ctx``, then answer its exercises; one
    result for the section."""
    section = SECTIONS[key]
    result = Result(key).extend([experiment(ctx) for experiment in section.experiments])
    result.exercises = [answer(spec, ctx) for spec in section.exercises]
    return result
