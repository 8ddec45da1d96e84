"""Label-robust score with hard labels: DD-Ranking's LabelRobustScoreHard (reference 1.2, 2.7), corrected.

Per round r: Acc(syn, hard) over the LR grid; a random subset drawn with seed `seed_base + r` trained
the same way; HLR = Acc(real) - Acc(syn), IOR = Acc(syn) - Acc(random), LRS from fractions.
Corrections to v0.2.0: the LR search is symmetric (both sides searched, or both trained at the set's
own lr.pt under lr_policy 'method'; defect 1.6.3); the real reference is trained once and cached;
LRS is recorded once per round (defect 6.1.2); every seed is derived and recorded.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from ddr import metrics
from ddr.data.digest import tensor_sha256
from ddr.data.distilled import DistilledSet
from ddr.data.random_baseline import random_baseline
from ddr.eval.session import EvalSession
from ddr.protocols import Protocol


def lr_candidates_for(protocol: Protocol, ds: DistilledSet) -> tuple[float, ...]:
    """The LRs both sides are trained at: the grid, or the set's own lr.pt under lr_policy 'method'."""
    if protocol.lr_policy == "method" and ds.lr is not None:
        return (float(ds.lr),)
    return protocol.lr_grid


def count_trainings(grid_size: int, rounds: int) -> int:
    return rounds * 2 * grid_size + 1


def run_lrs_hard(session: EvalSession, ds: DistilledSet, rounds: int, weight: float) -> dict[str, Any]:
    proto, data, dev = session.protocol, session.data, session.device
    lrs_grid = lr_candidates_for(proto, ds)
    real = session.real_reference()
    x_syn, y_syn = ds.images.to(dev), ds.hard_labels(data.num_classes).to(dev)
    baselines = [random_baseline(data, session.ipc, proto.seed_base + r) for r in range(rounds)]
    if session.batched:  # every round's grid, both sides, trained at once (numbers: see ddr.train.batched)
        syn_digest = tensor_sha256(x_syn, y_syn)
        jobs = []
        for r, rb in enumerate(baselines):
            xr, yr = rb.images.to(dev), rb.labels.to(dev)
            rdigest = tensor_sha256(xr, yr)
            for lr in sorted(lrs_grid):
                jobs.append(dict(role="syn", round=r, lr=lr, x=x_syn, y=y_syn, recipe=proto.train,
                                 set_digest=syn_digest))
                jobs.append(dict(role="random", round=r, lr=lr, x=xr, y=yr, recipe=proto.train,
                                 set_digest=rdigest))
        session.prefetch(jobs)
    syn_acc, rdm_acc, random_inputs = [], [], []
    for r in range(rounds):
        syn = session.search(role="syn", round=r, lrs=lrs_grid, x=x_syn, y=y_syn, recipe=proto.train)
        rb = baselines[r]
        random_inputs.append({"round": r, "seed": proto.seed_base + r,
                              "indices_sha256": indices_digest(rb.indices)})
        rdm = session.search(role="random", round=r, lrs=lrs_grid, x=rb.images.to(dev), y=rb.labels.to(dev),
                             recipe=proto.train)
        syn_acc.append(syn["best_acc"])
        rdm_acc.append(rdm["best_acc"])
    hlr = [metrics.hlr(real["best_acc"], s) for s in syn_acc]
    ior = [metrics.ior(s, q) for s, q in zip(syn_acc, rdm_acc)]
    lrs = [metrics.lrs(h, i, weight) for h, i in zip(hlr, ior)]
    return {
        "metrics": {"hlr": metrics.summarize(hlr), "ior": metrics.summarize(ior), "lrs": metrics.summarize(lrs)},
        "accuracies": {"real": real["best_acc"], "syn": syn_acc, "random": rdm_acc},
        "random_inputs": random_inputs,
    }


def indices_digest(indices: list[list[int]] | None) -> str:
    return hashlib.sha256(json.dumps(indices).encode()).hexdigest()
