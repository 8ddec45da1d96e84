"""Inline SVG charts for the release page, drawn at build time from the ranking alone.

No JavaScript and no network: each chart is a self-contained <svg> with a viewBox, so it scales to the
page width (a phone or a 1280 px screen) and prints. Per table: every method's score (mean, ±std and the
per-round points) beside its bootstrap rank interval; per LRS table also HLR against IOR.
"""
from __future__ import annotations

import html
import math

FONT = 13
ROW_H = 26
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")

CSS = """
.charts{display:flex;flex-wrap:wrap;gap:1em;margin:0 0 2.5em}
.charts figure{margin:0;flex:2 1 400px;max-width:560px}
.charts figure.rankfig{flex:1 1 240px;max-width:340px}
.charts svg{width:100%;height:auto;display:block}
.charts figcaption{font-size:85%;color:#555}
"""


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About n round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi - lo < 1e-9:  # one value (one method, one round): a small window around it
        pad = max(abs(lo) * 0.1, 0.01)
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, v = [], first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 12))
        v += step
    if ticks[-1] < hi:
        ticks.append(round(v, 12))
    return ticks


def _fmt_tick(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != 0 else "0"


class _Scale:
    def __init__(self, d0: float, d1: float, r0: float, r1: float):
        self.d0, self.d1, self.r0, self.r1 = d0, d1, r0, r1

    def __call__(self, v: float) -> float:
        span = self.d1 - self.d0 or 1.0
        return self.r0 + (v - self.d0) / span * (self.r1 - self.r0)


def _svg(width: int, height: int, body: list[str], label: str, cls: str) -> str:
    return (f'<svg class="{cls}" viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif" font-size="{FONT}">'
            f"<title>{html.escape(label)}</title>" + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{extra}>{html.escape(s)}</text>'


def _x_axis(scale: _Scale, ticks: list[float], top: float, bottom: float, title: str) -> list[str]:
    out = []
    for t in ticks:
        x = scale(t)
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#e3e3e3"/>')
        out.append(_text(x, bottom + FONT + 3, _fmt_tick(t), "middle", ' fill="#555"'))
    mid = (scale.r0 + scale.r1) / 2
    out.append(_text(mid, bottom + 2 * FONT + 8, title, "middle", ' font-weight="600"'))
    return out


def score_chart(table: dict) -> str:
    """Each method's mean score (dot), ±1 std (bar) and per-round values (small hollow dots)."""
    rows = table["rows"]
    score = table["score"].upper()
    label_w = min(170, 16 + 8 * max(len(f"{r['rank']}. {r['method']}") for r in rows))
    width, top, right = 420, 10, 16
    height = top + ROW_H * len(rows) + 2 * FONT + 22
    values = [v for r in rows for v in (r["per_round"] or [r["mean"]])]
    values += [r["mean"] - r["std"] for r in rows] + [r["mean"] + r["std"] for r in rows]
    ticks = nice_ticks(min(values), max(values))
    sx = _Scale(ticks[0], ticks[-1], label_w, width - right)
    bottom = top + ROW_H * len(rows)
    body = _x_axis(sx, ticks, top, bottom, f"{score} (mean ± std; hollow dots: rounds)")
    if ticks[0] < 0 < ticks[-1]:
        body.append(f'<line x1="{sx(0):.1f}" y1="{top}" x2="{sx(0):.1f}" y2="{bottom}" stroke="#999"/>')
    for i, r in enumerate(rows):
        y = top + ROW_H * i + ROW_H / 2
        color = PALETTE[i % len(PALETTE)]
        body.append(_text(label_w - 8, y + FONT / 3, f"{r['rank']}. {r['method']}", "end"))
        lo, hi = sx(r["mean"] - r["std"]), sx(r["mean"] + r["std"])
        body.append(f'<line class="std" x1="{lo:.1f}" y1="{y:.1f}" x2="{hi:.1f}" y2="{y:.1f}" stroke="{color}" '
                    f'stroke-width="3" stroke-opacity="0.45"/>')
        for v in r["per_round"]:
            body.append(f'<circle class="round" cx="{sx(v):.1f}" cy="{y:.1f}" r="3.2" fill="none" '
                        f'stroke="{color}" stroke-width="1.2"/>')
        body.append(f'<circle class="mean" cx="{sx(r["mean"]):.1f}" cy="{y:.1f}" r="5.5" fill="{color}">'
                    f'<title>{html.escape(r["method"])}: {r["mean"]:.4f} ± {r["std"]:.4f} over {r["rounds"]} '
                    f'round(s)</title></circle>')
    return _svg(width, int(height), body, f"{score} per method, with per-round values", "chart score")


def rank_chart(table: dict, confidence: float) -> str:
    """Each method's rank interval (bar) and its rank (dot); rank 1 on the left."""
    rows = table["rows"]
    n = len(rows)
    width, left, right, top = 300, 28, 20, 10
    height = top + ROW_H * n + 2 * FONT + 22
    sx = _Scale(1, max(n, 2), left, width - right)
    bottom = top + ROW_H * n
    body = _x_axis(sx, list(range(1, n + 1)), top, bottom, f"{int(confidence * 100)}% rank interval")
    for i, r in enumerate(rows):
        y = top + ROW_H * i + ROW_H / 2
        color = PALETTE[i % len(PALETTE)]
        lo, hi = r["rank_interval"]
        body.append(f'<line class="interval" x1="{sx(lo) - 4:.1f}" y1="{y:.1f}" x2="{sx(hi) + 4:.1f}" y2="{y:.1f}" '
                    f'stroke="{color}" stroke-width="9" stroke-linecap="round" stroke-opacity="0.35">'
                    f'<title>{html.escape(r["method"])}: rank {lo}–{hi}</title></line>')
        body.append(f'<circle cx="{sx(r["rank"]):.1f}" cy="{y:.1f}" r="5" fill="{color}"/>')
        body.append(_text(4, y + FONT / 3, str(r["rank"]), "start", ' fill="#555"'))
    return _svg(width, int(height), body, f"{int(confidence * 100)}% rank interval per method", "chart rank")


def hlr_ior_chart(table: dict) -> str | None:
    """HLR (lower: closer to real data) against IOR (higher: further above random) per method."""
    pts = [(r["method"], r["components"]["hlr"]["mean"], r["components"]["ior"]["mean"], i)
           for i, r in enumerate(table["rows"]) if {"hlr", "ior"} <= set(r.get("components") or {})]
    if not pts:
        return None
    width, height, left, right, top, bottom = 460, 320, 62, 20, 14, 270
    xt = nice_ticks(min(p[1] for p in pts), max(p[1] for p in pts), 5)
    yt = nice_ticks(min(p[2] for p in pts), max(p[2] for p in pts), 5)
    sx, sy = _Scale(xt[0], xt[-1], left, width - right), _Scale(yt[0], yt[-1], bottom, top)
    body = _x_axis(sx, xt, top, bottom, "HLR (lower is better)")
    for t in yt:
        y = sy(t)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        body.append(_text(left - 6, y + FONT / 3, _fmt_tick(t), "end", ' fill="#555"'))
    body.append(_text(14, (top + bottom) / 2, "IOR (higher is better)", "middle",
                      f' font-weight="600" transform="rotate(-90 14 {(top + bottom) / 2:.1f})"'))
    for method, hlr, ior, i in pts:
        x, y = sx(hlr), sy(ior)
        color = PALETTE[i % len(PALETTE)]
        body.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{color}">'
                    f'<title>{html.escape(method)}: HLR {hlr:.4f}, IOR {ior:.4f}</title></circle>')
        anchor, dx = ("end", -9) if x > (left + width - right) / 2 else ("start", 9)
        body.append(_text(x + dx, y - 7, method, anchor))
    return _svg(width, height, body, "HLR against IOR per method", "chart scatter")


def table_figures(table: dict, confidence: float) -> str:
    """The charts of one ranking table, as one wrapping block of <figure>s."""
    caption = f"{html.escape(table['score'].upper())} per method: dot = mean, bar = ±1 std, hollow dots = single rounds."
    costs = [f"{html.escape(r['method'])} {r['train_seconds']:.1f} s" for r in table["rows"]
             if r.get("train_seconds") is not None]
    if costs:
        caption += f" Training time per cell: {', '.join(costs)}."
    figs = [f'<figure class="scorefig">{score_chart(table)}<figcaption>{caption}</figcaption></figure>',
            f'<figure class="rankfig">{rank_chart(table, confidence)}<figcaption>Rank interval '
            f"(bar) and rank (dot).</figcaption></figure>"]
    scatter = hlr_ior_chart(table) if table["score"] == "lrs" else None
    if scatter:
        figs.append(f'<figure class="scatterfig">{scatter}<figcaption>Towards the top left: close to real data '
                    f"and far above a random subset.</figcaption></figure>")
    return '<div class="charts">' + "".join(figs) + "</div>"
