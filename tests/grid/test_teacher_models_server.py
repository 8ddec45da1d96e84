"""A soft-label evaluation logged through a real `mlflow server` (as the pipeline's grid logs) registers its
teacher: the server checks a model version's source against the logged model it names."""
from mlflow import MlflowClient

import ddr
from ddr.data import random_baseline
from ddr.teacher_models import MODEL_TAG, SHA_TAG, alias, registered_name

from tests.pipelines.conftest import FIXTURES


def test_teacher_registers_through_a_server(tmp_path, mlflow_server, digits):
    res = ddr.evaluate("acc", distilled=random_baseline(digits, 1, 4), method="a", dataset="digits", ipc=1,
                       protocol=str(FIXTURES / "tiny-soft.yaml"), rounds=1, label="soft",
                       tracking_uri=mlflow_server.uri, cache_dir=tmp_path / "cache")
    [teacher] = res.inputs["teachers"]
    client = MlflowClient(mlflow_server.uri)
    version = client.get_model_version_by_alias(registered_name("tiny-soft", 0), alias(1))
    assert version.tags[SHA_TAG] == teacher["sha256"]
    run = client.get_run(res.mlflow["run_id"])
    assert [m.model_id for m in run.inputs.model_inputs] == [version.tags[MODEL_TAG]]
