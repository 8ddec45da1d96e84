"""The grid takes every evaluation option (label, teacher, versioned random baselines, engine) and a cell
computes exactly what the per-cell `ddr eval` command computes with the same options."""
import json
import shutil

import pytest
import yaml

from ddr.data import load_dataset, random_baseline, write_distilled
from ddr.errors import DDRError
from ddr.grid.runner import run_grid
from ddr.grid.spec import load_grid
from tests.grid.conftest import FIXTURES, numbers


@pytest.fixture
def optproj(tmp_path, monkeypatch):
    """tiny protocols, a distilled set, two versioned random baselines."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    for name in ("tiny-lrs.yaml", "tiny-soft.yaml"):
        shutil.copy(FIXTURES / name, tmp_path / name)
    real = load_dataset("digits")
    write_distilled(tmp_path / "sets" / "mine", random_baseline(real, 1, 100))
    for seed in (0, 1):
        write_distilled(tmp_path / "baselines" / f"seed{seed}", random_baseline(real, 1, seed))
    return tmp_path


@pytest.mark.slow
def test_soft_label_cell_with_teacher_and_random_equals_ddr_eval(optproj, ddr_cli):
    code, out, err = ddr_cli("teacher", "train", "--dataset", "digits", "--protocol", "tiny-soft.yaml",
                             "--out", "teacher", "--device", "cpu")
    assert code == 0, err
    (optproj / "grid.yaml").write_text(yaml.safe_dump({
        "name": "opts", "datasets": ["digits"], "ipc": [1], "metrics": ["lrs-soft"], "protocol": "tiny-soft.yaml",
        "teacher": "teacher", "random": "baselines", "methods": {"mine": {"path": "sets/mine"}}}))
    report = run_grid(load_grid(optproj / "grid.yaml"), out=optproj / "out", track=False,
                      cache_dir=optproj / "cache-grid", threads=1)
    (cell,) = report.cells
    assert cell.cell.label_kind == "soft" and cell.result.label == "soft"
    ident = cell.cell.identity()
    assert ident["teachers"] and ident["random"] and ident["teachers"][0].endswith(".dir")
    assert cell.result.inputs["teachers"], "the given teacher was used"
    assert [(r["seed"], "md5" in r) for r in cell.result.inputs["random"]] == [(0, True), (1, True)]
    code, out, err = ddr_cli("eval", "lrs", "--distilled", "sets/mine", "--dataset", "digits", "--ipc", "1",
                             "--label", "soft", "--protocol", "tiny-soft.yaml", "--teacher", "teacher",
                             "--random", "baselines", "--no-mlflow", "--no-cache", "--out", "direct")
    assert code == 0, err
    direct = json.loads((optproj / "direct" / "result.json").read_text())
    assert cell.result.metrics["lrs"]["per_round"] == direct["metrics"]["lrs"]["per_round"]
    assert numbers(cell.result) == numbers(type(cell.result)(**direct))  # every accuracy, bit for bit

    # a different teacher is a different cell; the hard-label cell does not depend on the teacher at all
    spec = load_grid(optproj / "grid.yaml")
    spec.metrics = ["lrs-soft", "lrs"]
    spec.protocol = None
    before = {c.metric + c.label_kind: c for c in spec.cells()}
    assert before["lrshard"].teachers == [] and before["lrssoft"].teachers
    (optproj / "teacher" / "meta.json").write_text("{}\n")
    after = {c.metric + c.label_kind: c for c in spec.cells()}
    assert after["lrssoft"].id != before["lrssoft"].id and after["lrshard"].id == before["lrshard"].id


def test_bad_options_are_refused_before_anything_runs(optproj):
    base = {"name": "bad", "datasets": ["digits"], "ipc": [1], "protocol": "tiny-lrs.yaml",
            "methods": {"mine": {"path": "sets/mine"}}}
    for change, message in (({"metrics": ["lrs-warm"]}, "must be hard or soft"),
                            ({"engine": "turbo"}, "unknown engine"),
                            ({"random": "nowhere"}, "no such folder"),
                            ({"methods": {"mine": {"path": "sets/mine", "labels": ["tepid"]}}}, "labels must list")):
        (optproj / "bad.yaml").write_text(yaml.safe_dump({**base, **change}))
        with pytest.raises(DDRError, match=message):
            load_grid(optproj / "bad.yaml").cells()
    assert not (optproj / "runs").exists()
