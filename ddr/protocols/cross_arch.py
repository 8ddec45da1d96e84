"""Cross-architecture evaluation: the same recipe with another student model, as a derived protocol.

DD papers report a set's generalisation to other architectures (ConvNet, ResNet-18, VGG-11, AlexNet).
`BASE:STUDENT` (e.g. `dm-cifar10:ResNet-18`) names the protocol BASE with its student (and the student
of its real-data reference) replaced by STUDENT, built without BASE's model_args; everything else (the
recipe, LR grid, labels, teachers) is BASE's. Its version is BASE's version, so a bump of BASE bumps
every derived protocol; its name is part of every seed and cache key like any protocol's.
"""
from __future__ import annotations

import dataclasses

from ddr.errors import DDRError

STUDENTS = ("ConvNet", "ResNet-18", "VGG-11", "AlexNet")  # the usual table; "ConvNet" = the base protocol itself
SEPARATOR = ":"


def split_name(name: str) -> tuple[str, str] | None:
    """(base, student) for a derived name, else None."""
    if SEPARATOR not in name or name.endswith((".yaml", ".yml")):
        return None
    base, student = name.rsplit(SEPARATOR, 1)
    return base, student


def derive_student(base, student: str):
    """The protocol `base` (a Protocol) with `student` as its student model."""
    from ddr.models import list_models

    if student not in list_models():
        raise DDRError(f"unknown student model '{student}' for {base.name}{SEPARATOR}{student}; "
                       f"valid: {', '.join(list_models())}")
    if student == base.model:
        raise DDRError(f"{base.name} already trains {student}: use {base.name} itself")
    name = f"{base.name}{SEPARATOR}{student}"
    raw = {**base.raw, "name": name, "model": student, "model_args": {},
           "cross_arch": {"base": base.ref, "student": student}}
    return dataclasses.replace(base, name=name, model=student, model_args={}, raw=raw)


def student_of(protocol) -> str | None:
    """The student a derived protocol swapped in, None for a protocol's own model."""
    return (protocol.raw.get("cross_arch") or {}).get("student")


def cross_arch_names(base) -> list[str]:
    """The derived protocols of the usual table for `base` (its own ConvNet row is `base` itself)."""
    return [base.name] + [f"{base.name}{SEPARATOR}{s}" for s in STUDENTS[1:] if s != base.model]
