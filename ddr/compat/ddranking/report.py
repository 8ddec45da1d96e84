"""A ddr EvalResult as DD-Ranking's `compute_metrics` returned it, and its per-round CSV.

Units as DD-Ranking reports them: HLR, IOR and the ARS differences in percentage points, accuracies in
percent; the scores (LRS, ARS) are ddr's, computed on fractions and so in [0, 1] (DD-Ranking fed percentage
points into the exponential, defect 6.1.1).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ddr.eval.result import EvalResult
from ddr.kernel.atomic import write_text_atomic

# DD-Ranking's return key stem -> (ddr metric, factor to DD-Ranking's unit), per kind
KEYS: dict[str, dict[str, tuple[str, float]]] = {
    "lrs": {"hard_label_recovery": ("hlr", 100.0), "improvement_over_random": ("ior", 100.0),
            "label_robust_score": ("lrs", 1.0)},
    "ars": {"with_aug_scores": ("delta_aug", 100.0), "without_aug_scores": ("delta_noaug", 100.0),
            "augmentation_robust_score": ("ars", 1.0)},
    "acc": {"acc": ("acc", 100.0)},
}
# the CSV columns DD-Ranking wrote per round (reference 2.8), per kind
CSV_COLUMNS: dict[str, dict[str, str]] = {
    "lrs": {"hard_label_recovery": "hard_label_recovery", "improvement_over_random": "improvement_over_random",
            "label_robust_score": "lrs"},
    "ars": {"with_aug_scores": "with_aug_scores", "without_aug_scores": "without_aug_scores",
            "augmentation_robust_score": "ars_list"},
    "acc": {"acc": "acc"},
}
CSV_NAMES = {"lrs": "obj_scores.csv", "ars": "aug_scores.csv", "acc": "eval_scores.csv"}


def ddranking_dict(result: EvalResult) -> dict[str, float]:
    """`{stem}_mean`, `{stem}_std` for each of the kind's return keys."""
    out: dict[str, float] = {}
    for stem, (metric, factor) in KEYS[result.kind].items():
        m = result.metrics[metric]
        out[f"{stem}_mean"] = factor * float(m["mean"])
        out[f"{stem}_std"] = factor * float(m["std"])
    return out


def write_csv(result: EvalResult, path: Path) -> Path:
    """One row per round, DD-Ranking's columns and units."""
    cols = CSV_COLUMNS[result.kind]
    per_round = {stem: [KEYS[result.kind][stem][1] * v for v in result.metrics[KEYS[result.kind][stem][0]]["per_round"]]
                 for stem in cols}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(cols.values()))
    for r in range(result.rounds):
        writer.writerow([repr(per_round[stem][r]) for stem in cols])
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(path, buf.getvalue())


def summary(result: EvalResult, scores: dict[str, Any]) -> str:
    """DD-Ranking's log lines, with the units stated."""
    lines = []
    for key, value in scores.items():
        unit = "" if key.startswith(("label_robust_score", "augmentation_robust_score")) else " pp"
        if key.startswith("acc"):
            unit = " %"
        lines.append(f"{key}: {value:.4f}{unit}")
    return "\n".join(lines)
