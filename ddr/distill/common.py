"""Shared plumbing for the distillers: meta, class-major assembly of selected indices."""
from __future__ import annotations

from typing import Any

import torch

from ddr.data.distilled import DistilledSet
from ddr.data.real_data import RealData
from ddr.errors import DDRError

Device = torch.device | str | None  # None: CUDA when available (resolve_device)


def check_ipc(data: RealData, ipc: int) -> None:
    if ipc < 1:
        raise DDRError(f"ipc must be at least 1, got {ipc}")
    for c, idx in enumerate(data.class_indices()):
        if len(idx) < ipc:
            raise DDRError(f"{data.name} class {c} has {len(idx)} training images; ipc {ipc} is too large")


def base_meta(method: str, data: RealData, ipc: int, seed: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"method": method, "dataset": data.name, "ipc": ipc, "seed": seed, "params": dict(params),
            "pixel_space": "normalised", "label_kind": "hard", "source": data.source,
            "dataset_sha256": data.digest}


def selection(data: RealData, indices: list[list[int]], meta: dict[str, Any]) -> DistilledSet:
    """A DistilledSet of real training images, class-major; each class's indices sorted."""
    indices = [sorted(int(i) for i in per_class) for per_class in indices]
    flat = [i for per_class in indices for i in per_class]
    return DistilledSet(data.x_train[flat].clone(), data.y_train[flat].clone(), meta=meta, indices=indices)


def class_major_labels(num_classes: int, ipc: int) -> torch.Tensor:
    return torch.arange(num_classes).repeat_interleave(ipc)
