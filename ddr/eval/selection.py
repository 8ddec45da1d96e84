"""Model selection: which checkpoint (epoch) and LR an evaluation reports, and with what data it chose.

- ``test`` (DD-Ranking's rule, the default): the maximum test accuracy over test points and LRs. It
  selects on the test set, so it is optimistic; kept so numbers stay comparable with DD-Ranking.
- ``val``: a fixed, stratified validation split is carved out of the real training set before anything
  else sees it (random baselines, the real reference and teachers are drawn from / trained on the rest);
  epoch and LR are chosen by validation accuracy and the test accuracy at that point is reported. The
  optimism gap (test maximum minus the validation-selected test accuracy) is recorded.
- ``last``: the test accuracy after the last epoch; the LR is still searched on it (no epoch maximum).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from ddr.data.digest import tensors_sha256
from ddr.data.folder_data import FolderData
from ddr.data.real_data import RealData
from ddr.train.epochs import best_point

SELECTIONS = ("test", "val", "last")
VAL_SEED = 0  # fixed: the split is part of the data's identity under 'val'


@dataclasses.dataclass(frozen=True)
class ValidationSplit:
    x: torch.Tensor
    y: torch.Tensor
    indices: list[int]  # positions in the full training set
    fraction: float
    digest: str


def carve_validation(data: RealData, fraction: float, seed: int = VAL_SEED) -> tuple[RealData, ValidationSplit]:
    """Split `fraction` of every class off the training set (at least one image per class)."""
    rng = np.random.default_rng(seed)
    val: list[int] = []
    for idx in data.class_indices():
        take = max(1, int(round(fraction * len(idx))))
        val += [int(i) for i in rng.choice(idx, size=take, replace=False)]
    val.sort()
    keep = np.setdiff1d(np.arange(len(data.y_train)), np.asarray(val, dtype=np.int64))
    files = {"train_paths": tuple(data.train_paths[i] for i in keep)} if isinstance(data, FolderData) else {}
    rest = dataclasses.replace(data, x_train=data.x_train[keep].clone(), y_train=data.y_train[keep].clone(),
                               _digest=[], **files)
    x, y = data.x_train[val].clone(), data.y_train[val].clone()
    return rest, ValidationSplit(x, y, val, fraction, tensors_sha256(x, y))


def selected_point(record: dict[str, Any], mode: str) -> dict[str, Any]:
    """The checkpoint a training reports under `mode`: its epoch, test accuracy and (val) validation accuracy."""
    if mode == "test":
        return {"epoch": record["best_epoch"], "test_acc": record["best_acc"]}
    history = {int(e): float(a) for e, a in record["history"]}
    if mode == "last":
        epoch = max(history)
        return {"epoch": epoch, "test_acc": history[epoch]}
    best_epoch, best_val = best_point(record["val_history"])  # the test points' rule: ties keep the earlier epoch
    return {"epoch": best_epoch, "test_acc": history[best_epoch], "val_acc": best_val}


def choose_lr(records: list[dict[str, Any]], mode: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record (trained at ascending LRs) whose selected point scores best on the selection data;
    strictly greater wins, so ties keep the smaller LR. Returns (record, its selected point)."""
    best, best_point = None, None
    for rec in records:
        point = selected_point(rec, mode)
        score = point["val_acc"] if mode == "val" else point["test_acc"]
        if best_point is None or score > (best_point["val_acc"] if mode == "val" else best_point["test_acc"]):
            best, best_point = rec, point
    assert best is not None and best_point is not None
    return best, best_point


def optimism_summary(log: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean optimism gap (test maximum minus selected test accuracy) per role and overall."""
    by_role: dict[str, list[float]] = {}
    for entry in log:
        by_role.setdefault(entry["role"], []).append(entry["gap"])
    gaps = [e["gap"] for e in log]
    return {"mean": float(np.mean(gaps)) if gaps else None,
            "by_role": {r: float(np.mean(v)) for r, v in sorted(by_role.items())},
            "per_selection": log}


def selection_record(protocol: Any, validation: ValidationSplit | None, log: list[dict[str, Any]]) -> dict | None:
    """result.json's `selection`: None under 'test' (results stay as they were)."""
    if protocol.selection == "test":
        return None
    out: dict[str, Any] = {"mode": protocol.selection, "optimism_gap": optimism_summary(log)}
    if validation is not None:
        out["validation"] = {"fraction": validation.fraction, "seed": VAL_SEED, "images": len(validation.indices),
                             "sha256": validation.digest}
    return out
