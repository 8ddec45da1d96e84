"""What the grid driver and its workers send each other: Tasks (a cell attempt, a cell's keyed plan, or some
of a cell's trainings) and the worker's replies.

Plain frozen records, pickled as they are (over a local worker's socket, or as a Ray task's argument), so
a field added on one side is an attribute error on the other, not a silently missing tuple slot.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Task:
    """One attempt at one cell. `cell`: Cell.to_dict(); `tracking_uri` None: no MLflow; `threads`: torch
    threads on CPU (None: torch's default); `out`: a folder for the files beside the result. `do`: 'cell'
    (the evaluation: result.json's dict back), 'plan' (its pooled trainings back, ddr.grid.pool) or 'train'
    (train the plan's trainings `train`, by index, into the cache)."""

    cell: dict[str, Any]
    attempt: int = 1
    tracking_uri: str | None = None
    cache_dir: str | None = None
    device: str | None = None
    executor: str = "serial"
    grid: str | None = None
    threads: int | None = None
    out: str | None = None
    do: Literal["cell", "plan", "train"] = "cell"
    train: tuple[int, ...] = ()


@dataclass(frozen=True)
class Ready:
    """The worker has imported what it needs and takes tasks."""

    pid: int


@dataclass(frozen=True)
class ProgressLine:
    """A progress event of the task the worker runs (ddr.eval.events)."""

    event: Any


@dataclass(frozen=True)
class Done:
    """The task finished: result.json's dict."""

    result: dict[str, Any]


@dataclass(frozen=True)
class Failed:
    """The task failed. `retriable` False: bad input (DDRError), which another attempt would not fix."""

    error: str
    retriable: bool


WorkerMessage = Ready | ProgressLine | Done | Failed

__all__ = ["Done", "Failed", "ProgressLine", "Ready", "Task", "WorkerMessage"]
