"""The grid's private MLflow server lives exactly as long as its driver (SIGTERM, SIGKILL), and cells starting
at once through one server log their dataset inputs without a conflict."""
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

import pytest

from tests.grid.conftest import write_grid
from tests.grid.test_server_cmd import WIRED


def answers(uri: str) -> bool:
    try:
        with urllib.request.urlopen(f"{uri}/health", timeout=1):
            return True
    except OSError:
        return False


def gone_within(uri: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not answers(uri):
            return True
        time.sleep(0.2)
    return False


def group_members(sid: int) -> list[str]:
    """Processes of session `sid` (a process started with start_new_session leads its own) still running;
    zombies waiting to be reaped do not run."""
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-s", str(sid)], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split()[1:2] != ["Z"]]


STARTER = ("import sys, time; from ddr.grid.server import MlflowServer; "
           "s = MlflowServer(sys.argv[1]).start(); print(s.uri, s.proc.pid, flush=True); time.sleep(600)")


@pytest.mark.slow
def test_a_private_server_dies_with_its_starter_even_when_that_is_sigkilled(tmp_path, new_store):
    """SIGKILL runs no cleanup in the starter: the server's guard sees it gone and stops the server's group."""
    uri = new_store(tmp_path)
    starter = subprocess.Popen([sys.executable, "-c", STARTER, uri], stdout=subprocess.PIPE, text=True)
    try:
        server_uri, group = starter.stdout.readline().split()
        assert answers(server_uri)
        starter.kill()
        starter.wait(10)
        assert gone_within(server_uri, 20), "the mlflow server outlived the process that started it"
        deadline = time.monotonic() + 15
        while group_members(int(group)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert group_members(int(group)) == []  # the guard, mlflow and its uvicorn workers: all gone
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()


@pytest.mark.slow
def test_sigterm_stops_the_grid_driver_its_workers_and_its_private_server(gridproj, new_store):
    new_store(gridproj)
    write_grid(gridproj, seed=205)
    proc = subprocess.Popen([sys.executable, "-c", WIRED, "eval", "grid", "grid.yaml", "--executor", "local",
                             "--workers", "1", "--out", "out"], cwd=gridproj, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    err: list[str] = []
    drain = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)
    drain.start()
    try:
        deadline = time.monotonic() + 120
        while not any(line.startswith("MLflow server http://") for line in err):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(err)
            time.sleep(0.1)
        server_uri = next(line for line in err if line.startswith("MLflow server http://")).split()[2]
        assert answers(server_uri)
        proc.send_signal(signal.SIGTERM)  # `kill <pid>`: the driver only, not its group
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    drain.join(10)
    assert proc.returncode == 130, "".join(err)
    assert "interrupted" in "".join(err)
    assert gone_within(server_uri, 5), "the private mlflow server outlived the driver"
    assert group_members(proc.pid) == []  # its worker stopped with it


@pytest.mark.slow  # a hundred runs through one server
def test_cells_starting_at_once_log_their_dataset_inputs_without_a_conflict(mlflow_server):
    """MLflow looks a data set up, then inserts it: loggers racing on a new set through one server hit the
    table's unique key (seen as a failed cell, hidden by a retry). Every input must be logged, each once."""
    from mlflow import MlflowClient

    from ddr.tracking import Tracker

    loggers, rounds = 10, 10
    client = MlflowClient(mlflow_server.uri)
    conflicts, unlogged = 0, 0
    for _ in range(rounds):
        digest = uuid.uuid4().hex  # a data set new to the experiment in every round
        trackers = []
        for _ in range(loggers):  # each a cell's tracker with its parent run, as start_parent leaves it
            t = Tracker(mlflow_server.uri)
            t.experiment_id = t.experiment("race-digits")
            t.parent_id = client.create_run(t.experiment_id, run_name="lrs-race").info.run_id
            trackers.append(t)
        barrier, errors = threading.Barrier(loggers), []

        def log(t):
            barrier.wait()
            try:
                t.log_input("race-digits-ipc1", digest, "memory", "training")
            except Exception as exc:  # what the test is about: the conflict, raised to the cell
                errors.append(str(exc).splitlines()[0])

        threads = [threading.Thread(target=log, args=(t,)) for t in trackers]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        conflicts += len(errors)
        for t in trackers:
            client.set_terminated(t.parent_id, "FINISHED")
            inputs = client.get_run(t.parent_id).inputs.dataset_inputs
            unlogged += [(i.dataset.name, i.dataset.digest) for i in inputs] != [("race-digits-ipc1", digest)]
    assert (conflicts, unlogged) == (0, 0)  # of 100 loggers, each run holding its one input


def test_the_guard_refuses_to_run_outside_its_own_process_group():
    """It stops its whole group when its starter dies: started in its starter's group, it would stop that."""
    proc = subprocess.run([sys.executable, "-m", "ddr.grid.guard", str(os.getpid()), "--", sys.executable, "-c", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "own process group" in proc.stderr
