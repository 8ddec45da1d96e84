"""Bad input: exit status 2, one line on stderr, no traceback, nothing lost."""
import hashlib
import shutil

import pytest
import torch
from mlflow import MlflowClient

from ddr.data import random_baseline, write_distilled
from tests.pipelines.conftest import FIXTURES
from tests.stores import DB, copy_store, relocate


@pytest.fixture(scope="module")
def finished_once(tmp_path_factory, migrated_store, digits):
    """A project with one finished evaluation (`ddr eval lrs`), made once for the module."""
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("finished")
    for f in FIXTURES.glob("tiny-*.yaml"):
        shutil.copy(f, root / f.name)
    copy_store(migrated_store, root)
    write_distilled(root / "good", random_baseline(digits, 2, 0))
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        mp.setenv("DDR_CACHE_DIR", str(root / "cache"))
        with pytest.raises(SystemExit) as exited:
            main(["eval", "lrs", "--distilled", "good", "--dataset", "digits", "--ipc", "2", "--protocol",
                  "tiny-lrs.yaml", "--out", "res"])
    assert exited.value.code in (0, None)
    return root


@pytest.fixture
def finished(project, finished_once):
    """This test's copy of the finished project, whose store and result must survive every bad command."""
    shutil.copytree(finished_once, project, symlinks=True, dirs_exist_ok=True)
    relocate(project / DB, finished_once, project)
    return project


def _bad_set(project, name, images, labels=None):
    folder = project / name
    folder.mkdir()
    torch.save(images, folder / "images.pt")
    if labels is not None:
        torch.save(labels, folder / "labels.pt")
    return name


def _state(project):
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    return (sorted((r.info.run_id, r.info.status) for r in runs),
            hashlib.sha256((project / "res" / "result.json").read_bytes()).hexdigest())


CASES = {
    "missing path": (lambda p, x, y: "does-not-exist", {}, "no such distilled set"),
    "wrong shape": (lambda p, x, y: _bad_set(p, "s1", x[:, :, :, :6]), {}, "images are 8x6"),
    "channel count": (lambda p, x, y: _bad_set(p, "s2", x.repeat(1, 3, 1, 1)), {}, "3 channels; digits has 1"),
    "class count": (lambda p, x, y: _bad_set(p, "s3", x, torch.randn(20, 12)), {}, "soft labels have 12 classes"),
    "ipc mismatch": (lambda p, x, y: _bad_set(p, "s4", x), {"--ipc": "3"}, "20 images for 10 classes is 2 per class, but ipc is 3"),
    "nan pixels": (lambda p, x, y: _bad_set(p, "s5", x.index_fill(0, torch.tensor([0]), float("nan"))), {}, "NaN or Inf"),
    "labels length": (lambda p, x, y: _bad_set(p, "s6", x, y[:7]), {}, "labels hold 7 entries for 20 images"),
    "unknown dataset": (lambda p, x, y: "good", {"--dataset": "digitss"}, "unknown data set 'digitss'; did you mean 'digits'?"),
    "unknown protocol": (lambda p, x, y: "good", {"--protocol": "digits-lrs-hardd"}, "did you mean 'digits-lrs-hard'?"),
    "unknown model": (lambda p, x, y: "good", {"--protocol": "badmodel.yaml"}, "unknown model 'ConvNet-3-XX'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_line_and_loses_nothing(finished, ddr_cli, digits, case):
    project = finished
    (project / "badmodel.yaml").write_text((project / "tiny-lrs.yaml").read_text().replace("ConvNet-2", "ConvNet-3-XX"))
    make, overrides, message = CASES[case]
    rb = random_baseline(digits, 2, 1)
    target = make(project, rb.images, rb.labels)
    before = _state(project)
    args = {"--distilled": target, "--dataset": "digits", "--ipc": "2", "--protocol": "tiny-lrs.yaml", "--out": "res",
            **overrides}
    # --force: even a command allowed to replace the finished result must refuse bad input before touching it
    code, out, err = ddr_cli("eval", "lrs", *[v for kv in args.items() for v in kv], "--force")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddr: error: ") and message in lines[0], err
    assert "Traceback" not in err
    assert _state(project) == before  # no new run, nothing half-written, the finished result untouched
