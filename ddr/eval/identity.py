"""Training seeds that name what is trained, not which protocol asked for it.

The random side of a round (and, for paired protocols, the synthetic side too) is seeded from the
recipe's content: two protocols with the same recipe (DSA and DM on CIFAR-10, say) train the same
random students, share their cache entries, and their IORs differ only by the synthetic side. The
synthetic side of an unpaired protocol keeps the protocol-named seed. The real reference is keyed on
its own recipe already (ddr.eval.plan.real_seed).
"""
from __future__ import annotations

from typing import Any

from ddr.kernel.digests import json_sha256
from ddr.protocols import Protocol, TrainRecipe
from ddr.seeds import derive_seed


def recipe_identity(protocol: Protocol, recipe: TrainRecipe) -> str:
    """sha256 over everything that shapes a student's training apart from its data, LR and seed."""
    soft = protocol.soft
    labels: Any = "hard"
    if protocol.label == "soft" and soft is not None and recipe.loss != "ce":
        labels = {"mode": soft.mode, "teachers": [t.as_dict() for t in soft.teachers]}
    content = {"model": protocol.model, "model_args": protocol.model_args, "recipe": recipe.as_dict(),
               "labels": labels, "zca": protocol.zca, "seed_base": protocol.seed_base}
    return json_sha256(content)


def shares_random_seed(protocol: Protocol, role: str) -> bool:
    """The random side always; the synthetic side's LRS/ARS arms when the protocol pairs its rounds."""
    side = role.split("_", 1)[0]
    return side == "random" or (protocol.paired and side == "syn" and role != "syn_hard")


def content_seed(protocol: Protocol, dataset: str, ipc: int, round: int, lr: float, recipe: TrainRecipe) -> int:
    return derive_seed(side="random", recipe=recipe_identity(protocol, recipe), dataset=dataset, ipc=ipc,
                       round=round, lr=lr)
