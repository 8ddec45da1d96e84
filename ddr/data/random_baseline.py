"""Random baselines: IPC real training images per class, a pure function of (data set, ipc, seed)."""
from __future__ import annotations

import numpy as np

from ddr.data.distilled import DistilledSet
from ddr.data.real import RealData
from ddr.errors import DDRError


def random_indices(data: RealData, ipc: int, seed: int) -> list[list[int]]:
    """For each class, `ipc` distinct training indices drawn with numpy's PCG64 from `seed`."""
    rng = np.random.default_rng(seed)
    out = []
    for c, idx in enumerate(data.class_indices()):
        if len(idx) < ipc:
            raise DDRError(f"{data.name} class {c} has {len(idx)} training images; ipc {ipc} is too large")
        out.append(sorted(int(i) for i in rng.choice(idx, size=ipc, replace=False)))
    return out


def random_baseline(data: RealData, ipc: int, seed: int) -> DistilledSet:
    indices = random_indices(data, ipc, seed)
    flat = [i for per_class in indices for i in per_class]  # class-major
    meta = {"method": "random", "dataset": data.name, "ipc": ipc, "seed": seed,
            "pixel_space": "normalised", "label_kind": "hard", "source": data.source,
            "dataset_sha256": data.digest}
    return DistilledSet(data.x_train[flat].clone(), data.y_train[flat].clone(), meta=meta, indices=indices)
