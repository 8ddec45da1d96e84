"""What a grid reports while it runs, as typed events: its start, each cell's dispatch and outcome, the
pool of trainings of a parallel grid (its size, each pooled training in) and the evaluation events of the
cell a worker runs (CellEvent). The lines `ddr eval grid` prints are their
`text`; a plain `progress=` callable receives those lines (ddr.eval.events.listener)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ddr.eval.events import Line, Note


@dataclass(frozen=True)
class GridStarted(Line):
    name: str
    cells: int
    before: int  # finished by an earlier run of the grid
    executor: str

    @property
    def text(self) -> str:
        return (f"grid {self.name}: {self.cells} cells, {self.before} finished before, {self.cells - self.before} "
                f"to run ({self.executor} executor)")


@dataclass(frozen=True)
class CellDispatched(Line):
    cell: str
    label: str
    attempt: int
    LINE = "{cell} {label}: attempt {attempt} dispatched"


class Settled(Line):
    """A cell's outcome: it advances the cells done."""


@dataclass(frozen=True)
class CellFinished(Settled):
    cell: str
    label: str
    seconds: float
    scores: str
    LINE = "{cell} {label}: finished in {seconds:.1f}s  {scores}"


@dataclass(frozen=True)
class CellAdopted(Settled):
    """A finished MLflow parent run's result taken instead of running the cell."""

    cell: str
    label: str
    LINE = "{cell} {label}: adopted the finished MLflow run's result"


@dataclass(frozen=True)
class CellFailed(Settled):
    cell: str
    label: str
    error: str
    LINE = "{cell} {label}: failed ({error})"


@dataclass(frozen=True)
class CellRetrying(Line):
    cell: str
    label: str
    error: str
    LINE = "{cell} {label}: attempt failed ({error}); retrying"


@dataclass(frozen=True)
class PoolPlanned(Line):
    """Every cell is planned: the pooled trainings (ddr.grid.pool) against all the cells' trainings."""

    cells: int
    trainings: int
    cached: int
    unique: int
    LINE = ("pool: {cells} cells plan {trainings} trainings, {cached} cached; {unique} unique to train across the "
            "workers (the rest in their cells)")


@dataclass(frozen=True)
class PoolTrained(Line):
    """A pooled training is in the cache (n of the `total` pooled so far)."""

    n: int
    total: int
    cell: str
    role: str
    round: int
    lr: float
    acc: float
    seconds: float
    LINE = "pool [{n}/{total}] {cell} {role} round {round} lr {lr:g}: acc {acc:.4f} in {seconds:.1f}s"


@dataclass(frozen=True)
class PoolTrainingFailed(Line):
    cell: str
    role: str
    round: int
    lr: float
    error: str
    LINE = "pool: {cell} {role} round {round} lr {lr:g} failed ({error}); its cells train it themselves"


@dataclass(frozen=True)
class CellEvent:
    """An event of the evaluation that cell `cell` runs (a training finished, a note, ...)."""

    cell: str
    event: Line

    @property
    def text(self) -> str | None:
        inner = self.event.text
        return None if inner is None else f"{self.cell} {inner}"


class Relay:
    """A cell evaluation's `progress=`: its events, and its plain notes as Note events, go to `send`."""

    def __init__(self, send: Callable[[Any], None]):
        self.send = send

    def on_event(self, event: Line) -> None:
        self.send(event)

    def __call__(self, line: str) -> None:
        self.send(Note(line))


__all__ = ["CellAdopted", "CellDispatched", "CellEvent", "CellFailed", "CellFinished", "CellRetrying", "GridStarted",
           "PoolPlanned", "PoolTrained", "PoolTrainingFailed", "Relay", "Settled"]
