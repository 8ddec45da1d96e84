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
validated here, before any worker starts or anything is logged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddr.checks import check_name, name_key, number
from ddr.errors import DDRError
from ddr.grid.cell import Cell

_TOP = {"name", "datasets", "ipc", "metrics", "protocol", "methods", "rounds", "weight", "roots", "teacher", "random",
        "engine", "edition"}
_METHOD = {"path", "random_seed"}
_FILTERS = {"ipc", "labels", "method"}  # per method: only this ipc, only these labels, the display name


@dataclass
class GridSpec:
    name: str
    datasets: list[str]
    ipcs: list[int]
    metrics: list[str]
    methods: dict[str, dict[str, Any]]
    protocol: str | dict[str, str] | None = None
    rounds: int | None = None
    weight: float | None = None
    roots: dict[str, str] = field(default_factory=dict)
    base: Path = field(default_factory=Path.cwd)
    teacher: str | dict[str, str] | None = None
    random: str | None = None
    engine: str = "plain"
    edition: str = "ddr"
    # reference distillers' method keys: two of them may select the same images (herding and k-center both start
    # from the sample nearest the class mean, so at ipc 1 they agree); any other method whose images and labels
    # equal another method's is refused, whatever its name or meta.json says
    reference: frozenset[str] = frozenset()

    def protocol_for(self, dataset: str, metric: str, label: str = "hard") -> str:
        from ddr.protocols import default_protocol

        p = self.protocol.get(dataset) if isinstance(self.protocol, dict) else self.protocol
        if p is None:
            return default_protocol(dataset, metric, label)
        return self._path(p) if p.endswith((".yaml", ".yml")) else p

    def _path(self, p: str) -> str:
        path = Path(p).expanduser()
        return str(path if path.is_absolute() else (self.base / path).resolve())

    def cells(self) -> list[Cell]:
        """Every cell of the grid, in a stable order (data set, ipc, metric, method), each validated by
        the same checks ddr.evaluate makes before it logs anything."""
        from ddr.data.random_baseline import random_baseline
        from ddr.eval.api import prepare
        from ddr.eval.request import EvalRequest

        cells: list[Cell] = []
        seen: dict[str, Cell] = {}
        same_content: dict[tuple, tuple[str, str]] = {}  # (dataset, ipc, metric entry, content) -> (key, label)
        same_folder: dict[tuple, str] = {}  # where an export writes the cell -> its label
        for dataset in self.datasets:
            for ipc in self.ipcs:
                for entry in self.metrics:
                    metric, _, label = entry.partition("-")
                    label = label or "hard"
                    protocol = self.protocol_for(dataset, metric, label)
                    for key, src in self.methods.items():
                        if src.get("ipc") not in (None, ipc) or label not in src.get("labels", (label,)):
                            continue
                        method = str(src.get("method") or key)
                        where = f"grid {self.name}: {method}/{dataset}/ipc{ipc}"
                        root = self.roots.get(dataset)
                        if "path" in src:
                            try:
                                filled = str(src["path"]).format(dataset=dataset, ipc=ipc, method=method)
                            except (KeyError, IndexError, ValueError, AttributeError):
                                raise DDRError(f"{where}: path {src['path']!r} may use only {{dataset}}, {{ipc}} "
                                               "and {method}") from None
                            path = self._path(filled)
                            source: dict[str, Any] = {"path": path}
                            distilled: Any = path
                        else:
                            source = {"random_seed": int(src["random_seed"])}
                            distilled = None
                        try:
                            if distilled is None:
                                from ddr.data.real import load_dataset

                                distilled = random_baseline(load_dataset(dataset, root), ipc, source["random_seed"])
                            proto, _data, ds, n_rounds = prepare(EvalRequest(
                                metric, distilled=distilled, dataset=dataset, ipc=ipc, protocol=protocol,
                                rounds=self.rounds, root=root, label=label, edition=self.edition))
                            teachers = self._inputs(self._teacher(dataset), dataset, ipc) if proto.soft else []
                            random = self._inputs(self.random, dataset, ipc)
                        except DDRError as exc:
                            raise DDRError(f"{where}: {exc}") from None
                        weight = proto.weight if self.weight is None else float(self.weight)
                        cell = Cell(method=method, dataset=dataset, ipc=ipc, metric=metric, protocol=protocol,
                                    protocol_name=proto.name, protocol_version=proto.version,
                                    seed_base=proto.seed_base, rounds=n_rounds, weight=weight,
                                    digest=ds.digest(), source=source, root=root, label_kind=proto.label,
                                    engine=self.engine, teachers=teachers, random=random, edition=self.edition)
                        if cell.id in seen:
                            raise DDRError(f"{where}: the same cell as {seen[cell.id].label} (same distilled set "
                                           f"{cell.digest}); list each distilled set once")
                        content = (dataset, ipc, entry, ds.content_digest())
                        other = same_content.get(content)
                        if other and not {key, other[0]} <= self.reference:
                            raise DDRError(f"{where}: the same images and labels as {other[1]} (under another name "
                                           "or meta.json); list each distilled set once")
                        same_content.setdefault(content, (key, cell.label))
                        folder = (dataset, ipc, entry, name_key(method))
                        if folder in same_folder:
                            raise DDRError(f"{where}: the same method name as {same_folder[folder]} (up to case and "
                                           "spaces); give each method its own name")
                        same_folder[folder] = cell.label
                        seen[cell.id] = cell
                        cells.append(cell)
        if not cells:
            raise DDRError(f"grid {self.name}: no cell to run (every method's ipc or labels filter leaves out every "
                           "data set, ipc and metric)")
        return cells

    def _teacher(self, dataset: str) -> str | None:
        return self.teacher.get(dataset) if isinstance(self.teacher, dict) else self.teacher

    def _inputs(self, template: str | None, dataset: str, ipc: int) -> list[dict[str, str]]:
        """A versioned input folder (teacher checkpoint, random baselines) as {path, md5}: its DVC md5
        enters the cell's hash, since a different teacher or baseline moves the numbers."""
        from ddr.data.digest import dvc_md5

        if template is None:
            return []
        try:
            filled = template.format(dataset=dataset, ipc=ipc)
        except (KeyError, IndexError, ValueError, AttributeError):
            raise DDRError(f"{template!r} may use only {{dataset}} and {{ipc}}") from None
        path = Path(self._path(filled))
        if not path.exists():
            raise DDRError(f"no such folder: {path}")
        return [{"path": str(path), "md5": dvc_md5(path)}]


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
    from ddr.grid.pipeline import is_pipeline_params, spec_from_params

    if is_pipeline_params(raw):  # the DVC pipeline's params.yaml: its evaluate step
        return spec_from_params(raw, str(path), path.resolve().parent)
    return parse_grid(raw, str(path), path.resolve().parent)
