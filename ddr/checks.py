"""Checks for values that come from data (files, YAML, JSON): numbers that must be finite and in range,
and paths built from names that must stay inside their base folder. Each failure is a DDRError."""
from __future__ import annotations

import math
import re
from collections.abc import Iterable
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


# A name from outside (a method, a grid, a file of a submission) becomes one folder or file name: ASCII letters
# and digits first, then those and space . _ - + ( ); never '..', never ending in a space or a dot (Windows drops
# them). No separators, no control characters (a newline in a name wrote patterns into a .gitignore), no
# look-alike letters from other scripts (a Cyrillic 'М' in 'DМ' would pass for 'DM' in a ranking).
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+()-]*")
MAX_NAME = 64  # a method, grid or data-set name
MAX_PART = 200  # a folder or file name built from names (method-dataset-ipc), under the file systems' 255 bytes


def name_key(name: str) -> str:
    """What two names are compared by: case and whitespace do not tell names apart ('DM', 'dm ', 'D M')."""
    return "".join(str(name).split()).casefold()


def check_name(value: Any, what: str = "name", *, taken: Iterable[str] = (), max_len: int = MAX_NAME) -> str:
    """`value` as a name that can be one folder or file name, refused (one DDRError line) unless it is plain
    (see _NAME) and no name in `taken` equals it up to case and whitespace."""
    if not isinstance(value, str):
        raise DDRError(f"{what} must be text, got {type(value).__name__} {value!r}")
    if not value.strip():
        raise DDRError(f"{what} {value!r} is empty; give a name")
    if len(value) > max_len:
        raise DDRError(f"{what} {value[:20]!r}... is {len(value)} characters long; at most {max_len}")
    if any(c in value for c in "/\\") or ".." in value:
        raise DDRError(f"{what} {value!r} would leave its folder (separator or '..'); use a plain name")
    if any(not c.isprintable() for c in value):
        raise DDRError(f"{what} {value!r} holds a control character; use a plain name")
    if not _NAME.fullmatch(value) or value[-1] in " .":
        raise DDRError(f"{what} {value!r} is not a plain name: ASCII letters and digits first, then those and "
                       "space . _ - + ( ); no trailing space or dot")
    key = name_key(value)
    for other in taken:
        if name_key(other) == key:
            like = "" if other == value else f" (it differs only by case or spaces from {other!r})"
            raise DDRError(f"{what} {value!r} is already taken{like}; choose another name")
    return value


def confined(base: str | Path, *parts: str, what: str = "name", taken: Iterable[str] = ()) -> Path:
    """base/part/...: the one way a name from outside becomes a path. Each part is a plain name (check_name, up
    to MAX_PART characters), the last differs from every name in `taken` (e.g. the entries already in its
    folder, less the one it may replace) by more than case and spaces, and the result, symlinks resolved, stays
    inside `base`."""
    if not parts:
        raise DDRError(f"{what}: no name given")
    for i, part in enumerate(parts):
        check_name(part, what, taken=taken if i == len(parts) - 1 else (), max_len=MAX_PART)
    target = Path(base, *parts)
    base_resolved = Path(base).resolve()
    resolved = target.resolve()
    if resolved != base_resolved and base_resolved not in resolved.parents:
        raise DDRError(f"{what} {'/'.join(parts)!r} leads out of {base} (a symbolic link?); refusing it")
    return target
