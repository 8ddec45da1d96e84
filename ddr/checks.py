"""Checks for values that come from data (files, YAML, JSON): numbers that must be finite and in range,
and paths built from names that must stay inside their base folder. Each failure is a DDRError."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ddr.errors import DDRError


def number(value: Any, what: str, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, integer: bool = False) -> float | int:
    """`value` as a finite number (an int when `integer`), within [low, high] (low excluded when
    `low_open`). Booleans and strings are refused: YAML's `yes` or `'0.1'` is a typo, not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise DDRError(f"{what} must be a {'whole ' if integer else ''}number, got {value!r}")
    if integer:
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise DDRError(f"{what} must be a whole number, got {value!r}")
        value = int(value)
    elif not math.isfinite(value):
        raise DDRError(f"{what} must be finite, got {value!r}")
    if low is not None and (value <= low if low_open else value < low):
        raise DDRError(f"{what} must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    if high is not None and value > high:
        raise DDRError(f"{what} must be <= {high:g}, got {value!r}")
    return value


def confined(base: str | Path, *parts: str, what: str = "path") -> Path:
    """base/parts..., refused unless it stays inside `base` (no '..', no absolute part, no empty name).
    Used wherever a folder or file name comes from data (a method name, a grid name)."""
    base_resolved = Path(base).resolve()
    for part in parts:
        if not isinstance(part, str) or not part.strip() or "\x00" in part:
            raise DDRError(f"{what} {part!r} is not a usable name")
        if Path(part).is_absolute() or ".." in Path(part).parts:
            raise DDRError(f"{what} {part!r} would leave {base}; use a plain name")
    target = Path(base, *parts)
    resolved = target.resolve()
    if resolved != base_resolved and base_resolved not in resolved.parents:
        raise DDRError(f"{what} {'/'.join(parts)!r} would leave {base}; use a plain name")
    return target
