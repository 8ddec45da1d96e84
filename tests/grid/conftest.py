import shutil
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

GRID = """\
name: tiny-grid
datasets: [digits]
ipc: [1, 2]
protocol: tiny-lrs.yaml
methods:
  rand-a: {{random_seed: {seed}}}
"""


def write_grid(folder: Path, seed: int = 100) -> Path:
    """Two cells (ipc 1 and 2) of tiny-lrs on digits. Tests sharing one MLflow server use different seeds,
    so their cells (named by content) differ."""
    shutil.copy(FIXTURES / "tiny-lrs.yaml", folder / "tiny-lrs.yaml")
    (folder / "grid.yaml").write_text(GRID.format(seed=seed))
    return folder / "grid.yaml"


@pytest.fixture
def gridproj(tmp_path, monkeypatch):
    """A scratch project: tiny-lrs.yaml, a two-cell grid, its own cache; no MLflow store unless asked."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DDR_CACHE_DIR", str(tmp_path / "cache"))
    write_grid(tmp_path)
    return tmp_path


@pytest.fixture(scope="session")
def serial_reference(tmp_path_factory):
    """serial_reference(seed): the grid on the serial executor, no MLflow, its own cache, as
    {cell id: EvalResult}: what every executor must equal."""
    from ddr.grid.runner import run_grid
    from ddr.grid.spec import load_grid

    memo = {}

    def get(seed: int = 100):
        if seed not in memo:
            root = tmp_path_factory.mktemp(f"serial-ref-{seed}")
            report = run_grid(load_grid(write_grid(root, seed)), out=root / "out", track=False,
                              cache_dir=root / "cache")
            memo[seed] = {c.cell.id: c.result for c in report.cells}
        return memo[seed]
    return get


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory, migrated_store):
    """One real `mlflow server` on 127.0.0.1 for the session (stopped by pid at the end)."""
    from ddr.grid.server import MlflowServer
    from tests.stores import copy_store

    root = tmp_path_factory.mktemp("mlflow-server")
    server = MlflowServer(copy_store(migrated_store, root), log=root / "server.log").start()
    yield server
    server.stop()


def numbers(result):
    """What the numbers contract covers: every score and every accuracy, bit for bit."""
    return result.metrics, result.accuracies, [(t["role"], t["round"], t["lr"], t["seed"], t["best_acc"])
                                               for t in result.trainings]


def parent_runs(uri, cell_id, status=None):
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exps = [e.experiment_id for e in client.search_experiments()]
    filt = f"tags.`ddr.cell` = '{cell_id}'" + (f" and attributes.status = '{status}'" if status else "")
    return client.search_runs(exps, filter_string=filt) if exps else []


def wait_for_running_parent(uri, cell_ids, timeout=120.0):
    """The first parent run RUNNING for one of `cell_ids`, once its worker has logged a child (mid-cell)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for cid in cell_ids:
            for run in parent_runs(uri, cid, "RUNNING"):
                kids = client.search_runs([run.info.experiment_id],
                                          filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'")
                if kids:
                    return run
        time.sleep(0.1)
    raise AssertionError("no cell started within the timeout")
