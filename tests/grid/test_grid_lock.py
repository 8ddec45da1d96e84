"""One driver per grid folder: a second one is refused at once, in one line naming the first."""
import time

import pytest

from ddr.errors import DDRError
from tests.lock_holder import held_lock


def test_a_second_grid_driver_on_the_same_folder_is_refused_at_once(gridproj):
    from ddr.grid.runner import run_grid
    from ddr.grid.spec import load_grid

    out = gridproj / "out"
    with held_lock(out / ".lock") as proc:
        t0 = time.monotonic()
        with pytest.raises(DDRError) as err:
            run_grid(load_grid(gridproj / "grid.yaml"), out=out, track=False)
        assert time.monotonic() - t0 < 30  # no wait for a grid: one driver per folder
    assert f"grid folder {out} is locked by pid {proc.pid}" in str(err.value)
    assert not (out / "cells").exists() and not (out / "grid.json").exists()  # nothing ran or was written
