"""Log a published release to MLflow: a run in the ``releases`` experiment, the release folder as
artifacts, tags pointing at the source runs. Always an explicit tracking URI."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote

EXPERIMENT = "releases"


def default_tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd() / 'mlflow.db'}"


def _artifact_root(uri: str) -> str | None:
    """For a sqlite store, artifacts go next to the database (never into the working directory)."""
    if uri.startswith("sqlite:///"):
        # sqlite:////abs/path.db -> /abs/path.db; sqlite:///rel.db -> rel.db (relative to cwd)
        db = Path(unquote(uri[len("sqlite:///"):].split("?", 1)[0])).resolve()
        return (db.parent / "mlartifacts").as_uri()
    return None


def log_release(release_dir: str | Path, version: str, source_run_ids: list[str],
                tracking_uri: str | None = None, signers: list[str] | None = None) -> str:
    """Returns the MLflow run id of the release run."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    from ddr.mlflow_notes import label_experiment, releases_note

    uri = tracking_uri or default_tracking_uri()
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(EXPERIMENT)
    exp_id = exp.experiment_id if exp else client.create_experiment(EXPERIMENT, artifact_location=_artifact_root(uri))
    label_experiment(client, exp_id, releases_note())
    tags = {"ddr.release.version": version, "ddr.source_runs": ",".join(source_run_ids),
            "ddr.release.signers": ",".join(signers or []), "mlflow.runName": f"release-{version}"}
    run = client.create_run(exp_id, tags=tags, run_name=f"release-{version}")
    rid = run.info.run_id
    try:
        client.log_param(rid, "version", version)
        client.log_param(rid, "n_source_runs", len(source_run_ids))
        client.log_artifacts(rid, str(release_dir), artifact_path=f"release-{version}")
        client.set_terminated(rid, "FINISHED")
    except BaseException:
        client.set_terminated(rid, "FAILED")
        raise
    return rid
