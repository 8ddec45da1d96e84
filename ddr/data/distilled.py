"""Distilled-set folders: read, validate and write.

Folder format (a superset of DD-Ranking's): images.pt (N x C x H x W float, class-major, normalised
pixel space), optional labels.pt (N hard labels or N x K soft labels/logits), optional lr.pt (the
method's learned LR), meta.json (method, dataset, ipc, ...), and for random baselines indices.json (plus
files.json for an image-folder data set: the original files, path + sha256 + label, class-major).
A folder of class sub-folders holding image files is read too.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ddr.data.digest import dvc_md5, tensor_sha256
from ddr.data.folder_checks import check_tensor_kinds, read_files, read_indices, read_meta
from ddr.data.real_data import RealData
from ddr.errors import DDRError
from ddr.kernel.atomic import atomic_folder

# how image files at another size are brought to the data set's size (torchvision's Resize on a PIL
# image, as DD-Ranking's loader did): (name recorded in the result, PIL filter)
FOLDER_RESIZE = ("bilinear (PIL, antialiased)", 2)  # 2 = PIL.Image.BILINEAR
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".ppm", ".pgm", ".tif", ".tiff"}


@dataclass
class DistilledSet:
    images: torch.Tensor
    labels: torch.Tensor | None = None  # (N,) int64 hard labels or (N, K) float soft labels/logits
    lr: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    indices: list[list[int]] | None = None  # random baselines: training-set indices per class
    # the original files: of a random baseline of a folder data set, and of an image folder resized on load
    files: list[dict[str, Any]] | None = None

    @property
    def label_kind(self) -> str:
        if self.labels is None:
            return "class-major"
        return "soft" if self.labels.ndim == 2 else "hard"

    def hard_labels(self, num_classes: int) -> torch.Tensor:
        """Hard labels: the given ones, else the class-major default (an image's class is its position,
        as DD-Ranking assumes; soft labels do not override it)."""
        if self.labels is None or self.labels.ndim == 2:
            return torch.arange(num_classes).repeat_interleave(len(self.images) // num_classes)
        return self.labels.long()

    def digest(self) -> str:
        """The DVC md5 of the folder when read from disk, else 'mem:' + an md5 of the tensors
        (MLflow caps a dataset digest at 36 characters, exactly a DVC directory md5)."""
        if self.path is not None:
            return dvc_md5(self.path)
        return "mem:" + tensor_sha256(self.images, self.labels, algorithm="md5")

    def content_digest(self) -> str:
        """sha256 of the images and labels alone: the same set under another method name, meta.json or folder
        has the same content digest (the folder's DVC md5, digest(), changes with its meta.json)."""
        return tensor_sha256(self.images, self.labels)


def _load_tensor(path: Path) -> Any:
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a corrupt or non-tensor file: say which file, not where torch failed
        first = (str(exc).splitlines() or [""])[0][:200]  # an empty file raises with an empty message
        raise DDRError(f"cannot read {path}: {type(exc).__name__}{': ' + first if first else ''}") from None


def _read_image_folder(path: Path, data: RealData) -> DistilledSet:
    from PIL import Image

    classes = sorted(p for p in path.iterdir() if p.is_dir())
    if len(classes) != data.num_classes:
        raise DDRError(f"{path}: {len(classes)} class folders, but {data.name} has {data.num_classes} classes")
    mode = "L" if data.channels == 1 else "RGB"
    h, w = data.im_size
    images, labels, sizes, originals = [], [], set(), []
    for c, folder in enumerate(classes):
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        for f in files:
            originals.append({"path": str(f), "label": c})
            try:
                with Image.open(f) as im:
                    im = im.convert(mode)
                    if im.size != (w, h):  # e.g. D4M's 224 px PNGs of CIFAR: DD-Ranking's Resize(im_size)
                        sizes.add(im.size)
                        im = im.resize((w, h), FOLDER_RESIZE[1])
                    arr = np.asarray(im, dtype=np.float32) / 255.0
            except (OSError, ValueError, SyntaxError) as exc:  # PIL's errors for truncated or non-image files
                raise DDRError(f"{f}: not a readable image ({type(exc).__name__})") from None
            images.append(arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1))
            labels.append(c)
    if not images:
        raise DDRError(f"{path}: no image files in its class folders")
    x = data.normalise(torch.from_numpy(np.stack(images)))
    meta: dict[str, Any] = {"format": "image-folder"}
    kept = None
    if sizes:
        meta["resized"] = {"from": sorted([sh, sw] for sw, sh in sizes), "to": [h, w],
                           "interpolation": FOLDER_RESIZE[0]}
        # the files themselves, for the editions that crop them at full size as DD-Ranking did (deviation b2)
        from ddr.kernel.digests import sha256_file

        kept = [{**o, "sha256": sha256_file(Path(o["path"]))} for o in originals]
    return DistilledSet(x, torch.tensor(labels), meta=meta, path=path, files=kept)


def read_distilled(path: str | Path, data: RealData | None = None) -> DistilledSet:
    """Read a distilled-set folder (images.pt format, or an image folder, which needs `data`)."""
    path = Path(path)
    if not path.exists():
        raise DDRError(f"no such distilled set: {path}")
    if not path.is_dir():
        raise DDRError(f"{path} is not a folder (a distilled set is a folder with images.pt, or class folders)")
    if not (path / "images.pt").is_file():
        if any(p.is_dir() for p in path.iterdir()):
            if data is None:
                raise DDRError(f"{path} is an image folder; reading it needs the data set")
            return _read_image_folder(path, data)
        raise DDRError(f"{path} holds neither images.pt nor class folders")
    images = _load_tensor(path / "images.pt")
    if not isinstance(images, torch.Tensor):
        raise DDRError(f"{path / 'images.pt'} holds a {type(images).__name__}, not a tensor")
    labels = _load_tensor(path / "labels.pt") if (path / "labels.pt").is_file() else None
    if labels is not None and not isinstance(labels, torch.Tensor):
        raise DDRError(f"{path / 'labels.pt'} holds a {type(labels).__name__}, not a tensor")
    lr = None
    if (path / "lr.pt").is_file():
        raw = _load_tensor(path / "lr.pt")
        try:
            lr = float(raw.item() if isinstance(raw, torch.Tensor) else raw)
        except (TypeError, ValueError, RuntimeError):
            raise DDRError(f"{path / 'lr.pt'} must hold one number") from None
    check_tensor_kinds(path, images, labels)
    meta = read_meta(path / "meta.json") if (path / "meta.json").is_file() else {}
    indices = read_indices(path / "indices.json") if (path / "indices.json").is_file() else None
    files = read_files(path / "files.json") if (path / "files.json").is_file() else None
    return DistilledSet(images.detach().float(), labels, lr, meta, path, indices, files)


def validate(ds: DistilledSet, data: RealData, ipc: int) -> None:
    """Refuse a set that cannot be evaluated as (data set, ipc): one clear line per problem."""
    where = str(ds.path) if ds.path else "distilled set"
    x = ds.images
    if x.ndim != 4:
        raise DDRError(f"{where}: images have shape {tuple(x.shape)}; expected N x C x H x W")
    n, c, h, w = x.shape
    if c != data.channels:
        raise DDRError(f"{where}: images have {c} channels; {data.name} has {data.channels}")
    if (h, w) != data.im_size:
        raise DDRError(f"{where}: images are {h}x{w}; {data.name} images are {data.im_size[0]}x{data.im_size[1]}")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).sum())
        raise DDRError(f"{where}: images hold {bad} NaN or Inf pixel values")
    k = data.num_classes
    if ipc < 1:
        raise DDRError(f"ipc must be at least 1, got {ipc}")
    if n != k * ipc:
        per = f"{n / k:g}"
        raise DDRError(f"{where}: {n} images for {k} classes is {per} per class, but ipc is {ipc}")
    if ds.labels is not None:
        lab = ds.labels
        if lab.shape[0] != n:
            raise DDRError(f"{where}: labels hold {lab.shape[0]} entries for {n} images")
        if lab.ndim == 2:
            if lab.shape[1] != k:
                raise DDRError(f"{where}: soft labels have {lab.shape[1]} classes; {data.name} has {k}")
            if not torch.isfinite(lab).all():
                raise DDRError(f"{where}: soft labels hold NaN or Inf values")
        elif lab.ndim == 1:
            if lab.is_floating_point() and not torch.equal(lab, lab.round()):
                raise DDRError(f"{where}: 1-D labels must be integer class indices")
            if lab.min() < 0 or lab.max() >= k:
                raise DDRError(f"{where}: hard labels must lie in [0, {k - 1}]")
            counts = torch.bincount(lab.long(), minlength=k)
            if not bool((counts == ipc).all()):
                raise DDRError(f"{where}: hard labels give {counts.tolist()} images per class; ipc {ipc} needs {ipc} each")
        else:
            raise DDRError(f"{where}: labels have shape {tuple(lab.shape)}; expected N or N x {k}")
    if ds.lr is not None and not (math.isfinite(ds.lr) and ds.lr > 0):
        raise DDRError(f"{where}: lr.pt holds {ds.lr}; a learning rate must be positive and finite")
    for key, expected in (("dataset", data.name), ("ipc", ipc)):
        if key in ds.meta and ds.meta[key] != expected:
            raise DDRError(f"{where}: meta.json says {key} {ds.meta[key]!r}, but the evaluation asks for {expected!r}")


def write_distilled(path: str | Path, ds: DistilledSet, overwrite: bool = False) -> Path:
    """Write a distilled-set folder atomically: a temporary sibling folder renamed into place, so a
    crash never leaves a half-written set where a finished one was."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise DDRError(f"{path} exists; pass --force to replace it")
    with atomic_folder(path) as tmp:
        torch.save(ds.images.detach().cpu().contiguous(), tmp / "images.pt")
        if ds.labels is not None:
            torch.save(ds.labels.detach().cpu().contiguous(), tmp / "labels.pt")
        if ds.lr is not None:
            torch.save(torch.tensor(float(ds.lr)), tmp / "lr.pt")
        if ds.indices is not None:
            (tmp / "indices.json").write_text(json.dumps(ds.indices) + "\n")
        if ds.files is not None:
            (tmp / "files.json").write_text(json.dumps(ds.files, indent=1) + "\n")
        (tmp / "meta.json").write_text(json.dumps(ds.meta, indent=2, sort_keys=True) + "\n")
    return path
