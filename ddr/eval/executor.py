"""Walks a plan: for each TrainingSpec, the cache, else the batched engine's prefetch, else one training;
then its record, its MLflow child run and its progress event. When an LR search's last training is in,
the group's best under the protocol's selection is what the metric modules score.
"""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch

from ddr.augment import build_augmentation
from ddr.eval.engines import EngineChoice
from ddr.eval.events import (BatchStarted, CachedReference, CacheHit, CheckpointTested, Listener, TrainingFinished,
                             TrainingStarted, listener)
from ddr.eval.finished import Finished
from ddr.eval.plan import UNTRAINED, PlanInputs, TrainingSpec, cache_inputs
from ddr.eval.predictions import encode as encode_predictions
from ddr.eval.selection import choose_lr
from ddr.eval.training_sets import TrainingSet, TrainingSets
from ddr.kernel.clock import utc_now
from ddr.losses import build_loss
from ddr.protocols import Protocol
from ddr.tracking import Tracker
from ddr.train.cache import TrainingCache, training_key
from ddr.train.engine import TrainingResult, train_student

Trainer = Callable[..., TrainingResult]  # train_student's keyword arguments in, its TrainingResult out


def training_record(res: TrainingResult, tag: str) -> dict[str, Any]:
    """A finished training as the cache stores it."""
    record = {"best_acc": res.best_acc, "best_epoch": res.best_epoch,
              "history": [list(h) for h in res.history], "seconds": res.seconds, "finished_at": utc_now()}
    if tag != "plain":
        record["engine"] = tag
    if res.val_history is not None:
        record["val_history"] = [list(h) for h in res.val_history]
    if res.predictions:
        record["predictions"] = {str(e): encode_predictions(p) for e, p in sorted(res.predictions.items())}
    return record


class Executor:
    """`on_round(r, finished)`: called once round r's last training is in (live per-round scores)."""

    def __init__(self, *, protocol: Protocol, sets: TrainingSets, inputs: PlanInputs, cache: TrainingCache,
                 tracker: Tracker | None = None, progress: Any = None, engine: str = "plain",
                 trainer: Trainer = train_student, real_checkpoint: tuple[torch.nn.Module, dict[str, str]] | None = None,
                 on_round: Callable[[int, Finished], None] | None = None):
        self.protocol, self.sets, self.inputs, self.cache, self.tracker = protocol, sets, inputs, cache, tracker
        self.emit: Listener = listener(progress)
        self.engine = EngineChoice.parse(engine)
        self.trainer, self.real_checkpoint, self.on_round = trainer, real_checkpoint, on_round
        self._fresh: dict[str, dict[str, Any]] = {}  # key -> record trained by prefetch, not yet recorded
        self._prefetched: set[str] = set()
        self.finished = Finished()
        self.total = 0

    # --- keys -------------------------------------------------------------------------------------
    def keyed(self, spec: TrainingSpec, ts: TrainingSet | None = None) -> TrainingSpec:
        """`spec` with its cache-key inputs, its training set `ts` (and teachers) built where needed."""
        ts = ts or self.sets.get(spec)
        if spec.labels == "teacher":
            self.sets.teachers()
        inputs = replace(self.inputs, teachers=self.sets.teacher_digests())
        return replace(spec, key_inputs=cache_inputs(self.protocol, inputs, recipe=spec.recipe, lr=spec.lr,
                                                     seed=spec.seed, train_data=ts.digest,
                                                     teachers=spec.labels == "teacher"))

    @staticmethod
    def key(spec: TrainingSpec, tag: str) -> str:
        inputs = spec.cache_inputs(tag)
        assert inputs is not None
        return training_key(inputs)

    def lookup_keys(self, spec: TrainingSpec) -> list[str]:
        """The keys that may serve a keyed spec, in order; the first is the one a new training is stored under
        unless the evaluation's engine trains it alone (then: `key(spec, single_tag)`)."""
        tags = (spec.engine,) if spec.engine.startswith("ddp") else self.engine.lookup_tags()
        return [self.key(spec, tag) for tag in tags]

    def cached(self, spec: TrainingSpec) -> bool | None:
        """Whether the cache holds a keyed spec's training; None while its key is not known."""
        if spec.engine in UNTRAINED:
            return False  # a given network is tested each time, a constant read: nothing is cached
        if spec.key_inputs is None:
            return None
        return any(self.cache.get(k) is not None for k in self.lookup_keys(spec))

    def planned_key(self, spec: TrainingSpec) -> str | None:
        """The key a keyed spec's record has: the cache entry that holds it, else the one it will be stored
        under (the batched engine's for a batchable training under it); None while its key is not known."""
        if spec.key_inputs is None or spec.engine in UNTRAINED:
            return None
        keys = self.lookup_keys(spec)
        held = [k for k in keys if self.cache.get(k) is not None]
        return held[0] if held else (keys[0] if self.engine.batched and spec.batchable else keys[-1])

    def _lookup(self, spec: TrainingSpec) -> tuple[str, dict[str, Any] | None, bool]:
        """(key, record or None, cached): a prefetched record first, then the cache."""
        if spec.engine.startswith("ddp"):
            key = self.lookup_keys(spec)[0]
            record = self.cache.get(key)
            return key, record, record is not None
        for key in self.lookup_keys(spec):
            if key in self._fresh:
                return key, self._fresh.pop(key), False
            record = self.cache.get(key)
            if record is not None:
                return key, record, True
        return self.key(spec, self.engine.single_tag), None, False

    # --- the walk ---------------------------------------------------------------------------------
    def run(self, specs: list[TrainingSpec]) -> Finished:
        self.total = len(specs)
        group_size = Counter(s.group for s in specs)
        last_of_round = {s.round: i for i, s in enumerate(specs)}
        groups: dict[str, list[dict[str, Any]]] = {}
        for i, spec in enumerate(specs):
            if self.engine.batched and spec.batchable and spec.batch_group not in self._prefetched:
                self._prefetched.add(spec.batch_group)
                self.prefetch([s for s in specs if s.batchable and s.batch_group == spec.batch_group])
            members = groups.setdefault(spec.group, [])
            members.append(self.train(spec))
            if len(members) == group_size[spec.group]:
                self._select(spec, members)
            if self.on_round is not None and last_of_round[spec.round] == i:
                self.on_round(spec.round, self.finished)
        return self.finished

    def _select(self, spec: TrainingSpec, records: list[dict[str, Any]]) -> None:
        """The group's best under the protocol's selection (strictly greater wins: ties keep the smaller
        LR). Under 'val'/'last' the reported copy's best_acc is the test accuracy at the selected point."""
        if spec.engine in UNTRAINED:  # a given network's test accuracy or a constant: nothing to select
            self.finished.reported[spec.group] = records[0]
            return
        best, point = choose_lr(records, self.protocol.selection)
        best["selected"] = True
        if self.protocol.selection == "test":
            self.finished.reported[spec.group] = best
            return
        best["selected_point"] = point
        test_max = max(r["best_acc"] for r in records)
        self.finished.selection_log.append({"role": best["role"], "round": best["round"], "lr": best["lr"],
                                            "test_max": test_max, "reported": point["test_acc"],
                                            "gap": test_max - point["test_acc"]})
        self.finished.reported[spec.group] = {**best, "best_acc": point["test_acc"], "best_epoch": point["epoch"]}

    def prefetch(self, specs: list[TrainingSpec]) -> None:
        """Batched engine: train every spec not yet cached, all students of one recipe and set size at once;
        train() then finds them."""
        from ddr.train.batched import train_students_batched

        by_shape: dict[Any, list[tuple[TrainingSpec, str]]] = {}
        for spec in specs:
            spec = self.keyed(spec)
            if self.cached(spec):
                continue
            key = self.key(spec, self.engine.batched_tag)
            if key in self._fresh:
                continue
            shape = tuple(self.sets.get(spec).x.shape)
            by_shape.setdefault((json.dumps(spec.recipe.as_dict(), sort_keys=True, default=str), shape),
                                []).append((spec, key))
        data = self.sets.data
        for members in by_shape.values():
            self.emit(BatchStarted(len(members), self.engine.batched_tag))
            sets = [self.sets.get(s) for s, _ in members]
            results = train_students_batched(
                model=self.protocol.model, model_args=self.protocol.model_args,
                x=[t.x for t in sets], y=[t.y for t in sets], x_test=self.sets.x_test, y_test=self.sets.y_test,
                num_classes=data.num_classes, recipe=members[0][0].recipe, lrs=[s.lr for s, _ in members],
                seeds=[s.seed for s, _ in members], device=self.sets.device, **self.engine.options())
            for (_, key), res in zip(members, results):
                record = training_record(res, self.engine.batched_tag)
                self.cache.put(key, record)
                self._fresh[key] = record

    def train(self, spec: TrainingSpec) -> dict[str, Any]:
        """Train (or fetch from the cache, or from prefetch) one student and record it."""
        if spec.engine == "checkpoint":
            return self._checkpoint()
        if spec.engine == "constant":
            return self._constant()
        ts = self.sets.get(spec)
        spec = self.keyed(spec, ts)
        key, record, cached = self._lookup(spec)
        n = len(self.finished.trainings) + 1
        if record is None:
            self.emit(TrainingStarted(n, self.total, spec.role, spec.round, spec.lr))
            record = self._run(spec, key, ts)
        record = {"role": spec.role, "round": spec.round, "lr": spec.lr, "seed": spec.seed, **record, "key": key,
                  "cached": cached, "selected": False}
        if ts.originals:
            record["originals"] = True
        if "predictions" in record:  # kept beside the record: result.json carries only their bundle's sha256
            self.finished.predictions[key] = record.pop("predictions")
        if self.tracker is not None:
            record["mlflow_run_id"] = self.tracker.log_training(
                record, {"ddr.role": spec.role, "ddr.round": spec.round, "ddr.cached": cached})
        self.finished.trainings.append(record)
        if cached:
            self.emit(CacheHit(n, self.total, spec.role, spec.round, spec.lr, record["best_acc"]))
        else:
            self.emit(TrainingFinished(n, self.total, spec.role, spec.round, spec.lr, record["best_acc"],
                                       record["seconds"]))
        return record

    def fill(self, spec: TrainingSpec) -> tuple[str, dict[str, Any]] | None:
        """Train one keyed spec into the cache unless the cache holds it (a grid's pooled training: the
        cell's evaluation then finds it); nothing is recorded or logged. Returns (the key it was stored
        under, its record), None when it was held. `train`'s own code, so the numbers are the same."""
        ts = self.sets.get(spec)
        spec = self.keyed(spec, ts)
        key, record, _ = self._lookup(spec)
        if record is not None:
            return None
        return key, self._run(spec, key, ts)

    def _run(self, spec: TrainingSpec, key: str, ts: TrainingSet) -> dict[str, Any]:
        data, p = self.sets.data, self.protocol
        if spec.engine.startswith("ddp"):
            from ddr.train.ddp import run_ddp

            out = run_ddp(dict(model=p.model, model_args=p.model_args, x=ts.x, y=ts.y, x_test=data.x_test,
                               y_test=data.y_test, num_classes=data.num_classes, recipe=spec.recipe, lr=spec.lr,
                               seed=spec.seed), nproc=int(spec.engine[3:]))
            record = {**{k: out[k] for k in ("best_acc", "best_epoch", "history", "seconds", "world_size")},
                      "finished_at": utc_now(), "engine": spec.engine}
            self.cache.put(key, record)
            return record
        recipe, validation = spec.recipe, self.sets.validation
        teacher = self.sets.teachers()[0] if spec.labels == "teacher" else None
        res = self.trainer(
            model=p.model, model_args=p.model_args, x=ts.x, y=ts.y, x_test=self.sets.x_test, y_test=self.sets.y_test,
            num_classes=data.num_classes, recipe=recipe, lr=spec.lr, seed=spec.seed, device=self.sets.device,
            soft_targets=ts.soft_targets,
            augment=build_augmentation(ts.x.batch_spec if ts.originals else recipe.augmentation),
            teacher=teacher, loss_fn=None if recipe.loss == "ce" else build_loss(recipe.loss, **recipe.loss_args),
            **self.engine.options(),
            x_val=validation.x if validation is not None else None,
            y_val=validation.y if validation is not None else None)
        record = training_record(res, self.engine.single_tag)
        self.cache.put(key, record)
        return record

    def _checkpoint(self) -> dict[str, Any]:
        """Acc(real) as a given network's test accuracy (nothing is trained)."""
        from ddr.eval.reference import checkpoint_reference

        assert self.real_checkpoint is not None
        rec = {**checkpoint_reference(*self.real_checkpoint, self.sets.x_test, self.sets.y_test, self.sets.device),
               "selected": True}
        self._record_real(rec)
        self.emit(CheckpointTested(len(self.finished.trainings), self.total, rec["best_acc"]))
        return rec

    def _constant(self) -> dict[str, Any]:
        """Acc(real) as DD-Ranking 0.2.0's cached constant (the ddranking-0.2 edition; nothing is run)."""
        from ddr.eval.reference import constant_reference

        rec = {**constant_reference(self.protocol), "selected": True}
        self._record_real(rec)
        self.emit(CachedReference(len(self.finished.trainings), self.total, rec["best_acc"],
                                  rec["constant"]["key"]))
        return rec

    def _record_real(self, rec: dict[str, Any]) -> None:
        if self.tracker is not None:
            rec["mlflow_run_id"] = self.tracker.log_training(rec, {"ddr.role": "real", "ddr.round": 0,
                                                                   "ddr.cached": False})
        self.finished.trainings.append(rec)


__all__ = ["Executor", "Finished", "Trainer", "training_record"]
