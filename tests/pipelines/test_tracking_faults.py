"""Faults around the tracking store: a killed evaluation's parent, a brand-new store opened by several
evaluations at once, a tracking server that does not answer."""
import os
import signal
import subprocess
import sys
import time

import pytest
from mlflow import MlflowClient

import ddr
from ddr.data import random_baseline, write_distilled
from ddr.grid.server import free_port
from ddr.tracking import prepare_store

CLI = [sys.executable, "-m", "pipelines.cli"]


def _parents(client, status=None):
    exps = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(exps) if exps else []
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags and (status is None or r.info.status == status)]


def test_a_killed_evaluations_parent_is_ended_failed_by_the_next_one(project, store, digits):
    write_distilled(project / "set", random_baseline(digits, 2, 7))
    uri = store
    args = ["eval", "lrs", "--distilled", "set", "--dataset", "digits", "--ipc", "2", "--protocol", "tiny-lrs.yaml",
            "--out", "res"]
    log = open(project.parent / "eval.log", "w")
    proc = subprocess.Popen(CLI + args, cwd=project, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 600
        while True:  # observed: its parent RUNNING with a finished child, i.e. mid-evaluation
            assert proc.poll() is None and time.monotonic() < deadline, (project.parent / "eval.log").read_text()
            if (project / "mlflow.db").exists():
                prepare_store(uri)  # under the store's lock: never race the evaluation's own migration
                client = MlflowClient(uri)
                running = _parents(client, "RUNNING")
                if running and client.search_runs([running[0].info.experiment_id],
                                                  f"tags.mlflow.parentRunId = '{running[0].info.run_id}'"):
                    break
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stale = running[0].info.run_id
    assert MlflowClient(uri).get_run(stale).info.status == "RUNNING"  # nobody could end it
    res = ddr.evaluate("lrs", distilled="set", dataset="digits", ipc=2, protocol="tiny-lrs.yaml", tracking_uri=uri)
    client = MlflowClient(uri)
    old = client.get_run(stale)
    assert old.info.status == "FAILED" and "process is gone" in old.data.tags["ddr.ended_by"]
    assert client.get_run(res.mlflow["run_id"]).info.status == "FINISHED"
    assert _parents(client, "RUNNING") == []


def test_a_running_evaluation_of_the_same_cell_is_left_alone(project, store, digits):
    """Only a parent whose process is gone is ended: a live one (here: this test's own process) stays."""
    from ddr.tracking import Tracker

    write_distilled(project / "set", random_baseline(digits, 2, 8))
    uri = store
    res = ddr.evaluate("lrs", distilled="set", dataset="digits", ipc=2, protocol="tiny-lrs.yaml", tracking_uri=uri,
                       rounds=1)
    tags = MlflowClient(uri).get_run(res.mlflow["run_id"]).data.tags
    live = Tracker(uri)
    live.start_parent("digits", "live", {k: v for k, v in tags.items() if k.startswith("ddr.")
                                         and k not in ("ddr.pid", "ddr.host", "ddr.pid_created")}, {})
    ddr.evaluate("lrs", distilled="set", dataset="digits", ipc=2, protocol="tiny-lrs.yaml", tracking_uri=uri,
                 rounds=1)
    assert MlflowClient(uri).get_run(live.parent_id).info.status == "RUNNING"
    live.abort_parent("KILLED")


@pytest.mark.slow  # four interpreters importing MLflow, racing to create and migrate one store
def test_several_evaluations_open_a_brand_new_store_at_once(tmp_path):
    uri = f"sqlite:///{tmp_path / 'new' / 'mlflow.db'}"
    code = ("import sys; from ddr.tracking import Tracker; t = Tracker(sys.argv[1]); "
            "t.start_parent('digits', 'x', {'ddr.kind': 'lrs'}, {}); t.abort_parent('FAILED')")
    procs = [subprocess.Popen([sys.executable, "-c", code, uri], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=240) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1][-1500:] for o in outs]
    assert len(_parents(MlflowClient(uri))) == 4


def test_an_unreachable_tracking_server_fails_with_one_line_before_anything_is_written(project, digits, ddr_cli):
    """Probed once with a short timeout: MLflow's own retries took minutes to give up (time measured in
    the notes, not asserted here)."""
    write_distilled(project / "set", random_baseline(digits, 2, 9))
    before = sorted(p.name for p in project.iterdir())
    port = free_port()  # nothing listens there
    code, out, err = ddr_cli("eval", "lrs", "--distilled", "set", "--dataset", "digits", "--ipc", "2",
                             "--protocol", "tiny-lrs.yaml", "--tracking-uri", f"http://127.0.0.1:{port}")
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "does not answer" in lines[0], err[-2000:]
    assert sorted(p.name for p in project.iterdir()) == before
