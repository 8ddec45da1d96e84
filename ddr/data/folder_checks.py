"""Checks on what a distilled-set folder holds, made when it is read: JSON side files of the right shape,
image and label tensors of usable dtypes. Each failure is one DDRError naming the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from ddr.errors import DDRError

# Images live in the data set's normalised pixel space (mean 0, std 1 per channel): a value this far out
# is raw pixels (0-255) or garbage, and would give plausible but wrong scores.
MAX_ABS_PIXEL = 100.0
_STR_META = ("method", "dataset")
_INT_META = ("ipc", "seed")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except UnicodeDecodeError:
        raise DDRError(f"{path}: not a text file (expected JSON)") from None
    except json.JSONDecodeError as exc:
        raise DDRError(f"{path}: invalid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise DDRError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None


def read_meta(path: Path) -> dict[str, Any]:
    """meta.json: a mapping; method/dataset are names, ipc/seed whole numbers, where present."""
    meta = _read_json(path)
    if not isinstance(meta, dict):
        raise DDRError(f"{path}: must hold a JSON object, not a {type(meta).__name__}")
    for key in _STR_META:
        if key in meta and (not isinstance(meta[key], str) or not meta[key]):
            raise DDRError(f"{path}: '{key}' must be a non-empty string, got {meta[key]!r}")
    for key in _INT_META:
        if key in meta and (isinstance(meta[key], bool) or not isinstance(meta[key], int)):
            raise DDRError(f"{path}: '{key}' must be a whole number, got {meta[key]!r}")
    return meta


def read_indices(path: Path) -> list[list[int]]:
    """indices.json of a random baseline: one list of training-set indices per class."""
    idx = _read_json(path)
    if not isinstance(idx, list) or not all(
            isinstance(c, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in c)
            for c in idx):
        raise DDRError(f"{path}: must hold one list of non-negative indices per class")
    return idx


def read_files(path: Path) -> list[dict[str, Any]]:
    """files.json of a random baseline of an image-folder data set: its original files, class-major, each
    {path (relative to the data set's root), sha256, label}."""
    files = _read_json(path)
    ok = isinstance(files, list) and all(
        isinstance(f, dict) and set(f) == {"path", "sha256", "label"} and isinstance(f["path"], str)
        and isinstance(f["sha256"], str) and len(f["sha256"]) == 64
        and isinstance(f["label"], int) and not isinstance(f["label"], bool) for f in files)
    if not ok:
        raise DDRError(f"{path}: must hold a list of {{path, sha256, label}} entries, one per image")
    return files


def check_images(images: torch.Tensor, where: str) -> None:
    """Real floating-point pixels in the data set's normalised space (NaN/Inf are reported by validate)."""
    if not images.is_floating_point():
        raise DDRError(f"{where}: images are {str(images.dtype).replace('torch.', '')}; expected float pixels in "
                       "the data set's normalised space (normalise raw 0-255 or 0-1 pixels first)")
    if images.numel():
        finite = images[torch.isfinite(images)]
        peak = float(finite.abs().max()) if finite.numel() else 0.0
        if peak > MAX_ABS_PIXEL:
            raise DDRError(f"{where}: pixel values reach {peak:.4g}; images must be in the data set's normalised "
                           f"pixel space (|x| <= {MAX_ABS_PIXEL:g})")


def check_tensor_kinds(path: Path, images: torch.Tensor, labels: torch.Tensor | None) -> None:
    """images.pt as check_images says; labels: integer or floating, at least 1-D."""
    check_images(images, str(path / "images.pt"))
    if labels is not None:
        if labels.ndim == 0:
            raise DDRError(f"{path / 'labels.pt'}: holds a single number; expected N labels or N x K soft labels")
        if labels.is_complex() or labels.dtype == torch.bool:
            raise DDRError(f"{path / 'labels.pt'}: labels are {str(labels.dtype).replace('torch.', '')}; expected "
                           "integer class indices or float soft labels")
