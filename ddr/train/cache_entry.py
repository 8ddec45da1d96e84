"""The on-disk form of a training-cache entry, bound to its key and checked on read.

An entry is {"key": <its key>, "sha256": <digest of the record>, "record": {...}}. On read it must have
that shape, name the key it is stored under, match its digest (a hand-edited accuracy fails) and hold
a well-formed record (finite accuracies in [0, 1], a history of [epoch, accuracy] pairs). Anything else
is treated as absent and retrained; an entry is never trusted half-way.
"""
from __future__ import annotations

import math
from typing import Any

from ddr.kernel.digests import json_sha256

_NUMBERS = {"best_acc": (0.0, 1.0), "seconds": (0.0, math.inf)}


def record_digest(record: dict[str, Any]) -> str:
    return json_sha256(record)


def seal(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {"key": key, "sha256": record_digest(record), "record": record}


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def well_formed(record: Any) -> bool:
    """A finished training's record as EvalSession writes it."""
    if not isinstance(record, dict):
        return False
    for name, (lo, hi) in _NUMBERS.items():
        v = record.get(name)
        if not _num(v) or not lo <= v <= hi:
            return False
    epoch = record.get("best_epoch")
    if not _num(epoch) or epoch < 0:
        return False
    history = record.get("history")
    if not isinstance(history, list):
        return False
    for point in history:
        if not (isinstance(point, list) and len(point) == 2 and _num(point[0]) and _num(point[1])
                and 0.0 <= point[1] <= 1.0):
            return False
    return True


def unseal(entry: Any, key: str) -> dict[str, Any] | None:
    """The record of a sealed entry stored under `key`, or None when anything about it is off."""
    if not isinstance(entry, dict) or set(entry) != {"key", "sha256", "record"} or entry["key"] != key:
        return None
    record = entry["record"]
    if not well_formed(record) or entry["sha256"] != record_digest(record):
        return None
    return record
