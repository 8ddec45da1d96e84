"""Versioned evaluation protocols: YAML files shipped in this package (`ddr/protocols/*.yaml`).

A protocol fixes everything that can move a number: model, optimiser, schedule, epochs, batch sizes,
augmentation, labels, loss, LR grid, test interval, rounds and seed base. Bump `version` on any such
change; the version is part of every training's seed and cache key.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypedDict

from ddr.errors import DDRError, unknown
from ddr.kernel.digests import json_sha256
from ddr.records.fields import Flag, Mapping, Name, Number, PositiveNumber, Text, refuse
from ddr.records.validation import RecordError, check_fields, validate

# The dataclasses below are the protocol's schema: their type hints state every check a protocol file's
# field gets (ddr.records.fields) and, exported, its JSON Schema (docs/schemas/protocol.schema.json).
Optimizer = Literal["sgd", "adam", "adamw"]
Scheduler = Literal["step", "cosine", "cosineannealing", "constant"]
OPTIMIZERS = get_args(Optimizer)
SCHEDULERS = get_args(Scheduler)
FIVE_LR_GRID = (0.001, 0.005, 0.01, 0.05, 0.1)  # DD-Ranking's search grid (reference 1.1)
BATCH_MIXING = ("mixup", "cutmix")  # the batch mixing ddr drops from the hard-label run
# what DD-Ranking dropped from it (`aug_func=None` without use_aug_for_hard): its batch augmentation, DSA
# included (deviation b3); the DD-Ranking editions do the same
BATCH_AUGMENTATION = (*BATCH_MIXING, "dsa")
IorRandom = Literal["method", "search"]
IOR_RANDOM_SIDES = get_args(IorRandom)
RECORD = ConfigDict(extra="forbid")


def _two_numbers(value: Any) -> Any:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise refuse(f"must be two numbers, got {value!r}")
    return tuple(value)


def _lr_list(value: Any) -> Any:
    if not isinstance(value, (list, tuple)) or not value:
        raise refuse(f"must list positive learning rates, got {value!r}")
    return value


def _sorted_floats(values: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(sorted(float(v) for v in values))


class LossArgs(TypedDict, total=False):
    """What build_loss takes besides the loss's name."""

    __pydantic_config__ = RECORD  # type: ignore[misc]
    temperature: PositiveNumber
    scale_t2: Flag
    mse_weight: Number(low=0)
    ce_weight: Number(low=0)


class Zca(TypedDict, total=False):
    __pydantic_config__ = RECORD  # type: ignore[misc]
    eps: PositiveNumber


LrGrid = Annotated[tuple[PositiveNumber, ...], BeforeValidator(_lr_list), AfterValidator(_sorted_floats),
                   WithJsonSchema({"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "minItems": 1})]


@dataclass(frozen=True)
class TrainRecipe:
    """How one student is trained. `lr` is set for fixed-LR recipes (the real-data reference)."""

    __pydantic_config__ = RECORD

    epochs: Number(low=1, integer=True)
    batch_size: Number(low=1, integer=True)
    optimizer: Optimizer = "sgd"
    lr: PositiveNumber | None = None
    momentum: Number(low=0, high=1) = 0.9
    weight_decay: Number(low=0) = 5e-4
    betas: Annotated[tuple[Number(low=0, high=1), Number(low=0, high=1)], BeforeValidator(_two_numbers)] = (0.9, 0.999)
    scheduler: Scheduler = "step"
    step_size: Number(low=1, integer=True) | None = None
    gamma: Number(low=0, low_open=True, high=1) = 0.1
    test_interval: Number(low=1, integer=True) = 10
    # no test point at epochs <= test_after (1-based): DD-Ranking 0.1.x tested only after 0.8 x epochs
    # (the leaderboard edition); 0 = from the first interval on
    test_after: Number(low=0, integer=True) = 0
    # the horizon of a cosine schedule when it differs from the epochs trained (DD-Ranking 0.2.0 built a real
    # row's scheduler with the table's epochs and trained the evaluator's); unset: the epochs trained
    schedule_epochs: Number(low=1, integer=True) | None = None
    # DD-Ranking 0.1.x called scheduler.step(epoch) after every batch: an epoch's LR was set after its first
    # batch, which still ran at the previous epoch's LR (the leaderboard edition); false: set before the epoch
    scheduler_per_batch: Flag = False
    augmentation: Mapping | None = None  # checked by ddr.augment.build_augmentation
    loss: Name = "ce"
    loss_args: LossArgs = field(default_factory=dict)

    def __post_init__(self):
        check_fields(self)
        if self.scheduler == "step" and not self.step_size:
            raise RecordError("scheduler 'step' needs step_size")  # DD-Ranking asserted deep inside training
        if not self.test_after < self.epochs:
            raise RecordError(f"test_after must lie in [0, epochs), got {self.test_after}")
        if self.schedule_epochs is not None and self.scheduler not in ("cosine", "cosineannealing"):
            raise RecordError(f"schedule_epochs sets a cosine schedule's horizon; scheduler {self.scheduler!r} "
                              "has none")
        from ddr.augment import build_augmentation
        from ddr.losses import build_loss

        try:  # unknown names or keys fail here, at load time
            build_augmentation(self.augmentation)
            build_loss(self.loss, **self.loss_args)
        except RecordError:
            raise
        except DDRError as exc:
            raise RecordError(str(exc)) from None

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        # absent unless set, so the recipes (and cache keys) from before these options stay as they were
        for key, unset in (("test_after", 0), ("schedule_epochs", None), ("scheduler_per_batch", False)):
            if d[key] == unset:
                del d[key]
        return d

    def tests_at(self, done: int) -> bool:
        """Whether the student is tested after `done` epochs (1-based): every test_interval epochs and after
        the last one, never at or before test_after. The one rule of every engine."""
        return done > self.test_after and (done % self.test_interval == 0 or done == self.epochs)


@dataclass(frozen=True)
class TeacherSpec:
    """A teacher network: trained by ddr on the real data with `train` when no checkpoint is given."""

    __pydantic_config__ = RECORD

    model: Name
    train: TrainRecipe
    model_args: Mapping = field(default_factory=dict)

    def __post_init__(self):
        check_fields(self)
        if self.train.lr is None:
            raise RecordError("train needs a fixed lr")

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "model_args": self.model_args, "train": self.train.as_dict()}


@dataclass(frozen=True)
class SoftLabels:
    """Soft-label regime (reference 2.3): mode S (one stored label per image; random sets labelled once
    by the teachers) or M (the teacher ensemble relabels every augmented batch)."""

    __pydantic_config__ = RECORD

    mode: Literal["S", "M"]
    teachers: Annotated[tuple[TeacherSpec, ...], AfterValidator(lambda t: t or _no_teacher()),
                        Field(json_schema_extra={"minItems": 1})]
    use_aug_for_hard: Flag = False

    def __post_init__(self):
        check_fields(self)


def _no_teacher():
    raise refuse("must name at least one teacher")


@dataclass(frozen=True)
class Protocol:
    """A protocol as its (include-merged) YAML states it; `raw` is that mapping, which its sha256 digests."""

    __pydantic_config__ = RECORD

    name: Name
    version: Number(low=1, integer=True)
    dataset: Name
    model: Name
    train: TrainRecipe
    real: TrainRecipe
    lr_grid: LrGrid
    rounds: Number(low=1, integer=True) = 5
    seed_base: Number(low=0, integer=True) = 0
    weight: Number(low=0, high=1, cast=float) = 0.5
    label: Literal["hard", "soft"] = "hard"
    # 'search': both sides searched; 'method': both use the set's lr.pt if it has one
    lr_policy: Literal["search", "method"] = "search"
    model_args: Mapping = field(default_factory=dict)
    soft: SoftLabels | None = None
    zca: Zca | None = None  # {eps: 0.1}: whiten train, test and random sets (MTT/DATM preprocessing)
    hard_lr_grid: LrGrid = FIVE_LR_GRID  # searched for Acc(syn, hard) of a soft-label protocol
    paired: Flag = False  # syn and random students of a round share initialisation and batch order
    ior_random: IorRandom = "method"  # lr_policy method: the random side the score's IOR uses (both are recorded)
    ddp: Flag = False  # the real-data reference trains data-parallel over several GPUs when present (ddr.train.ddp)
    # DD-Ranking's eval_full_data, read by its editions only: where a config set it otherwise than DD-Ranking's
    # own configs of that (data set, model) did (ddr.protocols.ddranking_tables.eval_full_data_needed), e.g.
    # true for a pair whose accuracy 0.2.0 also cached. Unset: DD-Ranking's tables decide
    eval_full_data: Flag | None = None
    # DD-Ranking's random_data_format, read by its editions only, stated where a config set it otherwise than
    # DD-Ranking's own configs of that label and whitening did (ddr.protocols.ddranking_tables
    # .random_data_format_needed): 'image' on CIFAR trained the random side on JPEG round trips. Unset: the
    # configs decide. The ddr edition draws the random side from the data set's tensors either way
    random_data_format: Literal["tensor", "image"] | None = None
    description: Text = ""
    notes: Text = ""
    # which checkpoint and LR are reported (ddr.eval.selection)
    selection: Literal["test", "val", "last"] = "test"
    # share of each class carved off the training set under selection 'val'
    val_fraction: Number(low=0, low_open=True, high=0.5, high_open=True, cast=float) = 0.2
    # set by the run, never in a file (NOT_IN_FILE): the ops the hard-label run of a soft-label protocol drops
    # without use_aug_for_hard (Mixup/CutMix in ddr; DSA too in the DD-Ranking editions, deviation b3), the
    # edition (ddr.protocols.editions), what it changed from the file's recipe ({"real.epochs": [before, after],
    # ...}, in result.json) and the file's mapping itself
    hard_dropped: SkipJsonSchema[tuple[str, ...]] = BATCH_MIXING
    # the real reference trained again in every round with the round's seed (DD-Ranking; ddr trains it once)
    real_every_round: SkipJsonSchema[bool] = False
    # an image folder resized on load trains from its original files, cropped at full size (the DD-Ranking
    # editions, deviation b2; ddr crops the resized images)
    crop_originals: SkipJsonSchema[bool] = False
    # Acc(real) as a fraction read from DD-Ranking 0.2.0's REAL_DATA_ACC_CACHE instead of a trained reference
    # (the ddranking-0.2 edition, where its configs set eval_full_data false); None: a reference is trained
    real_acc_cached: SkipJsonSchema[float | None] = None
    # each round's random images trained as their JPEG round trip (ddr.data.jpeg_round_trip), as DD-Ranking 0.2.0's
    # image-format random data on CIFAR (the ddranking-0.2 edition); ddr trains the data set's tensors
    random_jpeg: SkipJsonSchema[bool] = False
    edition: SkipJsonSchema[Name] = "ddr"
    edition_changes: SkipJsonSchema[dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)
    raw: SkipJsonSchema[dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        check_fields(self)
        if self.label == "hard" and self.train.loss != "ce":
            raise RecordError(f"label 'hard' trains with cross-entropy ('ce'); loss {self.train.loss!r} needs "
                              "soft labels (label: soft with a soft section)")
        if self.real.lr is None:
            raise RecordError("real needs a fixed lr (the reference is trained once, not searched)")
        if self.label == "soft" and self.soft is None:
            raise RecordError("label 'soft' needs a 'soft' section (mode, teachers)")
        if self.label == "soft" and self.train.loss == "ce":
            raise RecordError("label 'soft' needs a soft loss in train (kl, sce or mse_gt)")
        if self.selection == "val" and self.zca is not None:
            raise RecordError("selection 'val' is not supported with zca (the whitening is fit on the training set "
                              "the validation split comes from)")

    def hard_recipe(self) -> TrainRecipe:
        """Acc(syn, hard) of soft-label LRS: the recipe with cross-entropy. Without use_aug_for_hard ddr drops
        the batch mixing (Mixup/CutMix) and keeps the per-image transforms and DSA (deviation b3, listed in
        ddr/protocols/README.md); the DD-Ranking editions drop DSA too, as DD-Ranking did."""
        keep_all = self.soft is not None and self.soft.use_aug_for_hard
        aug = self.train.augmentation if keep_all else without_batch_mixing(self.train.augmentation, self.hard_dropped)
        return dataclasses.replace(self.train, loss="ce", loss_args={}, augmentation=aug)

    def noaug_recipe(self) -> TrainRecipe:
        return dataclasses.replace(self.train, augmentation=None)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def sha256(self) -> str:
        return json_sha256(self.raw)


def without_batch_mixing(spec: dict[str, Any] | None,
                         dropped: tuple[str, ...] = BATCH_MIXING) -> dict[str, Any] | None:
    """An augmentation spec without its `dropped` ops, Mixup/CutMix by default (None when nothing is left)."""
    if spec is None or spec.get("name") in dropped:
        return None
    if spec.get("name") != "sequence":
        return spec
    ops = [op for op in spec.get("ops") or [] if op.get("name") not in dropped]
    if not ops:
        return None
    return ops[0] if len(ops) == 1 else {**spec, "ops": ops}


NOT_IN_FILE = ("hard_dropped", "real_every_round", "crop_originals", "real_acc_cached", "random_jpeg", "edition",
               "edition_changes", "raw")  # Protocol's fields a run sets


def _field_defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


# What a protocol file may leave out: the dataclasses above are the one place these values are stated.
DEFAULTS: dict[str, Any] = _field_defaults(Protocol)
RECIPE_DEFAULTS: dict[str, Any] = _field_defaults(TrainRecipe)


def _get(raw: dict[str, Any], key: str) -> Any:
    return raw.get(key, DEFAULTS[key])


def parse_protocol(raw: Any, source: str) -> Protocol:
    """A protocol mapping (its include chain merged) validated through Protocol: one DDRError line naming
    the field on the first problem."""
    where = f"protocol {source}"
    if not isinstance(raw, dict):
        raise DDRError(f"{where}: not a YAML mapping")
    stated = sorted(set(raw) & set(NOT_IN_FILE))
    if stated:
        valid = sorted(f.name for f in dataclasses.fields(Protocol) if f.name not in NOT_IN_FILE)
        raise DDRError(f"{where}: unknown field '{stated[0]}'; valid: {', '.join(valid)}")
    return validate(Protocol, {**raw, "raw": raw}, where)


def _shipped() -> dict[str, Any]:
    files = resources.files("ddr.protocols")
    return {p.name[:-5]: p for p in files.iterdir() if p.name.endswith(".yaml")}


def list_protocols() -> list[str]:
    """Shipped, evaluable protocols (abstract bases, for `include:`, are left out)."""
    names = []
    for name, p in _shipped().items():
        head = yaml.safe_load(p.read_text()) or {}
        if not head.get("abstract"):
            names.append(name)
    return sorted(names)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Deep merge for `include:`: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _read_raw(name_or_path: str, depth: int = 0) -> tuple[dict[str, Any], str]:
    path = Path(name_or_path)
    if name_or_path.endswith((".yaml", ".yml")) or path.is_file():
        if not path.is_file():
            raise DDRError(f"no such protocol file: {path}")
        text, source = path.read_text(), str(path)
    else:
        shipped = _shipped()
        if name_or_path not in shipped:
            raise unknown("protocol", name_or_path, shipped)
        text, source = shipped[name_or_path].read_text(), name_or_path
    from ddr.yaml_input import load_yaml

    raw = load_yaml(text, f"protocol {source}")  # a key given twice is refused, not silently the last one
    if not isinstance(raw, dict):
        raise DDRError(f"protocol {source}: not a YAML mapping")
    if "include" in raw:  # lm-eval-harness style: a base protocol, then this file's changes
        if depth > 8:
            raise DDRError(f"protocol {source}: include chain too deep")
        base_name = str(raw.pop("include"))
        if path.is_file() and (path.parent / base_name).is_file():
            base_name = str(path.parent / base_name)
        base, _ = _read_raw(base_name, depth + 1)
        base.pop("abstract", None)
        raw = _merge(base, raw)
    return raw, source


def load_protocol(name_or_path: str) -> Protocol:
    """A shipped protocol by name, or a YAML file by path. `include: NAME` inherits from another protocol
    (this file's keys override, mappings merge); files with `abstract: true` are bases, not protocols."""
    from ddr.protocols.cross_arch import derive_student, split_name

    derived = split_name(name_or_path)
    if derived is not None:  # BASE:STUDENT, the cross-architecture protocol of BASE
        return derive_student(load_protocol(derived[0]), derived[1])
    raw, source = _read_raw(name_or_path)
    if raw.get("abstract"):
        raise DDRError(f"protocol {source} is an abstract base; use a protocol that includes it")
    return parse_protocol(raw, source)


def raw_protocol(name_or_path: str) -> dict[str, Any]:
    """The protocol's YAML with its `include:` chain merged, without building it (building validates
    augmentations and losses, which imports torch): for listings and `show`, which train nothing."""
    raw, source = _read_raw(name_or_path)
    if raw.get("abstract"):
        raise DDRError(f"protocol {source} is an abstract base; use a protocol that includes it")
    return raw


def protocol_summary(name_or_path: str) -> dict[str, Any]:
    """Name, version, data set, model, label and description as the YAML states them (see raw_protocol)."""
    raw = raw_protocol(name_or_path)
    return {"name": str(raw.get("name", name_or_path)), "version": int(raw.get("version", 0)),
            "dataset": str(raw.get("dataset", "")), "model": str(raw.get("model", "")),
            "label": str(_get(raw, "label")), "description": str(_get(raw, "description"))}


def default_protocol(dataset: str, metric: str = "lrs", label: str = "hard") -> str:
    """The shipped protocol used when the command names none: <dataset>-<metric>-<label>, else the
    data set's LRS protocol for that label (the method's recipe serves accuracy and ARS too)."""
    name = f"{dataset}-{metric}-{label}"
    if name not in _shipped():
        name = f"{dataset}-lrs-{label}"
    if name not in _shipped():
        raise DDRError(f"no default protocol for {dataset} ({metric}, {label} labels); pass --protocol "
                       f"(shipped: {', '.join(list_protocols())})")
    return name
