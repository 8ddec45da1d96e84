"""One evaluation's run-time parts put together: its training sets (ddr.eval.training_sets), its plan
(ddr.eval.plan, pure) with the inputs only the tensors know, and the executor that walks it."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from ddr.data.distilled import DistilledSet
from ddr.data.real_data import RealData
from ddr.eval.engines import engine_name, parse_engine
from ddr.eval.events import Note, listener
from ddr.eval.executor import Executor, Trainer
from ddr.eval.finished import Finished
from ddr.eval.plan import PlanInputs, TrainingSpec, complete, plan, training_seed
from ddr.eval.selection import ValidationSplit
from ddr.eval.training_sets import Teachers, TrainingSets
from ddr.protocols import Protocol, TrainRecipe
from ddr.tracking import Tracker
from ddr.train.cache import TrainingCache
from ddr.train.engine import train_student

Progress = Callable[[str], None]  # or an object with on_event(event): ddr.eval.events


class EvalSession:
    """`teachers`: the soft-label teachers already loaded (else provided on first use, from `teacher_paths`
    or trained and cached). `trainer`: trains one student alone (default train_student; a benchmark passes
    a reference loop with the same signature). `validation`: the split carved off the training set under
    selection 'val'. `total` is accepted from older callers and unused: the count is len(plan)."""

    def __init__(self, *, protocol: Protocol, data: RealData, ipc: int, device: torch.device,
                 cache: TrainingCache, tracker: Tracker | None, progress: Any = None, total: int = 0,
                 random_sets: dict[int, DistilledSet] | None = None, teacher_paths: list[str] | None = None,
                 zca=None, raw_data: RealData | None = None, engine: str = "plain",
                 real_checkpoint: tuple[torch.nn.Module, dict[str, str]] | None = None,
                 teachers: Teachers | None = None, trainer: Trainer = train_student,
                 validation: ValidationSplit | None = None):
        parse_engine(engine)
        self.protocol, self.data, self.ipc, self.device = protocol, data, ipc, device
        self.cache, self.tracker, self.progress, self.engine = cache, tracker, progress, engine
        self.trainer, self.real_checkpoint, self.validation = trainer, real_checkpoint, validation
        self._inputs: PlanInputs | None = None  # set by plan()
        emit = listener(progress)
        self.sets = TrainingSets(protocol=protocol, data=data, ipc=ipc, device=device, raw_data=raw_data, zca=zca,
                                 random_sets=random_sets, teachers=teachers, teacher_paths=teacher_paths,
                                 cache_root=cache.root, validation=validation, note=lambda line: emit(Note(line)))

    def seed(self, role: str, round: int, lr: float, recipe: TrainRecipe | None = None) -> int:
        return training_seed(self.protocol, self.data.name, self.ipc, role, round, lr, recipe)

    def inputs(self, ds: DistilledSet, rounds: int) -> PlanInputs:
        """The plan's inputs that only the data know (training-set digests come later: `keyed`)."""
        ddp = 0
        if self.protocol.ddp:
            from ddr.train.ddp import ddp_processes

            ddp = ddp_processes()
        return PlanInputs(dataset=self.data.name, ipc=self.ipc, rounds=rounds, set_lr=ds.lr, device=self.device.type,
                          data=self.data.digest, val_data=self.validation.digest if self.validation else None,
                          teachers=self.sets.teacher_digests(), ddp=ddp, real_checkpoint=self.real_checkpoint is not None)

    def plan(self, kind: str, ds: DistilledSet, rounds: int) -> list[TrainingSpec]:
        """The evaluation's trainings of `ds` (which the session then trains on)."""
        self.sets.distilled = ds
        self._inputs = self.inputs(ds, rounds)
        return plan(kind, self.protocol, self._inputs)

    def keyed(self, specs: list[TrainingSpec]) -> list[TrainingSpec]:
        """`specs` with the cache keys of every training whose set is known without teachers that are not
        loaded yet (a --plan shows them; it trains nothing, teachers included)."""
        assert self._inputs is not None, "plan() first"
        digests: dict[str, str] = {}
        for s in specs:
            if s.data == "real" or s.data_id in digests:  # the real set's digest is the data's
                continue
            if self.sets.teacher_digests() is None and self.sets.needs_teachers(s):
                continue
            digests[s.data_id] = self.sets.get(s).digest
        inputs = replace(self._inputs, digests=digests)
        return [complete(s, self.protocol, inputs) for s in specs]

    def executor(self, on_round: Callable[[int, Finished], None] | None = None) -> Executor:
        """Walks the plan `plan` made."""
        assert self._inputs is not None, "plan() first"
        return Executor(protocol=self.protocol, sets=self.sets, inputs=self._inputs, cache=self.cache,
                        tracker=self.tracker, progress=self.progress, engine=self.engine, trainer=self.trainer,
                        real_checkpoint=self.real_checkpoint, on_round=on_round)

    def run(self, specs: list[TrainingSpec], on_round: Callable[[int, Finished], None] | None = None) -> Finished:
        return self.executor(on_round).run(specs)


__all__ = ["EvalSession", "Progress", "Teachers", "Trainer", "engine_name", "parse_engine"]
