"""The result of one evaluation: what result.json serialises (docs/result-schema.md)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ddr.errors import DDRError
from ddr.kernel.atomic import write_text_atomic

SCHEMA = "ddr.result/v1"


class ResultSchemaError(DDRError, ValueError):
    """Not a result.json of this schema: bad input to the registry (DDRError), an unreadable result to
    the grid, which recomputes the cell (ValueError)."""


def check_schema(d: Any, path: str | Path) -> None:
    if not isinstance(d, dict) or d.get("schema") != SCHEMA:
        got = d.get("schema") if isinstance(d, dict) else None
        raise ResultSchemaError(f"{path}: not a {SCHEMA} result (schema field is {got!r})")


@dataclass
class EvalResult:
    kind: str
    label: str
    method: str
    dataset: str
    ipc: int
    model: str
    protocol: dict[str, Any]
    weight: float
    rounds: int
    metrics: dict[str, dict[str, Any]]
    accuracies: dict[str, Any]
    trainings: list[dict[str, Any]]
    inputs: dict[str, Any]
    environment: dict[str, Any]
    mlflow: dict[str, Any] | None = None
    started_at: str = ""
    finished_at: str = ""
    wall_time_s: float = 0.0
    schema: str = SCHEMA
    extra: dict[str, Any] = field(default_factory=dict)
    selection: dict[str, Any] | None = None  # under selection 'val'/'last': the split and the optimism gap
    predictions: dict[str, Any] | None = None  # the predictions bundle beside result.json: file, sha256, arrays
    per_class_accuracy: dict[str, list[float]] | None = None  # per role, mean over rounds
    resources: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not d["extra"]:
            d.pop("extra")
        if not d["resources"]:
            d.pop("resources")
        for key in ("selection", "predictions", "per_class_accuracy"):
            if d[key] is None:  # absent rather than null: older results and test selection look as they did
                d.pop(key)
        return d

    def score(self, name: str) -> float:
        return float(self.metrics[name]["mean"])

    def save(self, path: str | Path) -> Path:
        """Write atomically (temporary file, then rename): a crash never leaves half a result.json."""
        return write_text_atomic(path, json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> EvalResult:
        d = json.loads(Path(path).read_text())
        check_schema(d, path)
        return cls(**d)


def training_resources(trainings: list[dict[str, Any]]) -> dict[str, Any]:
    """What a cell's trainings cost: seconds of every training that entered the result (a cached one
    counts the time it took when it was trained) and the share trained by this run."""
    fresh = [t for t in trainings if not t.get("cached")]
    return {"trainings": len(trainings), "cached_trainings": len(trainings) - len(fresh),
            "train_seconds": round(sum(float(t["seconds"]) for t in trainings), 3),
            "fresh_train_seconds": round(sum(float(t["seconds"]) for t in fresh), 3)}
