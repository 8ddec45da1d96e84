"""DD-Ranking's `custom_train_trans` / `custom_val_trans` -> ddr's per-image train ops.

DD-Ranking builds torchvision pipelines from YAML lists of {name, args} (dict args are keywords, list args
positional) or takes a Python `transforms.Compose`. ddr keeps every set as the data set's normalised tensors
and applies the per-image ops on the batch (ddr.augment.transforms), so a pipeline maps when each step is a
crop/flip ddr has, or a step that only restates the tensor form (ToTensor, Normalize with the data set's
own statistics, Resize/CenterCrop to the image size). Anything else is refused by the key's name.
"""
from __future__ import annotations

from typing import Any

from ddr.errors import DDRError

# positional argument names of the torchvision transforms that can be mapped
_POSITIONAL: dict[str, tuple[str, ...]] = {
    "RandomResizedCrop": ("size", "scale", "ratio"), "RandomHorizontalFlip": ("p",),
    "RandomCrop": ("size", "padding"), "Normalize": ("mean", "std"), "Resize": ("size",),
    "CenterCrop": ("size",), "ToTensor": (),
}
# attributes read from a torchvision transform object, per class
_ATTRS = {"RandomResizedCrop": ("size", "scale", "ratio"), "RandomHorizontalFlip": ("p",),
          "RandomCrop": ("size", "padding"), "Normalize": ("mean", "std"), "Resize": ("size",),
          "CenterCrop": ("size",), "ToTensor": ()}


def _steps(key: str, spec: Any) -> list[tuple[str, dict[str, Any]]]:
    """(name, keyword args) per step of a YAML list or a torchvision Compose."""
    if isinstance(spec, (list, tuple)):
        steps = []
        for i, item in enumerate(spec):
            if not isinstance(item, dict) or "name" not in item or set(item) - {"name", "args"}:
                raise DDRError(f"{key}[{i}]: expected {{name, args}}, got {item!r}")
            name, args = str(item["name"]), item.get("args")
            if name not in _POSITIONAL:
                raise DDRError(f"{key}: transform '{name}' has no ddr equivalent (mappable: "
                               f"{', '.join(_POSITIONAL)})")
            if args is None:
                args = {}
            elif isinstance(args, (list, tuple)):
                if len(args) > len(_POSITIONAL[name]):
                    raise DDRError(f"{key}: {name} takes at most {len(_POSITIONAL[name])} positional args")
                args = dict(zip(_POSITIONAL[name], args))
            elif not isinstance(args, dict):
                raise DDRError(f"{key}: {name} args must be a mapping or a list, got {args!r}")
            extra = sorted(set(args) - set(_POSITIONAL[name]))
            if extra:
                raise DDRError(f"{key}: {name} argument '{extra[0]}' cannot be mapped")
            steps.append((name, dict(args)))
        return steps
    inner = getattr(spec, "transforms", None)
    if type(spec).__name__ == "Compose" and isinstance(inner, list):
        steps = []
        for t in inner:
            name = type(t).__name__
            if not type(t).__module__.startswith("torchvision.transforms") or name not in _ATTRS:
                raise DDRError(f"{key}: transform {name} ({type(t).__module__}) has no ddr equivalent; "
                               f"a custom transform class cannot be mapped")
            steps.append((name, {a: getattr(t, a) for a in _ATTRS[name]}))
        return steps
    raise DDRError(f"{key}: a {type(spec).__name__} cannot be mapped; give a list of {{name, args}} or a "
                   f"torchvision Compose of {', '.join(_ATTRS)}")


def _size(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return int(value[0]), int(value[0])
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise DDRError(f"size must be an int or [H, W], got {value!r}")


def _same(a: Any, b: tuple[float, ...]) -> bool:
    try:
        vals = [float(v) for v in a]
    except TypeError:
        return False
    return len(vals) == len(b) and all(abs(x - y) < 1e-4 for x, y in zip(vals, b))


def train_ops(key: str, spec: Any, im_size: tuple[int, int], mean: tuple[float, ...],
              std: tuple[float, ...], dataset: str) -> list[dict[str, Any]]:
    """ddr augmentation ops for a train pipeline (empty for None)."""
    if spec is None:
        return []
    ops: list[dict[str, Any]] = []
    for name, args in _steps(key, spec):
        size = args.get("size")
        if size is not None and name != "Resize" and _size(size) != tuple(im_size):
            raise DDRError(f"{key}: {name} to {size} differs from {dataset}'s image size {tuple(im_size)}")
        if name == "RandomResizedCrop":
            op: dict[str, Any] = {"name": "rrc"}
            for a in ("scale", "ratio"):
                if args.get(a) is not None:
                    op[a] = [float(v) for v in args[a]]
            ops.append(op)
        elif name == "RandomHorizontalFlip":
            ops.append({"name": "hflip", "p": float(args.get("p", 0.5))})
        elif name == "RandomCrop":
            if ops and ops[-1]["name"] == "random_crop":
                raise DDRError(f"{key}: two RandomCrop steps")
            ops.append({"name": "random_crop", "padding": int(args.get("padding") or 0)})
        elif name == "Normalize":
            if not (_same(args.get("mean"), mean) and _same(args.get("std"), std)):
                raise DDRError(f"{key}: Normalize({args.get('mean')}, {args.get('std')}) differs from {dataset}'s "
                               f"normalisation (mean {list(mean)}, std {list(std)}); ddr keeps every set in the "
                               "data set's own normalised space")
        elif name == "Resize" and _size(size) != tuple(im_size):
            raise DDRError(f"{key}: Resize to {size} differs from {dataset}'s image size {tuple(im_size)}")
    return ops


def check_val(key: str, spec: Any, im_size: tuple[int, int], mean: tuple[float, ...], std: tuple[float, ...],
              dataset: str) -> None:
    """A test pipeline: only steps that restate the data set's own test split (ddr tests on that split)."""
    if spec is None:
        return
    if train_ops(key, spec, im_size, mean, std, dataset):
        raise DDRError(f"{key}: random crops or flips at test time cannot be mapped; ddr tests on {dataset}'s "
                       "own test split")
