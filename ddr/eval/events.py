"""What an evaluation reports while it runs, as typed events: a progress bar counts TrainingFinished and
CacheHit (done/total) instead of parsing text. Each event that a person reads has a `text` line (the
lines `ddr eval` has always printed); a plain `progress=` callable receives those lines, an object with
an `on_event` method receives the events themselves.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Union


class Line:
    """An event whose line is its class's LINE filled with its fields (None: no line)."""

    LINE: ClassVar[str | None] = None

    @property
    def text(self) -> str | None:
        if self.LINE is None:
            return None
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        return self.LINE.format(**fields)


class Counted(Line):
    """An event that advances done/total: training n of total is in. `summary`: the line after [n/total]."""

    SUMMARY: ClassVar[str] = ""
    LINE = "[{n}/{total}] {summary}"

    @property
    def summary(self) -> str:
        return self.SUMMARY.format(**{f.name: getattr(self, f.name) for f in dataclasses.fields(self)})  # type: ignore[arg-type]

    @property
    def text(self) -> str:
        return self.LINE.format(n=self.n, total=self.total, summary=self.summary)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Training:
    """Training n of total: which one."""

    n: int
    total: int
    role: str
    round: int
    lr: float


@dataclass(frozen=True)
class TrainingStarted(_Training, Line):
    """Training n of total begins (nothing cached): no line; a bar may show what runs."""


@dataclass(frozen=True)
class TrainingFinished(_Training, Counted):
    acc: float
    seconds: float
    SUMMARY = "{role:<12} round {round} lr {lr:<6g} acc {acc:.4f} ({seconds:.1f}s)"


@dataclass(frozen=True)
class CacheHit(_Training, Counted):
    """Training n of total was found finished in the training cache."""

    acc: float
    SUMMARY = "{role:<12} round {round} lr {lr:<6g} acc {acc:.4f} (cached)"


@dataclass(frozen=True)
class CheckpointTested(Counted):
    """Acc(real) from a given checkpoint (counts as training n of total)."""

    n: int
    total: int
    acc: float
    SUMMARY = "real         checkpoint acc {acc:.4f}"


@dataclass(frozen=True)
class CachedReference(Counted):
    """Acc(real) read from DD-Ranking 0.2.0's cache (the ddranking-0.2 edition; counts as training n of total)."""

    n: int
    total: int
    acc: float
    key: str
    SUMMARY = "real         DD-Ranking's cached acc {acc:.4f} ({key})"


@dataclass(frozen=True)
class BatchStarted(Line):
    """The batched engine trains `count` students at once."""

    count: int
    engine: str
    LINE = "training {count} students at once (engine {engine})"


@dataclass(frozen=True)
class Note(Line):
    """Anything else worth a line (which teachers are provided, an option ignored)."""

    line: str
    LINE = "{line}"


Event = Union[TrainingStarted, TrainingFinished, CacheHit, CheckpointTested, CachedReference, BatchStarted, Note]
Listener = Callable[[Any], None]


def listener(progress: Any) -> Listener:
    """Events for `progress`: its `on_event` where it has one, else each event's line (a plain callable
    keeps receiving exactly the text it always did); None: nothing."""
    if progress is None:
        return lambda event: None
    on_event = getattr(progress, "on_event", None)
    if callable(on_event):
        return on_event

    def lines(event: Line) -> None:
        if event.text is not None:
            progress(event.text)

    return lines


__all__ = ["BatchStarted", "CacheHit", "CachedReference", "CheckpointTested", "Counted", "Event", "Line", "Listener", "Note",
           "TrainingFinished", "TrainingStarted", "listener"]
