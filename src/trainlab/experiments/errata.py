"""Where the book itself is wrong or inconsistent, with the evidence computed here.

Each :class:`Erratum` names the editions and places (the ledger's :class:`~trainlab.experiments.
book.Source` form), says what is wrong, and computes the evidence when the report is built —
a number that shows the problem, not a claim taken on trust. ``tests/experiments/test_errata.py``
checks every one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from trainlab.experiments.result import Text

__all__ = ["ERRATA", "Erratum", "evidence"]


@dataclass(frozen=True)
class Erratum:
    key: str
    section: str  # the report section it belongs to
    title: Text
    where: str  # editions and places
    evidence: Callable[[], tuple[Text, dict[str, float]]]


def _gflops() -> tuple[Text, dict[str, float]]:
    work = 2 * 256**3 / 1e9  # GFLOP of a 256×256 by 256×256 product
    factor = 2 / work
    full = 195.625 / factor
    return Text(
        f"a 256×256 product costs 2·256³ = {work:.4f} GFLOP, so dividing 2 by the time overstates "
        f"every rate {factor:.1f}×: E2's printed \"full 195.625\" is {full:.2f} GFLOP/s",
        f"256×256 矩阵乘法运算量为 2·256³ = {work:.4f} GFLOP，以 2 除以时间使每个速率高估 {factor:.1f} 倍："
        f"E2 打印的 “full 195.625” 实为 {full:.2f} GFLOP/s",
    ), {"factor": factor, "full_gflops": full}


def _moving_var_zero() -> tuple[Text, dict[str, float]]:
    from trainlab.nn import BatchNorm1d

    torch.manual_seed(0)
    bn = BatchNorm1d(8, convention="book", momentum=0.9).double()
    bn.running_var.zero_()  # as COURSE/E1/E1-PT start it
    x = torch.randn(256, 8, dtype=torch.float64)
    with torch.no_grad():
        bn.train()
        bn(x)
        bn.eval()
        inflated = float(bn(x).std())
        for _ in range(49):
            bn.train()
            bn(x)
        bn.eval()
        settled = float(bn(x).std())
    return Text(
        f"with moving_var starting at 0 and λ = 0.9, one training batch leaves 10% of the variance, "
        f"so prediction outputs come out {inflated:.2f}× too large (√10 = {math.sqrt(10):.2f}); after "
        f"50 batches {settled:.3f}×: the start does not matter by the end of the course's runs",
        f"moving_var 从 0 开始、λ = 0.9 时，训练一批后只保留 10% 的方差，预测输出放大 {inflated:.2f} 倍（√10 = "
        f"{math.sqrt(10):.2f}）；50 批后为 {settled:.3f} 倍：课程训练结束时已无影响",
    ), {"inflation_after_1": inflated, "after_50": settled}


def _momentum_meaning() -> tuple[Text, dict[str, float]]:
    old_weight, new_weight = 0.0, 0.0
    for _ in range(10):  # a statistic that jumped from 0 to 1
        old_weight = 0.9 * old_weight + 0.1 * 1.0  # E1/E2: momentum = weight of the old value
        new_weight = 0.1 * new_weight + 0.9 * 1.0  # E3's formula given E1/E2's momentum = 0.9
    return Text(
        f"E1/E2 pass momentum = 0.9 as the weight of the old value, E3 (and torch) pass 0.1 as the "
        f"weight of the new one: the same layer. Copying 0.9 into E3's formula keeps only 10% of "
        f"the history — after 10 batches of a statistic jumping 0 → 1 the average is {new_weight:.6f} "
        f"instead of {old_weight:.4f}",
        f"E1/E2 的 momentum = 0.9 是旧值权重，E3（与 torch）的 0.1 是新值权重：两者相同。若把 0.9 代入 E3 的"
        f"公式，只保留 10% 的历史——统计量从 0 跳到 1 后 10 批，平均为 {new_weight:.6f} 而非 {old_weight:.4f}",
    ), {"e2": old_weight, "e3_with_0.9": new_weight}


def _newton_linear() -> tuple[Text, dict[str, float]]:
    from trainlab.optim.descent import newton

    run = newton(lambda x: torch.exp(x) - 2 * x, 0.0, 1.0, 6)
    errors = [abs(float(x) - math.log(2)) for x in run.trajectory]
    quadratic = errors[4] / errors[3] ** 2
    linear = errors[4] / errors[3]
    return Text(
        f"E2/E3 call |e_(k+1)| ≤ c·e_k² \"linear\" convergence; it is quadratic: on eˣ − 2x the error "
        f"ratio e_(k+1)/e_k² is {quadratic:.3f} (→ 1/2) while e_(k+1)/e_k is already {linear:.1e}",
        f"E2/E3 称 |e_(k+1)| ≤ c·e_k² 为“线性”收敛；实为二次收敛：eˣ − 2x 上 e_(k+1)/e_k² = {quadratic:.3f}"
        f"（→ 1/2），而 e_(k+1)/e_k 已为 {linear:.1e}",
    ), {"quadratic_ratio": quadratic, "linear_ratio": linear}


def _noise_mean() -> tuple[Text, dict[str, float]]:
    from trainlab.experiments.sgd import SCHEDULES, noisy_sgd

    points = [p for s in range(5) for p in noisy_sgd(SCHEDULES["constant"], 3000, s, 0.1)[1000:]]
    x1 = sum(p[0] for p in points) / len(points)
    x2 = sum(p[1] for p in points) / len(points)
    return Text(
        f"E1, E1-PT and the course add np.random.normal(0.1) — mean 0.1, not the zero-mean noise the "
        f"text describes: the constant-rate iterate hovers around ({x1:.3f}, {x2:.3f}), the zero of "
        "2x₁ + 0.1 and 4x₂ + 0.1, instead of the origin",
        f"E1、E1-PT 与课程加入 np.random.normal(0.1)——均值 0.1，而非文中所说的零均值噪声：常数学习率的迭代点"
        f"围绕 ({x1:.3f}, {x2:.3f})（2x₁ + 0.1 与 4x₂ + 0.1 的零点）而非原点波动",
    ), {"mean_x1": x1, "mean_x2": x2}


def _loss_scale() -> tuple[Text, dict[str, float]]:
    scaled = 0.0012 * 256
    return Text(
        f"E1-PT prints LeNet-BN's loss as 0.0012 (epoch 5) where the course prints 0.3045: its "
        f"training helper sums batch means and divides by the number of examples; 0.0012 × 256 = "
        f"{scaled:.3f}, the course's scale. Its printed losses are not comparable",
        f"E1-PT 打印的 LeNet-BN 损失为 0.0012（第 5 轮），课程为 0.3045：其训练函数把批量均值求和后除以样本数；"
        f"0.0012 × 256 = {scaled:.3f}，与课程同量级。其打印的损失不可比较",
    ), {"rescaled": scaled}


def _resnext_groups() -> tuple[Text, dict[str, float]]:
    from trainlab.nn.residual import ResNeXtBlock

    printed = ResNeXtBlock.as_printed(32, 16, 1).conv2.groups
    return Text(
        f"E3's ResNeXtBlock passes groups = bot_channels // groups to the 3×3 convolution, so its "
        f"`groups` argument is a group width: the printed ResNeXtBlock(32, 16, 1) has {printed} "
        "groups of 16 channels, not 16 groups",
        f"E3 的 ResNeXtBlock 把 groups = bot_channels // groups 传给 3×3 卷积，其 groups 参数实为每组宽度："
        f"打印的 ResNeXtBlock(32, 16, 1) 有 {printed} 组、每组 16 个通道，而非 16 组",
    ), {"groups_built": printed}


def _lazy_init() -> tuple[Text, dict[str, float]]:
    lazy = nn.LazyConv2d(8, 3)
    applies = type(lazy) is nn.Conv2d  # d2l's init_cnn tests type(m) == nn.Conv2d
    return Text(
        f"E3's DenseNet calls apply(init_cnn) while its layers are still lazy: "
        f"type(LazyConv2d) == nn.Conv2d is {applies}, so the Xavier init is a no-op and the "
        "DenseNet trains from PyTorch's default init (ResNet gets Xavier through apply_init)",
        f"E3 的 DenseNet 在层仍为惰性时调用 apply(init_cnn)：type(LazyConv2d) == nn.Conv2d 为 {applies}，"
        "Xavier 初始化无效，DenseNet 实际使用 PyTorch 默认初始化（ResNet 通过 apply_init 得到 Xavier）",
    ), {"init_applies": float(applies)}


def _schedule_start() -> tuple[Text, dict[str, float]]:
    first = 0.1 * math.exp(-0.1 * 2)
    return Text(
        f"the schedules' formulas give η₀ = 0.1 at t = 0, but the code starts its counter at 1 and "
        f"increments it before use: the first rate is 0.1·e^(−0.2) = {first:.4f}",
        f"调度公式在 t = 0 时给出 η₀ = 0.1，但代码从 1 开始计数且先自增再使用：第一个学习率为 "
        f"0.1·e^(−0.2) = {first:.4f}",
    ), {"first_rate": first}


def _seconds_per_epoch() -> tuple[Text, dict[str, float]]:
    laps = 1500 / 200
    return Text(
        f"E2 prints timer.avg() as \"sec/epoch\", but its timer stops at every loss recording, "
        f"every 200 examples: for batch 10 an epoch is {laps:g} laps, so the true time per epoch is "
        f"{laps:g}× the printed one (E3 prints timer.sum()/num_epochs)",
        f"E2 把 timer.avg() 标为 “sec/epoch”，但计时器在每次记录损失（每 200 个样本）时停止：批量 10 时一轮为 "
        f"{laps:g} 段，真实每轮时间是打印值的 {laps:g} 倍（E3 打印 timer.sum()/num_epochs）",
    ), {"laps_per_epoch": laps}


def _exercise_variable() -> tuple[Text, dict[str, float]]:
    gen = torch.Generator().manual_seed(0)
    w1 = torch.randn(200_000, generator=gen, dtype=torch.float64) * 0.5  # std 1/2: variance 1/4
    noise = 2 * w1  # ∂/∂x₁ of (x₁ − w₁)² is 2x₁ − 2w₁: the noise term is −2w₁
    return Text(
        f"SGD exercise 2 calls x the normally distributed vector; it must be w: the gradient of "
        f"(x₁ − w₁)² + 2(x₂ − w₂)² is (2x₁ − 2w₁, 4x₂ − 4w₂), so unit-variance noise needs "
        f"w₁ ~ N(0, 1/4) — simulated variance of 2w₁: {float(noise.var()):.3f}",
        f"随机梯度下降练习 2 称 x 服从正态分布；应为 w：(x₁ − w₁)² + 2(x₂ − w₂)² 的梯度为 (2x₁ − 2w₁, "
        f"4x₂ − 4w₂)，单位方差噪声需 w₁ ~ N(0, 1/4)——模拟得 2w₁ 的方差 {float(noise.var()):.3f}",
    ), {"noise_variance": float(noise.var())}


ERRATA: tuple[Erratum, ...] = (
    Erratum("e2_gflops", "minibatch_sgd", Text("GFLOP/s computed as 2/t", "以 2/t 计算 GFLOP/s"),
            "E2 §11.5.1 (d2l-zh chapter_optimization/minibatch-sgd.md line 200)", _gflops),
    Erratum("seconds_per_epoch", "minibatch_sgd", Text("\"sec/epoch\" is seconds per 200 examples",
            "“sec/epoch” 实为每 200 个样本的秒数"), "E2 §11.5.4 (minibatch-sgd.md line 450)",
            _seconds_per_epoch),
    Erratum("moving_var_zero", "batchnorm", Text("the moving variance starts at 0", "移动方差从 0 开始"),
            "COURSE 16 cell 4; E1-PT §5.10 line 110; E1 batch-norm.md line 104", _moving_var_zero),
    Erratum("momentum_meaning", "batchnorm", Text("`momentum` means opposite things", "momentum 含义相反"),
            "E1/E2 batch-norm.md (0.9, old value) vs E3 batch-norm.md lines 331–332 (0.1, new value)",
            _momentum_meaning),
    Erratum("loss_scale", "batchnorm", Text("E1-PT prints the loss divided by ≈256",
            "E1-PT 打印的损失约为实际的 1/256"), "E1-PT §5.10–§5.12 (d2lzh_pytorch train_ch5)",
            _loss_scale),
    Erratum("resnext_groups", "resnet", Text("ResNeXt's `groups` is a group width",
            "ResNeXt 的 groups 实为组宽"), "E3 §8.6.5 (resnet.md line 572)", _resnext_groups),
    Erratum("lazy_init", "resnet", Text("E3's DenseNet keeps PyTorch's default init",
            "E3 的 DenseNet 仍用默认初始化"), "E3 §8.7.5 (densenet.md line 415)", _lazy_init),
    Erratum("newton_linear", "gradient_descent", Text("quadratic convergence called \"linear\"",
            "二次收敛被称为“线性”"), "E3 §12.3.3 (gd.md line 332); E2 §11.3.3 (gd.md line 439)",
            _newton_linear),
    Erratum("noise_mean", "sgd", Text("\"zero-mean\" noise with mean 0.1", "“零均值”噪声的均值为 0.1"),
            "E1 gd-sgd.md lines 165–170; E1-PT §7.2.4 lines 195–200; COURSE 18 cell 33", _noise_mean),
    Erratum("schedule_start", "sgd", Text("the schedules start at t = 2", "学习率调度从 t = 2 开始"),
            "COURSE 18 cells 36–37; E2 sgd.md 127–150; E3 sgd.md 139–162", _schedule_start),
    Erratum("exercise_variable", "sgd", Text("exercise 2 names the wrong random variable",
            "练习 2 写错了随机变量"), "E3 sgd.md line 286; E2 sgd.md line 243", _exercise_variable),
)


def evidence() -> list[dict]:
    """Every erratum with its evidence computed now, as JSON-able records."""
    records = []
    for erratum in ERRATA:
        text, values = erratum.evidence()
        records.append({
            "key": erratum.key,
            "section": erratum.section,
            "title": erratum.title.as_dict(),
            "where": erratum.where,
            "evidence": text.as_dict(),
            "values": values,
        })
    return records
