"""Herding selection (Welling 2009; the coreset baseline of DC/DD papers): per class, greedily pick the
real images whose running feature mean stays closest to the class mean."""
from __future__ import annotations

import torch

from ddr.data.distilled import DistilledSet
from ddr.data.real import RealData


def herding_indices(features: torch.Tensor, k: int) -> list[int]:
    """Greedy herding on rows of `features`: deterministic (ties break to the lowest index)."""
    mu = features.mean(0)
    chosen: list[int] = []
    running = torch.zeros_like(mu)
    available = torch.ones(len(features), dtype=torch.bool)
    for t in range(1, k + 1):
        # distance of the would-be mean (running*(t-1) + f) / t to the class mean, for every candidate
        cand = (running * (t - 1) + features) / t
        dist = (cand - mu).pow(2).sum(1)
        dist[~available] = float("inf")
        i = int(torch.argmin(dist))
        chosen.append(i)
        available[i] = False
        running = cand[i]
    return chosen


def herding(data: RealData, ipc: int, features: torch.Tensor | None = None) -> DistilledSet:
    """Herding in `features` space (default: the normalised pixels, flattened)."""
    feats = (features if features is not None else data.x_train.flatten(1)).double()
    indices = []
    for idx in data.class_indices():
        local = herding_indices(feats[torch.from_numpy(idx)], ipc)
        indices.append(sorted(int(idx[i]) for i in local))
    flat = [i for per_class in indices for i in per_class]
    meta = {"method": "herding", "dataset": data.name, "ipc": ipc, "pixel_space": "normalised",
            "label_kind": "hard", "source": data.source, "feature_space": "pixels" if features is None else "custom",
            "dataset_sha256": data.digest}
    return DistilledSet(data.x_train[flat].clone(), data.y_train[flat].clone(), meta=meta, indices=indices)
