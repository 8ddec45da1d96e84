"""A real two-node Ray cluster on loopback (head + a second node, one CPU each), started and stopped here.

Ray rewrites a node address of 127.0.0.1 to the host's outward IP, unless clusters are "disabled"
(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0), which `ray start` refuses for a second node. So the head and this
driver run with that switch, and the second node's `ray start` keeps 127.0.0.1 as given (a one-line shim
below): every Ray socket stays on loopback.
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

os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is imported: keep Ray on loopback
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ["RAY_AUTH_MODE"] = "disabled"  # no token file written to (or read from) ~/.ray by this test
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install .[ray])")

from ddr.grid.executors import RayExecutor  # noqa: E402
from ddr.grid.runner import run_grid  # noqa: E402
from ddr.grid.server import free_port  # noqa: E402
from ddr.grid.spec import load_grid  # noqa: E402
from tests.grid.conftest import numbers, parent_runs, wait_for_running_parent, write_grid  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

NODE_SHIM = ("import sys, ray._private.services as s; s.resolve_ip_for_localhost = lambda h: h; "
             "from ray.scripts.scripts import main; sys.argv[0] = 'ray'; main()")


def _stop(procs):
    """Stop what we started, by process group id (each `ray start --block` leads its own group)."""
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait(10)


@pytest.fixture(scope="module")
def ray_cluster():
    port = free_port()
    temp = tempfile.mkdtemp(prefix="ddr-ray-", dir="/tmp")  # short: Ray's unix socket paths must fit 107 chars
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "OMP_NUM_THREADS": "1"}
    log = open(os.path.join(temp, "cluster.log"), "w")
    head = subprocess.Popen(
        [sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
         "--port", str(port), "--num-cpus", "1", "--include-dashboard=false", "--disable-usage-stats",
         "--temp-dir", temp], env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)
    procs = [head]
    try:
        node = subprocess.Popen(
            [sys.executable, "-c", NODE_SHIM, "start", "--block", "--address", f"127.0.0.1:{port}",
             "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"],
            env={**env, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1"}, start_new_session=True, stdout=log,
            stderr=subprocess.STDOUT)
        procs.append(node)
        ray.init(address=f"127.0.0.1:{port}", log_to_driver=False, configure_logging=False)
        deadline = time.monotonic() + 90
        while sum(n["Alive"] for n in ray.nodes()) < 2:
            assert time.monotonic() < deadline, open(os.path.join(temp, "cluster.log")).read()[-3000:]
            time.sleep(0.5)
        assert {n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]} == {"127.0.0.1"}
        ray.shutdown()
        yield f"127.0.0.1:{port}"
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop(procs)
        log.close()
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
