"""GridSpec: a validated grid of methods x data sets x ipc x metrics, and its expansion into cells.

Both grid sources build one: a grid YAML file (ddr.grid.spec) and the DVC pipeline's params.yaml
(ddr.grid.pipeline).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddr.checks import name_key
from ddr.errors import DDRError
from ddr.grid.cell import Cell


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
