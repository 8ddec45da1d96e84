"""Grid specs: one YAML file naming methods x data sets x ipc x metrics, expanded into cells.

    name: digits-small
    datasets: [digits]
    ipc: [1, 10]
    metrics: [lrs, lrs-soft]         # <kind> or <kind>-<label> (label hard by default)
    protocol: tiny-lrs.yaml          # one for all, or {digits: ..., cifar10: ...}; default <dataset>-<kind>-<label>
    methods:
      random: {random_seed: 0}                          # a random baseline drawn from the real data
      herding: {path: "sets/herding/{dataset}-ipc{ipc}"}  # a distilled-set folder; {dataset} {ipc} {method}
      mine: {path: sets/mine, ipc: 10, labels: [soft]}  # optional: only this ipc, only these labels
    teacher: "models/teacher-{dataset}"  # optional: soft-label teacher checkpoint(s) (default: trained, cached)
    random: "baselines/{dataset}-ipc{ipc}"  # optional: versioned random baselines (`ddr data random --count`)
    engine: plain                    # optional: as `ddr eval --engine`
    edition: ddr                     # optional: as `ddr eval --edition` (ddr, ddranking-0.2, leaderboard-2025-02)
    rounds: 2                        # optional: overrides every protocol's rounds
    weight: 0.5                      # optional: overrides every protocol's LRS weight
    roots: {cifar10: /data/cifar10}  # optional: local folders of real data sets

Relative paths (protocol YAML files, method folders) are relative to the spec file's folder. Every cell is
validated (GridSpec.cells, ddr.grid.grid_spec) before any worker starts or anything is logged.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ddr.checks import check_name, number
from ddr.errors import DDRError
from ddr.grid.grid_spec import GridSpec
from ddr.grid.pipeline import is_pipeline_params, spec_from_params

_TOP = {"name", "datasets", "ipc", "metrics", "protocol", "methods", "rounds", "weight", "roots", "teacher", "random",
        "engine", "edition"}
_METHOD = {"path", "random_seed"}
_FILTERS = {"ipc", "labels", "method"}  # per method: only this ipc, only these labels, the display name


def _list(raw: Any, key: str, kind: type, source: str) -> list:
    value = raw.get(key)
    if value is None:
        raise DDRError(f"grid {source}: missing required field '{key}'")
    items = value if isinstance(value, list) else [value]
    if not items:
        raise DDRError(f"grid {source}: '{key}' is empty")
    if kind is int:  # ipc: 1.9 or '2' is a typo, not ipc 1 or 2
        try:
            out = [number(v, f"'{key}' value", integer=True) for v in items]
        except DDRError as exc:
            raise DDRError(f"grid {source}: {exc}") from None
    elif not all(isinstance(v, str) for v in items):
        raise DDRError(f"grid {source}: '{key}' must list {kind.__name__} values")
    else:
        out = list(items)
    if len(set(out)) != len(out):
        raise DDRError(f"grid {source}: '{key}' lists a value twice")
    return out


def parse_grid(raw: Any, source: str, base: Path) -> GridSpec:
    if not isinstance(raw, dict):
        raise DDRError(f"grid {source}: not a YAML mapping")
    extra = sorted(set(raw) - _TOP)
    if extra:
        raise DDRError(f"grid {source}: unknown field '{extra[0]}'; valid: {', '.join(sorted(_TOP))}")
    datasets = _list(raw, "datasets", str, source)
    ipcs = _list(raw, "ipc", int, source)
    if any(i < 1 for i in ipcs):
        raise DDRError(f"grid {source}: ipc values must be at least 1")
    metrics = _list(raw, "metrics", str, source) if "metrics" in raw else ["lrs"]
    from ddr.eval.api import KINDS
    from ddr.errors import unknown

    for m in metrics:
        kind, _, label = m.partition("-")
        if kind not in KINDS:
            raise unknown("metric", m, KINDS)
        if label not in ("", "hard", "soft"):
            raise DDRError(f"grid {source}: metric '{m}': the label after '-' must be hard or soft")
    methods = raw.get("methods")
    if not isinstance(methods, dict) or not methods:
        raise DDRError(f"grid {source}: 'methods' must map method names to {{path: ...}} or {{random_seed: N}}")
    parsed: dict[str, dict[str, Any]] = {}
    names: list[str] = []  # display names: each becomes a folder of an export, so none may equal another's
    for name, src in methods.items():
        if isinstance(src, str):
            src = {"path": src}
        try:
            display = check_name((src.get("method") if isinstance(src, dict) else None) or name, "method name")
            check_name(display, "method name", taken=[n for n in names if n != display])
        except DDRError as exc:
            raise DDRError(f"grid {source}: {exc}") from None
        names.append(display)
        if not isinstance(src, dict) or len(set(src) & _METHOD) != 1 or set(src) - _METHOD - _FILTERS:
            raise DDRError(f"grid {source}: method '{name}' needs exactly one of: path, random_seed "
                           f"(optional: {', '.join(sorted(_FILTERS))})")
        if "labels" in src and (not isinstance(src["labels"], list) or set(src["labels"]) - {"hard", "soft"}):
            raise DDRError(f"grid {source}: method '{name}': labels must list hard and/or soft")
        if "random_seed" in src:
            seed = src["random_seed"]
            if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
                raise DDRError(f"grid {source}: method '{name}': random_seed must be a non-negative whole number")
        parsed[str(name)] = dict(src)
    protocol = raw.get("protocol")
    if protocol is not None and not isinstance(protocol, (str, dict)):
        raise DDRError(f"grid {source}: 'protocol' must be a name, a YAML path, or a mapping data set -> protocol")
    rounds = raw.get("rounds")
    weight = raw.get("weight")
    try:
        if rounds is not None:
            number(rounds, "rounds", low=1, integer=True)
        if weight is not None:
            number(weight, "weight", low=0, high=1)
    except DDRError as exc:
        raise DDRError(f"grid {source}: {exc}") from None
    if raw.get("name") is not None:
        try:
            check_name(raw["name"], "grid name")
        except DDRError as exc:
            raise DDRError(f"grid {source}: {exc}") from None
    roots = raw.get("roots") or {}
    if not isinstance(roots, dict):
        raise DDRError(f"grid {source}: 'roots' must map data set names to folders")
    teacher = raw.get("teacher")
    if teacher is not None and not isinstance(teacher, (str, dict)):
        raise DDRError(f"grid {source}: 'teacher' must be a folder or a mapping data set -> folder")
    engine = str(raw.get("engine") or "plain")
    from ddr.eval.session import parse_engine

    parse_engine(engine)
    from ddr.protocols.editions import check_edition

    try:
        edition = check_edition(raw.get("edition") or "ddr")
    except DDRError as exc:
        raise DDRError(f"grid {source}: {exc}") from None
    return GridSpec(edition=edition, name=str(raw.get("name") or Path(source).stem), datasets=datasets, ipcs=ipcs, metrics=metrics,
                    methods=parsed, protocol=protocol, rounds=None if rounds is None else int(rounds),
                    weight=None if weight is None else float(weight),
                    roots={str(k): str(Path(base, v)) for k, v in roots.items()}, base=base, teacher=teacher,
                    random=None if raw.get("random") is None else str(raw["random"]), engine=engine)


def load_grid(path: str | Path) -> GridSpec:
    path = Path(path)
    if not path.is_file():
        raise DDRError(f"no such grid spec: {path}")
    from ddr.yaml_input import load_yaml

    raw = load_yaml(path.read_text(), f"grid {path}")
    if is_pipeline_params(raw):  # the DVC pipeline's params.yaml: its evaluate step
        return spec_from_params(raw, str(path), path.resolve().parent)
    return parse_grid(raw, str(path), path.resolve().parent)
