"""Renderings of a ranking: CSV, Markdown, and a static HTML page (inline JS sort, no network)."""
from __future__ import annotations

import html
import json

from registry import charts
from registry.csv_text import csv_text
from registry.ranking import table_key
from registry.render_certainty import beats_random_sort_value, beats_random_text, label_caption, table_notes
from registry.render_classes import per_class_html
from registry.render_sensitivity import sensitivity_html

CSV_COLUMNS = ["dataset", "ipc", "label", "score", "rank", "method", "mean", "std", "rounds",
               "rank_lo", "rank_hi", "p_rank1", "p_beats_next", "components", "protocol", "protocol_version",
               "mlflow_run_id", "vs_random", "vs_random_lo", "vs_random_hi", "certainty", "flags"]


def _fmt(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _components(row: dict) -> str:
    return " ".join(f"{k}={v['mean']:.4f}±{v['std']:.4f}" for k, v in sorted(row["components"].items()))


def to_csv(ranking: dict) -> str:
    rows: list[list] = [CSV_COLUMNS]
    for t in ranking["tables"]:
        for r in t["rows"]:
            rows.append([t["dataset"], t["ipc"], t["label"], t["score"], r["rank"], r["method"],
                         r["mean"], r["std"], r["rounds"], r["rank_interval"][0], r["rank_interval"][1],
                         r["p_rank1"], r["p_beats_next"], _components(r),
                         r["protocol"].get("name"), r["protocol"].get("version"), r["mlflow_run_id"],
                         *_vs_random_csv(r), t.get("certainty"), "; ".join(t.get("flags", []) + r.get("flags", []))])
    return csv_text(rows)


def _vs_random_csv(r: dict) -> list:
    b = r.get("beats_random") or {}
    ci = b.get("interval") or ["", ""]
    return [b.get("verdict", ""), ci[0], ci[1]]


def _md_cell(text: object) -> str:
    """A table cell from any text: no line break, no column separator, no HTML (a method name is data)."""
    return html.escape(" ".join(str(text).splitlines()), quote=False).replace("|", "\\|")


def to_markdown(ranking: dict, version: str, meta: dict | None = None) -> str:
    b = ranking["posterior_draws"]
    lines = [f"# DD-Ranking release {version}", ""]
    if meta:
        for k, v in meta.items():
            lines.append(f"- {k}: {_md_cell(v)}")
        lines.append("")
    lines += [f"Rank certainty: {b['draws']} Student-t posterior draws over rounds (seed {b['seed']}); "
              f"'{int(b['confidence'] * 100)}% rank' is the rank interval, 'P(>next)' the probability that the method "
              "beats the one below it (rounds paired across methods); 'vs random' is where "
              "the 95% interval of the improvement over random (IOR; ARS: with augmentation) lies.", ""]
    for t in ranking["tables"]:
        lines += [f"## {_md_cell(t['dataset'])} · IPC {t['ipc']} · {label_caption(t)} · {t['score'].upper()}", ""]
        lines += [f"- {_md_cell(n)}" for n in table_notes(t)] + ([""] if table_notes(t) else [])
        lines += [f"| rank | method | {t['score'].upper()} mean | std | {int(b['confidence'] * 100)}% rank | P(rank 1) | P(>next) | vs random | components | protocol |",
                  "|---:|---|---:|---:|:---:|---:|---:|---|---|---|"]
        for r in t["rows"]:
            lo, hi = r["rank_interval"]
            lines.append(
                f"| {r['rank']} | {_md_cell(r['method'])} | {_fmt(r['mean'])} | {_fmt(r['std'])} | "
                f"{lo}–{hi} | {_fmt(r['p_rank1'], 3) or '—'} | {_fmt(r['p_beats_next'], 3) or '—'} | "
                f"{_md_cell(beats_random_text(r))} | "
                f"{_md_cell(_components(r))} | {_md_cell(r['protocol'].get('name'))} v{r['protocol'].get('version')} |")
        lines.append("")
    return "\n".join(lines)


_JS = """
document.querySelectorAll('table.rank').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('data-dir') !== 'asc';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
      th.setAttribute('data-dir', asc ? 'asc' : 'desc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (!isNaN(nx) && !isNaN(ny)) { c = nx - ny; } else { c = x < y ? -1 : (x > y ? 1 : 0); }
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
td.t,th.t{text-align:left}
th{cursor:pointer;background:#f3f3f3;user-select:none}
th[data-dir=asc]::after{content:" \\25B2"} th[data-dir=desc]::after{content:" \\25BC"}
code{font-size:90%}
table.rank{display:block;overflow-x:auto;max-width:100%}
@media (max-width:600px){body{margin:.6em}}
"""


def to_html(ranking: dict, version: str, meta: dict | None = None, sensitivity: dict | None = None) -> str:
    e = html.escape
    b = ranking["posterior_draws"]
    conf = int(b["confidence"] * 100)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>DD-Ranking release {e(version)}</title>", f"<style>{_CSS}{charts.CSS}</style></head><body>",
           f"<h1>DD-Ranking release {e(version)}</h1>"]
    if meta:
        out.append("<ul>" + "".join(f"<li>{e(str(k))}: <code>{e(str(v))}</code></li>" for k, v in meta.items()) + "</ul>")
    out.append(f"<p>Rank certainty: {b['draws']} Student-t posterior draws over rounds, paired across methods (seed {b['seed']}). "
               "Click a column header to sort.</p>")
    headers = [("rank", ""), ("method", "t"), ("mean", ""), ("std", ""), (f"{conf}% rank", ""),
               ("P(rank 1)", ""), ("P(&gt;next)", ""), ("vs random (95%)", "t"), ("components", "t"), ("protocol", "t")]
    for t in ranking["tables"]:
        out.append(f"<h2 id=\"{e(table_key(t))}\">{e(t['dataset'])} · IPC {t['ipc']} · {e(label_caption(t))} · "
                   f"{e(t['score'].upper())}</h2>")
        out += [f'<p class="flag">{e(n)}</p>' for n in table_notes(t)]
        out.append('<table class="rank"><thead><tr>' +
                   "".join(f'<th class="{c}">{h}</th>' for h, c in headers) + "</tr></thead><tbody>")
        for r in t["rows"]:
            lo, hi = r["rank_interval"]
            cells = [(r["rank"], str(r["rank"]), ""), (r["method"], e(r["method"]), "t"),
                     (r["mean"], _fmt(r["mean"]), ""), (r["std"], _fmt(r["std"]), ""),
                     (lo + hi / 1000.0, f"{lo}–{hi}", ""),
                     ("" if r["p_rank1"] is None else r["p_rank1"], _fmt(r["p_rank1"], 3) or "—", ""),
                     ("" if r["p_beats_next"] is None else r["p_beats_next"], _fmt(r["p_beats_next"], 3) or "—", ""),
                     (beats_random_sort_value(r), e(beats_random_text(r)), "t"),
                     (_components(r), e(_components(r)), "t"),
                     (r["protocol"].get("name"), e(f"{r['protocol'].get('name')} v{r['protocol'].get('version')}"), "t")]
            out.append("<tr>" + "".join(f'<td class="{c}" data-v="{e(str(v))}">{s}</td>' for v, s, c in cells) + "</tr>")
        out.append("</tbody></table>")
        out.append(charts.table_figures(t, b["confidence"]))
    out.append(per_class_html(ranking))
    if sensitivity:
        out.append(sensitivity_html(sensitivity))
    out.append(f"<script>{_JS}</script>")
    out.append(f'<script type="application/json" id="ranking-meta">{e(json.dumps({"version": version}))}</script>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"
