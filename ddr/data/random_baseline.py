"""Random baselines: IPC real training images per class, a pure function of (data set, ipc, seed).

Of an image-folder data set, a baseline is also its list of original files with their sha256s: the random
side's per-image train transforms read those originals (ddr.data.originals), so they are what DVC versions
(files.json) besides the decoded tensors."""
from __future__ import annotations

import numpy as np
import torch

from ddr.data.distilled import DistilledSet
from ddr.data.folder_data import FolderData
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
    files = data.train_files(flat) if isinstance(data, FolderData) else None
    return DistilledSet(data.x_train[flat].clone(), data.y_train[flat].clone(), meta=meta, indices=indices,
                        files=files)


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
        mismatch = DDRError(f"{p}: does not match the random baseline of ({data.name}, ipc {ipc}, seed {seed})")
        if meta.get("dataset") != data.name or meta.get("ipc") != ipc or ds.indices != expected.indices:
            raise mismatch
        if expected.files is not None:
            _check_files(p, ds.files, expected.files)
        if not torch.equal(ds.images, expected.images):
            raise mismatch
        out[seed] = ds
    return out


def _check_files(where, found: list[dict] | None, expected: list[dict]) -> None:
    """The baseline's files.json against the originals on disk now: a changed original must not pass."""
    if found is None:
        raise DDRError(f"{where}: a random baseline of an image-folder data set needs files.json (its original "
                       f"files; write it with `ddr data random`)")
    if [(f["path"], f["label"]) for f in found] != [(f["path"], f["label"]) for f in expected]:
        raise DDRError(f"{where}: files.json does not list the files of this draw")
    for f, e in zip(found, expected):
        if f["sha256"] != e["sha256"]:
            raise DDRError(f"{where}: original {e['path']} has sha256 {e['sha256'][:16]}..., files.json records "
                           f"{f['sha256'][:16]}... (the file changed after the baseline was written)")
