import os
import signal
import subprocess
import sys
import time
import urllib.request

from mlflow import MlflowClient

from ddr.grid.server import free_port

WIRED = "import sys; from pipelines.cli import main; main(sys.argv[1:])"


def test_ddr_server_serves_the_project_store_on_loopback_and_stops_cleanly(tmp_path, new_store):
    new_store(tmp_path)
    port = free_port()
    # the variable names a server (as after `export MLFLOW_TRACKING_URI=...` from an earlier `ddr server`):
    # bound to --tracking-uri, it is still not mistaken for a store to serve
    env = {**os.environ, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}
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


def test_ddr_server_refuses_a_port_another_mlflow_server_holds(tmp_path, mlflow_server):
    """It must not print another server's address as if it were its own store's."""
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    proc = subprocess.run([sys.executable, "-c", WIRED, "server", "--port", str(mlflow_server.port)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "export" not in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"port {mlflow_server.port}" in lines[0] and "in use" in lines[0], proc.stderr
    with urllib.request.urlopen(f"{mlflow_server.uri}/health", timeout=5) as r:  # the other server is untouched
        assert r.status == 200


def test_the_port_owner_check_tells_its_own_server_from_another(mlflow_server):
    from ddr.grid.server import port_owned_by_group

    assert port_owned_by_group(mlflow_server.port, mlflow_server.proc.pid) is True
    assert port_owned_by_group(mlflow_server.port, os.getpgid(0)) is False
