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
"""
from __future__ import annotations

from typing import Any

from ddr import metrics
from ddr.data.digest import tensor_sha256
from ddr.data.distilled import DistilledSet
from ddr.eval.session import EvalSession, PrefetchJob
from ddr.protocols import Protocol


def lr_candidates_for(protocol: Protocol, ds: DistilledSet) -> tuple[float, ...]:
    """The LRs both sides are trained at: the grid, or the set's own lr.pt under lr_policy 'method'."""
    if protocol.lr_policy == "method" and ds.lr is not None:
        return (float(ds.lr),)
    return protocol.lr_grid


def count_trainings(protocol: Protocol, grid_size: int, rounds: int) -> int:
    per_round = 2 * grid_size + (len(protocol.hard_lr_grid) if protocol.label == "soft" else 0)
    if protocol.lr_policy == "method" and grid_size == 1 and len(protocol.lr_grid) > 1:
        per_round += len(protocol.lr_grid)  # the random side searched too (an lr.pt is the likely reason)
    return rounds * per_round + 1


def _random_searched(protocol: Protocol, ds: DistilledSet) -> bool:
    return protocol.lr_policy == "method" and ds.lr is not None


def run(session: EvalSession, ds: DistilledSet, rounds: int, weight: float) -> dict[str, Any]:
    proto = session.protocol
    grid = lr_candidates_for(proto, ds)
    real = session.real_reference()
    soft = proto.label == "soft"
    if session.batched:
        session.prefetch(_hard_jobs(session, ds, grid, rounds))
    syn_hard, syn_any, rdm_any, rdm_searched, random_inputs = [], [], [], [], []
    for r in range(rounds):
        if soft:
            syn_hard.append(session.search_labelled(role="syn_hard", round=r, lrs=proto.hard_lr_grid, ds=ds,
                                                    recipe=proto.hard_recipe(), is_random=False)["best_acc"])
        syn = session.search_labelled(role="syn", round=r, lrs=grid, ds=ds, recipe=proto.train, is_random=False)
        rb, info = session.random_baseline(r)
        random_inputs.append(info)
        rdm = session.search_labelled(role="random", round=r, lrs=grid, ds=rb, recipe=proto.train, is_random=True)
        if _random_searched(proto, ds):
            rdm_searched.append(session.search_labelled(role="random_search", round=r, lrs=proto.lr_grid, ds=rb,
                                                        recipe=proto.train, is_random=True)["best_acc"])
        syn_any.append(syn["best_acc"])
        rdm_any.append(rdm["best_acc"])
        if not soft:  # hard protocol: Acc(syn, any) is Acc(syn, hard), as in LabelRobustScoreHard
            syn_hard.append(syn["best_acc"])
        if session.tracker is not None:  # the round's scores while the evaluation runs
            h, i = metrics.hlr(real["best_acc"], syn_hard[-1]), metrics.ior(syn_any[-1], rdm_any[-1])
            session.tracker.log_round(r, {"hlr": h, "ior": i, "lrs": metrics.lrs(h, i, weight)})
    hlr = [metrics.hlr(real["best_acc"], s) for s in syn_hard]
    ior = [metrics.ior(s, q) for s, q in zip(syn_any, rdm_any)]
    extra_metrics: dict[str, Any] = {}
    accuracies: dict[str, Any] = {"real": real["best_acc"], "syn": syn_any, "random": rdm_any}
    if rdm_searched:
        ior_search = [metrics.ior(s, q) for s, q in zip(syn_any, rdm_searched)]
        extra_metrics = {"ior_random_method": metrics.summarize(ior), "ior_random_search": metrics.summarize(ior_search)}
        accuracies["random_search"] = rdm_searched
        if proto.ior_random == "search":
            ior = ior_search
    lrs = [metrics.lrs(h, i, weight) for h, i in zip(hlr, ior)]
    if soft:
        accuracies["syn_hard"] = syn_hard
    return {
        "metrics": {"hlr": metrics.summarize(hlr), "ior": metrics.summarize(ior), "lrs": metrics.summarize(lrs),
                    **extra_metrics},
        "accuracies": accuracies,
        "random_inputs": random_inputs,
    }


def _hard_jobs(session: EvalSession, ds: DistilledSet, grid: tuple[float, ...], rounds: int) -> list[PrefetchJob]:
    """The batched engine's share of an LRS evaluation: every hard-label training of every round (both
    sides of a hard protocol; Acc(syn, hard) of a soft one), with the exact arguments that
    search_labelled will pass to train(), so that train() finds them prefetched."""
    proto, dev = session.protocol, session.device
    nc = session.data.num_classes
    sets = [("syn", r, ds) for r in range(rounds)]
    recipe = proto.train
    if proto.label == "soft":
        recipe, grid = proto.hard_recipe(), proto.hard_lr_grid
        sets = [("syn_hard", r, ds) for r in range(rounds)]
    else:
        sets += [("random", r, session.random_baseline(r)[0]) for r in range(rounds)]
    jobs = []
    for role, r, d in sets:
        x, y = d.images.to(dev), d.hard_labels(nc).to(dev)
        digest = tensor_sha256(x, y, None)
        jobs += [PrefetchJob(role=role, round=r, lr=lr, x=x, y=y, recipe=recipe, set_digest=digest)
                 for lr in sorted(grid)]
    return jobs
