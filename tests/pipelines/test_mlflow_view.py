"""The MLflow store as a person opens it: a training experiment with a description, evaluations that
show their per-round scores and system metrics, and the UI's own runs search (through a real
`mlflow server`) listing evaluations apart from their trainings."""
import json
import urllib.request

import pytest
from mlflow import MlflowClient

import ddr
from ddr.data import random_baseline
from ddr.mlflow_notes import EVALUATIONS_FILTER, KIND_TAG, NOTE_TAG, TRAINING_KIND, runs_link, trainings_filter

from tests.pipelines.conftest import FIXTURES


@pytest.fixture(scope="module")
def store(tmp_path_factory, migrated_store, digits):
    from tests.stores import copy_store

    root = tmp_path_factory.mktemp("store")
    uri = copy_store(migrated_store, root)
    common = dict(dataset="digits", ipc=1, protocol=str(FIXTURES / "tiny-lrs.yaml"), tracking_uri=uri,
                  cache_dir=root / "cache")
    lrs = ddr.evaluate("lrs", distilled=random_baseline(digits, 1, 4), rounds=2, method="r4", out=root / "lrs",
                       **common)
    acc = ddr.evaluate("acc", distilled=random_baseline(digits, 1, 5), rounds=1, method="r5", out=root / "acc",
                       **common)
    return root, uri, lrs, acc


def test_experiment_is_a_described_training_experiment(store):
    _, uri, lrs, _ = store
    exp = MlflowClient(uri).get_experiment(lrs.mlflow["experiment_id"])
    assert exp.tags[KIND_TAG] == TRAINING_KIND
    assert "evaluation" in exp.tags[NOTE_TAG] and "searchFilter=" in exp.tags[NOTE_TAG]


def test_parent_logs_rounds_description_and_resources(store):
    root, uri, lrs, acc = store
    client = MlflowClient(uri)
    run = client.get_run(lrs.mlflow["run_id"])
    for name in ("hlr", "ior", "lrs"):  # stepped by round, equal to the result's per-round values
        hist = sorted(client.get_metric_history(run.info.run_id, name), key=lambda m: m.step)
        assert [m.step for m in hist] == [0, 1]
        assert [m.value for m in hist] == pytest.approx(lrs.metrics[name]["per_round"])
    assert [m.value for m in client.get_metric_history(acc.mlflow["run_id"], "acc")] == pytest.approx(
        acc.metrics["acc"]["per_round"])
    note = run.data.tags[NOTE_TAG]
    assert f"{lrs.metrics['lrs']['mean']:.4f}" in note and lrs.inputs["distilled"]["md5"] in note
    assert runs_link(run.info.experiment_id, trainings_filter(run.info.run_id)) in note
    # system metrics on every evaluation, even one shorter than the sampling interval
    for rid in (lrs.mlflow["run_id"], acc.mlflow["run_id"]):
        keys = client.get_run(rid).data.metrics
        assert "system/cpu_utilization_percentage" in keys and "system/system_memory_usage_megabytes" in keys
    saved = json.loads((root / "lrs" / "result.json").read_text())
    res = saved["resources"]
    assert res["trainings"] == len(saved["trainings"]) == 9
    assert res["train_seconds"] == pytest.approx(sum(t["seconds"] for t in saved["trainings"]), abs=1e-2)
    assert res["train_seconds"] > 0 and run.data.metrics["train_seconds"] == pytest.approx(res["train_seconds"])


def test_evaluation_runs_name_their_label_and_carry_mlflows_git_commit_tag(store):
    _, uri, lrs, acc = store
    client = MlflowClient(uri)
    assert client.get_run(lrs.mlflow["run_id"]).info.run_name == "lrs-hard-r4-ipc1"  # hard and soft runs differ
    assert client.get_run(acc.mlflow["run_id"]).info.run_name == "acc-hard-r5-ipc1"
    tags = client.get_run(lrs.mlflow["run_id"]).data.tags
    assert lrs.environment["git_commit"]  # the tests run in a git checkout
    assert tags["mlflow.source.git.commit"] == tags["ddr.git_commit"] == lrs.environment["git_commit"]


def _search(base: str, payload: dict) -> list[dict]:
    req = urllib.request.Request(f"{base}/ajax-api/2.0/mlflow/runs/search", data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read()).get("runs", [])


def _tags(run: dict) -> dict:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


@pytest.mark.slow
def test_ui_runs_search_lists_evaluations_apart_from_trainings(store):
    from ddr.grid.server import MlflowServer

    _, uri, lrs, acc = store
    server = MlflowServer(uri).start()
    try:
        exp_id = lrs.mlflow["experiment_id"]
        # the payload the runs table sends (experiment page, default sort)
        ui = {"experiment_ids": [exp_id], "run_view_type": "ACTIVE_ONLY", "max_results": 100,
              "order_by": ["attributes.start_time DESC"]}
        first_page = _search(server.uri, {**ui, "max_results": 5})
        # unfiltered, as the UI opens: trainings crowd the page (children count towards max_results)
        assert sum("mlflow.parentRunId" in _tags(r) for r in first_page) >= 4
        evaluations = _search(server.uri, {**ui, "filter": EVALUATIONS_FILTER})
        assert [r["info"]["run_id"] for r in evaluations] == [acc.mlflow["run_id"], lrs.mlflow["run_id"]]
        assert all("mlflow.parentRunId" not in _tags(r) for r in evaluations)
        kids = _search(server.uri, {**ui, "filter": trainings_filter(lrs.mlflow["run_id"])})
        assert sorted(r["info"]["run_id"] for r in kids) == sorted(t["mlflow_run_id"] for t in lrs.trainings)
        with urllib.request.urlopen(f"{server.uri}/ajax-api/2.0/mlflow/experiments/get?experiment_id={exp_id}",
                                    timeout=30) as r:
            tags = {t["key"]: t["value"] for t in json.loads(r.read())["experiment"]["tags"]}
        assert tags[KIND_TAG] == TRAINING_KIND
    finally:
        server.stop()
