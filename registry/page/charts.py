"""The geometry of the release page's inline SVG charts, computed at build time from the ranking alone
(templates/charts.html.j2 writes the markup).

No JavaScript and no network: each chart is a self-contained <svg> with a viewBox, so it scales to the
page width (a phone or a 1280 px screen) and prints. Per table: every method's score (mean, ±std and the
per-round points) beside its bootstrap rank interval; per LRS table also HLR against IOR.
Everything here is plain arithmetic on the ranking, so the same ranking gives the same chart bytes.
"""
from __future__ import annotations

import math

FONT = 13
ROW_H = 26
LINE_H = FONT + 3  # one line of label text in the scatter
CHAR_W = 0.62 * FONT  # an upper estimate of a character's width (system-ui), to keep label boxes apart
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")


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


def tick_label(v: float) -> str:
    return f"{v:.3f}".rstrip("0").rstrip(".") if v != 0 else "0"


class Scale:
    """A linear map from data [d0, d1] to pixels [r0, r1]."""

    def __init__(self, d0: float, d1: float, r0: float, r1: float):
        self.d0, self.d1, self.r0, self.r1 = d0, d1, r0, r1

    def __call__(self, v: float) -> float:
        span = self.d1 - self.d0 or 1.0
        return self.r0 + (v - self.d0) / span * (self.r1 - self.r0)


def x_axis(scale: Scale, ticks: list[float], top: float, bottom: float, title: str) -> dict:
    """Vertical grid lines with their tick labels below, and the axis title under them."""
    return {"ticks": [{"x": scale(t), "label": tick_label(t)} for t in ticks], "top": top, "bottom": bottom,
            "label_y": bottom + FONT + 3, "title": title, "title_x": (scale.r0 + scale.r1) / 2,
            "title_y": bottom + 2 * FONT + 8}


def score_chart(table: dict) -> dict:
    """Each method's mean score (dot), ±1 std (bar) and per-round values (small hollow dots)."""
    rows = table["rows"]
    score = table["score"].upper()
    label_w = min(170, 16 + 8 * max(len(f"{r['rank']}. {r['method']}") for r in rows))
    width, top, right = 420, 10, 16
    values = [v for r in rows for v in (r["per_round"] or [r["mean"]])]
    values += [r["mean"] - r["std"] for r in rows] + [r["mean"] + r["std"] for r in rows]
    ticks = nice_ticks(min(values), max(values))
    sx = Scale(ticks[0], ticks[-1], label_w, width - right)
    bottom = top + ROW_H * len(rows)
    methods = []
    for i, r in enumerate(rows):
        y = top + ROW_H * i + ROW_H / 2
        methods.append({"row": r, "y": y, "color": PALETTE[i % len(PALETTE)], "label_x": label_w - 8,
                        "label_y": y + FONT / 3, "lo": sx(r["mean"] - r["std"]), "hi": sx(r["mean"] + r["std"]),
                        "round_xs": [sx(v) for v in r["per_round"]], "mean_x": sx(r["mean"])})
    return {"width": width, "height": int(top + ROW_H * len(rows) + 2 * FONT + 22),
            "label": f"{score} per method, with per-round values", "cls": "chart score",
            "axis": x_axis(sx, ticks, top, bottom, f"{score} (mean ± std; hollow dots: rounds)"),
            "zero": sx(0) if ticks[0] < 0 < ticks[-1] else None, "methods": methods}


def rank_chart(table: dict, confidence: float) -> dict:
    """Each method's rank interval (bar) and its rank (dot); rank 1 on the left."""
    rows = table["rows"]
    n = len(rows)
    width, left, right, top = 300, 28, 20, 10
    sx = Scale(1, max(n, 2), left, width - right)
    bottom = top + ROW_H * n
    methods = []
    for i, r in enumerate(rows):
        y = top + ROW_H * i + ROW_H / 2
        lo, hi = r["rank_interval"]
        methods.append({"row": r, "y": y, "color": PALETTE[i % len(PALETTE)], "lo": sx(lo) - 4, "hi": sx(hi) + 4,
                        "rank_x": sx(r["rank"]), "label_y": y + FONT / 3})
    return {"width": width, "height": int(top + ROW_H * n + 2 * FONT + 22),
            "label": f"{int(confidence * 100)}% rank interval per method", "cls": "chart rank",
            "axis": x_axis(sx, list(range(1, n + 1)), top, bottom, f"{int(confidence * 100)}% rank interval"),
            "methods": methods}


def label_box(x: float, y: float, text: str, anchor: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) that a label of the scatter covers at most, drawn at baseline y."""
    w = CHAR_W * len(text)
    left = x - w if anchor == "end" else x
    return left, y - FONT, left + w, y + FONT * 0.3


def _overlap(a: tuple, b: tuple) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def scatter_labels(points: list[dict], middle: float) -> list[dict]:
    """One label per drawn position (methods at the same point share one: "herding, kcenter"), above
    and beside its point (beside only at the top edge), moved down a line at a time while it would cover
    a label placed before it."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for p in points:  # in rank order: the best method's label is placed first and never moves
        groups.setdefault((f"{p['x']:.1f}", f"{p['y']:.1f}"), []).append(p)
    labels, boxes = [], []
    for members in groups.values():
        x, y = members[0]["x"], members[0]["y"]
        text = ", ".join(p["method"] for p in members)
        anchor, lx = ("end", x - 9) if x > middle else ("start", x + 9)
        ly = max(y - 7, FONT)  # a point at the top keeps its label inside the chart, beside the point
        while any(_overlap(label_box(lx, ly, text, anchor), b) for b in boxes):
            ly += LINE_H
        boxes.append(label_box(lx, ly, text, anchor))
        labels.append({"x": lx, "y": ly, "text": text, "anchor": anchor})
    return labels


def scatter_chart(table: dict) -> dict | None:
    """HLR (lower: closer to real data) against IOR (higher: further above random) per method."""
    pts = [(r["method"], r["components"]["hlr"]["mean"], r["components"]["ior"]["mean"], i)
           for i, r in enumerate(table["rows"]) if {"hlr", "ior"} <= set(r.get("components") or {})]
    if not pts:
        return None
    width, height, left, right, top, bottom = 460, 320, 62, 20, 14, 270
    xt = nice_ticks(min(p[1] for p in pts), max(p[1] for p in pts), 5)
    yt = nice_ticks(min(p[2] for p in pts), max(p[2] for p in pts), 5)
    sx, sy = Scale(xt[0], xt[-1], left, width - right), Scale(yt[0], yt[-1], bottom, top)
    points = [{"method": m, "hlr": hlr, "ior": ior, "x": sx(hlr), "y": sy(ior), "color": PALETTE[i % len(PALETTE)]}
              for m, hlr, ior, i in pts]
    return {"width": width, "height": height, "label": "HLR against IOR per method", "cls": "chart scatter",
            "axis": x_axis(sx, xt, top, bottom, "HLR (lower is better)"),
            "grid": [{"y": sy(t), "label_y": sy(t) + FONT / 3, "label": tick_label(t)} for t in yt], "left": left, "right": width - right,
            "tick_x": left - 6, "title_y": (top + bottom) / 2, "points": points,
            "labels": scatter_labels(points, (left + width - right) / 2)}


def table_figures(table: dict, confidence: float) -> dict:
    """The charts of one ranking table: score and rank charts, the scatter for an LRS table, the costs."""
    return {"score_name": table["score"].upper(), "score": score_chart(table), "rank": rank_chart(table, confidence),
            "scatter": scatter_chart(table) if table["score"] == "lrs" else None,
            "costs": [f"{r['method']} {r['train_seconds']:.1f} s" for r in table["rows"]
                      if r.get("train_seconds") is not None]}
