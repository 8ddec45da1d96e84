"""Progress on stderr: a bar (done/total, rate, ETA) when stderr is a terminal, one line per event
otherwise (logs, CI, `dvc repro` piped to a file keep the full record).

The evaluation reports typed events (ddr.eval.events: a training started, finished or found in the
cache, n of total) and the grid reports its cells ("N cells, D finished before", "finished in",
"failed"); the bars count those, so the evaluation and grid code stay free of any terminal handling.
"""
from __future__ import annotations

import re
import sys
from typing import IO

from ddr.eval.events import COUNTED, Event, TrainingStarted

_TRAINING = re.compile(r"\[(\d+)/(\d+)\]")
_GRID_START = re.compile(r": (\d+) cells, (\d+) finished before")
_CELL_DONE = re.compile(r": (finished in|failed \(|adopted the finished)")


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

    def on_event(self, event: Event) -> None:
        if not self.tty:
            if event.text is not None:
                self.line(event.text)
            return
        if isinstance(event, TrainingStarted):
            self._ensure(event.total).set_postfix_str(
                f"training {event.role} round {event.round} lr {event.lr:g}"[:60], refresh=True)
        elif isinstance(event, COUNTED):
            bar = self._ensure(event.total)
            bar.set_postfix_str(event.summary.strip()[:60], refresh=False)
            bar.update(event.n - bar.n)
        else:
            self.line(event.text)


class GridProgress(_Bar):
    """`progress=` for the grid runner: cells done / total; cell events stay as lines above the bar."""

    unit = "cell"

    def __call__(self, msg: str) -> None:
        if not self.tty:
            self.line(msg)
            return
        start = _GRID_START.search(msg)
        if start:
            self.line(msg)
            self._ensure(int(start.group(1))).update(int(start.group(2)))
        elif _CELL_DONE.search(msg):
            self.line(msg)
            if self.bar is not None:
                self.bar.update(1)
        elif _TRAINING.search(msg) and self.bar is not None:
            self.bar.set_postfix_str(msg[:60])
        else:
            self.line(msg)
