"""A Ray cluster the driver cannot join is refused in seconds, with one line and exit status 2, before the
grid writes anything (no cell store, no MLflow store, no private server): Ray's own connect loop would
wait forever, ignoring SIGTERM."""
import socket
import subprocess
import sys
import time

import pytest

pytest.importorskip("ray", reason="Ray is not installed (pip install .[ray])")

from ddr.errors import DDRError  # noqa: E402
from ddr.grid.ray_cluster import check_joinable, parse_address  # noqa: E402
from ddr.grid.server import free_port  # noqa: E402


def test_a_grid_on_an_address_where_nothing_listens_fails_in_seconds(gridproj):
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "eval", "grid", "grid.yaml", "--executor", "ray",
                           "--address", f"127.0.0.1:{free_port()}"], cwd=gridproj, capture_output=True, text=True,
                          timeout=90)
    assert time.monotonic() - t0 < 60  # the interpreter and its imports included; the check itself is < 1 s
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "no Ray cluster answers at 127.0.0.1:" in line and "ddr ray start --head" in line
    assert sorted(p.name for p in gridproj.iterdir()) == ["grid.yaml", "tiny-lrs.yaml"]  # nothing written


def test_a_listener_that_is_not_a_ray_cluster_is_refused_within_the_join_timeout():
    """Something accepts connections but never speaks Ray (as a head advertising an address this machine
    cannot reach looks to a driver): the join is given up after the timeout, by killing the probe."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        address = f"127.0.0.1:{listener.getsockname()[1]}"
        t0 = time.monotonic()
        with pytest.raises(DDRError, match="could not be joined within 5s|cannot join the Ray cluster"):
            check_joinable(address, timeout=5)
        assert time.monotonic() - t0 < 30


@pytest.mark.parametrize("address", ["nohost", "host:", ":6379", "host:port", "host:0", "host:70000", "h:-1", ""])
def test_an_address_that_is_not_host_and_port_is_refused(address):
    with pytest.raises(DDRError, match="HOST:PORT"):
        parse_address(address)
