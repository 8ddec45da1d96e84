"""Where ddr keeps things by default: one layout that every command's defaults, the pipeline (dvc.yaml,
tools/main.sh) and the docs agree on. A leaf module (no torch): the data layer and the evaluation both use
it, and a stage that only reads data must not depend on the evaluation's code.

    .ddr/cache/                 training and file-digest cache (DDR_CACHE_DIR)
    .ddr/grid/<name>/           a grid's cell store (`ddr eval grid`; the pipeline's is .ddr/grid/pipeline)
    .ddr/keys/pipeline.key      the pipeline's private signing key (never committed)
    keys/keyring.json           the keyring of trusted public keys (DDR_KEYRING; committed with the project)
    runs/<dataset>-ipc<ipc>/<kind>-<label>/<method>/   one `ddr eval` result, in the layout of the
                                pipeline's results/ (which only the pipeline writes)
    releases/                   signed releases (DDR_RELEASES)

Cell stores live outside runs/, so `ddr rank runs/` and `ddr registry publish --results runs/` see each
result once.
"""
from __future__ import annotations

import os
from pathlib import Path

STATE = Path(".ddr")
RUNS = Path("runs")
GRIDS = STATE / "grid"
PIPELINE_KEY = STATE / "keys" / "pipeline.key"
KEYRING = Path("keys") / "keyring.json"
RELEASES = Path("releases")


CACHE_DIR_ENV = "DDR_CACHE_DIR"  # the CLI's --cache-dir binds it too
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"  # MLflow's own variable; the CLI's --tracking-uri binds it too


def default_cache_dir() -> Path:
    """The training (and file-digest) cache: DDR_CACHE_DIR, else .ddr/cache under the working folder."""
    return Path(os.environ.get(CACHE_DIR_ENV) or Path.cwd() / STATE / "cache")


def result_parts(dataset: str, ipc: int, kind: str, label: str, method: str,
                 edition: str = "ddr") -> tuple[str, str, str]:
    """The folder names of one result under runs/ (and the pipeline's results/): <dataset>-ipc<ipc>,
    <kind>-<label>[-<edition>] (the edition unless it is ddr's own), <method>. Outside names: join them only
    through ddr.checks.confined."""
    return f"{dataset}-ipc{ipc}", f"{kind}-{label}" + ("" if edition == "ddr" else f"-{edition}"), method


def check_cache_dir(path: str | Path) -> Path:
    """The training cache folder can be a folder: neither it nor any existing folder above it is a file.
    Checked before anything trains, so a cache pointed at a file is refused at once, not at the first
    finished training. Raises DDRError; returns the path."""
    from ddr.errors import DDRError

    path = Path(path)
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            if not p.is_dir():
                what = "it" if p == path else f"{p} above it"
                raise DDRError(f"the training cache {path} cannot be made a folder: {what} is a file (set "
                               "--cache-dir or DDR_CACHE_DIR to a folder)")
            break
    return path
