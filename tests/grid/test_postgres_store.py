"""A team's tracking store: a real PostgreSQL, `ddr server` over it, a grid's two local workers logging
through the server; every run, metric and artifact arrives in the database and the artifact folder."""
import os
import signal
import subprocess
import sys

import pytest

from ddr.grid.executors import LocalExecutor
from ddr.grid.runner import run_grid
from ddr.grid.server import free_port
from ddr.grid.spec import load_grid
from ddr.tracking import with_driver
from tests.grid.conftest import parent_runs
from tests.grid.test_server_cmd import WIRED
from tests.postgres import Postgres, require_postgres



GRID = """\
name: team-grid
datasets: [digits]
ipc: [1, 2]
rounds: 1
protocol: tiny-lrs.yaml
methods:
  rand-a: {random_seed: 301}
  rand-b: {random_seed: 302}
"""


@pytest.fixture
def postgres():
    require_postgres()
    pg = Postgres(free_port()).start()
    yield pg
    pg.stop()


@pytest.mark.postgres
@pytest.mark.slow  # a PostgreSQL, an MLflow server, two workers: about 30 s on an idle machine
def test_a_grid_logs_through_ddr_server_over_postgresql(gridproj, postgres):
    from mlflow import MlflowClient

    from tests.grid.conftest import FIXTURES

    (gridproj / "tiny-lrs.yaml").write_text((FIXTURES / "tiny-lrs.yaml").read_text())
    (gridproj / "team.yaml").write_text(GRID)
    store = postgres.create_database("mlflow")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    server = subprocess.Popen([sys.executable, "-c", WIRED, "server", "--port", str(port), "--tracking-uri",
                               store, "--artifacts-destination", "team-artifacts"], cwd=gridproj, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    uri = f"http://127.0.0.1:{port}"
    try:
        line = server.stdout.readline()  # printed once /health answers
        assert line.strip() == f"export MLFLOW_TRACKING_URI={uri}", server.stderr.read() if not line else line
        report = run_grid(load_grid(gridproj / "team.yaml"), LocalExecutor(workers=2), out=gridproj / "out",
                          tracking_uri=uri)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    assert [c.status for c in report.cells] == ["ran"] * 4

    # read straight from the database (through the driver ddr names): every run the workers logged is
    # there, with its metrics
    store = with_driver(store)
    db = MlflowClient(store)
    workers = set()
    for c in report.cells:
        assert c.result.mlflow["tracking_uri"] == uri
        [parent] = parent_runs(store, c.cell.id, "FINISHED")
        assert parent.info.run_id == c.result.mlflow["run_id"]
        workers.add(parent.data.tags["ddr.worker"])
        assert parent.data.metrics["lrs_mean"] == c.result.metrics["lrs"]["mean"]
        assert [m.value for m in db.get_metric_history(parent.info.run_id, "lrs")] == \
            c.result.metrics["lrs"]["per_round"]
        kids = db.search_runs([parent.info.experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
        assert {k.info.run_id for k in kids} == {t["mlflow_run_id"] for t in c.result.trainings}
        best = {t["mlflow_run_id"]: t["best_acc"] for t in c.result.trainings}
        assert {k.info.run_id: k.data.metrics["best_acc"] for k in kids} == best
        assert {k.info.status for k in kids} == {"FINISHED"}
        # artifacts went through the server into its --artifacts-destination folder
        assert parent.info.artifact_uri.startswith("mlflow-artifacts:")
        stored = gridproj / "team-artifacts" / parent.info.artifact_uri.split(":", 1)[1].lstrip("/")
        assert sorted(p.name for p in stored.iterdir()) == sorted(["result.json", c.result.predictions["file"]])
        assert (stored / "result.json").stat().st_size > 0
    assert len(workers) == 2


@pytest.mark.postgres
@pytest.mark.slow  # a PostgreSQL, the grid's private MLflow server, two workers
def test_a_parallel_grid_over_postgresql_puts_its_private_server_in_front(gridproj, postgres):
    """--tracking-uri postgresql://...: the runner serves the database for the grid's duration; the runs land in
    it and the artifacts in ./mlartifacts, uploaded through that server; the password is never recorded."""
    from mlflow import MlflowClient

    from tests.grid.conftest import FIXTURES

    (gridproj / "tiny-lrs.yaml").write_text((FIXTURES / "tiny-lrs.yaml").read_text())
    (gridproj / "team.yaml").write_text(GRID.replace("  rand-b: {random_seed: 302}\n", ""))  # two cells
    store = postgres.create_database("grid")
    postgres.execute("postgres", "ALTER USER ddr PASSWORD 's3cret'")  # trust auth: accepted, not needed
    secret = store.replace("ddr@", "ddr:s3cret@")
    msgs = []
    report = run_grid(load_grid(gridproj / "team.yaml"), LocalExecutor(workers=2), out=gridproj / "out",
                      tracking_uri=secret, progress=msgs.append)
    assert [c.status for c in report.cells] == ["ran", "ran"]
    [served] = [m for m in msgs if m.startswith("MLflow server http://127.0.0.1:")]
    assert "ddr:***@127.0.0.1" in served
    db = MlflowClient(with_driver(store))
    for c in report.cells:
        assert c.result.mlflow["tracking_uri"] == with_driver(store).replace("ddr@", "ddr:***@")
        [parent] = parent_runs(with_driver(store), c.cell.id, "FINISHED")
        kids = db.search_runs([parent.info.experiment_id],
                              filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
        assert len(kids) == len(c.result.trainings)
        stored = gridproj / "mlartifacts" / parent.info.artifact_uri.split(":", 1)[1].lstrip("/")
        assert sorted(p.name for p in stored.iterdir()) == sorted(["result.json", c.result.predictions["file"]])
    assert not any("s3cret" in p.read_text() for p in (gridproj / "out").rglob("*.json"))  # grid.json, results


def test_a_postgresql_store_is_served_with_its_driver_named_and_its_artifacts_proxied(tmp_path, monkeypatch):
    from ddr.errors import DDRError
    from ddr.grid.server import MlflowServer

    monkeypatch.chdir(tmp_path)
    server = MlflowServer("postgresql://team:s3cret@db.example:5432/mlflow")
    cmd = server.command()
    assert cmd[cmd.index("--backend-store-uri") + 1] == "postgresql+psycopg2://team:s3cret@db.example:5432/mlflow"
    assert cmd[cmd.index("--artifacts-destination") + 1] == str(tmp_path / "mlartifacts")
    assert "--default-artifact-root" not in cmd  # mlflow-artifacts:/, uploaded through the server
    with pytest.raises(DDRError, match="--artifacts-destination is for a postgresql:// store"):
        MlflowServer(f"sqlite:///{tmp_path / 'mlflow.db'}", artifacts=tmp_path / "elsewhere")
    with pytest.raises(DDRError, match="sqlite:/// or postgresql://"):
        MlflowServer("mysql://team:s3cret@db.example/mlflow")


@pytest.mark.postgres
def test_ddr_server_refuses_a_postgresql_store_that_does_not_answer_in_one_line(tmp_path, monkeypatch, ddr_cli):
    require_postgres()
    monkeypatch.chdir(tmp_path)
    port = free_port()  # nothing listens there
    code, out, err = ddr_cli("server", "--port", str(free_port()), "--tracking-uri",
                             f"postgresql://team:s3cret@127.0.0.1:{port}/mlflow")
    assert code == 2 and out == ""
    [line] = err.strip().splitlines()
    assert f"team:***@127.0.0.1:{port}/mlflow does not answer" in line and "s3cret" not in line
    assert not (tmp_path / "mlartifacts").exists()


@pytest.mark.parametrize("host", ["192.0.2.1", "no-such-host.invalid", ""])
def test_ddr_server_refuses_a_host_it_cannot_listen_on(tmp_path, monkeypatch, ddr_cli, host):
    monkeypatch.chdir(tmp_path)
    code, out, err = ddr_cli("server", "--port", str(free_port()), "--host", host)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "is not an address this machine can listen on" in err
    assert not (tmp_path / "mlflow.db").exists()
