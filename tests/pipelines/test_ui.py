"""`ddr ui` serves the project's MLflow store on 127.0.0.1 (a real server, stopped by its pid)."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import ddr
from ddr.data import random_baseline


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddr_ui_serves_the_project_store(project, store, digits):
    res = ddr.evaluate("acc", distilled=random_baseline(digits, 1, 4), dataset="digits", ipc=1,
                       protocol="tiny-lrs.yaml", rounds=1)
    port = _free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    proc = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "ui", "--port", str(port)], cwd=project, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise AssertionError(f"MLflow UI did not come up: {proc.stderr.read()[-2000:] if proc.poll() is not None else 'timeout'}")
                time.sleep(0.5)
        url = f"{base}/api/2.0/mlflow/runs/get?run_id={res.mlflow['run_id']}"
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read().decode()
        assert res.mlflow["run_id"] in body and "ddr.protocol" in body
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
