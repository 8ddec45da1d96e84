"""Project folders ddr writes by default. A leaf module (no torch): the data layer and the evaluation both
use it, and a stage that only reads data must not depend on the evaluation's code."""
from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """The training (and file-digest) cache: DDR_CACHE_DIR, else .ddr/cache under the working folder."""
    return Path(os.environ.get("DDR_CACHE_DIR") or Path.cwd() / ".ddr" / "cache")
