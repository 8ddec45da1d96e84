"""Small shared helpers of the registry: semantic versions, stable JSON, file listings."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ddr.errors import DDRError

# semver.org 2.0.0 core + optional pre-release (build metadata is not allowed: it would not order).
SEMVER_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?$"
)


def is_semver(text: str) -> bool:
    return bool(SEMVER_RE.match(text))


def check_semver(text: str) -> str:
    if not is_semver(text):
        raise DDRError(f"'{text}' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0)")
    return text


def check_seed(seed: Any, what: str = "--seed") -> int:
    """A seed of the rank-certainty draws: an integer numpy's generators take (0 .. 2**32 - 1), checked before any ranking."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise DDRError(f"{what} must be an integer from 0 to 2**32 - 1; got {seed}")
    return seed


def semver_key(text: str) -> tuple:
    """Sort key with semver precedence: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0."""
    m = SEMVER_RE.match(text)
    if not m:
        raise DDRError(f"'{text}' is not a semantic version")
    major, minor, patch, pre = m.groups()
    core = (int(major), int(minor), int(patch))
    if pre is None:
        return core + ((1,),)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return core + ((0,) + parts,)


def dump_json(obj: Any) -> str:
    """Stable, human-readable JSON (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read_json(path: str | Path, what: str = "file") -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DDRError(f"{what} {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DDRError(f"{what} {path} is not valid JSON: {e}") from None


def list_files(root: Path) -> list[str]:
    """Every regular file under root as a sorted posix relative path (symlinks included as found)."""
    out = []
    for p in root.rglob("*"):
        if p.is_file() or p.is_symlink():
            out.append(p.relative_to(root).as_posix())
    return sorted(out)


def check_writable(path: str | Path, what: str, *, folder: bool = False) -> Path:
    """Refuse, before anything is verified, computed or signed, a file (or with ``folder``, a folder to
    write files into) that could not be written later: its nearest existing folder must be a writable
    folder (not a file, a read-only folder or file system), and the target itself, if present, a
    writable regular file (or folder)."""
    import os

    path = Path(path)
    if path.exists() and (not (path.is_dir() if folder else path.is_file()) or not os.access(path, os.W_OK)):
        raise DDRError(f"{what} {path} is not a writable {'folder' if folder else 'file'}")
    parent = next(q for q in ((path, *path.parents) if folder else path.parents) if q.exists())
    if not parent.is_dir():
        raise DDRError(f"{what} {path} cannot be written: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DDRError(f"{what} {path} cannot be written: {parent} is not writable")
    return path
