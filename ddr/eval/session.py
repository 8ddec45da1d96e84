"""One evaluation's shared machinery: derived seeds, the training cache, MLflow children, progress."""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import torch

from ddr.data.digest import tensor_sha256
from ddr.data.distilled import DistilledSet
from ddr.data.random_baseline import random_baseline
from ddr.data.real import RealData
from ddr.protocols import Protocol, TrainRecipe
from ddr.seeds import derive_seed
from ddr.tracking import Tracker
from ddr.train.cache import TrainingCache, training_key
from ddr.train.engine import train_student

Progress = Callable[[str], None]


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class EvalSession:
    def __init__(self, *, protocol: Protocol, data: RealData, ipc: int, device: torch.device,
                 cache: TrainingCache, tracker: Tracker | None, progress: Progress | None, total: int,
                 random_sets: dict[int, DistilledSet] | None = None):
        self.protocol, self.data, self.ipc, self.device = protocol, data, ipc, device
        self.cache, self.tracker = cache, tracker
        self.progress = progress or (lambda msg: None)
        self.trainings: list[dict[str, Any]] = []
        self.total = total
        self.random_sets = random_sets or {}
        self.x_test = data.x_test.to(device)
        self.y_test = data.y_test.to(device)

    def seed(self, role: str, round: int, lr: float) -> int:
        return derive_seed(protocol=self.protocol.ref, dataset=self.data.name, ipc=self.ipc, role=role,
                           round=round, lr=lr)

    def train(self, *, role: str, round: int, lr: float, x: torch.Tensor, y: torch.Tensor,
              recipe: TrainRecipe, seed: int | None = None, set_digest: str | None = None) -> dict[str, Any]:
        """Train (or fetch from the cache) one student and record it."""
        seed = self.seed(role, round, lr) if seed is None else seed
        spec = {
            "train_data": set_digest or tensor_sha256(x, y), "test_data": self.data.digest,
            "model": self.protocol.model, "model_args": self.protocol.model_args, "recipe": recipe.as_dict(),
            "lr": lr, "seed": seed, "device": self.device.type,
        }
        key = training_key(spec)
        record = self.cache.get(key)
        cached = record is not None
        if record is None:
            res = train_student(model=self.protocol.model, model_args=self.protocol.model_args, x=x, y=y,
                                x_test=self.x_test, y_test=self.y_test, num_classes=self.data.num_classes,
                                recipe=recipe, lr=lr, seed=seed, device=self.device)
            record = {"best_acc": res.best_acc, "best_epoch": res.best_epoch,
                      "history": [list(h) for h in res.history], "seconds": res.seconds,
                      "finished_at": utc_now()}
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

    def random_baseline(self, round: int) -> tuple[DistilledSet, dict[str, Any]]:
        """Round r's random subset: seed seed_base + r, from a versioned folder when one was given."""
        seed = self.protocol.seed_base + round
        ds = self.random_sets.get(seed)
        info: dict[str, Any] = {"round": round, "seed": seed}
        if ds is not None and ds.path is not None:
            info["path"], info["md5"] = str(ds.path), ds.digest()
        else:
            ds = random_baseline(self.data, self.ipc, seed)
        info["indices_sha256"] = hashlib.sha256(json.dumps(ds.indices).encode()).hexdigest()
        return ds, info

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
