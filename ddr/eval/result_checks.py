"""Checks on a result.json before the registry ranks or publishes it: its schema (ddr/eval/result.py),
the fields a ranking reads and their types, and every reported summary (mean, std) finite and equal to
what its per-round values give, so a hand-edited mean can neither reorder a ranking nor put NaN into a
signed file."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ddr.errors import DDRError
from ddr.eval.result import check_schema

# what a ranking reads of a result (the rest is provenance, carried as written)
RANKED_FIELDS = ("kind", "label", "method", "dataset", "ipc", "metrics", "protocol")

# a reported mean may differ from the recomputed one by float rounding only
TOLERANCE = 1e-9


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_result_fields(d: Any, path: Path) -> None:
    """The schema, then every field a ranking reads, present and of the right type."""
    check_schema(d, path)
    for key in RANKED_FIELDS:
        if key not in d:
            raise DDRError(f"{path}: result.json lacks '{key}'")
    for key in ("kind", "label", "method", "dataset"):
        if not isinstance(d[key], str) or not d[key]:
            raise DDRError(f"{path}: '{key}' must be a non-empty string, got {d[key]!r}")
    ipc = d["ipc"]
    if isinstance(ipc, bool) or not isinstance(ipc, int) or ipc < 1:
        raise DDRError(f"{path}: 'ipc' must be a positive whole number, got {ipc!r}")
    if not isinstance(d["metrics"], dict):
        raise DDRError(f"{path}: 'metrics' must be a mapping")
    if not isinstance(d["protocol"], dict):
        raise DDRError(f"{path}: 'protocol' must be a mapping")


def check_summaries(d: dict, path: Path) -> None:
    """Every metric with per-round values: all finite, and mean/std equal to what those values give."""
    for name, m in d["metrics"].items():
        if not isinstance(m, dict):
            raise DDRError(f"{path}: metrics.{name} must be a mapping")
        rounds = m.get("per_round")
        if not isinstance(rounds, list) or not rounds:
            raise DDRError(f"{path}: metrics.{name}.per_round is missing or empty")
        for v in rounds:
            if not _finite(v):
                raise DDRError(f"{path}: metrics.{name}.per_round holds a non-finite or non-number {v!r}")
        mean = math.fsum(rounds) / len(rounds)
        std = math.sqrt(math.fsum((v - mean) ** 2 for v in rounds) / len(rounds))
        for field, expected in (("mean", mean), ("std", std)):
            got = m.get(field)
            if not _finite(got):
                raise DDRError(f"{path}: metrics.{name}.{field} is {got!r}, not a finite number")
            if abs(got - expected) > TOLERANCE * max(1.0, abs(expected)):
                raise DDRError(f"{path}: metrics.{name}.{field} is {got!r}, but its per-round values give "
                               f"{expected!r}; refusing a result whose summary does not match its rounds")
