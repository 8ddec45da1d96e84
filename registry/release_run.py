"""Log a published release to MLflow: a run in the ``releases`` experiment, the release folder as
artifacts, tags pointing at the source runs. Where and how to track is ddr.tracking's (one set of rules)."""
from __future__ import annotations

from pathlib import Path

EXPERIMENT = "releases"


def log_release(release_dir: str | Path, version: str, source_run_ids: list[str],
                tracking_uri: str | None = None, signers: list[str] | None = None) -> str:
    """Returns the MLflow run id of the release run."""
    from ddr.mlflow_notes import releases_note
    from ddr.tracking import ensure_experiment, open_client

    client = open_client(tracking_uri)
    exp_id = ensure_experiment(client, EXPERIMENT, note=lambda _eid: releases_note())
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
