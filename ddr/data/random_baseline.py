"""Random baselines: IPC real training images per class, a pure function of (data set, ipc, seed)."""
from __future__ import annotations

import numpy as np
import torch

from ddr.data.distilled import DistilledSet
from ddr.data.real_data import RealData
from ddr.errors import DDRError


def random_indices(data: RealData, ipc: int, seed: int) -> list[list[int]]:
    """For each class, `ipc` distinct training indices drawn with numpy's PCG64 from `seed`."""
    if isinstance(ipc, bool) or not isinstance(ipc, int) or ipc < 1:
        raise DDRError(f"ipc must be a whole number of at least 1, got {ipc!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DDRError(f"seed must be a non-negative whole number, got {seed!r}")  # numpy refuses negative seeds
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


def load_random_baselines(paths: list[str], data: RealData, ipc: int) -> dict[int, DistilledSet]:
    """Read versioned random-baseline folders (keyed by their seed; a folder of such folders counts as
    all of them), refusing any that is not exactly the pure function's draw for (data set, ipc, seed):
    a stale or hand-edited baseline must not pass."""
    from pathlib import Path

    from ddr.data.distilled import read_distilled

    expanded = []
    for p in map(Path, paths):
        if p.is_dir() and not (p / "images.pt").is_file():
            expanded += sorted(q for q in p.iterdir() if q.is_dir() and (q / "images.pt").is_file())
        else:
            expanded.append(p)
    out: dict[int, DistilledSet] = {}
    for p in expanded:
        ds = read_distilled(p)
        meta = ds.meta
        if meta.get("method") != "random" or "seed" not in meta:
            raise DDRError(f"{p}: not a random baseline (meta.json needs method 'random' and a seed)")
        seed = meta["seed"]  # a whole number: read_distilled checked it
        expected = random_baseline(data, ipc, seed)
        if meta.get("dataset") != data.name or meta.get("ipc") != ipc or ds.indices != expected.indices \
                or not torch.equal(ds.images, expected.images):
            raise DDRError(f"{p}: does not match the random baseline of ({data.name}, ipc {ipc}, seed {seed})")
        out[seed] = ds
    return out
