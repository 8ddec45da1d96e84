"""Teachers as MLflow models: logged once per weights, linked to every evaluation that used them,
registered with an alias per protocol version."""
import pytest
from mlflow import MlflowClient

import ddr
from ddr.data import random_baseline
from ddr.teacher_models import MODEL_TAG, SHA_TAG, alias, registered_name

from tests.pipelines.conftest import FIXTURES


@pytest.mark.slow
def test_teacher_is_a_registered_model_linked_to_its_runs(tmp_path, new_store, digits):
    uri = new_store(tmp_path)
    common = dict(dataset="digits", ipc=1, protocol=str(FIXTURES / "tiny-soft.yaml"), rounds=1,
                  tracking_uri=uri, cache_dir=tmp_path / "cache", label="soft")
    first = ddr.evaluate("acc", distilled=random_baseline(digits, 1, 4), method="a", **common)
    second = ddr.evaluate("acc", distilled=random_baseline(digits, 1, 5), method="b", **common)
    [teacher] = first.inputs["teachers"]
    assert second.inputs["teachers"][0]["sha256"] == teacher["sha256"]  # the cached teacher, reused

    client = MlflowClient(uri)
    exp_id = first.mlflow["experiment_id"]
    models = client.search_logged_models([exp_id])
    assert len(models) == 1  # one model per teacher weights, not per evaluation
    model = models[0]
    assert model.tags[SHA_TAG] == teacher["sha256"] and model.source_run_id == first.mlflow["run_id"]
    assert {a.path for a in client.list_logged_model_artifacts(model.model_id)} >= {"ckpt.pt", "teacher.json"}
    for res in (first, second):  # from the run: its model inputs name the teacher
        run = client.get_run(res.mlflow["run_id"])
        assert [m.model_id for m in run.inputs.model_inputs] == [model.model_id]
    # from the registry: the protocol version's alias resolves to the same weights
    version = client.get_model_version_by_alias(registered_name("tiny-soft", 0), alias(1))
    assert version.tags[MODEL_TAG] == model.model_id and version.tags[SHA_TAG] == teacher["sha256"]
    assert len(client.search_model_versions(f"name = '{registered_name('tiny-soft', 0)}'")) == 1
