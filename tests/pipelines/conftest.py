import shutil
from pathlib import Path

import pytest

from pipelines.cli import main

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
def ddr_cli(capsys):
    """Run the real `ddr` entry point in-process: returns (exit status, stdout, stderr)."""
    def run(*argv: str):
        capsys.readouterr()
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err
    return run
