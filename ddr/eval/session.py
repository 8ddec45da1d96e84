"""One evaluation's shared machinery: derived seeds, the training cache, MLflow children, progress."""
from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import torch

from ddr.data.digest import tensor_sha256
from ddr.data.real import RealData
from ddr.errors import DDRError
from ddr.protocols import Protocol, TrainRecipe
from ddr.seeds import derive_seed
from ddr.tracking import Tracker
from ddr.train.cache import TrainingCache, training_key
from ddr.train.engine import train_student

Progress = Callable[[str], None]
ENGINES = ("plain", "batched")
ENGINE_FLAGS = ("bf16", "cl", "compile")  # bf16 autocast, channels_last, torch.compile


def parse_engine(engine: str) -> tuple[str, tuple[str, ...]]:
    """'plain' | 'batched', optionally with '+flag's: 'batched+bf16+cl'. Returns (base, sorted flags)."""
    base, *flags = (engine or "plain").split("+")
    if base not in ENGINES:
        raise DDRError(f"unknown engine '{engine}'; valid: {', '.join(ENGINES)} (optionally +{'+'.join(ENGINE_FLAGS)})")
    bad = [f for f in flags if f not in ENGINE_FLAGS]
    if bad:
        raise DDRError(f"engine '{engine}': unknown option '{bad[0]}'; valid: {', '.join(ENGINE_FLAGS)}")
    return base, tuple(sorted(set(flags)))


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class EvalSession:
    def __init__(self, *, protocol: Protocol, data: RealData, ipc: int, device: torch.device,
                 cache: TrainingCache, tracker: Tracker | None, progress: Progress | None, total: int,
                 engine: str = "plain"):
        self.protocol, self.data, self.ipc, self.device = protocol, data, ipc, device
        # The engine: 'plain' trains one student after another (the reference numbers); 'batched'
        # trains every student of one recipe and set size together (prefetch), within a stated
        # tolerance of plain (benchmarks/RESULTS.md). A training's cache key names the engine that
        # produced it unless that is the plain engine without options.
        base, flags = parse_engine(engine)
        self.batched = base == "batched"
        self.flags = flags
        self.single_tag = "+".join(("plain", *flags))  # how one student alone is trained
        self.batched_tag = "+".join(("batched", *flags))
        self._fresh: dict[str, dict[str, Any]] = {}  # key -> record trained by prefetch, not yet recorded
        self.cache, self.tracker = cache, tracker
        self.progress = progress or (lambda msg: None)
        self.trainings: list[dict[str, Any]] = []
        self.total = total
        self.x_test = data.x_test.to(device)
        self.y_test = data.y_test.to(device)

    def seed(self, role: str, round: int, lr: float) -> int:
        return derive_seed(protocol=self.protocol.ref, dataset=self.data.name, ipc=self.ipc, role=role,
                           round=round, lr=lr)

    def _key(self, spec: dict[str, Any], tag: str) -> str:
        return training_key(spec if tag == "plain" else {**spec, "engine_name": tag})

    def _spec(self, x, y, recipe: TrainRecipe, lr: float, seed: int, set_digest: str | None) -> dict[str, Any]:
        return {
            "train_data": set_digest or tensor_sha256(x, y), "test_data": self.data.digest,
            "model": self.protocol.model, "model_args": self.protocol.model_args, "recipe": recipe.as_dict(),
            "lr": lr, "seed": seed, "device": self.device.type,
        }

    def _lookup(self, spec: dict[str, Any]) -> tuple[str, dict[str, Any] | None, bool]:
        """(key, record or None, cached): a prefetched record first, then the cache; under the batched
        engine a batched result, then one trained alone."""
        tags = (self.batched_tag, self.single_tag) if self.batched else (self.single_tag,)
        for tag in tags:
            key = self._key(spec, tag)
            if key in self._fresh:
                return key, self._fresh.pop(key), False
            record = self.cache.get(key)
            if record is not None:
                return key, record, True
        return self._key(spec, self.single_tag), None, False

    @staticmethod
    def _record(res, tag: str) -> dict[str, Any]:
        record = {"best_acc": res.best_acc, "best_epoch": res.best_epoch,
                  "history": [list(h) for h in res.history], "seconds": res.seconds, "finished_at": utc_now()}
        if tag != "plain":
            record["engine"] = tag
        return record

    def prefetch(self, jobs: list[dict[str, Any]]) -> None:
        """Batched engine: train every job not yet cached, all students of one recipe and set size at
        once. A job is train()'s keyword arguments (role, round, lr, x, y, recipe, set_digest); train()
        with the same arguments then records the result. A no-op under the plain engine."""
        if not self.batched:
            return
        from ddr.train.batched import train_students_batched

        groups: dict[Any, list[tuple[dict[str, Any], int, str]]] = {}
        for job in jobs:
            seed = self.seed(job["role"], job["round"], job["lr"]) if job.get("seed") is None else job["seed"]
            spec = self._spec(job["x"], job["y"], job["recipe"], job["lr"], seed, job.get("set_digest"))
            if any(self.cache.get(self._key(spec, t)) is not None for t in (self.batched_tag, self.single_tag)):
                continue
            key = self._key(spec, self.batched_tag)
            if key in self._fresh:
                continue
            groups.setdefault((job["recipe"], tuple(job["x"].shape)), []).append((job, seed, key))
        for (recipe, _), members in groups.items():
            self.progress(f"training {len(members)} students at once (engine {self.batched_tag})")
            results = train_students_batched(
                model=self.protocol.model, model_args=self.protocol.model_args,
                x=[j["x"] for j, _, _ in members], y=[j["y"] for j, _, _ in members], x_test=self.x_test,
                y_test=self.y_test, num_classes=self.data.num_classes, recipe=recipe,
                lrs=[j["lr"] for j, _, _ in members], seeds=[s for _, s, _ in members], device=self.device,
                amp="bf16" in self.flags, channels_last="cl" in self.flags, compile="compile" in self.flags)
            for (_, _, key), res in zip(members, results):
                record = self._record(res, self.batched_tag)
                self.cache.put(key, record)
                self._fresh[key] = record

    def train(self, *, role: str, round: int, lr: float, x: torch.Tensor, y: torch.Tensor,
              recipe: TrainRecipe, seed: int | None = None, set_digest: str | None = None) -> dict[str, Any]:
        """Train (or fetch from the cache, or from prefetch) one student and record it."""
        seed = self.seed(role, round, lr) if seed is None else seed
        spec = self._spec(x, y, recipe, lr, seed, set_digest)
        key, record, cached = self._lookup(spec)
        if record is None:
            res = train_student(model=self.protocol.model, model_args=self.protocol.model_args, x=x, y=y,
                                x_test=self.x_test, y_test=self.y_test, num_classes=self.data.num_classes,
                                recipe=recipe, lr=lr, seed=seed, device=self.device, amp="bf16" in self.flags,
                                channels_last="cl" in self.flags, compile="compile" in self.flags)
            record = self._record(res, self.single_tag)
            self.cache.put(key, record)
        record = {"role": role, "round": round, "lr": lr, "seed": seed, **record, "key": key,
                  "cached": cached, "selected": False}
        if self.tracker is not None:
            record["mlflow_run_id"] = self.tracker.log_training(
                record, {"ddr.role": role, "ddr.round": round, "ddr.cached": cached})
        self.trainings.append(record)
        n = len(self.trainings)
        note = "cached" if cached else f"{record['seconds']:.1f}s"
        self.progress(f"[{n}/{self.total}] {role:<8} round {round} lr {lr:<6g} acc {record['best_acc']:.4f} ({note})")
        return record

    def search(self, *, role: str, round: int, lrs: tuple[float, ...], x: torch.Tensor, y: torch.Tensor,
               recipe: TrainRecipe) -> dict[str, Any]:
        """Train at every LR and keep the best (strictly greater wins: ties keep the smaller LR)."""
        digest = tensor_sha256(x, y)
        best: dict[str, Any] | None = None
        for lr in sorted(lrs):
            rec = self.train(role=role, round=round, lr=lr, x=x, y=y, recipe=recipe, set_digest=digest)
            if best is None or rec["best_acc"] > best["best_acc"]:
                best = rec
        assert best is not None
        best["selected"] = True
        return best

    def real_reference(self) -> dict[str, Any]:
        """Acc(real, hard): trained once per (data set, model, real recipe), then served from the cache.
        Its seed ignores ipc and protocol name on purpose, so every evaluation shares it."""
        recipe = self.protocol.real
        seed = derive_seed(dataset=self.data.name, role="real", model=self.protocol.model,
                           model_args=self.protocol.model_args, recipe=recipe.as_dict())
        rec = self.train(role="real", round=0, lr=float(recipe.lr), x=self.data.x_train.to(self.device),
                         y=self.data.y_train.to(self.device), recipe=recipe, seed=seed,
                         set_digest=self.data.digest)
        rec["selected"] = True
        return rec


def timer() -> Callable[[], float]:
    t0 = time.perf_counter()
    return lambda: time.perf_counter() - t0
