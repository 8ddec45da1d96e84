"""`EvalRequest`: what one evaluation is asked, as one frozen, typed record.

The `ddr eval` command, a grid cell, `ddr.evaluate` and the DD-Ranking compatibility layer all build an
EvalRequest and hand it to `ddr.eval.api.run_evaluation`; nothing between them restates its fields. The
field names are the names of the concepts everywhere (the click options' destinations included), so
`ipc` is `ipc` from the option to the seed. Imports no torch: a request is built and checked before
anything heavy is loaded (tensors are recognised by duck typing and checked when torch is already loaded).
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddr.errors import DDRError
from ddr.protocols import Protocol
from ddr.protocols.editions import check_edition

LABELS = ("hard", "soft")


@dataclass(frozen=True)
class EvalRequest:
    """One evaluation. `kind`: an evaluation of ddr.eval.api.EVALUATIONS (lrs, ars, acc). Everything else is documented on `ddr.evaluate`."""

    kind: str
    distilled: Any  # a folder path, a DistilledSet, or an N x C x H x W image tensor
    dataset: str
    ipc: int
    label: str = "hard"  # picks the default protocol <dataset>-<kind>-<label>; a named protocol's own wins
    protocol: str | Protocol | None = None  # a shipped name, a YAML path, or a Protocol held in memory
    rounds: int | None = None  # None: the protocol's
    weight: float | None = None  # w of LRS / gamma of ARS; None: the protocol's
    lr: float | None = None  # the set's own learning rate (as lr.pt holds it), for in-memory sets
    labels: Any = None  # a label tensor for in-memory sets (N class indices or N x K soft labels)
    method: str | None = None  # display name; None: meta.json's, else the folder's name
    root: str | None = None  # local folder or file of the real data set
    random: tuple[str, ...] = ()  # versioned random-baseline folders; round r uses seed seed_base + r
    teachers: tuple[str, ...] = ()  # teacher checkpoints, one per protocol teacher
    real_checkpoint: str | None = None  # a state dict whose test accuracy is Acc(real), instead of training one
    edition: str = "ddr"  # ddr.protocols.editions: ddr, ddranking-0.2, leaderboard-2025-02
    engine: str = "plain"
    device: str = "auto"  # cpu, cuda, cuda:1, or auto (None is read as auto)
    track: bool = True  # log to MLflow
    tracking_uri: str | None = None
    cache_dir: str | None = None
    use_cache: bool = True
    out: str | None = None  # folder for result.json and predictions
    tags: Mapping[str, Any] = field(default_factory=dict)  # extra MLflow tags of the parent run

    def __post_init__(self) -> None:
        # sequences and paths normalised once, so every builder gives equal requests for equal input
        for name in ("random", "teachers"):
            value = getattr(self, name)
            if value is None:
                value = ()
            if isinstance(value, (str, Path)) or not isinstance(value, (list, tuple)):
                raise DDRError(f"{name} must be a list of paths, got {value!r}")
            object.__setattr__(self, name, tuple(str(v) for v in value))
        for name in ("real_checkpoint", "cache_dir", "out", "root"):
            value = getattr(self, name)
            if isinstance(value, Path):
                object.__setattr__(self, name, str(value))
        object.__setattr__(self, "tags", dict(self.tags or {}))
        if self.device is None:
            object.__setattr__(self, "device", "auto")
        check_request(self)

    def replace(self, **changes: Any) -> EvalRequest:
        return dataclasses.replace(self, **changes)


def request_fields() -> tuple[str, ...]:
    """The request's field names: what a builder may pass."""
    return tuple(f.name for f in dataclasses.fields(EvalRequest))


def _whole(name: str, value: Any, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise DDRError(f"{name} must be a whole number, got {value!r} ({type(value).__name__})")


def _real(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise DDRError(f"{name} must be a number, got {value!r} ({type(value).__name__})")


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "dtype") and hasattr(value, "device")


def _tensor_in_memory(name: str, value: Any) -> None:
    """A tensor that holds its values (not on the meta device, which has shapes but no numbers)."""
    if _is_tensor(value) and value.device.type == "meta":
        raise DDRError(f"{name} is on the meta device (a shape without values); pass a tensor that holds numbers")


def check_request(request: EvalRequest) -> None:
    """The request's types, before anything is read: a Python caller gets one DDRError, not a TypeError
    from deep inside a training (or after one)."""
    for name in ("kind", "dataset", "label", "engine", "device", "edition"):
        if not isinstance(getattr(request, name), str):
            raise DDRError(f"{name} must be a string, got {getattr(request, name)!r}")
    check_edition(request.edition)
    if request.label not in LABELS:
        raise DDRError(f"label must be 'hard' or 'soft', got '{request.label}'")
    _whole("ipc", request.ipc)
    _whole("rounds", request.rounds, optional=True)
    _real("lr", request.lr)
    _real("weight", request.weight)
    if request.lr is not None and not (math.isfinite(request.lr) and request.lr > 0):
        raise DDRError(f"lr must be positive and finite, got {request.lr!r}")
    if request.weight is not None and not math.isfinite(request.weight):
        raise DDRError(f"weight must be a finite number, got {request.weight!r}")
    labels = request.labels
    if labels is not None:
        if not _is_tensor(labels):
            raise DDRError(f"labels must be a tensor (N class indices or N x K soft labels), not a "
                           f"{type(labels).__name__}; e.g. torch.tensor(labels)")
        _tensor_in_memory("labels", labels)
        if labels.is_complex() or str(labels.dtype) == "torch.bool":
            raise DDRError(f"labels are {str(labels.dtype).replace('torch.', '')}; expected integer class indices "
                           "or float soft labels")
    distilled = request.distilled
    _tensor_in_memory("distilled", getattr(distilled, "images", distilled))
    _tensor_in_memory("distilled labels", getattr(distilled, "labels", None))


__all__ = ["LABELS", "EvalRequest", "check_request", "request_fields"]
