"""DVC as its users use it, on the reduced pipeline: the run cache through a remote (a fresh clone runs
nothing), a queued protocol sweep (`dvc exp run --queue -S`, `dvc exp show`), and `dvc metrics diff`
between two release tags."""
import json
import os
import subprocess
import sys

import pytest
import yaml

from tests.pipelines.dvc_project import SHARES_REPRODUCED, dvc, ran


def _git(repo, *args):
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, env=env)


@pytest.mark.slow
@SHARES_REPRODUCED
def test_run_cache_remote_queued_sweep_and_metrics_diff_between_release_tags(reproduced_copy, tmp_path):
    repo = reproduced_copy  # random and herding, reproduced
    dvc(repo, "remote", "add", "-d", "store", str(tmp_path / "remote"))
    assert ran(dvc(repo, "repro")) == []
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "release 0.1.0")
    _git(repo, "tag", "v0.1.0")
    dvc(repo, "push", "--run-cache")

    # a fresh clone: pull the outputs and the run cache, and nothing is computed again
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    dvc(clone, "pull", "--run-cache")
    assert ran(dvc(clone, "repro")) == []
    assert json.loads(dvc(clone, "status", "--json")) == {}

    # a sweep of the bootstrap seed, queued and run as DVC experiments; exp show lists each one's scores
    for seed in (1, 2):
        dvc(repo, "exp", "run", "--queue", "-S", f"rank.seed={seed}")
    dvc(repo, "exp", "run", "--run-all")
    rows = _exp_rows(json.loads(dvc(repo, "exp", "show", "--json")))
    seeds = {r["params"]["rank"]["seed"] for r in rows}
    assert {1, 2} <= seeds, rows
    assert all("digits/ipc1/hard/lrs" in r["metrics"] for r in rows), rows

    # a second release with another bootstrap seed, tagged; metrics diff names both tags' scores
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["release"]["version"] = "0.2.0"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = dvc(repo, "repro")
    assert ran(out) == ["release"]  # the ranking and every evaluation are reused
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "release 0.2.0")
    _git(repo, "tag", "v0.2.0")
    diff = json.loads(dvc(repo, "metrics", "diff", "v0.1.0", "v0.2.0", "--all", "--json"))
    (entry,) = diff.values()
    assert any(k.startswith("digits/ipc1/hard/lrs") for k in entry), entry
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "registry", "verify", "--releases", "releases",
                           "--keyring", ".ddr/keys/keyring.json"], cwd=repo, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _exp_rows(shown) -> list[dict]:
    """(params.yaml, ranking/metrics.json) of every row `dvc exp show --json` lists: baseline and experiments."""
    rows = []

    def walk(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and "params" in data:
                params = (data["params"].get("params.yaml") or {}).get("data")
                metrics = (data.get("metrics", {}).get("ranking/metrics.json") or {}).get("data")
                if params and metrics:
                    rows.append({"params": params, "metrics": metrics})
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(shown)
    return rows
