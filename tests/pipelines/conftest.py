import shutil
from pathlib import Path

import pytest

from tests.pipelines.dvc_project import copy_repo, dvc, make_pipeline_repo

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


@pytest.fixture
def pipeline_repo(tmp_path):
    """The reduced pipeline in a new git + DVC repository, not yet reproduced."""
    return make_pipeline_repo(tmp_path / "project")


@pytest.fixture(scope="session")
def reproduced_repo(tmp_path_factory):
    """(repository, output of its first `dvc repro`): the reduced pipeline reproduced once per session.
    Tests only read it; they change a copy (reproduced_copy)."""
    repo = make_pipeline_repo(tmp_path_factory.mktemp("reproduced") / "project")
    return repo, dvc(repo, "repro")


@pytest.fixture
def reproduced_copy(reproduced_repo, tmp_path):
    """This test's own copy of the reproduced repository."""
    return copy_repo(reproduced_repo[0], tmp_path / "project")
