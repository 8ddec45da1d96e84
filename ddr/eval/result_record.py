"""The records nested in a result.json, as pydantic models, and the model of the whole result derived from
EvalResult's fields (ddr/eval/result.py): one schema for what evaluations write and what the registry reads,
exported to docs/schemas/result.schema.json. A key outside a model is not something an evaluation writes.
"""
from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ProtocolRef(Record):
    """The protocol a result was evaluated under; `student` for a cross-architecture protocol (BASE:STUDENT),
    `edition` and what it changed for an edition other than ddr's (ddr.protocols.editions)."""

    name: str
    version: int
    sha256: str
    student: str = None  # type: ignore[assignment]  # absent unless cross-architecture
    edition: str = None  # type: ignore[assignment]
    edition_changes: dict[str, Any] = None  # type: ignore[assignment]  # {"real.epochs": [before, after], ...}


class Metric(Record):
    """One score over rounds: mean and (population) std of per_round."""

    mean: float
    std: float
    per_round: list[float]


class Distilled(Record):
    path: str | None  # None for tensors handed to ddr.evaluate in memory
    md5: str | None
    lr: float | None
    # the images and labels alone (no meta.json): two methods that select the same images are one set
    content_sha256: str = None  # type: ignore[assignment]
    resized: Any = None
    source: str = None  # type: ignore[assignment]  # source, licence: added by the grid's export from meta.json
    licence: str = None  # type: ignore[assignment]


class DatasetRef(Record):
    name: str
    sha256: str
    source: str


class RandomDraw(Record):
    """One round's random draw (EvalSession.random_baseline): indices_sha256 names the draw; md5 is the DVC md5
    of the versioned folder it was read from, files_sha256 the original files of an image-folder data set."""

    round: int
    seed: int
    indices_sha256: str
    path: str = None  # type: ignore[assignment]
    md5: str = None  # type: ignore[assignment]
    files_sha256: str = None  # type: ignore[assignment]
    jpeg: bool = None  # type: ignore[assignment]  # trained as its JPEG round trip (the ddranking-0.2 edition)


class Inputs(Record):
    distilled: Distilled
    random: list[RandomDraw]
    dataset: DatasetRef
    teachers: list[dict[str, Any]] | None
    real_checkpoint: dict[str, Any] = None  # type: ignore[assignment]
    # Acc(real) read from DD-Ranking 0.2.0's cache (the ddranking-0.2 edition): acc, percent, key, source
    real_constant: dict[str, Any] = None  # type: ignore[assignment]


# EvalResult's fields whose record is typed here rather than by EvalResult's own annotation
NESTED = {"protocol": ProtocolRef, "metrics": Annotated[dict[str, Metric], Field(min_length=1)], "inputs": Inputs}


def derive_result_model(result_cls: type, schema: str, optional: tuple[str, ...]) -> type[Record]:
    """The model of a result.json from the dataclass that writes it: every field of `result_cls`, required
    unless in `optional` (the ones to_dict drops when empty), typed by its annotation or by NESTED."""
    hints = typing.get_type_hints(result_cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(result_cls):
        tp = NESTED.get(f.name, hints[f.name])
        if f.name == "schema":  # BaseModel has a `schema` of its own
            fields["schema_"] = (Literal[schema], Field(alias="schema"))
            continue
        fields[f.name] = (tp, None if f.name in optional else ...)
    return create_model("Result", __base__=Record, __doc__=f"A result.json ({schema}): one evaluation.", **fields)


def model_at(model: type[BaseModel], path: str) -> type[BaseModel] | None:
    """The record model at a dotted path of `model` ("" itself; "[]" an item of a list, "*" a value of a
    mapping), None where the path holds no record."""
    node: Any = model
    for part in filter(None, path.replace("[]", ".[]").split(".")):
        if part in ("[]", "*"):
            args = [a for a in typing.get_args(node) if a is not type(None)]
            node = args[-1] if args else None
        elif isinstance(node, type) and issubclass(node, BaseModel) and part in node.model_fields:
            node = node.model_fields[part].annotation
        else:
            return None
        while typing.get_origin(node) is Annotated:
            node = typing.get_args(node)[0]
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None
