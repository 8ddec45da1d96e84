"""Batch augmentations: callables `aug(x, gen) -> x` on a batch on any device, all randomness from
the CPU generator `gen` (reference 2.4). Built from a protocol's spec by `build_augmentation`:

    {"name": "dsa", "params": {"scale": 1.2, ...}}     # any subset of DSAParams' keys
    {"name": "mixup", "lambda": 0.8, "mix_labels": false}
    {"name": "cutmix", "beta": 1.0, "mix_labels": false}
    {"name": "rrc", "scale": [0.08, 1.0]}  {"name": "hflip"}  {"name": "random_crop", "padding": 4}
    {"name": "shuffle_patches", "factor": 2}  {"name": "gaussian_noise", "sigma": 0.1}
    {"name": "sequence", "ops": [{"name": "rrc"}, {"name": "hflip"}, {"name": "cutmix", "beta": 1.0}]}

The torchvision-style transforms (ddr.augment.transforms) stand in for the per-sample train transforms
of DD-Ranking's image-folder recipes; `sequence` chains any of these ops in order.

ZCA is not a batch augmentation here (see ddr.augment.zca).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ddr.augment.dsa import DSA, DSAParams
from ddr.augment.mix import CutMix, MixAugmentation, Mixup, MixRecord
from ddr.augment.transforms import TRANSFORMS, Sequence
from ddr.augment.zca import ZCA
from ddr.errors import DDRError
from ddr.kernel.registry import Registry

Augmentation = Callable[[Tensor, torch.Generator], Tensor]


@dataclass(frozen=True)
class AugmentationKind:
    """One augmentation name: the keys its spec may hold and how a spec becomes the callable."""

    keys: tuple[str, ...]
    build: Callable[[dict[str, Any]], Augmentation]


AUGMENTATIONS: Registry[AugmentationKind] = Registry("augmentation", list_valid=True)


def build_augmentation(spec: dict[str, Any] | None) -> Augmentation | None:
    """The augmentation a protocol names, or None for none."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or "name" not in spec:
        raise DDRError(f"augmentation must be a mapping with a 'name' ({', '.join(AUGMENTATIONS)})")
    name = spec["name"]
    if name == "zca":
        raise DDRError("augmentation 'zca' is a data-set transform, not a batch augmentation: "
                       "fit ddr.augment.ZCA on the training split")
    kind = AUGMENTATIONS.get(name)
    extra = sorted(set(spec) - set(kind.keys))
    if extra:
        raise DDRError(f"augmentation {name}: unknown key '{extra[0]}'; valid: {', '.join(kind.keys)}")
    return kind.build(spec)


def _dsa(spec: dict[str, Any]) -> Augmentation:
    params = spec.get("params") or {}
    if not isinstance(params, dict):
        raise DDRError("augmentation dsa: params must be a mapping")
    return DSA(DSAParams.from_dict(params))


def _sequence(spec: dict[str, Any]) -> Augmentation:
    ops = spec.get("ops")
    if not isinstance(ops, list) or not ops:
        raise DDRError("augmentation sequence: ops must be a non-empty list of augmentations")
    return Sequence([build_augmentation(op) for op in ops])


def _transform(cls: type) -> Callable[[dict[str, Any]], Augmentation]:
    return lambda spec: cls(**{k: v for k, v in spec.items() if k != "name"})


AUGMENTATIONS.register("dsa", AugmentationKind(("name", "params"), _dsa))
AUGMENTATIONS.register("mixup", AugmentationKind(
    ("name", "lambda", "mix_labels"),
    lambda spec: Mixup(float(spec.get("lambda", 0.8)), bool(spec.get("mix_labels", False)))))
AUGMENTATIONS.register("cutmix", AugmentationKind(
    ("name", "beta", "mix_labels"),
    lambda spec: CutMix(float(spec.get("beta", 1.0)), bool(spec.get("mix_labels", False)))))
AUGMENTATIONS.register("sequence", AugmentationKind(("name", "ops"), _sequence))
for _name, (_cls, _keys) in TRANSFORMS.items():
    AUGMENTATIONS.register(_name, AugmentationKind(("name", *_keys), _transform(_cls)))


def split_per_image(spec: dict[str, Any] | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """(the leading per-image transforms, the rest) of an augmentation spec: DD-Ranking's torchvision train
    transform, applied per image as it is loaded, and its batch augmentation (Mixup, CutMix, DSA)."""
    if spec is None:
        return [], None
    ops = list(spec.get("ops") or []) if spec.get("name") == "sequence" else [spec]
    k = 0
    while k < len(ops) and ops[k].get("name") in TRANSFORMS:
        k += 1
    rest = ops[k:]
    batch = None if not rest else rest[0] if len(rest) == 1 else {"name": "sequence", "ops": rest}
    return ops[:k], batch


__all__ = ["AUGMENTATIONS", "DSA", "DSAParams", "Augmentation", "AugmentationKind", "CutMix", "MixAugmentation",
           "MixRecord", "Mixup", "Sequence", "ZCA", "build_augmentation", "split_per_image"]
