"""Residual networks, ResNeXt and DenseNet: the printed shape checks and layer walks, the
parameter count, the grouped convolution's cost, the training runs (the edition's settings in
the book profile; reduced and ours-only in quick and smoke), and DenseNet's memory cost."""

from __future__ import annotations

import torch
from torch import nn

from trainlab.data.fashion_mnist import subset
from trainlab.experiments.batchnorm import optimizer_for
from trainlab.experiments.editions import EDITION_SETTINGS, ConvRun
from trainlab.experiments.figures import curves_figure
from trainlab.experiments.result import Number, Plot, Result, Text
from trainlab.experiments.settings import Context
from trainlab.models import DenseBlock, book_densenet, book_resnet18, grouped_conv_cost, summarize
from trainlab.models.densenet import transition_block
from trainlab.nn.residual import Residual, ResNeXtBlock
from trainlab.train.loop import xavier_init

__all__ = ["EXPERIMENTS", "QUICK", "densenet_memory", "shapes", "training"]

# What the quick profile trains instead of the edition's full runs (28×28 for ResNet-18, 32×32
# for DenseNet, the smallest input its four halvings allow): (training images, test images,
# epochs, size). Results are ours only: these are not the book's settings.
QUICK = {"resnet18": (12_000, 2_000, 2, 28), "densenet": (12_000, 2_000, 1, 32)}
SMOKE = {"resnet18": (256, 128, 2, 28), "densenet": (256, 128, 1, 32)}


def shapes(ctx: Context) -> Result:
    """The shapes the book prints, the parameter count, and the grouped conv's cost ratio."""
    x = torch.rand(4, 3, 6, 6)
    walk224 = summarize(book_resnet18(), (1, 1, 224, 224))
    walk96 = summarize(book_resnet18(), (1, 1, 96, 96))
    stages = [list(walk224[i].output_shape) for i in (0, 3, 4, 5, 6, 7, 8, 9)]
    stages96 = [list(walk96[i].output_shape) for i in (3, 4, 5, 6, 7, 9)]
    dense = summarize(book_densenet(), (1, 1, 96, 96))
    channels = [64] + [
        r.output_shape[1] for r in dense if r.name.startswith(("DenseBlock", "transit"))
    ]
    dense_block = DenseBlock(2, 3, 10)
    y = dense_block(torch.rand(4, 3, 8, 8))
    cost_g1 = grouped_conv_cost(128, 128, 3, 1, 56, 56, bias=False)
    cost_g32 = grouped_conv_cost(128, 128, 3, 32, 56, 56, bias=False)
    return Result(
        "shapes",
        [
            Number("resnet.residual_shape", list(Residual(3, 3)(x).shape)),
            Number(
                "resnet.residual_1x1_shape",
                list(Residual(3, 6, use_1x1conv=True, stride=2)(x).shape),
            ),
            Number("resnet.walk_224", stages),
            Number("resnet.walk_96", stages96),
            Number("resnet.parameters", sum(p.numel() for p in book_resnet18().parameters())),
            Number(
                "resnext.block_shape",
                list(ResNeXtBlock.as_printed(32, 16, 1)(torch.randn(4, 32, 96, 96)).shape),
            ),
            Number("resnext.cost_ratio", cost_g1.parameters / cost_g32.parameters),
            Number("densenet.block_shape", list(y.shape)),
            Number("densenet.transition_shape", list(transition_block(23, 10)(y).shape)),
            Number("densenet.channels_96", channels),
        ],
    )


def _run_settings(ctx: Context, name: str, full: ConvRun):
    """(training images, test images, epochs, size, comparable) for the profile."""
    if ctx.settings.profile == "book":
        return None, None, full.epochs, full.resize, True
    n_train, n_test, epochs, size = (SMOKE if ctx.settings.profile == "smoke" else QUICK)[name]
    return n_train, n_test, epochs, size, False


def training(ctx: Context) -> Result:
    """ResNet-18 and DenseNet on Fashion-MNIST: the edition's settings in the book profile;
    in quick a reduced run (:data:`QUICK`), reported as ours only and said so."""
    edition = EDITION_SETTINGS[ctx.settings.edition]
    result = Result("training")
    for name, builder, full in (
        ("resnet18", book_resnet18, edition.resnet),
        ("densenet", book_densenet, edition.densenet),
    ):
        n_train, n_test, epochs, size, full_run = _run_settings(ctx, name, full)
        data = ctx.images()
        if n_train is not None:
            data = subset(data, n_train, n_test)
        torch.manual_seed(ctx.settings.seed)
        model = builder()
        if full.xavier:
            xavier_init(model)
        label = "ResNet-18" if name == "resnet18" else "DenseNet"
        history = ctx.train(
            name,
            label,
            model,
            optimizer_for(full.optimizer, model.parameters(), full.lr),
            data,
            epochs,
            full.batch_size,
            resize=size,
        )
        suffix = f"@{ctx.settings.edition}" if full_run and ctx.comparable else ""
        result.numbers.append(Number(f"{name}.test_acc{suffix}", history[-1].test_acc))
        if not full_run:
            result.notes.append(
                Text(
                    f"{label}: {len(data.train_labels):,} training images × {epochs} epochs at {size}×{size} "
                    f"instead of the edition's 60,000 × {full.epochs} at {full.resize}×{full.resize}, to fit "
                    f"the {ctx.settings.profile} profile: ours only, not compared with the book "
                    "(run --profile book for the book's settings)",
                    f"{label}：{len(data.train_labels):,} 张训练图像 × {epochs} 轮、{size}×{size}，而非该版本的 "
                    f"60,000 × {full.epochs}、{full.resize}×{full.resize}，以适应 {ctx.settings.profile} 配置："
                    "仅为本实验结果，不与书中比较（--profile book 运行书中设置）",
                )
            )
        caption_name = Text(label, label)
        result.plots.append(
            Plot(
                f"{name}_curves",
                lambda lang, history=history, t=caption_name: curves_figure(history, t, lang),
                Text(
                    f"{label} at {size}×{size}: test accuracy {history[-1].test_acc:.3f} after "
                    f"{history[-1].epoch} epoch(s), {history[-1].examples_per_s:,.0f} images/s on this machine",
                    f"{label}（{size}×{size}）：{history[-1].epoch} 轮后测试精度 {history[-1].test_acc:.3f}，"
                    f"本机每秒 {history[-1].examples_per_s:,.0f} 张图像",
                ),
                Text(f"training curves of {label}", f"{label} 的训练曲线"),
            )
        )
    return result


def _saved_bytes(model: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the tensors autograd keeps for one training step's backward (what a training
    step holds in memory besides the weights), measured with saved-tensor hooks."""
    total = [0]
    seen: set[int] = set()

    def pack(t):
        key = t.untyped_storage().data_ptr()
        if key not in seen:
            seen.add(key)
            total[0] += t.untyped_storage().nbytes()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x).sum().backward()
    return total[0]


def densenet_memory(ctx: Context) -> Result:
    """DenseNet's "concatenation costs memory", measured: the activation memory of one training
    step, DenseNet over ResNet-18, at the same input (96×96, batch 8)."""
    torch.manual_seed(ctx.settings.seed)
    x = torch.randn(8 if ctx.settings.profile != "smoke" else 2, 1, 96, 96)
    dense, res = _saved_bytes(book_densenet(), x), _saved_bytes(book_resnet18(), x)
    d_params = sum(p.numel() for p in book_densenet().parameters())
    r_params = sum(p.numel() for p in book_resnet18().parameters())
    return Result(
        "densenet_memory",
        [
            Number(
                "densenet.peak_memory_ratio",
                dense / res,
                detail=Text(
                    f"DenseNet keeps {dense / 2**20:.1f} MiB for the backward, ResNet-18 {res / 2**20:.1f} MiB, "
                    f"with {d_params:,} vs {r_params:,} parameters",
                    f"DenseNet 为反向传播保留 {dense / 2**20:.1f} MiB，ResNet-18 保留 {res / 2**20:.1f} MiB；参数量 "
                    f"{d_params:,} 对 {r_params:,}",
                ),
            )
        ],
    )


EXPERIMENTS = (shapes, training, densenet_memory)
