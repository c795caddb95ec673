"""Exercises of d2l §8.7 (DenseNet): max against average pooling in the transitions (a small
training run), parameter counts against ResNet and against the paper's Table 1, the memory a
training step keeps for its backward pass (tensors saved by autograd, with and without
recomputation), and dense connectivity in an MLP on a regression set."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from trainlab.data.airfoil import RegressionData
from trainlab.experiments.exercises.batchnorm import fit_or_none, profile_images
from trainlab.experiments.exercises.resnet import count, multiply_adds
from trainlab.experiments.figures import new_figure
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context
from trainlab.models import (
    DenseBlock,
    DenseNet,
    book_densenet,
    book_resnet18,
    densenet121,
    densenet169,
    densenet201,
    resnet50,
)
from trainlab.nn.residual import Residual

__all__ = ["EXERCISES", "DenseMLP", "Recomputed", "saved_bytes"]

# (training images, test images, epochs) of the 8.7.1 runs per profile
SIZES = {"smoke": (256, 128, 1), "quick": (2000, 1000, 2), "book": (60_000, 10_000, 10)}
# input size and batch of the 8.7.3 memory measurement per profile
MEMORY = {"smoke": (32, 2), "quick": (96, 2), "book": (224, 8)}
# full-batch Adam steps and seeds of the 8.7.5 MLPs per profile
MLP_STEPS = {"smoke": (40, 1), "quick": (400, 3), "book": (2000, 10)}
# torchvision's parameter counts and top-1 (%) of its ImageNet DenseNets and ResNet-50
PUBLISHED = {
    "DenseNet-121": (7_978_856, 74.434),
    "DenseNet-169": (14_149_480, 75.600),
    "DenseNet-201": (20_013_928, 76.896),
    "ResNet-50": (25_557_032, 76.130),
}


def _meta(builder):
    with torch.device("meta"):
        return builder()


# 8.7.1 -------------------------------------------------------------------------------------


def small_densenet(pool: type[nn.Module]) -> nn.Sequential:
    """The book's DenseNet shrunk for a CPU (growth 16, three dense blocks of two convolutions,
    28×28 input) with ``pool`` (AvgPool2d or MaxPool2d) in its transition layers."""
    net = book_densenet(growth_rate=16, num_convs_in_dense_blocks=(2, 2, 2))
    for name, module in net.named_children():
        if name.startswith("transition_block"):
            module[3] = pool(kernel_size=2, stride=2)
    return net


def transition_pooling(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.7.1: a small DenseNet with average or max pooling in its transitions, and whether each
    commutes with the 1×1 convolution."""
    data, epochs, said = profile_images(ctx, SIZES)
    names = {"avg": Text("average pooling", "平均汇聚"), "max": Text("max pooling", "最大汇聚")}
    histories = {}
    for key, pool in (("avg", nn.AvgPool2d), ("max", nn.MaxPool2d)):
        torch.manual_seed(ctx.settings.seed)
        histories[key] = fit_or_none(
            ctx, f"8_7_1_{key}", small_densenet(pool), data, epochs, 0.05, 64, momentum=0.9
        )
    # the 1×1 convolution and average pooling are both linear, so they commute; max does not
    torch.manual_seed(ctx.settings.seed)
    conv = nn.Conv2d(48, 24, 1)
    x = torch.relu(torch.randn(4, 48, 8, 8))
    with torch.no_grad():
        swap_avg = float(
            (nn.functional.avg_pool2d(conv(x), 2) - conv(nn.functional.avg_pool2d(x, 2)))
            .abs()
            .max()
        )
        swap_max = float(
            (nn.functional.max_pool2d(conv(x), 2) - conv(nn.functional.max_pool2d(x, 2)))
            .abs()
            .max()
        )

    def result(key: str, lang: Lang) -> str:
        h = histories[key]
        if h is None:
            return f"{names[key](lang)}: {Text('diverged', '发散')(lang)}"
        return f"{names[key](lang)}: {h[-1].loss:.3f} / {h[-1].test_acc:.3f}"

    answer = Text(
        f"A transition squeezes the concatenated features of a whole block: every channel there is "
        f"one earlier layer's output, and averaging keeps a little of each position of each of them, "
        f"where max pooling keeps only the strongest response and passes gradient to one input in "
        f"four. Averaging is also linear, so it commutes with the transition's 1×1 convolution "
        f"(largest difference between the two orders {swap_avg:.1e}, against {swap_max:.2f} for max "
        f"pooling): the convolution can be run after pooling on a quarter of the positions. In a small "
        f"DenseNet (growth 16, three blocks of two convolutions; SGD lr 0.05, momentum 0.9, batch 64, "
        f"{said.en}) the final training loss / test accuracy are — {result('avg', 'en')}; "
        f"{result('max', 'en')}.",
        f"过渡层压缩的是整个稠密块连结起来的特征：那里的每个通道都是前面某一层的输出，平均汇聚保留了每个通道每个位置的"
        f"一点信息，而最大汇聚只保留最强的响应，梯度也只传给四个输入中的一个。平均汇聚还是线性的，所以可以与过渡层的 "
        f"1×1 卷积交换次序（两种次序的最大差 {swap_avg:.1e}，最大汇聚则为 {swap_max:.2f}）：卷积可以在汇聚之后、只在四分之一"
        f"的位置上计算。在一个小 DenseNet 中（增长率 16，三个各含两个卷积的稠密块；SGD lr 0.05，动量 0.9，批量 64，"
        f"{said.zh}）最终训练损失 / 测试精度为——{result('avg', 'zh')}；{result('max', 'zh')}。",
    )
    values = {"commute_gap_avg": swap_avg, "commute_gap_max": swap_max}
    for key, history in histories.items():
        if history:
            values |= {f"{key}_loss": history[-1].loss, f"{key}_test_acc": history[-1].test_acc}
    return answer, values, []


# 8.7.2 -------------------------------------------------------------------------------------


def _largest_conv(model: nn.Module) -> int:
    return max(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))


def fewer_parameters(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.7.2: DenseNet's and ResNet's parameters, their largest convolutions, and a dense block's
    weight shapes."""
    dense, res = book_densenet(), book_resnet18()
    counts = {"densenet": count(dense), "resnet": count(res)}
    largest = {"densenet": _largest_conv(dense), "resnet": _largest_conv(res)}
    block = DenseBlock(4, 64, 32)
    conv_shapes = [list(m.weight.shape) for m in block.modules() if isinstance(m, nn.Conv2d)]
    imagenet = {"DenseNet-121": count(_meta(densenet121)), "ResNet-50": count(_meta(resnet50))}
    answer = Text(
        f"Width. A ResNet layer must output as many channels as its stage carries (up to 512 in "
        f"ResNet-18), so its 3×3 convolutions are c×c: the largest holds {largest['resnet']:,} weights. "
        f"A dense layer outputs only the growth rate k = 32 channels, however many it reads, and "
        f"features computed once are reused by every later layer instead of being recomputed: the "
        f"first block's convolutions have weights {conv_shapes}, and DenseNet's largest convolution "
        f"has {largest['densenet']:,} weights. Transitions halve the width between blocks. The book's "
        f"models: DenseNet {counts['densenet']:,} parameters against ResNet-18's {counts['resnet']:,} "
        f"({counts['resnet'] / counts['densenet']:.0f}×). On ImageNet, DenseNet-121 has "
        f"{imagenet['DenseNet-121']:,} parameters against ResNet-50's {imagenet['ResNet-50']:,} for "
        f"{PUBLISHED['DenseNet-121'][1]:.1f}% against {PUBLISHED['ResNet-50'][1]:.1f}% top-1 "
        f"(torchvision's weights).",
        f"原因在宽度。ResNet 的一层必须输出其所在阶段的全部通道（ResNet-18 中多达 512 个），所以 3×3 卷积是 c×c 的："
        f"最大的有 {largest['resnet']:,} 个权重。稠密层不论读入多少通道，都只输出增长率 k = 32 个通道，而且已经算出的特征"
        f"被后面每一层重复使用，不必重算：第一个稠密块的卷积权重形状为 {conv_shapes}，DenseNet 最大的卷积只有 "
        f"{largest['densenet']:,} 个权重。过渡层在块之间把宽度减半。书中的模型：DenseNet {counts['densenet']:,} 个参数，"
        f"ResNet-18 {counts['resnet']:,} 个（{counts['resnet'] / counts['densenet']:.0f} 倍）。在 ImageNet 上，"
        f"DenseNet-121 有 {imagenet['DenseNet-121']:,} 个参数，ResNet-50 有 {imagenet['ResNet-50']:,} 个，top-1 分别为 "
        f"{PUBLISHED['DenseNet-121'][1]:.1f}% 与 {PUBLISHED['ResNet-50'][1]:.1f}%（torchvision 权重）。",
    )
    values = {
        "densenet_parameters": counts["densenet"],
        "resnet18_parameters": counts["resnet"],
        "densenet_largest_conv": largest["densenet"],
        "resnet18_largest_conv": largest["resnet"],
        "densenet121_parameters": imagenet["DenseNet-121"],
        "resnet50_parameters": imagenet["ResNet-50"],
    }
    return answer, values, []


# 8.7.3 -------------------------------------------------------------------------------------


class Recomputed(nn.Module):
    """Wraps a module so that its forward pass keeps nothing for the backward pass but its input:
    the backward pass recomputes it (``torch.utils.checkpoint``)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return checkpoint(self.module, x, use_reentrant=True)


def recomputing_densenet() -> nn.Sequential:
    """The book's DenseNet with every convolution block of its dense blocks recomputed in the
    backward pass."""
    net = book_densenet()
    for module in net.modules():
        if isinstance(module, DenseBlock):
            for i, block in enumerate(module.net):
                module.net[i] = Recomputed(block)
    return net


def saved_bytes(model: nn.Module, x: Tensor) -> int:
    """Bytes of the distinct tensors autograd keeps from one training-mode forward pass for the
    backward pass (each storage counted once), measured with saved-tensor hooks."""
    storages: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return t

    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = model(x).sum()
    loss.backward()
    return sum(storages.values())


def _peak_bytes(model: nn.Module, x: Tensor) -> int:
    """The CUDA allocator's peak during one training step (forward and backward)."""
    torch.cuda.reset_peak_memory_stats(x.device)
    model.train()
    model(x).sum().backward()
    return torch.cuda.max_memory_allocated(x.device)


def _depth_growth(depths: tuple[int, ...], seed: int) -> tuple[list[float], list[float]]:
    """MiB kept for the backward pass by a dense block of L convolutions (64 channels in, growth
    32) and by L residual blocks of 64 channels, on one 64-channel 16×16 map, for each L."""
    torch.manual_seed(seed)
    x = torch.randn(1, 64, 16, 16)
    dense = [saved_bytes(DenseBlock(depth, 64, 32), x) / 2**20 for depth in depths]
    residual = [
        saved_bytes(nn.Sequential(*[Residual(64, 64) for _ in range(depth)]), x) / 2**20
        for depth in depths
    ]
    return dense, residual


def memory(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.7.3: bytes kept for the backward pass by DenseNet and ResNet-18 (224×224 in the book
    profile), their growth with block depth, and recomputation."""
    size, batch = MEMORY[ctx.settings.profile]
    device = torch.device(ctx.settings.device)
    torch.manual_seed(ctx.settings.seed)
    x = torch.randn(batch, 1, size, size, device=device)
    models = {
        "densenet": book_densenet(),
        "resnet": book_resnet18(),
        "recomputed": recomputing_densenet(),
    }
    saved = {k: saved_bytes(m.to(device), x) / batch for k, m in models.items()}
    mib = {k: v / 2**20 for k, v in saved.items()}
    ratio = saved["densenet"] / saved["resnet"]
    fewer = count(models["resnet"]) / count(models["densenet"])
    depths = (4, 8) if ctx.settings.profile == "smoke" else (4, 8, 16, 32)
    dense_growth, residual_growth = _depth_growth(depths, ctx.settings.seed)
    values = {f"{k}_saved_mib_per_image": v for k, v in mib.items()} | {
        "size": size,
        "batch": batch,
        "block_depths": list(depths),
        "dense_block_mib": dense_growth,
        "residual_stack_mib": residual_growth,
    }
    peak = Text("", "")
    if device.type == "cuda":
        peaks = {k: _peak_bytes(m, x) / 2**20 for k, m in models.items()}
        values |= {f"{k}_cuda_peak_mib": v for k, v in peaks.items()}
        peak = Text(
            f" On {device}, the allocator's peak for the whole step (weights, activations, gradients): "
            f"{', '.join(f'{k} {v:,.0f} MiB' for k, v in peaks.items())}.",
            f"在 {device} 上，整个训练步（权重、激活、梯度）的分配器峰值："
            f"{'，'.join(f'{k} {v:,.0f} MiB' for k, v in peaks.items())}。",
        )
    if ratio > 1:
        verdict = Text("so the claim holds here outright.", "所以这一说法在此完全成立。")
    elif ratio * fewer > 1:
        verdict = Text(
            "so in absolute terms the claim does not hold for the book's shallow blocks of four; it holds per parameter, and for deep blocks.",
            "所以对书中每块只有四层的浅稠密块，这一说法按绝对量并不成立；按每个参数计、或对深的稠密块则成立。",
        )
    else:
        verdict = Text(
            "so for the book's shallow blocks of four the claim does not hold; it is about deep blocks.",
            "所以对书中每块只有四层的浅稠密块，这一说法不成立；它说的是深的稠密块。",
        )
    growth = dense_growth[-1] / dense_growth[-2]
    profile = ctx.settings.profile
    where = (
        Text(f"{profile} profile", f"{profile} 配置")
        if size == 224
        else Text(
            f"{profile} profile; 224×224 in the book profile",
            f"{profile} 配置；book 配置为 224×224",
        )
    )
    answer = Text(
        f"(a) Measured at {size}×{size}, batch {batch} ({where.en}), as the bytes autograd keeps for the backward pass per image: DenseNet "
        f"{mib['densenet']:.1f} MiB, ResNet-18 {mib['resnet']:.1f} MiB, {ratio:.2f}× as much for a model "
        f"with {fewer:.0f}× fewer parameters ({ratio * fewer:.1f}× the memory per parameter) — {verdict.en} "
        f"Each concatenation writes a new, wider tensor, and the BN and ReLU reading it keep their own "
        f"copies, so a dense block's memory grows with the square of its depth: a block of "
        f"{', '.join(map(str, depths))} convolutions on a 16×16 map keeps "
        f"{', '.join(f'{m:.1f}' for m in dense_growth)} MiB ({growth:.1f}× for the last doubling), a "
        f"stack of as many residual blocks {', '.join(f'{m:.1f}' for m in residual_growth)} MiB "
        f"(linear).{peak.en} (b) Recompute instead of keeping: with every convolution block of the "
        f"dense blocks checkpointed (only its input is kept; BN → ReLU → conv is re-run in the backward "
        f"pass) DenseNet keeps {mib['recomputed']:.1f} MiB per image "
        f"({saved['recomputed'] / saved['densenet']:.0%} of before) for one extra forward pass. The "
        f"memory-efficient DenseNet goes further with shared buffers for the concatenations and BN "
        f"outputs; the framework then needs recomputation inside autograd and a concatenation that "
        f"writes into preallocated storage instead of allocating a new tensor each time.",
        f"(a) 在 {size}×{size}、批量 {batch} 下测量（{where.zh}），以每张图像为反向"
        f"传播保留的字节数计：DenseNet {mib['densenet']:.1f} MiB，ResNet-18 {mib['resnet']:.1f} MiB，参数少 {fewer:.0f} "
        f"倍的模型占用 {ratio:.2f} 倍的内存（按每个参数计为 {ratio * fewer:.1f} 倍）——{verdict.zh}每次连结都写出一个更宽的"
        f"新张量，读它的 BN 与 ReLU 又各保留一份，所以稠密块的内存随深度的平方增长：在 16×16 的特征图上，含 "
        f"{', '.join(map(str, depths))} 个卷积的稠密块保留 {', '.join(f'{m:.1f}' for m in dense_growth)} MiB"
        f"（最后一次加倍增至 {growth:.1f} 倍），同样数目的残差块保留 {', '.join(f'{m:.1f}' for m in residual_growth)} MiB"
        f"（线性）。{peak.zh}(b) 以重算代替保存：对稠密块中每个卷积块做检查点（只保留其输入；反向传播时重跑 BN → ReLU → "
        f"卷积），DenseNet 每张图像只保留 {mib['recomputed']:.1f} MiB（原来的 {saved['recomputed'] / saved['densenet']:.0%}），"
        f"代价是多一次前向计算。内存高效的 DenseNet 更进一步，让连结与 BN 的输出共用缓冲区；框架为此需要在自动微分中支持"
        f"重算，并让连结写入预先分配的存储，而不是每次新建张量。",
    )
    return answer, values, []


# 8.7.4 -------------------------------------------------------------------------------------


def table_one(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.7.4: DenseNet-121/169/201/264 counted on meta tensors against torchvision's figures."""
    builders = {
        "DenseNet-121": densenet121,
        "DenseNet-169": densenet169,
        "DenseNet-201": densenet201,
        "DenseNet-264": lambda: DenseNet(32, (6, 12, 64, 48), 64),
    }
    blocks = {
        "DenseNet-121": (6, 12, 24, 16),
        "DenseNet-169": (6, 12, 32, 32),
        "DenseNet-201": (6, 12, 48, 32),
        "DenseNet-264": (6, 12, 64, 48),
    }
    rows = {
        n: (count(m := _meta(b)), multiply_adds(m, (1, 3, 224, 224))) for n, b in builders.items()
    }
    matches = sum(rows[n][0] == PUBLISHED[n][0] for n in rows if n in PUBLISHED)

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{n} {blocks[n]}: {p:,}"
            + (f" (torchvision {PUBLISHED[n][0]:,})" if n in PUBLISHED else "")
            + f", {m / 1e9:.2f} GMACs"
            for n, (p, m) in rows.items()
        )

    answer = Text(
        f"Table 1 of Huang et al. (2017) fixes growth rate 32, bottleneck layers (1×1 to 128 channels, "
        f"then 3×3 to 32), transitions that halve the channels, and four dense blocks; the variants "
        f"differ only in how many layers each block has. At 1000 classes and 224×224 — "
        f"{listing('en')}. {matches} of 3 counts equal torchvision's exactly (torchvision has no "
        f"DenseNet-264 to compare with). Going from 121 to 264 layers multiplies the parameters by "
        f"{rows['DenseNet-264'][0] / rows['DenseNet-121'][0]:.1f} and the work by "
        f"{rows['DenseNet-264'][1] / rows['DenseNet-121'][1]:.1f}: the extra layers sit in the last two "
        f"blocks, where the maps are small but the inputs wide.",
        f"Huang 等（2017）表 1 固定增长率 32、瓶颈层（1×1 到 128 个通道，再 3×3 到 32 个）、把通道减半的过渡层以及四个稠密块；"
        f"各变体只是每块的层数不同。在 1000 类、224×224 时——{listing('zh')}。3 个参数量中有 {matches} 个与 torchvision 完全"
        f"相同（torchvision 没有 DenseNet-264 可供比较）。从 121 层到 264 层，参数增至 "
        f"{rows['DenseNet-264'][0] / rows['DenseNet-121'][0]:.1f} 倍，计算量增至 "
        f"{rows['DenseNet-264'][1] / rows['DenseNet-121'][1]:.1f} 倍：新增的层位于后两个稠密块，那里特征图小而输入宽。",
    )
    values = {
        "parameters": [rows[n][0] for n in rows],
        "multiply_adds": [rows[n][1] for n in rows],
        "matches": matches,
    }
    return answer, values, []


# 8.7.5 -------------------------------------------------------------------------------------


class DenseMLP(nn.Module):
    """Dense connectivity for an MLP: layer i reads the input concatenated with the outputs of
    every earlier layer and adds ``growth`` ReLU units of its own; a linear head reads them all."""

    def __init__(self, in_features: int, growth: int, layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            nn.Linear(in_features + i * growth, growth) for i in range(layers)
        )
        self.head = nn.Linear(in_features + layers * growth, 1)

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = torch.cat([x, torch.relu(layer(x))], dim=1)
        return self.head(x).squeeze(1)


def _plain_mlp(in_features: int, width: int, layers: int) -> nn.Sequential:
    """A plain ReLU MLP with ``layers`` hidden layers of ``width`` and a scalar output."""
    modules: list[nn.Module] = []
    for i in range(layers):
        modules += [nn.Linear(in_features if i == 0 else width, width), nn.ReLU()]
    return nn.Sequential(*modules, nn.Linear(width, 1), nn.Flatten(0))


def _fit_regression(
    model: nn.Module, data: RegressionData, train: Tensor, test: Tensor, steps: int
) -> tuple[list[float], float]:
    """Full-batch Adam (lr 0.01) on the mean squared error; the test MSE every step and at the end."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    X, y = data.features, data.targets
    curve = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(X[train]), y[train])
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            curve.append(float(nn.functional.mse_loss(model(X[test]), y[test])))
    with torch.no_grad():
        return curve, float(nn.functional.mse_loss(model(X[train]), y[train]))


def dense_mlp(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.7.5: a densely connected MLP against a plain one of the same size on the airfoil
    regression."""
    data = ctx.airfoil()
    steps, n_seeds = MLP_STEPS[ctx.settings.profile]
    n, d = data.features.shape
    order = torch.randperm(n, generator=torch.Generator().manual_seed(ctx.settings.seed))
    train, test = order[: int(0.8 * n)], order[int(0.8 * n) :]
    X1 = torch.cat([data.features.double(), torch.ones(n, 1, dtype=torch.float64)], 1)
    solution = torch.linalg.lstsq(X1[train], data.targets.double()[train].unsqueeze(1)).solution
    linear = float(((X1[test] @ solution).squeeze(1) - data.targets.double()[test]).square().mean())
    builders = {
        "dense": (
            lambda: DenseMLP(d, 16, 4),
            Text("dense MLP (4 layers, growth 16)", "稠密多层感知机（4 层，增长率 16）"),
        ),
        "plain": (
            lambda: _plain_mlp(d, 24, 4),
            Text("plain MLP (4 layers of 24)", "普通多层感知机（4 层，每层 24）"),
        ),
    }
    results, curves, sizes = {}, {}, {}
    for key, (build, _label) in builders.items():
        finals = []
        for seed in ctx.settings.seeds[:n_seeds]:
            torch.manual_seed(seed)
            model = build()
            sizes[key] = count(model)
            curve, train_mse = _fit_regression(model, data, train, test, steps)
            finals.append((train_mse, curve[-1]))
            curves.setdefault(key, curve)
        results[key] = (
            sorted(f[0] for f in finals)[len(finals) // 2],
            sorted(f[1] for f in finals)[len(finals) // 2],
        )

    def draw(lang: Lang):
        fig, ax = new_figure()
        for key, curve in curves.items():
            ax.semilogy(range(1, len(curve) + 1), curve, label=builders[key][1](lang))
        ax.axhline(
            linear,
            color="k",
            linestyle=":",
            linewidth=1,
            label=Text("least squares", "最小二乘")(lang),
        )
        ax.set(
            xlabel=Text("Adam step (full batch)", "Adam 步数（全批量）")(lang),
            ylabel=Text("test MSE", "测试均方误差")(lang),
        )
        ax.legend()
        return fig

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{builders[k][1](lang)}, {sizes[k]:,} {Text('parameters', '个参数')(lang)}: {a:.3f} / {b:.3f}"
            for k, (a, b) in results.items()
        )

    answer = Text(
        f"The house-price data of the book's Kaggle section is not bundled, so the airfoil self-noise "
        f"regression ({data.name}; {n} rows, {d} standardized features, 80/20 random split) stands in. "
        f"Each dense layer reads the input and every earlier layer's units, so the head sees raw "
        f"features and features of every depth at once. Median over {n_seeds} seed(s) of train / test "
        f"mean squared error (standardized target) after {steps} full-batch Adam steps — "
        f"{listing('en')}; a linear least-squares fit reaches {linear:.3f} on the test rows. Both nets "
        f"capture the nonlinearity the linear fit misses; at about the same parameter count the dense "
        f"wiring {'does better' if results['dense'][1] < results['plain'][1] else 'does not do better'} "
        f"on the test rows here.",
        f"书中 Kaggle 一节的房价数据未随包提供，这里用翼型噪声回归（{data.name}；{n} 行，{d} 个标准化特征，随机 80/20 划分）"
        f"代替。每个稠密层读入输入与之前所有层的单元，因此输出层同时看到原始特征与各个深度的特征。{n_seeds} 个种子的中位数，"
        f"{steps} 步全批量 Adam 后训练 / 测试均方误差（标准化目标）——{listing('zh')}；线性最小二乘在测试行上为 {linear:.3f}。"
        f"两个网络都捕捉到了线性拟合遗漏的非线性；在参数量相近时，这里稠密连接在测试行上"
        f"{'更好' if results['dense'][1] < results['plain'][1] else '并不更好'}。",
    )
    values = (
        {
            "least_squares_test_mse": linear,
            "steps": steps,
        }
        | {f"{k}_train_mse": a for k, (a, _b) in results.items()}
        | {f"{k}_test_mse": b for k, (_a, b) in results.items()}
        | {f"{k}_parameters": sizes[k] for k in sizes}
    )
    plot = Plot(
        "ex8_7_5_dense_mlp",
        draw,
        Text(
            f"test MSE per full-batch Adam step of a dense and a plain MLP on {data.name} (seed "
            f"{ctx.settings.seed}); dotted: linear least squares",
            f"稠密与普通多层感知机在 {data.name} 上每个全批量 Adam 步的测试均方误差（种子 {ctx.settings.seed}）；"
            "虚线：线性最小二乘",
        ),
        Text("test-error curves of a dense and a plain MLP", "稠密与普通多层感知机的测试误差曲线"),
    )
    return answer, values, [plot]


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "8.7.1",
        Text(
            "Why do the transition layers pool by averaging rather than by taking the maximum?",
            "为什么过渡层使用平均汇聚而不是最大汇聚？",
        ),
        "run",
        transition_pooling,
    ),
    ExerciseSpec(
        "8.7.2",
        Text(
            "The DenseNet paper claims fewer parameters than ResNet; where does the saving come from?",
            "DenseNet 论文称其参数比 ResNet 少；节省来自哪里？",
        ),
        "check",
        fewer_parameters,
    ),
    ExerciseSpec(
        "8.7.3",
        Text(
            "DenseNet is said to need a lot of memory. (a) Is that so? Measure it with 224×224 inputs. "
            "(b) How else could the memory be reduced, and what would the framework have to provide?",
            "有人说 DenseNet 很占内存。(a) 真是这样吗？用 224×224 的输入测量。(b) 还有什么办法降低内存？框架需要为此提供什么？",
        ),
        "run",
        memory,
    ),
    ExerciseSpec(
        "8.7.4",
        Text(
            "Reproduce the family of DenseNets laid out in Table 1 of the DenseNet paper.",
            "复现 DenseNet 论文表 1 列出的 DenseNet 系列。",
        ),
        "check",
        table_one,
    ),
    ExerciseSpec(
        "8.7.5",
        Text(
            "Carry the idea of dense connections over to an MLP and try it on the house-price "
            "prediction task.",
            "把稠密连接的思想用于多层感知机，并在房价预测任务上试一试。",
        ),
        "run",
        dense_mlp,
    ),
)
