"""The text renderings of a ranking (ranking.csv, ranking.md) and the cell texts the page shares with them."""
from __future__ import annotations

import html

from registry.csv_text import csv_text
from registry.page.certainty import beats_random_text, label_caption, table_notes

CSV_COLUMNS = ["dataset", "ipc", "label", "score", "rank", "method", "mean", "std", "rounds",
               "rank_lo", "rank_hi", "p_rank1", "p_beats_next", "components", "protocol", "protocol_version",
               "mlflow_run_id", "vs_random", "vs_random_lo", "vs_random_hi", "certainty", "flags", "edition"]


def fmt(x: float | None, digits: int = 4) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def components_text(row: dict) -> str:
    return " ".join(f"{k}={v['mean']:.4f}±{v['std']:.4f}" for k, v in sorted(row["components"].items()))


def to_csv(ranking: dict) -> str:
    rows: list[list] = [CSV_COLUMNS]
    for t in ranking["tables"]:
        for r in t["rows"]:
            rows.append([t["dataset"], t["ipc"], t["label"], t["score"], r["rank"], r["method"],
                         r["mean"], r["std"], r["rounds"], r["rank_interval"][0], r["rank_interval"][1],
                         r["p_rank1"], r["p_beats_next"], components_text(r),
                         r["protocol"].get("name"), r["protocol"].get("version"), r["mlflow_run_id"],
                         *_vs_random_csv(r), t.get("certainty"), "; ".join(t.get("flags", []) + r.get("flags", [])),
                         r["protocol"].get("edition", "ddr")])
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
                f"| {r['rank']} | {_md_cell(r['method'])} | {fmt(r['mean'])} | {fmt(r['std'])} | "
                f"{lo}–{hi} | {fmt(r['p_rank1'], 3) or '—'} | {fmt(r['p_beats_next'], 3) or '—'} | "
                f"{_md_cell(beats_random_text(r))} | "
                f"{_md_cell(components_text(r))} | {_md_cell(r['protocol'].get('name'))} v{r['protocol'].get('version')} |")
        lines.append("")
    return "\n".join(lines)
