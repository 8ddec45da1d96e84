"""How much a release's ranking depends on the protocol: Kendall tau between rankings under other choices.

Three questions reviewers ask of a DD benchmark, answered from the numbers already in the ranking:
- the score's weight (LRS w, ARS gamma) at 0, 0.25, 0.5, 0.75, 1, recomputed per round from the components;
- hard against soft labels, over the methods ranked under both;
- test-selected against validation-selected accuracy, where a release holds both selections.
"""
from __future__ import annotations

import math

import numpy as np

from ddr.metrics import ars, lrs
from registry import ranking as rk

SCHEMA = "ddr.sensitivity/v1"
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
_SCORE_FN = {"lrs": (lrs, "hlr", "ior"), "ars": (ars, "delta_aug", "delta_noaug")}


def kendall_tau(a: list[float], b: list[float]) -> float | None:
    """Kendall's tau-b between two score lists over the same methods; None when undefined (< 2 methods, all tied)."""
    from scipy.stats import kendalltau

    if len(a) < 2:
        return None
    tau = kendalltau(a, b).statistic
    return None if tau is None or not math.isfinite(tau) else round(float(tau), 6)


def _means_at(row: dict, score: str, weight: float) -> float | None:
    fn, first, second = _SCORE_FN[score]
    comps = row.get("components", {})
    if first not in comps or second not in comps:
        return None
    pairs = list(zip(comps[first]["per_round"], comps[second]["per_round"]))
    if not pairs:
        return None
    return float(np.mean([fn(x, y, weight) for x, y in pairs]))


def weight_sensitivity(table: dict) -> dict | None:
    """Per weight: each method's mean score and order; tau between every pair of weights."""
    means = {w: [_means_at(r, table["score"], w) for r in table["rows"]] for w in WEIGHTS}
    if any(v is None for vals in means.values() for v in vals):
        return None
    methods = [r["method"] for r in table["rows"]]
    order = {w: [m for _, m in sorted(zip(means[w], methods), key=lambda p: (-p[0], p[1]))] for w in WEIGHTS}
    tau = [[kendall_tau(means[a], means[b]) for b in WEIGHTS] for a in WEIGHTS]
    published = table["rows"][0].get("weight") if table["rows"] else None
    return {"table": rk.table_key(table), "published_weight": published, "weights": list(WEIGHTS),
            "order": {f"{w:g}": order[w] for w in WEIGHTS},
            "mean": {f"{w:g}": [round(v, 6) for v in means[w]] for w in WEIGHTS}, "methods": methods,
            "tau": tau}


def _paired_tau(name: str, a: dict, b: dict) -> dict:
    ma = {r["method"]: r["mean"] for r in a["rows"]}
    mb = {r["method"]: r["mean"] for r in b["rows"]}
    common = sorted(set(ma) & set(mb))
    return {"compare": name, "tables": [rk.table_key(a), rk.table_key(b)], "methods": common,
            "tau": kendall_tau([ma[m] for m in common], [mb[m] for m in common])}


def build_sensitivity(ranking: dict) -> dict:
    tables = ranking["tables"]
    by_key = {(t["dataset"], t["ipc"], t["label"], t["score"], t.get("selection", "test")): t for t in tables}
    weight = [s for s in (weight_sensitivity(t) for t in tables) if s is not None]
    labels = [_paired_tau("hard vs soft labels", t, by_key[(d, i, "soft", s, sel)])
              for (d, i, lab, s, sel), t in sorted(by_key.items())
              if lab == "hard" and (d, i, "soft", s, sel) in by_key]
    selection = [_paired_tau("test- vs val-selected", t, by_key[(d, i, lab, s, "val")])
                 for (d, i, lab, s, sel), t in sorted(by_key.items())
                 if sel == "test" and (d, i, lab, s, "val") in by_key]
    return {"schema": SCHEMA,
            "note": "Kendall tau-b between the mean scores of the methods two rankings share (1 = same order)",
            "weight": weight, "labels": labels, "selection": selection}
