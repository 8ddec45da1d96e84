"""ranking.json as a typed record (schema ddr.ranking/v3), exported to docs/schemas/ranking.schema.json.

build_ranking's output is validated through Ranking before anything writes it, and read_ranking
(registry/ranking.py) validates what it reads. Older formats are read too: v1 (no `unpaired_reason`,
`same_set_as`, `beats_random`, ...) and v2 kept the draws' settings under `bootstrap` with their count as
`resamples`; upgrade() renames those in memory (the signed file is left as it is). Fields later formats added
are optional here for that reason; the current writer always writes them.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ddr.eval.result_record import ProtocolRef
from registry import RANKING_SCHEMA

LEGACY_SCHEMAS = ("ddr.ranking/v1", "ddr.ranking/v2")  # `bootstrap` {resamples, ...} for `posterior_draws` {draws, ...}
# what v1 rankings drew (their `bootstrap` has no `method`): resampled rounds, per method
V1_METHOD = "percentile bootstrap of rounds, resampled per method"


def Pair(item: type) -> Any:
    """Two values, a JSON array (strict validation reads no list as a tuple)."""
    return Annotated[list[item], Field(min_length=2, max_length=2)]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class PosteriorDraws(Record):
    """How rank certainty was drawn: Student-t posterior draws of each method's mean over rounds."""

    seed: int = Field(ge=0, le=2**32 - 1)
    draws: int = Field(ge=1)
    confidence: float = Field(gt=0, lt=1)
    method: str
    unit: str
    rng: str


class Summary(Record):
    mean: float
    std: float
    per_round: list[float]


class BeatsRandom(Record):
    """Where the 95% t interval of the improvement over random lies ('unknown' with one round)."""

    metric: Literal["ior", "delta_aug"]
    interval: Pair(float) | None
    verdict: Literal["above", "straddles", "below", "unknown"]


class Row(Record):
    method: str
    label: str = None  # type: ignore[assignment]  # the label kind, in a table across label kinds only
    rank: int = Field(ge=1)
    same_set_as: list[str] = None  # type: ignore[assignment]  # other rows of the table that are the same set
    mean: float
    std: float
    rounds: int = Field(ge=1)
    per_round: list[float]
    rank_interval: Pair(int)
    p_rank1: float | None
    p_beats_next: float | None
    beats_random: BeatsRandom = None  # type: ignore[assignment]
    flags: list[str] = None  # type: ignore[assignment]
    components: dict[str, Summary]
    per_class_accuracy: list[float] = None  # type: ignore[assignment]
    model: str | None
    weight: float | None
    protocol: ProtocolRef
    result: str
    result_sha256: str
    mlflow_run_id: str | None
    train_seconds: float | None = None


class Table(Record):
    dataset: str
    ipc: int = Field(ge=1)
    label: str
    score: Literal["lrs", "ars"]
    higher_is_better: bool
    selection: Literal["val", "last"] = None  # type: ignore[assignment]  # absent: selected on the test set
    student: str = None  # type: ignore[assignment]  # a cross-architecture table's student
    edition: str = None  # type: ignore[assignment]  # absent: the ddr edition (ddr.protocols.editions)
    certainty: Literal["paired", "unpaired"] | None = None  # None: a method has one round
    unpaired_reason: str = None  # type: ignore[assignment]
    flags: list[str] = None  # type: ignore[assignment]
    rows: list[Row]


class Ranking(Record):
    """A ranking snapshot: one table per (data set, ipc, label, score), rows best first."""

    schema_: Literal[RANKING_SCHEMA] = Field(alias="schema")  # type: ignore[valid-type]
    version: str = None  # type: ignore[assignment]  # the release's version (absent from `ddr rank --out`)
    posterior_draws: PosteriorDraws
    tables: list[Table]
    skipped: list[str]


def upgrade(d: Any) -> Any:
    """A v1/v2 ranking mapping as a v3 one (a copy); anything else as it is."""
    if not isinstance(d, dict) or d.get("schema") not in LEGACY_SCHEMAS or not isinstance(d.get("bootstrap"), dict):
        return d
    out = {k: v for k, v in d.items() if k != "bootstrap"}
    old = d["bootstrap"]
    draws = {("draws" if k == "resamples" else k): v for k, v in old.items()}
    draws.setdefault("method", V1_METHOD)
    return {**out, "schema": RANKING_SCHEMA, "posterior_draws": draws}
