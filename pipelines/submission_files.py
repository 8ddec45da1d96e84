"""The files of a submitted distilled set: the whole tree checked before one byte is copied, then copied
without following anything.

A submission is copied into submissions/ and the DVC cache, and `dvc push` sends it to the shared remote, so
only plain files and folders under plain names enter it. Refused: a symbolic link (to a file or a folder: a
`README.txt -> ~/.ssh/id_rsa` would travel with the set), a regular file with more than one hard link (a hard
link to a file outside the set is indistinguishable from the file itself, and copying its content would leak
it just the same: make a real copy with `cp` and submit again), a fifo, socket or device, and files over the
size limits (apparent size, st_size, so a sparse 1 TiB file counts as 1 TiB: it would be written out whole).
Hidden entries (names starting with '.') are neither checked nor copied, as before.

The copy opens each file without following a link (O_NOFOLLOW), checks it is still the file that was scanned
(device, inode, size) and copies at most its scanned size, so a file swapped or grown after the scan is refused,
not copied.
"""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from ddr.checks import MAX_PART, check_name, confined, name_key
from ddr.errors import DDRError

GIB = 1 << 30
MAX_FILE_BYTES = 8 * GIB  # one tensor file: a TinyImageNet ipc-50 images.pt is 0.5 GiB
MAX_TOTAL_BYTES = 16 * GIB
MAX_FILES = 100_000  # ImageNet-1K at ipc 50 as an image folder is 50,000 files
_CHUNK = 1 << 20


@dataclass(frozen=True)
class SourceFile:
    parts: tuple[str, ...]  # its path under the submitted folder
    size: int
    dev: int
    ino: int


@dataclass(frozen=True)
class SourceTree:
    root: Path
    folders: list[tuple[str, ...]]  # parents before children
    files: list[SourceFile]

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a fifo"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    return f"{n / GIB:.2f} GiB" if n >= GIB else f"{n / (1 << 20):.1f} MiB"


def scan(root: str | Path, *, max_file: int = MAX_FILE_BYTES, max_total: int = MAX_TOTAL_BYTES,
         max_files: int = MAX_FILES) -> SourceTree:
    """Every non-hidden entry under `root` (a folder; a link to it is followed: the user named it), checked as the
    module says; the first problem is one DDRError naming the entry."""
    root = Path(root)
    folders: list[tuple[str, ...]] = []
    files: list[SourceFile] = []
    total = 0
    pending: list[tuple[str, ...]] = [()]
    while pending:
        rel = pending.pop()
        here = confined(root, *rel, what="folder name") if rel else root
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError as exc:
            raise DDRError(f"cannot list {here}: {exc.strerror or type(exc).__name__}") from None
        keys: dict[str, str] = {}
        for entry in entries:
            if entry.name.startswith("."):
                continue
            where = "/".join((*rel, entry.name))
            check_name(entry.name, f"{root}: file name", max_len=MAX_PART)
            other = keys.setdefault(name_key(entry.name), entry.name)
            if other != entry.name:  # one file on a case-insensitive file system (and in the DVC cache's eyes)
                raise DDRError(f"{root}: {where!r} and {other!r} differ only by case or spaces; rename one")
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                raise DDRError(f"{root}: cannot read {where}: {exc.strerror or type(exc).__name__}") from None
            if stat.S_ISLNK(st.st_mode):
                raise DDRError(f"{root}: {where} is a symbolic link; a submission holds plain files only "
                               "(copy what it points to into the folder)")
            if stat.S_ISDIR(st.st_mode):
                folders.append((*rel, entry.name))
                pending.append((*rel, entry.name))
                continue
            if not stat.S_ISREG(st.st_mode):
                raise DDRError(f"{root}: {where} is {_kind(st.st_mode)}; a submission holds plain files only")
            if st.st_nlink > 1:
                raise DDRError(f"{root}: {where} has {st.st_nlink} hard links; a submission holds files of its own "
                               "(make a real copy with cp and submit again)")
            if st.st_size > max_file:
                raise DDRError(f"{root}: {where} is {_size(st.st_size)}; one file may be at most {_size(max_file)}")
            total += st.st_size
            if total > max_total:
                raise DDRError(f"{root}: the set holds more than {_size(max_total)}; a submission may be at most "
                               "that")
            files.append(SourceFile((*rel, entry.name), st.st_size, st.st_dev, st.st_ino))
            if len(files) > max_files:
                raise DDRError(f"{root}: the set holds more than {max_files} files")
    folders.sort(key=len)
    return SourceTree(root, folders, files)


def check_room(tree: SourceTree, folder: Path) -> None:
    """Refuse a set the file system of `folder` has no room for: its copy, then DVC's cache of it."""
    need, free = 2 * tree.size, shutil.disk_usage(folder).free
    if need > free:
        raise DDRError(f"{tree.root}: its copy and DVC's cache of it need {_size(need)}; {_size(free)} are free")


def copy_tree(tree: SourceTree, dest: Path) -> None:
    """Copy the scanned files into the (new, empty) folder `dest`; a file changed since the scan is refused."""
    for rel in tree.folders:
        confined(dest, *rel, what="folder name").mkdir()
    for f in tree.files:
        src = confined(tree.root, *f.parts, what="file name")
        try:
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        except OSError as exc:
            raise DDRError(f"cannot read {src}: {exc.strerror or type(exc).__name__}") from None
        with os.fdopen(fd, "rb") as r:
            st = os.fstat(r.fileno())
            if (st.st_dev, st.st_ino, st.st_size) != (f.dev, f.ino, f.size) or not stat.S_ISREG(st.st_mode):
                raise DDRError(f"{src} changed while it was being submitted; submit again")
            left = f.size
            try:
                with open(confined(dest, *f.parts, what="file name"), "xb") as w:
                    while left:
                        chunk = r.read(min(_CHUNK, left))
                        if not chunk:
                            raise DDRError(f"{src} shrank while it was being submitted; submit again")
                        w.write(chunk)
                        left -= len(chunk)
            except OSError as exc:  # e.g. the disk filled after all: the caller's temporary folder is removed
                raise DDRError(f"cannot copy {src}: {exc.strerror or type(exc).__name__}") from None
