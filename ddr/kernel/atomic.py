"""Atomic writes: a reader sees the old file (or folder) or the new one, never half of either.

Files: a uniquely named temporary file in the target's folder (same file system, so the rename is atomic),
flushed and fsynced, then os.replace'd onto the target; on any error the temporary file is removed.
Folders: filled as a temporary sibling, then swapped in; the old folder is moved aside first and only
deleted once the new one is in place, so a crash at any point leaves one complete version.
Temporaries are created with the ordinary modes (0o666 / 0o777 less the umask), not tempfile's private
0o600 / 0o700, so the target ends up with the permissions a plain write would have given it.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (torch.save, zip writers);
    on leaving the block without error it is fsynced and renamed onto `path`, otherwise removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path)
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write `text` as UTF-8 atomically (the caller chooses the format, trailing newline included)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """A temporary sibling folder to fill; on leaving the block without error it replaces `path`
    (the previous folder, if any, is removed only after the new one is in place), otherwise it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(path)
    tmp.mkdir()
    try:
        yield tmp
        swap_in(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _sibling(path: Path) -> Path:
    """A fresh hidden name beside `path` (hidden: folder listings and globs of the target skip it)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")


def swap_in(new: Path, path: Path) -> None:
    """Rename folder `new` to `path`, moving an existing `path` aside first and deleting it last."""
    if not (path.exists() or path.is_symlink()):
        os.replace(new, path)
        return
    old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)
