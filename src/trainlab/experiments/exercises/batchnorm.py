"""Exercises of d2l §8.5 (batch normalization), answered on Fashion-MNIST with the book's
sigmoid LeNet (Xavier-initialized, plain SGD) and with numerical checks.

Training runs use a subset sized by the profile (:data:`SIZES`: a few thousand images and a few
epochs in quick, all 60,000 images and 10 epochs in book) and every answer says which. Runs
shared by several exercises (the full BN-LeNet, the one without BN) are trained once: the
context's checkpoints hand the finished run to the next exercise that asks for it.

The helpers :func:`profile_images` and :func:`fit_or_none` serve the ResNet and DenseNet
exercises too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from trainlab.data.batches import image_batches
from trainlab.data.fashion_mnist import ImageData, subset
from trainlab.experiments.figures import blank_figure, epoch_axis, new_figure
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context
from trainlab.models import lenet
from trainlab.nn import BatchNorm, BatchNorm1d, BatchNorm2d, recompute_batch_norm_stats
from trainlab.train.loop import EpochStats, TrainingDiverged, evaluate, xavier_init

__all__ = [
    "EXERCISES",
    "SIZES",
    "VARIANTS",
    "LeNetRun",
    "PartialBatchNorm",
    "fit_or_none",
    "lenet_run",
    "lenet_with_norms",
    "profile_images",
    "rank_normalize",
]

F64 = torch.float64
PLATEAU = math.log(10)  # the cross-entropy of a uniform guess over 10 classes
LR, BATCH = 1.0, 64  # SGD for every LeNet run (8.5.2 sweeps LR)
# (training images, test images, epochs) per profile
SIZES = {"smoke": (256, 128, 1), "quick": (2000, 1000, 3), "book": (60_000, 10_000, 10)}
MLP_SIZES = {"smoke": (256, 256, 2), "quick": (1000, 2000, 15), "book": (5000, 10_000, 30)}
MLP_LR = 0.02  # SGD with momentum 0.9 for the 8.5.6 MLPs


def profile_images(
    ctx: Context, sizes: dict[str, tuple[int, int, int]]
) -> tuple[ImageData, int, Text]:
    """The profile's Fashion-MNIST subset and epoch count, with a phrase that says them."""
    n_train, n_test, epochs = sizes[ctx.settings.profile]
    data = subset(ctx.images(), n_train, n_test)
    n_train, n_test = len(data.train_labels), len(data.test_labels)
    said = Text(
        f"{n_train:,} training and {n_test:,} test images, {epochs} epoch(s) ({ctx.settings.profile} profile)",
        f"{n_train:,} 张训练图像、{n_test:,} 张测试图像，{epochs} 轮（{ctx.settings.profile} 配置）",
    )
    return data, epochs, said


def fit_or_none(
    ctx: Context,
    name: str,
    model: nn.Module,
    data: ImageData,
    epochs: int,
    lr: float,
    batch_size: int = BATCH,
    momentum: float = 0.0,
    resize: int | None = None,
) -> list[EpochStats] | None:
    """Train with SGD through the context (checkpointed as ``exercise_<name>``); None when the
    loss blew up (the run diverged)."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(parameters, lr=lr, momentum=momentum)
    try:
        return ctx.train(
            f"exercise_{name}", name, model, optimizer, data, epochs, batch_size, resize
        )
    except TrainingDiverged:
        return None


def lenet_with_norms(
    ctx: Context,
    keep: Sequence[int] = (0, 1, 2, 3),
    make_norm: Callable[[int, int], nn.Module] | None = None,
) -> nn.Sequential:
    """The book's LeNet-BN (trainlab's BN) with normalization only at positions ``keep`` (0, 1:
    after the two convolutions; 2, 3: after the two hidden linear layers) and the identity at the
    others; ``make_norm(channels, dims)`` (dims 2 for convolutions, 1 for linear layers) builds
    another layer in place of BN. Seeded and Xavier-initialized, so variants start alike."""
    torch.manual_seed(ctx.settings.seed)
    model = lenet(norm="trainlab")
    positions = [i for i, layer in enumerate(model) if isinstance(layer, BatchNorm)]
    for k, i in enumerate(positions):
        layer = model[i]
        if k not in keep:
            model[i] = nn.Identity()
        elif make_norm is not None:
            model[i] = make_norm(layer.num_features, 2 if isinstance(layer, BatchNorm2d) else 1)
    return xavier_init(model)


# 8.5.1 -------------------------------------------------------------------------------------


def bias_before_bn(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.5.1: conv with and without bias, each followed by BN (float64, same weights): outputs, the
    bias's gradient, and prediction mode after the running mean has caught up."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    torch.manual_seed(ctx.settings.seed)
    x = torch.randn(16, 3, 8, 8, generator=gen, dtype=F64) * 2 + 1
    with_bias = nn.Conv2d(3, 4, 3).double()
    without = nn.Conv2d(3, 4, 3, bias=False).double()
    with torch.no_grad():
        with_bias.bias.uniform_(-3, 3, generator=gen)
        without.weight.copy_(with_bias.weight)
    bn_a, bn_b = BatchNorm2d(4).double(), BatchNorm2d(4).double()
    y_a, y_b = bn_a(with_bias(x)), bn_b(without(x))
    output_gap = float((y_a - y_b).detach().abs().max())
    (y_a * torch.randn(y_a.shape, generator=gen, dtype=F64)).sum().backward()
    bias_grad = float(with_bias.bias.grad.abs().max())
    weight_grad = float(with_bias.weight.grad.abs().max())
    # prediction mode: the running mean has to learn the bias; after k batches (1 − 0.9^k) of it
    batches = 60
    with torch.no_grad():
        for _ in range(batches - 1):
            bn_a(with_bias(x))
            bn_b(without(x))
        bn_a.eval()
        bn_b.eval()
        eval_gap = float((bn_a(with_bias(x)) - bn_b(without(x))).abs().max())
    leftover = 0.9**batches
    model = lenet(norm="trainlab")
    before_bn = sum(
        model[i - 1].bias.numel() for i, layer in enumerate(model) if isinstance(layer, BatchNorm)
    )
    total = sum(p.numel() for p in model.parameters())
    answer = Text(
        f"Yes, it can go: in training mode BN subtracts each channel's batch mean, and a constant "
        f"bias moves that mean by exactly the bias. With the same weights, conv(+bias)→BN and "
        f"conv(no bias)→BN differ by at most {output_gap:.1e} (float64 rounding), and the bias gets a "
        f"gradient of at most {bias_grad:.1e} (the weights get up to {weight_grad:.2f}): it never "
        f"learns. In prediction mode the bias is absorbed by the running mean, slowly: after "
        f"{batches} batches (momentum 0.1) a fraction 0.9^{batches} = {leftover:.1e} of it is left and "
        f"the outputs differ by {eval_gap:.1e}. LeNet-BN carries {before_bn} such dead biases out of "
        f"{total:,} parameters, so the saving is in clarity and a little work, not in size; BN's "
        f"own β plays the bias's role.",
        f"值得去掉：训练模式下批量归一化减去每个通道的批量均值，而常数偏置恰好使均值移动同样的量。权重相同时，"
        f"conv(含偏置)→BN 与 conv(无偏置)→BN 的输出至多相差 {output_gap:.1e}（float64 舍入），偏置的梯度至多 "
        f"{bias_grad:.1e}（权重梯度可达 {weight_grad:.2f}）：偏置永远学不到东西。预测模式下偏置被移动平均吸收，"
        f"但很慢：{batches} 个批量后（momentum 0.1）还剩 0.9^{batches} = {leftover:.1e}，输出相差 "
        f"{eval_gap:.1e}。LeNet-BN 中这样无用的偏置有 {before_bn} 个，总参数 {total:,} 个，省下的主要是清晰"
        f"和少量计算而非规模；偏置的作用由 BN 自己的 β 承担。",
    )
    values = {
        "output_gap": output_gap,
        "bias_grad": bias_grad,
        "weight_grad": weight_grad,
        "eval_gap": eval_gap,
        "batches": batches,
        "dead_biases": before_bn,
        "parameters": total,
    }
    return answer, values, []


@dataclass
class LeNetRun:
    """One LeNet run: the trained model, its history (None if it diverged), and its test
    accuracy after the BN statistics were re-estimated on the training images (short runs at
    large rates leave the running averages behind the weights)."""

    model: nn.Module
    history: list[EpochStats] | None
    settled_acc: float | None

    @property
    def loss(self) -> float | None:
        return None if self.history is None else self.history[-1].loss


def lenet_run(ctx: Context, variant: str, lr: float = LR, settle: bool = True) -> LeNetRun:
    """LeNet ``variant`` (:data:`VARIANTS`) trained with SGD at ``lr`` on the profile's subset
    (:data:`SIZES`), batch :data:`BATCH`; a variant and rate are trained once per context (later
    exercises find the finished checkpoint)."""
    keep, make_norm, frozen, _label = VARIANTS[variant]
    data, epochs, _said = profile_images(ctx, SIZES)
    model = lenet_with_norms(ctx, keep, make_norm)
    if frozen:
        for layer in model:
            if isinstance(layer, BatchNorm):
                layer.weight.requires_grad_(False)
                layer.bias.requires_grad_(False)
    history = fit_or_none(ctx, f"lenet_{variant}_lr{lr:g}", model, data, epochs, lr)
    settled = None
    if history is not None and settle:
        recompute_batch_norm_stats(model, image_batches(data.train_images, data.train_labels, 256))
        settled = evaluate(model, data.test_images, data.test_labels)
    return LeNetRun(model, history, settled)


def _bars(
    labels: Sequence[Text],
    values: Sequence[float],
    ylabel: Text,
    title: Text,
    line: float | None = None,
):
    """A bar chart drawer (one bar per label), with an optional horizontal line at ``line``."""

    def draw(lang: Lang):
        fig, ax = new_figure(5.6, 3.6)
        ax.bar(range(len(values)), values, color="C0")
        ax.set_xticks(
            range(len(values)), [label(lang) for label in labels], rotation=20, ha="right"
        )
        if line is not None:
            ax.axhline(line, color="k", linestyle=":", linewidth=1, label="ln 10")
            ax.legend()
        ax.set(ylabel=ylabel(lang), title=title(lang))
        return fig

    return draw


def _listing(runs: dict[str, LeNetRun], lang: Lang) -> str:
    """ "variant: loss / settled accuracy; …" for the runs that finished."""
    return "; ".join(
        f"{VARIANTS[k][3](lang)}: {r.loss:.3f} / {r.settled_acc:.3f}"
        if r.history is not None
        else f"{VARIANTS[k][3](lang)}: {Text('diverged', '发散')(lang)}"
        for k, r in runs.items()
    )


def _run_values(runs: dict[str, LeNetRun]) -> dict:
    return {f"{k}_loss": r.loss for k, r in runs.items() if r.history} | {
        f"{k}_test_acc": r.settled_acc for k, r in runs.items() if r.history
    }


def _setup(ctx: Context) -> Text:
    _data, _epochs, said = profile_images(ctx, SIZES)
    return Text(
        f"SGD lr {LR:g}, batch {BATCH}, {said.en}; test accuracy after re-estimating the BN statistics",
        f"SGD lr {LR:g}，批量 {BATCH}，{said.zh}；测试精度在重新估计 BN 统计量之后测得",
    )


# 8.5.2 -------------------------------------------------------------------------------------


def _largest(rates: Sequence[float], ok: Sequence[bool]) -> float | None:
    good = [r for r, fine in zip(rates, ok, strict=True) if fine]
    return max(good) if good else None


def _rate(rate: float | None, lang: Lang) -> str:
    return f"{rate:g}" if rate is not None else Text("none", "无")(lang)


def learning_rates(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.5.2: LeNet with and without BN over a log-spaced sweep of SGD rates; the largest rate that
    trains and the largest that stays stable, and accuracy per epoch."""
    _data, epochs, said = profile_images(ctx, SIZES)
    rates = (1.0, 30.0) if ctx.settings.profile == "smoke" else (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
    names = {"all": Text("with BN", "有批量归一化"), "none": Text("without BN", "无批量归一化")}
    runs = {m: [lenet_run(ctx, m, lr, settle=False).history for lr in rates] for m in names}
    values: dict = {"rates": list(rates)}
    largest, trained = {}, {}
    for model_name, histories in runs.items():
        losses = [None if h is None else h[-1].loss for h in histories]
        trains = [loss is not None and loss < 0.8 * PLATEAU for loss in losses]
        stable = [loss is not None and loss <= PLATEAU + 0.05 for loss in losses]
        largest[model_name] = (_largest(rates, trains), _largest(rates, stable))
        trained[model_name] = [r for r, t in zip(rates, trains, strict=True) if t]
        pairs = [(r, h[-1]) for r, h in zip(rates, histories, strict=True) if h]
        values[f"{model_name}_rates_finished"] = [r for r, _ in pairs]
        values[f"{model_name}_final_loss"] = [last.loss for _, last in pairs]
        values[f"{model_name}_test_acc"] = [last.test_acc for _, last in pairs]
        values[f"{model_name}_rates_diverged"] = [
            r for r, h in zip(rates, histories, strict=True) if not h
        ]
        values[f"{model_name}_rates_training"] = trained[model_name]
        for kind, rate in zip(("training", "stable"), largest[model_name], strict=True):
            if rate is not None:
                values[f"{model_name}_largest_{kind}_rate"] = rate
    shown = LR if LR in rates else rates[0]
    curves = {m: runs[m][rates.index(shown)] for m in runs}

    def draw(lang: Lang):
        fig = blank_figure(9.0, 3.6)
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        for (model_name, histories), marker in zip(runs.items(), "os", strict=True):
            finished = [(r, h[-1].loss) for r, h in zip(rates, histories, strict=True) if h]
            left.semilogx(
                [r for r, _ in finished],
                [v for _, v in finished],
                marker + "-",
                label=names[model_name](lang),
            )
            history = curves[model_name]
            if history:
                right.plot(
                    [h.epoch for h in history],
                    [h.test_acc for h in history],
                    marker + "-",
                    label=names[model_name](lang),
                )
        left.axhline(PLATEAU, color="k", linestyle=":", linewidth=1, label="ln 10")
        left.set(
            xlabel=Text("learning rate", "学习率")(lang),
            ylabel=Text("final training loss", "最终训练损失")(lang),
            yscale="log",
        )
        right.set(ylabel=Text("test accuracy", "测试精度")(lang), title=f"lr = {shown:g}")
        epoch_axis(right, lang)
        left.legend()
        right.legend()
        return fig

    def phrase(lang: Lang) -> str:
        return "; ".join(
            f"{names[m](lang)}: {_rate(largest[m][0], lang)} / {_rate(largest[m][1], lang)}"
            for m in runs
        )

    def at_shown(model_name: str, lang: Lang) -> str:
        history = curves[model_name]
        if history is None:
            return f"{names[model_name](lang)}: {Text('diverged', '发散')(lang)}"
        return f"{names[model_name](lang)}: " + " → ".join(f"{h.test_acc:.3f}" for h in history)

    if len(trained["all"]) > len(trained["none"]):
        verdict = Text(
            "BN widens the range of usable rates and shortens the time the sigmoid net spends on the "
            "ln 10 plateau at the start; too large a rate breaks both, the loss ending above the "
            "plateau or blowing up.",
            "批量归一化扩大了可用学习率的范围，并缩短 sigmoid 网络开始时停在 ln 10 平台上的时间；学习率过大时两者"
            "都会失败，损失停在平台之上或爆炸。",
        )
    else:
        verdict = Text(
            "This run is too short to separate the two models; the quick and book profiles train long "
            "enough for the difference to show.",
            "本次运行太短，区分不出两个模型；quick 与 book 配置训练得足够长，能显示差别。",
        )
    answer = Text(
        f"Sweep of {len(rates)} learning rates ({', '.join(f'{r:g}' for r in rates)}), SGD, batch "
        f"{BATCH}, {said.en}. A run 'trains' when its last-epoch training loss falls below 0.8·ln 10 = "
        f"{0.8 * PLATEAU:.2f}; it is 'stable' when that loss stays at or below ln 10 + 0.05, the loss "
        f"of guessing. Largest training / stable rate — {phrase('en')}. (a) Test accuracy per epoch "
        f"at lr = {shown:g} — {at_shown('all', 'en')}; {at_shown('none', 'en')}. (b) With BN "
        f"{len(trained['all'])} of the {len(rates)} rates train, without BN {len(trained['none'])}. "
        f"{verdict.en}",
        f"扫描 {len(rates)} 个学习率（{', '.join(f'{r:g}' for r in rates)}），SGD，批量 {BATCH}，{said.zh}。"
        f"最后一轮训练损失低于 0.8·ln 10 = {0.8 * PLATEAU:.2f} 记为“在训练”，不超过随机猜测的损失 ln 10 + 0.05 "
        f"记为“稳定”。最大的在训练 / 稳定学习率——{phrase('zh')}。(a) lr = {shown:g} 时每轮测试精度——"
        f"{at_shown('all', 'zh')}；{at_shown('none', 'zh')}。(b) 有批量归一化时 {len(rates)} 个学习率中 "
        f"{len(trained['all'])} 个在训练，无批量归一化时 {len(trained['none'])} 个。{verdict.zh}",
    )
    plot = Plot(
        "ex8_5_2_rates",
        draw,
        Text(
            f"left: final training loss after {epochs} epoch(s) against the learning rate, with and "
            f"without BN (dotted: ln 10, the loss of guessing); right: test accuracy per epoch at lr = {shown:g}",
            f"左：{epochs} 轮后最终训练损失与学习率，有无批量归一化（虚线：随机猜测的损失 ln 10）；右：lr = {shown:g} "
            "时每轮测试精度",
        ),
        Text(
            "two panels: final loss against learning rate, and accuracy per epoch, for LeNet with and without batch norm",
            "两幅图：有无批量归一化的 LeNet 的最终损失—学习率曲线与每轮精度曲线",
        ),
    )
    return answer, values, [plot]


# 8.5.3 -------------------------------------------------------------------------------------

PLACEMENTS = ("all", "none", "convs", "dense", "first", "all_but_first")


def placement(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.5.3: LeNet with BN at six subsets of its four places."""
    runs = {k: lenet_run(ctx, k) for k in PLACEMENTS}
    finished = {k: r for k, r in runs.items() if r.history is not None}
    best = min(finished, key=lambda k: finished[k].loss)
    full = finished.get("all")
    close = [k for k in finished if k != "all" and full and finished[k].loss <= 1.1 * full.loss]
    fewest = min(close, key=lambda k: len(VARIANTS[k][0]), default=None)
    label = {k: VARIANTS[k][3] for k in PLACEMENTS}
    lean = (
        Text(
            f"The fewest BN layers that come within 10% of the full net's loss: {label[fewest].en} "
            f"({len(VARIANTS[fewest][0])} of 4).",
            f"损失与全部使用相差不超过 10% 的最少配置：{label[fewest].zh}（4 处中的 {len(VARIANTS[fewest][0])} 处）。",
        )
        if fewest
        else Text(
            "No placement with fewer layers came within 10% of the full net's loss.",
            "没有更少的配置能使损失与全部使用相差不超过 10%。",
        )
    )
    setup = _setup(ctx)
    answer = Text(
        f"No, but where it sits matters. LeNet with BN at subsets of its four places ({setup.en}); "
        f"final training loss / test accuracy — {_listing(runs, 'en')}. Lowest loss: {label[best].en}. "
        f"{lean.en} The sigmoid net mainly needs its pre-activations kept in the sigmoid's responsive "
        f"range; a BN layer rescales what follows it, so a few well-placed ones carry most of the effect.",
        f"不需要，但位置要紧。在 LeNet 的四个位置中只取部分使用批量归一化（{setup.zh}）；最终训练损失 / 测试精度——"
        f"{_listing(runs, 'zh')}。损失最低：{label[best].zh}。{lean.zh}sigmoid 网络主要需要把激活前的值保持在 "
        f"sigmoid 敏感的区间内；一层 BN 会重新缩放其后的输入，所以放对位置的少数几层就承担了大部分作用。",
    )
    keys = list(finished)
    plot = Plot(
        "ex8_5_3_placement",
        _bars(
            [label[k] for k in keys],
            [finished[k].loss for k in keys],
            Text("final training loss", "最终训练损失"),
            Text("where LeNet keeps its BN layers", "LeNet 的批量归一化放在哪里"),
            PLATEAU,
        ),
        Text(
            f"final training loss by BN placement ({setup.en}); lowest: {label[best].en}",
            f"不同批量归一化位置的最终训练损失（{setup.zh}）；最低：{label[best].zh}",
        ),
        Text(
            "bar chart of the final loss for six BN placements",
            "六种批量归一化位置的最终损失柱状图",
        ),
    )
    return answer, _run_values(runs), [plot]


# 8.5.4 -------------------------------------------------------------------------------------


class PartialBatchNorm(nn.Module):
    """Batch norm cut down to one of its two steps, per channel (axis 1) of (N, C, *) inputs:
    ``"center"`` subtracts the batch mean and adds a learned shift β; ``"scale"`` divides by the
    batch standard deviation (the mean stays in) and multiplies by a learned γ. Running averages
    (momentum 0.1, as torch) stand in for the batch statistics in prediction mode."""

    def __init__(
        self,
        num_features: int,
        keep: Literal["center", "scale"],
        eps: float = 1e-5,
        momentum: float = 0.1,
    ):
        super().__init__()
        if keep not in ("center", "scale"):
            raise ValueError(f"keep must be 'center' or 'scale', got {keep!r}")
        self.keep, self.eps, self.momentum = keep, eps, momentum
        start = torch.zeros(num_features) if keep == "center" else torch.ones(num_features)
        self.param = nn.Parameter(start.clone())
        self.register_buffer("running", start.clone())

    def forward(self, x: Tensor) -> Tensor:
        dims = [0, *range(2, x.dim())]
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if self.training:
            stat = x.mean(dims) if self.keep == "center" else x.var(dims, unbiased=False)
            with torch.no_grad():
                self.running.lerp_(stat.detach(), self.momentum)
        else:
            stat = self.running
        if self.keep == "center":
            return x - stat.view(shape) + self.param.view(shape)
        return x / torch.sqrt(stat.view(shape) + self.eps) * self.param.view(shape)


def partial(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.5.4: centre-only and scale-only BN, checked on skewed data and swapped into LeNet."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    x = torch.randn(256, 3, generator=gen) * 2 + 3
    stats = {}
    with torch.no_grad():
        for keep in ("center", "scale"):
            y = PartialBatchNorm(3, keep)(x)
            stats[keep] = (float(y.mean(0).abs().max()), float(y.std(0, unbiased=False).mean()))
    runs = {k: lenet_run(ctx, k) for k in ("all", "center", "scale", "none")}

    def draw(lang: Lang):
        fig, ax = new_figure()
        for (key, run), marker in zip(runs.items(), "os^v", strict=True):
            if run.history:
                ax.plot(
                    [h.epoch for h in run.history],
                    [h.loss for h in run.history],
                    marker + "-",
                    label=VARIANTS[key][3](lang),
                )
        ax.axhline(PLATEAU, color="k", linestyle=":", linewidth=1)
        ax.set(ylabel=Text("training loss", "训练损失")(lang))
        epoch_axis(ax, lang)
        ax.legend()
        return fig

    setup = _setup(ctx)
    answer = Text(
        f"On data with mean 3 and standard deviation 2, centring alone gives outputs of mean "
        f"{stats['center'][0]:.1e} and spread {stats['center'][1]:.2f} (unchanged); scaling alone "
        f"gives spread {stats['scale'][1]:.3f} with the mean left in. In LeNet ({setup.en}) the final "
        f"training loss / test accuracy are — {_listing(runs, 'en')}. Each half does part of BN's job: "
        f"centring keeps the sigmoids from saturating on one side, scaling fixes the spread of their "
        f"inputs; the losses above say how much of the full layer's effect each half keeps on its own.",
        f"对均值 3、标准差 2 的数据，只减均值时输出均值 {stats['center'][0]:.1e}、离散度 {stats['center'][1]:.2f}"
        f"（不变）；只除标准差时离散度 {stats['scale'][1]:.3f}，均值保留。在 LeNet 中（{setup.zh}）最终训练损失 / "
        f"测试精度为——{_listing(runs, 'zh')}。两半各做批量归一化的一部分工作：减均值防止 sigmoid 在一侧饱和，除标准差"
        f"固定其输入的离散度；上面的损失说明每一半单独保留了完整层多少作用。",
    )
    values = {
        "center_output_mean": stats["center"][0],
        "center_output_std": stats["center"][1],
        "scale_output_std": stats["scale"][1],
    } | _run_values(runs)
    plot = Plot(
        "ex8_5_4_partial",
        draw,
        Text(
            f"training loss per epoch of LeNet with full, centre-only and scale-only BN and without BN ({setup.en})",
            f"完整、仅减均值、仅除标准差的批量归一化与无批量归一化的 LeNet 每轮训练损失（{setup.zh}）",
        ),
        Text("training-loss curves of four normalization variants", "四种归一化变体的训练损失曲线"),
    )
    return answer, values, [plot]


# 8.5.5 -------------------------------------------------------------------------------------


def frozen_affine(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.5.5: LeNet-BN with γ = 1 and β = 0 frozen against the trainable version, and how far the
    trained γ and β moved."""
    runs = {k: lenet_run(ctx, k) for k in ("all", "frozen")}
    layers = [layer for layer in runs["all"].model if isinstance(layer, BatchNorm)]
    gamma_moves = [float((layer.weight.detach() - 1).abs().mean()) for layer in layers]
    beta_moves = [float(layer.bias.detach().abs().mean()) for layer in layers]
    setup = _setup(ctx)
    answer = Text(
        f"With γ = 1 and β = 0 fixed, every sigmoid sees inputs of mean 0 and variance 1: it works in "
        f"its nearly linear middle and cannot choose its own operating range. Final training loss / "
        f"test accuracy ({setup.en}) — {_listing(runs, 'en')}. The trainable net does use its freedom: "
        f"mean |γ − 1| per BN layer {', '.join(f'{m:.3f}' for m in gamma_moves)}, mean |β| "
        f"{', '.join(f'{m:.3f}' for m in beta_moves)}. Freezing saves only "
        f"{2 * sum(layer.num_features for layer in layers)} parameters: it is an ablation, not an economy.",
        f"固定 γ = 1、β = 0 后，每个 sigmoid 的输入均值为 0、方差为 1：只能在近似线性的中段工作，无法自己选择工作区间。"
        f"最终训练损失 / 测试精度（{setup.zh}）——{_listing(runs, 'zh')}。可训练的网络确实利用了这份自由：各 BN 层的"
        f"平均 |γ − 1| 为 {', '.join(f'{m:.3f}' for m in gamma_moves)}，平均 |β| 为 "
        f"{', '.join(f'{m:.3f}' for m in beta_moves)}。冻结只省下 {2 * sum(layer.num_features for layer in layers)} "
        f"个参数：这是消融实验，而非节省。",
    )
    return answer, {"gamma_moves": gamma_moves, "beta_moves": beta_moves} | _run_values(runs), []


VARIANTS: dict[str, tuple[tuple[int, ...], Callable[[int, int], nn.Module] | None, bool, Text]] = {
    # name: (BN positions kept, replacement for BN or None, γ/β frozen, label)
    "all": ((0, 1, 2, 3), None, False, Text("BN at all four places", "四处都用批量归一化")),
    "none": ((), None, False, Text("no BN", "无批量归一化")),
    "convs": ((0, 1), None, False, Text("conv layers only", "仅卷积层")),
    "dense": ((2, 3), None, False, Text("dense layers only", "仅全连接层")),
    "first": ((0,), None, False, Text("first conv only", "仅第一卷积层")),
    "all_but_first": ((1, 2, 3), None, False, Text("all but the first", "除第一处外")),
    "center": (
        (0, 1, 2, 3),
        lambda c, _d: PartialBatchNorm(c, "center"),
        False,
        Text("centre only", "仅减均值"),
    ),
    "scale": (
        (0, 1, 2, 3),
        lambda c, _d: PartialBatchNorm(c, "scale"),
        False,
        Text("scale only", "仅除标准差"),
    ),
    "frozen": ((0, 1, 2, 3), None, True, Text("γ = 1, β = 0 frozen", "冻结 γ = 1、β = 0")),
}


# 8.5.6 -------------------------------------------------------------------------------------


def _mlp(ctx: Context, bn: bool, dropout: float) -> nn.Sequential:
    """The 784-256-256-10 ReLU MLP of 8.5.6, seeded, with optional BN and dropout after each hidden
    layer."""
    torch.manual_seed(ctx.settings.seed)
    layers: list[nn.Module] = [nn.Flatten()]
    width = 784
    for _ in range(2):
        layers.append(nn.Linear(width, 256))
        if bn:
            layers.append(BatchNorm1d(256))
        layers.append(nn.ReLU())
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = 256
    layers.append(nn.Linear(width, 10))
    return nn.Sequential(*layers)


def bn_vs_dropout(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.5.6: an MLP with dropout, BN, both or neither on a small training set: train and test
    accuracy in prediction mode."""
    data, epochs, said = profile_images(ctx, MLP_SIZES)
    variants = {
        "plain": (False, 0.0, Text("plain", "无正则")),
        "dropout": (False, 0.5, Text("dropout 0.5", "暂退法 0.5")),
        "bn": (True, 0.0, Text("BN", "批量归一化")),
        "bn_dropout": (True, 0.5, Text("BN + dropout", "批量归一化 + 暂退法")),
    }
    results = {}
    for key, (bn, dropout, _label) in variants.items():
        model = _mlp(ctx, bn, dropout)
        history = fit_or_none(
            ctx, f"8_5_6_mlp_{key}", model, data, epochs, MLP_LR, 32, momentum=0.9
        )
        if history is not None:
            results[key] = (
                evaluate(model, data.train_images, data.train_labels),
                history[-1].test_acc,
            )
    gaps = {k: a - b for k, (a, b) in results.items()}
    best = max(results, key=lambda k: results[k][1])
    label = {k: v[2] for k, v in variants.items()}

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{label[k](lang)}: {a:.3f} / {b:.3f} ({Text('gap', '差距')(lang)} {gaps[k]:.3f})"
            for k, (a, b) in results.items()
        )

    def effect(key: str, lang: Lang) -> str:
        if key not in gaps or "plain" not in gaps:
            return Text(f"{label[key].en}: diverged", f"{label[key].zh}：发散")(lang)
        change = gaps[key] - gaps["plain"]
        word = Text("narrows", "缩小")(lang) if change < 0 else Text("widens", "扩大")(lang)
        return f"{label[key](lang)} {word} {abs(change):.3f}"

    regularizes = "bn" in gaps and "plain" in gaps and gaps["bn"] < gaps["plain"]
    verdict = (
        Text("Partly: here BN narrows the gap as well.", "部分可以：这里批量归一化也缩小了差距。")
        if regularizes
        else Text("Not as a regularizer.", "作为正则化手段，不能。")
    )
    answer = Text(
        f"{verdict.en} An MLP 784-256-256-10 trained on {said.en} (SGD lr {MLP_LR}, momentum "
        f"0.9, batch 32); train / test accuracy, both in prediction mode — {listing('en')}. Against the "
        f"plain net's gap: {effect('dropout', 'en')}, {effect('bn', 'en')}, {effect('bn_dropout', 'en')}; "
        f"best test accuracy: {label[best].en}. BN's noise comes from the batch statistics and fades as "
        f"the batch grows, so its main effect is faster, steadier fitting, of the training set too; "
        f"dropout's noise is set by its rate and targets co-adaptation directly. They are not "
        f"interchangeable, and stacked naively dropout's rescaling makes the statistics BN sees in "
        f"training differ from those in prediction (the 'variance shift'), so dropout usually goes "
        f"after the last BN layer.",
        f"{verdict.zh}在{said.zh}上训练 784-256-256-10 的多层感知机（SGD lr {MLP_LR}，动量 0.9，批量 32）；训练 / 测试精度"
        f"（均为预测模式）——{listing('zh')}。与无正则网络的差距相比：{effect('dropout', 'zh')}，{effect('bn', 'zh')}，"
        f"{effect('bn_dropout', 'zh')}；测试精度最高：{label[best].zh}。批量归一化的噪声来自批量统计量，批量越大越弱，所以它的主要作用"
        f"是更快、更稳地拟合——训练集也拟合得更好；暂退法的噪声由其比率决定，直接针对神经元的共适应。二者不能互相替代；若简单叠加，"
        f"暂退法的缩放使批量归一化在训练与预测中看到的统计量不同（“方差偏移”），所以暂退法通常放在最后一个批量归一化层之后。",
    )
    values = {f"{k}_train_acc": a for k, (a, _b) in results.items()} | {
        f"{k}_test_acc": b for k, (_a, b) in results.items()
    }
    keys = list(results)
    plot = Plot(
        "ex8_5_6_gaps",
        _bars(
            [label[k] for k in keys],
            [gaps[k] for k in keys],
            Text("train − test accuracy", "训练精度 − 测试精度"),
            Text("generalization gap of an MLP", "多层感知机的泛化差距"),
        ),
        Text(
            f"train/test accuracy gap of an MLP with dropout, BN, both or neither ({said.en}); best test accuracy: {label[best].en}",
            f"使用暂退法、批量归一化、两者或都不用的多层感知机的训练/测试精度差距（{said.zh}）；测试精度最高：{label[best].zh}",
        ),
        Text("bar chart of the generalization gap of four MLPs", "四个多层感知机泛化差距的柱状图"),
    )
    return answer, values, [plot]


# 8.5.7 -------------------------------------------------------------------------------------


def rank_normalize(x: Tensor) -> Tensor:
    """The probability integral transform as a normalizer: each column's values replaced by
    Φ⁻¹((rank + ½)/n), the standard-normal quantile of their empirical CDF."""
    n = x.shape[0]
    ranks = x.argsort(0).argsort(0).to(F64)
    return torch.special.ndtri((ranks + 0.5) / n)


def research(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.5.7: a rank-based normalizer (its invariance and zero gradient) and the conditioning of a
    full covariance estimate from one batch."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    skewed = torch.empty(128, 4, dtype=F64).exponential_(1.0, generator=gen) ** 3
    z = rank_normalize(skewed)
    invariance = float((rank_normalize(torch.log(skewed)) - z).abs().max())
    nudged = skewed + 1e-9 * torch.randn(skewed.shape, generator=gen, dtype=F64)
    rank_change = float((rank_normalize(nudged) - z).abs().max())
    d, batch = 120, 128
    samples = torch.randn(batch, d, generator=gen, dtype=F64)
    covariance = torch.cov(samples.T)
    eigenvalues = torch.linalg.eigvalsh(covariance)
    condition = float(eigenvalues[-1] / eigenvalues[0])
    ratio = d / batch
    marchenko = ((1 + math.sqrt(ratio)) / (1 - math.sqrt(ratio))) ** 2
    big = torch.randn(16 * batch, d, generator=gen, dtype=F64)
    big_eigs = torch.linalg.eigvalsh(torch.cov(big.T))
    big_condition = float(big_eigs[-1] / big_eigs[0])
    answer = Text(
        f"(a) The probability integral transform works as a forward map: on cubed exponential data "
        f"(heavily skewed) the rank transform gives mean {float(z.mean()):.1e} and variance "
        f"{float(z.var(unbiased=False)):.3f}, and it ignores any increasing distortion of its input "
        f"(log of the input: change {invariance:.0e}). But ranks are piecewise constant: nudging every input "
        f"by 1e-9 changes the output by {rank_change:g}, so its gradient is zero almost everywhere and it needs a smooth surrogate (soft ranks) to train. (b) Full "
        f"whitening: with {d} features and a batch of {batch}, the sample covariance of white noise "
        f"(true condition number 1) has condition number {condition:,.0f} (Marchenko–Pastur edge "
        f"≈ {marchenko:,.0f}); with {16 * batch} samples it is {big_condition:.2f}. Its inverse square "
        f"root amplifies noise along the weakest directions, costs O(d³) = {d**3:,} operations per "
        f"layer and step, and makes every example depend on the whole batch in {d}² ways. (c) "
        f"Structured families (block-diagonal, low displacement rank, Monarch) trade expressiveness "
        f"for cost: group whitening and block-diagonal normalizers sit between BN's diagonal and full "
        f"whitening. (d) Sparsifying (keeping the top-k normalized activations) is a regularizer in the "
        f"spirit of dropout, but deterministic and data-dependent. (e) Other projections — onto a cone, "
        f"a sphere (weight/feature normalization), or group-equivariant transforms — are open "
        f"directions; the test is whether they keep training stable without tying examples together.",
        f"(a) 概率积分变换作为前向映射可行：对立方后的指数分布数据（严重偏斜），秩变换输出均值 "
        f"{float(z.mean()):.1e}、方差 {float(z.var(unbiased=False)):.3f}，并且不受输入任何单调递增变形的影响"
        f"（对输入取对数：变化 {invariance:.0e}）。但秩是分段常数：把每个输入扰动 1e-9，输出变化 {rank_change:g}，梯度几乎处处为零，"
        f"训练时需要光滑替代（软秩）。(b) 完全白化：{d} 个特征、批量 {batch} 时，白噪声（真实条件数 1）的样本协方差条件数为 "
        f"{condition:,.0f}（Marchenko–Pastur 边界约 {marchenko:,.0f}）；用 {16 * batch} 个样本时为 "
        f"{big_condition:.2f}。其逆平方根会放大最弱方向上的噪声，每层每步需 O(d³) = {d**3:,} 次运算，且每个样本"
        f"以 {d}² 种方式依赖整个批量。(c) 结构化矩阵族（块对角、低位移秩、Monarch）以表达力换取代价：分组白化与块"
        f"对角归一化介于批量归一化的对角与完全白化之间。(d) 稀疏化（只保留前 k 个归一化激活）是类似暂退法的正则化，"
        f"但确定且依赖数据。(e) 其他投影——投到锥、球面（权重/特征归一化）或群等变变换——是开放的方向；检验标准是能否"
        f"保持训练稳定而不把样本彼此捆绑。",
    )
    values = {
        "rank_mean": float(z.mean()),
        "rank_variance": float(z.var(unbiased=False)),
        "rank_invariance": invariance,
        "rank_change": rank_change,
        "condition_number": condition,
        "marchenko_pastur": marchenko,
        "condition_number_large_batch": big_condition,
    }
    return answer, values, []


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "8.5.1",
        Text(
            "A layer that feeds batch normalization has a bias of its own: can it be dropped, and why?",
            "批量归一化之前的全连接层或卷积层的偏置能否去掉？为什么？",
        ),
        "check",
        bias_before_bn,
    ),
    ExerciseSpec(
        "8.5.2",
        Text(
            "Train LeNet with and without batch normalization at several learning rates: (a) how fast "
            "does the validation accuracy rise in each case; (b) from which learning rate on does each "
            "fail to train?",
            "在多个学习率下训练有无批量归一化的 LeNet：(a) 两者验证精度上升得多快；(b) 各自从哪个学习率开始无法训练？",
        ),
        "run",
        learning_rates,
    ),
    ExerciseSpec(
        "8.5.3",
        Text(
            "Is a batch-norm layer needed after every layer? Remove some and see.",
            "每一层之后都需要批量归一化吗？去掉一部分试试看。",
        ),
        "run",
        placement,
    ),
    ExerciseSpec(
        "8.5.4",
        Text(
            "Make two reduced batch norms, one that only subtracts the mean and one that only divides "
            "by the standard deviation; how do they behave?",
            "实现两种简化的批量归一化：一种只减去均值，一种只除以标准差；它们表现如何？",
        ),
        "run",
        partial,
    ),
    ExerciseSpec(
        "8.5.5",
        Text(
            "Keep the scale γ and shift β fixed during training: what changes?",
            "训练时固定拉伸参数 γ 和偏移参数 β：会有什么变化？",
        ),
        "run",
        frozen_affine,
    ),
    ExerciseSpec(
        "8.5.6",
        Text(
            "Could batch normalization do the job of dropout? Swap one for the other and compare.",
            "批量归一化能否承担暂退法的作用？用一个替换另一个并比较。",
        ),
        "run",
        bn_vs_dropout,
    ),
    ExerciseSpec(
        "8.5.7",
        Text(
            "Research ideas for other normalizers: (a) the probability integral transform; (b) "
            "whitening with a full covariance estimate, and why it may be a bad idea; (c) structured "
            "matrix families; (d) sparsifying compressions as regularizers; (e) other projections, "
            "such as onto convex cones or group-specific transforms.",
            "其他归一化的研究设想：(a) 概率积分变换；(b) 用满秩协方差估计做白化，以及为何可能不妥；(c) 结构化矩阵族；"
            "(d) 稀疏化压缩作为正则化；(e) 其他投影，如投到凸锥或与对称群相关的变换。",
        ),
        "discussion",
        research,
    ),
)
