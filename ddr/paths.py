"""Project folders ddr writes by default. A leaf module (no torch): the data layer and the evaluation both
use it, and a stage that only reads data must not depend on the evaluation's code."""
from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """The training (and file-digest) cache: DDR_CACHE_DIR, else .ddr/cache under the working folder."""
    return Path(os.environ.get("DDR_CACHE_DIR") or Path.cwd() / ".ddr" / "cache")


def check_cache_dir(path: str | Path) -> Path:
    """The training cache folder can be a folder: neither it nor any existing folder above it is a file.
    Checked before anything trains, so a cache pointed at a file is refused at once, not at the first
    finished training. Raises DDRError; returns the path."""
    from ddr.errors import DDRError

    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                what = "it" if p == path else f"{p} above it"
                raise DDRError(f"the training cache {path} cannot be made a folder: {what} is a file (set "
                               "--cache-dir or DDR_CACHE_DIR to a folder)")
            break
    return path
