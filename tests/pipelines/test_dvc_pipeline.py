"""The DVC pipeline end to end in a temporary git + DVC repository, with reduced params."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _dvc(repo: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "MLFLOW_DISABLE_TELEMETRY": "true", "OMP_NUM_THREADS": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    env["DDR_CACHE_DIR"] = str(repo / ".ddr" / "cache")
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture
def pipeline_repo(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    for name in ("ddr", "pipelines", "registry", "tools", "submissions"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "dvc.yaml", repo / "dvc.yaml")
    shutil.copy(ROOT / ".dvcignore", repo / ".dvcignore")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"]["ipcs"] = [1]
    params["baselines"]["count"] = 1
    params["distill"]["methods"] = ["random", "herding"]
    params["evaluate"]["metrics"] = [["lrs", "hard"]]
    params["evaluate"]["rounds"] = 1
    params["evaluate"]["executor"] = {"kind": "serial"}  # no MLflow server start-up in a small test
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    _dvc(repo, "init", "-q")
    _dvc(repo, "config", "core.analytics", "false")
    _dvc(repo, "config", "core.check_update", "false")
    return repo


def params_version(repo) -> str:
    return str(yaml.safe_load((repo / "params.yaml").read_text())["release"]["version"])


def test_reduced_pipeline_end_to_end_noop_and_partial_rerun(pipeline_repo):
    repo = pipeline_repo
    out = _dvc(repo, "repro")
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

    again = _dvc(repo, "repro")
    assert "Running stage" not in again  # nothing changed, nothing runs

    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["rank"]["seed"] = 1
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    partial = _dvc(repo, "repro")
    ran = sorted(line.split("'")[1] for line in partial.splitlines() if line.startswith("Running stage"))
    assert ran == ["rank", "release"]  # only what depends on rank.seed
