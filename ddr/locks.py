"""Exclusive file locks (filelock's flock-based FileLock) for steps that two processes must not interleave:
publishing a release, creating a tracking store, driving a grid folder. The lock is the kernel's, so a
killed holder never leaves a stale lock behind; the lock file names its holder, so whoever waits too long
is told which process holds it."""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from ddr.errors import DDRError


def _write_holder(fd: int) -> None:
    """Called by filelock once the lock is ours: the file now says who holds it."""
    line = f"{os.getpid()} {' '.join(sys.argv)[:200]}\n".encode()
    os.ftruncate(fd, 0)
    os.pwrite(fd, line, 0)


def lock_holder(path: str | Path) -> str:
    """Who the lock file says holds it ("pid 123 (ddr registry publish ...)"), or "another process"."""
    import psutil

    try:
        pid, _, argv = Path(path).read_text().partition(" ")
        if psutil.pid_exists(int(pid)):
            return f"pid {int(pid)} ({argv.strip() or '?'})"
    except (OSError, ValueError):
        pass
    return "another process"


@contextlib.contextmanager
def exclusive_lock(path: str | Path, *, timeout: float, what: str) -> Iterator[None]:
    """Hold the lock on `path` (created, with its folder, if missing) for the block. Waits up to `timeout`
    seconds (0: not at all) for another holder, then raises DDRError in one line naming `what` is locked,
    the lock file and its holder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # preserve_lock_file: the file stays (waiters share its inode) and the soft, marker-file fallback is off
    lock = FileLock(path, timeout=timeout, preserve_lock_file=True, on_acquired=_write_holder)
    try:
        lock.acquire()
    except Timeout:
        waited = f" after {timeout:g} s" if timeout > 0 else ""
        raise DDRError(f"{what} is locked by {lock_holder(path)}{waited} (lock file {path}); "
                       "wait for it to finish, or stop it") from None
    try:
        yield
    finally:
        lock.release()
