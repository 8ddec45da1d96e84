"""Submissions: `ddr submit` declares an outside distilled set in the pipeline's params (its repro on the
reduced pipeline is in test_dvc_pipeline.py, beside the other tests of the reproduced repository)."""
import json

import yaml

from ddr.data import load_dataset, random_baseline, write_distilled
from ddr.data.digest import dvc_md5
from ddr.grid.spec import load_grid
from tests.pipelines.dvc_project import submit


def test_submit_declares_versions_and_keeps_params_comments(pipeline_repo, tmp_path):
    repo = pipeline_repo
    write_distilled(tmp_path / "outside", random_baseline(load_dataset("digits"), 1, 77))
    code, out, err = submit(repo, str(tmp_path / "outside"), "--method", "mine", "--dataset", "digits", "--ipc", "1",
                            "--source", "a test", "--licence", "CC0-1.0", "--json")
    assert code == 0, err
    text = (repo / "params.yaml").read_text()
    params = yaml.safe_load(text)
    assert params["submissions"] == [{"method": "mine", "dataset": "digits", "ipc": 1, "path": "submissions/mine-digits-ipc1",
                                      "labels": ["hard", "soft"], "source": "a test", "licence": "CC0-1.0"}]
    # --json: the entry and the set's DVC md5 as one document on stdout (DVC's own output stays off it)
    assert json.loads(out) == {**params["submissions"][0], "md5": dvc_md5(repo / "submissions" / "mine-digits-ipc1")}
    assert "submitted submissions/mine-digits-ipc1" in err
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
        code, out, err = submit(repo, *args, *argv, "--json")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and out == "", err
    assert (repo / "params.yaml").read_text() == text
