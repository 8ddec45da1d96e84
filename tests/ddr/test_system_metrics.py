"""System metrics through MLflow's public switch: a run the tracker's client created is monitored from
start to end, even when shorter than one sampling interval, and the caller's MLflow state (tracking URI,
its own active run) is as it was."""
import mlflow
import pytest
from mlflow import MlflowClient

from ddr.system_metrics import PREFIX, RunMonitor


@pytest.fixture
def client_run(tmp_path, new_store):
    uri = new_store(tmp_path)
    client = MlflowClient(uri)
    exp = client.create_experiment("digits")
    return uri, client, exp


def _system_keys(client, run_id):
    return {k for k in client.get_run(run_id).data.metrics if k.startswith(PREFIX)}


def test_a_short_run_gets_its_system_metrics_and_ends_with_its_status(client_run, monkeypatch):
    uri, client, exp = client_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////nonexistent/elsewhere.db")  # the caller's, untouched
    for status in ("FINISHED", "FAILED"):
        rid = client.create_run(exp).info.run_id
        monitor = RunMonitor(client, uri, rid).start()
        assert monitor.wait_for_first_point()  # ended at once, it would have no sample yet
        monitor.end(status)
        assert client.get_run(rid).info.status == status
        assert {"system/cpu_utilization_percentage", "system/system_memory_usage_megabytes"} <= _system_keys(client, rid)
        assert mlflow.active_run() is None
    assert mlflow.get_tracking_uri() == "sqlite:////nonexistent/elsewhere.db"


def test_a_uri_from_the_environment_is_not_left_set_in_process(client_run, monkeypatch, tmp_path):
    # the monitor must not turn the caller's MLFLOW_TRACKING_URI into a process-wide setting that outlives it
    uri, client, exp = client_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////nonexistent/first.db")
    monitor = RunMonitor(client, uri, client.create_run(exp).info.run_id).start()
    monitor.wait_for_first_point()
    monitor.end("FINISHED")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////nonexistent/later.db")
    assert mlflow.get_tracking_uri() == "sqlite:////nonexistent/later.db"


def test_the_callers_own_active_run_is_left_as_it_was(client_run, tmp_path, new_store, monkeypatch):
    uri, client, exp = client_run
    monkeypatch.setenv("MLFLOW_TRACKING_URI", new_store(tmp_path / "callers"))  # not the tracker's store
    mine = mlflow.start_run()
    try:
        rid = client.create_run(exp).info.run_id
        monitor = RunMonitor(client, uri, rid).start()
        monitor.wait_for_first_point()
        monitor.end("FINISHED")
        assert mlflow.active_run().info.run_id == mine.info.run_id
        assert MlflowClient().get_run(mine.info.run_id).info.status == "RUNNING"
        assert client.get_run(rid).info.status == "FINISHED"
    finally:
        mlflow.end_run()


def test_mlflows_switch_turns_them_off(client_run, monkeypatch):
    uri, client, exp = client_run
    monkeypatch.setenv("MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING", "false")
    rid = client.create_run(exp).info.run_id
    monitor = RunMonitor(client, uri, rid).start()
    assert not monitor.wait_for_first_point()
    monitor.end("FINISHED")
    assert client.get_run(rid).info.status == "FINISHED" and _system_keys(client, rid) == set()
