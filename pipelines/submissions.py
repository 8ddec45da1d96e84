"""Submissions: a distilled set entering the pipeline (and so the next signed release).

`submit` validates the set, copies it to submissions/<method>-<dataset>-ipc<ipc>/ (the evaluate stage depends
on submissions/), versions it with DVC (`dvc add`, through pipelines.versioning) and declares it in
params.yaml's `submissions:` list, whose entries the evaluate stage reads. params.yaml is edited with
ruamel.yaml (DVC's own YAML library) so its comments and layout survive.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ddr.errors import DDRError

FOLDER = "submissions"


def _load_params(path: Path):
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    if not path.is_file():
        raise DDRError(f"no {path.name} in {path.parent} (run ddr submit at the pipeline's root)")
    return yaml, yaml.load(path.read_text())


def submit(path: str | Path, *, method: str, dataset: str, ipc: int, labels: list[str] | None = None,
           source: str | None = None, licence: str | None = None, project: str | Path = ".",
           root: str | None = None) -> dict[str, Any]:
    """Validate, copy, `dvc add` and declare a distilled set (DD-Ranking format: images.pt, labels.pt,
    optional lr.pt; or an image folder with one folder per class). Returns the params.yaml entry with the
    set's DVC md5. Replaces an earlier submission of the same (method, dataset, ipc)."""
    from pipelines.versioning import add_distilled

    project = Path(project).resolve()
    params_file = project / "params.yaml"
    ruamel, params = _load_params(params_file)
    if not isinstance(params, dict) or "evaluate" not in params or "data" not in params:
        raise DDRError(f"{params_file} is not the pipeline's params.yaml (no data/evaluate sections)")
    if dataset != params["data"].get("dataset"):
        raise DDRError(f"the pipeline evaluates {params['data'].get('dataset')}, not {dataset}")
    if ipc not in list(params["data"].get("ipcs") or []):
        raise DDRError(f"ipc {ipc} is not one of the pipeline's data.ipcs {list(params['data']['ipcs'])}")
    if method in list((params.get("distill") or {}).get("methods") or []):
        raise DDRError(f"'{method}' is a reference distiller of this pipeline; submit under another name")
    for label in labels or []:
        if label not in ("hard", "soft"):
            raise DDRError(f"labels must be hard and/or soft, got '{label}'")
    src = Path(path).resolve()
    if not src.is_dir():
        raise DDRError(f"no such distilled-set folder: {path}")
    dest = project / FOLDER / f"{method}-{dataset}-ipc{ipc}"
    if src != dest:
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".*"))
    try:
        meta = add_distilled(dest, method=method, dataset=dataset, ipc=ipc, root=root, source=source,
                             licence=licence)
    except DDRError:
        if src != dest:
            shutil.rmtree(dest, ignore_errors=True)  # a refused set leaves nothing behind
        raise
    if labels is None:  # a soft-label set under soft protocols; a hard-label one under both, as the references
        labels = ["soft"] if meta.get("label_kind") == "soft" else ["hard", "soft"]
    entry = {"method": method, "dataset": dataset, "ipc": ipc, "path": f"{FOLDER}/{dest.name}",
             "labels": list(labels)}
    if source:
        entry["source"] = source
    if licence:
        entry["licence"] = licence
    from ruamel.yaml.comments import CommentedSeq

    subs = params.get("submissions")
    if not isinstance(subs, CommentedSeq):
        params["submissions"] = subs = CommentedSeq(subs or [])
    subs.fa.set_block_style()  # `submissions: []` was flow style; entries read better as blocks
    keep = [s for s in subs if (s.get("method"), s.get("dataset"), s.get("ipc")) != (method, dataset, ipc)]
    subs.clear()
    subs.extend(keep + [entry])
    with open(params_file, "w") as f:
        ruamel.dump(params, f)
    return {**entry, "md5": meta["md5"]}
