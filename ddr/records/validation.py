"""Validation through a record's type, with the first problem as one DDRError line naming the field.

A record's own cross-field rules (in a dataclass's __post_init__) raise RecordError: a DDRError when the
record is built directly in code, a ValueError that pydantic places at the record's path when it is read
from a file.
"""
from __future__ import annotations

import dataclasses
import functools
from contextvars import ContextVar
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ddr.errors import DDRError

NAME_MARK = "@"  # fields.py's messages start with it; replaced by the field's name here

_VALIDATING: ContextVar[bool] = ContextVar("ddr_records_validating", default=False)


class RecordError(DDRError, ValueError):
    """A record breaks a rule of its own: bad input (DDRError), placed at its path by pydantic (ValueError)."""


@functools.cache
def adapter(tp: Any) -> TypeAdapter:
    return TypeAdapter(tp)


def validate(tp: Any, data: Any, where: str = "") -> Any:
    """`data` validated into `tp`, or a DDRError: '<where>: <path>: <field> <problem>' (one line)."""
    token = _VALIDATING.set(True)
    try:
        return adapter(tp).validate_python(data)
    except ValidationError as exc:
        raise DDRError(error_line(exc, where, tp)) from None
    finally:
        _VALIDATING.reset(token)


def check_fields(record: Any) -> None:
    """For a dataclass record's __post_init__: its fields through its own type, unless validation is already
    running (a record read by validate() has been checked field by field; one built in code has not)."""
    if _VALIDATING.get():
        return
    validate(type(record), {f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.init})


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_KINDS = {"string_type": "must be text", "bool_type": "must be true or false", "int_type": "must be a whole number",
          "float_type": "must be a number", "dict_type": "must be a mapping", "dataclass_type": "must be a mapping",
          "model_type": "must be a mapping", "typed_dict_type": "must be a mapping", "list_type": "must be a list",
          "tuple_type": "must be a list"}


def error_line(exc: ValidationError, where: str, tp: Any = None) -> str:
    """The first error of `exc` as one line: a missing field first, then an unknown one, then the rest in
    field order."""
    errors = exc.errors()
    order = {"missing": 0, "extra_forbidden": 1, "unexpected_keyword_argument": 1}
    err = min(errors, key=lambda e: order.get(e["type"], 2))
    loc = tuple(err["loc"])
    names = [i for i, p in enumerate(loc) if isinstance(p, str)]
    at = names[-1] if names else -1
    parent, name = loc[:at] if at >= 0 else loc, (loc[at] if at >= 0 else "")
    label = f"{name} values" if at >= 0 and at < len(loc) - 1 else str(name)  # an item of a list field
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        text = f"missing required field '{name}'"
    elif kind in ("extra_forbidden", "unexpected_keyword_argument"):
        valid = field_names(tp, parent) if tp is not None else []
        text = f"unknown field '{name}'" + (f"; valid: {', '.join(valid)}" if valid else "")
    elif kind == "ddr":
        text = str(ctx.get("text", err["msg"])).replace(NAME_MARK, label, 1)
    elif kind == "value_error":
        text = str(ctx.get("error", err["msg"]))
        parent = loc  # a record's own rule: the record is where it failed
    elif kind == "literal_error":
        text = f"{label} must be {ctx.get('expected')}, got {err.get('input')!r}"
    elif kind in _KINDS:
        text = f"{label} {_KINDS[kind]}, got {err.get('input')!r}"
    else:
        text = f"{label}: {err['msg']}" if label else err["msg"]
    head = ": ".join(p for p in (where, _path(parent)) if p)
    return f"{head}: {text}" if head else text


def field_names(tp: Any, loc: tuple) -> list[str]:
    """The fields a record type has at `loc` (sorted), [] where that is not a record."""
    schema = adapter(tp).json_schema()
    node = schema
    for part in loc:
        node = _resolve(schema, node)
        if isinstance(part, int):
            node = node.get("items") or {}
        else:
            node = (node.get("properties") or {}).get(part) or (node.get("additionalProperties") or {})
    node = _resolve(schema, node)
    return sorted(node.get("properties") or {})


def _resolve(schema: dict, node: Any) -> dict:
    if not isinstance(node, dict):
        return {}
    if "$ref" in node:
        return _resolve(schema, schema["$defs"][node["$ref"].rsplit("/", 1)[1]])
    for alt in node.get("anyOf") or []:  # Optional[Record]: the record
        if "$ref" in alt or alt.get("properties"):
            return _resolve(schema, alt)
    return node
