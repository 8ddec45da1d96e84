"""Label-robust score (reference 1.2, 2.7), DD-Ranking's LabelRobustScoreHard and ...Soft, corrected.

Per round r, with the random subset of seed seed_base + r:
  hard protocol: Acc(syn, hard) over the LR grid; the random subset the same way;
                 HLR = Acc(real) - Acc(syn, hard), IOR = Acc(syn, hard) - Acc(random, hard).
  soft protocol: Acc(syn, hard) with cross-entropy over `hard_lr_grid` (the method's per-image transforms
                 kept, its Mixup/CutMix dropped unless use_aug_for_hard), Acc(syn, soft) and
                 Acc(random, soft) under the method's recipe (mode S or M);
                 HLR = Acc(real) - Acc(syn, hard), IOR = Acc(syn, soft) - Acc(random, soft).
LRS from fractions. Corrections to v0.2.0: the LR search is symmetric (both sides searched, or both
trained at the set's own lr.pt under lr_policy 'method'; defect 1.6.3); the real reference is trained
once and cached; LRS is recorded once per round (6.1.2); every seed is derived and recorded.
Under lr_policy 'method' with a set lr.pt, the random side is also searched over the grid (what
DD-Ranking did): both IORs are recorded (ior_random_method, ior_random_search) and `ior` is the one the
protocol's `ior_random` names.

The trainings are stated in ddr.eval.plan; this module scores what they finished.
"""
from __future__ import annotations

from typing import Any

from ddr import metrics
from ddr.eval.finished import Finished
from ddr.protocols import Protocol


def _real(finished: Finished, protocol: Protocol, r: int) -> float:
    """Round r's Acc(real): the reference of that round where it is trained in every round, else the one."""
    return finished.acc("real", r if protocol.real_every_round else 0)


def _syn_hard(protocol: Protocol) -> str:
    """The role whose accuracy is Acc(syn, hard): a hard protocol's syn is, as in LabelRobustScoreHard."""
    return "syn_hard" if protocol.label == "soft" else "syn"


def round_scores(finished: Finished, protocol: Protocol, r: int, weight: float) -> dict[str, float]:
    """Round r's HLR, IOR and LRS (logged while the evaluation runs)."""
    h = metrics.hlr(_real(finished, protocol, r), finished.acc(_syn_hard(protocol), r))
    i = metrics.ior(finished.acc("syn", r), finished.acc("random", r))
    return {"hlr": h, "ior": i, "lrs": metrics.lrs(h, i, weight)}


def score(finished: Finished, protocol: Protocol, rounds: int, weight: float) -> dict[str, Any]:
    """result.json's `metrics` and `accuracies`."""
    real_per_round = [_real(finished, protocol, r) for r in range(rounds)]
    syn_hard = [finished.acc(_syn_hard(protocol), r) for r in range(rounds)]
    syn_any = [finished.acc("syn", r) for r in range(rounds)]
    rdm_any = [finished.acc("random", r) for r in range(rounds)]
    hlr = [metrics.hlr(a, s) for a, s in zip(real_per_round, syn_hard)]
    ior = [metrics.ior(s, q) for s, q in zip(syn_any, rdm_any)]
    extra_metrics: dict[str, Any] = {}
    # Acc(real): the one reference (its mean over rounds where it is trained in every round, each round's
    # HLR using its own, in real_per_round)
    real = sum(real_per_round) / rounds if protocol.real_every_round else real_per_round[0]
    accuracies: dict[str, Any] = {"real": real, "syn": syn_any, "random": rdm_any}
    if protocol.real_every_round:
        accuracies["real_per_round"] = real_per_round
    if finished.has("random_search", 0):
        rdm_searched = [finished.acc("random_search", r) for r in range(rounds)]
        ior_search = [metrics.ior(s, q) for s, q in zip(syn_any, rdm_searched)]
        extra_metrics = {"ior_random_method": metrics.summarize(ior), "ior_random_search": metrics.summarize(ior_search)}
        accuracies["random_search"] = rdm_searched
        if protocol.ior_random == "search":
            ior = ior_search
    lrs = [metrics.lrs(h, i, weight) for h, i in zip(hlr, ior)]
    if protocol.label == "soft":
        accuracies["syn_hard"] = syn_hard
    return {
        "metrics": {"hlr": metrics.summarize(hlr), "ior": metrics.summarize(ior), "lrs": metrics.summarize(lrs),
                    **extra_metrics},
        "accuracies": accuracies,
    }
