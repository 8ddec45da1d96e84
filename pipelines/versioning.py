"""DVC versioning of distilled sets, in-process through dvc's Python API (each dvc CLI call costs 1-2 s)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import yaml

from ddr.errors import DDRError

META_KEYS = ("method", "dataset", "ipc", "pixel_space", "label_kind", "source", "licence")


def repo_root(start: Path) -> Path:
    """The DVC repository `start` is in (the nearest folder upward holding .dvc/)."""
    for p in [start, *start.parents]:
        if (p / ".dvc").is_dir():
            return p
    raise DDRError(f"{start} is not inside a DVC repository (run `dvc init` at the project root first)")


def add_distilled(path: str | Path, *, method: str, dataset: str, ipc: int, root: str | None = None,
                  source: str | None = None, licence: str | None = None) -> dict[str, Any]:
    """Validate a distilled set, write its meta.json, and `dvc add` it. Returns the meta with its DVC md5."""
    from ddr.data.distilled import read_distilled, validate
    from ddr.data.real import load_dataset

    from ddr.checks import check_name

    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    check_name(method, "method")  # the name the ranking shows
    path = Path(path).resolve()
    data = load_dataset(dataset, root)
    ds = read_distilled(path, data)
    validate(ds, data, ipc)  # refuse before anything is written
    top = repo_root(path.parent)
    tensor_format = (path / "images.pt").is_file()
    meta = {**ds.meta, "method": method, "dataset": dataset, "ipc": ipc, "pixel_space": "normalised",
            "label_kind": ds.label_kind if tensor_format else "hard",
            "format": "images.pt" if tensor_format else "image-folder"}
    if source:
        meta["source"] = source
    if licence:
        meta["licence"] = licence
    (path / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    from dvc.repo import Repo

    with Repo(str(top)) as repo:
        repo.add(str(path.relative_to(top)))
    dvc_file = path.with_name(path.name + ".dvc")
    md5 = yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"]
    return {**meta, "path": str(path.relative_to(top)), "md5": md5}


def list_versioned(repo_root: str | Path = ".") -> list[dict[str, Any]]:
    """Distilled sets tracked by DVC: `dvc add`-ed folders (*.dvc files) and pipeline outputs (dvc.lock)."""
    root = Path(repo_root).resolve()
    rows: list[dict[str, Any]] = []

    def row(rel: str, md5: str, how: str) -> None:
        meta_file = root / rel / "meta.json"
        meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
        if not meta and not (root / rel / "images.pt").exists():
            return  # not a distilled set (e.g. a result folder)
        rows.append({"path": rel, "md5": md5, "how": how, **{k: meta.get(k) for k in ("method", "dataset", "ipc", "seed")}})

    for dvc_file in sorted(root.rglob("*.dvc")):
        rel_parts = dvc_file.relative_to(root).parts
        if not dvc_file.is_file() or ".dvc" in rel_parts[:-1] or ".venv" in rel_parts:
            continue
        for out in (yaml.safe_load(dvc_file.read_text()) or {}).get("outs", []):
            rel = (dvc_file.parent / out["path"]).relative_to(root).as_posix()
            row(rel, out.get("md5", ""), "dvc add")
    lock = root / "dvc.lock"
    if lock.is_file():
        for stage in (yaml.safe_load(lock.read_text()) or {}).get("stages", {}).values():
            for out in stage.get("outs", []):
                row(out["path"], out.get("md5", ""), "pipeline")
    return rows
