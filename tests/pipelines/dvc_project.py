"""The reduced DVC pipeline in a temporary git + DVC repository: made, run with `dvc`, and copied.

Reproducing it costs minutes on two cores, so tests share one reproduced repository (a session fixture in
conftest.py; its tests live in one module, test_dvc_pipeline.py, which pytest-xdist's --dist loadfile keeps
in one worker) and each works on its own copy: the copy is the same repository, with the same DVC cache,
lock and outputs, and an MLflow store re-pointed at the copy's own folder.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def dvc(repo: Path, *args: str) -> str:
    """`dvc ARGS` in `repo` (its own ddr cache, the project's store); asserts it succeeds, returns its output."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "MLFLOW_DISABLE_TELEMETRY": "true", "OMP_NUM_THREADS": "1"}
    env.pop("MLFLOW_TRACKING_URI", None)
    env["DDR_CACHE_DIR"] = str(repo / ".ddr" / "cache")
    proc = subprocess.run([sys.executable, "-m", "dvc", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def ran(out: str) -> list[str]:
    """The stages a `dvc repro` output says it ran."""
    return sorted(line.split("'")[1] for line in out.splitlines() if line.startswith("Running stage"))


def submit(repo: Path, *argv: str) -> tuple[int, str, str]:
    """`ddr submit ARGS` in `repo`, in its own process (DVC's logging binds the stream it first sees)."""
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "submit", *argv], cwd=repo, capture_output=True,
                          text=True)
    return proc.returncode, proc.stdout, proc.stderr


def image_folder(folder: Path, seed: int) -> None:
    """A 10-class digits image folder (8x8 greyscale PNGs, one per class), as a user would upload."""
    rng = np.random.default_rng(seed)
    for c in range(10):
        (folder / str(c)).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (8, 8), dtype=np.uint8), mode="L").save(folder / str(c) / "0.png")


def make_pipeline_repo(repo: Path) -> Path:
    """The project's code, dvc.yaml, ignore files, DVC config and params (reduced: digits ipc 1, one
    baseline, random and herding, hard-label LRS, one round, the serial executor) in a new git + DVC
    repository at `repo`, committed: a checkout of the project as its users have one."""
    repo.mkdir(parents=True)
    for name in ("ddr", "pipelines", "registry", "tools", "submissions", "verifier", "examples"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", ".dvcignore", ".gitignore"):
        shutil.copy(ROOT / name, repo / name)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"]["ipcs"] = [1]
    params["baselines"]["count"] = 1
    params["distill"]["methods"] = ["random", "herding"]
    params["evaluate"]["metrics"] = [["lrs", "hard"]]
    params["evaluate"]["rounds"] = 1
    params["evaluate"]["executor"] = {"kind": "serial"}  # no MLflow server start-up in a small test
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    dvc(repo, "init", "-q")
    shutil.copy(ROOT / ".dvc" / "config", repo / ".dvc" / "config")
    shutil.copytree(ROOT / ".dvc" / "plots", repo / ".dvc" / "plots")  # the ranking's plot templates
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the project")
    return repo


def git(repo: Path, *args: str) -> str:
    """`git ARGS` in `repo` (a fixed author); asserts it succeeds, returns its output."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def copy_repo(src: Path, dst: Path) -> Path:
    """An independent copy of the repository `src` at `dst`, its MLflow store re-pointed at `dst`."""
    from tests.stores import DB, relocate

    shutil.copytree(src, dst, symlinks=True)
    if (dst / DB).is_file():
        relocate(dst / DB, src, dst)
    return dst


def edit_params(repo: Path, **changes: dict) -> None:
    """Update sections of the repository's params.yaml, e.g. edit_params(repo, rank={"seed": 1})."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for section, values in changes.items():
        params[section].update(values)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def params_version(repo: Path) -> str:
    return str(yaml.safe_load((repo / "params.yaml").read_text())["release"]["version"])
