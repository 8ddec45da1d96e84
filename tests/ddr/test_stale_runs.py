"""Which RUNNING parents the next evaluation of a cell ends: those whose process (host, pid and start time,
read through psutil) is gone; a live one, another host's or an older run's without a start time are left."""
import socket
import subprocess
import sys

from mlflow import MlflowClient

from ddr.stale_runs import end_stale_parents, owner_tags

CELL = {"ddr.kind": "lrs", "ddr.label": "hard", "ddr.method": "m", "ddr.dataset": "digits", "ddr.ipc": "1"}


def test_only_parents_whose_process_is_gone_are_ended(tmp_path, new_store):
    client = MlflowClient(new_store(tmp_path))
    exp = client.create_experiment("digits")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone_pid = dead.stdout.strip()
    me = owner_tags()
    host = socket.gethostname()
    owners = {
        "live": me,
        "dead": {**me, "ddr.pid": gone_pid},
        "reused": {**me, "ddr.pid_created": f"{float(me['ddr.pid_created']) - 3600:.2f}"},  # this pid, an hour older
        "elsewhere": {**me, "ddr.pid": gone_pid, "ddr.host": host + "-other"},
        "older-format": {"ddr.host": host, "ddr.pid": me["ddr.pid"], "ddr.pid_start": "123"},
    }
    ids = {name: client.create_run(exp, run_name=name, tags={**CELL, **tags}).info.run_id
           for name, tags in owners.items()}
    ended = end_stale_parents(client, exp, CELL)
    assert sorted(ended) == sorted([ids["dead"], ids["reused"]])
    status = {name: client.get_run(rid).info.status for name, rid in ids.items()}
    assert status == {"live": "RUNNING", "dead": "FAILED", "reused": "FAILED", "elsewhere": "RUNNING",
                      "older-format": "RUNNING"}
