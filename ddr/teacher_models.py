"""Teachers as MLflow models: the checkpoint behind a soft-label number, findable from either side.

Each teacher an evaluation used (trained by ddr or given by the user) becomes one MLflow LoggedModel,
identified by the sha256 of its weights (logged once, reused by every later evaluation), linked to the
evaluation run as a model input, and registered as a version of `ddr-teacher-<protocol>-<index>` with
the alias `protocol-v<version>` (MLflow reserves `v<n>` for version numbers): "the teacher of
digits-lrs-soft v1" is `models:/ddr-teacher-digits-lrs-soft-0@protocol-v1`.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

SHA_TAG = "ddr.teacher.sha256"
MODEL_TAG = "ddr.teacher.model_id"


def alias(protocol_version: int) -> str:
    return f"protocol-v{protocol_version}"


def registered_name(protocol_name: str, index: int) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in protocol_name)
    return f"ddr-teacher-{safe}-{index}"


def _logged_model(client: Any, experiment_id: str, run_id: str, info: dict[str, Any], protocol: Any, index: int):
    found = client.search_logged_models([experiment_id], filter_string=f"tags.`{SHA_TAG}` = '{info['sha256']}'",
                                        max_results=1)
    if found:
        return found[0]
    from mlflow.entities import LoggedModelStatus

    params = {k: str(v) for k, v in info.items() if k in ("model", "seed", "test_acc", "trained_by")}
    model = client.create_logged_model(experiment_id, name=f"teacher-{info['model']}", source_run_id=run_id,
                                       tags={SHA_TAG: info["sha256"], "ddr.protocol": protocol.name},
                                       params=params, model_type="ddr-teacher")
    with tempfile.TemporaryDirectory(prefix="ddr-teacher-") as tmp:
        if info.get("path") and Path(info["path"]).is_file():
            (Path(tmp) / "ckpt.pt").write_bytes(Path(info["path"]).read_bytes())
        (Path(tmp) / "teacher.json").write_text(json.dumps({**info, "protocol": protocol.name,
                                                            "index": index}, indent=2) + "\n")
        client.log_model_artifacts(model.model_id, tmp)
    client.finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    return model


def log_teachers(client: Any, experiment_id: str, run_id: str, teachers: list[dict[str, Any]], protocol: Any) -> list[str]:
    """Log (or find) each teacher, link it to `run_id` and register it; returns the model ids."""
    from mlflow.entities import LoggedModelInput
    from mlflow.exceptions import MlflowException

    ids = []
    for index, info in enumerate(teachers):
        model = _logged_model(client, experiment_id, run_id, info, protocol, index)
        ids.append(model.model_id)
        name = registered_name(protocol.name, index)
        try:
            client.create_registered_model(name, description=f"Teacher {index} of ddr protocol {protocol.name} "
                                                             "(soft labels); alias protocol-v<version>.")
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        versions = client.search_model_versions(f"name = '{name}'")
        version = next((v for v in versions if v.tags.get(SHA_TAG) == info["sha256"]), None)
        if version is None:  # the source is the model's folder: a models:/ source would be resolved through
            # the process-global tracking URI, not this client's. A server accepts a local folder only inside
            # the artifacts of the logged model named by model_id (or of the run, which it is not).
            version = client.create_model_version(name, source=model.artifact_location, run_id=run_id,
                                                  model_id=model.model_id,
                                                  tags={SHA_TAG: info["sha256"], MODEL_TAG: model.model_id})
        client.set_registered_model_alias(name, alias(protocol.version), version.version)
    client.log_inputs(run_id, models=[LoggedModelInput(i) for i in ids])
    return ids
