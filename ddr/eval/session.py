"""One evaluation's shared machinery: derived seeds, the training cache, teachers, MLflow children, progress."""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ddr.augment import build_augmentation
from ddr.data.distilled import DistilledSet
from ddr.data.originals import OriginalImages, original_images, training_digest
from ddr.data.random_baseline import random_baseline
from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.eval.identity import content_seed, shares_random_seed
from ddr.eval.predictions import encode as encode_predictions
from ddr.eval.selection import ValidationSplit, choose_lr, selected_point
from ddr.kernel.clock import utc_now
from ddr.kernel.digests import json_sha256
from ddr.losses import build_loss
from ddr.protocols import Protocol, TrainRecipe
from ddr.seeds import derive_seed
from ddr.tracking import Tracker
from ddr.train.cache import TrainingCache, training_key
from ddr.train.engine import TrainingResult, train_student

Progress = Callable[[str], None]
Trainer = Callable[..., TrainingResult]  # train_student's keyword arguments in, its TrainingResult out
Teachers = tuple[torch.nn.Module, list[dict[str, Any]]]  # (the ensemble, one record per teacher)
ENGINES = ("plain", "batched", "compiled")
ENGINE_FLAGS = ("bf16", "cl", "compile")  # bf16 autocast, channels_last, torch.compile


def parse_engine(engine: str) -> tuple[str, tuple[str, ...]]:
    """'plain' | 'batched' | 'compiled', optionally with '+flag's: 'batched+bf16+cl'. Returns (base, sorted
    flags). 'plain+compile' is another name for 'compiled' (ddr.train.compiled)."""
    base, *flags = (engine or "plain").split("+")
    if base not in ENGINES:
        raise DDRError(f"unknown engine '{engine}'; valid: {', '.join(ENGINES)} (optionally +{'+'.join(ENGINE_FLAGS)})")
    bad = [f for f in flags if f not in ENGINE_FLAGS]
    if bad:
        raise DDRError(f"engine '{engine}': unknown option '{bad[0]}'; valid: {', '.join(ENGINE_FLAGS)}")
    if base == "compiled" or (base == "plain" and "compile" in flags):
        return "compiled", tuple(sorted(set(flags) - {"compile"}))
    return base, tuple(sorted(set(flags)))


def engine_name(engine: str) -> str:
    """The canonical name of an engine ('plain+compile' -> 'compiled'), as caches and results record it."""
    base, flags = parse_engine(engine)
    return "+".join((base, *flags))


@dataclass(frozen=True)
class PrefetchJob:
    """One training the batched engine may train ahead: exactly the arguments search_labelled will pass
    to EvalSession.train() for it (hard labels, unaugmented, cross-entropy), so that train() finds it."""

    role: str
    round: int
    lr: float
    x: torch.Tensor
    y: torch.Tensor
    recipe: TrainRecipe
    set_digest: str | None = None
    seed: int | None = None  # None: the session derives it, as train() does


class EvalSession:
    """`teachers`: the soft-label teachers already loaded (else they are provided on first use, from
    `teacher_paths` or trained and cached). `trainer`: trains one student alone (default train_student;
    a benchmark passes a reference loop with the same signature). `validation`: the split carved off
    the training set under selection 'val' (ddr.eval.selection)."""

    def __init__(self, *, protocol: Protocol, data: RealData, ipc: int, device: torch.device,
                 cache: TrainingCache, tracker: Tracker | None, progress: Progress | None, total: int,
                 random_sets: dict[int, DistilledSet] | None = None, teacher_paths: list[str] | None = None,
                 zca=None, raw_data: RealData | None = None, engine: str = "plain",
                 real_checkpoint: tuple[torch.nn.Module, dict[str, str]] | None = None,
                 teachers: Teachers | None = None, trainer: Trainer = train_student,
                 validation: ValidationSplit | None = None):
        self.protocol, self.data, self.ipc, self.device = protocol, data, ipc, device
        self.trainer = trainer
        # The engine: 'plain' trains one student after another (the reference numbers);
        # 'batched' trains the hard-label, unaugmented students of one recipe and set size together
        # (prefetch), 'compiled' each student torch.compile'd (ddr.train.compiled), both within a stated
        # tolerance of plain (benchmarks/RESULTS.md). A training's cache key
        # names the engine that produced it unless that is the plain engine without options.
        base, flags = parse_engine(engine)
        self.batched = base == "batched"
        self.flags = (*flags, "compile") if base == "compiled" else flags
        self.single_tag = "+".join(("compiled" if base == "compiled" else "plain", *flags))  # one student alone
        self.batched_tag = "+".join(("batched", *flags))
        self._fresh: dict[str, dict[str, Any]] = {}  # key -> record trained by prefetch, not yet recorded
        self.cache, self.tracker = cache, tracker
        self.progress = progress or (lambda msg: None)
        self.trainings: list[dict[str, Any]] = []
        self.total = total
        self.random_sets = random_sets or {}
        self.teacher_paths = teacher_paths
        self.zca = zca  # a fitted ddr.augment.ZCA when the protocol whitens (`data` is then whitened)
        self.raw_data = raw_data or data  # the normalised data random baselines are drawn from
        self._teachers = teachers
        self.real_checkpoint = real_checkpoint  # (network, file info): Acc(real) is its test accuracy
        self.x_test = data.x_test.to(device)
        self.y_test = data.y_test.to(device)
        self.validation = validation
        self.selection_log: list[dict[str, Any]] = []  # per selected training: test maximum vs reported
        self.predictions: dict[str, dict[str, str]] = {}  # training key -> {epoch: encoded test predictions}

    # --- identities -------------------------------------------------------------------------------
    def seed(self, role: str, round: int, lr: float, recipe: TrainRecipe | None = None) -> int:
        if recipe is not None and shares_random_seed(self.protocol, role):
            return content_seed(self.protocol, self.data.name, self.ipc, round, lr, recipe)
        return derive_seed(protocol=self.protocol.ref, dataset=self.data.name, ipc=self.ipc, role=role,
                           round=round, lr=lr)

    def teachers(self) -> Teachers:
        if self._teachers is None:
            from ddr.eval.teacher_store import provide_teachers

            self.progress(f"teachers: {', '.join(t.model for t in self.protocol.soft.teachers)}")
            self._teachers = provide_teachers(self.protocol, self.data, self.device, self.cache.root,
                                              self.teacher_paths)
            warn_self_trained(self._teachers[1])
        return self._teachers

    def teacher_inputs(self) -> list[dict[str, Any]] | None:
        """The teachers' records for result.json, None when this evaluation used no teacher."""
        return self._teachers[1] if self._teachers is not None else None

    # --- trainings --------------------------------------------------------------------------------
    def _spec(self, x, y, recipe: TrainRecipe, lr: float, seed: int, set_digest: str | None,
              soft_targets: torch.Tensor | None = None, teacher_info=None) -> dict[str, Any]:
        return {
            "train_data": set_digest or training_digest(x, y, soft_targets), "test_data": self.data.digest,
            "model": self.protocol.model, "model_args": self.protocol.model_args, "recipe": recipe.as_dict(),
            "lr": lr, "seed": seed, "device": self.device.type,
            "teachers": [t["sha256"] for t in teacher_info] if teacher_info else None,
            **({"val_data": self.validation.digest} if self.validation is not None else {}),
        }

    @staticmethod
    def _key(spec: dict[str, Any], tag: str) -> str:
        return training_key(spec if tag == "plain" else {**spec, "engine_name": tag})

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
        if res.val_history is not None:
            record["val_history"] = [list(h) for h in res.val_history]
        if res.predictions:
            record["predictions"] = {str(e): encode_predictions(p) for e, p in sorted(res.predictions.items())}
        return record

    def prefetch(self, jobs: list[PrefetchJob]) -> None:
        """Batched engine: train every job not yet cached, all students of one recipe and set size at
        once; train() with the job's arguments then records the result. A no-op under the plain engine."""
        if not self.batched or self.validation is not None:  # the batched engine measures no validation split
            return
        from ddr.train.batched import train_students_batched

        groups: dict[Any, list[tuple[PrefetchJob, int, str]]] = {}
        for job in jobs:
            recipe = job.recipe
            if recipe.augmentation or recipe.loss != "ce":
                continue  # trained alone by train()
            seed = self.seed(job.role, job.round, job.lr, recipe) if job.seed is None else job.seed
            spec = self._spec(job.x, job.y, recipe, job.lr, seed, job.set_digest)
            if any(self.cache.get(self._key(spec, t)) is not None for t in (self.batched_tag, self.single_tag)):
                continue
            key = self._key(spec, self.batched_tag)
            if key in self._fresh:
                continue
            groups.setdefault((json.dumps(recipe.as_dict(), sort_keys=True, default=str), tuple(job.x.shape)),
                              []).append((job, seed, key))
        for members in groups.values():
            self.progress(f"training {len(members)} students at once (engine {self.batched_tag})")
            results = train_students_batched(
                model=self.protocol.model, model_args=self.protocol.model_args,
                x=[j.x for j, _, _ in members], y=[j.y for j, _, _ in members], x_test=self.x_test,
                y_test=self.y_test, num_classes=self.data.num_classes, recipe=members[0][0].recipe,
                lrs=[j.lr for j, _, _ in members], seeds=[s for _, s, _ in members], device=self.device,
                amp="bf16" in self.flags, channels_last="cl" in self.flags, compile="compile" in self.flags)
            for (_, _, key), res in zip(members, results):
                record = self._record(res, self.batched_tag)
                self.cache.put(key, record)
                self._fresh[key] = record

    def train(self, *, role: str, round: int, lr: float, x: torch.Tensor, y: torch.Tensor,
              recipe: TrainRecipe, seed: int | None = None, set_digest: str | None = None,
              soft_targets: torch.Tensor | None = None, teacher: bool = False, ddp: int = 0) -> dict[str, Any]:
        """Train (or fetch from the cache, or from prefetch) one student and record it. `ddp` > 1: a
        hard-label training data-parallel over that many processes (ddr.train.ddp), cached under its own name."""
        seed = self.seed(role, round, lr, recipe) if seed is None else seed
        teacher_net, teacher_info = self.teachers() if teacher else (None, None)
        spec = self._spec(x, y, recipe, lr, seed, set_digest, soft_targets, teacher_info)
        if ddp > 1:
            key = self._key(spec, f"ddp{ddp}")
            record = self.cache.get(key)
            cached = record is not None
        else:
            key, record, cached = self._lookup(spec)
        if record is None and ddp > 1:
            from ddr.train.ddp import run_ddp

            out = run_ddp(dict(model=self.protocol.model, model_args=self.protocol.model_args, x=x, y=y,
                               x_test=self.data.x_test, y_test=self.data.y_test, num_classes=self.data.num_classes,
                               recipe=recipe, lr=lr, seed=seed), nproc=ddp)
            record = {**{k: out[k] for k in ("best_acc", "best_epoch", "history", "seconds", "world_size")},
                      "finished_at": utc_now(), "engine": f"ddp{ddp}"}
            self.cache.put(key, record)
        elif record is None:
            res = self.trainer(
                model=self.protocol.model, model_args=self.protocol.model_args, x=x, y=y, x_test=self.x_test,
                y_test=self.y_test, num_classes=self.data.num_classes, recipe=recipe, lr=lr, seed=seed,
                device=self.device, soft_targets=soft_targets,
                augment=build_augmentation(x.batch_spec if isinstance(x, OriginalImages) else recipe.augmentation),
                teacher=teacher_net, loss_fn=None if recipe.loss == "ce" else build_loss(recipe.loss, **recipe.loss_args),
                amp="bf16" in self.flags, channels_last="cl" in self.flags, compile="compile" in self.flags,
                x_val=self.validation.x if self.validation is not None else None,
                y_val=self.validation.y if self.validation is not None else None)
            record = self._record(res, self.single_tag)
            self.cache.put(key, record)
        record = {"role": role, "round": round, "lr": lr, "seed": seed, **record, "key": key,
                  "cached": cached, "selected": False}
        if isinstance(x, OriginalImages):  # per-image transforms on the original files, not on the tensors
            record["originals"] = True
        if "predictions" in record:  # kept beside the record: result.json carries only their bundle's sha256
            self.predictions[key] = record.pop("predictions")
        if self.tracker is not None:
            record["mlflow_run_id"] = self.tracker.log_training(
                record, {"ddr.role": role, "ddr.round": round, "ddr.cached": cached})
        self.trainings.append(record)
        n = len(self.trainings)
        note = "cached" if cached else f"{record['seconds']:.1f}s"
        self.progress(f"[{n}/{self.total}] {role:<12} round {round} lr {lr:<6g} acc {record['best_acc']:.4f} ({note})")
        return record

    def search(self, *, role: str, round: int, lrs: tuple[float, ...], x: torch.Tensor, y: torch.Tensor,
               recipe: TrainRecipe, soft_targets: torch.Tensor | None = None, teacher: bool = False) -> dict[str, Any]:
        """Train at every LR and keep the best under the protocol's selection (strictly greater wins: ties keep
        the smaller LR). Under 'val'/'last' the returned copy's best_acc is the reported test accuracy."""
        digest = training_digest(x, y, soft_targets)
        records = [self.train(role=role, round=round, lr=lr, x=x, y=y, recipe=recipe, set_digest=digest,
                              soft_targets=soft_targets, teacher=teacher) for lr in sorted(lrs)]
        best, point = choose_lr(records, self.protocol.selection)
        best["selected"] = True
        return self._report(best, point, max(r["best_acc"] for r in records))

    def _report(self, rec: dict[str, Any], point: dict[str, Any], test_max: float) -> dict[str, Any]:
        if self.protocol.selection == "test":
            return rec
        rec["selected_point"] = point
        self.selection_log.append({"role": rec["role"], "round": rec["round"], "lr": rec["lr"], "test_max": test_max,
                                   "reported": point["test_acc"], "gap": test_max - point["test_acc"]})
        return {**rec, "best_acc": point["test_acc"], "best_epoch": point["epoch"]}

    def search_labelled(self, *, role: str, round: int, lrs: tuple[float, ...], ds: DistilledSet,
                        recipe: TrainRecipe, is_random: bool) -> dict[str, Any]:
        """Train under the protocol's label regime: hard labels, mode S (stored soft labels; a random
        set is labelled once by the teachers) or mode M (the teachers relabel every augmented batch).
        A random set of an image-folder data set trains from its original files where the recipe crops per
        image (ddr.data.originals); a whitened (ZCA) protocol keeps the tensors, the space it trains in."""
        x = ds.images.to(self.device)
        y = ds.hard_labels(self.data.num_classes).to(self.device)
        originals = original_images(self.raw_data, ds, recipe.augmentation) if is_random and self.zca is None else None
        train_x = x if originals is None else originals
        soft = self.protocol.soft
        if self.protocol.label == "hard" or recipe.loss == "ce":
            return self.search(role=role, round=round, lrs=lrs, x=train_x, y=y, recipe=recipe)
        if soft.mode == "M":
            return self.search(role=role, round=round, lrs=lrs, x=train_x, y=y, recipe=recipe, teacher=True)
        if is_random:
            net, _ = self.teachers()
            with torch.no_grad():
                targets = torch.cat([net(x[i:i + 1024]) for i in range(0, len(x), 1024)])
        else:
            if ds.labels is None or ds.labels.ndim != 2:
                raise DDRError("soft-label mode S needs the set's own soft labels (labels.pt of N x K)")
            targets = ds.labels.float().to(self.device)
        return self.search(role=role, round=round, lrs=lrs, x=train_x, y=y, recipe=recipe, soft_targets=targets)

    # --- shared inputs ----------------------------------------------------------------------------
    def random_baseline(self, round: int) -> tuple[DistilledSet, dict[str, Any]]:
        """Round r's random subset: seed seed_base + r, from a versioned folder when one was given."""
        seed = self.protocol.seed_base + round
        ds = self.random_sets.get(seed)
        info: dict[str, Any] = {"round": round, "seed": seed}
        if ds is not None and ds.path is not None:
            info["path"], info["md5"] = str(ds.path), ds.digest()
        else:
            ds = random_baseline(self.raw_data, self.ipc, seed)
        info["indices_sha256"] = json_sha256(ds.indices)
        if ds.files is not None:  # an image-folder data set: the original files (path, sha256, label)
            info["files_sha256"] = json_sha256(ds.files)
        if self.zca is not None:  # the same images, in the protocol's whitened space
            ds = dataclasses.replace(ds, images=self.zca.transform(self.raw_data.denormalise(ds.images)))
        return ds, info

    def real_reference(self) -> dict[str, Any]:
        """Acc(real, hard): trained once per (data set, model, real recipe), then served from the cache.
        Its seed ignores ipc and protocol name on purpose, so every evaluation shares it. With a real
        checkpoint, Acc(real) is that network's test accuracy instead (nothing is trained)."""
        if self.real_checkpoint is not None:
            from ddr.eval.reference import checkpoint_reference

            rec = {**checkpoint_reference(*self.real_checkpoint, self.x_test, self.y_test, self.device), "selected": True}
            if self.tracker is not None:
                rec["mlflow_run_id"] = self.tracker.log_training(rec, {"ddr.role": "real", "ddr.round": 0,
                                                                       "ddr.cached": False})
            self.trainings.append(rec)
            self.progress(f"[{len(self.trainings)}/{self.total}] real         checkpoint acc {rec['best_acc']:.4f}")
            return rec
        recipe = self.protocol.real
        seed = derive_seed(dataset=self.data.name, role="real", model=self.protocol.model,
                           model_args=self.protocol.model_args, recipe=recipe.as_dict())
        from ddr.train.ddp import ddp_processes

        # data-parallel training measures no validation split, so 'val' selection trains the reference alone
        ddp = (ddp_processes() if self.protocol.ddp and recipe.augmentation is None and recipe.loss == "ce"
               and self.validation is None else 0)
        rec = self.train(role="real", round=0, lr=float(recipe.lr), x=self.data.x_train.to(self.device),
                         y=self.data.y_train.to(self.device), recipe=recipe, seed=seed,
                         set_digest=self.data.digest, ddp=ddp)
        rec["selected"] = True
        return self._report(rec, selected_point(rec, self.protocol.selection), rec["best_acc"])


def timer() -> Callable[[], float]:
    t0 = time.perf_counter()
    return lambda: time.perf_counter() - t0


def warn_self_trained(infos: list[dict[str, Any]]) -> None:
    from ddr.eval.teacher_store import self_trained_warning

    line = self_trained_warning(infos)
    if line:
        print(line, file=sys.stderr)


__all__ = ["ENGINES", "EvalSession", "Path", "PrefetchJob", "Progress", "Teachers", "Trainer", "engine_name", "parse_engine", "timer"]
