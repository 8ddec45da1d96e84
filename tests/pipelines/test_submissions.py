"""Submissions: `ddr submit` puts an outside distilled set into the pipeline; `dvc repro` evaluates only its
cells and the new release ranks it, with its DVC md5, source and licence in the provenance."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import yaml
from PIL import Image

from ddr.data import load_dataset, random_baseline, write_distilled
from ddr.data.digest import dvc_md5
from ddr.grid.spec import load_grid
from tests.pipelines.dvc_project import dvc, edit_params, ran


def _image_folder(folder, seed: int) -> None:
    """A 10-class digits image folder (8x8 greyscale PNGs, one per class), as a user would upload."""
    rng = np.random.default_rng(seed)
    for c in range(10):
        (folder / str(c)).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8), mode="L").save(folder / str(c) / "0.png")


def _submit(repo, *argv):
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "submit", *argv], cwd=repo, capture_output=True,
                          text=True)
    return proc.returncode, proc.stdout, proc.stderr


def test_submit_declares_versions_and_keeps_params_comments(pipeline_repo, tmp_path):
    repo = pipeline_repo
    write_distilled(tmp_path / "outside", random_baseline(load_dataset("digits"), 1, 77))
    code, out, err = _submit(repo, str(tmp_path / "outside"), "--method", "mine", "--dataset", "digits", "--ipc", "1",
                             "--source", "a test", "--licence", "CC0-1.0")
    assert code == 0, err
    text = (repo / "params.yaml").read_text()
    params = yaml.safe_load(text)
    assert params["submissions"] == [{"method": "mine", "dataset": "digits", "ipc": 1, "path": "submissions/mine-digits-ipc1",
                                      "labels": ["hard", "soft"], "source": "a test", "licence": "CC0-1.0"}]
    assert dvc_md5(repo / "submissions" / "mine-digits-ipc1") in out
    assert (repo / "submissions" / "mine-digits-ipc1.dvc").is_file()
    spec = load_grid(repo / "params.yaml")
    assert spec.methods["mine@ipc1"] == {"path": "submissions/mine-digits-ipc1", "ipc": 1, "labels": ["hard", "soft"],
                                         "method": "mine"}
    # bad input: one line, exit 2, params.yaml untouched
    for argv, message in ((["--ipc", "3"], "not one of the pipeline's data.ipcs"),
                          (["--ipc", "1", "--dataset", "cifar10"], "the pipeline evaluates digits"),
                          (["--ipc", "1", "--method", "herding"], "reference distiller")):
        base = {"--method": "other", "--dataset": "digits"}
        args = [str(tmp_path / "outside")]
        for k, v in base.items():
            if k not in argv:
                args += [k, v]
        code, out, err = _submit(repo, *args, *argv)
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert (repo / "params.yaml").read_text() == text


@pytest.mark.slow
def test_repro_evaluates_only_the_new_cells_and_the_release_ranks_them(reproduced_copy, tmp_path):
    repo = reproduced_copy  # random and herding, reproduced with the serial executor
    first = json.loads((repo / "releases" / "0.1.0" / "ranking.json").read_text())
    assert {r["method"] for t in first["tables"] for r in t["rows"]} == {"random", "herding"}
    # what users run; the executor never moves a number, so changing it reruns nothing by itself
    edit_params(repo, evaluate={"executor": {"kind": "local", "workers": 2, "threads": 1}})
    assert ran(dvc(repo, "repro")) == []

    write_distilled(tmp_path / "dd-format", random_baseline(load_dataset("digits"), 1, 77))
    _image_folder(tmp_path / "images", 5)
    for folder, method in (("dd-format", "mine"), ("images", "pixels")):
        code, out, err = _submit(repo, str(tmp_path / folder), "--method", method, "--dataset", "digits",
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
                             "--keyring", ".ddr/keys/keyring.json"], cwd=repo, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    shutil.rmtree(repo / ".ddr" / "cache", ignore_errors=True)
