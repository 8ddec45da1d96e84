"""Augmentation-robust score (reference 1.3), DD-Ranking's AugmentationRobustScore, corrected.

Per round r: Acc(syn, aug), Acc(random, aug), Acc(syn, no aug), Acc(random, no aug), all under the
protocol's labels (hard, or soft mode S/M) and the same LR treatment on both sides (v0.2.0 searched the
random side only; defect 1.6.3). ARS = exp-normalised g*(syn_aug - rdm_aug) + (1-g)*(syn_noaug - rdm_noaug),
on fractions (v0.2.0 used percentage points; 6.1.1). The hard-label path, broken in v0.2.0 (6.1.6), works.

The trainings are stated in ddr.eval.plan; this module scores what they finished.
"""
from __future__ import annotations

from typing import Any

from ddr import metrics
from ddr.eval.finished import Finished
from ddr.protocols import Protocol

ARMS = ("syn_aug", "random_aug", "syn_noaug", "random_noaug")


def round_scores(finished: Finished, protocol: Protocol, r: int, weight: float) -> dict[str, float]:
    """Round r's deltas and ARS (logged while the evaluation runs)."""
    a = metrics.ior(finished.acc("syn_aug", r), finished.acc("random_aug", r))
    b = metrics.ior(finished.acc("syn_noaug", r), finished.acc("random_noaug", r))
    return {"delta_aug": a, "delta_noaug": b, "ars": metrics.ars(a, b, weight)}


def score(finished: Finished, protocol: Protocol, rounds: int, weight: float) -> dict[str, Any]:
    """result.json's `metrics` and `accuracies`."""
    acc = {arm: [finished.acc(arm, r) for r in range(rounds)] for arm in ARMS}
    d_aug = [metrics.ior(s, q) for s, q in zip(acc["syn_aug"], acc["random_aug"])]
    d_noaug = [metrics.ior(s, q) for s, q in zip(acc["syn_noaug"], acc["random_noaug"])]
    ars = [metrics.ars(a, b, weight) for a, b in zip(d_aug, d_noaug)]
    return {
        "metrics": {"delta_aug": metrics.summarize(d_aug), "delta_noaug": metrics.summarize(d_noaug),
                    "ars": metrics.summarize(ars)},
        "accuracies": acc,
    }
