"""Versioned evaluation protocols: YAML files shipped in this package (`ddr/protocols/*.yaml`).

A protocol fixes everything that can move a number: model, optimiser, schedule, epochs, batch sizes,
augmentation, labels, loss, LR grid, test interval, rounds and seed base. Bump `version` on any such
change; the version is part of every training's seed and cache key.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from ddr.errors import DDRError, unknown

OPTIMIZERS = ("sgd", "adam", "adamw")
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
    augmentation: dict[str, Any] | None = None
    loss: str = "ce"

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise DDRError(f"unknown optimizer '{self.optimizer}'; valid: {', '.join(OPTIMIZERS)}")
        if self.scheduler not in SCHEDULERS:
            raise DDRError(f"unknown scheduler '{self.scheduler}'; valid: {', '.join(SCHEDULERS)}")
        if self.scheduler == "step" and not self.step_size:
            raise DDRError("scheduler 'step' needs step_size")  # DD-Ranking asserted deep inside training
        for name in ("epochs", "batch_size", "test_interval"):
            if int(getattr(self, name)) < 1:
                raise DDRError(f"{name} must be at least 1")

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d


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
        raw["betas"] = tuple(raw["betas"])
    try:
        return TrainRecipe(**raw)
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
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True).encode()).hexdigest()


_TOP = {"name", "version", "dataset", "model", "model_args", "train", "real", "lr_grid", "rounds",
        "seed_base", "weight", "label", "lr_policy", "description"}
_REQUIRED = ("name", "version", "dataset", "model", "train", "real", "lr_grid")


def parse_protocol(raw: Any, source: str) -> Protocol:
    if not isinstance(raw, dict):
        raise DDRError(f"protocol {source}: not a YAML mapping")
    for key in _REQUIRED:
        if key not in raw:
            raise DDRError(f"protocol {source}: missing required field '{key}'")
    extra = sorted(set(raw) - _TOP)
    if extra:
        raise DDRError(f"protocol {source}: unknown field '{extra[0]}'; valid: {', '.join(sorted(_TOP))}")
    grid = tuple(sorted(float(v) for v in raw["lr_grid"]))
    if not grid or any(v <= 0 for v in grid):
        raise DDRError(f"protocol {source}: lr_grid must list positive learning rates")
    train = _recipe(raw["train"], f"protocol {source}: train")
    real = _recipe(raw["real"], f"protocol {source}: real")
    if real.lr is None:
        raise DDRError(f"protocol {source}: real needs a fixed lr (the reference is trained once, not searched)")
    if raw.get("lr_policy", "search") not in ("search", "method"):
        raise DDRError(f"protocol {source}: lr_policy must be 'search' or 'method'")
    if not 0 <= float(raw.get("weight", 0.5)) <= 1:
        raise DDRError(f"protocol {source}: weight must lie in [0, 1]")
    return Protocol(
        name=str(raw["name"]), version=int(raw["version"]), dataset=str(raw["dataset"]), model=str(raw["model"]),
        train=train, real=real, lr_grid=grid,
        rounds=int(raw.get("rounds", 5)), seed_base=int(raw.get("seed_base", 0)),
        weight=float(raw.get("weight", 0.5)), label=str(raw.get("label", "hard")),
        lr_policy=str(raw.get("lr_policy", "search")), model_args=dict(raw.get("model_args") or {}),
        description=str(raw.get("description", "")), raw=raw,
    )


def _shipped() -> dict[str, Any]:
    files = resources.files("ddr.protocols")
    return {p.name[:-5]: p for p in files.iterdir() if p.name.endswith(".yaml")}


def list_protocols() -> list[str]:
    return sorted(_shipped())


def load_protocol(name_or_path: str) -> Protocol:
    """A shipped protocol by name, or a YAML file by path."""
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
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DDRError(f"protocol {source}: invalid YAML ({str(exc).splitlines()[0]})") from None
    return parse_protocol(raw, source)


def default_protocol(dataset: str, metric: str = "lrs", label: str = "hard") -> str:
    """The shipped protocol used when the command names none."""
    name = f"{dataset}-{metric}-{label}"
    if name not in _shipped():
        raise DDRError(f"no default protocol for {dataset} ({metric}, {label} labels); pass --protocol "
                       f"(shipped: {', '.join(list_protocols())})")
    return name
