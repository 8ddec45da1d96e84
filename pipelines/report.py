"""Plain-text tables for the terminal (no metric maths here: values come from result.json)."""
from __future__ import annotations

from collections.abc import Sequence

from ddr.eval.result import EvalResult

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


def comparison_table(results: Sequence[EvalResult]) -> str:
    """Methods of one (data set, ipc, kind) ordered by their main score, best first."""
    if not results:
        return "no results"
    main = results[0].kind
    ordered = sorted(results, key=lambda r: -r.score(main))
    names = _SCORE.get(main, tuple(results[0].metrics))
    width = max(len(r.method) for r in results) + 2
    head = f"{'rank':<5}{'method':<{width}}{'ipc':>4}  " + "  ".join(f"{n.upper():>17}" for n in names)
    rows = [head, "-" * len(head)]
    for i, r in enumerate(ordered, 1):
        rows.append(f"{i:<5}{r.method:<{width}}{r.ipc:>4}  " + "  ".join(f"{_fmt(r.metrics[n]):>17}" for n in names))
    return "\n".join(rows)
