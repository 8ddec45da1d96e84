"""A parallel grid's pool of trainings: every unfinished cell's trainings in one queue, deduplicated by cache
key, longest first, so that no worker idles while another runs a long cell's last trainings and no two
workers train the same training at once.

Each cell's plan task (ddr.grid.worker.plan_task) names the trainings it can pool (key known, not cached)
with their expected cost (ddr.grid.cost.training_cost). A key is trained once, by one training task, for
every cell that plans it; a cell's own evaluation is dispatched as soon as none of its pooled keys is still
to train, and finds them in the shared training cache. The pool only decides when a training runs, never
what it computes: a pooled training is the executor's own code (ddr.eval.executor.Executor.fill), and a
training whose task failed is left to the cells' own evaluations, which train what the cache lacks.
Pure bookkeeping: no torch, no I/O.
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
    _heap: list[tuple[float, int, int, str]] = field(default_factory=list)

    def add(self, cell: str, order: int, plan: dict[str, Any]) -> bool:
        """A cell's plan task's result (`order`: the cell's place in the dispatch order, which breaks cost
        ties so that one cell's trainings stay together); True when the cell waits for nothing."""
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
                heapq.heappush(self._heap, (-pooled.cost, order, pooled.index, key))
            pooled.waiting.add(cell)
        if keys:
            self.pending[cell] = keys
        return not keys

    def next(self) -> Pooled | None:
        """The longest training not yet dispatched (None: none left)."""
        if not self._heap:
            return None
        return self.trainings[heapq.heappop(self._heap)[3]]

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
        return len(self._heap)

    @property
    def unique(self) -> int:
        return len(self.trainings)


__all__ = ["Pooled", "TrainingPool"]
