"""Type, finiteness and range checks on a protocol's numeric fields, made before anything trains.

A NaN learning rate or weight decay trains every student at chance and still yields a plausible LRS, so
every number a protocol states is checked here; a string where a number belongs is refused too (YAML
reads `1e-3` as text: write `1.0e-3`).
"""
from __future__ import annotations

from typing import Any

from ddr.checks import number
from ddr.errors import DDRError


def _text(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise DDRError(f"{what} must be a non-empty name, got {value!r}")


def check_recipe(r: Any) -> None:
    """A TrainRecipe's fields (called from its __post_init__; the caller adds where it is)."""
    for name in ("epochs", "batch_size", "test_interval"):
        number(getattr(r, name), name, low=1, integer=True)
    if r.step_size is not None:
        number(r.step_size, "step_size", low=1, integer=True)
    if r.lr is not None:
        number(r.lr, "lr", low=0, low_open=True)
    number(r.momentum, "momentum", low=0, high=1)
    number(r.weight_decay, "weight_decay", low=0)
    number(r.gamma, "gamma", low=0, low_open=True, high=1)
    if len(r.betas) != 2:
        raise DDRError(f"betas must be two numbers, got {list(r.betas)!r}")
    for b in r.betas:
        number(b, "betas", low=0, high=1)
    for name in ("optimizer", "scheduler", "loss"):
        _text(getattr(r, name), name)
    if r.augmentation is not None and not isinstance(r.augmentation, dict):
        raise DDRError(f"augmentation must be a mapping, got {r.augmentation!r}")
    if not isinstance(r.loss_args, dict):
        raise DDRError(f"loss_args must be a mapping, got {r.loss_args!r}")
    for key, value in r.loss_args.items():
        if key == "scale_t2":
            if not isinstance(value, bool):
                raise DDRError(f"loss_args.scale_t2 must be true or false, got {value!r}")
        elif key == "temperature":
            number(value, "loss_args.temperature", low=0, low_open=True)
        else:
            number(value, f"loss_args.{key}", low=0)


def check_protocol_fields(raw: dict[str, Any], source: str) -> None:
    """The top-level fields of a protocol mapping, before they are converted."""
    where = f"protocol {source}"
    for key in ("name", "dataset", "model"):
        _text(raw[key], f"{where}: {key}")
    for key in ("label", "lr_policy", "description", "notes"):
        if key in raw and not isinstance(raw[key], str):
            raise DDRError(f"{where}: {key} must be text, got {raw[key]!r}")
    try:
        number(raw["version"], "version", low=1, integer=True)
        if "rounds" in raw:
            number(raw["rounds"], "rounds", low=1, integer=True)
        if "seed_base" in raw:
            number(raw["seed_base"], "seed_base", low=0, integer=True)
        if "weight" in raw:
            number(raw["weight"], "weight", low=0, high=1)
        grid = raw["lr_grid"]
        if not isinstance(grid, list) or not grid:
            raise DDRError(f"lr_grid must list positive learning rates, got {grid!r}")
        for v in grid:
            number(v, "lr_grid values", low=0, low_open=True)
        zca = raw.get("zca")
        if isinstance(zca, dict) and "eps" in zca:
            number(zca["eps"], "zca.eps", low=0, low_open=True)
    except DDRError as exc:
        raise DDRError(f"{where}: {exc}") from None
    for key in ("model_args", "train", "real"):
        if key in raw and raw[key] is not None and not isinstance(raw[key], dict):
            raise DDRError(f"{where}: {key} must be a mapping")
