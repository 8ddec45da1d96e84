"""Local worker processes logging to one real `mlflow server` on 127.0.0.1; a worker killed mid-cell."""
import json
import os
import signal
import threading

import pytest

from ddr.grid.executors import LocalExecutor
from ddr.grid.runner import run_grid
from ddr.grid.spec import load_grid
from tests.grid.conftest import numbers, parent_runs, wait_for_running_parent, write_grid

pytestmark = pytest.mark.slow  # worker processes and an MLflow server per test


def test_two_local_workers_log_to_one_mlflow_server_and_equal_serial(gridproj, new_store, serial_reference):
    """The default store (sqlite) with two concurrent workers: the runner puts one `mlflow server` on
    127.0.0.1 in front of it for the grid's duration, so no worker writes SQLite directly ("database is
    locked"); the workers' child runs attach to the right parent; the numbers equal the serial executor's."""
    from mlflow import MlflowClient

    spec = load_grid(write_grid(gridproj, seed=201))
    uri = new_store(gridproj)
    msgs = []
    report = run_grid(spec, LocalExecutor(workers=2), out=gridproj / "out", tracking_uri=uri, progress=msgs.append)
    assert any(m.startswith("MLflow server http://127.0.0.1:") for m in msgs)
    ref = serial_reference(201)
    assert [c.status for c in report.cells] == ["ran", "ran"]
    workers = set()
    client = MlflowClient(uri)  # afterwards, the same runs are read straight from the sqlite store
    for c in report.cells:
        assert numbers(c.result) == numbers(ref[c.cell.id])  # the executor moves no number
        assert c.result.mlflow["tracking_uri"] == uri  # the store, not the grid's short-lived server
        runs = parent_runs(uri, c.cell.id)
        [parent] = [r for r in runs if r.info.status == "FINISHED"]
        assert {r.info.status for r in runs} <= {"FINISHED", "FAILED"}, msgs
        assert parent.info.run_id == c.result.mlflow["run_id"] and parent.data.tags["ddr.executor"] == "local"
        workers.add(parent.data.tags["ddr.worker"])
        kids = client.search_runs([parent.info.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
        assert len(kids) == len(c.result.trainings) == 9  # children made in the worker attach to its parent
        assert {k.info.status for k in kids} == {"FINISHED"}
        # result.json and the per-test-image predictions it names, logged by the worker into its parent
        assert [a.path for a in client.list_artifacts(parent.info.run_id)] == \
            sorted(["result.json", c.result.predictions["file"]])
    assert len(workers) == 2 and os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in workers}
    assert "database is locked" not in (gridproj / "out" / "mlflow-server.log").read_text()


def test_worker_killed_mid_cell_the_grid_completes(gridproj, mlflow_server, serial_reference):
    spec = load_grid(write_grid(gridproj, seed=203))
    ids = [c.id for c in spec.cells()]
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("report", run_grid(
        spec, LocalExecutor(workers=2), out=gridproj / "out", tracking_uri=mlflow_server.uri, max_attempts=3)))
    t.start()
    victim = wait_for_running_parent(mlflow_server.uri, ids)
    pid = int(victim.data.tags["ddr.worker"].rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    t.join(240)
    assert not t.is_alive()
    report = box["report"]
    ref = serial_reference(203)
    assert [c.status for c in report.cells] == ["ran", "ran"]
    assert all(numbers(c.result) == numbers(ref[c.cell.id]) for c in report.cells)
    killed = victim.data.tags["ddr.cell"]
    runs = {r.info.run_id: r for r in parent_runs(mlflow_server.uri, killed)}
    assert runs[victim.info.run_id].info.status == "FAILED"  # the killed attempt's run ends FAILED
    for cid in ids:
        finished = parent_runs(mlflow_server.uri, cid, "FINISHED")
        assert len(finished) == 1  # exactly one finished parent per cell
    attempts = [json.loads(line) for line in (gridproj / "out" / "cells" / killed / "attempts.jsonl").read_text().splitlines()]
    events = [a["event"] for a in attempts]
    # Normally one retry; on a loaded machine a respawned worker has been seen to die as well, which costs
    # another attempt. Any failure that is not a worker's death is a bug.
    assert events[:2] == ["start", "failed"] and events[-2:] == ["start", "done"] \
        and events[2:-2] == ["start", "failed"] * ((len(events) - 4) // 2), attempts
    assert all("died" in a["error"] for a in attempts if a["event"] == "failed"), attempts
    rerun = parent_runs(mlflow_server.uri, killed, "FINISHED")[0]
    assert rerun.data.tags["ddr.attempt"] == str(events.count("start")), attempts
    assert rerun.data.tags["ddr.worker"] != victim.data.tags["ddr.worker"]


def test_ctrl_c_stops_local_workers_cleanly_and_the_grid_resumes(gridproj, new_store, serial_reference):
    """Ctrl-C in a terminal (SIGINT to the whole foreground process group) mid-cell: exit status 130, the
    workers and the private MLflow server are gone, no half cell is visible, the running parents end
    KILLED; the same command again finishes the grid with the serial executor's numbers."""
    import subprocess
    import sys
    import time

    from mlflow import MlflowClient

    from tests.grid.test_server_cmd import WIRED

    spec = load_grid(write_grid(gridproj, seed=204))
    ids = [c.id for c in spec.cells()]
    new_store(gridproj)  # the project's store, where the command logs
    # Ctrl-C reaches a terminal's foreground job with SIGINT at its default. A child of this test process
    # inherits SIGINT ignored or blocked if an earlier test in the same worker left it so (both survive exec),
    # and the grid would then finish instead: start the command as a shell would.
    as_terminal = ("import signal; signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT}); "
                   "signal.signal(signal.SIGINT, signal.default_int_handler); ")
    proc = subprocess.Popen([sys.executable, "-c", as_terminal + WIRED, "eval", "grid", "grid.yaml", "--executor", "local",
                             "--workers", "2", "--out", "out"], cwd=gridproj, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    err = []
    drain = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)  # progress from the workers
    drain.start()
    # The observed event: a worker mid-cell (its parent RUNNING with a child logged), read from the store
    # itself rather than from forwarded progress, which a loaded driver may print late. That worker is
    # frozen before the signal, so its cell cannot finish first: the grid can only end interrupted.
    uri = f"sqlite:///{gridproj / 'mlflow.db'}"
    deadline = time.monotonic() + 240
    while not any(line.startswith("MLflow server http://") for line in err):  # the store exists, served
        assert proc.poll() is None and time.monotonic() < deadline, "".join(err)
        time.sleep(0.1)
    while True:
        victim = wait_for_running_parent(uri, ids, timeout=240)
        pid = int(victim.data.tags["ddr.worker"].rsplit(":", 1)[1])
        os.kill(pid, signal.SIGSTOP)
        if [r.info.run_id for r in parent_runs(uri, victim.data.tags["ddr.cell"], "RUNNING")] == [victim.info.run_id]:
            break
        os.kill(pid, signal.SIGCONT)  # it finished in between: observe again
    os.killpg(proc.pid, signal.SIGINT)
    os.kill(pid, signal.SIGCONT)  # the pending SIGINT reaches it now
    proc.wait(timeout=120)  # not communicate(): it would read stderr too, racing the drain for the last lines
    drain.join(10)
    rest_err = "".join(err)
    assert proc.returncode == 130, rest_err
    assert "interrupted" in rest_err
    time.sleep(0.5)
    alive = subprocess.run(["pgrep", "-g", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert alive == []  # workers and the mlflow server stopped with the driver
    cells = gridproj / "out" / "cells"
    unfinished = [d for d in cells.iterdir() if not (d / "result.json").exists()]
    assert unfinished and all(not list(d.glob(".*")) for d in unfinished)
    client = MlflowClient(f"sqlite:///{gridproj / 'mlflow.db'}")
    for d in unfinished:
        runs = client.search_runs([e.experiment_id for e in client.search_experiments()],
                                  filter_string=f"tags.`ddr.cell` = '{d.name}'")
        statuses = [r.info.status for r in runs]
        # a cell whose pooled trainings were still running had not started its evaluation: no parent
        assert statuses in ((["KILLED"],) if d.name == victim.data.tags["ddr.cell"] else ([], ["KILLED"])), \
            (d.name, statuses, rest_err)

    report = run_grid(load_grid(gridproj / "grid.yaml"), out=gridproj / "out",
                      tracking_uri=f"sqlite:///{gridproj / 'mlflow.db'}")
    ref = serial_reference(204)
    assert all(numbers(c.result) == numbers(ref[c.cell.id]) for c in report.cells)
    assert {c.cell.id for c in report.cells if c.status == "ran"} == {d.name for d in unfinished}
