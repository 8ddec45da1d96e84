"""Plain-text tables for the terminal (no metric maths here: values come from result.json)."""
from __future__ import annotations

from ddr.eval.result import EvalResult
from registry.page.certainty import beats_random_text, table_notes

_SCORE = {"lrs": ("hlr", "ior", "lrs"), "ars": ("delta_aug", "delta_noaug", "ars"), "acc": ("acc",)}


def _fmt(m: dict) -> str:
    return f"{m['mean']:.4f} ± {m['std']:.4f}"


def result_table(r: EvalResult) -> str:
    lines = [f"{r.kind.upper()} ({r.label} labels): {r.method} on {r.dataset}, ipc {r.ipc}, "
             f"protocol {r.protocol['name']}@{r.protocol['version']}, {r.rounds} round(s), w = {r.weight:g}"]
    for name in _SCORE.get(r.kind, tuple(r.metrics)):
        per = " ".join(f"{v:.4f}" for v in r.metrics[name]["per_round"])
        lines.append(f"  {name.upper():<11} {_fmt(r.metrics[name])}   per round: {per}")
    acc = r.accuracies
    parts = [f"real {acc['real']:.4f}"] if "real" in acc else []
    for role in (k for k in acc if k != "real"):
        vals = acc[role]
        parts.append(f"{role} {sum(vals) / len(vals):.4f}")
    lines.append("  accuracy (mean over rounds): " + ", ".join(parts))
    return "\n".join(lines)


def ranking_table(ranking: dict) -> str:
    """The registry's ranking snapshot as terminal tables."""
    out = []
    for t in ranking["tables"]:
        out.append(f"\n{t['dataset']}, ipc {t['ipc']}, {t['label']} labels: {t['score'].upper()}")
        width = max(len(r["method"]) for r in t["rows"]) + 2
        out += [f"  {n}" for n in table_notes(t)]
        head = f"{'rank':<6}{'method':<{width}}{'mean ± std':>18}  {'95% rank':>9}  {'P(>next)':>8}  vs random (95%)"
        out += [head, "-" * len(head)]
        for r in t["rows"]:
            lo, hi = r["rank_interval"]
            p = "" if r["p_beats_next"] is None else f"{r['p_beats_next']:.2f}"
            out.append(f"{r['rank']:<6}{r['method']:<{width}}{_fmt(r):>18}  {f'{lo}-{hi}':>9}  {p:>8}  "
                       f"{beats_random_text(r)}")
    return "\n".join(out)
