"""Exercises of d2l §12.5 (minibatch SGD) on the airfoil linear regression: a batch-size ×
learning-rate grid with the book's own training loop (timed), a learning rate divided by 10
after every epoch through ``torch.optim.lr_scheduler.StepLR``, minibatches drawn with
replacement, and a data set secretly duplicated. The seed spreads come from
:func:`~trainlab.experiments.exercises.sgd.linear_sgd`, which runs all seeds side by side."""

from __future__ import annotations

import math
import time

import torch

from trainlab.experiments.editions import AirfoilRun
from trainlab.experiments.exercises.sgd import linear_sgd
from trainlab.experiments.figures import blank_figure, epoch_axis, new_figure
from trainlab.experiments.minibatch_sgd import least_squares_floor, train
from trainlab.experiments.result import ExerciseSpec, Lang, Plot, Text
from trainlab.experiments.settings import Context

__all__ = ["EXERCISES", "step_lr_rates"]


def _epochs(ctx: Context, smoke: int, quick: int, book: int) -> int:
    return {"smoke": smoke, "quick": quick, "book": book}[ctx.settings.profile]


def _median(t: torch.Tensor) -> torch.Tensor:
    """The median over seeds (dim 0) of (seeds, epochs + 1) losses."""
    return t.median(0).values


# 12.5.1 ------------------------------------------------------------------------------------


def grid(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.5.1: the book's timed minibatch SGD over batch sizes × learning rates on the airfoil
    regression."""
    data = ctx.airfoil()
    epochs = _epochs(ctx, 1, 2, 5)
    batches, rates = (1, 10, 100, 1500), (0.01, 0.1, 1.0)
    floor = least_squares_floor(data)
    loss, seconds = {}, {}
    for batch in batches:
        for lr in rates:
            run = train(
                AirfoilRun(f"b{batch}_lr{lr:g}", lr, batch, epochs), data, ctx.settings.seed
            )
            final = run.final_loss
            loss[(batch, lr)] = (
                final if math.isfinite(final) and final < 10 * run.losses[0] else None
            )
            seconds[(batch, lr)] = run.seconds[-1] / epochs
    per_epoch = {b: sorted(seconds[(b, lr)] for lr in rates)[len(rates) // 2] for b in batches}
    best = {
        b: min(
            (lr for lr in rates if loss[(b, lr)] is not None),
            key=lambda lr: loss[(b, lr)],
            default=None,
        )
        for b in batches
    }

    def cell(batch: int, lr: float, lang: Lang) -> str:
        value = loss[(batch, lr)]
        return (
            f"lr {lr:g}: {value:.4f}"
            if value is not None
            else f"lr {lr:g}: {Text('diverged', '发散')(lang)}"
        )

    def table(lang: Lang) -> str:
        unit = Text("ms/epoch", "毫秒/轮")(lang)
        return "; ".join(
            f"{Text('batch', '批量')(lang)} {b} ({per_epoch[b] * 1e3:.1f} {unit}): "
            + ", ".join(cell(b, lr, lang) for lr in rates)
            for b in batches
        )

    def draw(lang: Lang):
        fig = blank_figure(9.0, 3.6)
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        left.loglog(batches, [per_epoch[b] for b in batches], "o-")
        left.set(
            xlabel=Text("batch size", "批量大小")(lang),
            ylabel=Text("seconds per epoch", "每轮秒数")(lang),
        )
        for lr, marker in zip(rates, "os^", strict=True):
            shown = [(b, loss[(b, lr)] - floor) for b in batches if loss[(b, lr)] is not None]
            right.loglog(
                [b for b, _ in shown],
                [max(v, 1e-8) for _, v in shown],
                marker + "-",
                label=f"lr {lr:g}",
            )
        right.set(
            xlabel=Text("batch size", "批量大小")(lang),
            ylabel=Text(f"loss − floor after {epochs} epoch(s)", f"{epochs} 轮后损失 − 下界")(lang),
        )
        right.legend()
        return fig

    answer = Text(
        f"The book's linear regression on {data.name} with its own from-scratch minibatch SGD, "
        f"{epochs} epoch(s), every batch size × learning rate (least-squares floor {floor:.4f}); final "
        f"loss and the median time per epoch — {table('en')}. Best rate per batch size: "
        f"{', '.join(f'{b}: {best[b]:g}' if best[b] is not None else f'{b}: none' for b in batches)}. Per epoch, "
        f"small batches are slow ({per_epoch[batches[0]] / per_epoch[batches[-1]]:.0f}× the full batch's "
        f"time here: the per-step overhead is paid {len(data.targets)} times) but make many updates, "
        f"so they lower the loss most per epoch; large batches vectorize well but make few updates "
        f"and need a larger rate, which the smallest batches cannot afford (the noisy single-example "
        f"steps diverge first). The sweet spot in wall-clock time lies in between.",
        f"用书中从零实现的小批量随机梯度下降在 {data.name} 上做线性回归，{epochs} 轮，遍历批量大小 × 学习率（最小二乘下界 "
        f"{floor:.4f}）；最终损失与每轮时间中位数——{table('zh')}。各批量大小的最佳学习率："
        f"{'，'.join(f'{b}：{best[b]:g}' if best[b] is not None else f'{b}：无' for b in batches)}。按轮计，小批量很慢（这里是整批的 "
        f"{per_epoch[batches[0]] / per_epoch[batches[-1]]:.0f} 倍：每步的固定开销要付 {len(data.targets)} 次），但更新次数多，所以每轮"
        f"损失下降最多；大批量向量化好，但更新少，需要更大的学习率，而最小的批量承受不了（单样本的噪声步最先发散）。按实际耗时，"
        f"最佳点在两者之间。",
    )
    values = (
        {
            "batches": list(batches),
            "rates": list(rates),
            "seconds_per_epoch": [per_epoch[b] for b in batches],
            "floor": floor,
        }
        | {
            f"final_loss_batch{b}": [loss[(b, lr)] for lr in rates if loss[(b, lr)] is not None]
            for b in batches
        }
        | {
            f"rates_finished_batch{b}": [lr for lr in rates if loss[(b, lr)] is not None]
            for b in batches
        }
    )
    plot = Plot(
        "ex12_5_1_grid",
        draw,
        Text(
            f"left: seconds per epoch against batch size; right: loss above the floor after {epochs} epoch(s) for three learning rates",
            f"左：每轮秒数与批量大小；右：三个学习率下 {epochs} 轮后高出下界的损失",
        ),
        Text(
            "two log-log panels: time per epoch and final loss against batch size",
            "两幅双对数图：每轮时间与最终损失随批量大小的变化",
        ),
    )
    return answer, values, [plot]


# 12.5.2 ------------------------------------------------------------------------------------


def step_lr_rates(lr: float, gamma: float, epochs: int) -> list[float]:
    """The learning rate of each epoch under ``torch.optim.lr_scheduler.StepLR(step_size=1,
    gamma)`` stepped once per epoch, read off a real optimizer's param group."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=gamma)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def decay(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.5.2: a learning rate divided by 10 every epoch through StepLR, against a constant rate
    and halving."""
    data = ctx.airfoil()
    epochs, seeds = _epochs(ctx, 2, 4, 6), ctx.settings.seeds
    lr, batch = 0.05, 10
    floor = least_squares_floor(data)
    plans = {
        "constant": (step_lr_rates(lr, 1.0, epochs), Text("constant", "常数")),
        "divide10": (
            step_lr_rates(lr, 0.1, epochs),
            Text("÷10 per epoch (StepLR, γ = 0.1)", "每轮 ÷10（StepLR，γ = 0.1）"),
        ),
        "halve": (
            step_lr_rates(lr, 0.5, epochs),
            Text("÷2 per epoch (γ = 0.5)", "每轮 ÷2（γ = 0.5）"),
        ),
    }
    medians = {
        k: _median(linear_sgd(data, seeds, batch, rates, "shuffle")) - floor
        for k, (rates, _) in plans.items()
    }

    def draw(lang: Lang):
        fig, ax = new_figure()
        for key, m in medians.items():
            ax.semilogy(range(epochs + 1), m, "o-", label=plans[key][1](lang))
        ax.set(ylabel=Text("loss − least-squares floor", "损失 − 最小二乘下界")(lang))
        epoch_axis(ax, lang)
        ax.legend()
        return fig

    def listing(lang: Lang) -> str:
        return "; ".join(
            f"{plans[k][1](lang)}: " + ", ".join(f"{v:.2e}" for v in m[1:].tolist())
            for k, m in medians.items()
        )

    rates10 = plans["divide10"][0]
    answer = Text(
        f"In PyTorch the learning rate lives in optimizer.param_groups[i]['lr']; setting it by hand, or "
        f"stepping torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1) at the end of "
        f"every epoch, divides it by 10 each epoch: {', '.join(f'{r:g}' for r in rates10)}. Minibatch SGD "
        f"(batch {batch}, η₀ = {lr}) on {data.name}, median over {len(seeds)} seeds of the loss above the "
        f"least-squares floor after each epoch — {listing('en')}. The first decayed epoch quenches the "
        f"gradient noise, so the loss drops below the constant rate's at once; after it, all remaining "
        f"updates together weigh at most 0.01 + 0.001 + … = 1/90 of an epoch at η₀, and the run "
        f"freezes: division by 10 per epoch is far too aggressive to keep learning, where halving the "
        f"rate each epoch keeps improving.",
        f"在 PyTorch 中学习率保存在 optimizer.param_groups[i]['lr']；手工设置它，或在每轮结束时调用 "
        f"torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.1)，就能每轮除以 10：{', '.join(f'{r:g}' for r in rates10)}。"
        f"在 {data.name} 上做小批量随机梯度下降（批量 {batch}，η₀ = {lr}），{len(seeds)} 个种子每轮后高出最小二乘下界的损失中位数——"
        f"{listing('zh')}。第一个衰减后的轮次压住了梯度噪声，损失立刻低于常数学习率；此后剩余的全部更新加起来至多相当于以 η₀ 训练 "
        f"0.01 + 0.001 + … = 1/90 轮，运行随即冻结：每轮除以 10 过于激进，无法继续学习，而每轮减半则持续改进。",
    )
    values = {"rates_divide10": rates10, "floor": floor} | {
        f"median_excess_{k}": m.tolist() for k, m in medians.items()
    }
    plot = Plot(
        "ex12_5_2_decay",
        draw,
        Text(
            f"loss above the floor per epoch with a constant rate, ÷10 and ÷2 per epoch (median of {len(seeds)} seeds)",
            f"常数学习率、每轮 ÷10 与每轮 ÷2 时每轮高出下界的损失（{len(seeds)} 个种子的中位数）",
        ),
        Text("excess-loss curves for three learning-rate decays", "三种学习率衰减的超额损失曲线"),
    )
    return answer, values, [plot]


# 12.5.3 ------------------------------------------------------------------------------------


def with_replacement(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.5.3: minibatches drawn with replacement against reshuffled ones, over the profile's
    seeds."""
    data = ctx.airfoil()
    epochs, seeds = _epochs(ctx, 1, 4, 10), ctx.settings.seeds
    lr, batch = 0.05, 10
    n = len(data.targets)
    floor = least_squares_floor(data)
    runs = {
        s: linear_sgd(data, seeds, batch, [lr] * epochs, s) - floor
        for s in ("shuffle", "replacement")
    }
    medians = {k: _median(v) for k, v in runs.items()}
    gen = torch.Generator().manual_seed(ctx.settings.seed)
    draws = torch.randint(n, (len(seeds), n), generator=gen)
    seen = float(
        torch.tensor([len(torch.unique(row)) for row in draws], dtype=torch.float64).mean() / n
    )
    names = {
        "shuffle": Text("reshuffled (without replacement)", "重新打乱（不放回）"),
        "replacement": Text("drawn with replacement", "有放回抽取"),
    }

    def draw(lang: Lang):
        fig, ax = new_figure()
        for key, m in medians.items():
            ax.semilogy(range(epochs + 1), m, "o-", label=names[key](lang))
        ax.set(ylabel=Text("loss − least-squares floor", "损失 − 最小二乘下界")(lang))
        epoch_axis(ax, lang)
        ax.legend()
        return fig

    final = {k: float(m[-1]) for k, m in medians.items()}
    lower = min(final, key=final.get)
    answer = Text(
        f"Drawing each minibatch of {batch} uniformly with replacement from all {n} examples (instead of "
        f"cutting a fresh permutation into batches) keeps the gradient unbiased but makes the epoch a "
        f"random sample: only {seen:.1%} of the examples appear in one (1 − e⁻¹ = {1 - math.exp(-1):.1%}), "
        f"some several times. Median loss above the floor over {len(seeds)} seeds, η = {lr}, after each "
        f"epoch — {names['shuffle'].en}: {', '.join(f'{v:.2e}' for v in medians['shuffle'][1:].tolist())}; "
        f"{names['replacement'].en}: {', '.join(f'{v:.2e}' for v in medians['replacement'][1:].tolist())}. "
        f"Lower at the end: {names[lower].en} ({final[lower]:.2e} against {max(final.values()):.2e}). The "
        f"expected progress per step is the same; what changes is the variance, and with it the noise "
        f"floor at a constant rate — sampling without replacement uses every example once per epoch, "
        f"so its batch errors partly cancel.",
        f"每个大小为 {batch} 的小批量都从全部 {n} 个样本中有放回地均匀抽取（而不是把一个新的排列切成批量），梯度仍然无偏，但一轮变成了"
        f"随机样本：一轮中只出现 {seen:.1%} 的样本（1 − e⁻¹ = {1 - math.exp(-1):.1%}），有的出现多次。{len(seeds)} 个种子、η = {lr}，每轮后"
        f"高出下界的损失中位数——{names['shuffle'].zh}：{', '.join(f'{v:.2e}' for v in medians['shuffle'][1:].tolist())}；"
        f"{names['replacement'].zh}：{', '.join(f'{v:.2e}' for v in medians['replacement'][1:].tolist())}。最后较低的是{names[lower].zh}"
        f"（{final[lower]:.2e}，另一个为 {max(final.values()):.2e}）。每步的期望进展相同；改变的是方差，以及常数学习率下的噪声水平——"
        f"不放回抽样每轮恰好用每个样本一次，批量误差部分抵消。",
    )
    values = {"fraction_seen": seen, "floor": floor} | {
        f"median_excess_{k}": m.tolist() for k, m in medians.items()
    }
    plot = Plot(
        "ex12_5_3_replacement",
        draw,
        Text(
            f"loss above the floor per epoch for minibatches of {batch} reshuffled or drawn with replacement (median of {len(seeds)} seeds)",
            f"大小为 {batch} 的小批量重新打乱或有放回抽取时每轮高出下界的损失（{len(seeds)} 个种子的中位数）",
        ),
        Text(
            "excess-loss curves for two ways of drawing minibatches",
            "两种小批量抽取方式的超额损失曲线",
        ),
    )
    return answer, values, [plot]


# 12.5.4 ------------------------------------------------------------------------------------


def _seconds_per_gd_step(data, repeat: int, steps: int) -> float:
    """Seconds per full-batch gradient step of linear regression on ``repeat`` copies of the data."""
    X, y = data.features.double().repeat(repeat, 1), data.targets.double().repeat(repeat)
    w = torch.zeros(X.shape[1], dtype=torch.float64)
    start = time.perf_counter()
    for _ in range(steps):
        residual = X @ w - y
        w = w - 0.1 * (X.T @ residual) / len(y)
    return (time.perf_counter() - start) / steps


def duplicated(ctx: Context) -> tuple[Text, dict, list[Plot]]:
    """12.5.4: gradient descent, SGD and minibatch SGD on the airfoil data and on a duplicated
    copy."""
    data = ctx.airfoil()
    epochs, seeds = _epochs(ctx, 2, 6, 10), ctx.settings.seeds
    n = len(data.targets)
    floor = least_squares_floor(data)
    gd_once = linear_sgd(data, seeds, n, [0.5] * epochs)
    gd_twice = linear_sgd(data, seeds, 2 * n, [0.5] * epochs, repeat=2)
    gd_gap = float((gd_once - gd_twice).abs().max())
    timing_steps = 50 if ctx.settings.profile == "smoke" else 500
    step_time = [_seconds_per_gd_step(data, r, timing_steps) for r in (1, 2)]
    compare = {}
    for batch, lr in ((1, 0.01), (10, 0.05)):
        original = _median(linear_sgd(data, seeds, batch, [lr] * (2 * epochs))) - floor
        doubled = _median(linear_sgd(data, seeds, batch, [lr] * epochs, repeat=2)) - floor
        compare[batch] = (original, doubled)

    def draw(lang: Lang):
        fig = blank_figure(9.0, 3.6)
        for index, batch in enumerate(compare):
            ax = fig.add_subplot(1, 2, index + 1)
            original, doubled = compare[batch]
            updates = n // batch
            ax.semilogy(
                [e * updates for e in range(2 * epochs + 1)],
                original,
                "o-",
                label=Text("original data", "原数据")(lang),
            )
            ax.semilogy(
                [e * 2 * updates for e in range(epochs + 1)],
                doubled,
                "s--",
                label=Text("duplicated data", "重复的数据")(lang),
            )
            ax.set(
                title=f"{Text('batch', '批量')(lang)} {batch}",
                xlabel=Text("updates", "更新次数")(lang),
                ylabel=Text("loss − floor", "损失 − 下界")(lang),
            )
            ax.legend()
        return fig

    def per_epoch(batch: int, lang: Lang) -> str:
        original, doubled = compare[batch]
        return Text(
            f"batch {batch}: after one epoch {doubled[1]:.2e} on the duplicated data against {original[1]:.2e} on the original, "
            f"and {doubled[1]:.2e} against {original[2]:.2e} at equal updates",
            f"批量 {batch}：一轮后重复数据上为 {doubled[1]:.2e}，原数据上为 {original[1]:.2e}；更新次数相同时为 {doubled[1]:.2e} 对 {original[2]:.2e}",
        )(lang)

    answer = Text(
        f"Full-batch gradient descent does not notice: the mean gradient over the doubled set equals "
        f"the mean over the original, so the iterates are the same — over {len(seeds)} seeds × {epochs} "
        f"steps the losses on both sets agree to {gd_gap:.1e} — but each step touches twice the data "
        f"({step_time[0] * 1e6:.0f} µs against {step_time[1] * 1e6:.0f} µs per step here, "
        f"{step_time[1] / step_time[0]:.1f}× as long: on data this small the fixed cost of each call "
        f"hides part of the doubling). SGD and "
        f"minibatch SGD see every example twice per 'epoch', so an epoch of the duplicated set makes "
        f"twice the updates — like two epochs of the original, except that the two copies are mixed in "
        f"one shuffle, which is partly sampling with replacement: {per_epoch(1, 'en')}; {per_epoch(10, 'en')}. "
        f"Per update nothing changes, so counted in epochs SGD seems to get faster, while GD only gets "
        f"slower per step. Duplicates inflate what an epoch means, and they leak between training and "
        f"validation splits if the duplication is not known.",
        f"全批量梯度下降察觉不到：加倍的数据集上的平均梯度与原数据集上的相同，迭代点也相同——{len(seeds)} 个种子 × {epochs} 步，两者的"
        f"损失相差不超过 {gd_gap:.1e}——但每步要处理两倍的数据（这里每步 {step_time[0] * 1e6:.0f} µs 对 {step_time[1] * 1e6:.0f} µs，"
        f"为 {step_time[1] / step_time[0]:.1f} 倍：数据这么小时，每次调用的固定开销掩盖了部分加倍）。"
        f"随机梯度下降与小批量随机梯度下降每“轮”把每个样本看两次，所以重复数据集上的一轮做了两倍的更新——相当于原数据的两轮，只是两份"
        f"拷贝混在同一次打乱里，部分相当于有放回抽样：{per_epoch(1, 'zh')}；{per_epoch(10, 'zh')}。按每次更新计没有变化，所以按轮计"
        f"随机梯度下降似乎变快了，而梯度下降只是每步变慢。重复样本会夸大“一轮”的含义；若不知道有重复，还会在训练集与验证集之间泄漏。",
    )
    values = (
        {
            "gd_gap": gd_gap,
            "gd_seconds_per_step": step_time,
        }
        | {f"batch{b}_original": o.tolist() for b, (o, _d) in compare.items()}
        | {f"batch{b}_duplicated": d.tolist() for b, (_o, d) in compare.items()}
    )
    plot = Plot(
        "ex12_5_4_duplicated",
        draw,
        Text(
            f"loss above the floor against the number of updates on the original and the duplicated data, batch 1 and 10 (median of {len(seeds)} seeds)",
            f"原数据与重复数据上高出下界的损失随更新次数的变化，批量 1 与 10（{len(seeds)} 个种子的中位数）",
        ),
        Text("two panels of excess loss against updates", "两幅超额损失—更新次数图"),
    )
    return answer, values, [plot]


EXERCISES: tuple[ExerciseSpec, ...] = (
    ExerciseSpec(
        "12.5.1",
        Text(
            "Change batch size and learning rate together; record how quickly the loss goes down and "
            "what each epoch costs in time.",
            "同时改变批量大小和学习率；记录损失下降得多快以及每轮花费的时间。",
        ),
        "run",
        grid,
    ),
    ExerciseSpec(
        "12.5.2",
        Text(
            "Using the framework's way of setting the learning rate, divide it by 10 after every epoch "
            "of minibatch SGD.",
            "用框架设置学习率的方法，让小批量随机梯度下降每轮之后把学习率除以 10。",
        ),
        "run",
        decay,
    ),
    ExerciseSpec(
        "12.5.3",
        Text(
            "Put minibatch SGD beside a version whose minibatches are truly drawn with replacement "
            "from the training data. What differs?",
            "把小批量随机梯度下降与一个真正从训练数据中有放回抽取小批量的版本放在一起比较。有什么不同？",
        ),
        "run",
        with_replacement,
    ),
    ExerciseSpec(
        "12.5.4",
        Text(
            "Someone duplicates your data set without telling you, so every example appears twice. "
            "What happens to SGD, minibatch SGD and gradient descent?",
            "有人悄悄把你的数据集复制了一份，每个样本都出现两次。随机梯度下降、小批量随机梯度下降和梯度下降会怎样？",
        ),
        "run",
        duplicated,
    ),
)
