"""Herding selection (Welling 2009; the coreset baseline of DC/DD papers): per class, greedily pick the
real images whose running feature mean stays closest to the class mean."""
from __future__ import annotations

import torch

from ddr.data.distilled import DistilledSet
from ddr.data.real_data import RealData
from ddr.distill.common import Device, base_meta, check_ipc, selection
from ddr.distill.features import EMBED_WIDTH, embed, feature_space_name
from ddr.errors import DDRError

FEATURE_SPACES = ("convnet", "pixels")


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


def selection_features(data: RealData, seed: int, feature_space: str, width: int,
                       device: Device = None) -> tuple[torch.Tensor, str]:
    """(features of every training image, the name recorded in meta) for a named feature space."""
    if feature_space == "convnet":
        return embed(data, seed, width=width, device=device).double(), feature_space_name(data, seed, width)
    if feature_space == "pixels":
        return data.x_train.flatten(1).double(), "pixels"
    raise DDRError(f"unknown feature_space '{feature_space}'; valid: {', '.join(FEATURE_SPACES)}")


def select_by_features(method: str, picker, data: RealData, ipc: int, seed: int, device: Device,
                       feature_space: str, width: int, features: torch.Tensor | None) -> DistilledSet:
    """A per-class coreset selection: `picker(class_features, ipc) -> local indices`, in a fixed feature
    space (a seeded random-init ConvNet by default, "pixels", or explicit `features`)."""
    check_ipc(data, ipc)
    if features is not None:
        feats, space = features.double(), "custom"
    else:
        feats, space = selection_features(data, seed, feature_space, int(width), device)
    indices = [[int(idx[i]) for i in picker(feats[torch.from_numpy(idx)], ipc)] for idx in data.class_indices()]
    params = {"feature_space": space if features is not None else feature_space, "width": int(width)}
    meta = base_meta(method, data, ipc, seed, params) | {"feature_space": space}
    return selection(data, indices, meta)


def herding(data: RealData, ipc: int, *, seed: int = 0, device: Device = None, feature_space: str = "convnet",
            width: int = EMBED_WIDTH, features: torch.Tensor | None = None) -> DistilledSet:
    """Herding in a fixed feature space: by default a seeded random-init ConvNet's penultimate features;
    `feature_space="pixels"` uses the normalised pixels; `features` (one row per training image) overrides both."""
    return select_by_features("herding", herding_indices, data, ipc, seed, device, feature_space, width, features)
