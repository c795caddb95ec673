"""The page's stylesheet and script, embedded in every page so that it works offline as one file.

Kept as Python strings (not package data) so that an installed wheel carries them with no
packaging rule. The stylesheet lays the page out for a 390 px phone up to a wide screen (wide
tables, code and formulas scroll inside their own box, never the page), follows the reader's
light or dark scheme, and prints on white with the interactive parts left out. The script only
draws: it switches an interactive figure between series trainlab already computed.
"""

from __future__ import annotations

__all__ = ["SCRIPT", "STYLE"]

STYLE = r"""
:root {
  color-scheme: light dark;
  --bg: #fcfcfb; --fg: #1c1e21; --muted: #5a6068; --line: #d8dbe0; --panel: #f3f4f6;
  --card: #ffffff; --link: #0a58a8; --accent: #6a3fb5;
  --good: #146c2e; --good-bg: #e3f3e7; --bad: #a8200d; --bad-bg: #fde8e4;
  --warn: #7a4d00; --warn-bg: #fff2cc; --neutral: #4f5863; --neutral-bg: #eceff2;
  --s0: #1f77b4; --s1: #d9580b; --s2: #2a9d3a; --s3: #c0282d; --s4: #7b52ae; --s5: #8c564b;
}
@media screen and (prefers-color-scheme: dark) {
  :root {
    --bg: #111417; --fg: #e4e6e9; --muted: #a2a9b2; --line: #363c44; --panel: #1b1f24;
    --card: #ffffff; --link: #7cb7ff; --accent: #b69cf0;
    --good: #7fd495; --good-bg: #173322; --bad: #ff9c8a; --bad-bg: #3f1b16;
    --warn: #ffd37a; --warn-bg: #3a2c0d; --neutral: #b7bec7; --neutral-bg: #262b31;
    --s0: #6cb4ee; --s1: #ff9a52; --s2: #6fd17c; --s3: #ff7379; --s4: #b99af0; --s5: #d3a08f;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; scroll-padding-top: 1rem; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC",
    "PingFang SC", "Microsoft YaHei", sans-serif;
}
:lang(zh) body, body:lang(zh) { line-height: 1.7; }
a { color: var(--link); }
code, pre { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .88em; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: .2rem 0 .6rem; }
h2 { font-size: 1.4rem; line-height: 1.3; margin: 2.2rem 0 .8rem; padding-bottom: .3rem; border-bottom: 2px solid var(--line); }
h3 { font-size: 1.12rem; margin: 1.8rem 0 .6rem; }
p, li, dd, figcaption, td, th { overflow-wrap: break-word; }
.layout { max-width: 78rem; margin: 0 auto; padding: 1rem; }
.layout > * { min-width: 0; }
header .lede { font-size: 1.05rem; max-width: 48rem; }
.meta { color: var(--muted); font-size: .92rem; }
.meta span + span::before { content: " · "; }
nav.toc { font-size: .95rem; }
nav.toc h2 { font-size: 1.05rem; margin-top: 1rem; }
nav.toc ol { list-style: none; padding-left: 0; margin: 0; }
nav.toc li { margin: .25rem 0; padding-left: 1.3rem; text-indent: -1.3rem; }
nav.toc .off { color: var(--muted); }
@media (min-width: 1100px) {
  .layout { display: grid; grid-template-columns: 15rem minmax(0, 1fr); gap: 0 2.5rem; }
  .layout > header, .layout > footer { grid-column: 1 / -1; }
  nav.toc { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow-y: auto; padding-top: .5rem; }
}
.scroll { overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--panel); }
th { font-weight: 600; }
table.summary tbody th { min-width: 11rem; font-weight: 500; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.summary td.num { white-space: nowrap; }
table.summary tfoot tr > * { font-weight: 600; border-top: 2px solid var(--line); }
table.summary thead th { word-break: keep-all; }
.dataname { white-space: nowrap; }
.zero { color: var(--muted); }
.hot { color: var(--bad); font-weight: 700; }
.n { font-variant-numeric: tabular-nums; }
.p { white-space: nowrap; }
.p + .p::before { content: ", "; white-space: normal; }
.n { white-space: nowrap; }
.n.wrap { white-space: normal; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: .8rem; font-size: .82rem; white-space: nowrap; border: 1px solid transparent; }
.badge.good { color: var(--good); background: var(--good-bg); }
.badge.bad { color: var(--bad); background: var(--bad-bg); border-color: var(--bad); font-weight: 700; }
.badge.neutral { color: var(--neutral); background: var(--neutral-bg); }
.tag { display: inline-block; font-size: .8rem; color: var(--accent); border: 1px solid currentColor; border-radius: .25rem; padding: 0 .35rem; margin-right: .35rem; }
.counts { display: flex; flex-wrap: wrap; gap: .3rem; margin: .5rem 0; }
.alarm { display: block; border: 2px solid var(--bad); background: var(--bad-bg); color: var(--bad); padding: .6rem .8rem; border-radius: .35rem; font-weight: 600; margin: .8rem 0; }
.alarm strong { text-transform: uppercase; letter-spacing: .04em; }
strong.fallback { color: var(--bad); background: var(--bad-bg); padding: 0 .3rem; border-radius: .2rem; white-space: nowrap; }
.missing { border-left: 4px solid var(--warn); background: var(--warn-bg); padding: .5rem .8rem; margin: .8rem 0; list-style: none; }
.missing li { margin: .3rem 0; }
.missing code, .facts code { white-space: pre-wrap; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: minmax(7rem, max-content) minmax(0, 1fr); gap: .25rem 1rem; margin: .5rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; min-width: 0; }
.legend { font-size: .9rem; }
.legend dt { margin-top: .35rem; }
.legend dd { margin: 0 0 0 1rem; color: var(--muted); }
.sectionfacts { font-size: .95rem; }
.errata { border: 2px solid var(--warn); background: var(--warn-bg); border-radius: .35rem; padding: .2rem 1rem .6rem; margin: 1rem 0; }
.errata h3 { margin: .6rem 0 .3rem; color: var(--warn); }
.errata ul { padding-left: 1.2rem; margin: .3rem 0; }
.formula { border: 1px solid var(--line); border-radius: .4rem; padding: .7rem .9rem; margin: .9rem 0; }
.formula .code { margin-top: .4rem; }
.formula .cap { margin: 0 0 .3rem; font-weight: 600; }
.fno { color: var(--muted); font-weight: 400; margin-right: .3rem; }
.math { overflow-x: auto; overflow-y: hidden; padding: .3rem 0; }
math { font-family: "STIX Two Math", "Latin Modern Math", "Cambria Math", "DejaVu Serif", math, serif; font-size: 1.18em; }
.where { margin: 0 0 .3rem; font-size: .85rem; color: var(--muted); overflow-wrap: anywhere; }
.codebox { max-height: 24rem; overflow: auto; border: 1px solid var(--line); border-radius: .3rem; }
.hl pre { margin: 0; padding: .5rem .6rem; font-size: .82rem; line-height: 1.45; }
.hl .linenos { color: var(--muted); padding-right: .8rem; user-select: none; -webkit-user-select: none; }
table.rows td.label { width: 46%; min-width: 11rem; }
table.rows td.num { min-width: 5rem; }
table.rows tr.main:has(+ tr.more) td { border-bottom: none; }
table.rows tr.more td { padding-top: 0; font-size: .88rem; color: var(--muted); }
table.rows tr.more td > div { margin: .2rem 0; }
table.rows tr.bad td:first-child { box-shadow: inset 4px 0 var(--bad); }
table.rows b { color: var(--fg); font-weight: 600; }
.sources { list-style: none; padding: 0; margin: .2rem 0; }
.sources a, .loc { overflow-wrap: anywhere; }
.sources li { margin: .3rem 0; padding-left: .6rem; border-left: 2px solid var(--line); }
.ed { display: inline-block; min-width: 3.6rem; font-weight: 700; color: var(--fg); }
.verbatim { display: block; white-space: pre-wrap; overflow-wrap: anywhere; color: var(--fg); background: var(--panel); padding: .15rem .4rem; margin: .15rem 0; border-radius: .2rem; }
.loc { font-size: .82rem; overflow-wrap: anywhere; }
.errata .loc { color: var(--muted); }
.detail { color: var(--fg); }
svg.strip { display: block; width: 13rem; max-width: 100%; height: auto; margin: .2rem 0; }
svg.strip .bandrect { fill: var(--good-bg); stroke: var(--good); stroke-width: .5; }
svg.strip .range { stroke: var(--muted); stroke-width: 2; }
svg.strip .seed { fill: var(--s0); }
svg.strip .median { stroke: var(--fg); stroke-width: 2; }
svg.strip .bookmark { fill: var(--s1); stroke: var(--fg); stroke-width: .6; }
figure.fig { margin: 1.4rem 0; padding: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .35rem; padding: .3rem; }
svg.plot { display: block; width: 100%; height: auto; max-width: 36rem; margin: 0 auto; }
figcaption { margin-top: .5rem; font-size: .95rem; }
figcaption b { margin-right: .3rem; }
.sweep { border: 1px solid var(--line); border-radius: .35rem; padding: .6rem .8rem; margin-top: .7rem; background: var(--panel); }
.sweep[hidden] { display: none; }
.sweep .hint { margin: 0 0 .4rem; font-size: .9rem; color: var(--muted); }
svg.sweep-plot { display: block; width: 100%; max-width: 36rem; height: auto; margin: 0 auto; background: var(--bg); border-radius: .25rem; }
svg.sweep-plot .box { fill: none; stroke: var(--muted); stroke-width: 1; }
svg.sweep-plot .grid { stroke: var(--line); stroke-width: .6; }
svg.sweep-plot .tick { fill: var(--muted); font-size: 12px; }
svg.sweep-plot .curve { fill: none; stroke: var(--muted); stroke-width: 1.4; stroke-dasharray: 4 3; }
svg.sweep-plot .line { fill: none; stroke-width: 2; stroke-linejoin: round; }
.c0 { stroke: var(--s0); fill: var(--s0); } .c1 { stroke: var(--s1); fill: var(--s1); }
.c2 { stroke: var(--s2); fill: var(--s2); } .c3 { stroke: var(--s3); fill: var(--s3); }
.c4 { stroke: var(--s4); fill: var(--s4); } .c5 { stroke: var(--s5); fill: var(--s5); }
.control { display: flex; flex-wrap: wrap; align-items: center; gap: .3rem .7rem; margin: .5rem 0 .2rem; }
.control input[type=range] { flex: 1 1 10rem; min-width: 0; max-width: 28rem; accent-color: var(--s0); }
.control output { font-weight: 700; font-variant-numeric: tabular-nums; min-width: 4rem; }
.sweep-caption { margin: .2rem 0 0; }
.notes li { margin: .3rem 0; }
.exercises { padding-left: 0; list-style: none; }
.exercises > li { margin: .8rem 0; padding: .6rem .8rem; border-left: 3px solid var(--line); }
.exercises .question { margin: 0 0 .3rem; }
.exercises .answer { margin: .2rem 0; }
.exercises .answer.off { opacity: .75; }
footer { margin-top: 3rem; padding-top: 1rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .88rem; }
@media (max-width: 600px) {
  .layout { padding: .75rem; }
  h1 { font-size: 1.45rem; }
  h2 { font-size: 1.25rem; }
  th, td { padding: .35rem .35rem; }
  dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0; }
  dl.facts dd { margin-bottom: .4rem; }
  /* a phone has no room for columns: each table row becomes a block, each cell names itself */
  table.summary, table.summary tbody, table.summary tfoot, table.summary tr, table.summary th,
  table.summary td, table.rows, table.rows tbody, table.rows tr, table.rows td { display: block; }
  table.summary thead, table.rows thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.summary tr { display: flex; flex-wrap: wrap; gap: .2rem .9rem; padding: .5rem 0; border-bottom: 1px solid var(--line); }
  table.summary tr > *, table.summary tfoot tr > * { border: none; padding: 0; }
  table.summary tr > th { flex: 1 1 100%; }
  table.summary td:empty { display: none; }
  table.summary td.num { text-align: left; }
  table.summary td[data-label]::before, table.rows td[data-label]::before { content: attr(data-label) " "; color: var(--muted); font-weight: 400; font-size: .85em; }
  table.rows tr.main { display: flex; flex-wrap: wrap; gap: .1rem 1rem; padding-top: .5rem; }
  table.rows tr.main td { padding: 0; border: none; min-width: 0; }
  table.rows td.label { flex: 1 1 100%; width: auto; }
  table.rows td.num { text-align: left; }
  table.rows td.num::before { display: block; }
  table.rows td.status { align-self: end; }
  table.rows tr.more td { padding: .2rem 0 .6rem; }
  table.rows tr.main:not(:has(+ tr.more)) { border-bottom: 1px solid var(--line); padding-bottom: .5rem; }
  table.rows tr.bad td:first-child { box-shadow: none; }
  table.rows tr.bad { border-left: 4px solid var(--bad); padding-left: .5rem; }
}
@media print {
  :root { --bg: #fff; --fg: #000; --panel: #f2f2f2; --line: #bbb; }
  body { font-size: 10pt; }
  .layout { display: block; max-width: none; padding: 0; }
  nav.toc, .sweep { display: none !important; }
  a { color: inherit; text-decoration: none; }
  .pages a::after { content: " (" attr(href) ")"; font-size: 8pt; overflow-wrap: anywhere; }
  .scroll, .codebox, .math { overflow: visible; max-height: none; }
  .hl pre { white-space: pre-wrap; }
  section.unit { break-before: page; }
  figure, .formula, tr, .errata, .alarm { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .card { border: none; }
}
"""

SCRIPT = r"""
(() => {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const W = 480, H = 300, LEFT = 56, RIGHT = 14, TOP = 12, BOTTOM = 30;

  function node(name, attributes, parent) {
    const element = document.createElementNS(NS, name);
    for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
    parent.appendChild(element);
    return element;
  }

  // data → pixels along one axis (log10 of the value on a log axis); a point far outside is
  // pinned a long way past the edge, so its segment still leaves the plot in the right direction
  function axis(lo, hi, from, to, log) {
    const f = log ? Math.log10 : (v) => v;
    const a = f(lo), b = f(hi);
    return (v) => {
      if (v === null || (log && v <= 0)) return null;
      const p = from + ((f(v) - a) / (b - a)) * (to - from);
      return Math.max(-1e4, Math.min(1e4, p));
    };
  }

  function ticks(lo, hi, log) {
    const out = [];
    if (log) {
      for (let k = Math.ceil(Math.log10(lo) - 1e-9); k <= Math.floor(Math.log10(hi) + 1e-9); k++) out.push(10 ** k);
      return out;
    }
    const magnitude = 10 ** Math.floor(Math.log10((hi - lo) / 5));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => (hi - lo) / s <= 6);
    for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9; i++) out.push(i * step);
    return out;
  }

  function label(v) {
    if (v === 0) return "0";
    if (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3) return v.toExponential(0);
    return String(Number(v.toPrecision(4)));
  }

  function points(line, x, y) {
    const out = [];
    for (let i = 0; i < line.x.length; i++) {
      const px = x(line.x[i]), py = y(line.y[i]);
      if (px !== null && py !== null) out.push(px.toFixed(1) + "," + py.toFixed(1));
    }
    return out;
  }

  function draw(svg, data, index, clipId) {
    svg.replaceChildren();
    const x = axis(data.x[0], data.x[1], LEFT, W - RIGHT, data.logx);
    const y = axis(data.y[0], data.y[1], H - BOTTOM, TOP, data.logy);
    const clip = node("clipPath", { id: clipId }, node("defs", {}, svg));
    node("rect", { x: LEFT, y: TOP, width: W - LEFT - RIGHT, height: H - TOP - BOTTOM }, clip);
    const frame = node("g", {}, svg);
    for (const v of ticks(data.x[0], data.x[1], data.logx)) {
      const p = x(v);
      node("line", { x1: p, x2: p, y1: TOP, y2: H - BOTTOM, class: "grid" }, frame);
      node("text", { x: p, y: H - BOTTOM + 17, class: "tick", "text-anchor": "middle" }, frame).textContent = label(v);
    }
    for (const v of ticks(data.y[0], data.y[1], data.logy)) {
      const p = y(v);
      node("line", { x1: LEFT, x2: W - RIGHT, y1: p, y2: p, class: "grid" }, frame);
      node("text", { x: LEFT - 6, y: p + 4, class: "tick", "text-anchor": "end" }, frame).textContent = label(v);
    }
    node("rect", { x: LEFT, y: TOP, width: W - LEFT - RIGHT, height: H - TOP - BOTTOM, class: "box" }, frame);
    const plot = node("g", { "clip-path": "url(#" + clipId + ")" }, svg);
    if (data.curve) node("polyline", { points: points(data.curve, x, y).join(" "), class: "curve" }, plot);
    data.series[index].forEach((line, k) => {
      const drawn = points(line, x, y);
      node("polyline", { points: drawn.join(" "), class: "line c" + (k % 6) }, plot);
      if (drawn.length <= 60) {
        for (const point of drawn) {
          const [cx, cy] = point.split(",");
          node("circle", { cx, cy, r: 3.2, class: "dot c" + (k % 6) }, plot);
        }
      }
    });
  }

  for (const block of document.querySelectorAll(".sweep")) {
    const data = JSON.parse(block.querySelector(".sweep-data").textContent);
    const svg = block.querySelector("svg.sweep-plot");
    const input = block.querySelector("input[type=range]");
    const output = block.querySelector("output");
    const caption = block.querySelector(".sweep-caption");
    const update = () => {
      const i = Number(input.value);
      draw(svg, data, i, block.id + "-clip");
      output.textContent = data.labels[i];
      caption.textContent = data.captions[i];
      svg.setAttribute("aria-label", data.aria[i]);
      input.setAttribute("aria-valuetext", data.labels[i]);
    };
    input.addEventListener("input", update);
    block.hidden = false;
    update();
  }
})();
"""
