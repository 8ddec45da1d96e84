"""Atomic writes: the target holds the old or the new content, never a mix, and nothing is left behind."""
import os
import stat

import pytest

from ddr.kernel.atomic import atomic_folder, atomic_path, write_text_atomic


def _listing(folder):
    return sorted(p.name for p in folder.iterdir())


def test_file_write_replaces_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "a.json"
    write_text_atomic(target, "one\n")
    write_text_atomic(target, "two\n")
    assert target.read_text() == "two\n" and _listing(target.parent) == ["a.json"]


def test_failed_file_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old" and _listing(tmp_path) == ["a.bin"]


def test_file_gets_the_mode_a_plain_write_gives(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    atomic = write_text_atomic(tmp_path / "atomic", "x")
    assert stat.S_IMODE(atomic.stat().st_mode) == stat.S_IMODE(plain.stat().st_mode)


def test_folder_swap_keeps_the_old_folder_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "set"
    with atomic_folder(target) as tmp:
        (tmp / "meta.json").write_text("1")
    with pytest.raises(RuntimeError):
        with atomic_folder(target) as tmp:
            (tmp / "meta.json").write_text("2")
            assert (target / "meta.json").read_text() == "1"  # still the complete old one
            raise RuntimeError("crash before the swap")
    assert (target / "meta.json").read_text() == "1" and _listing(tmp_path) == ["set"]
    with atomic_folder(target) as tmp:
        (tmp / "other").write_text("2")
    assert _listing(target) == ["other"] and _listing(tmp_path) == ["set"]


def test_folder_mode_follows_the_umask(tmp_path):
    with atomic_folder(tmp_path / "out"):
        pass
    plain = tmp_path / "plain"
    plain.mkdir()
    assert stat.S_IMODE(os.stat(tmp_path / "out").st_mode) == stat.S_IMODE(plain.stat().st_mode)
