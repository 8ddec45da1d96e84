"""Progress on stderr: a bar (done/total, rate, ETA) when stderr is a terminal, one line per event
otherwise (logs, CI, `dvc repro` piped to a file keep the full record).

The evaluation reports typed events (ddr.eval.events: a training started, finished or found in the
cache, n of total) and the grid its cells (ddr.grid.events: started, finished, failed, adopted, the pool
of trainings and each pooled training in, and each cell's evaluation events); the bars count those, so the evaluation and grid code stay free of any
terminal handling.
"""
from __future__ import annotations

import sys
from typing import IO, Any


class _Bar:
    unit = "training"

    def __init__(self, stream: IO[str] | None = None, tty: bool | None = None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.bar = None

    def _ensure(self, total: int):
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, unit=self.unit, dynamic_ncols=True, leave=True,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} {unit}s [{elapsed}<{remaining}] {postfix}")
        self.bar.total = total
        return self.bar

    def line(self, msg: str) -> None:
        if self.bar is not None:
            self.bar.write(msg, file=self.stream)
        else:
            print(msg, file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class TrainingProgress(_Bar):
    """`progress=` for ddr.evaluate: trainings done / total, from the evaluation's events (`on_event`);
    a plain message (a note) is a line."""

    def __call__(self, msg: str) -> None:
        self.line(msg)

    def on_event(self, event: Any) -> None:
        """A ddr.eval.events event (imported here: the commands that draw no bar do not load them)."""
        from ddr.eval.events import Counted, TrainingStarted

        if not self.tty:
            if event.text is not None:
                self.line(event.text)
            return
        if isinstance(event, TrainingStarted):
            self._ensure(event.total).set_postfix_str(
                f"training {event.role} round {event.round} lr {event.lr:g}"[:60], refresh=True)
        elif isinstance(event, Counted):
            bar = self._ensure(event.total)
            bar.set_postfix_str(event.summary.strip()[:60], refresh=False)
            bar.update(event.n - bar.n)
        else:
            self.line(event.text)


class GridProgress(_Bar):
    """`progress=` for the grid runner: cells done / total, from the grid's events (ddr.grid.events); cell
    events and the pool's size stay as lines above the bar, a cell's trainings and the pooled trainings
    show beside it."""

    unit = "cell"

    def __call__(self, msg: str) -> None:
        self.line(msg)

    def on_event(self, event: Any) -> None:
        """A ddr.grid.events event, or a cell's ddr.eval.events event inside a CellEvent."""
        from ddr.eval.events import Counted, TrainingStarted
        from ddr.grid.events import CellEvent, GridStarted, PoolTrained, Settled

        if not self.tty:
            if event.text is not None:
                self.line(event.text)
            return
        if isinstance(event, GridStarted):
            self.line(event.text)
            self._ensure(event.cells).update(event.before)
        elif isinstance(event, Settled):
            self.line(event.text)
            if self.bar is not None:
                self.bar.update(1)
        elif isinstance(event, PoolTrained) or (isinstance(event, CellEvent)
                                                and isinstance(event.event, (TrainingStarted, Counted))):
            if self.bar is not None and event.text is not None:
                self.bar.set_postfix_str(event.text[:60])
        elif event.text is not None:
            self.line(event.text)
