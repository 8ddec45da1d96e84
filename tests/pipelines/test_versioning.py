"""`ddr data add|ls` against a real DVC repository (a temporary git repo and a local remote)."""
import json
import shutil
import subprocess

import pytest
import torch

from ddr.data import random_baseline, read_distilled, write_distilled
from ddr.data.digest import dvc_md5


@pytest.fixture
def dvc_repo(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    subprocess.run(["git", "init", "-q"], check=True)
    from dvc.repo import Repo

    Repo.init(str(repo))
    with Repo(str(repo)) as r:
        with r.config.edit() as conf:
            conf["core"]["analytics"] = False
            conf["core"]["check_update"] = False
            conf["core"]["remote"] = "local"
            conf["remote"]["local"] = {"url": str(tmp_path / "remote")}
    return repo


def test_data_add_ls_push_pull_roundtrip(dvc_repo, ddr_cli, digits):
    from dvc.repo import Repo

    ds = random_baseline(digits, 2, 9)
    ds.meta = {}  # a user's set: images and labels only
    write_distilled(dvc_repo / "sets" / "mine", ds)
    code, out, err = ddr_cli("data", "add", "sets/mine", "--method", "mine", "--dataset", "digits", "--ipc", "2",
                             "--source", "test")
    assert code == 0, err
    md5 = dvc_md5(dvc_repo / "sets" / "mine")
    assert md5 in out and (dvc_repo / "sets" / "mine.dvc").is_file()
    meta = read_distilled(dvc_repo / "sets" / "mine").meta
    assert meta["method"] == "mine" and meta["ipc"] == 2 and meta["source"] == "test"
    code, out, _ = ddr_cli("data", "ls")
    assert code == 0 and "sets/mine" in out and md5 in out and "mine" in out
    code, out, err = ddr_cli("data", "ls", "--json")
    assert code == 0 and "sets/mine" in err
    assert [(r["path"], r["method"], r["ipc"], r["md5"]) for r in json.loads(out)] == [("sets/mine", "mine", 2, md5)]

    with Repo(str(dvc_repo)) as repo:
        repo.push()
    original = (dvc_repo / "sets" / "mine" / "images.pt").read_bytes()
    shutil.rmtree(dvc_repo / "sets" / "mine")
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    with Repo(str(dvc_repo)) as repo:
        repo.pull()
    assert (dvc_repo / "sets" / "mine" / "images.pt").read_bytes() == original
    assert dvc_md5(dvc_repo / "sets" / "mine") == md5


def test_data_add_refuses_an_invalid_set_and_writes_nothing(dvc_repo, ddr_cli, digits):
    folder = dvc_repo / "bad"
    folder.mkdir()
    torch.save(torch.randn(30, 1, 8, 8), folder / "images.pt")
    code, _, err = ddr_cli("data", "add", "bad", "--method", "x", "--dataset", "digits", "--ipc", "2")
    assert code == 2 and "30 images for 10 classes is 3 per class, but ipc is 2" in err
    assert not (dvc_repo / "bad.dvc").exists() and not (folder / "meta.json").exists()


def test_data_ls_lists_added_sets_then_pipeline_outputs_with_the_md5_dvc_records(dvc_repo, ddr_cli, digits):
    """`dvc add`-ed sets (from their .dvc files) and a stage's output (its md5 from dvc.lock), as DVC's index
    reads them; a folder DVC does not track, or one its .dvcignore hides, is not listed."""
    import yaml
    from dvc.repo import Repo

    write_distilled(dvc_repo / "made" / "src", random_baseline(digits, 1, 3))  # meta: random, seed 3
    write_distilled(dvc_repo / "sets" / "mine", random_baseline(digits, 2, 9))
    write_distilled(dvc_repo / "untracked", random_baseline(digits, 1, 4))
    (dvc_repo / ".dvcignore").write_text("hidden/\n")
    write_distilled(dvc_repo / "hidden" / "set", random_baseline(digits, 1, 5))
    (dvc_repo / "hidden" / "set.dvc").write_text("outs:\n- path: set\n  md5: 0123.dir\n")  # ignored by DVC
    code, _, err = ddr_cli("data", "add", "sets/mine", "--method", "mine", "--dataset", "digits", "--ipc", "2")
    assert code == 0, err
    with Repo(str(dvc_repo)) as repo:
        repo.stage.add(name="copy", cmd="mkdir -p data && cp -r made/src data/copied", deps=["made/src"], outs=["data/copied"])
        repo.reproduce("copy")
    lock = yaml.safe_load((dvc_repo / "dvc.lock").read_text())
    code, out, err = ddr_cli("data", "ls", "--json")
    assert code == 0, err
    assert [(r["path"], r["how"], r["method"], r["ipc"], r["seed"], r["md5"]) for r in json.loads(out)] == [
        ("sets/mine", "dvc add", "mine", 2, 9, dvc_md5(dvc_repo / "sets" / "mine")),
        ("data/copied", "pipeline", "random", 1, 3, lock["stages"]["copy"]["outs"][0]["md5"])]
    assert lock["stages"]["copy"]["outs"][0]["md5"] == dvc_md5(dvc_repo / "data" / "copied")
    code, out, _ = ddr_cli("data", "ls", "--repo", str(dvc_repo / "sets"), "--json")  # a folder inside the repo
    assert code == 0 and [r["path"] for r in json.loads(out)] == ["mine"]


def test_data_ls_outside_a_dvc_repository_lists_nothing(tmp_path, ddr_cli):
    code, out, err = ddr_cli("data", "ls", "--repo", str(tmp_path), "--json")
    assert code == 0 and json.loads(out) == []
