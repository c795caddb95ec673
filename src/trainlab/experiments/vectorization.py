"""Vectorization and caches (the minibatch-SGD section's argument for minibatches): the same
256×256 float32 matrix product computed element by element, column by column, in 64-column
blocks and at once, beside this machine's practical peak (a large sgemm) and its memory
bandwidth.

These are measurements of this machine (kind ``ours``): the book's machines printed other
absolute numbers, and E2 computed its rates wrongly (see the errata). The claim is the ratios:
one call per element wastes the processor, a whole product per call approaches its peak.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from trainlab.experiments.figures import new_figure
from trainlab.experiments.result import Lang, Number, Plot, Result, Text
from trainlab.experiments.settings import Context

__all__ = ["EXPERIMENTS", "gflops", "matrix_products"]

N = 256
FLOPS = 2 * N**3  # a multiply and an add per term: 33,554,432


def _seconds(fn: Callable[[], object], repeats: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        tic = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - tic)
    return statistics.median(samples)


def gflops(seconds: float, flops: float = FLOPS) -> float:
    return flops / seconds / 1e9


def matrix_products(ctx: Context) -> Result:
    repeats = 3 if ctx.settings.profile == "smoke" else 7
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    A = torch.zeros(N, N)
    B, C = torch.randn(N, N, generator=gen), torch.randn(N, N, generator=gen)
    rows = 8 if ctx.settings.profile == "smoke" else N  # element-wise is slow: time a slice

    def element():
        for i in range(rows):
            for j in range(N):
                A[i, j] = torch.dot(B[i, :], C[:, j])

    def column():
        for j in range(N):
            A[:, j] = torch.mv(B, C[:, j])

    def block():
        for j in range(0, N, 64):
            A[:, j : j + 64] = torch.mm(B, C[:, j : j + 64])

    def full():
        torch.mm(B, C, out=A)

    rates = {
        "element": gflops(_seconds(element, 1 if rows == N else repeats) * N / rows),
        "column": gflops(_seconds(column, repeats)),
        "block64": gflops(_seconds(block, repeats)),
        "full": gflops(_seconds(full, repeats * 10)),
    }
    torch.mm(B, C, out=A)
    assert torch.allclose(A, B @ C)
    big = torch.randn(2048, 2048, generator=gen)
    peak = gflops(_seconds(lambda: torch.mm(big, big), repeats), 2 * 2048**3)
    source = torch.empty(64 * 2**20)  # 256 MiB
    target = torch.empty_like(source)
    bandwidth = 2 * source.numel() * 4 / _seconds(lambda: target.copy_(source), repeats) / 1e9
    names = {
        "element": Text("element", "逐元素"),
        "column": Text("column", "逐列"),
        "block64": Text("64-column blocks", "64 列分块"),
        "full": Text("full", "整体"),
    }

    def draw(lang: Lang):
        fig, ax = new_figure()
        ax.bar([names[k](lang) for k in rates], list(rates.values()), color="C0")
        ax.axhline(
            peak,
            color="C3",
            linestyle="--",
            label=Text("large sgemm (peak)", "大矩阵乘法（峰值）")(lang),
        )
        ax.set(yscale="log", ylabel="GFLOP/s")
        ax.legend()
        return fig

    ratio = rates["full"] / rates["element"]
    return Result(
        "vectorization",
        [
            *[Number(f"vectorization.{k}", v) for k, v in rates.items()],
            Number("vectorization.peak", peak),
            Number("vectorization.bandwidth", bandwidth),
        ],
        [
            Plot(
                "vectorization",
                draw,
                Text(
                    f"the whole product at once runs {ratio:,.0f}× faster than element by element "
                    f"({rates['full']:.1f} vs {rates['element']:.3f} GFLOP/s) and reaches "
                    f"{rates['full'] / peak:.0%} of this machine's large-matrix peak ({peak:.0f} GFLOP/s)",
                    f"整体计算比逐元素快 {ratio:,.0f} 倍（{rates['full']:.1f} 对 {rates['element']:.3f} GFLOP/s），"
                    f"达到本机大矩阵峰值（{peak:.0f} GFLOP/s）的 {rates['full'] / peak:.0%}",
                ),
                Text(
                    "GFLOP/s of four ways to compute a 256×256 matrix product, log scale",
                    "256×256 矩阵乘法四种计算方式的 GFLOP/s（对数坐标）",
                ),
            )
        ],
    )


EXPERIMENTS = (matrix_products,)
