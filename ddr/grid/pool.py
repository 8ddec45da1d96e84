"""A parallel grid's pool of trainings: every unfinished cell's trainings in one queue, deduplicated by cache
key, so that no two workers train the same training at once and no worker idles while another runs a long
cell's last trainings.

Each cell's plan task (ddr.grid.worker.plan_task) names the trainings it can pool (key known, not cached)
with their expected cost (ddr.grid.cost.training_cost). A key is trained once, by one training task, for
every cell that plans it. The queue takes the cells longest first (ddr.grid.cost.longest_first) and each
cell's trainings longest first, a shared training with the first cell that needs it: the workers share
each cell's trainings, the cells finish one after another as their trainings do (each one's evaluation is
dispatched as soon as none of its pooled trainings is left, and finds them in the shared training cache),
and the short cells' short trainings fill the end. Ordering trainings by cost alone across all cells was
tried: a training every cell shares (the real reference) then came last when it was not the longest, and
every evaluation waited for it at the end.

One training per task: a task costs about 10 ms beyond its training (its key, the cache write and the
round trip to a worker that holds the cell open; measured with tiny-lrs on digits and 2 local workers),
against 0.4 s for the main job's average training, so larger tasks would save little and could leave a
worker idle at the end. The plans are made on the workers rather than in the driver: a plan is 20-80 ms
(a cell's sets built and hashed), the workers make them in parallel and keep the cell open for its training
tasks, and every executor, a Ray cluster whose nodes hold the data included, runs them unchanged.

The pool only decides when a training runs, never what it computes: a pooled training is the executor's
own code (ddr.eval.executor.Executor.fill), and a training whose task failed is left to the cells' own
evaluations, which train what the cache lacks. Pure bookkeeping: no torch, no I/O.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Pooled:
    """One unique training: trained through `cell`'s plan index `index` for every cell in `waiting`."""

    key: str
    cost: float
    cell: str
    index: int
    role: str
    round: int
    lr: float
    waiting: set[str] = field(default_factory=set)


@dataclass
class TrainingPool:
    trainings: dict[str, Pooled] = field(default_factory=dict)  # key -> its training
    pending: dict[str, set[str]] = field(default_factory=dict)  # cell id -> keys it still waits for
    planned: int = 0  # trainings of the planned cells, in all
    cached: int = 0  # of which the cache held
    settled: set[str] = field(default_factory=set)  # keys trained (or failed) by a training task
    _heap: list[tuple[int, float, int, str]] = field(default_factory=list)  # (cell order, -cost, index, key)
    _order: dict[str, int] = field(default_factory=dict)  # key -> the order of its live heap entry
    _dispatched: set[str] = field(default_factory=set)

    def add(self, cell: str, order: int, plan: dict[str, Any]) -> bool:
        """A cell's plan task's result (`order`: the cell's place in the dispatch order, longest first);
        True when the cell waits for nothing."""
        self.planned += plan["total"]
        self.cached += plan["cached"]
        keys = set()
        for t in plan["pool"]:
            key = t["key"]
            if key in self.settled:
                continue  # trained meanwhile (or failed: the cell trains it itself)
            keys.add(key)
            pooled = self.trainings.get(key)
            if pooled is None:
                pooled = self.trainings[key] = Pooled(key, float(t["cost"]), cell, int(t["index"]), t["role"],
                                                      int(t["round"]), float(t["lr"]))
                self._push(order, pooled)
            elif order < self._order[key] and key not in self._dispatched:  # a longer cell needs it too:
                pooled.cell, pooled.index = cell, int(t["index"])  # trained with that cell's trainings
                self._push(order, pooled)
            pooled.waiting.add(cell)
        if keys:
            self.pending[cell] = keys
        return not keys

    def _push(self, order: int, pooled: Pooled) -> None:
        self._order[pooled.key] = order
        heapq.heappush(self._heap, (order, -pooled.cost, pooled.index, pooled.key))

    def next(self) -> Pooled | None:
        """The next training to dispatch (None: none left)."""
        while self._heap:
            order, _, _, key = heapq.heappop(self._heap)
            if key in self._dispatched or order != self._order[key]:
                continue  # an entry superseded by a longer cell's
            self._dispatched.add(key)
            return self.trainings[key]
        return None

    def settle(self, key: str) -> list[str]:
        """A training task is over (trained or failed): the cells that now wait for nothing."""
        self.settled.add(key)
        ready = []
        for cell in sorted(self.trainings[key].waiting):
            keys = self.pending.get(cell)
            if keys is None:
                continue
            keys.discard(key)
            if not keys:
                del self.pending[cell]
                ready.append(cell)
        return ready

    @property
    def queued(self) -> int:
        """Trainings not yet dispatched."""
        return len(self.trainings) - len(self._dispatched)

    @property
    def unique(self) -> int:
        return len(self.trainings)


__all__ = ["Pooled", "TrainingPool"]
