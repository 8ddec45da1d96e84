"""The one lock implementation (ddr.locks over filelock): a held lock is waited for up to a timeout, then
refused in one line naming the lock file and the process that holds it."""
import os
import time

import pytest

from ddr.errors import DDRError
from ddr.locks import exclusive_lock
from tests.lock_holder import held_lock


def test_a_held_lock_is_refused_after_the_timeout_naming_file_and_holder(tmp_path):
    path = tmp_path / "sub" / "x.lock"
    with held_lock(path) as proc:
        t0 = time.monotonic()
        with pytest.raises(DDRError) as err:
            with exclusive_lock(path, timeout=0.5, what="the widget store"):
                pytest.fail("entered a lock another process holds")
        assert time.monotonic() - t0 >= 0.5  # it waited first
    msg = str(err.value)
    assert "\n" not in msg and "the widget store is locked" in msg and str(path) in msg
    assert f"pid {proc.pid}" in msg and "--holder-tag" in msg and "after 0.5 s" in msg


def test_the_lock_is_free_again_once_the_holder_is_gone(tmp_path):
    path = tmp_path / "x.lock"
    with held_lock(path) as proc:
        proc.kill()  # killed, not released: the kernel drops the lock with the process
        proc.wait(10)
        with exclusive_lock(path, timeout=5, what="x"):
            assert path.read_text().split()[0] == str(os.getpid())  # the file names its new holder
    with exclusive_lock(path, timeout=0, what="x"):  # and released on leaving the block
        pass
