"""The result of one evaluation: what result.json serialises (docs/result-schema.md)."""
from __future__ import annotations

import functools
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
        """Write atomically (temporary file, then rename): a crash never leaves half a result.json. What is
        written passes check_record: the producer and the schema its consumers are tested against are one."""
        d = self.to_dict()
        check_record(d, path)
        return write_text_atomic(path, json.dumps(d, indent=2) + "\n")

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


# the top-level fields to_dict drops when empty
OPTIONAL_FIELDS = ("extra", "resources", "selection", "predictions", "per_class_accuracy")


@functools.cache
def result_model() -> type:
    """The pydantic model of a result.json: EvalResult's fields, the nested records typed in result_record.py
    (built on first use: pydantic stays out of commands that read no result)."""
    from ddr.eval.result_record import derive_result_model

    return derive_result_model(EvalResult, SCHEMA, OPTIONAL_FIELDS)


def record_fields(path: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(required, optional) keys of the record at `path` ("" for the result itself; "[]" an item of a list,
    "*" a value of a mapping), None where the schema holds no record there."""
    from ddr.eval.result_record import model_at

    model = model_at(result_model(), path)
    if model is None:
        return None
    keys = [(f.alias or name, f.is_required()) for name, f in model.model_fields.items()]
    return tuple(k for k, req in keys if req), tuple(k for k, req in keys if not req)


def check_record(d: Any, where: str | Path = "result") -> None:
    """A result.json mapping has the shape evaluations write (result_model): one ResultSchemaError line naming
    the first field at fault."""
    from ddr.records.validation import validate

    check_schema(d, where)
    try:
        validate(result_model(), d, str(where))
    except DDRError as exc:
        raise ResultSchemaError(str(exc)) from None
