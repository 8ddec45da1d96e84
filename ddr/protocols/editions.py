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
from dataclasses import dataclass
from typing import Any

from ddr.errors import unknown
from ddr.protocols.ddranking_tables import DEFAULT_LR, REAL_BATCH_SIZE, trained_real_reference

DEFAULT_EDITION = "ddr"


@dataclass(frozen=True)
class Edition:
    name: str
    summary: str


EDITIONS: dict[str, Edition] = {e.name: e for e in (
    Edition("ddr", "ddr's corrected recipe (the default): the protocol as its file states it"),
    Edition("ddranking-0.2", "what DD-Ranking 0.2.0 computes from the same config: the random side LR-searched "
            "where the synthetic side used its own lr, the real reference trained for the evaluator's epochs and "
            "tested at its interval, 'cosine' as its quarter-period schedule, no batch augmentation in the "
            "hard-label run of a soft-label protocol; its crashes and its percent-into-exp units bug stay fixed"),
    Edition("leaderboard-2025-02", "the DD-Ranking 0.1.x recipe that produced the public leaderboard (rows dated "
            "2025-02-08): 'step' = StepLR(epochs // 2 + 1, 0.1), 'cosine' = a true cosine, the real reference "
            "trained for the evaluator's epochs, the random side LR-searched as in 0.2.0"),
)}


def check_edition(name: Any) -> str:
    if not isinstance(name, str) or name not in EDITIONS:
        raise unknown("edition", str(name), list(EDITIONS), list_valid=True)
    return name


def _ddranking_recipes(proto, *, leaderboard: bool) -> dict[str, Any]:
    """The recipe changes both DD-Ranking editions share, and the schedule semantics that set them apart."""
    changes: dict[str, Any] = {}

    def schedule(recipe):
        if leaderboard:
            # 0.1.x tested only at epochs e (0-based) > 0.8 x epochs, i.e. after test_after = floor(0.8 E) + 1
            # (1-based); 'step' decayed once, half-way; 'cosine' was a true cosine to 0
            # (at most epochs - 1: below 5 epochs 0.1.x took no test point at all, ddr tests the last epoch)
            recipe = dataclasses.replace(recipe, test_after=min(math.floor(0.8 * recipe.epochs) + 1, recipe.epochs - 1))
            if recipe.scheduler == "step":
                return dataclasses.replace(recipe, step_size=recipe.epochs // 2 + 1, gamma=0.1)
            if recipe.scheduler == "cosine":
                return dataclasses.replace(recipe, scheduler="cosineannealing")
            return recipe
        # 0.2.0: the configs' 'cosine' is the quarter period ending at 0.5x the LR (ddr maps it to the
        # methods' own full cosine, 'cosineannealing', reference defect 6.1.15)
        if recipe.scheduler == "cosineannealing":
            return dataclasses.replace(recipe, scheduler="cosine")
        return recipe

    train = schedule(proto.train)
    if train != proto.train:
        changes["train"] = train
    # the real reference: the evaluator's epochs (defect 6.1.8) and test interval, which the protocol's train
    # recipe states (20 in the soft-label evaluator, where ddr's reference tests every 10: deviation b1), at
    # real_batch_size. 0.2.0 kept the optimiser and schedule of its REAL_DATA_TRAINING_CONFIG row (the
    # protocol's real recipe) and trained nothing where the table had no row or the config read a cached
    # accuracy (ddr's reference stands, as the config importer takes it); 0.1.x trained it with the evaluator's
    # own optimiser and schedule at default_lr, without augmentation
    if leaderboard:
        real = schedule(dataclasses.replace(proto.train, lr=DEFAULT_LR, batch_size=REAL_BATCH_SIZE, augmentation=None,
                                            loss="ce", loss_args={}))
    elif trained_real_reference(proto.dataset, proto.model):
        real = dataclasses.replace(proto.real, epochs=proto.train.epochs, test_interval=proto.train.test_interval,
                                   batch_size=REAL_BATCH_SIZE)
    else:
        real = proto.real
    if real != proto.real:
        changes["real"] = real
    if proto.lr_policy == "method" and proto.ior_random != "search":
        changes["ior_random"] = "search"  # the random side searched where the set's own lr trained the synthetic
    return changes


def edition_of(proto, name: str):
    """`proto` (a ddr.protocols.Protocol, the `ddr` edition) under edition `name`."""
    check_edition(name)
    if name == DEFAULT_EDITION or getattr(proto, "edition", DEFAULT_EDITION) == name:
        return proto
    if proto.edition != DEFAULT_EDITION:
        raise ValueError(f"protocol {proto.name} is already the {proto.edition} edition")
    edited = dataclasses.replace(proto, edition=name,
                                 **_ddranking_recipes(proto, leaderboard=name == "leaderboard-2025-02"))
    return dataclasses.replace(edited, edition_changes=edition_changes(proto, edited))


def edition_changes(base, edited) -> dict[str, Any]:
    """What an edition changed, field by field ({'real.epochs': [before, after], ...}), for result.json."""
    out: dict[str, Any] = {}
    for f in ("train", "real"):
        a, b = getattr(base, f).as_dict(), getattr(edited, f).as_dict()
        out.update({f"{f}.{k}": [a[k], b[k]] for k in a if a[k] != b[k]})
    for f in ("ior_random",):
        if getattr(base, f) != getattr(edited, f):
            out[f] = [getattr(base, f), getattr(edited, f)]
    if base.label == "soft" and base.hard_recipe() != edited.hard_recipe():  # Acc(syn, hard) of soft LRS only
        a, b = base.hard_recipe().as_dict(), edited.hard_recipe().as_dict()
        out.update({f"hard.{k}": [a[k], b[k]] for k in a if a[k] != b[k]})
    return out


__all__ = ["DEFAULT_EDITION", "EDITIONS", "Edition", "check_edition", "edition_changes", "edition_of"]
