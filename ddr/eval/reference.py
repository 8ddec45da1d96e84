"""The real-data reference when none is trained: a given checkpoint's test accuracy, or DD-Ranking's constant.

Training ResNet-18 on all of ImageNet-1K once per evaluation is not sensible (DD-Ranking used fixed
numbers there). A user passes the trained network instead (`--real-checkpoint`, a plain state dict of the
protocol's model, e.g. torchvision's ResNet-18 weights file for `ResNet-18-BN-tv` on ImageNet-1K); it is
loaded strictly, tested once on the protocol's test split, and recorded by the sha256 of its file.
The ddranking-0.2 edition reads those fixed numbers (REAL_DATA_ACC_CACHE) where DD-Ranking 0.2.0 did
(`constant_reference`), recorded with their source.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.kernel.digests import sha256_file
from ddr.protocols import Protocol
from ddr.protocols.ddranking_tables import REAL_ACC_CACHE_SOURCE, cache_key
from ddr.teacher_nets import load_teacher
from ddr.train.engine import accuracy


def checkpoint_file(path: str | Path) -> Path:
    """The weights file itself: `path`, or `path/ckpt.pt` for a ddr teacher folder. Refused if missing."""
    p = Path(path)
    p = p / "ckpt.pt" if p.is_dir() else p
    if not p.is_file():
        raise DDRError(f"no such checkpoint file: {p}")
    return p


def checkpoint_info(path: str | Path) -> dict[str, str]:
    p = checkpoint_file(path)
    return {"path": str(p), "sha256": sha256_file(p)}


def load_reference(path: str | Path, protocol: Protocol, data: RealData) -> tuple[torch.nn.Module, dict[str, str]]:
    """The protocol's model with the checkpoint's weights (strict), frozen; refuses one that does not fit."""
    info = checkpoint_info(path)
    try:
        net = load_teacher(info["path"], protocol.model, data.channels, data.num_classes, data.im_size,
                           protocol.model_args)
    except DDRError as exc:  # the loader speaks of teachers; say which option was wrong
        raise DDRError(f"--real-checkpoint: {exc}".replace("teacher checkpoint ", "")) from None
    return net, info


def checkpoint_reference(net: torch.nn.Module, info: dict[str, str], x_test, y_test,
                         device: torch.device) -> dict[str, Any]:
    """A training record (as ddr.eval.executor writes them) for the checkpoint's test accuracy."""
    start = time.perf_counter()
    acc = accuracy(net.to(device), x_test, y_test)
    return {"role": "real", "round": 0, "lr": 0.0, "seed": 0, "best_acc": acc, "best_epoch": 0,
            "history": [[0, acc]], "seconds": time.perf_counter() - start, "key": f"checkpoint:{info['sha256']}",
            "cached": False, "checkpoint": info}


def constant_info(protocol: Protocol) -> dict[str, Any] | None:
    """Where a protocol's Acc(real) constant comes from (result.json's inputs.real_constant); None when its
    reference is trained or tested."""
    if protocol.real_acc_cached is None:
        return None
    return {"acc": protocol.real_acc_cached, "percent": round(100 * protocol.real_acc_cached, 6),
            "key": cache_key(protocol.dataset, protocol.model), "source": REAL_ACC_CACHE_SOURCE}


def constant_reference(protocol: Protocol) -> dict[str, Any]:
    """A training record (as ddr.eval.executor writes them) for a cached Acc(real): nothing trained or tested."""
    info = constant_info(protocol)
    assert info is not None
    return {"role": "real", "round": 0, "lr": 0.0, "seed": 0, "best_acc": info["acc"], "best_epoch": 0,
            "history": [], "seconds": 0.0, "key": f"constant:{info['key']}", "cached": False, "constant": info}
