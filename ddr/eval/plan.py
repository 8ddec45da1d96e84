"""The trainings one evaluation needs, stated once: `plan(kind, protocol, inputs)` lists them in the order
they run, each with its role, round, LR, seed, recipe, the set it trains on, its label treatment, the LR
search it belongs to and its cache-key inputs. The count of trainings is len(plan); the executor
(ddr.eval.executor) walks it; the metric modules score what it finished; `ddr eval ... --plan` prints it.

Pure: no torch. Data identities come in as digest strings (PlanInputs), computed by whoever holds the
tensors (ddr.eval.training_sets); a training whose set is not known yet (a random set labelled by teachers
not yet trained) has no cache key in the plan, and the executor completes it with the same function.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ddr.errors import DDRError
from ddr.eval.identity import content_seed, shares_random_seed
from ddr.kernel.digests import json_sha256
from ddr.protocols import Protocol, TrainRecipe
from ddr.seeds import derive_seed


@dataclass(frozen=True)
class PlanInputs:
    """What a plan needs beyond the protocol, as plain values. `digests`: data_id -> the digest of that
    training set (ddr.data.originals.training_digest); `data`: the real data's digest (its test split and
    the real reference's training set; whitened under ZCA); `teachers`: the soft-label teachers' sha256s
    once known; `ddp`: processes the real reference may train data-parallel on (0: alone)."""

    dataset: str
    ipc: int
    rounds: int
    set_lr: float | None = None  # the distilled set's own lr.pt
    device: str = "cpu"
    data: str | None = None
    val_data: str | None = None  # the validation split's digest under selection 'val'
    digests: Mapping[str, str] = field(default_factory=dict)
    teachers: tuple[str, ...] | None = None
    ddp: int = 0
    real_checkpoint: bool = False  # Acc(real) is a given checkpoint's test accuracy: nothing is trained


UNTRAINED = ("checkpoint", "constant")  # the engines of a real reference that is not trained (no cache key)


@dataclass(frozen=True)
class TrainingSpec:
    """One training. `group`: the LR search it is part of (role/round): the executor reports the group's
    best under the protocol's selection. `batchable`: the batched engine may train it ahead with the rest
    of its `batch_group`. `engine`: '' (the evaluation's engine), 'ddp<n>', 'checkpoint' (a given
    network tested, not trained) or 'constant' (DD-Ranking's cached Acc(real), nothing run). `key_inputs`:
    what its cache key hashes, engine aside; None until its training set's digest is known."""

    role: str
    round: int
    lr: float
    seed: int
    recipe: TrainRecipe
    data: str  # 'syn' | 'random' (round `round`'s subset) | 'real'
    labels: str  # 'hard' (cross-entropy on class labels) | 'soft' (mode S targets) | 'teacher' (mode M)
    group: str
    data_id: str
    batchable: bool = False
    batch_group: str = ""
    engine: str = ""
    key_inputs: Mapping[str, Any] | None = None

    def cache_inputs(self, engine_tag: str) -> dict[str, Any] | None:
        """The dict ddr.train.cache.training_key hashes for this training under `engine_tag` ('plain',
        'plain+bf16', 'batched', 'ddp2', ...): the engine is named unless it is the plain one."""
        if self.key_inputs is None:
            return None
        return dict(self.key_inputs) if engine_tag == "plain" else {**self.key_inputs, "engine_name": engine_tag}

    def as_dict(self) -> dict[str, Any]:
        return {"role": self.role, "round": self.round, "lr": self.lr, "seed": self.seed, "data": self.data,
                "labels": self.labels, "group": self.group, "recipe": self.recipe.as_dict(),
                "batchable": self.batchable, **({"engine": self.engine} if self.engine else {})}


def lr_candidates(protocol: Protocol, set_lr: float | None) -> tuple[float, ...]:
    """The LRs both sides are trained at: the grid, or the set's own lr.pt under lr_policy 'method'."""
    if protocol.lr_policy == "method" and set_lr is not None:
        return (float(set_lr),)
    return protocol.lr_grid


def training_seed(protocol: Protocol, dataset: str, ipc: int, role: str, round: int, lr: float,
                  recipe: TrainRecipe | None = None) -> int:
    """A student's seed: from the recipe's content where the protocol shares seeds (ddr.eval.identity),
    else from the protocol's name and the training's place in it."""
    if recipe is not None and shares_random_seed(protocol, role):
        return content_seed(protocol, dataset, ipc, round, lr, recipe)
    return derive_seed(protocol=protocol.ref, dataset=dataset, ipc=ipc, role=role, round=round, lr=lr)


def real_seed(protocol: Protocol, dataset: str, round: int | None = None) -> int:
    """The real reference's seed ignores ipc and protocol name on purpose, so every evaluation shares it;
    `round` only where the protocol trains it again in every round (the DD-Ranking editions)."""
    recipe = protocol.real
    return derive_seed(dataset=dataset, role="real", model=protocol.model, model_args=protocol.model_args,
                       recipe=recipe.as_dict(), **({} if round is None else {"round": round}))


def label_treatment(protocol: Protocol, recipe: TrainRecipe) -> str:
    """Hard labels unless the protocol is soft and the recipe's loss is not cross-entropy; then mode S
    ('soft': targets, the set's own or the teachers' for a random set) or mode M ('teacher')."""
    if protocol.label == "hard" or recipe.loss == "ce" or protocol.soft is None:
        return "hard"
    return "teacher" if protocol.soft.mode == "M" else "soft"


def data_id(data: str, round: int, labels: str, recipe: TrainRecipe) -> str:
    """Names a training set: the same name, the same tensors. A random set's augmentation is part of it
    (an image-folder subset trains from its original files under a per-image crop)."""
    if data == "real":
        return "real"
    name = "syn" if data == "syn" else f"random/{round}"
    if labels != "hard":
        name += f"+{labels}"
    if data == "random" and recipe.augmentation:
        name += f"+aug:{json_sha256(recipe.augmentation)[:12]}"
    return name


def cache_inputs(protocol: Protocol, inputs: PlanInputs, *, recipe: TrainRecipe, lr: float, seed: int,
                 train_data: str, teachers: bool) -> dict[str, Any] | None:
    """Everything that determines a training's numbers (ddr.train.cache), engine aside; None while the
    teachers it needs are not known."""
    if teachers and inputs.teachers is None:
        return None
    return {"train_data": train_data, "test_data": inputs.data, "model": protocol.model,
            "model_args": protocol.model_args, "recipe": recipe.as_dict(), "lr": lr, "seed": seed,
            "device": inputs.device, "teachers": list(inputs.teachers) if teachers else None,
            **({"val_data": inputs.val_data} if inputs.val_data is not None else {})}


def complete(spec: TrainingSpec, protocol: Protocol, inputs: PlanInputs) -> TrainingSpec:
    """`spec` with its cache-key inputs, where `inputs` knows its training set (and teachers)."""
    if spec.engine in UNTRAINED:
        return spec
    digest = inputs.data if spec.data == "real" else inputs.digests.get(spec.data_id)
    if digest is None:
        return spec
    return replace(spec, key_inputs=cache_inputs(protocol, inputs, recipe=spec.recipe, lr=spec.lr, seed=spec.seed,
                                                 train_data=digest, teachers=spec.labels == "teacher"))


class _Builder:
    def __init__(self, protocol: Protocol, inputs: PlanInputs):
        self.protocol, self.inputs = protocol, inputs
        self.specs: list[TrainingSpec] = []

    def search(self, role: str, round: int, lrs: tuple[float, ...], data: str, recipe: TrainRecipe,
               batchable: bool = False) -> None:
        """One LR search: every LR in ascending order (ties keep the smaller LR)."""
        p, i = self.protocol, self.inputs
        labels = label_treatment(p, recipe)
        batchable = batchable and recipe.augmentation is None and recipe.loss == "ce" and i.val_data is None
        for lr in sorted(lrs):
            self.specs.append(complete(TrainingSpec(
                role=role, round=round, lr=lr, seed=training_seed(p, i.dataset, i.ipc, role, round, lr, recipe),
                recipe=recipe, data=data, labels=labels, group=f"{role}/{round}",
                data_id=data_id(data, round, labels, recipe), batchable=batchable,
                batch_group=json.dumps(recipe.as_dict(), sort_keys=True, default=str) if batchable else ""), p, i))

    def real(self) -> None:
        p, i = self.protocol, self.inputs
        recipe = p.real
        if i.real_checkpoint and p.real_acc_cached is not None:
            raise DDRError(f"--real-checkpoint: the {p.edition} edition of {p.name} reads Acc(real) from "
                           f"DD-Ranking's cache ({100 * p.real_acc_cached:g} %), as DD-Ranking 0.2.0 did; give "
                           "the checkpoint to another edition")
        if i.real_checkpoint or p.real_acc_cached is not None:
            self.specs.append(TrainingSpec(role="real", round=0, lr=0.0, seed=0, recipe=recipe, data="real",
                                           labels="hard", group="real/0", data_id="real",
                                           engine="checkpoint" if i.real_checkpoint else "constant"))
            return
        # data-parallel training measures no validation split, so 'val' selection trains the reference alone
        ddp = (i.ddp if p.ddp and recipe.augmentation is None and recipe.loss == "ce" and i.val_data is None else 0)
        for r in range(i.rounds) if p.real_every_round else (None,):
            self.specs.append(complete(TrainingSpec(
                role="real", round=r or 0, lr=float(recipe.lr), seed=real_seed(p, i.dataset, r), recipe=recipe,
                data="real", labels="hard", group=f"real/{r or 0}", data_id="real",
                engine=f"ddp{ddp}" if ddp > 1 else ""), p, i))


def random_searched(protocol: Protocol, set_lr: float | None) -> bool:
    """Under lr_policy 'method' with a set lr.pt, the random side is also searched over the grid (what
    DD-Ranking did): LRS records both IORs."""
    return protocol.lr_policy == "method" and set_lr is not None


def _lrs(b: _Builder) -> None:
    p, i = b.protocol, b.inputs
    grid = lr_candidates(p, i.set_lr)
    soft = p.label == "soft"
    b.real()
    for r in range(i.rounds):
        if soft:  # Acc(syn, hard): cross-entropy over hard_lr_grid; the batched engine's share of a soft protocol
            b.search("syn_hard", r, p.hard_lr_grid, "syn", p.hard_recipe(), batchable=True)
        b.search("syn", r, grid, "syn", p.train, batchable=not soft)
        b.search("random", r, grid, "random", p.train, batchable=not soft)
        if random_searched(p, i.set_lr):
            b.search("random_search", r, p.lr_grid, "random", p.train)


def _ars(b: _Builder) -> None:
    p, i = b.protocol, b.inputs
    if p.train.augmentation is None:
        raise DDRError(f"protocol {p.name} has no augmentation: ARS compares with and without it")
    grid = lr_candidates(p, i.set_lr)
    for r in range(i.rounds):
        for arm, recipe in (("aug", p.train), ("noaug", p.noaug_recipe())):
            for side in ("syn", "random"):
                b.search(f"{side}_{arm}", r, grid, side, recipe)


def _acc(b: _Builder) -> None:
    p, i = b.protocol, b.inputs
    for r in range(i.rounds):
        b.search("syn", r, lr_candidates(p, i.set_lr), "syn", p.train)


_PLANS = {"lrs": _lrs, "ars": _ars, "acc": _acc}


def plan(kind: str, protocol: Protocol, inputs: PlanInputs) -> list[TrainingSpec]:
    """Every training of a `kind` evaluation under `protocol`, in the order they run."""
    if kind not in _PLANS:
        raise DDRError(f"unknown evaluation '{kind}'; valid: {', '.join(_PLANS)}")
    b = _Builder(protocol, inputs)
    _PLANS[kind](b)
    return b.specs


__all__ = ["UNTRAINED", "PlanInputs", "TrainingSpec", "cache_inputs", "complete", "data_id",
           "label_treatment", "lr_candidates", "plan", "random_searched", "real_seed", "training_seed"]
