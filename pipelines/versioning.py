"""DVC versioning of distilled sets, in-process through dvc's Python API (each dvc CLI call costs 1-2 s)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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
        [stage] = repo.add(str(path.relative_to(top)))
    md5 = stage.outs[0].hash_info.value  # as the .dvc file DVC just wrote records it
    return {**meta, "path": str(path.relative_to(top)), "md5": md5}


def list_versioned(repo_root: str | Path = ".") -> list[dict[str, Any]]:
    """Distilled sets tracked by DVC under `repo_root`: `dvc add`-ed folders (*.dvc files), sorted by path, then
    pipeline outputs (dvc.yaml stages, their md5 from dvc.lock), as DVC's own index of the repository reads
    them (its .dvcignore honoured). Paths relative to `repo_root`; [] outside a DVC repository."""
    from dvc.exceptions import DvcException, NotDvcRepoError
    from dvc.repo import Repo

    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    root = Path(repo_root).resolve()
    try:
        repo = Repo(str(root))
    except NotDvcRepoError:
        return []
    added: list[dict[str, Any]] = []
    produced: list[dict[str, Any]] = []
    with repo:
        try:
            stages = repo.index.stages
        except DvcException as exc:  # a dvc.yaml, dvc.lock or .dvc file DVC cannot read
            raise DDRError(f"DVC cannot read the repository at {repo.root_dir}: {exc}") from None
        for stage in stages:
            for out in stage.outs:
                path = Path(out.fs_path)
                if not path.is_relative_to(root):
                    continue  # tracked elsewhere in the repository, outside the folder asked about
                meta_file = path / "meta.json"
                meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
                if not meta and not (path / "images.pt").exists():
                    continue  # not a distilled set (e.g. a result folder)
                row = {"path": path.relative_to(root).as_posix(), "md5": out.hash_info.value or "",
                       "how": "dvc add" if stage.is_data_source else "pipeline",
                       **{k: meta.get(k) for k in ("method", "dataset", "ipc", "seed")}}
                (added if stage.is_data_source else produced).append(row)
    return sorted(added, key=lambda r: r["path"]) + produced
