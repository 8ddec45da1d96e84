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
from typing import Any

import yaml

from ddr.errors import DDRError, unknown
from ddr.kernel.digests import json_sha256
from ddr.protocols.checks import check_protocol_fields, check_recipe

OPTIMIZERS = ("sgd", "adam", "adamw")
FIVE_LR_GRID = (0.001, 0.005, 0.01, 0.05, 0.1)  # DD-Ranking's search grid (reference 1.1)
BATCH_MIXING = ("mixup", "cutmix")  # the batch mixing ddr drops from the hard-label run
# what DD-Ranking dropped from it (`aug_func=None` without use_aug_for_hard): its batch augmentation, DSA
# included (deviation b3); the DD-Ranking editions do the same
BATCH_AUGMENTATION = (*BATCH_MIXING, "dsa")
IOR_RANDOM_SIDES = ("method", "search")
SCHEDULERS = ("step", "cosine", "cosineannealing", "constant")


@dataclass(frozen=True)
class TrainRecipe:
    """How one student is trained. `lr` is set for fixed-LR recipes (the real-data reference)."""

    epochs: int
    batch_size: int
    optimizer: str = "sgd"
    lr: float | None = None
    momentum: float = 0.9
    weight_decay: float = 5e-4
    betas: tuple[float, float] = (0.9, 0.999)
    scheduler: str = "step"
    step_size: int | None = None
    gamma: float = 0.1
    test_interval: int = 10
    # no test point at epochs <= test_after (1-based): DD-Ranking 0.1.x tested only after 0.8 x epochs
    # (the leaderboard edition); 0 = from the first interval on
    test_after: int = 0
    augmentation: dict[str, Any] | None = None
    loss: str = "ce"
    loss_args: dict[str, Any] = field(default_factory=dict)  # temperature, scale_t2, mse_weight, ce_weight

    def __post_init__(self):
        check_recipe(self)
        if self.optimizer not in OPTIMIZERS:
            raise DDRError(f"unknown optimizer '{self.optimizer}'; valid: {', '.join(OPTIMIZERS)}")
        if self.scheduler not in SCHEDULERS:
            raise DDRError(f"unknown scheduler '{self.scheduler}'; valid: {', '.join(SCHEDULERS)}")
        if self.scheduler == "step" and not self.step_size:
            raise DDRError("scheduler 'step' needs step_size")  # DD-Ranking asserted deep inside training
        for name in ("epochs", "batch_size", "test_interval"):
            if int(getattr(self, name)) < 1:
                raise DDRError(f"{name} must be at least 1")
        if not 0 <= int(self.test_after) < int(self.epochs):
            raise DDRError(f"test_after must lie in [0, epochs), got {self.test_after}")
        from ddr.augment import build_augmentation
        from ddr.losses import build_loss

        build_augmentation(self.augmentation)  # unknown names or keys fail here, at load time
        valid = {"temperature", "scale_t2", "mse_weight", "ce_weight"}
        extra = sorted(set(self.loss_args) - valid)
        if extra:
            raise DDRError(f"loss_args: unknown key '{extra[0]}'; valid: {', '.join(sorted(valid))}")
        build_loss(self.loss, **self.loss_args)

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        if not self.test_after:  # absent unless set, so the recipes (and cache keys) from before it stay as they were
            del d["test_after"]
        return d

    def tests_at(self, done: int) -> bool:
        """Whether the student is tested after `done` epochs (1-based): every test_interval epochs and after
        the last one, never at or before test_after. The one rule of every engine."""
        return done > self.test_after and (done % self.test_interval == 0 or done == self.epochs)


@dataclass(frozen=True)
class TeacherSpec:
    """A teacher network: trained by ddr on the real data with `train` when no checkpoint is given."""

    model: str
    train: TrainRecipe
    model_args: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "model_args": self.model_args, "train": self.train.as_dict()}


@dataclass(frozen=True)
class SoftLabels:
    """Soft-label regime (reference 2.3): mode S (one stored label per image; random sets labelled once
    by the teachers) or M (the teacher ensemble relabels every augmented batch)."""

    mode: str
    teachers: tuple[TeacherSpec, ...]
    use_aug_for_hard: bool = False


def _soft(raw: Any, where: str) -> SoftLabels:
    if not isinstance(raw, dict):
        raise DDRError(f"{where} must be a mapping")
    valid = {"mode", "teachers", "use_aug_for_hard"}
    extra = sorted(set(raw) - valid)
    if extra:
        raise DDRError(f"{where}: unknown field '{extra[0]}'; valid: {', '.join(sorted(valid))}")
    mode = str(raw.get("mode", ""))
    if mode not in ("S", "M"):
        raise DDRError(f"{where}: mode must be 'S' or 'M', got '{mode}'")
    teachers = raw.get("teachers") or []
    if not teachers:
        raise DDRError(f"{where}: needs at least one teacher")
    specs = []
    for i, t in enumerate(teachers):
        if not isinstance(t, dict) or "model" not in t or "train" not in t:
            raise DDRError(f"{where}: teachers[{i}] needs 'model' and 'train'")
        rec = _recipe(t["train"], f"{where}: teachers[{i}].train")
        if rec.lr is None:
            raise DDRError(f"{where}: teachers[{i}].train needs a fixed lr")
        specs.append(TeacherSpec(str(t["model"]), rec, dict(t.get("model_args") or {})))
    return SoftLabels(mode, tuple(specs), bool(raw.get("use_aug_for_hard", False)))


def _recipe(raw: Any, where: str) -> TrainRecipe:
    if not isinstance(raw, dict):
        raise DDRError(f"{where} must be a mapping")
    valid = {f.name for f in dataclasses.fields(TrainRecipe)}
    extra = sorted(set(raw) - valid)
    if extra:
        raise DDRError(f"{where}: unknown field '{extra[0]}'; valid: {', '.join(sorted(valid))}")
    missing = [k for k in ("epochs", "batch_size") if k not in raw]
    if missing:
        raise DDRError(f"{where}: missing required field '{missing[0]}'")
    raw = dict(raw)
    if "betas" in raw:
        if not isinstance(raw["betas"], (list, tuple)):
            raise DDRError(f"{where}: betas must be two numbers, got {raw['betas']!r}")
        raw["betas"] = tuple(raw["betas"])
    try:
        return TrainRecipe(**raw)
    except TypeError:  # betas that are not a list of numbers, and the like
        raise DDRError(f"{where}: fields of the wrong type") from None
    except DDRError as exc:
        raise DDRError(f"{where}: {exc}") from None


@dataclass(frozen=True)
class Protocol:
    name: str
    version: int
    dataset: str
    model: str
    train: TrainRecipe
    real: TrainRecipe
    lr_grid: tuple[float, ...]
    rounds: int = 5
    seed_base: int = 0
    weight: float = 0.5
    label: str = "hard"
    lr_policy: str = "search"  # 'search': both sides searched; 'method': both use the set's lr.pt if it has one
    model_args: dict[str, Any] = field(default_factory=dict)
    soft: SoftLabels | None = None
    zca: dict[str, Any] | None = None  # {eps: 0.1}: whiten train, test and random sets (MTT/DATM preprocessing)
    hard_lr_grid: tuple[float, ...] = FIVE_LR_GRID  # searched for Acc(syn, hard) of a soft-label protocol
    paired: bool = False  # syn and random students of a round share initialisation and batch order
    ior_random: str = "method"  # lr_policy method: the random side the score's IOR uses (both are recorded)
    ddp: bool = False  # the real-data reference trains data-parallel over several GPUs when present (ddr.train.ddp)
    description: str = ""
    notes: str = ""
    selection: str = "test"  # 'test' | 'val' | 'last': which checkpoint and LR are reported (ddr.eval.selection)
    val_fraction: float = 0.2  # share of each class carved off the training set under selection 'val'
    # the ops the hard-label run of a soft-label protocol drops without use_aug_for_hard: Mixup/CutMix in ddr;
    # DSA too in the DD-Ranking editions (deviation b3). Set by ddr.protocols.editions, never in a file
    hard_dropped: tuple[str, ...] = BATCH_MIXING
    edition: str = "ddr"  # a run option, never in a file: ddr.protocols.editions
    # what the edition changed from the file's recipe, {"real.epochs": [before, after], ...} (result.json)
    edition_changes: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

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


_TOP = {"name", "version", "dataset", "model", "model_args", "train", "real", "lr_grid", "rounds",
        "seed_base", "weight", "label", "lr_policy", "description", "notes", "soft", "zca", "hard_lr_grid",
        "paired", "ior_random", "ddp", "selection", "val_fraction"}
_REQUIRED = ("name", "version", "dataset", "model", "train", "real", "lr_grid")


def _field_defaults(cls: type) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


# What a protocol file may leave out: the dataclasses above are the one place these values are stated.
DEFAULTS: dict[str, Any] = _field_defaults(Protocol)
RECIPE_DEFAULTS: dict[str, Any] = _field_defaults(TrainRecipe)


def _get(raw: dict[str, Any], key: str) -> Any:
    return raw.get(key, DEFAULTS[key])


def parse_protocol(raw: Any, source: str) -> Protocol:
    if not isinstance(raw, dict):
        raise DDRError(f"protocol {source}: not a YAML mapping")
    for key in _REQUIRED:
        if key not in raw:
            raise DDRError(f"protocol {source}: missing required field '{key}'")
    extra = sorted(set(raw) - _TOP)
    if extra:
        raise DDRError(f"protocol {source}: unknown field '{extra[0]}'; valid: {', '.join(sorted(_TOP))}")
    check_protocol_fields(raw, source)
    loss = raw["train"].get("loss", RECIPE_DEFAULTS["loss"]) if isinstance(raw.get("train"), dict) \
        else RECIPE_DEFAULTS["loss"]
    if _get(raw, "label") == "hard" and loss != "ce":
        raise DDRError(f"protocol {source}: label 'hard' trains with cross-entropy ('ce'); loss {loss!r} needs "
                       "soft labels (label: soft with a soft section)")
    grid = _lr_list(raw["lr_grid"], f"protocol {source}: lr_grid")
    hard_grid = _lr_list(_get(raw, "hard_lr_grid"), f"protocol {source}: hard_lr_grid")
    ior_random = str(_get(raw, "ior_random"))
    if ior_random not in IOR_RANDOM_SIDES:
        raise DDRError(f"protocol {source}: ior_random must be one of {', '.join(IOR_RANDOM_SIDES)}")
    if not isinstance(_get(raw, "paired"), bool):
        raise DDRError(f"protocol {source}: paired must be true or false")
    train = _recipe(raw["train"], f"protocol {source}: train")
    real = _recipe(raw["real"], f"protocol {source}: real")
    if real.lr is None:
        raise DDRError(f"protocol {source}: real needs a fixed lr (the reference is trained once, not searched)")
    if _get(raw, "lr_policy") not in ("search", "method"):
        raise DDRError(f"protocol {source}: lr_policy must be 'search' or 'method'")
    if not 0 <= float(_get(raw, "weight")) <= 1:
        raise DDRError(f"protocol {source}: weight must lie in [0, 1]")
    label = str(_get(raw, "label"))
    if label not in ("hard", "soft"):
        raise DDRError(f"protocol {source}: label must be 'hard' or 'soft'")
    soft = _soft(raw["soft"], f"protocol {source}: soft") if raw.get("soft") is not None else None
    if label == "soft" and soft is None:
        raise DDRError(f"protocol {source}: label 'soft' needs a 'soft' section (mode, teachers)")
    if label == "soft" and train.loss == "ce":
        raise DDRError(f"protocol {source}: label 'soft' needs a soft loss in train (kl, sce or mse_gt)")
    if not isinstance(_get(raw, "ddp"), bool):
        raise DDRError(f"protocol {source}: ddp must be true or false")
    zca = raw.get("zca")
    if zca is not None and (not isinstance(zca, dict) or set(zca) - {"eps"}):
        raise DDRError(f"protocol {source}: zca must be a mapping with only 'eps'")
    selection = str(_get(raw, "selection"))
    if selection not in ("test", "val", "last"):
        raise DDRError(f"protocol {source}: selection must be 'test', 'val' or 'last'")
    val_fraction = float(_get(raw, "val_fraction"))
    if not 0.0 < val_fraction < 0.5:
        raise DDRError(f"protocol {source}: val_fraction must lie in (0, 0.5)")
    if selection == "val" and zca is not None:
        raise DDRError(f"protocol {source}: selection 'val' is not supported with zca (the whitening is fit on "
                       "the training set the validation split comes from)")
    return Protocol(
        name=str(raw["name"]), version=int(raw["version"]), dataset=str(raw["dataset"]), model=str(raw["model"]),
        train=train, real=real, lr_grid=grid,
        rounds=int(_get(raw, "rounds")), seed_base=int(_get(raw, "seed_base")),
        weight=float(_get(raw, "weight")), label=label,
        lr_policy=str(_get(raw, "lr_policy")), model_args=dict(raw.get("model_args") or {}),
        soft=soft, zca=zca, description=str(_get(raw, "description")), notes=str(_get(raw, "notes")), raw=raw,
        hard_lr_grid=hard_grid, paired=bool(_get(raw, "paired")), ior_random=ior_random,
        ddp=bool(_get(raw, "ddp")),
        selection=selection, val_fraction=val_fraction,
    )


def _lr_list(raw: Any, where: str) -> tuple[float, ...]:
    try:
        grid = tuple(sorted(float(v) for v in raw))
    except (TypeError, ValueError):
        grid = ()
    if not grid or any(v <= 0 for v in grid):
        raise DDRError(f"{where} must list positive learning rates")
    return grid


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
