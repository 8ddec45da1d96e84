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
    return _inside(base, parts, what)


# A file a release names ('results/<cell>.json', its '.predictions.npz'): registry.ranking.result_filename keeps
# ASCII letters, digits and - _ . of the cell's names and marks a name it had to change with '~' and a digest
# ('DM + soft' -> 'DM___soft~<hex>'), so '~' belongs to release file names, which plain names (above) never hold.
# The release is signed, so its names are checked as they are, never rewritten.
_RELEASE_PART = re.compile(r"[A-Za-z0-9._~-]+")
MAX_FILE_NAME = 255  # the file systems' limit: no release can hold a longer name


def check_release_file(name: Any, what: str = "release file") -> str:
    """`name` as a file name inside a release: POSIX separators, each part of ASCII letters, digits and
    . _ - ~ (what result_filename writes), none '.' or '..' or empty. Refused with one DDRError line."""
    if not isinstance(name, str) or not name:
        raise DDRError(f"{what} must be a non-empty file name, got {name!r}")
    for part in name.split("/"):
        if part in ("", ".", "..") or not _RELEASE_PART.fullmatch(part) or len(part) > MAX_FILE_NAME:
            raise DDRError(f"{what} {name[:80]!r} is not a release file name: parts of ASCII letters, digits and "
                           f". _ - ~ joined by '/', none empty, '.' or '..'")
    return name


def release_file(release_dir: str | Path, name: Any, what: str = "release file") -> Path:
    """release_dir/name for a file a release names (check_release_file), symlinks resolved inside release_dir:
    the one way a release's own file names become paths, as confined is for plain names."""
    return _inside(release_dir, tuple(check_release_file(name, what).split("/")), what)


def _inside(base: str | Path, parts: tuple[str, ...], what: str) -> Path:
    target = Path(base, *parts)
    base_resolved = Path(base).resolve()
    resolved = target.resolve()
    if resolved != base_resolved and base_resolved not in resolved.parents:
        raise DDRError(f"{what} {'/'.join(parts)!r} leads out of {base} (a symbolic link?); refusing it")
    return target
