"""Batch normalization: the book's LeNet-BN runs (from scratch with trainlab's BN in the book's
convention, and concise with torch's BN) with the edition's settings, the learned γ and β, the
text's claims checked numerically, and layer normalization's invariances."""

from __future__ import annotations

import torch

from trainlab.data.fashion_mnist import subset
from trainlab.experiments.editions import EDITION_SETTINGS, LeNetRun
from trainlab.experiments.figures import curves_figure
from trainlab.experiments.result import Number, Plot, Result, Text
from trainlab.experiments.settings import Context
from trainlab.models import lenet
from trainlab.nn import BatchNorm, BatchNorm1d, LayerNorm
from trainlab.nn.functional import batch_norm, batch_norm_reference
from trainlab.train.loop import xavier_init

__all__ = ["EXPERIMENTS", "bn_claims", "build_lenet_bn", "layer_norm", "lenet_bn", "optimizer_for"]

F64 = torch.float64


def build_lenet_bn(run: LeNetRun, concise: bool) -> torch.nn.Module:
    """The edition's LeNet-BN: torch's BN for the concise version; for the scratch version
    trainlab's BN in the book's convention (``momentum=0.9``, the weight of the old value,
    biased moving variance) with the moving variance starting where the edition's code starts
    it (0 in COURSE and E1)."""
    model = lenet(norm="torch" if concise else "trainlab", pool=run.pool)
    if run.xavier:
        xavier_init(model)
    if not concise:
        for layer in model.modules():
            if isinstance(layer, BatchNorm):
                layer.convention, layer.momentum = "book", 0.9
                layer.running_var.fill_(run.moving_var_start)
    return model


def optimizer_for(name: str, parameters, lr: float) -> torch.optim.Optimizer:
    return (
        torch.optim.Adam(parameters, lr=lr)
        if name == "adam"
        else torch.optim.SGD(parameters, lr=lr)
    )


def lenet_bn(ctx: Context) -> Result:
    run = EDITION_SETTINGS[ctx.settings.edition].lenet
    data = ctx.images()
    epochs = run.epochs
    result = Result("lenet_bn")
    if ctx.settings.profile == "smoke":
        data, epochs = subset(data, 512, 256), 1
        result.notes.append(
            Text("smoke: 512 training images, 1 epoch", "冒烟测试：512 张训练图像，1 轮")
        )
    suffix = f"@{ctx.settings.edition}" if ctx.comparable else ""
    histories = {}
    for variant, concise in (("scratch", False), ("concise", True)):
        torch.manual_seed(ctx.settings.seed)
        model = build_lenet_bn(run, concise)
        history = ctx.train(
            f"lenet_bn_{variant}",
            f"LeNet-BN {variant}",
            model,
            optimizer_for(run.optimizer, model.parameters(), run.lr),
            data,
            epochs,
            run.batch_size,
        )
        histories[variant] = history
        last = history[-1]
        result.numbers += [
            Number(f"lenet_bn.{variant}.test_acc{suffix}", last.test_acc),
            Number(f"lenet_bn.{variant}.train_acc{suffix}", last.train_acc),
            Number(f"lenet_bn.{variant}.loss{suffix}", last.loss),
        ]
        if not concise:
            bn = model[1]
            result.numbers += [
                Number("bn.first_gamma", bn.weight.detach().tolist()),
                Number("bn.first_beta", bn.bias.detach().tolist()),
            ]
    for variant, history in histories.items():
        name = Text(
            f"LeNet-BN, {'trainlab BN (book convention)' if variant == 'scratch' else 'torch BN'}",
            f"LeNet-BN，{'trainlab 批量归一化（书中约定）' if variant == 'scratch' else 'torch 批量归一化'}",
        )
        first, last = history[0], history[-1]
        result.plots.append(
            Plot(
                f"lenet_bn_{variant}",
                lambda lang, history=history, name=name: curves_figure(history, name, lang),
                Text(
                    f"{name.en}: with BN the test accuracy is already {first.test_acc:.3f} after one "
                    f"epoch and {last.test_acc:.3f} after {last.epoch}; the train loss falls from "
                    f"{first.loss:.3f} to {last.loss:.3f}",
                    f"{name.zh}：第 1 轮后测试精度已达 {first.test_acc:.3f}，第 {last.epoch} 轮后 "
                    f"{last.test_acc:.3f}；训练损失从 {first.loss:.3f} 降到 {last.loss:.3f}",
                ),
                Text(
                    f"training curves of {name.en}: loss and accuracies per epoch",
                    f"{name.zh} 的训练曲线：每轮损失与精度",
                ),
            )
        )
    return result


@torch.no_grad()
def bn_claims(ctx: Context) -> Result:
    """The text's claims, on random data: BN can learn the identity (γ = √(σ²+ε), β = μ), its
    training output has variance σ²/(σ²+ε), and in prediction mode one sample's output does not
    depend on the rest of its batch."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    x = torch.randn(64, 3, 5, 5, generator=gen, dtype=F64) * 2 + 3
    mean = x.mean(dim=(0, 2, 3))
    var = x.var(dim=(0, 2, 3), unbiased=False)
    y = batch_norm(x, None, None, torch.sqrt(var + 1e-5), mean, True)
    z = torch.randn(4096, 2, generator=gen, dtype=F64)
    small = (z - z.mean(0)) / z.std(0, unbiased=False) * 4e-5**0.5  # batch variance 4e-5 exactly
    out = batch_norm_reference(small, None, None, None, None, True)
    bn = BatchNorm1d(3).double()
    bn(torch.randn(32, 3, generator=gen, dtype=F64) * 3)
    bn.eval()
    batch = torch.randn(16, 3, generator=gen, dtype=F64)
    alone = bn(batch[:1])
    return Result(
        "bn_claims",
        [
            Number("bn.identity", float((y - x).abs().max())),
            Number("bn.output_variance", float(out.var(dim=0, unbiased=False).mean())),
            Number("bn.eval_independence", float((bn(batch)[:1] - alone).abs().max())),
        ],
    )


@torch.no_grad()
def layer_norm(ctx: Context) -> Result:
    """LN normalizes each example over its features: LN_{α²ε}(αx + c) = LN_ε(x) exactly, and an
    example's output does not depend on its batch."""
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    x = torch.randn(8, 16, generator=gen, dtype=F64)
    plain = LayerNorm(16, eps=1e-5).double()
    scaled = LayerNorm(16, eps=1e-5 * 7.5**2).double()
    invariance = float((scaled(7.5 * x + 3.0) - plain(x)).abs().max())
    independence = float((plain(x[:1]) - plain(x)[:1]).abs().max())
    return Result(
        "layer_norm",
        [
            Number("ln.scale_invariance", invariance),
            Number("ln.example_independence", independence),
        ],
    )


EXPERIMENTS = (lenet_bn, bn_claims, layer_norm)
