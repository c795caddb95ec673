"""The book ledger: every quantity the report compares, with where its reference comes from.

Each :class:`Entry` has a **kind**:

* ``printed`` — an edition prints it; every such entry carries its :class:`Source` (edition,
  section, the printed text verbatim, the file and cell or line it was read from, a link). The
  sources were read from the editions' own repositories (commits below) for this ledger;
  ``docs/book_ledger.md`` is generated from this module.
* ``theory`` — exact by mathematics; the value here is computed from a closed form written in
  this module, independently of the experiment code that produces ours (this module imports
  nothing from the rest of trainlab but the result types).
* ``ours`` — no reference: our measurement, shown as such.

A band, where a comparison is statistical, comes with its **derivation** (how it was obtained).
Bands computed from a run (our seed spread, the least-squares floor) are passed with the number
(:class:`~trainlab.experiments.result.Number`) and described by the entry's derivation.

Editions: COURSE = CRuJia/Dive_into_Deep_Learning @ 2e5da319 (the 2020 course, Task06 notebooks
16–18); E1-PT = ShusenTang/Dive-into-DL-PyTorch @ 09c8bacc (the PyTorch port of the 1st Chinese
edition; its docs paste the outputs); E2 = d2l-zh (2nd Chinese edition), outputs from the
executed notebooks d2l-ai/d2l-zh-pytorch-colab @ 10243a27 (release 2.0.0); E3 = d2l-en, outputs
from d2l-ai/d2l-pytorch-colab @ f8543710 (release 1.0.3). The 1st edition's MXNet sources (d2l-zh
branch v1) store no outputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from trainlab.experiments.result import Number, Text

__all__ = ["ENTRIES", "Entry", "Source", "compare", "entry"]

Kind = Literal["printed", "theory", "ours"]

COURSE_URL = "https://github.com/CRuJia/Dive_into_Deep_Learning/blob/2e5da319b2ef7f78ea23e1dddf90f2aeea4a40e9/"
E1PT_URL = "https://github.com/ShusenTang/Dive-into-DL-PyTorch/blob/09c8bacc08599eb86236551454ba43b82cb91498/"
E2_URL = "https://zh.d2l.ai/"
E3_URL = "https://d2l.ai/"
E2_NOTEBOOKS = "d2l-ai/d2l-zh-pytorch-colab@10243a27"
E3_NOTEBOOKS = "d2l-ai/d2l-pytorch-colab@f8543710"
BN_NB, OPT_NB, GD_NB = "16.批量归一化和残差网络.ipynb", "17.凸优化.ipynb", "18.梯度下降.ipynb"

# the d2l pages each report section reproduces, in both current editions
PAGES: dict[str, tuple[tuple[str, str], ...]] = {
    "batchnorm": (
        ("E3 §8.5", E3_URL + "chapter_convolutional-modern/batch-norm.html"),
        ("E2 §7.5", E2_URL + "chapter_convolutional-modern/batch-norm.html"),
    ),
    "resnet": (
        ("E3 §8.6", E3_URL + "chapter_convolutional-modern/resnet.html"),
        ("E3 §8.7", E3_URL + "chapter_convolutional-modern/densenet.html"),
        ("E2 §7.6", E2_URL + "chapter_convolutional-modern/resnet.html"),
        ("E2 §7.7", E2_URL + "chapter_convolutional-modern/densenet.html"),
    ),
    "convexity": (
        ("E3 §12.1", E3_URL + "chapter_optimization/optimization-intro.html"),
        ("E3 §12.2", E3_URL + "chapter_optimization/convexity.html"),
        ("E2 §11.1", E2_URL + "chapter_optimization/optimization-intro.html"),
        ("E2 §11.2", E2_URL + "chapter_optimization/convexity.html"),
    ),
    "gradient_descent": (
        ("E3 §12.3", E3_URL + "chapter_optimization/gd.html"),
        ("E2 §11.3", E2_URL + "chapter_optimization/gd.html"),
    ),
    "sgd": (
        ("E3 §12.4", E3_URL + "chapter_optimization/sgd.html"),
        ("E2 §11.4", E2_URL + "chapter_optimization/sgd.html"),
    ),
    "minibatch_sgd": (
        ("E3 §12.5", E3_URL + "chapter_optimization/minibatch-sgd.html"),
        ("E2 §11.5", E2_URL + "chapter_optimization/minibatch-sgd.html"),
    ),
}


@dataclass(frozen=True)
class Source:
    """Where a printed number is: the edition, its section, the printed text verbatim, the file
    and cell (notebook) or line (markdown) it was read from, and a link."""

    edition: Literal["COURSE", "E1-PT", "E2", "E3"]
    section: str
    text: str
    location: str
    url: str

    def as_dict(self) -> dict[str, str]:
        return {
            "edition": self.edition,
            "section": self.section,
            "text": self.text,
            "location": self.location,
            "url": self.url,
        }


def course(notebook: str, cell: int, section: str, text: str) -> Source:
    return Source(
        "COURSE",
        f"COURSE {section}",
        text,
        f"CRuJia/Dive_into_Deep_Learning@2e5da319 {notebook} cell {cell}",
        COURSE_URL + notebook,
    )


def e1pt(path: str, lines: str, section: str, text: str) -> Source:
    return Source(
        "E1-PT",
        f"E1-PT {section}",
        text,
        f"ShusenTang/Dive-into-DL-PyTorch@09c8bacc {path} lines {lines}",
        E1PT_URL + f"{path}#L{lines.split('–')[0]}",
    )


def e2(page: str, cell: int, section: str, text: str) -> Source:
    return Source(
        "E2",
        f"E2 {section}",
        text,
        f"{E2_NOTEBOOKS} {page}.ipynb cell {cell}",
        E2_URL + page + ".html",
    )


def e3(page: str, cell: int, section: str, text: str) -> Source:
    return Source(
        "E3",
        f"E3 {section}",
        text,
        f"{E3_NOTEBOOKS} {page}.ipynb cell {cell}",
        E3_URL + page + ".html",
    )


@dataclass(frozen=True)
class Entry:
    """One compared quantity. ``book``: the printed value (as the text prints it) or the
    theory value; ``decimals``: the printed precision ours is rounded to before an exact
    comparison; ``tolerance``: a theory value's relative tolerance (rounding of the iterated
    computation); ``band``: a fixed band (derived as ``derivation`` says). ``judge="book"``
    places the book's one printed draw of a random run inside the spread of ours over many
    seeds (the band), instead of ours inside a band around the book's."""

    key: str
    label: Text
    kind: Kind
    book: float | list | str | None = None
    band: tuple[float, float] | None = None
    derivation: Text | None = None
    sources: tuple[Source, ...] = ()
    decimals: int | None = None
    tolerance: float = 0.0
    judge: Literal["ours", "book"] = "ours"  # whose value the band judges (see compare)


def _rounded(value, decimals: int | None):
    if decimals is None:
        return value
    if isinstance(value, list):
        return [_rounded(v, decimals) for v in value]
    return round(value, decimals) + 0.0  # + 0.0: −0.0 prints as the book's 0.0


def _close(ours, book, tolerance: float) -> bool:
    if isinstance(book, list):
        return (
            isinstance(ours, list)
            and len(ours) == len(book)
            and all(_close(a, b, tolerance) for a, b in zip(ours, book, strict=True))
        )
    return abs(ours - book) <= tolerance * max(1.0, abs(book))


def compare(entry_: Entry, number: Number) -> tuple[str, tuple[float, float] | None]:
    """The row's status and the band it was judged by: "printed · exact", "printed · within
    band", "theory · exact", "outside band", "mismatch" or "ours only"."""
    band = number.band if number.band is not None else entry_.band
    ours = number.ours
    if entry_.kind == "ours" or ours is None:
        return "ours only", band
    if band is not None:
        judged = entry_.book if entry_.judge == "book" else ours
        values = judged if isinstance(judged, list) else [judged]
        inside = all(band[0] <= float(v) <= band[1] for v in values)
        if not inside:
            return "outside band", band
        return f"{entry_.kind} · within band", band
    if entry_.kind == "theory" and entry_.tolerance:
        return (
            "theory · exact" if _close(ours, entry_.book, entry_.tolerance) else "mismatch"
        ), None
    equal = _rounded(ours, entry_.decimals) == entry_.book
    return (f"{entry_.kind} · exact" if equal else "mismatch"), None


def _t(en: str, zh: str) -> Text:
    return Text(en, zh)


def _walk(*shapes: tuple[int, ...]) -> list[list[int]]:
    return [list(s) for s in shapes]


# ---------------------------------------------------------------------------------------------
# Closed forms for the theory entries (independent of the experiments' iterations)
# ---------------------------------------------------------------------------------------------


def _gd_quadratic_norm(eta: float, steps: int = 50) -> float:
    """‖x_k‖ of GD on ½(x₁² + 10x₂²) from (1, 1): each coordinate is multiplied by (1 − ηλᵢ)."""
    return math.hypot((1 - eta) ** steps, (1 - 10 * eta) ** steps)


def _book_resnet18_parameters() -> int:
    """The book's ResNet-18 counted by hand: k²·cᵢ·cₒ + cₒ per conv (bias kept), 2c per BN,
    512·10 + 10 for the classifier."""
    conv = lambda k, ci, co: k * k * ci * co + co  # noqa: E731
    bn = lambda c: 2 * c  # noqa: E731
    total = conv(7, 1, 64) + bn(64)
    channels = 64
    for stage, width in enumerate((64, 128, 256, 512)):
        for block in range(2):
            first = block == 0 and stage > 0
            ci = channels if first else width
            total += conv(3, ci, width) + bn(width) + conv(3, width, width) + bn(width)
            if first:
                total += conv(1, ci, width)  # the 1×1 shortcut, without BN
        channels = width
    return total + 512 * 10 + 10


def _minibatch_variance(values: list[float], batch: int, replacement: bool) -> float:
    """σ²/B with replacement, σ²/B·(n − B)/(n − 1) without (σ² the population variance)."""
    n = len(values)
    mean = sum(values) / n
    sigma2 = sum((v - mean) ** 2 for v in values) / n
    return sigma2 / batch * (1 if replacement else (n - batch) / (n - 1))


# ---------------------------------------------------------------------------------------------
# The entries
# ---------------------------------------------------------------------------------------------

_BN = "§5.10 批量归一化"
_LENET_COURSE = course(
    BN_NB,
    9,
    "16 · 批量归一化 · 基于LeNet的应用",
    "epoch 5, loss 0.3045, train acc 0.895, test acc 0.870, time 5.9 sec",
)
_LENET_E1PT = e1pt(
    "docs/chapter05_CNN/5.10_batch-norm.md",
    "161–166",
    _BN,
    "epoch 5, loss 0.0012, train acc 0.891, test acc 0.859, time 2.8 sec",
)
_LENET_E2 = e2(
    "chapter_convolutional-modern/batch-norm",
    9,
    "§7.5.4 使用批量规范化层的 LeNet",
    "loss 0.273, train acc 0.899, test acc 0.807",
)
_CONCISE_E1PT = e1pt(
    "docs/chapter05_CNN/5.10_batch-norm.md",
    "217–222",
    "§5.10.3 简洁实现",
    "epoch 5, loss 0.0013, train acc 0.889, test acc 0.734, time 1.8 sec",
)
_CONCISE_E2 = e2(
    "chapter_convolutional-modern/batch-norm",
    15,
    "§7.5.5 简明实现",
    "loss 0.267, train acc 0.902, test acc 0.708",
)
_TRAINING_BAND = _t(
    "printed value ± 0.02: one seed of a stochastic run on other hardware (the printed epochs "
    "3–5 of the course's scratch run already span 0.851–0.870)",
    "书中数值 ± 0.02：单个随机种子、不同硬件上的随机训练（课程从零实现第 3–5 轮的测试精度已在 "
    "0.851–0.870 之间波动）",
)
_LOSS_BAND = _t(
    "printed value ± 0.03 (one seed, other hardware)", "书中数值 ± 0.03（单个随机种子、不同硬件）"
)


def _training(key, label, value, source, derivation=_TRAINING_BAND, width=0.02) -> Entry:
    return Entry(
        key, label, "printed", value, (value - width, value + width), derivation, (source,)
    )


_SHAPE_SOURCES = (
    course(BN_NB, 14, "16 · 残差网络 · 残差块", "torch.Size([4, 3, 6, 6])"),
    e1pt(
        "code/chapter05_CNN/5.11_resnet.ipynb",
        "0",
        "§5.11.2 残差块 (notebook cell 4)",
        "torch.Size([4, 3, 6, 6])",
    ),
    e2("chapter_convolutional-modern/resnet", 5, "§7.6.2 残差块", "torch.Size([4, 3, 6, 6])"),
    e3(
        "chapter_convolutional-modern/resnet",
        7,
        "§8.6.2 Residual Blocks",
        "torch.Size([4, 3, 6, 6])",
    ),
)
_SHAPE_1X1_SOURCES = (
    course(BN_NB, 15, "16 · 残差网络 · 残差块", "torch.Size([4, 6, 3, 3])"),
    e2("chapter_convolutional-modern/resnet", 7, "§7.6.2 残差块", "torch.Size([4, 6, 3, 3])"),
    e3(
        "chapter_convolutional-modern/resnet",
        9,
        "§8.6.2 Residual Blocks",
        "torch.Size([4, 6, 3, 3])",
    ),
)
_WALK_224 = """0  output shape:\t torch.Size([1, 64, 112, 112])
1  output shape:\t torch.Size([1, 64, 112, 112])
2  output shape:\t torch.Size([1, 64, 112, 112])
3  output shape:\t torch.Size([1, 64, 56, 56])
resnet_block1  output shape:\t torch.Size([1, 64, 56, 56])
resnet_block2  output shape:\t torch.Size([1, 128, 28, 28])
resnet_block3  output shape:\t torch.Size([1, 256, 14, 14])
resnet_block4  output shape:\t torch.Size([1, 512, 7, 7])
global_avg_pool  output shape:\t torch.Size([1, 512, 1, 1])
fc  output shape:\t torch.Size([1, 10])"""
_WALK_96 = """Sequential output shape:\t torch.Size([1, 64, 24, 24])
Sequential output shape:\t torch.Size([1, 64, 24, 24])
Sequential output shape:\t torch.Size([1, 128, 12, 12])
Sequential output shape:\t torch.Size([1, 256, 6, 6])
Sequential output shape:\t torch.Size([1, 512, 3, 3])
Sequential output shape:\t torch.Size([1, 10])"""
_DENSE_WALK = """0  output shape:\t torch.Size([1, 64, 48, 48])
1  output shape:\t torch.Size([1, 64, 48, 48])
2  output shape:\t torch.Size([1, 64, 48, 48])
3  output shape:\t torch.Size([1, 64, 24, 24])
DenseBlosk_0  output shape:\t torch.Size([1, 192, 24, 24])
transition_block_0  output shape:\t torch.Size([1, 96, 12, 12])
DenseBlosk_1  output shape:\t torch.Size([1, 224, 12, 12])
transition_block_1  output shape:\t torch.Size([1, 112, 6, 6])
DenseBlosk_2  output shape:\t torch.Size([1, 240, 6, 6])
transition_block_2  output shape:\t torch.Size([1, 120, 3, 3])
DenseBlosk_3  output shape:\t torch.Size([1, 248, 3, 3])
BN  output shape:\t torch.Size([1, 248, 3, 3])
relu  output shape:\t torch.Size([1, 248, 3, 3])
global_avg_pool  output shape:\t torch.Size([1, 248, 1, 1])
fc  output shape:\t torch.Size([1, 10])"""

_GD = "§7.2 梯度下降和随机梯度下降"
_GD_PAGE = "chapter_optimization/gd"


def _gd_printed(key, label, full, six, course_cell, e2_cell, e3_cell, e1pt_lines=None, tensor=None):
    """A deterministic GD/Newton number: COURSE (and E1-PT) print the float64 repr, E2/E3 six
    decimals or a float32 tensor; ours (float64, the book's hand-written derivatives) must equal
    the full repr bit for bit."""
    printed_six = tensor or f"epoch 10, x: {six}"
    sources = [course(GD_NB, course_cell, "18 · 梯度下降", f"epoch 10, x: {full!r}")]
    if e1pt_lines:
        sources.append(
            e1pt(
                "docs/chapter07_optimization/7.2_gd-sgd.md",
                e1pt_lines,
                _GD,
                f"epoch 10, x: {full!r}",
            )
        )
    sources.append(e2(_GD_PAGE, e2_cell, "§11.3 梯度下降", printed_six))
    sources.append(e3(_GD_PAGE, e3_cell, "§12.3 Gradient Descent", printed_six))
    return Entry(key, label, "printed", full, sources=tuple(sources))


_AIRFOIL_BAND = _t(
    "from the least-squares floor (no linear model does better) to the highest final loss of our "
    "run over its seeds; the book's printed losses should fall inside",
    "从最小二乘下界（线性模型无法更低）到本实验各随机种子中最高的最终损失；书中的损失应落在其中",
)
_MB = "chapter_optimization/minibatch-sgd"
_E1PT_MB = "docs/chapter07_optimization/7.3_minibatch-sgd.md"
_SGD_SPREAD = _t(
    "the min–max of our run over its seeds (the book's run is one unseeded draw; noise of "
    "std 1 in each gradient)",
    "本实验各随机种子的最小–最大值（书中只有一次未设种子的运行；每个梯度加标准差为 1 的噪声）",
)


def _airfoil(run: str, label: Text, printed: dict[str, tuple[float, Source]]) -> list[Entry]:
    """One airfoil run's final loss: an entry per edition that prints it, judged by the band
    passed with the number (floor to our seeds' max)."""
    entries = [Entry(f"airfoil.{run}.final_loss", label, "ours", derivation=_AIRFOIL_BAND)]
    for edition, (value, source) in printed.items():
        entries.append(
            Entry(
                f"airfoil.{run}.final_loss@{edition}",
                label,
                "printed",
                value,
                derivation=_AIRFOIL_BAND,
                sources=(source,),
                judge="book",
            )
        )
    return entries


def _sgd(run: str, steps: int, label: Text, printed: dict[str, tuple[list[float], Source]]):
    """One SGD simulation's final point, a row per coordinate: ours over seeds, the book's one
    printed draw placed in that spread."""
    entries = []
    for i, axis in enumerate(("x₁", "x₂")):
        row = Text(f"{label.en}: {axis}", f"{label.zh}：{axis}")
        entries.append(Entry(f"sgd.{run}.x{i + 1}", row, "ours", derivation=_SGD_SPREAD))
        for edition, (value, source) in printed.items():
            entries.append(
                Entry(
                    f"sgd.{run}.x{i + 1}@{edition}",
                    row,
                    "printed",
                    value[i],
                    derivation=_SGD_SPREAD,
                    sources=(source,),
                    judge="book",
                )
            )
    return entries


_SGD_PAGE = "chapter_optimization/sgd"

ENTRIES_LIST: list[Entry] = [
    # ---- batch normalization -------------------------------------------------------------
    Entry(
        "lenet_bn.scratch.test_acc",
        _t("LeNet-BN (from scratch): test accuracy", "LeNet-BN（从零实现）：测试精度"),
        "ours",
    ),
    Entry(
        "lenet_bn.scratch.train_acc",
        _t("LeNet-BN (from scratch): train accuracy", "LeNet-BN（从零实现）：训练精度"),
        "ours",
    ),
    Entry(
        "lenet_bn.scratch.loss",
        _t("LeNet-BN (from scratch): train loss", "LeNet-BN（从零实现）：训练损失"),
        "ours",
    ),
    Entry(
        "lenet_bn.concise.test_acc",
        _t("LeNet-BN (torch's BN): test accuracy", "LeNet-BN（简洁实现）：测试精度"),
        "ours",
    ),
    Entry(
        "lenet_bn.concise.train_acc",
        _t("LeNet-BN (torch's BN): train accuracy", "LeNet-BN（简洁实现）：训练精度"),
        "ours",
    ),
    Entry(
        "lenet_bn.concise.loss",
        _t("LeNet-BN (torch's BN): train loss", "LeNet-BN（简洁实现）：训练损失"),
        "ours",
    ),
    _training(
        "lenet_bn.scratch.test_acc@course",
        _t("LeNet-BN (from scratch): test accuracy", "LeNet-BN（从零实现）：测试精度"),
        0.870,
        _LENET_COURSE,
    ),
    _training(
        "lenet_bn.scratch.train_acc@course",
        _t("LeNet-BN (from scratch): train accuracy", "LeNet-BN（从零实现）：训练精度"),
        0.895,
        _LENET_COURSE,
    ),
    _training(
        "lenet_bn.scratch.loss@course",
        _t("LeNet-BN (from scratch): train loss", "LeNet-BN（从零实现）：训练损失"),
        0.3045,
        _LENET_COURSE,
        _LOSS_BAND,
        0.03,
    ),
    _training(
        "lenet_bn.scratch.test_acc@e1",
        _t("LeNet-BN (from scratch): test accuracy", "LeNet-BN（从零实现）：测试精度"),
        0.859,
        _LENET_E1PT,
    ),
    _training(
        "lenet_bn.scratch.train_acc@e1",
        _t("LeNet-BN (from scratch): train accuracy", "LeNet-BN（从零实现）：训练精度"),
        0.891,
        _LENET_E1PT,
    ),
    _training(
        "lenet_bn.scratch.test_acc@e2",
        _t("LeNet-BN (from scratch): test accuracy", "LeNet-BN（从零实现）：测试精度"),
        0.807,
        _LENET_E2,
        width=0.08,
    ),
    _training(
        "lenet_bn.scratch.train_acc@e2",
        _t("LeNet-BN (from scratch): train accuracy", "LeNet-BN（从零实现）：训练精度"),
        0.899,
        _LENET_E2,
    ),
    _training(
        "lenet_bn.scratch.loss@e2",
        _t("LeNet-BN (from scratch): train loss", "LeNet-BN（从零实现）：训练损失"),
        0.273,
        _LENET_E2,
        _LOSS_BAND,
        0.03,
    ),
    _training(
        "lenet_bn.concise.test_acc@e1",
        _t("LeNet-BN (torch's BN): test accuracy", "LeNet-BN（简洁实现）：测试精度"),
        0.734,
        _CONCISE_E1PT,
        width=0.12,
    ),
    _training(
        "lenet_bn.concise.train_acc@e1",
        _t("LeNet-BN (torch's BN): train accuracy", "LeNet-BN（简洁实现）：训练精度"),
        0.889,
        _CONCISE_E1PT,
    ),
    _training(
        "lenet_bn.concise.test_acc@e2",
        _t("LeNet-BN (torch's BN): test accuracy", "LeNet-BN（简洁实现）：测试精度"),
        0.708,
        _CONCISE_E2,
        width=0.15,
    ),
    _training(
        "lenet_bn.concise.train_acc@e2",
        _t("LeNet-BN (torch's BN): train accuracy", "LeNet-BN（简洁实现）：训练精度"),
        0.902,
        _CONCISE_E2,
    ),
    _training(
        "lenet_bn.concise.loss@e2",
        _t("LeNet-BN (torch's BN): train loss", "LeNet-BN（简洁实现）：训练损失"),
        0.267,
        _CONCISE_E2,
        _LOSS_BAND,
        0.03,
    ),
    Entry(
        "bn.identity",
        _t(
            "BN with γ = √(σ²+ε), β = μ returns its input: max |y − x|",
            "γ = √(σ²+ε)、β = μ 时批量归一化恒等：max |y − x|",
        ),
        "theory",
        0.0,
        derivation=_t(
            "y = γ·(x − μ)/√(σ²+ε) + β = x exactly; float64 rounding allowed",
            "y = γ·(x − μ)/√(σ²+ε) + β = x；允许 float64 舍入误差",
        ),
        tolerance=1e-12,
    ),
    Entry(
        "bn.output_variance",
        _t(
            "training-mode output variance per channel (σ² = 4e-5)",
            "训练模式输出的每通道方差（σ² = 4e-5）",
        ),
        "theory",
        4e-5 / (4e-5 + 1e-5),
        derivation=_t(
            "x̂ = (x − μ)/√(σ²+ε) has variance σ²/(σ²+ε) = 0.8 for σ² = 4e-5, ε = 1e-5",
            "x̂ 的方差为 σ²/(σ²+ε)，σ² = 4e-5、ε = 1e-5 时为 0.8",
        ),
        tolerance=1e-10,
    ),
    Entry(
        "bn.eval_independence",
        _t(
            "prediction mode: one sample's output with and without the "
            "rest of its batch, max difference",
            "预测模式：单个样本单独与随批输入的输出最大差",
        ),
        "theory",
        0.0,
        derivation=_t(
            "running statistics are constants in prediction mode",
            "预测模式使用移动平均，与批内其他样本无关",
        ),
        tolerance=1e-12,
    ),
    Entry(
        "bn.first_gamma",
        _t("first BN layer: learned γ (6 channels)", "第一个批量归一化层学到的 γ（6 个通道）"),
        "ours",
    ),
    Entry("bn.first_beta", _t("first BN layer: learned β", "第一个批量归一化层学到的 β"), "ours"),
    Entry(
        "ln.scale_invariance",
        _t(
            "layer norm: max |LN(αx + c) − LN(x)|, α = 7.5 (ε scaled by α²)",
            "层归一化：max |LN(αx + c) − LN(x)|，α = 7.5（ε 按 α² 缩放）",
        ),
        "theory",
        0.0,
        derivation=_t(
            "LN_{α²ε}(αx + c) = LN_ε(x) exactly for α > 0; float64 rounding allowed",
            "α > 0 时 LN_{α²ε}(αx + c) = LN_ε(x)；允许 float64 舍入误差",
        ),
        tolerance=1e-12,
    ),
    Entry(
        "ln.example_independence",
        _t(
            "layer norm: one example's output alone vs in its batch",
            "层归一化：单个样本单独与随批输入的输出最大差",
        ),
        "theory",
        0.0,
        derivation=_t(
            "LN normalizes each example over its own features",
            "层归一化在每个样本自身的特征上归一化",
        ),
        tolerance=1e-12,
    ),
    # ---- residual networks, ResNeXt, DenseNet ------------------------------------------------
    Entry(
        "resnet.residual_shape",
        _t(
            "Residual(3, 3) on (4, 3, 6, 6): output shape",
            "Residual(3, 3) 作用于 (4, 3, 6, 6) 的输出形状",
        ),
        "printed",
        [4, 3, 6, 6],
        sources=_SHAPE_SOURCES,
    ),
    Entry(
        "resnet.residual_1x1_shape",
        _t(
            "Residual(3, 6, use_1x1conv=True, stride=2): output shape",
            "Residual(3, 6, use_1x1conv=True, stride=2) 的输出形状",
        ),
        "printed",
        [4, 6, 3, 3],
        sources=_SHAPE_1X1_SOURCES,
    ),
    Entry(
        "resnet.walk_224",
        _t(
            "ResNet-18 walk of (1, 1, 224, 224): stem, pool, 4 stages, pool, fc",
            "ResNet-18 逐层输出形状（输入 (1, 1, 224, 224)）",
        ),
        "printed",
        _walk(
            (1, 64, 112, 112),
            (1, 64, 56, 56),
            (1, 64, 56, 56),
            (1, 128, 28, 28),
            (1, 256, 14, 14),
            (1, 512, 7, 7),
            (1, 512, 1, 1),
            (1, 10),
        ),
        sources=(
            course(BN_NB, 20, "16 · ResNet模型", _WALK_224),
            e1pt("docs/chapter05_CNN/5.11_resnet.md", "122–131", "§5.11.2 ResNet模型", _WALK_224),
        ),
    ),
    Entry(
        "resnet.walk_96",
        _t(
            "ResNet-18 walk of (1, 1, 96, 96): after the stem and each stage",
            "ResNet-18 逐层输出形状（输入 (1, 1, 96, 96)）",
        ),
        "printed",
        _walk(
            (1, 64, 24, 24),
            (1, 64, 24, 24),
            (1, 128, 12, 12),
            (1, 256, 6, 6),
            (1, 512, 3, 3),
            (1, 10),
        ),
        sources=(
            e3(
                "chapter_convolutional-modern/resnet",
                18,
                "§8.6.3 ResNet Model",
                _WALK_96,
            ),
        ),
    ),
    Entry(
        "resnet.parameters",
        _t("the book's ResNet-18: parameters", "书中 ResNet-18 的参数个数"),
        "theory",
        _book_resnet18_parameters(),
        derivation=_t(
            "counted by hand: k²·cᵢ·cₒ + cₒ per conv (bias kept), 2c per BN, the "
            "1×1 shortcuts without BN, 512·10 + 10 for the classifier",
            "手工计数：每个卷积 k²·cᵢ·cₒ + cₒ（含偏置），每个批量归一化 2c，1×1 捷径无"
            "批量归一化，分类层 512·10 + 10",
        ),
    ),
    Entry(
        "resnext.block_shape",
        _t(
            "the book's ResNeXtBlock(32, 16, 1) on (4, 32, 96, 96)",
            "书中 ResNeXtBlock(32, 16, 1) 作用于 (4, 32, 96, 96) 的输出形状",
        ),
        "printed",
        [4, 32, 96, 96],
        sources=(
            e3(
                "chapter_convolutional-modern/resnet",
                24,
                "§8.6.5 ResNeXt",
                "torch.Size([4, 32, 96, 96])",
            ),
        ),
    ),
    Entry(
        "resnext.cost_ratio",
        _t(
            "grouped 3×3 conv, 128 → 128 channels: parameters with g = 1 over g = 32",
            "分组 3×3 卷积（128 → 128 通道）：g = 1 与 g = 32 的参数比",
        ),
        "theory",
        32.0,
        derivation=_t(
            "k²·cᵢ·cₒ/g: the cost falls as 1/g (no bias)", "k²·cᵢ·cₒ/g：代价随 1/g 下降（无偏置）"
        ),
        tolerance=1e-12,
    ),
    Entry(
        "densenet.block_shape",
        _t(
            "DenseBlock(2, 3, 10) on (4, 3, 8, 8): output shape",
            "DenseBlock(2, 3, 10) 作用于 (4, 3, 8, 8) 的输出形状",
        ),
        "printed",
        [4, 23, 8, 8],
        sources=(
            course(BN_NB, 24, "16 · 稠密块", "torch.Size([4, 23, 8, 8])"),
            e2(
                "chapter_convolutional-modern/densenet",
                7,
                "§7.7.2 稠密块体",
                "torch.Size([4, 23, 8, 8])",
            ),
            e3(
                "chapter_convolutional-modern/densenet",
                9,
                "§8.7.2 Dense Blocks",
                "torch.Size([4, 23, 8, 8])",
            ),
        ),
    ),
    Entry(
        "densenet.transition_shape",
        _t("transition_block(23, 10): output shape", "transition_block(23, 10) 的输出形状"),
        "printed",
        [4, 10, 4, 4],
        sources=(
            course(BN_NB, 26, "16 · 过渡层", "torch.Size([4, 10, 4, 4])"),
            e2(
                "chapter_convolutional-modern/densenet",
                11,
                "§7.7.3 过渡层",
                "torch.Size([4, 10, 4, 4])",
            ),
            e3(
                "chapter_convolutional-modern/densenet",
                13,
                "§8.7.3 Transition Layers",
                "torch.Size([4, 10, 4, 4])",
            ),
        ),
    ),
    Entry(
        "densenet.channels_96",
        _t(
            "DenseNet at 96×96: channels after the stem and each block/transition",
            "DenseNet（96×96）：主干与各稠密块/过渡层后的通道数",
        ),
        "printed",
        [64, 192, 96, 224, 112, 240, 120, 248],
        sources=(
            course(BN_NB, 30, "16 · DenseNet模型", _DENSE_WALK),
            e1pt(
                "docs/chapter05_CNN/5.12_densenet.md",
                "135–149",
                "§5.12.3 DenseNet模型",
                _DENSE_WALK,
            ),
        ),
    ),
    Entry("resnet18.test_acc", _t("ResNet-18: test accuracy", "ResNet-18：测试精度"), "ours"),
    Entry("densenet.test_acc", _t("DenseNet: test accuracy", "DenseNet：测试精度"), "ours"),
    _training(
        "resnet18.test_acc@course",
        _t("ResNet-18: test accuracy", "ResNet-18：测试精度"),
        0.897,
        course(
            BN_NB,
            21,
            "16 · ResNet模型",
            "epoch 5, loss 0.2123, train acc 0.921, test acc 0.897, time 145.4 sec",
        ),
        _t(
            "printed value ± 0.03 (one seed; the notebook's execution order leaves its input "
            "size unconfirmed)",
            "书中数值 ± 0.03（单个种子；该笔记本的执行顺序使输入尺寸无法确认）",
        ),
        0.03,
    ),
    _training(
        "resnet18.test_acc@e1",
        _t("ResNet-18: test accuracy", "ResNet-18：测试精度"),
        0.926,
        e1pt(
            "docs/chapter05_CNN/5.11_resnet.md",
            "149–154",
            "§5.11.3 获取数据和训练模型",
            "epoch 5, loss 0.0006, train acc 0.944, test acc 0.926, time 31.5 sec",
        ),
    ),
    _training(
        "resnet18.test_acc@e2",
        _t("ResNet-18: test accuracy", "ResNet-18：测试精度"),
        0.893,
        e2(
            "chapter_convolutional-modern/resnet",
            19,
            "§7.6.4 训练模型",
            "loss 0.012, train acc 0.997, test acc 0.893",
        ),
        width=0.03,
    ),
    _training(
        "densenet.test_acc@e1",
        _t("DenseNet: test accuracy", "DenseNet：测试精度"),
        0.884,
        e1pt(
            "docs/chapter05_CNN/5.12_densenet.md",
            "167–172",
            "§5.12.4 获取数据并训练模型",
            "epoch 5, loss 0.0008, train acc 0.929, test acc 0.884, time 24.3 sec",
        ),
        width=0.04,
    ),
    _training(
        "densenet.test_acc@e2",
        _t("DenseNet: test accuracy", "DenseNet：测试精度"),
        0.885,
        e2(
            "chapter_convolutional-modern/densenet",
            19,
            "§7.7.5 训练模型",
            "loss 0.140, train acc 0.948, test acc 0.885",
        ),
        width=0.04,
    ),
    Entry(
        "densenet.peak_memory_ratio",
        _t(
            "training-step peak memory, DenseNet over ResNet-18, same input",
            "训练一步的峰值内存：DenseNet 与 ResNet-18 之比（相同输入）",
        ),
        "ours",
    ),
    # ---- optimization and convexity ------------------------------------------------------------
    Entry(
        "tanh_gradient_at_4",
        _t("tanh′(4) = 1 − tanh²(4): the vanishing gradient", "tanh′(4) = 1 − tanh²(4)：梯度消失"),
        "printed",
        0.0013,
        decimals=4,
        sources=(
            Source(
                "E3",
                "E3 §12.1.2.3 Vanishing Gradients",
                "the gradient of f is close to nil. More specifically, f'(x) = 1 - "
                "tanh^2(x) and thus f'(4) = 0.0013",
                "d2l-ai/d2l-en@23d7a5ae chapter_optimization/optimization-intro.md line 206",
                E3_URL + "chapter_optimization/optimization-intro.html",
            ),
        ),
    ),
    Entry(
        "saddle.eigenvalues",
        _t("x² − y² at the origin: Hessian eigenvalues", "x² − y² 在原点：黑塞矩阵特征值"),
        "theory",
        [-2.0, 2.0],
        derivation=_t(
            "∇²(x² − y²) = diag(2, −2): mixed signs, a saddle point",
            "∇²(x² − y²) = diag(2, −2)：符号相异，是鞍点",
        ),
        tolerance=1e-12,
    ),
    Entry(
        "saddle.random_pd_fraction",
        _t(
            "fraction of random symmetric 4×4 matrices that are positive definite",
            "随机 4×4 对称矩阵为正定的比例",
        ),
        "ours",
        derivation=_t(
            "the book's 0.5^k argument would give 0.0625 for k = 4; eigenvalues of a "
            "random matrix are not independent, so the simulated fraction is far "
            "smaller",
            "书中 0.5^k 论证给出 k = 4 时 0.0625；随机矩阵的特征值并不独立，模拟所得比例小得多",
        ),
    ),
    Entry("convexity.check", _t("convexity check", "凸性检验"), "ours"),
    # ---- gradient descent ----------------------------------------------------------------------
    _gd_printed(
        "gd.x2.eta0.2",
        _t("GD on x², η = 0.2, 10 steps from 10: x", "梯度下降 x²，η = 0.2"),
        0.06046617599999997,
        "0.060466",
        5,
        6,
        6,
        "55",
    ),
    _gd_printed(
        "gd.x2.eta0.05",
        _t("GD on x², η = 0.05: x", "梯度下降 x²，η = 0.05"),
        3.4867844009999995,
        "3.486784",
        8,
        10,
        10,
        "87",
    ),
    _gd_printed(
        "gd.x2.eta1.1",
        _t("GD on x², η = 1.1 (diverges): x", "梯度下降 x²，η = 1.1（发散）"),
        61.917364224000096,
        "61.917364",
        9,
        12,
        12,
        "102",
    ),
    _gd_printed(
        "gd.xcos.eta2",
        _t("GD on x·cos(0.15πx), η = 2: x", "梯度下降 x·cos(0.15πx)，η = 2"),
        -1.528165927635083,
        "-1.528166",
        12,
        14,
        14,
    ),
    Entry(
        "gd.2d",
        _t(
            "GD on x₁² + 2x₂², η = 0.1, 20 steps from (−5, −2): (x₁, x₂)",
            "二维梯度下降 x₁² + 2x₂²，η = 0.1，20 步：(x₁, x₂)",
        ),
        "printed",
        [-0.057646, -0.000073],
        decimals=6,
        sources=(
            course(GD_NB, 17, "18 · 多维梯度下降", "epoch 20, x1 -0.057646, x2 -0.000073"),
            e1pt(
                "docs/chapter07_optimization/7.2_gd-sgd.md",
                "167",
                "§7.2.3 多维梯度下降",
                "epoch 20, x1 -0.057646, x2 -0.000073",
            ),
            e2(_GD_PAGE, 19, "§11.3.2 多元梯度下降", "epoch 20, x1: -0.057646, x2: -0.000073"),
            e3(
                _GD_PAGE,
                19,
                "§12.3.2 Multivariate Gradient Descent",
                "epoch 20, x1: -0.057646, x2: -0.000073",
            ),
        ),
    ),
    Entry(
        "gd.2d.theory",
        _t("the same, against (−5·0.8²⁰, −2·0.6²⁰)", "同上，与闭式解 (−5·0.8²⁰, −2·0.6²⁰) 比较"),
        "theory",
        [-5 * 0.8**20, -2 * 0.6**20],
        derivation=_t(
            "each coordinate is multiplied by (1 − 2η) and (1 − 4η) per step",
            "每步两坐标分别乘以 (1 − 2η) 与 (1 − 4η)",
        ),
        tolerance=1e-14,
    ),
    _gd_printed(
        "newton.cosh",
        _t("Newton on cosh(0.5x), 10 steps from 10: x", "牛顿法 cosh(0.5x)：x"),
        0.0,
        "0.0",
        21,
        21,
        21,
        tensor="epoch 10, x: tensor(0.)",
    ),
    _gd_printed(
        "newton.xcos.eta1",
        _t(
            "Newton on x·cos(0.15πx), η = 1 (goes uphill): x",
            "牛顿法 x·cos(0.15πx)，η = 1（走向极大值）：x",
        ),
        26.83413291324767,
        "26.8341",
        22,
        23,
        23,
        tensor="epoch 10, x: tensor(26.8341)",
    ),
    _gd_printed(
        "newton.xcos.eta0.5",
        _t("Newton on x·cos(0.15πx), η = 0.5: x", "牛顿法 x·cos(0.15πx)，η = 0.5：x"),
        7.269860168684531,
        "7.2699",
        23,
        25,
        25,
        tensor="epoch 10, x: tensor(7.2699)",
    ),
    *[
        Entry(
            f"gd.quadratic.eta{eta:.4g}",
            _t(
                f"GD on ½(x₁² + 10x₂²) from (1, 1), η = {eta:.4g}: ‖x₅₀‖",
                f"梯度下降 ½(x₁² + 10x₂²)，η = {eta:.4g}：‖x₅₀‖",
            ),
            "theory",
            _gd_quadratic_norm(eta),
            derivation=_t(
                "‖((1 − η)⁵⁰, (1 − 10η)⁵⁰)‖: converges iff η < 2/L = 0.2; "
                "best η = 2/(μ + L) = 2/11",
                "‖((1 − η)⁵⁰, (1 − 10η)⁵⁰)‖：η < 2/L = 0.2 时收敛；最优 η = 2/(μ + L) = 2/11",
            ),
            tolerance=1e-11,
        )
        for eta in (0.05, 0.1, 0.19, 2 / 11, 0.2, 0.21)
    ],
    Entry(
        "gd.preconditioned",
        _t(
            "diag(H)⁻¹-preconditioned GD on ½(x₁² + 10x₂²), η = 1: f after one step",
            "对角预条件梯度下降，η = 1：一步后的 f",
        ),
        "theory",
        0.0,
        derivation=_t(
            "on an axis-aligned quadratic, diag(H) = H: one Newton step",
            "坐标轴对齐的二次函数上 diag(H) = H，一步即牛顿步",
        ),
        tolerance=1e-15,
    ),
    Entry(
        "gd.preconditioned.rotated",
        _t(
            "the same quadratic rotated by 45°: f after one step",
            "旋转 45° 后的同一二次函数：一步后的 f",
        ),
        "ours",
        derivation=_t(
            "exercise 12.3.5: after the rotation diag(H) is no longer H",
            "练习 12.3.5：旋转后 diag(H) 不再等于 H",
        ),
    ),
    Entry(
        "linesearch.exact_step",
        _t("exact line search on ½(x₁² + 10x₂²) from (1, 1): first step", "精确线搜索的第一步步长"),
        "theory",
        101 / 1001,
        derivation=_t(
            "η = gᵀg/gᵀAg with g = (1, 10), A = diag(1, 10): 101/1001",
            "η = gᵀg/gᵀAg，g = (1, 10)，A = diag(1, 10)：101/1001",
        ),
        tolerance=1e-15,
    ),
    Entry(
        "linesearch.backtracking",
        _t(
            "backtracking (α = 0.3, β = 0.5) steps from (1, 1)",
            "回溯线搜索（α = 0.3，β = 0.5）的步长",
        ),
        "ours",
    ),
    Entry(
        "linesearch.bisection",
        _t(
            "bisection line search (exercise 12.3.2) on log(eˣ + e^(−2x−3)): minimizer",
            "二分线搜索（练习 12.3.2）log(eˣ + e^(−2x−3)) 的极小点",
        ),
        "theory",
        (math.log(2) - 3) / 3,
        derivation=_t(
            "the derivative vanishes where eˣ = 2e^(−2x−3): x* = (ln 2 − 3)/3",
            "导数为零处 eˣ = 2e^(−2x−3)：x* = (ln 2 − 3)/3",
        ),
        tolerance=1e-8,
    ),
    Entry(
        "newton.error_ratio",
        _t(
            "Newton on eˣ − 2x: last error ratio e_{k+1}/e_k²",
            "牛顿法 eˣ − 2x：误差比 e_{k+1}/e_k²",
        ),
        "theory",
        0.5,
        derivation=_t(
            'f‴/(2f″) at ln 2 = 1/2: quadratic convergence (the book calls it "linear": erratum)',
            "ln 2 处 f‴/(2f″) = 1/2：二次收敛（书中称“线性”，为勘误）",
        ),
        tolerance=2e-2,
    ),
    # ---- stochastic gradient descent -----------------------------------------------------------
    *_sgd(
        "constant",
        50,
        _t("SGD, constant η = 0.1, 50 steps: final point", "随机梯度下降，常数学习率，50 步：终点"),
        {
            "course": (
                [-0.212807, 0.382566],
                course(
                    GD_NB, 33, "18 · 随机梯度下降参数更新", "epoch 50, x1 -0.212807, x2 0.382566"
                ),
            ),
            "e2": (
                [0.020569, 0.227895],
                e2(_SGD_PAGE, 7, "§11.4.1 随机梯度更新", "epoch 50, x1: 0.020569, x2: 0.227895"),
            ),
            "e3": (
                [0.225517, -0.076646],
                e3(
                    _SGD_PAGE,
                    7,
                    "§12.4.1 Stochastic Gradient Updates",
                    "epoch 50, x1: 0.225517, x2: -0.076646",
                ),
            ),
        },
    ),
    *_sgd(
        "exponential",
        1000,
        _t(
            "SGD, η_t = 0.1·e^(−0.1t), 1000 steps: final point",
            "随机梯度下降，指数衰减，1000 步：终点",
        ),
        {
            "course": (
                [-0.996274, -0.055413],
                course(GD_NB, 36, "18 · 动态学习率", "epoch 1000, x1 -0.996274, x2 -0.055413"),
            ),
            "e2": (
                [-0.998659, 0.023408],
                e2(_SGD_PAGE, 9, "§11.4.2 动态学习率", "epoch 1000, x1: -0.998659, x2: 0.023408"),
            ),
            "e3": (
                [-0.758829, -0.115584],
                e3(
                    _SGD_PAGE,
                    9,
                    "§12.4.2 Dynamic Learning Rate",
                    "epoch 1000, x1: -0.758829, x2: -0.115584",
                ),
            ),
        },
    ),
    *_sgd(
        "polynomial",
        50,
        _t(
            "SGD, η_t = 0.1·(1 + 0.1t)^(−0.5), 50 steps: final point",
            "随机梯度下降，多项式衰减，50 步：终点",
        ),
        {
            "course": (
                [0.138980, -0.053174],
                course(GD_NB, 37, "18 · 动态学习率", "epoch 50, x1 0.138980, x2 -0.053174"),
            ),
            "e2": (
                [-0.174174, -0.000615],
                e2(_SGD_PAGE, 11, "§11.4.2 动态学习率", "epoch 50, x1: -0.174174, x2: -0.000615"),
            ),
            "e3": (
                [0.144834, 0.041688],
                e3(
                    _SGD_PAGE,
                    11,
                    "§12.4.2 Dynamic Learning Rate",
                    "epoch 50, x1: 0.144834, x2: 0.041688",
                ),
            ),
        },
    ),
    *_sgd(
        "constant20",
        20,
        _t("SGD, constant η = 0.1, 20 steps: final point", "随机梯度下降，常数学习率，20 步：终点"),
        {
            "e1": (
                [-0.047150, -0.075628],
                e1pt(
                    "docs/chapter07_optimization/7.2_gd-sgd.md",
                    "206",
                    "§7.2.4 随机梯度下降",
                    "epoch 20, x1 -0.047150, x2 -0.075628",
                ),
            ),
        },
    ),
    Entry(
        "schedule.exponential.first",
        _t("the book's exponential schedule: first rates η₁..η₄", "书中指数衰减的前四个学习率"),
        "theory",
        [0.1 * math.exp(-0.1 * t) for t in (2, 3, 4, 5)],
        derivation=_t(
            "the book's code sets t = 1 and increments it before use: η = 0.1·e^(−0.1·t) for "
            "t = 2, 3, …",
            "书中代码令 t = 1 并在使用前自增：t = 2, 3, … 时 η = 0.1·e^(−0.1·t)",
        ),
        tolerance=1e-15,
    ),
    Entry(
        "schedule.polynomial.first",
        _t("the book's polynomial schedule: first rates η₁..η₄", "书中多项式衰减的前四个学习率"),
        "theory",
        [0.1 * (1 + 0.1 * t) ** -0.5 for t in (2, 3, 4, 5)],
        derivation=_t(
            "as above, η = 0.1·(1 + 0.1·t)^(−0.5) for t = 2, 3, …",
            "同上，t = 2, 3, … 时 η = 0.1·(1 + 0.1·t)^(−0.5)",
        ),
        tolerance=1e-15,
    ),
    Entry(
        "sampling.at_least_once",
        _t(
            "P(an example is drawn at least once in n draws, n = 1500)",
            "n = 1500 次有放回抽样中某样本至少被抽到一次的概率",
        ),
        "printed",
        0.63,
        decimals=2,
        sources=(
            Source(
                "E3",
                "E3 §12.4.4 Stochastic Gradients and Finite Samples",
                "the probability of choosing an element at least once is ... ≈ 1 − e^(−1) ≈ 0.63",
                "d2l-ai/d2l-en@23d7a5ae chapter_optimization/sgd.md lines 263–267",
                E3_URL + "chapter_optimization/sgd.html",
            ),
        ),
    ),
    Entry(
        "sampling.exactly_once",
        _t("P(drawn exactly once in n draws, n = 1500)", "n = 1500 次抽样中恰好被抽到一次的概率"),
        "printed",
        0.37,
        decimals=2,
        sources=(
            Source(
                "E3",
                "E3 §12.4.4 Stochastic Gradients and Finite Samples",
                "picking some sample (i.e., training example) exactly once is given by ... ≈ 0.37",
                "d2l-ai/d2l-en@23d7a5ae chapter_optimization/sgd.md lines 263–267",
                E3_URL + "chapter_optimization/sgd.html",
            ),
        ),
    ),
    Entry(
        "sampling.simulated",
        _t(
            "simulated share of examples drawn at least once (1500 draws × 200 epochs)",
            "模拟：至少被抽到一次的样本比例",
        ),
        "ours",
    ),
    Entry(
        "sgd.running_mean",
        _t(
            "SGD with η_t = 1/t on ½(x − ξ_t)²: max |x_t − mean(ξ_1..t)|",
            "η_t = 1/t 的随机梯度下降与滑动平均的最大差",
        ),
        "theory",
        0.0,
        derivation=_t(
            "x_t = x_{t−1} − (x_{t−1} − ξ_t)/t is the running mean exactly",
            "x_t = x_{t−1} − (x_{t−1} − ξ_t)/t 恰为滑动平均",
        ),
        tolerance=1e-12,
    ),
    Entry(
        "sgd.convex_bound",
        _t(
            "SGD on a convex quadratic with η = r/(L√T): measured gap to the "
            "optimum over the bound rL/√T",
            "凸二次函数上 η = r/(L√T) 的随机梯度下降：实测差距与上界 rL/√T 之比",
        ),
        "ours",
        derivation=_t("the bound must hold: the ratio stays ≤ 1", "上界成立时比值 ≤ 1"),
    ),
    # ---- minibatch SGD -------------------------------------------------------------------------
    *_airfoil(
        "gd",
        _t("GD (batch 1500, lr 1): final loss", "梯度下降（批量 1500，lr 1）：最终损失"),
        {
            "course": (
                0.243876,
                course(GD_NB, 47, "18 · 从零开始实现", "loss: 0.243876, 0.009192 sec per epoch"),
            ),
            "e1": (
                0.243605,
                e1pt(
                    _E1PT_MB, "108", "§7.3.2 从零开始实现", "loss: 0.243605, 0.014335 sec per epoch"
                ),
            ),
            "e2": (0.243, e2(_MB, 19, "§11.5.4 从零开始实现", "loss: 0.243, 0.055 sec/epoch")),
            "e3": (
                0.247,
                e3(_MB, 21, "§12.5.4 Implementation from Scratch", "loss: 0.247, 0.020 sec/epoch"),
            ),
        },
    ),
    *_airfoil(
        "sgd",
        _t("SGD (batch 1, lr 0.005): final loss", "随机梯度下降（批量 1）：最终损失"),
        {
            "course": (
                0.242848,
                course(GD_NB, 48, "18 · 从零开始实现", "loss: 0.242848, 0.438754 sec per epoch"),
            ),
            "e1": (
                0.243433,
                e1pt(
                    _E1PT_MB, "121", "§7.3.2 从零开始实现", "loss: 0.243433, 0.270011 sec per epoch"
                ),
            ),
            "e2": (0.246, e2(_MB, 21, "§11.5.4 从零开始实现", "loss: 0.246, 0.102 sec/epoch")),
            "e3": (
                0.245,
                e3(_MB, 23, "§12.5.4 Implementation from Scratch", "loss: 0.245, 0.685 sec/epoch"),
            ),
        },
    ),
    *_airfoil(
        "minibatch100",
        _t("minibatch 100 (lr 0.4): final loss", "小批量 100（lr 0.4）：最终损失"),
        {
            "e2": (0.243, e2(_MB, 23, "§11.5.4 从零开始实现", "loss: 0.243, 0.003 sec/epoch")),
            "e3": (
                0.246,
                e3(_MB, 25, "§12.5.4 Implementation from Scratch", "loss: 0.246, 0.025 sec/epoch"),
            ),
        },
    ),
    *_airfoil(
        "minibatch10",
        _t("minibatch 10 (lr 0.05): final loss", "小批量 10（lr 0.05）：最终损失"),
        {
            "course": (
                0.243900,
                course(GD_NB, 49, "18 · 从零开始实现", "loss: 0.243900, 0.065017 sec per epoch"),
            ),
            "e1": (
                0.242805,
                e1pt(
                    _E1PT_MB, "137", "§7.3.2 从零开始实现", "loss: 0.242805, 0.078792 sec per epoch"
                ),
            ),
            "e2": (0.243, e2(_MB, 25, "§11.5.4 从零开始实现", "loss: 0.243, 0.013 sec/epoch")),
            "e3": (
                0.246,
                e3(_MB, 27, "§12.5.4 Implementation from Scratch", "loss: 0.246, 0.090 sec/epoch"),
            ),
        },
    ),
    *_airfoil(
        "concise",
        _t("concise (torch.optim.SGD): final loss", "简洁实现（torch.optim.SGD）：最终损失"),
        {
            "course": (
                0.246581,
                course(GD_NB, 52, "18 · 简洁实现", "loss: 0.246581, 0.049785 sec per epoch"),
            ),
            "e1": (
                0.245491,
                e1pt(_E1PT_MB, "190", "§7.3.3 简洁实现", "loss: 0.245491, 0.044150 sec per epoch"),
            ),
            "e2": (0.243, e2(_MB, 31, "§11.5.5 简洁实现", "loss: 0.243, 0.015 sec/epoch")),
            "e3": (
                0.243,
                e3(_MB, 33, "§12.5.5 Concise Implementation", "loss: 0.243, 0.096 sec/epoch"),
            ),
        },
    ),
    Entry("airfoil.floor", _t("least-squares floor of ½·mean (ŷ − y)²", "最小二乘下界"), "ours"),
    *[
        Entry(
            f"minibatch.variance.B{b}.{'with' if w else 'without'}",
            _t(
                f"variance of the mean of B = {b} of the gradients {{1, 2, 3, 4}}, "
                f"{'with' if w else 'without'} replacement",
                f"从 {{1, 2, 3, 4}} 中{'有' if w else '无'}放回取 B = {b} 个梯度的均值方差",
            ),
            "theory",
            _minibatch_variance([1, 2, 3, 4], b, w),
            derivation=_t(
                "σ²/B with replacement, σ²/B·(n − B)/(n − 1) without; ours enumerates "
                "every equally likely batch",
                "有放回 σ²/B，无放回 σ²/B·(n − B)/(n − 1)；我们枚举所有等可能的批量",
            ),
            tolerance=1e-12,
        )
        for b in (2, 4)
        for w in (False, True)
    ],
    *[
        Entry(
            f"vectorization.{kind}",
            _t(
                f"256×256 matrix product, {kind}: GFLOP/s on this machine",
                f"256×256 矩阵乘法（{kind}）：本机 GFLOP/s",
            ),
            "ours",
            derivation=_t(
                "2·256³ flops over the measured time; the book's own machines print "
                "other absolute numbers: the claim is the ratios",
                "2·256³ 次浮点运算除以实测时间；书中机器的绝对数值不同，结论在于比值",
            ),
        )
        for kind in ("element", "column", "full", "block64")
    ],
    Entry(
        "vectorization.peak",
        _t(
            "large sgemm (2048³): GFLOP/s, this machine's practical peak",
            "大矩阵乘法（2048³）：本机实际峰值 GFLOP/s",
        ),
        "ours",
    ),
    Entry(
        "vectorization.bandwidth",
        _t("memory bandwidth (copy of 256 MiB): GB/s", "内存带宽（复制 256 MiB）：GB/s"),
        "ours",
    ),
    Entry(
        "vectorization.book_gflops",
        _t(
            'E2\'s printed "full" GFLOP/s, recomputed with 2·256³ flops',
            "E2 打印的 full GFLOP/s 按 2·256³ 次运算重算",
        ),
        "theory",
        195.625 * 2 * 256**3 / 2e9,
        derivation=_t(
            "E2 divides 2 (GFLOP) by the time; the product costs 2·256³ = 0.0336 GFLOP, "
            "so its rates are 59.6× too high (erratum)",
            "E2 以 2 GFLOP 除以时间；实际运算量 "
            "2·256³ = 0.0336 GFLOP，故其数值偏高 59.6 倍（勘误）",
        ),
        sources=(
            e2(
                _MB,
                9,
                "§11.5.1 向量化和缓存",
                "performance in Gigaflops: element 1.204, column 88.542, full 195.625",
            ),
        ),
        tolerance=1e-12,
    ),
    Entry(
        "airfoil.epoch_seconds",
        _t("time per epoch by batch size", "不同批量大小的每轮时间"),
        "ours",
    ),
]

ENTRIES: dict[str, Entry] = {e.key: e for e in ENTRIES_LIST}
if len(ENTRIES) != len(ENTRIES_LIST):  # pragma: no cover - a typo in the table above
    raise RuntimeError("duplicate ledger keys")


def entry(key: str) -> Entry:
    """The ledger entry for ``key``; an edition-specific key (``…@e2``) the ledger lacks falls
    back to its edition-free ``ours`` entry (that edition prints no such number)."""
    if key in ENTRIES:
        return ENTRIES[key]
    base = key.split("@", 1)[0]
    if base in ENTRIES:
        return ENTRIES[base]
    raise KeyError(f"no ledger entry {key!r}; add one to trainlab/experiments/book.py")
