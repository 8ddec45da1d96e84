"""A real two-node Ray cluster on loopback (head + a second node, one CPU each), started and stopped with
`ddr ray start` / `ddr ray stop` exactly as docs/grid.md tells users to: every Ray socket stays on
127.0.0.1 (ddr.grid.ray_cluster says how), and the driver joins it as `ddr eval grid --address` does.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ["RAY_AUTH_MODE"] = "disabled"  # no token file written to (or read from) ~/.ray by this test
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install .[ray])")

from ddr.grid.executors import RayExecutor  # noqa: E402
from ddr.grid.ray_cluster import join_options  # noqa: E402
from ddr.grid.runner import run_grid  # noqa: E402
from ddr.grid.server import free_port  # noqa: E402
from ddr.grid.spec import load_grid  # noqa: E402
from tests.grid.conftest import numbers, parent_runs, wait_for_running_parent, write_grid  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


def ddr(folder, *argv, timeout=180):
    """The real `ddr` command, run in `folder` (where `ddr ray start` records its nodes)."""
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *argv], cwd=folder, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})


@pytest.fixture(scope="module")
def ray_cluster():
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ddr-ray-", dir="/tmp")  # short: Ray's unix socket paths must fit 107 chars
    try:
        head = ddr(temp, "ray", "start", "--head", "--port", str(port), "--num-cpus", "1", "--temp-dir", temp)
        assert head.returncode == 0, head.stderr
        assert head.stdout.strip() == f"127.0.0.1:{port}"
        node = ddr(temp, "ray", "start", "--address", f"127.0.0.1:{port}", "--num-cpus", "1")
        assert node.returncode == 0, node.stderr
        ray.init(log_to_driver=False, configure_logging=False, **join_options(f"127.0.0.1:{port}"))
        deadline = time.monotonic() + 90
        while sum(n["Alive"] for n in ray.nodes()) < 2:
            assert time.monotonic() < deadline, "the second node did not join"
            time.sleep(0.5)
        assert {n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]} == {"127.0.0.1"}
        ray.shutdown()
        yield f"127.0.0.1:{port}"
    finally:
        if ray.is_initialized():
            ray.shutdown()
        stop = ddr(temp, "ray", "stop")
        assert stop.returncode == 0 and "stopped 2 Ray node(s)" in stop.stderr, stop.stderr
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_cluster_grid_equals_serial_and_survives_a_killed_worker(gridproj, ray_cluster, mlflow_server,
                                                                     serial_reference):
    spec = load_grid(write_grid(gridproj, seed=301))
    ids = [c.id for c in spec.cells()]
    box = {}

    def drive():
        box["report"] = run_grid(spec, RayExecutor(address=ray_cluster), out=gridproj / "out",
                                 tracking_uri=mlflow_server.uri, max_attempts=3)

    t = threading.Thread(target=drive)
    t.start()
    victim = wait_for_running_parent(mlflow_server.uri, ids, timeout=150)
    assert victim.data.tags["ddr.executor"] == "ray"
    os.kill(int(victim.data.tags["ddr.worker"].rsplit(":", 1)[1]), signal.SIGKILL)  # a Ray worker, mid-cell
    t.join(240)
    assert not t.is_alive() and "report" in box
    report = box["report"]
    ref = serial_reference(301)
    assert [c.status for c in report.cells] == ["ran", "ran"]
    assert all(numbers(c.result) == numbers(ref[c.cell.id]) for c in report.cells)  # Ray moves no number
    assert parent_runs(mlflow_server.uri, victim.data.tags["ddr.cell"], "RUNNING") == []
    statuses = {r.info.run_id: r.info.status for r in parent_runs(mlflow_server.uri, victim.data.tags["ddr.cell"])}
    assert statuses[victim.info.run_id] == "FAILED"  # the killed attempt's run ends FAILED
    for cid in ids:
        assert len(parent_runs(mlflow_server.uri, cid, "FINISHED")) == 1  # no duplicate finished runs
    workers = {c.result.extra["worker"] for c in report.cells}
    assert os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in workers}
