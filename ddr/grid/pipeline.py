"""The DVC pipeline's evaluate step as a grid.

`ddr eval grid params.yaml --export results` reads the pipeline's params.yaml: the reference distillers'
folders (data/distilled/<dataset>-<method>-ipc<ipc>, written by the distill stage), the declared
submissions, the (kind, label) pairs, the rounds, the engine, the teacher (models/teacher-<dataset>) and the
versioned random baselines (data/random/<dataset>-ipc<ipc>), and the executor to run the cells on. The
finished cells are then exported as results/<dataset>-ipc<ipc>/<kind>-<label>/<method>/result.json, the
layout rank and release read, each carrying its distilled set's source and licence.

The executor settings are read here, not passed on the stage's command line: they change where cells run,
never their numbers, so changing them must not make DVC rerun the stage.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ddr.checks import check_name, confined, name_key, number
from ddr.errors import DDRError
from ddr.eval.result import check_record
from ddr.grid.grid_spec import GridSpec
from ddr.kernel.atomic import atomic_folder
from ddr.paths import result_parts

DISTILLED = "data/distilled/{dataset}-{method}-ipc{ipc}"
RANDOM = "data/random/{dataset}-ipc{ipc}"
TEACHER = "models/teacher-{dataset}"
SUBMISSION_KEYS = ("method", "dataset", "ipc", "path", "labels", "source", "licence", "md5")
EXECUTOR_KEYS = ("kind", "workers", "address", "threads")


def is_pipeline_params(raw: Any) -> bool:
    return isinstance(raw, dict) and isinstance(raw.get("data"), dict) and isinstance(raw.get("evaluate"), dict)


def _submissions(raw: dict[str, Any], source: str, base: Path) -> list[dict[str, Any]]:
    subs = raw.get("submissions") or []
    if not isinstance(subs, list):
        raise DDRError(f"{source}: 'submissions' must be a list")
    for i, s in enumerate(subs):
        where = f"{source}: submissions[{i}]"
        if not isinstance(s, dict):
            raise DDRError(f"{where}: not a mapping")
        missing = [k for k in ("method", "dataset", "ipc", "path") if k not in s]
        if missing:
            raise DDRError(f"{where}: missing required field '{missing[0]}'")
        extra = sorted(set(s) - set(SUBMISSION_KEYS))
        if extra:
            raise DDRError(f"{where}: unknown field '{extra[0]}'; valid: {', '.join(SUBMISSION_KEYS)}")
        labels = s.get("labels", ["hard"])
        if not isinstance(labels, list) or not labels or set(labels) - {"hard", "soft"}:
            raise DDRError(f"{where}: labels must list hard and/or soft")
        try:
            check_name(s["method"], "method")
            number(s["ipc"], "ipc", low=1, integer=True)
            if not isinstance(s["path"], str):
                raise DDRError(f"path must be text, got {s['path']!r}")
            confined(base, *Path(s["path"]).parts, what="path")  # a submission lives inside the project
        except DDRError as exc:
            raise DDRError(f"{where}: {exc}") from None
    return subs


def spec_from_params(raw: dict[str, Any], source: str, base: Path) -> GridSpec:
    """The evaluate step's grid: every reference distiller at every ipc, every submission at its own ipc
    and labels, under every (kind, label) pair of `evaluate.metrics` (`[lrs, soft]` or `lrs-soft`)."""
    from ddr.eval.session import parse_engine

    data, ev = raw["data"], raw["evaluate"]
    dataset = data.get("dataset")
    if not dataset:
        raise DDRError(f"{source}: data.dataset is required")
    try:
        check_name(dataset, "data.dataset")
        ipcs = [number(i, "data.ipcs value", low=1, integer=True) for i in (data.get("ipcs") or [])]
    except DDRError as exc:
        raise DDRError(f"{source}: {exc}") from None
    metrics = []
    for m in ev.get("metrics") or []:
        metrics.append("-".join(str(x) for x in m) if isinstance(m, list) else str(m))
    if not ipcs or not metrics:
        raise DDRError(f"{source}: data.ipcs and evaluate.metrics must not be empty")
    methods: dict[str, dict[str, Any]] = {}
    names: dict[str, str] = {}  # name_key -> the name: a submission may not pass for another method by case
    for m in (raw.get("distill") or {}).get("methods") or []:
        try:
            check_name(m, "distill.methods value", taken=names.values())
        except DDRError as exc:
            raise DDRError(f"{source}: {exc}") from None
        methods[m] = {"path": DISTILLED.replace("{method}", m)}
        names[name_key(m)] = m
    reference = frozenset(methods)
    for s in _submissions(raw, source, base):
        if s["dataset"] != dataset:
            raise DDRError(f"{source}: submission {s['method']} is for {s['dataset']}; this pipeline evaluates "
                           f"{dataset}")
        if int(s["ipc"]) not in ipcs:
            raise DDRError(f"{source}: submission {s['method']} has ipc {s['ipc']}; data.ipcs is {ipcs}")
        key = f"{s['method']}@ipc{s['ipc']}"
        known = names.get(name_key(s["method"]))
        if s["method"] in reference or key in methods or (known is not None and known != s["method"]):
            raise DDRError(f"{source}: submission {s['method']} (ipc {s['ipc']}) is declared twice or names a "
                           f"reference distiller or another submission (up to case and spaces)")
        names[name_key(s["method"])] = s["method"]
        methods[key] = {"path": str(s["path"]), "ipc": int(s["ipc"]), "labels": list(s.get("labels", ["hard"])),
                        "method": str(s["method"])}
    engine = str(ev.get("engine") or "plain")
    parse_engine(engine)
    from ddr.protocols.editions import check_edition

    try:
        edition = check_edition(ev.get("edition") or "ddr")
    except DDRError as exc:
        raise DDRError(f"{source}: evaluate.edition: {exc}") from None
    teacher = TEACHER if any(m.endswith("-soft") for m in metrics) else None
    return GridSpec(name="pipeline", datasets=[dataset], ipcs=ipcs, metrics=metrics, methods=methods,
                    rounds=None if ev.get("rounds") is None else int(ev["rounds"]), base=base, teacher=teacher,
                    random=RANDOM, engine=engine, edition=edition, reference=reference)


def executor_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """params.yaml's evaluate.executor: {kind: serial|local|ray, workers, address, threads}."""
    ex = (raw.get("evaluate") or {}).get("executor") or {}
    if isinstance(ex, str):
        ex = {"kind": ex}
    if not isinstance(ex, dict) or set(ex) - set(EXECUTOR_KEYS):
        raise DDRError(f"evaluate.executor must be a mapping with keys {', '.join(EXECUTOR_KEYS)}")
    return {k: ex.get(k) or None for k in EXECUTOR_KEYS}


def _provenance(cell_source: dict[str, Any]) -> dict[str, Any]:
    """Source and licence of a distilled-set folder: as declared to `ddr data add`/`ddr submit` (their
    meta.json has `format`), or the reference distiller that made it (whose meta `source` names the real data)."""
    path = cell_source.get("path")
    meta_file = Path(path) / "meta.json" if path else None
    if not meta_file or not meta_file.is_file():
        return {}
    try:
        meta = json.loads(meta_file.read_text())
    except (json.JSONDecodeError, OSError):
        return {}
    if "format" in meta:
        return {k: meta[k] for k in ("source", "licence") if meta.get(k)}
    if meta.get("method") and "seed" in meta:
        return {"source": f"ddr distill {meta['method']} (reference distiller, seed {meta['seed']})"}
    return {}


def export_results(report, folder: str | Path, base: Path) -> list[Path]:
    """Write every finished cell of `report` as <folder>/<dataset>-ipc<ipc>/<kind>-<label>/<method>/result.json,
    replacing `folder` whole (by rename: a failed export leaves the previous one). Paths inside the results are
    made relative to `base` (the project root) and name this checkout's copy of each input, so results do not
    depend on where the checkout lies, nor on where a cell found in the store once ran."""
    folder = Path(folder).resolve()
    if report.failed:
        raise DDRError("not exporting: some cells failed")
    written = []
    with atomic_folder(folder) as tmp:
        for r in report.cells:
            c = r.cell
            d = r.result.to_dict()
            distilled = dict(d["inputs"].get("distilled") or {})
            distilled.update(_provenance(c.source))
            if distilled.get("path"):
                distilled["path"] = _relative(c.source.get("path") or distilled["path"], base)
            d["inputs"]["distilled"] = distilled
            for key, given in (("random", c.random), ("teachers", c.teachers)):
                for item in d["inputs"].get(key) or []:
                    if isinstance(item, dict) and item.get("path"):
                        item["path"] = _relative(_in_checkout(item["path"], given), base)
            # the method name comes from the spec: a plain name, one folder inside the export
            cell_dir = confined(tmp, *result_parts(c.dataset, c.ipc, c.metric, c.label_kind, c.method, c.edition),
                                what="method or data set name")
            cell_dir.mkdir(parents=True, exist_ok=True)
            beside = (d.get("predictions") or {}).get("file")  # the per-image predictions bundle, for the release
            if beside:  # named by the result.json, which may have been adopted from the tracking store
                made = confined(report.out / "cells", c.id, "eval", beside, what="predictions file")
                if made.is_file():
                    shutil.copyfile(made, confined(cell_dir, beside, what="predictions file"))
            dest = folder / cell_dir.relative_to(tmp) / "result.json"
            check_record(d, dest)  # what the export adds (source, licence) is part of the one result schema
            (cell_dir / "result.json").write_text(json.dumps(d, indent=2) + "\n")
            written.append(dest)
    return written


def _in_checkout(recorded: str, given: list[dict[str, str]]) -> str:
    """This checkout's copy of an input path a cell recorded where it ran: the given input (a folder, or
    a checkpoint file) of the same name, or the file or folder of that name inside it; else `recorded`."""
    p = Path(recorded)
    for g in (Path(x["path"]) for x in given):
        if p.name == g.name:
            return str(g)
        if p.parent.name == g.name:
            try:  # the recorded name may come from a result adopted from the tracking store
                inside = confined(g, p.name, what="input path")
            except DDRError:
                continue
            if inside.exists():
                return str(inside)
    return recorded


def _relative(path: str, base: Path) -> str:
    try:
        return Path(path).resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path
