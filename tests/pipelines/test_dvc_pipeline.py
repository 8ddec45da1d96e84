"""The DVC pipeline end to end in a temporary git + DVC repository, with reduced params, and DVC as its
users use it on that repository: the run cache through a remote (a fresh clone runs nothing), a queued
protocol sweep (`dvc exp run --queue -S`, `dvc exp show`), `dvc metrics diff` between two release tags, and
submissions evaluated by the next repro. One reproduced repository serves the module (conftest.py)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ddr.data import load_dataset, random_baseline, write_distilled
from ddr.data.digest import dvc_md5
from tests.pipelines.doc_commands import documented_commands, skip_reason
from tests.pipelines.dvc_project import dvc, edit_params, git, image_folder, params_version, ran, submit


@pytest.mark.slow
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
                             "--keyring", "keys/keyring.json"], cwd=repo, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    release = repo / "releases" / params_version(repo)
    assert (release / "sensitivity.json").is_file() and "vs_random" in (release / "ranking.csv").read_text()
    assert len(list((release / "results").glob("*.predictions.npz"))) == 2

    repo = reproduced_copy
    assert ran(dvc(repo, "repro")) == []  # nothing changed, nothing runs

    edit_params(repo, rank={"seed": 1})
    assert ran(dvc(repo, "repro")) == ["rank", "release"]  # only what depends on rank.seed

    with open(repo / "registry" / "ranking.py", "a") as f:
        f.write("\n# a change to how rankings are built\n")
    assert ran(dvc(repo, "repro")) == ["rank", "release"]  # only the stages whose command runs the ranking


# What a pipeline run leaves for git in a checkout of the project: the lock, the .gitignore files DVC
# writes beside its outputs, the metrics DVC keeps in git, the registry's signed timestamp and the keyring
# that verify the release, and the remote the team shares.
RUN_LEAVES = {"dvc.lock", ".dvc/config", ".gitignore", "data/real/.gitignore", "data/random/.gitignore",
              "data/distilled/.gitignore", "models/.gitignore", "ranking/.gitignore", "ranking/metrics.json",
              "ranking/plots/scores/digits-ipc1-hard-lrs.json", "ranking/plots/rounds/digits-ipc1-hard-lrs.json",
              "releases/.gitignore", "releases/timestamp.dsse.json", "keys/keyring.json"}


def _git_changes(repo) -> set[str]:
    return {line[3:] for line in git(repo, "status", "--porcelain", "--untracked-files=all").splitlines()}


@pytest.mark.slow
def test_team_flow_a_fresh_clone_pulls_everything_reruns_nothing_and_verifies(reproduced_copy, tmp_path):
    """README, "DVC as a team uses it", command by command: add the shared remote, commit what the run
    left (git add -A: nothing in it is stray), push with the run cache; a fresh clone pulls, repro runs
    nothing, evaluate included, and the release verifies with the committed keyring."""
    repo = reproduced_copy
    # this copy lies elsewhere than where its cells ran: evaluate, forced, finds them all in the cell store
    # and exports the same results (paths named as this checkout holds them), so nothing after it reruns
    results = dvc_md5(repo / "results")
    assert ran(dvc(repo, "repro", "-f", "-s", "evaluate")) == ["evaluate"]
    assert dvc_md5(repo / "results") == results

    dvc(repo, "remote", "add", "-d", "store", str(tmp_path / "store"))
    assert _git_changes(repo) == RUN_LEAVES  # exactly what to commit: no lock file or cache stray among it
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pipeline run")
    dvc(repo, "push", "--run-cache")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    dvc(clone, "pull", "--run-cache")
    assert ran(dvc(clone, "repro")) == []
    assert _git_changes(clone) == set()  # every pulled output is where the committed .gitignore files expect it
    verify = subprocess.run([sys.executable, "-m", "pipelines.cli", "registry", "verify", "--releases", "releases",
                             "--keyring", "keys/keyring.json"], cwd=clone, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # DVC's own .gitignore files are no part of what evaluate depends on (data/distilled, data/random):
    # a clone without them, as when only dvc.lock is copied in by hand, still has nothing to run
    for name in ("data/distilled/.gitignore", "data/random/.gitignore"):
        (clone / name).unlink()
    assert json.loads(dvc(clone, "status", "--json")) == {}


@pytest.mark.slow
def test_run_cache_remote_queued_sweep_and_metrics_diff_between_release_tags(reproduced_copy, tmp_path):
    repo = reproduced_copy  # random and herding, reproduced
    dvc(repo, "remote", "add", "-d", "store", str(tmp_path / "remote"))
    assert ran(dvc(repo, "repro")) == []
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "release 0.1.0")
    git(repo, "tag", "v0.1.0")
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
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "release 0.2.0")
    git(repo, "tag", "v0.2.0")
    diff = json.loads(dvc(repo, "metrics", "diff", "v0.1.0", "v0.2.0", "--all", "--json"))
    (entry,) = diff.values()
    assert any(k.startswith("digits/ipc1/hard/lrs") for k in entry), entry
    # and plots diff draws the table of each release, as dvc.yaml's plots declare it
    plots, _ = json.JSONDecoder().raw_decode(dvc(repo, "plots", "diff", "v0.1.0", "v0.2.0", "--json", "--split"))
    assert not plots.get("errors"), plots["errors"]
    for kind in ("scores", "rounds"):
        [plot] = plots["data"][f"ranking/plots/{kind}/digits-ipc1-hard-lrs.json"]
        rows = plot["anchor_definitions"]["<DVC_METRIC_DATA>"]
        assert {(r["rev"], r["method"]) for r in rows} == {(v, m) for v in ("v0.1.0", "v0.2.0")
                                                           for m in ("herding", "random")}
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "registry", "verify", "--releases", "releases",
                           "--keyring", "keys/keyring.json"], cwd=repo, capture_output=True, text=True)
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


@pytest.mark.slow
def test_repro_evaluates_only_the_new_cells_and_the_release_ranks_them(reproduced_copy, tmp_path):
    repo = reproduced_copy  # random and herding, reproduced with the serial executor
    first = json.loads((repo / "releases" / "0.1.0" / "ranking.json").read_text())
    assert {r["method"] for t in first["tables"] for r in t["rows"]} == {"random", "herding"}
    # what users run; the executor never moves a number, so changing it reruns nothing by itself
    edit_params(repo, evaluate={"executor": {"kind": "local", "workers": 2, "threads": 1}})
    assert ran(dvc(repo, "repro")) == []

    write_distilled(tmp_path / "dd-format", random_baseline(load_dataset("digits"), 1, 77))
    image_folder(tmp_path / "images", 5)
    for folder, method in (("dd-format", "mine"), ("images", "pixels")):
        code, out, err = submit(repo, str(tmp_path / folder), "--method", method, "--dataset", "digits",
                                "--ipc", "1", "--label", "hard", "--source", f"test {method}", "--licence", "MIT")
        assert code == 0, err
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["release"]["version"] = "0.2.0"
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert ran(dvc(repo, "repro")) == ["evaluate", "rank", "release"]  # no distiller, baseline or teacher reruns
    grid = json.loads((repo / ".ddr" / "grid" / "pipeline" / "grid.json").read_text())
    status = {c["label"].split("/")[0]: c["status"] for c in grid["cells"]}
    assert status == {"random": "cached", "herding": "cached", "mine": "ran", "pixels": "ran"}  # only the new cells

    release = json.loads((repo / "releases" / "0.2.0" / "ranking.json").read_text())
    assert {r["method"] for t in release["tables"] for r in t["rows"]} == {"random", "herding", "mine", "pixels"}
    prov = json.loads((repo / "releases" / "0.2.0" / "provenance.json").read_text())
    cells = {c["method"]: c for c in prov["cells"]}
    for method in ("mine", "pixels"):
        distilled = cells[method]["distilled"]
        assert distilled["md5"] == dvc_md5(repo / "submissions" / f"{method}-digits-ipc1")
        assert distilled["source"] == f"test {method}" and distilled["licence"] == "MIT"
        assert distilled["path"] == f"submissions/{method}-digits-ipc1"
    assert "ddr distill random" in cells["random"]["distilled"]["source"]
    verify = subprocess.run([sys.executable, "-m", "pipelines.cli", "registry", "verify", "--releases", "releases",
                             "--keyring", "keys/keyring.json"], cwd=repo, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    shutil.rmtree(repo / ".ddr" / "cache", ignore_errors=True)


@pytest.mark.slow
def test_every_documented_command_runs_as_written_after_the_pipeline(reproduced_copy, tmp_path):
    """Every command of README.md and docs/*.md (doc_commands.py; `--rounds 1` is their small-size switch), in
    reading order, in a checkout where the (reduced) pipeline ran: the project's files committed, as in a
    clone, and the set the submission example names in its home folder."""
    repo = reproduced_copy
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "registry", "verify"], cwd=repo, text=True,
                          capture_output=True)  # as the main job ends: the verifier's state pins keyring and head
    assert proc.returncode == 0, proc.stdout + proc.stderr
    home = tmp_path / "home"
    write_distilled(home / "sets" / "mtt-ipc1", random_baseline(load_dataset("digits"), 1, 77))
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(repo), "DDR_CACHE_DIR": str(repo / ".ddr" / "cache"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    env.pop("MLFLOW_TRACKING_URI", None)
    failed = []
    for doc, command in documented_commands():
        if skip_reason(command):
            continue
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=repo, env=env, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            failed.append(f"{doc}: {command}\n  exit {proc.returncode}: {(proc.stderr or proc.stdout)[-800:]}")
    assert not failed, "\n".join(failed)
    assert (repo / "runs" / "digits-ipc10" / "lrs-soft" / "dm" / "result.json").is_file()  # beside lrs-hard's
    assert (repo / "runs" / "digits-ipc10" / "lrs-hard" / "dm" / "result.json").is_file()
    assert (repo / "releases" / "1.0.0").is_dir() and (repo / ".ddr" / "grid" / "example" / "grid.json").is_file()
    assert {"v0.1.0", "v0.2.0"} <= set(subprocess.run(["git", "tag"], cwd=repo, capture_output=True,
                                                      text=True).stdout.split())
