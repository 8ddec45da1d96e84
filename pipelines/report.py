"""An evaluation's result as a plain-text table for the terminal (no metric maths here: values come from
result.json). The ranking's table is pipelines.rank_cmd's."""
from __future__ import annotations

from ddr.eval.result import EvalResult

_SCORE = {"lrs": ("hlr", "ior", "lrs"), "ars": ("delta_aug", "delta_noaug", "ars"), "acc": ("acc",)}


def mean_std(m: dict) -> str:
    """A score's 'mean ± std', as every terminal table shows it."""
    return f"{m['mean']:.4f} ± {m['std']:.4f}"


def result_table(r: EvalResult) -> str:
    lines = [f"{r.kind.upper()} ({r.label} labels): {r.method} on {r.dataset}, ipc {r.ipc}, "
             f"protocol {r.protocol['name']}@{r.protocol['version']}, {r.rounds} round(s), w = {r.weight:g}"]
    for name in _SCORE.get(r.kind, tuple(r.metrics)):
        per = " ".join(f"{v:.4f}" for v in r.metrics[name]["per_round"])
        lines.append(f"  {name.upper():<11} {mean_std(r.metrics[name])}   per round: {per}")
    acc = r.accuracies
    parts = [f"real {acc['real']:.4f}"] if "real" in acc else []
    for role in (k for k in acc if k != "real"):
        vals = acc[role]
        parts.append(f"{role} {sum(vals) / len(vals):.4f}")
    lines.append("  accuracy (mean over rounds): " + ", ".join(parts))
    return "\n".join(lines)
