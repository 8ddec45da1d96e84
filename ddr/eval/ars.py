"""Augmentation-robust score (reference 1.3), DD-Ranking's AugmentationRobustScore, corrected.

Per round r: Acc(syn, aug), Acc(random, aug), Acc(syn, no aug), Acc(random, no aug), all under the
protocol's labels (hard, or soft mode S/M) and the same LR treatment on both sides (v0.2.0 searched the
random side only; defect 1.6.3). ARS = exp-normalised g*(syn_aug - rdm_aug) + (1-g)*(syn_noaug - rdm_noaug),
on fractions (v0.2.0 used percentage points; 6.1.1). The hard-label path, broken in v0.2.0 (6.1.6), works.
"""
from __future__ import annotations

from typing import Any

from ddr import metrics
from ddr.data.distilled import DistilledSet
from ddr.errors import DDRError
from ddr.eval.lrs import lr_candidates_for
from ddr.eval.session import EvalSession
from ddr.protocols import Protocol


def count_trainings(protocol: Protocol, grid_size: int, rounds: int) -> int:
    return rounds * 4 * grid_size


def run(session: EvalSession, ds: DistilledSet, rounds: int, weight: float) -> dict[str, Any]:
    proto: Protocol = session.protocol
    if proto.train.augmentation is None:
        raise DDRError(f"protocol {proto.name} has no augmentation: ARS compares with and without it")
    grid = lr_candidates_for(proto, ds)
    acc: dict[str, list[float]] = {"syn_aug": [], "random_aug": [], "syn_noaug": [], "random_noaug": []}
    random_inputs = []
    for r in range(rounds):
        rb, info = session.random_baseline(r)
        random_inputs.append(info)
        for arm, recipe in (("aug", proto.train), ("noaug", proto.noaug_recipe())):
            for role, subset in (("syn", ds), ("random", rb)):
                rec = session.search_labelled(role=f"{role}_{arm}", round=r, lrs=grid, ds=subset, recipe=recipe,
                                              is_random=role == "random")
                acc[f"{role}_{arm}"].append(rec["best_acc"])
        if session.tracker is not None:  # the round's scores while the evaluation runs
            a = metrics.ior(acc["syn_aug"][-1], acc["random_aug"][-1])
            b = metrics.ior(acc["syn_noaug"][-1], acc["random_noaug"][-1])
            session.tracker.log_round(r, {"delta_aug": a, "delta_noaug": b, "ars": metrics.ars(a, b, weight)})
    d_aug = [metrics.ior(s, q) for s, q in zip(acc["syn_aug"], acc["random_aug"])]
    d_noaug = [metrics.ior(s, q) for s, q in zip(acc["syn_noaug"], acc["random_noaug"])]
    ars = [metrics.ars(a, b, weight) for a, b in zip(d_aug, d_noaug)]
    return {
        "metrics": {"delta_aug": metrics.summarize(d_aug), "delta_noaug": metrics.summarize(d_noaug),
                    "ars": metrics.summarize(ars)},
        "accuracies": acc,
        "random_inputs": random_inputs,
    }
