import os
import signal
import subprocess
import sys
import time
import urllib.request

from mlflow import MlflowClient

from ddr.grid.server import free_port

WIRED = ("import sys; from pipelines import eval_cmd; from pipelines.cli import cli, main; "
         "from pipelines.grid_cmd import grid_cmd, server_cmd; eval_cmd.eval_group.add_command(grid_cmd); "
         "cli.add_command(server_cmd); main(sys.argv[1:])")


def test_ddr_server_serves_the_project_store_on_loopback_and_stops_cleanly(tmp_path):
    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
    env.pop("MLFLOW_TRACKING_URI")
    proc = subprocess.Popen([sys.executable, "-c", WIRED, "server", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # printed once /health answers
        assert line.strip() == f"export MLFLOW_TRACKING_URI=http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            assert r.status == 200
        client = MlflowClient(f"http://127.0.0.1:{port}")
        exp = client.create_experiment("digits")
        run = client.create_run(exp)
        client.set_terminated(run.info.run_id, "FINISHED")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the mlflow server went with it
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
        except OSError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("mlflow server still answering after ddr server stopped")
    store = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")  # the project's store, read directly
    [r] = store.search_runs([store.get_experiment_by_name("digits").experiment_id])
    assert r.info.status == "FINISHED"
    assert store.get_experiment_by_name("digits").artifact_location.startswith((tmp_path / "mlartifacts").as_uri())
