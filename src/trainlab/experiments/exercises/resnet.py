"""Exercises of d2l §8.6 (ResNet and ResNeXt): costs counted layer by layer (parameters, and
multiply-adds from torch's FlopCounterMode on shape-only "meta" tensors, so even ResNet-152 costs
nothing to count), the bottleneck block written out and checked against trainlab's, and a small
training run of pre-activation against post-activation residual nets on Fashion-MNIST."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from trainlab.experiments.exercises.batchnorm import fit_or_none, profile_images
from trainlab.experiments.figures import blank_figure, epoch_axis, new_figure
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context
from trainlab.models import resnet18, resnet34, resnet50, resnet101, resnet152, summarize
from trainlab.nn import BatchNorm2d
from trainlab.nn.residual import BasicBlock, Bottleneck, PreActBlock, Residual

__all__ = ["EXERCISES", "BottleneckBlock", "Inception", "count", "multiply_adds"]

# torchvision's published figures for its ImageNet ResNets: parameters, GFLOPs at 224×224 (as
# torchvision counts them: multiply-adds) and top-1 accuracy (%) of the IMAGENET1K_V1 weights
PUBLISHED = {
    "ResNet-18": (11_689_512, 1.81, 69.758),
    "ResNet-34": (21_797_672, 3.66, 73.314),
    "ResNet-50": (25_557_032, 4.09, 76.130),
    "ResNet-101": (44_549_160, 7.80, 77.374),
    "ResNet-152": (60_192_808, 11.51, 78.312),
}
BUILDERS: dict[str, Callable[[], nn.Module]] = {
    "ResNet-18": resnet18,
    "ResNet-34": resnet34,
    "ResNet-50": resnet50,
    "ResNet-101": resnet101,
    "ResNet-152": resnet152,
}
DEPTHS = {"ResNet-18": 18, "ResNet-34": 34, "ResNet-50": 50, "ResNet-101": 101, "ResNet-152": 152}
# (training images, test images, epochs) of the 8.6.4 runs per profile
SIZES = {"smoke": (256, 128, 1), "quick": (2000, 1000, 2), "book": (60_000, 10_000, 10)}


def count(model: nn.Module) -> int:
    """The number of parameters."""
    return sum(p.numel() for p in model.parameters())


def multiply_adds(model: nn.Module, shape: tuple[int, ...], device: str = "meta") -> int:
    """Multiply-adds of one forward pass in prediction mode on a zero input of ``shape``, as
    torch's FlopCounterMode counts them (its FLOPs are twice this). On "meta" tensors only the
    shapes are computed."""
    model.eval()
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(shape, device=device))
    return counter.get_total_flops() // 2


def _meta(builder: Callable[[], nn.Module]) -> nn.Module:
    with torch.device("meta"):
        return builder()


# 8.6.1 -------------------------------------------------------------------------------------


class Inception(nn.Module):
    """GoogLeNet's Inception block: four paths side by side, concatenated along the channels —
    a 1×1 conv (c1 channels); 1×1 then 3×3 (c2 = (reduce, out)); 1×1 then 5×5 (c3 likewise);
    3×3 max-pool then 1×1 (c4) — every conv followed by ReLU."""

    def __init__(
        self, in_channels: int, c1: int, c2: tuple[int, int], c3: tuple[int, int], c4: int
    ):
        super().__init__()
        self.p1 = nn.Sequential(nn.Conv2d(in_channels, c1, 1), nn.ReLU())
        self.p2 = nn.Sequential(
            nn.Conv2d(in_channels, c2[0], 1),
            nn.ReLU(),
            nn.Conv2d(c2[0], c2[1], 3, padding=1),
            nn.ReLU(),
        )
        self.p3 = nn.Sequential(
            nn.Conv2d(in_channels, c3[0], 1),
            nn.ReLU(),
            nn.Conv2d(c3[0], c3[1], 5, padding=2),
            nn.ReLU(),
        )
        self.p4 = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), nn.Conv2d(in_channels, c4, 1), nn.ReLU()
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([self.p1(x), self.p2(x), self.p3(x), self.p4(x)], dim=1)


def inception_vs_residual(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.6.1: parameters and multiply-adds of an Inception block and residual blocks at equal
    width, and the residual block's identity."""
    shape = (1, 192, 28, 28)  # where GoogLeNet's first Inception block (3a) sits
    blocks = {
        "inception": (
            Inception(192, 64, (96, 128), (16, 32), 32),
            Text("Inception (3a)", "Inception（3a）"),
        ),
        "residual": (
            Residual(192, 256, use_1x1conv=True),
            Text("residual, two 3×3", "残差块，两个 3×3"),
        ),
        "bottleneck": (Bottleneck(192, 64), Text("residual bottleneck", "残差瓶颈块")),
    }
    costs = {k: (count(b), multiply_adds(b, shape, "cpu")) for k, (b, _) in blocks.items()}
    out = {k: list(b(torch.zeros(shape)).shape) for k, (b, _) in blocks.items()}
    # a residual block whose last BN has γ = β = 0 is the identity on non-negative inputs
    torch.manual_seed(ctx.settings.seed)
    identity = Residual(64, 64)
    nn.init.zeros_(identity.bn2.weight)
    nn.init.zeros_(identity.bn2.bias)
    x = torch.rand(8, 64, 14, 14)
    with torch.no_grad():
        identity_gap = float((identity(x) - x).abs().max())

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{blocks[k][1](lang)}: {p:,} {Text('parameters', '个参数')(lang)}, {m / 1e6:.1f}M "
            f"{Text('multiply-adds', '次乘加')(lang)}"
            for k, (p, m) in costs.items()
        )

    answer = Text(
        f"Both take 192 channels at 28×28 and give 256 ({out['inception']} and {out['residual']}). "
        f"Cost — {listing('en')}. The Inception block is cheap because its 1×1 convolutions shrink the "
        f"input before the 3×3 and 5×5 ones, and it mixes several receptive fields; the plain residual "
        f"block spends {costs['residual'][0] / costs['inception'][0]:.1f}× its parameters on two full "
        f"3×3 convolutions, while the bottleneck version costs about as little as Inception. The deeper "
        f"difference is the function class: a residual block computes x + F(x), so with F = 0 it is "
        f"the identity (zeroing the last BN's γ and β gives output − input = {identity_gap:g} on "
        f"non-negative inputs), and adding blocks can only enlarge what the network represents; an "
        f"Inception block has no such shortcut, and its hand-designed branches (widths per path) make "
        f"it harder to scale. In accuracy the two families are close at equal cost — torchvision's "
        f"GoogLeNet and ResNet-18 both reach about 69.8% top-1 on ImageNet — but residual nets keep "
        f"improving with depth, which is why they took over.",
        f"两者都把 28×28 的 192 个通道变为 256 个（{out['inception']} 与 {out['residual']}）。代价——"
        f"{listing('zh')}。Inception 块便宜，是因为 1×1 卷积先压缩输入，再做 3×3 和 5×5 卷积，并混合了多种感受野；"
        f"普通残差块在两个完整的 3×3 卷积上用掉 {costs['residual'][0] / costs['inception'][0]:.1f} 倍的参数，"
        f"而瓶颈版本的代价与 Inception 相当。更根本的区别在函数类：残差块计算 x + F(x)，F = 0 时即为恒等映射（把最后"
        f"一个 BN 的 γ、β 置零后，对非负输入 输出 − 输入 = {identity_gap:g}），因此增加块只会扩大网络能表示的函数；"
        f"Inception 块没有这样的捷径，而且各分支的宽度靠手工设计，不易扩展。在同等代价下两类网络精度相近——"
        f"torchvision 的 GoogLeNet 与 ResNet-18 在 ImageNet 上 top-1 都约为 69.8%——但残差网络随深度增加持续变好，"
        f"所以后来取而代之。",
    )
    values = (
        {f"{k}_parameters": p for k, (p, _) in costs.items()}
        | {f"{k}_multiply_adds": m for k, (_, m) in costs.items()}
        | {"identity_gap": identity_gap}
    )
    return answer, values, []


# 8.6.2 -------------------------------------------------------------------------------------


def variants(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.6.2: ResNet-18 to 152 built from the paper's table, counted and walked on meta tensors
    against torchvision's figures."""
    rows = {}
    for name, builder in BUILDERS.items():
        model = _meta(builder)
        walk = summarize(model, (1, 3, 224, 224), device="meta")
        stages = [list(r.output_shape) for r in walk if r.name.startswith("layer")]
        rows[name] = (count(model), multiply_adds(model, (1, 3, 224, 224)), stages)
    matches = [rows[n][0] == PUBLISHED[n][0] for n in rows]

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{n}: {p:,} ({Text('torchvision', 'torchvision')(lang)} {PUBLISHED[n][0]:,}), "
            f"{m / 1e9:.2f} GMACs ({PUBLISHED[n][1]:.2f})"
            for n, (p, m, _) in rows.items()
        )

    stages_50 = rows["ResNet-50"][2]
    answer = Text(
        f"Built from Table 1 of He et al. (2016): ResNet-18/34 stack basic blocks (2, 2, 2, 2) and "
        f"(3, 4, 6, 3); ResNet-50/101/152 stack bottleneck blocks (3, 4, 6, 3), (3, 4, 23, 3) and "
        f"(3, 8, 36, 3), each stage's output 4× wider than its 3×3 convolutions. Parameters and "
        f"multiply-adds at 224×224 — {listing('en')}: {sum(matches)} of {len(matches)} parameter "
        f"counts equal torchvision's exactly. The four stages of ResNet-50 give {stages_50}, the "
        f"table's 56² → 28² → 14² → 7² maps with 256 → 2048 channels.",
        f"按 He 等（2016）的表 1 搭建：ResNet-18/34 堆叠基本块 (2, 2, 2, 2) 与 (3, 4, 6, 3)；ResNet-50/101/152 "
        f"堆叠瓶颈块 (3, 4, 6, 3)、(3, 4, 23, 3) 与 (3, 8, 36, 3)，每个阶段的输出比其中的 3×3 卷积宽 4 倍。参数量与 "
        f"224×224 时的乘加次数——{listing('zh')}：{len(matches)} 个参数量中有 {sum(matches)} 个与 torchvision 完全相同。"
        f"ResNet-50 的四个阶段输出 {stages_50}，即表中 56² → 28² → 14² → 7² 的特征图、256 → 2048 个通道。",
    )
    values = {
        "parameters": [rows[n][0] for n in rows],
        "published_parameters": [PUBLISHED[n][0] for n in rows],
        "multiply_adds": [rows[n][1] for n in rows],
        "resnet50_stages": stages_50,
        "matches": sum(matches),
    }
    return answer, values, []


# 8.6.3 -------------------------------------------------------------------------------------


class BottleneckBlock(nn.Module):
    """The bottleneck residual block, written out: a 1×1 convolution shrinks the channels to
    ``width``, a 3×3 convolution works at that width, a 1×1 convolution widens to 4·width; BN
    after each, ReLU after the first two and after adding the input (same shape: no projection)."""

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        if channels != 4 * width:
            raise ValueError(
                f"the identity shortcut needs channels = 4·width, got {channels} and {width}"
            )
        self.conv1 = nn.Conv2d(channels, width, 1, bias=False)
        self.bn1 = BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, channels, 1, bias=False)
        self.bn3 = BatchNorm2d(channels)

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        return torch.relu(self.bn3(self.conv3(y)) + x)


def bottleneck(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.6.3: the bottleneck block written out, checked against trainlab's, and costed against two
    3×3 convolutions."""
    torch.manual_seed(ctx.settings.seed)
    ours = BottleneckBlock(256, 64)
    reference = Bottleneck(256, 64)
    reference.load_state_dict(ours.state_dict())
    basic = BasicBlock(256, 256)
    x = torch.randn(2, 256, 14, 14)
    ours.eval()
    reference.eval()
    with torch.no_grad():
        y = ours(x)
        gap = float((y - reference(x)).abs().max())
    shape = (1, 256, 56, 56)
    costs = {
        "bottleneck": (count(ours), multiply_adds(ours, shape, "cpu")),
        "basic": (count(basic), multiply_adds(basic, shape, "cpu")),
    }
    ratio = costs["basic"][0] / costs["bottleneck"][0]
    answer = Text(
        f"Written out as BottleneckBlock(256, 64): 1×1 256→64, 3×3 64→64, 1×1 64→256, BN after each, "
        f"identity shortcut. It maps {list(x.shape)} to {list(y.shape)}, has the same state dict as "
        f"trainlab's Bottleneck (ResNet-50's block) and, loaded with the same weights, gives the same "
        f"output (largest difference {gap:g}). At 256 channels on 56×56 it has "
        f"{costs['bottleneck'][0]:,} parameters and {costs['bottleneck'][1] / 1e6:.0f}M multiply-adds; "
        f"two 3×3 convolutions at 256 channels (a basic block) need {costs['basic'][0]:,} and "
        f"{costs['basic'][1] / 1e6:.0f}M, {ratio:.1f}× as many. That is what lets ResNet-50 be three "
        f"times deeper than ResNet-34 for barely more computation.",
        f"写成 BottleneckBlock(256, 64)：1×1 256→64、3×3 64→64、1×1 64→256，每个卷积后接 BN，恒等捷径。它把 "
        f"{list(x.shape)} 映射为 {list(y.shape)}，状态字典与 trainlab 的 Bottleneck（ResNet-50 的块）相同，载入相同"
        f"权重后输出一致（最大差 {gap:g}）。在 56×56、256 通道上它有 {costs['bottleneck'][0]:,} 个参数、"
        f"{costs['bottleneck'][1] / 1e6:.0f}M 次乘加；256 通道的两个 3×3 卷积（基本块）需要 {costs['basic'][0]:,} 个"
        f"参数和 {costs['basic'][1] / 1e6:.0f}M 次乘加，是其 {ratio:.1f} 倍。正因如此，ResNet-50 比 ResNet-34 深三倍，"
        f"计算量却只多一点。",
    )
    values = {
        "output_shape": list(y.shape),
        "gap_to_trainlab": gap,
        "bottleneck_parameters": costs["bottleneck"][0],
        "basic_parameters": costs["basic"][0],
        "bottleneck_multiply_adds": costs["bottleneck"][1],
        "basic_multiply_adds": costs["basic"][1],
    }
    return answer, values, []


# 8.6.4 -------------------------------------------------------------------------------------


def small_resnet(
    block: type[BasicBlock] | type[PreActBlock], widths: tuple[int, ...] = (16, 32, 64)
) -> nn.Sequential:
    """A residual net small enough for a CPU: a stride-2 3×3 stem (BN and ReLU after it for
    post-activation blocks; pre-activation blocks normalize their own input), one block per
    width (each later one halving the map), a final BN + ReLU for pre-activation, global average
    pooling and a linear layer to 10 classes."""
    layers: list[nn.Module] = [nn.Conv2d(1, widths[0], 3, stride=2, padding=1, bias=False)]
    if block is BasicBlock:
        layers += [BatchNorm2d(widths[0]), nn.ReLU()]
    channels = widths[0]
    for i, width in enumerate(widths):
        layers.append(block(channels, width, 1 if i == 0 else 2))
        channels = width
    if block is PreActBlock:
        layers += [BatchNorm2d(channels), nn.ReLU()]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, 10)]
    return nn.Sequential(*layers)


def _signal(
    block: type[BasicBlock] | type[PreActBlock], depth: int, seed: int
) -> tuple[float, float]:
    """(‖∂L/∂x₀‖ / ‖∂L/∂x_L‖, std(x_L) / std(x₀)) through ``depth`` blocks of width 16 at
    initialization, in training mode, for a random linear loss L."""
    torch.manual_seed(seed)
    stack = nn.Sequential(*[block(16, 16) for _ in range(depth)])
    x = torch.randn(16, 16, 8, 8, requires_grad=True)
    y = stack(x)
    y.retain_grad()
    (y * torch.randn_like(y)).sum().backward()
    return float(x.grad.norm() / y.grad.norm()), float(y.detach().std() / x.detach().std())


def preactivation(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.6.4: small post- and pre-activation residual nets trained alike, and gradient and signal
    growth through deep stacks of each."""
    data, epochs, said = profile_images(ctx, SIZES)
    names = {"post": Text("post-activation", "后激活"), "pre": Text("pre-activation", "预激活")}
    histories = {}
    for key, block in (("post", BasicBlock), ("pre", PreActBlock)):
        torch.manual_seed(ctx.settings.seed)
        histories[key] = fit_or_none(
            ctx, f"8_6_4_{key}", small_resnet(block), data, epochs, 0.05, 64, momentum=0.9
        )
    depth = 8 if ctx.settings.profile == "smoke" else 32
    signal = {
        "post": _signal(BasicBlock, depth, ctx.settings.seed),
        "pre": _signal(PreActBlock, depth, ctx.settings.seed),
    }

    steadier = names["pre"] if signal["pre"][0] < signal["post"][0] else names["post"]
    losses = {k: h[-1].loss for k, h in histories.items() if h}
    if len(losses) == 2 and abs(losses["pre"] - losses["post"]) <= 0.1 * max(losses.values()):
        shallow = Text(
            "Losses within 10% of each other: so shallow a net trains about equally well either way; "
            "the order matters with depth.",
            "两者损失相差不到 10%：这么浅的网络两种顺序训练得差不多；顺序的影响随深度显现。",
        )
    elif len(losses) == 2:
        better = min(losses, key=losses.get)
        shallow = Text(
            f"The {names[better].en} net ends with the lower loss even at this depth.",
            f"即使在这个深度，{names[better].zh}网络的最终损失也更低。",
        )
    else:
        shallow = Text("One of the two runs diverged.", "两次运行之一发散。")

    def result(key: str, lang: Lang) -> str:
        h = histories[key]
        if h is None:
            return f"{names[key](lang)}: {Text('diverged', '发散')(lang)}"
        return f"{names[key](lang)}: {h[-1].loss:.3f} / {h[-1].test_acc:.3f}"

    def draw(lang: Lang):
        fig, ax = new_figure()
        for (key, history), marker in zip(histories.items(), "os", strict=True):
            if history:
                ax.plot(
                    [h.epoch for h in history],
                    [h.test_acc for h in history],
                    marker + "-",
                    label=names[key](lang),
                )
        ax.set(ylabel=Text("test accuracy", "测试精度")(lang))
        epoch_axis(ax, lang)
        ax.legend()
        return fig

    answer = Text(
        f"Pre-activation (BN → ReLU → conv, nothing after the addition; trainlab's PreActBlock) against "
        f"the original order (conv → BN → ReLU, ReLU after the addition), in a 3-block net of widths "
        f"16/32/64 (SGD lr 0.05, momentum 0.9, batch 64, {said.en}); final training loss / test "
        f"accuracy — {result('post', 'en')}; {result('pre', 'en')}. {shallow.en} Through {depth} blocks at initialization the "
        f"gradient at the input is {signal['post'][0]:.1f}× the gradient at the output with "
        f"post-activation and {signal['pre'][0]:.1f}× with pre-activation, and the activations' spread "
        f"grows {signal['post'][1]:.1f}× and {signal['pre'][1]:.1f}×: {steadier.en} keeps the scale of "
        f"signals and gradients more even from block to block. With nothing after the addition, "
        f"x_L = x_l + Σ F_k, so every block receives the output's gradient unchanged plus the "
        f"branches' share, which is how He et al. trained nets of 1001 layers.",
        f"预激活（BN → ReLU → 卷积，相加之后不再有运算；trainlab 的 PreActBlock）与原始顺序（卷积 → BN → ReLU，相加后"
        f"ReLU）比较，网络为宽度 16/32/64 的三个块（SGD lr 0.05，动量 0.9，批量 64，{said.zh}）；最终训练损失 / 测试"
        f"精度——{result('post', 'zh')}；{result('pre', 'zh')}。{shallow.zh}"
        f"初始化时经过 {depth} 个块，输入处的梯度是输出处的 {signal['post'][0]:.1f} 倍（后激活）与 "
        f"{signal['pre'][0]:.1f} 倍（预激活），激活的离散度分别增长 {signal['post'][1]:.1f} 倍与 "
        f"{signal['pre'][1]:.1f} 倍：{steadier.zh}使信号与梯度的尺度在块与块之间更均匀。相加之后没有运算时 "
        f"x_L = x_l + Σ F_k，每个块都原样收到输出处的梯度，再加上各分支的贡献，He 等人正是这样训练了 1001 层的网络。",
    )
    values = {
        "depth": depth,
        "post_gradient_ratio": signal["post"][0],
        "pre_gradient_ratio": signal["pre"][0],
        "post_spread_ratio": signal["post"][1],
        "pre_spread_ratio": signal["pre"][1],
    }
    for key, history in histories.items():
        if history:
            values |= {f"{key}_loss": history[-1].loss, f"{key}_test_acc": history[-1].test_acc}
    plot = Plot(
        "ex8_6_4_preact",
        draw,
        Text(
            f"test accuracy per epoch of a 3-block residual net with post- and pre-activation blocks ({said.en})",
            f"后激活与预激活的三块残差网络每轮测试精度（{said.zh}）",
        ),
        Text("test-accuracy curves of two residual block orders", "两种残差块顺序的测试精度曲线"),
    )
    return answer, values, [plot]


# 8.6.5 -------------------------------------------------------------------------------------


def complexity(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """8.6.5: parameters and compute of ResNet-18 to 152 against torchvision's published accuracy:
    the returns of a bigger class."""
    rows = {
        n: (count(m := _meta(b)), multiply_adds(m, (1, 3, 224, 224))) for n, b in BUILDERS.items()
    }
    names = list(rows)
    gain = PUBLISHED["ResNet-152"][2] - PUBLISHED["ResNet-50"][2]
    more_params = rows["ResNet-152"][0] / rows["ResNet-50"][0]
    more_work = rows["ResNet-152"][1] / rows["ResNet-50"][1]

    def draw(lang: Lang):
        fig = blank_figure(5.4, 3.6)
        ax = fig.add_subplot()
        gmacs = [rows[n][1] / 1e9 for n in names]
        ax.plot(gmacs, [PUBLISHED[n][2] for n in names], "o-")
        for n, x in zip(names, gmacs, strict=True):
            ax.annotate(
                n, (x, PUBLISHED[n][2]), textcoords="offset points", xytext=(4, -10), fontsize=8
            )
        ax.set(
            xlabel=Text("multiply-adds per image (billions)", "每张图像的乘加次数（十亿）")(lang),
            ylabel=Text("ImageNet top-1 (%, torchvision)", "ImageNet top-1（%，torchvision）")(
                lang
            ),
        )
        return fig

    answer = Text(
        f"Nesting guarantees that a bigger class contains the best function of the smaller one, not "
        f"that we find it. Each step up costs: from ResNet-50 to ResNet-152 the parameters grow "
        f"{more_params:.1f}× and the multiply-adds {more_work:.1f}× (to {rows['ResNet-152'][1] / 1e9:.1f} "
        f"billion per image) for {gain:.1f} more points of top-1 accuracy (torchvision's weights: "
        f"{PUBLISHED['ResNet-50'][2]:.1f}% → {PUBLISHED['ResNet-152'][2]:.1f}%). Beyond compute and "
        f"memory, a richer class needs more data to pin down (its estimation error grows while the "
        f"approximation error it removes shrinks), is harder to optimize (more depth, more saddle "
        f"points, more sensitivity to initialization and learning rate), and overfits more easily; "
        f"the returns diminish while the costs grow roughly linearly with depth.",
        f"嵌套只保证更大的函数类包含较小类中最好的函数，并不保证我们能找到它。每上一级都有代价：从 ResNet-50 到 "
        f"ResNet-152，参数增加 {more_params:.1f} 倍，乘加次数增加 {more_work:.1f} 倍（每张图像 "
        f"{rows['ResNet-152'][1] / 1e9:.1f} 十亿次），top-1 精度只多 {gain:.1f} 个百分点（torchvision 权重："
        f"{PUBLISHED['ResNet-50'][2]:.1f}% → {PUBLISHED['ResNet-152'][2]:.1f}%）。除计算与内存外，更丰富的函数类需要"
        f"更多数据才能确定（估计误差增大，而它消除的逼近误差越来越小），更难优化（更深、鞍点更多、对初始化和学习率"
        f"更敏感），也更容易过拟合；收益递减，而代价大致随深度线性增长。",
    )
    values = {
        "depths": [DEPTHS[n] for n in names],
        "parameters": [rows[n][0] for n in names],
        "multiply_adds": [rows[n][1] for n in names],
        "published_top1": [PUBLISHED[n][2] for n in names],
    }
    plot = Plot(
        "ex8_6_5_returns",
        draw,
        Text(
            f"ImageNet top-1 accuracy against compute for ResNet-18 to 152: from 50 to 152 layers "
            f"{more_work:.1f}× the work buys {gain:.1f} points",
            f"ResNet-18 至 152 的 ImageNet top-1 精度与计算量：从 50 层到 152 层，{more_work:.1f} 倍的计算只换来 "
            f"{gain:.1f} 个百分点",
        ),
        Text("accuracy against multiply-adds for five ResNets", "五个 ResNet 的精度与乘加次数"),
    )
    return answer, values, [plot]


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "8.6.1",
        Text(
            "Set the Inception block beside the residual block: where do they differ, and which is "
            "cheaper, more accurate and able to express more?",
            "把 Inception 块与残差块放在一起比较：它们有何不同？哪个更便宜、更准确、能表达的函数更多？",
        ),
        "check",
        inception_vs_residual,
    ),
    ExerciseSpec(
        "8.6.2",
        Text(
            "Build the other ResNet variants from Table 1 of the ResNet paper.",
            "按照 ResNet 论文的表 1 实现其他变体。",
        ),
        "check",
        variants,
    ),
    ExerciseSpec(
        "8.6.3",
        Text(
            "Deeper ResNets use a bottleneck block to cut the cost; implement it.",
            "更深的 ResNet 用瓶颈块降低代价；实现它。",
        ),
        "check",
        bottleneck,
    ),
    ExerciseSpec(
        "8.6.4",
        Text(
            "Later ResNets reorder each unit to batch norm, activation, then convolution; make that "
            "change yourself.",
            "后来的 ResNet 把每个单元改为“批量归一化、激活、卷积”的顺序；自己实现这一改动。",
        ),
        "run",
        preactivation,
    ),
    ExerciseSpec(
        "8.6.5",
        Text(
            "If function classes are nested, why not just keep making them more complex?",
            "既然函数类是嵌套的，为什么不一味地增加其复杂度？",
        ),
        "discussion",
        complexity,
    ),
)
