"""Editions of a protocol: the same config, computed as ddr does, as DD-Ranking 0.2.0 did, or as the 0.1.x
code that produced the public leaderboard did.

A protocol file states ddr's corrected recipe (the `ddr` edition, the default). An edition is a pure
function of that protocol: `edition_of(protocol, name)` returns the protocol with the edition's rules
applied and `protocol.edition` set, and `edition_changes` lists what each rule changed (recorded in
result.json, so a number always says which recipe produced it). Seeds stay ddr's derived seeds in every
edition (DD-Ranking's were wall-clock seeds, never recorded), so editions differ only by their recipes.

What each edition reproduces, and what it cannot yet, is in ddr/protocols/README.md ("Editions").
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ddr.errors import DDRError, unknown
from ddr.protocols import BATCH_AUGMENTATION
from ddr.protocols.ddranking_tables import (
    DEFAULT_LR,
    REAL_BATCH_SIZE,
    cached_real_accuracy,
    jpeg_random_images,
    trained_real_reference,
)

DEFAULT_EDITION = "ddr"


@dataclass(frozen=True)
class Edition:
    name: str
    summary: str


EDITIONS: dict[str, Edition] = {e.name: e for e in (
    Edition("ddr", "ddr's corrected recipe (the default): the protocol as its file states it"),
    Edition("ddranking-0.2", "what DD-Ranking 0.2.0 computes from the same config: the random side LR-searched "
            "where the synthetic side used its own lr, the real reference trained again every round for the "
            "evaluator's epochs (a cosine row over the table's epochs) and tested at its interval, or read from "
            "its cache where it did (ImageNet-1K and TinyImageNet ResNet-18-BN), 'cosine' as its quarter-period "
            "schedule, no batch augmentation in the hard-label run of a soft-label protocol, a resized image "
            "folder cropped from its full files, a CIFAR random side trained on JPEG round trips where its "
            "random_data_format was image; its crashes and its percent-into-exp units bug stay fixed"),
    Edition("leaderboard-2025-02", "the DD-Ranking 0.1.x recipe that produced the public leaderboard (rows dated "
            "2025-02-08): test points only after 0.8 x epochs, 'step' = StepLR(epochs // 2 + 1, 0.1), 'cosine' = a "
            "true cosine, the scheduler stepped after every batch (an epoch's first batch at the previous "
            "epoch's LR), the real reference trained again every round at default_lr, the random side "
            "LR-searched and the hard-label run and image folders as in 0.2.0"),
)}


def check_edition(name: Any) -> str:
    if not isinstance(name, str) or name not in EDITIONS:
        raise unknown("edition", str(name), list(EDITIONS), list_valid=True)
    return name


@dataclass(frozen=True)
class Rule:
    """One way a DD-Ranking version computed a protocol differently from ddr: `apply` maps a protocol to the
    field changes (dataclasses.replace keywords) that undo one ddr correction or restore one 0.1.x behaviour.
    `ref` names it as ddr/protocols/README.md (or the reference) does; the correction ledger measures each."""

    name: str
    ref: str
    title: str
    apply: Callable[[Any], dict[str, Any]]


def _recipes(proto, fn: Callable[[Any], Any]) -> dict[str, Any]:
    out = {f: fn(getattr(proto, f)) for f in ("train", "real")}
    return {f: r for f, r in out.items() if r != getattr(proto, f)}


def _quarter_cosine(proto) -> dict[str, Any]:
    # the configs' 'cosine' is 0.2.0's quarter period ending at 0.5x the LR; ddr reads it as the methods' own
    # full cosine ('cosineannealing'). A real reference 0.2.0 never trained keeps ddr's recipe
    changes = _recipes(proto, lambda r: dataclasses.replace(r, scheduler="cosine") if r.scheduler == "cosineannealing"
                       else r)
    if not trained_real_reference(proto.dataset, proto.model, proto.eval_full_data):
        changes.pop("real", None)
    return changes


def _real_as_evaluator(proto) -> dict[str, Any]:
    # where 0.2.0 trained one (a REAL_DATA_TRAINING_CONFIG row, no cached accuracy): the row's optimiser and
    # schedule for the evaluator's epochs, tested at its interval (the train recipe's: 20 in the soft-label
    # evaluator, b1), at real_batch_size; elsewhere it trained none and ddr's reference stands
    # ... and trained it again in every round. The row's scheduler was built with the table's num_epochs (a
    # ddr real recipe keeps the row's epochs): a cosine's horizon stays there, past it 'cosine' is 0 (2.6)
    if not trained_real_reference(proto.dataset, proto.model, proto.eval_full_data):
        return {}
    real, epochs = proto.real, proto.train.epochs
    horizon = real.schedule_epochs or real.epochs
    cosine = real.scheduler in ("cosine", "cosineannealing")
    real = dataclasses.replace(real, epochs=epochs, test_interval=proto.train.test_interval, batch_size=REAL_BATCH_SIZE,
                               schedule_epochs=horizon if cosine and horizon != epochs else None)
    return {"real": _with_batch_augmentation(proto, real), "real_every_round": True}


def _with_batch_augmentation(proto, real):
    # under use_aug_for_hard the soft-label evaluator trained the real reference with the method's batch
    # augmentation too (DSA, Mixup or CutMix; not the per-image transforms; reference 2.6)
    if proto.soft is None or not proto.soft.use_aug_for_hard or proto.train.augmentation is None:
        return real
    spec = proto.train.augmentation
    ops = (spec.get("ops") or []) if spec.get("name") == "sequence" else [spec]
    batch = [op for op in ops if op.get("name") in BATCH_AUGMENTATION]
    return dataclasses.replace(real, augmentation=batch[-1]) if batch else real


def _cached_real_accuracy(proto) -> dict[str, Any]:
    # where the configs set eval_full_data false and REAL_DATA_ACC_CACHE held the key, 0.2.0 trained no reference
    # and read Acc(real) from the cache (percent; a fraction here, ddr's units); elsewhere false crashed
    acc = cached_real_accuracy(proto.dataset, proto.model, proto.eval_full_data)
    return {} if acc is None or proto.real_acc_cached == acc else {"real_acc_cached": acc}


def _searched_random_side(proto) -> dict[str, Any]:
    # the random side LR-searched where the set's own lr trained the synthetic side
    return {"ior_random": "search"} if proto.lr_policy == "method" and proto.ior_random != "search" else {}


def _no_batch_augmentation_for_hard(proto) -> dict[str, Any]:
    # without use_aug_for_hard DD-Ranking dropped its batch augmentation, DSA included, from the hard-label run
    if proto.label != "soft" or proto.hard_dropped == BATCH_AUGMENTATION:
        return {}
    return {"hard_dropped": BATCH_AUGMENTATION}


def _crop_original_files(proto) -> dict[str, Any]:
    # an image folder larger than the data set's images (D4M's 224 px CIFAR PNGs): DD-Ranking's RandomResizedCrop
    # cropped the full file; ddr resizes on load and crops the resized image
    return {} if proto.crop_originals else {"crop_originals": True}


def _jpeg_random_baselines(proto) -> dict[str, Any]:
    # random_data_format image on CIFAR: each round's random images were written as JPEG and trained as decoded
    # (reference 2.5); ddr draws them by index from the data set's tensors
    if proto.random_jpeg or not jpeg_random_images(proto.dataset, proto.label, proto.zca is not None,
                                                   proto.random_data_format):
        return {}
    if proto.zca is not None:  # no DD-Ranking config combined them; what it wrote there was not an image
        raise DDRError(f"protocol {proto.name}: the ddranking-0.2 edition cannot reproduce random_data_format "
                       "image with zca (DD-Ranking de-normalised the whitened tensors with the CIFAR mean/std and "
                       "wrote those as JPEG, reference 2.5); evaluate it under the ddr edition")
    return {"random_jpeg": True}


def _test_window(recipe):
    # 0.1.x tested only at epochs e (0-based) > 0.8 x epochs, i.e. after test_after = floor(0.8 E) + 1 (1-based;
    # at most epochs - 1: below 5 epochs 0.1.x took no test point at all, ddr tests the last epoch)
    return dataclasses.replace(recipe, test_after=min(math.floor(0.8 * recipe.epochs) + 1, recipe.epochs - 1))


def _schedule_0_1(recipe):
    # 0.1.x: 'step' decayed once, half-way; 'cosine' was a true cosine to 0 over the epochs trained
    if recipe.scheduler == "step":
        return dataclasses.replace(recipe, step_size=recipe.epochs // 2 + 1, gamma=0.1)
    if recipe.scheduler in ("cosine", "cosineannealing"):
        return dataclasses.replace(recipe, scheduler="cosineannealing", schedule_epochs=None)
    return recipe


def _scheduler_per_batch(recipe):
    # 0.1.x's train_one_epoch called lr_scheduler.step(epoch) after every batch (ddranking/utils/train_and_eval.py
    # up to 0.1.x, "Fix a deprecation" moved it after the epoch): the epoch's closed-form LR took effect after its
    # first batch, so that batch ran at the previous epoch's LR
    return dataclasses.replace(recipe, scheduler_per_batch=True)


def _real_0_1(proto) -> dict[str, Any]:
    # 0.1.x trained the reference in every round with the evaluator's own optimiser and schedule at default_lr,
    # real_batch_size, without augmentation, for its epochs
    return {"real": dataclasses.replace(proto.train, lr=DEFAULT_LR, batch_size=REAL_BATCH_SIZE, augmentation=None,
                                        loss="ce", loss_args={}), "real_every_round": True}


RULES: dict[str, Rule] = {r.name: r for r in (
    Rule("lr-search-asymmetry", "1.6.3", "random side LR-searched while the set's own lr trains the synthetic side",
         _searched_random_side),
    Rule("real-reference-as-evaluator", "6.1.8, b1", "real reference for the evaluator's epochs and test interval, "
         "at real_batch_size", _real_as_evaluator),
    Rule("cached-real-accuracy", "2.6, I7", "Acc(real) read from REAL_DATA_ACC_CACHE (eval_full_data false) "
         "instead of a trained reference", _cached_real_accuracy),
    Rule("quarter-cosine", "6.1.15", "'cosine' as 0.2.0's quarter period ending at 0.5x the LR", _quarter_cosine),
    Rule("crop-original-files", "b2", "a resized image folder cropped from its full-size files",
         _crop_original_files),
    Rule("jpeg-random-baselines", "2.5, 6.2", "random baselines of a CIFAR data set re-encoded as JPEG "
         "(random_data_format image)", _jpeg_random_baselines),
    Rule("hard-run-without-dsa", "b3", "no batch augmentation (DSA included) in the hard-label run of a soft-label "
         "protocol without use_aug_for_hard", _no_batch_augmentation_for_hard),
    Rule("real-reference-0.1", "0.1.x", "real reference with the evaluator's optimiser and schedule at default_lr "
         "0.01", _real_0_1),
    Rule("schedule-0.1", "0.1.x", "'step' = StepLR(epochs // 2 + 1, 0.1), 'cosine' a true cosine",
         lambda p: _recipes(p, _schedule_0_1)),
    Rule("test-window-0.1", "0.1.x", "test points only after 0.8 x epochs", lambda p: _recipes(p, _test_window)),
    Rule("scheduler-per-batch-0.1", "0.1.x", "scheduler stepped after every batch: each epoch's first batch at the "
         "previous epoch's LR", lambda p: _recipes(p, _scheduler_per_batch)),
)}
# an edition applies its rules in this order (the 0.1.x real reference takes the train recipe before its
# schedule and test window are applied to both)
EDITION_RULES: dict[str, tuple[str, ...]] = {
    "ddr": (),
    "ddranking-0.2": ("lr-search-asymmetry", "real-reference-as-evaluator", "cached-real-accuracy", "quarter-cosine",
                      "hard-run-without-dsa", "crop-original-files", "jpeg-random-baselines"),
    "leaderboard-2025-02": ("lr-search-asymmetry", "hard-run-without-dsa", "crop-original-files", "real-reference-0.1",
                            "schedule-0.1", "test-window-0.1", "scheduler-per-batch-0.1"),
}


def with_rules(proto, names: tuple[str, ...]):
    """`proto` with the named rules applied in order (the edition field unchanged)."""
    for name in names:
        proto = dataclasses.replace(proto, **RULES[name].apply(proto))
    return proto


def edition_of(proto, name: str):
    """`proto` (a ddr.protocols.Protocol, the `ddr` edition) under edition `name`."""
    check_edition(name)
    if name == DEFAULT_EDITION or getattr(proto, "edition", DEFAULT_EDITION) == name:
        return proto
    if proto.edition != DEFAULT_EDITION:
        raise ValueError(f"protocol {proto.name} is already the {proto.edition} edition")
    edited = dataclasses.replace(with_rules(proto, EDITION_RULES[name]), edition=name)
    return dataclasses.replace(edited, edition_changes=edition_changes(proto, edited))


def edition_changes(base, edited) -> dict[str, Any]:
    """What an edition changed, field by field ({'real.epochs': [before, after], ...}), for result.json."""
    out: dict[str, Any] = {}
    def diff(prefix: str, a: dict[str, Any], b: dict[str, Any]) -> None:  # as_dict leaves unset test_after out
        out.update({f"{prefix}.{k}": [a.get(k), b.get(k)] for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)})

    for f in ("train", "real"):
        diff(f, getattr(base, f).as_dict(), getattr(edited, f).as_dict())
    for f in ("ior_random", "real_every_round", "crop_originals", "real_acc_cached", "random_jpeg"):
        if getattr(base, f) != getattr(edited, f):
            out[f] = [getattr(base, f), getattr(edited, f)]
    if base.label == "soft" and base.hard_recipe() != edited.hard_recipe():  # Acc(syn, hard) of soft LRS only
        diff("hard", base.hard_recipe().as_dict(), edited.hard_recipe().as_dict())
    return out


__all__ = ["DEFAULT_EDITION", "EDITIONS", "EDITION_RULES", "RULES", "Edition", "Rule", "check_edition",
           "edition_changes", "edition_of", "with_rules"]
