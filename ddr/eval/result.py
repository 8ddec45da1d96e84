"""The result of one evaluation: what result.json serialises (docs/result-schema.md)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
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


# The shape of what save() writes where consumers read it (docs/result-schema.md): per path, the keys
# (required, optional) of the mapping there ("[]": every item of a list, "*": every value of a mapping).
# A key outside both is not something an evaluation writes.
# the top-level fields to_dict drops when empty
OPTIONAL_FIELDS = ("extra", "resources", "selection", "predictions", "per_class_accuracy")
RECORD_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "protocol": (("name", "version", "sha256"), ("student", "edition", "edition_changes")),
    "metrics.*": (("mean", "std", "per_round"), ()),
    "inputs": (("distilled", "random", "dataset", "teachers"), ("real_checkpoint",)),
    # source, licence: added by the grid's export from the set's meta.json (ddr.grid.pipeline.export_results)
    "inputs.distilled": (("path", "md5", "lr"), ("content_sha256", "resized", "source", "licence")),
    "inputs.dataset": (("name", "sha256", "source"), ()),
    # one round's random draw (EvalSession.random_baseline): indices_sha256 names the draw; md5 is the DVC md5
    # of the versioned folder it was read from, files_sha256 the original files of an image-folder data set
    "inputs.random[]": (("round", "seed", "indices_sha256"), ("path", "md5", "files_sha256")),
}


def record_fields(path: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(required, optional) keys of the mapping at `path` ("" for the result itself), None where unspecified."""
    if path == "":
        names = [f.name for f in fields(EvalResult)]
        return tuple(n for n in names if n not in OPTIONAL_FIELDS), OPTIONAL_FIELDS
    return RECORD_FIELDS.get(path)


def _check_keys(d: Any, path: str, where: str | Path) -> None:
    name = path or "the result"
    if not isinstance(d, dict):
        raise ResultSchemaError(f"{where}: {name} must be a mapping, got {type(d).__name__}")
    required, optional = record_fields(path)
    missing = [k for k in required if k not in d]
    unknown = sorted(set(d) - set(required) - set(optional))
    if missing:
        raise ResultSchemaError(f"{where}: {name} lacks {', '.join(missing)}")
    if unknown:
        raise ResultSchemaError(f"{where}: {name} holds {', '.join(unknown)}, which no evaluation writes")


def check_record(d: Any, where: str | Path = "result") -> None:
    """A result.json mapping has the shape evaluations write: the top-level fields of EvalResult, and the
    nested records consumers read (RECORD_FIELDS: protocol, metrics, inputs and each round's random draw)."""
    check_schema(d, where)
    _check_keys(d, "", where)
    for path in RECORD_FIELDS:
        parts = path.replace("[]", ".[]").split(".")
        values = [d]
        for part in parts:
            nxt = []
            for v in values:
                if part == "[]":
                    if not isinstance(v, list):
                        raise ResultSchemaError(f"{where}: {path[:-2]} must be a list")
                    nxt += v
                elif part == "*":
                    if not isinstance(v, dict) or not v:
                        raise ResultSchemaError(f"{where}: {path[:-2]} must be a non-empty mapping")
                    nxt += list(v.values())
                else:
                    nxt.append(v[part])  # present: the parent's check came first
            values = nxt
        for v in values:
            _check_keys(v, path, where)
    if not isinstance(d["trainings"], list) or not all(isinstance(t, dict) for t in d["trainings"]):
        raise ResultSchemaError(f"{where}: trainings must be a list of mappings")
