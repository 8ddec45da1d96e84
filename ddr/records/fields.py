"""Field types of the records: each states its check and its JSON Schema once.

Numbers are checked by ddr.checks.number (finite, in range; booleans and text refused: YAML reads `1e-3`
as text, write `1.0e-3`) and keep the type the file gave unless `cast` says otherwise: a recipe's values
enter seeds and cache keys as written.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from ddr.checks import number
from ddr.errors import DDRError
from ddr.records.validation import NAME_MARK


def refuse(text: str) -> PydanticCustomError:
    """A validation error whose text starts with NAME_MARK, which validation puts the field's name in for."""
    return PydanticCustomError("ddr", "{text}", {"text": f"{NAME_MARK} {text}"})


def Number(*, low: float | None = None, high: float | None = None, low_open: bool = False,
           high_open: bool = False, integer: bool = False, cast: Callable[[Any], Any] | None = None) -> Any:
    """A finite number in [low, high] (an end excluded when `low_open`/`high_open`); a whole one when `integer`."""
    def check(value: Any) -> Any:
        try:
            checked = number(value, NAME_MARK, low=low, high=high, low_open=low_open, integer=integer)
        except DDRError as exc:
            raise PydanticCustomError("ddr", "{text}", {"text": str(exc)}) from None
        if high_open and checked >= high:
            raise refuse(f"must be < {high:g}, got {value!r}")
        return cast(checked) if cast else (checked if integer else value)

    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    if low is not None:
        schema["exclusiveMinimum" if low_open else "minimum"] = low
    if high is not None:
        schema["exclusiveMaximum" if high_open else "maximum"] = high
    return Annotated[int if integer else float, PlainValidator(check), WithJsonSchema(schema)]


def _checked(ok: Callable[[Any], bool], problem: str) -> Callable[[Any], Any]:
    """A validator that keeps a value `ok` accepts and refuses any other: '<field> <problem>, got <value>'."""
    def check(value: Any) -> Any:
        if not ok(value):
            raise refuse(f"{problem}, got {value!r}")
        return value

    return check


Name = Annotated[str, PlainValidator(_checked(lambda v: isinstance(v, str) and bool(v), "must be a non-empty name")),
                 WithJsonSchema({"type": "string", "minLength": 1})]
Text = Annotated[str, PlainValidator(_checked(lambda v: isinstance(v, str), "must be text")),
                 WithJsonSchema({"type": "string"})]
Flag = Annotated[bool, PlainValidator(_checked(lambda v: isinstance(v, bool), "must be true or false")),
                 WithJsonSchema({"type": "boolean"})]
# a mapping whose keys another part of ddr checks (a model's arguments, an augmentation spec)
Mapping = Annotated[dict[str, Any], BeforeValidator(_checked(lambda v: isinstance(v, dict), "must be a mapping"))]
PositiveNumber = Number(low=0, low_open=True)
