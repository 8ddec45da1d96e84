"""Cells: the unit of a grid, named by a content hash of everything that determines its numbers.

A cell is a pure function of (distilled-set digest, protocol name and version, data set, ipc, metric,
seed base), plus the resolved rounds and weight, which also move the numbers. Its folder
`<grid_out>/cells/<id>/` holds `cell.json` (the inputs, written when the grid is planned),
`attempts.jsonl` (one line per dispatch and per failure) and, once and only once finished,
`result.json` (an EvalResult, written by temporary file and rename: a half-finished cell never shows).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ddr.eval.request import EvalRequest
from ddr.kernel.atomic import write_text_atomic
from ddr.kernel.digests import json_sha256

CELL_SCHEMA = "ddr.cell/v1"
ID_LENGTH = 16  # hex characters of the sha256: 64 bits, the folder name, the MLflow tag ddr.cell


@dataclass(frozen=True)
class Cell:
    method: str
    dataset: str
    ipc: int
    metric: str
    protocol: str  # what ddr.evaluate is given: a shipped name or an absolute YAML path
    protocol_name: str
    protocol_version: int
    seed_base: int
    rounds: int
    weight: float
    digest: str  # the distilled set's DVC md5 (folders) or 'mem:<md5>' (generated random baselines)
    source: dict[str, Any] = field(default_factory=dict)  # {"path": abs} or {"random_seed": n}
    root: str | None = None  # local folder of the real data set, if it needs one
    label_kind: str = "hard"  # the protocol's labels, hard or soft (the pipeline's results/<kind>-<label>/)
    engine: str = "plain"
    edition: str = "ddr"  # ddr.protocols.editions
    teachers: list[dict[str, str]] = field(default_factory=list)  # [{"path": abs, "md5": dvc md5}] (soft labels)
    random: list[dict[str, str]] = field(default_factory=list)  # versioned random-baseline folders, same form

    def identity(self) -> dict[str, Any]:
        """What the hash covers: everything that can move the cell's numbers, nothing that cannot
        (not the method's display name, not the folder's location)."""
        ident: dict[str, Any] = {
            "schema": CELL_SCHEMA, "digest": self.digest, "protocol": self.protocol_name,
            "protocol_version": self.protocol_version, "dataset": self.dataset, "ipc": self.ipc,
            "metric": self.metric, "seed_base": self.seed_base, "rounds": self.rounds, "weight": self.weight}
        # optional inputs enter the hash only when given, so cells without them keep their ids
        if self.engine != "plain":
            ident["engine"] = self.engine
        if self.edition != "ddr":
            ident["edition"] = self.edition
        if self.teachers:
            ident["teachers"] = [t["md5"] for t in self.teachers]
        if self.random:
            ident["random"] = [r["md5"] for r in self.random]
        return ident

    @property
    def id(self) -> str:
        return cell_hash(self.identity())

    @property
    def label(self) -> str:
        """method/dataset/ipc<N>/<metric>-<labels>[@edition]: hard- and soft-label cells of one metric told
        apart, named as the pipeline's results/<dataset>-ipc<N>/<metric>-<labels>/ folders are."""
        edition = "" if self.edition == "ddr" else f"@{self.edition}"
        return f"{self.method}/{self.dataset}/ipc{self.ipc}/{self.metric}-{self.label_kind}{edition}"

    def request(self, distilled: Any, *, device: str | None, tracking_uri: str | None, cache_dir: str | None,
                tags: dict[str, Any], out: str | None) -> EvalRequest:
        """The cell as the one EvalRequest every evaluation runs; `distilled` is its set (the folder, or the
        random baseline regenerated), the keywords are where the worker runs it."""
        return EvalRequest(
            self.metric, distilled=distilled, dataset=self.dataset, ipc=self.ipc, label=self.label_kind,
            protocol=self.protocol, rounds=self.rounds, weight=self.weight, root=self.root, method=self.method,
            engine=self.engine, edition=self.edition, teachers=tuple(t["path"] for t in self.teachers),
            random=tuple(r["path"] for r in self.random), device=device, track=tracking_uri is not None,
            tracking_uri=tracking_uri, cache_dir=cache_dir, tags=tags, out=out)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "identity": self.identity(), **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Cell:
        return cls(**{k: v for k, v in d.items() if k not in ("id", "identity")})


def cell_hash(identity: dict[str, Any]) -> str:
    return json_sha256(identity, compact=True)[:ID_LENGTH]


def write_json_atomic(path: Path, data: Any) -> Path:
    """The grid's JSON files (cell.json, result.json, grid.json): 2-space indent, trailing newline."""
    return write_text_atomic(path, json.dumps(data, indent=2) + "\n")


class CellStore:
    """`<grid_out>/cells/<id>/`: a finished cell is found by its hash and never recomputed."""

    def __init__(self, out: str | Path):
        self.out = Path(out)
        self.root = self.out / "cells"

    def dir(self, cell: Cell) -> Path:
        return self.root / cell.id

    def result_path(self, cell: Cell) -> Path:
        return self.dir(cell) / "result.json"

    def plan(self, cell: Cell) -> None:
        path = self.dir(cell) / "cell.json"
        if not path.is_file():
            write_json_atomic(path, cell.to_dict())

    def done(self, cell: Cell) -> bool:
        """Finished: a result.json that parses (a damaged one is recomputed, never trusted)."""
        from ddr.eval.result import EvalResult

        path = self.result_path(cell)
        if not path.is_file():
            return False
        try:
            EvalResult.load(path)
        except (ValueError, TypeError, OSError):
            return False
        return True

    def save_result(self, cell: Cell, result: dict[str, Any]) -> Path:
        return write_json_atomic(self.result_path(cell), result)

    def load_result(self, cell: Cell):
        from ddr.eval.result import EvalResult

        return EvalResult.load(self.result_path(cell))

    def attempts(self, cell: Cell) -> list[dict[str, Any]]:
        path = self.dir(cell) / "attempts.jsonl"
        if not path.is_file():
            return []
        out = []
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line torn by a crash
        return out

    def next_attempt(self, cell: Cell) -> int:
        return 1 + sum(1 for a in self.attempts(cell) if a.get("event") == "start")

    def log_attempt(self, cell: Cell, record: dict[str, Any]) -> None:
        path = self.dir(cell) / "attempts.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")
