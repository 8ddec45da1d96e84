"""A paired test between two methods over test images: McNemar on the predictions bundles of a release.

The rounds pair up (round r of both methods used the same seeds' random subset and test set), so per
round we count the test images only one of the two methods gets right; McNemar's exact test asks
whether those counts are balanced. Pooled over rounds each image counts once per round.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ddr.checks import release_file
from ddr.errors import DDRError
from ddr.eval.predictions import mcnemar, read_bundle
from registry.ranking import MAIN_ROLE, predictions_path, table_key


def _bundle(release: Path, row: dict) -> dict[str, np.ndarray] | None:
    path = release_file(release, predictions_path(row["result"]), "predictions bundle")
    return read_bundle(path) if path.is_file() else None


def paired_tests(release_a: Path, ranking_a: dict, method_a: str, release_b: Path, ranking_b: dict,
                 method_b: str) -> list[dict]:
    """Per table holding method_a in release A and method_b in release B: McNemar per round and pooled."""
    ta = {table_key(t): t for t in ranking_a["tables"]}
    tb = {table_key(t): t for t in ranking_b["tables"]}
    out = []
    for key in sorted(set(ta) & set(tb)):
        ra = next((r for r in ta[key]["rows"] if r["method"] == method_a), None)
        rb = next((r for r in tb[key]["rows"] if r["method"] == method_b), None)
        if ra is None or rb is None:
            continue
        entry: dict = {"table": key, "a": method_a, "b": method_b}
        ba, bb = _bundle(release_a, ra), _bundle(release_b, rb)
        if ba is None or bb is None:
            out.append({**entry, "error": "no per-image predictions in the release"})
            continue
        if not np.array_equal(ba["y_test"], bb["y_test"]):
            out.append({**entry, "error": "different test sets"})
            continue
        y, role = ba["y_test"], MAIN_ROLE[ta[key]["score"]]
        rounds = sorted(set(k for k in ba if k.startswith(f"{role}/")) & set(k for k in bb if k.startswith(f"{role}/")))
        if not rounds:
            out.append({**entry, "error": f"no {role} predictions in common"})
            continue
        per_round = {k.split("/", 1)[1]: mcnemar(ba[k] == y, bb[k] == y) for k in rounds}
        pooled = mcnemar(np.concatenate([ba[k] == y for k in rounds]), np.concatenate([bb[k] == y for k in rounds]))
        out.append({**entry, "role": role, "per_round": per_round, "pooled": pooled})
    if not out:
        raise DDRError(f"no table holds {method_a} in the first release and {method_b} in the second")
    return out


def format_paired(tests: list[dict]) -> str:
    lines = []
    for t in tests:
        if "error" in t:
            lines.append(f"{t['table']}: {t['a']} vs {t['b']}: {t['error']}")
            continue
        p = t["pooled"]
        lines.append(f"{t['table']}: {t['a']} vs {t['b']} ({t['role']}, McNemar over test images): "
                     f"acc {p['acc_a']:.4f} vs {p['acc_b']:.4f}; only {t['a']} right {p['only_a']}, only {t['b']} "
                     f"right {p['only_b']} of {p['pairs']} (image, round) pairs; p = {p['p_value']:.4g}")
        lines += [f"  {r}: only a {m['only_a']}, only b {m['only_b']}, p = {m['p_value']:.4g}"
                  for r, m in t["per_round"].items()]
    return "\n".join(lines)
