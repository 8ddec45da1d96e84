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
