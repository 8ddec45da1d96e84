"""The git facts a result or a release records; None wherever git or the repository is missing."""
from __future__ import annotations

import subprocess
from pathlib import Path


def git(repo: str | Path | None, *args: str) -> str | None:
    """`git -C repo args...`'s stripped output, or None when git is absent, fails or hangs."""
    try:
        out = subprocess.run(["git", "-C", str(repo or Path.cwd()), *args], capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(repo: str | Path | None = None) -> str | None:
    """The checked-out commit of the repository holding `repo` (default: the working directory)."""
    return git(repo, "rev-parse", "HEAD")
