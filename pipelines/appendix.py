"""`ddr report RESULT_OR_RELEASE`: a short plain-text summary a researcher can paste into an appendix.

Reads only the files (result.json, or a release's ranking.json and results/): the scores, their
components, what the real data and the random baseline reached, what the cells cost, and how certain
the ranking is. No metric maths here beyond means of recorded values.
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click

from ddr.checks import release_file
from ddr.errors import DDRError
from ddr.eval.result import check_schema

_PARTS = {"lrs": ("hlr", "ior"), "ars": ("delta_aug", "delta_noaug"), "acc": ()}
_ACC_NAMES = {"real": "the full real training set", "syn": "the distilled set", "random": "the random subset",
              "syn_hard": "the distilled set with hard labels", "syn_aug": "the distilled set (augmented)",
              "random_aug": "the random subset (augmented)", "syn_noaug": "the distilled set (no augmentation)",
              "random_noaug": "the random subset (no augmentation)"}


def _pm(m: dict) -> str:
    return f"{m['mean']:.4f} ± {m['std']:.4f}"


def _mean(v) -> float:
    return float(v) if isinstance(v, (int, float)) else sum(v) / len(v)


def _wrap(text: str, indent: str = "") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def result_summary(d: dict) -> str:
    kind, proto = d["kind"], d["protocol"]
    score = d["metrics"][kind]
    head = (f"{d['method']} on {d['dataset']} at {d['ipc']} image(s) per class, {d['label']} labels: "
            f"{kind.upper()} = {_pm(score)} (mean ± population std over {d['rounds']} round(s); protocol "
            f"{proto['name']} v{proto['version']}, {d['model']}, w = {d['weight']:g}).")
    parts = [f"{p.upper()} = {_pm(d['metrics'][p])}" for p in _PARTS.get(kind, ()) if p in d["metrics"]]
    lines = [_wrap(head)]
    if parts:
        lines.append(_wrap("Components: " + ", ".join(parts) + ".", "  "))
    acc = d.get("accuracies") or {}
    if acc:
        said = [f"{_ACC_NAMES.get(k, k)} {_mean(v):.4f}" for k, v in acc.items() if v not in (None, [])]
        lines.append(_wrap("Test accuracy (mean over rounds, best learning rate of the grid): " + "; ".join(said)
                           + ".", "  "))
    seeds = [str(r["seed"]) for r in (d.get("inputs") or {}).get("random") or []]
    if seeds:
        lines.append(_wrap(f"Random baselines: one subset of the same size per round, seeds {', '.join(seeds)}.",
                           "  "))
    res = d.get("resources") or {}
    secs = res.get("train_seconds", sum(t.get("seconds", 0) for t in d.get("trainings") or []))
    n = res.get("trainings", len(d.get("trainings") or []))
    env = d.get("environment") or {}
    lines.append(_wrap(f"Cost: {n} trainings, {secs:.1f} s of training on {env.get('device', '?')} "
                       f"(ddr {env.get('ddr', '?')}, torch {env.get('torch', '?')}).", "  "))
    return "\n".join(lines)


def _certainty(rows: list[dict], confidence: int) -> str:
    first = rows[0]
    if first["p_rank1"] is None:  # one round: the ranking records no certainty
        return "Rank certainty not computed (one round: zero spread is not certainty)."
    out = [f"{first['method']} ranks first in {first['p_rank1'] * 100:.0f}% of the draws."]
    for a, b in zip(rows, rows[1:]):
        (alo, ahi), (blo, bhi) = a["rank_interval"], b["rank_interval"]
        if ahi >= blo or (a["p_beats_next"] is not None and a["p_beats_next"] < 0.95):
            out.append(f"The order of {a['method']} and {b['method']} is uncertain: {a['method']} scores higher in "
                       f"{a['p_beats_next'] * 100:.1f}% of the draws (rank intervals {alo}-{ahi} and "
                       f"{blo}-{bhi}).")
    if len(out) == 1 and len(rows) > 1:
        out.append(f"Each method scores above the next in at least 95% of the draws and no {confidence}% "
                   "rank intervals overlap.")
    return " ".join(out)


def release_summary(folder: Path) -> str:
    from registry.ranking import read_ranking

    ranking = read_ranking(folder / "ranking.json")
    b = ranking["posterior_draws"]
    conf = int(b["confidence"] * 100)
    lines = [_wrap(f"DD-Ranking release {ranking.get('version', folder.name)}. Rank certainty: {b['method']}, "
                   f"{b['draws']} draws (seed {b['seed']}); 'rank a-b' is the {conf}% rank interval.")]
    for t in ranking["tables"]:
        rows = t["rows"]
        lines += ["", f"{t['dataset']}, {t['ipc']} image(s) per class, {t['label']} labels, {t['score'].upper()} "
                      f"(higher is better):"]
        for r in rows:
            lo, hi = r["rank_interval"]
            comps = ", ".join(f"{k.upper()} {_pm(v)}" for k, v in sorted(r["components"].items()))
            cost = f"; {r['train_seconds']:.1f} s of training" if r.get("train_seconds") is not None else ""
            lines.append(_wrap(f"{r['rank']}. {r['method']}: {_pm(r)} over {r['rounds']} round(s), rank {lo}-{hi}"
                               f" ({comps}{cost}; protocol {r['protocol'].get('name')} "
                               f"v{r['protocol'].get('version')}).", "  "))
            # the release names the file: it must stay inside the release folder
            result = release_file(folder, r["result"], "result") if r.get("result") else None
            if result is not None and result.is_file():
                acc = json.loads(result.read_text()).get("accuracies") or {}
                rnd = {k: v for k, v in acc.items() if k.startswith("random")}
                if rnd:
                    said = ", ".join(f"{_ACC_NAMES.get(k, k)} {_mean(v):.4f}" for k, v in rnd.items())
                    real = f"; the full real training set {acc['real']:.4f}" if "real" in acc else ""
                    lines.append(_wrap(f"Random baseline reached: {said}{real}.", "     "))
        lines.append(_wrap(_certainty(rows, conf), "  "))
    return "\n".join(lines)


def summarise(path: str | Path) -> str:
    p = Path(path)
    if p.is_dir() and (p / "ranking.json").is_file():
        return release_summary(p)
    if p.is_dir() and (p / "result.json").is_file():
        p = p / "result.json"
    if not p.is_file():
        raise DDRError(f"{path}: neither a result.json nor a release folder (ranking.json)")
    try:
        d = json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DDRError(f"{p}: not JSON ({exc})") from None
    check_schema(d, p)
    return result_summary(d)


@click.command("report")
@click.argument("path", type=click.Path())
def report_cmd(path: str) -> None:
    """Print a short plain-text summary of a result.json or a release folder, for a paper's appendix.

    \b
    Example:
      ddr report results/digits-ipc10/lrs-hard/herding
      ddr report releases/1.0.0
    """
    click.echo(summarise(path))
