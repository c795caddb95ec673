"""Every string the report page itself writes, in English and Chinese, in one table.

The experiments' own texts (titles, labels, captions, notes) arrive in the results document in
both languages; this table holds the rest — headings, table headers, status names, labels of the
machine facts — so that a page in one language never shows a word of the other. The Chinese
follows the course's terms (批量归一化, 残差网络, 凸优化, 梯度下降, 小批量随机梯度下降, 学习率,
迭代周期, …).
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "HTML_LANG",
    "KINDS",
    "LANGS",
    "STATUSES",
    "UI",
    "Lang",
    "kind_name",
    "status_name",
    "ui",
]

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

# the value of <html lang>: "zh-CN" picks simplified-Chinese glyph forms in every browser
HTML_LANG: dict[Lang, str] = {"en": "en", "zh": "zh-CN"}

UI: dict[str, dict[Lang, str]] = {
    "page_title": {
        "en": "trainlab report — Dive into Deep Learning, Task 06 reproduced",
        "zh": "trainlab 复现报告 —《动手学深度学习》Task06",
    },
    "lede": {
        "en": "Batch normalization, residual networks, convex optimization and gradient descent: each section shows the book's formulas beside the trainlab code that implements them, then our numbers beside the printed ones, then the figures.",
        "zh": "批量归一化、残差网络、凸优化与梯度下降：每一节先给出书中公式及实现它的 trainlab 代码，再把本实验的数值与书中印出的数值对照，最后是图。",
    },
    "created": {"en": "created", "zh": "生成于"},
    "profile": {"en": "profile", "zh": "配置档"},
    "edition": {"en": "edition", "zh": "版本"},
    "seed": {"en": "seed", "zh": "随机种子"},
    "device": {"en": "device", "zh": "设备"},
    "command": {"en": "command", "zh": "命令"},
    "contents": {"en": "Contents", "zh": "目录"},
    "summary": {"en": "Summary", "zh": "摘要"},
    "machine": {"en": "Machine", "zh": "运行环境"},
    "formulas": {"en": "Formulas and reference code", "zh": "公式与参考代码"},
    "results": {"en": "Results", "zh": "结果"},
    "figures": {"en": "Figures", "zh": "图"},
    "notes": {"en": "Notes", "zh": "说明"},
    "exercises": {"en": "Exercises", "zh": "练习"},
    "exercise_kinds": {
        "en": "run: answered by running code · check: a claim checked numerically · discussion: "
        "answered in words, with the numbers that support it",
        "zh": "运行：通过运行代码回答 · 验证：用数值检验一个论断 · 讨论：用文字回答，并附上支持它的数字",
    },
    "kind_run": {"en": "run", "zh": "运行"},
    "kind_check": {"en": "check", "zh": "验证"},
    "kind_discussion": {"en": "discussion", "zh": "讨论"},
    "not_run": {"en": "not run", "zh": "未运行"},
    "errata": {"en": "Errata", "zh": "勘误"},
    "section": {"en": "Section", "zh": "章节"},
    "within_band": {"en": "within band", "zh": "在区间内"},
    "time": {"en": "time", "zh": "用时"},
    "predicted": {"en": "predicted {time}", "zh": "预计 {time}"},
    "data": {"en": "data", "zh": "数据"},
    "total": {"en": "total", "zh": "合计"},
    "no_data": {"en": "none (computed)", "zh": "无（直接计算）"},
    "fallback": {"en": "FALLBACK DATA", "zh": "替代数据"},
    "fallback_banner": {
        "en": "Some sections ran on fallback data, not on the data sets the book uses: their numbers do not reproduce the book. Sections: {sections}.",
        "zh": "部分章节使用了替代数据，而非书中所用的数据集：这些数值并未复现书中结果。章节：{sections}。",
    },
    "fallback_section": {
        "en": "This section ran on fallback data ({source}), not on the book's data set: its numbers do not reproduce the book.",
        "zh": "本节使用了替代数据（{source}），而非书中的数据集：其数值并未复现书中结果。",
    },
    "missing": {
        "en": "Not run with these settings: {title}. Run it with",
        "zh": "尚未以这些设置运行：{title}。运行命令",
    },
    "errata_summary": {"en": "Errata found in the book", "zh": "书中的勘误"},
    "errata_elsewhere": {
        "en": "(its section is not in this report)",
        "zh": "（所属章节不在本报告中）",
    },
    "statuses_help": {"en": "What the statuses mean", "zh": "状态的含义"},
    "pages": {"en": "book pages", "zh": "书中页面"},
    "rerun": {"en": "rerun this section", "zh": "重新运行本节"},
    "seconds": {"en": "{value} s", "zh": "{value} 秒"},
    "minutes": {"en": "{minutes} min {seconds} s", "zh": "{minutes} 分 {seconds} 秒"},
    "line": {"en": "line {line}", "zh": "第 {line} 行"},
    "shown_above": {
        "en": "same code as formula {n}, shown above",
        "zh": "与上方公式 {n} 的代码相同",
    },
    "quantity": {"en": "quantity", "zh": "量"},
    "ours": {"en": "ours", "zh": "本实验"},
    "book": {"en": "book / theory", "zh": "书中 / 理论"},
    "status": {"en": "status", "zh": "状态"},
    "kind": {"en": "kind: {kind}", "zh": "类型：{kind}"},
    "count": {"en": "{name}: {count}", "zh": "{name}：{count}"},
    "band": {"en": "band", "zh": "区间"},
    "derivation": {"en": "why", "zh": "依据"},
    "sources": {"en": "printed in", "zh": "出处"},
    "spread": {"en": "over {n} seeds ({seeds})", "zh": "{n} 个随机种子（{seeds}）"},
    "spread_min": {"en": "min", "zh": "最小"},
    "spread_median": {"en": "median", "zh": "中位数"},
    "spread_max": {"en": "max", "zh": "最大"},
    "book_below": {
        "en": "the book's {value} lies below our range",
        "zh": "书中的 {value} 低于本实验的范围",
    },
    "book_inside": {
        "en": "the book's {value} lies inside our range",
        "zh": "书中的 {value} 落在本实验的范围内",
    },
    "book_above": {
        "en": "the book's {value} lies above our range",
        "zh": "书中的 {value} 高于本实验的范围",
    },
    "spread_label": {
        "en": "our values over the seeds (dots), their median (tick), the band (shaded) and the book's value (diamond)",
        "zh": "本实验各随机种子的值（圆点）、中位数（竖线）、区间（阴影）与书中数值（菱形）",
    },
    "figure": {"en": "Figure {n}", "zh": "图 {n}"},
    "interactive": {
        "en": "Interactive: move the slider to redraw the figure for another {parameter}.",
        "zh": "交互：拖动滑块改变「{parameter}」，图随之重绘。",
    },
    "interactive_label": {
        "en": "{alt}; {parameter} = {value}",
        "zh": "{alt}；{parameter} = {value}",
    },
    "cpu": {"en": "CPU", "zh": "处理器"},
    "isa": {"en": "instruction-set extensions", "zh": "指令集扩展"},
    "isa_none": {"en": "none of those torch uses", "zh": "无 torch 所用的扩展"},
    "isa_limited": {"en": "limited for this run by", "zh": "本次运行受限于"},
    "cores": {"en": "cores usable", "zh": "可用核心数"},
    "threads": {"en": "torch threads", "zh": "torch 线程数"},
    "load": {"en": "load (1 min)", "zh": "负载（1 分钟）"},
    "gpu": {"en": "GPU", "zh": "GPU"},
    "versions": {"en": "versions", "zh": "版本"},
    "git_commit": {"en": "git commit", "zh": "Git 提交"},
    "unknown": {"en": "unknown", "zh": "未知"},
    "results_file": {"en": "every value at full precision", "zh": "全部数值（完整精度）"},
    "full_precision": {
        "en": "Numbers are shown to the book's printed precision where it prints one, else to 6 significant digits; hover over a number for its full value.",
        "zh": "书中给出精度时按书中精度显示，否则显示 6 位有效数字；将鼠标悬停在数值上可查看完整数值。",
    },
}

# status → (name, what it means); the names are the document's, the classes colour the badges
STATUSES: dict[str, dict[Lang, tuple[str, str]]] = {
    "printed · exact": {
        "en": (
            "printed · exact",
            "ours, rounded to the digits the book prints, equals the printed number",
        ),
        "zh": ("书中数值 · 完全一致", "本实验的值按书中印出的位数舍入后与书中数值相同"),
    },
    "printed · within band": {
        "en": (
            "printed · within band",
            "a random run: the book's printed draw lies inside the band our runs span",
        ),
        "zh": ("书中数值 · 在区间内", "随机实验：书中印出的一次结果落在本实验给出的区间内"),
    },
    "theory · exact": {
        "en": (
            "theory · exact",
            "ours equals the value derived by hand (up to floating-point rounding)",
        ),
        "zh": ("理论值 · 完全一致", "本实验的值与手工推导的理论值相同（允许浮点舍入误差）"),
    },
    "theory · within band": {
        "en": ("theory · within band", "ours lies inside the band derived from theory"),
        "zh": ("理论值 · 在区间内", "本实验的值落在由理论推导的区间内"),
    },
    "outside band": {
        "en": ("outside band", "the judged value lies outside its band"),
        "zh": ("超出区间", "被判定的值落在区间之外"),
    },
    "mismatch": {
        "en": ("mismatch", "ours differs from the printed or derived value"),
        "zh": ("不一致", "本实验的值与书中或理论值不同"),
    },
    "ours only": {
        "en": ("ours only", "the book prints no such number: ours is reported, not compared"),
        "zh": ("仅本实验", "书中没有此数值：只报告本实验的值，不作比较"),
    },
}

KINDS: dict[str, dict[Lang, str]] = {
    "printed": {"en": "printed in the book", "zh": "书中印出的数值"},
    "theory": {"en": "derived from theory", "zh": "由理论推导"},
    "ours": {"en": "ours only", "zh": "仅本实验"},
}


def ui(key: str, lang: Lang, **values: object) -> str:
    """The page's string ``key`` in ``lang``, with ``{placeholders}`` filled in (unescaped)."""
    return UI[key][lang].format(**values) if values else UI[key][lang]


def status_name(status: str, lang: Lang) -> str:
    """A row status as the reader sees it. Raises for a status this table does not know, so a
    new status cannot reach a Chinese page in English."""
    if status not in STATUSES:
        raise ValueError(f"no translation for the row status {status!r}; add it to STATUSES")
    return STATUSES[status][lang][0]


def kind_name(kind: str, lang: Lang) -> str:
    """A row kind (printed, theory, ours) in words."""
    if kind not in KINDS:
        raise ValueError(f"no translation for the row kind {kind!r}; add it to KINDS")
    return KINDS[kind][lang]
