"""The DVC pipeline end to end in a temporary git + DVC repository, with reduced params."""
import json
import subprocess
import sys

import pytest
import yaml

from tests.pipelines.dvc_project import SHARES_REPRODUCED, dvc, edit_params, params_version, ran


@pytest.mark.slow
@SHARES_REPRODUCED
def test_reduced_pipeline_end_to_end_noop_and_partial_rerun(reproduced_repo, reproduced_copy):
    repo, first = reproduced_repo
    assert ran(first) == sorted(yaml.safe_load((repo / "dvc.lock").read_text())["stages"])  # every stage ran
    ranking = json.loads((repo / "ranking" / "ranking.json").read_text())
    (table,) = [t for t in ranking["tables"] if t["score"] == "lrs"]
    assert (table["dataset"], table["ipc"], table["label"]) == ("digits", 1, "hard")
    assert sorted(r["method"] for r in table["rows"]) == ["herding", "random"]
    assert all(0.0 <= r["mean"] <= 1.0 for r in table["rows"])
    metrics = json.loads((repo / "ranking" / "metrics.json").read_text())
    assert set(metrics["digits/ipc1/hard/lrs"]) == {"herding", "random"}
    result = json.loads((repo / "results/digits-ipc1/lrs-hard/herding/result.json").read_text())
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    distilled_md5 = [o["md5"] for o in lock["stages"]["distill@herding-1"]["outs"]][0]
    assert result["inputs"]["distilled"]["md5"] == distilled_md5  # lineage: MLflow/result digest = DVC md5
    assert result["inputs"]["random"][0]["md5"].endswith(".dir")
    verify = subprocess.run([sys.executable, "-m", "pipelines.cli", "registry", "verify", "--releases", "releases",
                             "--keyring", ".ddr/keys/keyring.json"], cwd=repo, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    release = repo / "releases" / params_version(repo)
    assert (release / "sensitivity.json").is_file() and "vs_random" in (release / "ranking.csv").read_text()
    assert len(list((release / "results").glob("*.predictions.npz"))) == 2

    repo = reproduced_copy
    assert ran(dvc(repo, "repro")) == []  # nothing changed, nothing runs

    edit_params(repo, rank={"seed": 1})
    assert ran(dvc(repo, "repro")) == ["rank", "release"]  # only what depends on rank.seed
