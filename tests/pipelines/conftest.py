import shutil
from pathlib import Path

import pytest


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A scratch project folder as the working directory, with its own MLflow store and cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DDR_CACHE_DIR", str(tmp_path / "cache"))
    for f in FIXTURES.glob("tiny-*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


@pytest.fixture
def store(project, new_store):
    """The project's own MLflow store (project/mlflow.db, where `ddr` logs by default), brand new."""
    return new_store(project)
