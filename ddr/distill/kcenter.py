"""K-center greedy coreset (Sener & Savarese 2018, the coreset baseline of the DC papers): per class,
start from the sample nearest the class mean, then repeatedly add the sample farthest from the chosen set."""
from __future__ import annotations

import torch

from ddr.data.distilled import DistilledSet
from ddr.data.real_data import RealData
from ddr.distill.common import Device
from ddr.distill.features import EMBED_WIDTH
from ddr.distill.herding import select_by_features


def kcenter_indices(features: torch.Tensor, k: int) -> list[int]:
    """Farthest-point greedy on rows of `features`; deterministic (ties break to the lowest index)."""
    def sqdist(v: torch.Tensor) -> torch.Tensor:  # exact, not cdist's matmul shortcut
        return (features - v).pow(2).sum(1)

    first = int(torch.argmin(sqdist(features.mean(0))))
    chosen = [first]
    # squared distance of every sample to its nearest chosen centre; chosen ones are masked to -1 so that
    # duplicate images (distance 0 to a centre) can still be picked, but a chosen index never again
    nearest = sqdist(features[first])
    nearest[first] = -1.0
    for _ in range(1, k):
        i = int(torch.argmax(nearest))
        chosen.append(i)
        nearest = torch.minimum(nearest, sqdist(features[i]))
        nearest[chosen] = -1.0
    return chosen


def kcenter(data: RealData, ipc: int, *, seed: int = 0, device: Device = None, feature_space: str = "convnet",
            width: int = EMBED_WIDTH, features: torch.Tensor | None = None) -> DistilledSet:
    """K-center greedy in a fixed feature space (default: a seeded random-init ConvNet; or "pixels")."""
    return select_by_features("kcenter", kcenter_indices, data, ipc, seed, device, feature_space, width, features)
