"""What an evaluation reports while it runs, as typed events: a progress bar counts TrainingFinished and
CacheHit (done/total) instead of parsing text. Each event that a person reads has a `text` line (the
lines `ddr eval` has always printed); a plain `progress=` callable receives those lines, an object with
an `on_event` method receives the events themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union


@dataclass(frozen=True)
class TrainingStarted:
    """Training n of total begins (nothing cached): no line, a bar may show what runs."""

    n: int
    total: int
    role: str
    round: int
    lr: float

    @property
    def text(self) -> str | None:
        return None


@dataclass(frozen=True)
class TrainingFinished:
    n: int
    total: int
    role: str
    round: int
    lr: float
    acc: float
    seconds: float

    @property
    def summary(self) -> str:
        return f"{self.role:<12} round {self.round} lr {self.lr:<6g} acc {self.acc:.4f} ({self.seconds:.1f}s)"

    @property
    def text(self) -> str:
        return f"[{self.n}/{self.total}] {self.summary}"


@dataclass(frozen=True)
class CacheHit:
    """Training n of total was found finished in the training cache."""

    n: int
    total: int
    role: str
    round: int
    lr: float
    acc: float

    @property
    def summary(self) -> str:
        return f"{self.role:<12} round {self.round} lr {self.lr:<6g} acc {self.acc:.4f} (cached)"

    @property
    def text(self) -> str:
        return f"[{self.n}/{self.total}] {self.summary}"


@dataclass(frozen=True)
class CheckpointTested:
    """Acc(real) from a given checkpoint (counts as training n of total)."""

    n: int
    total: int
    acc: float

    @property
    def summary(self) -> str:
        return f"real         checkpoint acc {self.acc:.4f}"

    @property
    def text(self) -> str:
        return f"[{self.n}/{self.total}] {self.summary}"


@dataclass(frozen=True)
class BatchStarted:
    """The batched engine trains `count` students at once."""

    count: int
    engine: str

    @property
    def text(self) -> str:
        return f"training {self.count} students at once (engine {self.engine})"


@dataclass(frozen=True)
class Note:
    """Anything else worth a line (which teachers are provided, an option ignored)."""

    line: str

    @property
    def text(self) -> str:
        return self.line


Event = Union[TrainingStarted, TrainingFinished, CacheHit, CheckpointTested, BatchStarted, Note]
Listener = Callable[[Event], None]
COUNTED = (TrainingFinished, CacheHit, CheckpointTested)  # the events that advance done/total (n, total, summary)


def listener(progress: Any) -> Listener:
    """Events for `progress`: its `on_event` where it has one, else each event's line (a plain callable
    keeps receiving exactly the text it always did); None: nothing."""
    if progress is None:
        return lambda event: None
    on_event = getattr(progress, "on_event", None)
    if callable(on_event):
        return on_event

    def lines(event: Event) -> None:
        if event.text is not None:
            progress(event.text)

    return lines


__all__ = ["BatchStarted", "COUNTED", "CacheHit", "CheckpointTested", "Event", "Listener", "Note",
           "TrainingFinished", "TrainingStarted", "listener"]
