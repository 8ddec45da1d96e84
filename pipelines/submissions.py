"""Submissions: a distilled set entering the pipeline (and so the next signed release).

`submit` checks everything first: the method name (a plain name, not a reference distiller's or another
submission's up to case and spaces), the data set and ipc, the source folder's whole tree (pipelines.
submission_files: no links, no special files, size limits), the set itself (read and validated), its content
(the same images and labels as another submission or a reference distiller's output are refused, whatever
the name), and the room on disk. Only then does it act: it copies the set into a temporary folder beside
submissions/<method>-<dataset>-ipc<ipc>/ that replaces it by rename (the evaluate stage depends on
submissions/), versions it with DVC (`dvc add`, through pipelines.versioning) and declares it in params.yaml's
`submissions:` list, whose entries the evaluate stage reads. A refused submission changes nothing. params.yaml
is edited with ruamel.yaml (DVC's own YAML library) so its comments and layout survive.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from ddr.checks import check_name, confined
from ddr.errors import DDRError
from pipelines.submission_files import MAX_FILE_BYTES, MAX_TOTAL_BYTES, check_room, copy_tree, scan

FOLDER = "submissions"


def _load_params(path: Path):
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML()  # round-trip: refuses a key given twice
    yaml.preserve_quotes = True
    yaml.width = 120
    if not path.is_file():
        raise DDRError(f"no {path.name} in {path.parent} (run ddr submit at the pipeline's root)")
    try:
        return yaml, yaml.load(path.read_text())
    except YAMLError as exc:
        raise DDRError(f"{path}: invalid YAML ({(getattr(exc, 'problem', None) or str(exc)).splitlines()[0]})") from None


def _same_content(project: Path, params: dict, subs: list, ds_content: str, *, method: str, dataset: str,
                  ipc: int, data: Any) -> str | None:
    """The first other set of this (data set, ipc) already in the pipeline that holds the same images and
    labels: a submission, or a reference distiller's output if it has been made. Unreadable ones are skipped."""
    from ddr.data.distilled import read_distilled
    from ddr.grid.pipeline import DISTILLED

    candidates = [(f"submission {s.get('method')}", s.get("path")) for s in subs
                  if s.get("dataset") == dataset and s.get("ipc") == ipc and s.get("method") != method]
    candidates += [(f"reference distiller {m}", DISTILLED.format(dataset=dataset, method=m, ipc=ipc))
                   for m in (params.get("distill") or {}).get("methods") or []]
    for who, rel in candidates:
        try:
            folder = confined(project, *Path(str(rel)).parts, what="path")
            if folder.is_dir() and read_distilled(folder, data).content_digest() == ds_content:
                return who
        except DDRError:
            continue
    return None


def submit(path: str | Path, *, method: str, dataset: str, ipc: int, labels: list[str] | None = None,
           source: str | None = None, licence: str | None = None, project: str | Path = ".",
           root: str | None = None, max_file: int = MAX_FILE_BYTES, max_total: int = MAX_TOTAL_BYTES) -> dict[str, Any]:
    """Check, copy, `dvc add` and declare a distilled set (DD-Ranking format: images.pt, labels.pt, optional
    lr.pt; or an image folder with one folder per class). Returns the params.yaml entry with the set's DVC md5.
    Replaces an earlier submission of the same (method, dataset, ipc). Every check comes before any change."""
    from ddr.data.distilled import read_distilled, validate
    from ddr.data.real import load_dataset
    from ddr.kernel.atomic import atomic_folder, write_text_atomic
    from pipelines.versioning import add_distilled, repo_root

    project = Path(project).resolve()
    params_file = project / "params.yaml"
    ruamel, params = _load_params(params_file)
    if not isinstance(params, dict) or not isinstance(params.get("evaluate"), dict) \
            or not isinstance(params.get("data"), dict):
        raise DDRError(f"{params_file} is not the pipeline's params.yaml (no data/evaluate sections)")
    if dataset != params["data"].get("dataset"):
        raise DDRError(f"the pipeline evaluates {params['data'].get('dataset')}, not {dataset}")
    if ipc not in list(params["data"].get("ipcs") or []):
        raise DDRError(f"ipc {ipc} is not one of the pipeline's data.ipcs {list(params['data']['ipcs'])}")
    subs = params.get("submissions") or []
    if not isinstance(subs, list) or not all(isinstance(s, dict) for s in subs):
        raise DDRError(f"{params_file}: 'submissions' must be a list of mappings")
    from ddr.distill import DISTILLERS

    distillers = [str(m) for m in (params.get("distill") or {}).get("methods") or []]
    if method in distillers:
        raise DDRError(f"'{method}' is a reference distiller of this pipeline; submit under another name")
    # the same name at another ipc is the same method; a name equal to another, or to a distiller ddr ships, up to
    # case or spaces, is refused
    others = [str(s.get("method")) for s in subs if s.get("method") != method]
    check_name(method, "method", taken=[*distillers, *DISTILLERS.names(), *others])
    for label in labels or []:
        if label not in ("hard", "soft"):
            raise DDRError(f"labels must be hard and/or soft, got '{label}'")
    src = Path(path).resolve()
    if not src.is_dir():
        raise DDRError(f"no such distilled-set folder: {path}")
    base = project / FOLDER
    folder = f"{method}-{dataset}-ipc{ipc}"
    dest = confined(base, folder, what="method", taken=[e for e in os.listdir(base) if e != folder]
                    if base.is_dir() else ())
    in_place = src == dest.resolve()
    if not in_place and (src in dest.resolve().parents or dest.resolve() in src.parents):
        raise DDRError(f"{path} holds or lies inside {dest}; submit the distilled-set folder itself")
    repo_root(project)
    tree = scan(src, max_file=max_file, max_total=max_total)
    data = load_dataset(dataset, root)
    ds = read_distilled(src, data)
    validate(ds, data, ipc)
    content = ds.content_digest()
    same = _same_content(project, params, subs, content, method=method, dataset=dataset, ipc=ipc, data=data)
    if same:
        raise DDRError(f"{path} holds the same images and labels as {same}; a set is ranked once, under one name")
    if not in_place:
        check_room(tree, base if base.is_dir() else project)

    # checked: now act
    if not in_place:
        with atomic_folder(dest) as tmp:
            copy_tree(tree, tmp)
            copied = read_distilled(tmp, data)
            if copied.content_digest() != content:
                raise DDRError(f"{path} changed while it was being submitted; submit again")
    meta = add_distilled(dest, method=method, dataset=dataset, ipc=ipc, root=root, source=source, licence=licence)
    if labels is None:  # a soft-label set under soft protocols; a hard-label one under both, as the references
        labels = ["soft"] if meta.get("label_kind") == "soft" else ["hard", "soft"]
    entry = {"method": method, "dataset": dataset, "ipc": ipc, "path": f"{FOLDER}/{dest.name}",
             "labels": list(labels)}
    if source:
        entry["source"] = source
    if licence:
        entry["licence"] = licence
    from ruamel.yaml.comments import CommentedSeq

    if not isinstance(subs, CommentedSeq):
        params["submissions"] = subs = CommentedSeq(subs)
    subs.fa.set_block_style()  # `submissions: []` was flow style; entries read better as blocks
    keep = [s for s in subs if (s.get("method"), s.get("dataset"), s.get("ipc")) != (method, dataset, ipc)]
    subs.clear()
    subs.extend(keep + [entry])
    text = io.StringIO()
    ruamel.dump(params, text)
    write_text_atomic(params_file, text.getvalue())
    return {**entry, "md5": meta["md5"]}
