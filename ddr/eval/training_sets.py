"""The tensors behind a plan's training sets: the distilled set, each round's random subset, the real
training split, under the plan's label treatment (hard labels, mode S targets, mode M teachers), and the
teachers they need. What a TrainingSpec names by `data_id` becomes a TrainingSet here, once.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ddr.data.distilled import DistilledSet
from ddr.data.jpeg_round_trip import jpeg_round_trip
from ddr.data.originals import OriginalImages, folder_originals, original_images, training_digest
from ddr.data.random_baseline import random_baseline
from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.eval.plan import TrainingSpec
from ddr.eval.selection import ValidationSplit
from ddr.kernel.digests import json_sha256
from ddr.protocols import Protocol

Teachers = tuple[torch.nn.Module, list[dict[str, Any]]]  # (the ensemble, one record per teacher)


@dataclass(frozen=True)
class TrainingSet:
    x: Any  # a tensor, or OriginalImages (per-image transforms on the original files)
    y: torch.Tensor
    soft_targets: torch.Tensor | None
    digest: str  # its identity in cache keys (ddr.data.originals.training_digest)

    @property
    def originals(self) -> bool:
        """Per-image transforms on the original files, not on the tensors."""
        return isinstance(self.x, OriginalImages)


class TrainingSets:
    """`data`: the data students train and are tested on (whitened under ZCA); `raw_data`: the normalised
    data random baselines are drawn from; `random_sets`: versioned random-baseline folders by seed;
    `teachers`: already loaded (else provided on first use: trained once and cached under `cache_root`)."""

    def __init__(self, *, protocol: Protocol, data: RealData, ipc: int, device: torch.device,
                 raw_data: RealData | None = None, zca=None, random_sets: dict[int, DistilledSet] | None = None,
                 teachers: Teachers | None = None, teacher_paths: list[str] | None = None,
                 cache_root: Path | None = None, validation: ValidationSplit | None = None, note=None):
        self.protocol, self.data, self.ipc, self.device = protocol, data, ipc, device
        self.raw_data = raw_data or data
        self.zca = zca  # a fitted ddr.augment.ZCA when the protocol whitens (`data` is then whitened)
        self.random_sets = random_sets or {}
        self._teachers = teachers
        self.teacher_paths, self.cache_root = teacher_paths, cache_root
        self.validation = validation
        self.note = note or (lambda line: None)
        self.distilled: DistilledSet | None = None
        self._random: dict[int, tuple[DistilledSet, dict[str, Any]]] = {}
        self._sets: dict[str, TrainingSet] = {}
        self.x_test = data.x_test.to(device)
        self.y_test = data.y_test.to(device)

    # --- teachers ---------------------------------------------------------------------------------
    def teachers(self) -> Teachers:
        if self._teachers is None:
            from ddr.eval.teacher_store import provide_teachers, self_trained_warning

            self.note(f"teachers: {', '.join(t.model for t in self.protocol.soft.teachers)}")
            self._teachers = provide_teachers(self.protocol, self.data, self.device, self.cache_root,
                                              self.teacher_paths)
            line = self_trained_warning(self._teachers[1])
            if line:
                print(line, file=sys.stderr)
        return self._teachers

    def teacher_inputs(self) -> list[dict[str, Any]] | None:
        """The teachers' records for result.json, None when this evaluation used no teacher."""
        return self._teachers[1] if self._teachers is not None else None

    def teacher_digests(self) -> tuple[str, ...] | None:
        return tuple(t["sha256"] for t in self._teachers[1]) if self._teachers is not None else None

    # --- random baselines -------------------------------------------------------------------------
    def random_baseline(self, round: int) -> tuple[DistilledSet, dict[str, Any]]:
        """Round r's random subset: seed seed_base + r, from a versioned folder when one was given; under
        the protocol's random_jpeg (the ddranking-0.2 edition of a CIFAR image-format config) its JPEG round
        trip, as DD-Ranking trained it (its tensors, and so the training's digest and cache key, change)."""
        if round in self._random:
            return self._random[round]
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
        if self.protocol.random_jpeg:
            if self.zca is not None:  # the edition refuses it (ddr.protocols.editions): a guard
                raise DDRError("random_jpeg with zca: DD-Ranking wrote no image of a whitened set")
            ds = dataclasses.replace(ds, images=jpeg_round_trip(ds.images, self.raw_data))
            info["jpeg"] = True
        if self.zca is not None:  # the same images, in the protocol's whitened space
            ds = dataclasses.replace(ds, images=self.zca.transform(self.raw_data.denormalise(ds.images)))
        self._random[round] = (ds, info)
        return ds, info

    def random_inputs(self, rounds: list[int]) -> list[dict[str, Any]]:
        """result.json's `random`: each round's draw, in round order."""
        return [self.random_baseline(r)[1] for r in rounds]

    # --- training sets ----------------------------------------------------------------------------
    def get(self, spec: TrainingSpec) -> TrainingSet:
        """The set `spec` trains on, built once per data_id (the real training split is not kept: it may
        be large, and one training uses it)."""
        if spec.data == "real":
            return self._build(spec)
        if spec.data_id not in self._sets:
            self._sets[spec.data_id] = self._build(spec)
        return self._sets[spec.data_id]

    def _build(self, spec: TrainingSpec) -> TrainingSet:
        """Hard labels, mode S (stored soft labels; a random set is labelled once by the teachers) or mode
        M (the teachers relabel every augmented batch: the tensors are the hard-label ones). A random set of
        an image-folder data set trains from its original files where the recipe crops per image
        (ddr.data.originals); a whitened (ZCA) protocol keeps the tensors, the space it trains in."""
        if spec.data == "real":
            return TrainingSet(self.data.x_train.to(self.device), self.data.y_train.to(self.device), None,
                               self.data.digest)
        is_random = spec.data == "random"
        if is_random:
            ds = self.random_baseline(spec.round)[0]
        elif self.distilled is not None:
            ds = self.distilled
        else:
            raise DDRError("no distilled set given to train on")
        x = ds.images.to(self.device)
        y = ds.hard_labels(self.data.num_classes).to(self.device)
        originals = None
        if is_random and self.zca is None:
            originals = original_images(self.raw_data, ds, spec.recipe.augmentation)
        elif not is_random and self.zca is None and self.protocol.crop_originals:
            originals = folder_originals(self.raw_data, ds, spec.recipe.augmentation)
        train_x: Any = x if originals is None else originals
        targets = None
        if spec.labels == "soft":
            if is_random:
                net, _ = self.teachers()
                with torch.no_grad():
                    targets = torch.cat([net(x[i:i + 1024]) for i in range(0, len(x), 1024)])
            else:
                if ds.labels is None or ds.labels.ndim != 2:
                    raise DDRError("soft-label mode S needs the set's own soft labels (labels.pt of N x K)")
                targets = ds.labels.float().to(self.device)
        return TrainingSet(train_x, y, targets, training_digest(train_x, y, targets))

    def needs_teachers(self, spec: TrainingSpec) -> bool:
        """Whether building `spec`'s set or training it needs the teachers."""
        return spec.labels == "teacher" or (spec.labels == "soft" and spec.data == "random")


__all__ = ["Teachers", "TrainingSet", "TrainingSets"]
