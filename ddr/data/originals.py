"""The random side's training images as their original files, as DD-Ranking's ImageFolder path read them.

DD-Ranking stored a random baseline of an image-folder data set as copies of the original files and trained
on them through ImageFolder with the method's torchvision train transform (RandomResizedCrop, flip, ...), so
every epoch's crop came from the full-resolution original (reference 2.5). ddr's training tensors are the
images already decoded at im_size (shorter side to im_size, centre crop): cropping from them would show the
random side less of each original than the methods' loaders did, lowering Acc(random) and inflating IOR.

So when a recipe's augmentation starts with per-image transforms that include a RandomResizedCrop, the random
side of a folder data set trains on an `OriginalImages`: its files, decoded batch by batch by DataLoader
workers (ddr.data.streaming; memory stays flat), each original passed through the per-image transforms at
full size (the crop is resized to im_size there). The rest of the augmentation (CutMix, Mixup, DSA) stays a
batch operation of the engine. All draws of a batch come from one seed that the training's augmentation
generator draws, so a training is a pure function of its seed whatever the number of workers.

The crop box is drawn as torchvision's RandomResizedCrop.get_params draws it (ddr.augment.transforms) and
resized by PIL's antialiased bilinear filter, as torchvision's RandomResizedCrop does on a PIL image; the
pixels are normalised after the geometric transforms (ToTensor + Normalize), before any value transform.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ddr.augment import build_augmentation, split_per_image
from ddr.augment.transforms import RandomHorizontalFlip, RandomResizedCrop, ShufflePatches, rrc_boxes
from ddr.data.digest import tensor_sha256
from ddr.data.distilled import DistilledSet
from ddr.data.folder_data import FolderData
from ddr.data.real_data import RealData
from ddr.data.streaming import FolderImages, normalise_uint8
from ddr.errors import DDRError
from ddr.kernel.digests import json_sha256, sha256_bytes

# Part of a training's data digest (its cache key): bump when decoding or transforming the originals changes.
ORIGINALS_VERSION = 1


class OriginalImages(FolderImages):
    """Training images as original files, transformed per image with fresh draws every epoch."""

    def __init__(self, paths: Sequence[Path], sha256s: Sequence[str], size: tuple[int, int], mode: str,
                 mean: Sequence[float], std: Sequence[float], per_image: list[dict[str, Any]],
                 batch_spec: dict[str, Any] | None):
        super().__init__(paths, size, mode, mean, std)
        self.sha256s = list(sha256s)
        self.per_image, self.batch_spec = list(per_image), batch_spec  # batch_spec: the engine's augmentation
        self.ops = [build_augmentation(spec) for spec in self.per_image]

    @property
    def digest(self) -> str:
        """sha256 over the files' contents and everything that turns them into training batches."""
        content = [ORIGINALS_VERSION, list(self.size), self.mode, list(self.mean), list(self.std), self.per_image,
                   self.sha256s]
        return json_sha256(content)

    def transformed(self, i: int, gen: torch.Generator) -> torch.Tensor:
        """Image i: the original through the per-image transforms, normalised (C x H x W at the crop's size).
        Crop, flip and patch shuffle move uint8 pixels (the crop's resize is PIL's, as torchvision resizes a
        PIL image); the value ops (noise, zero-padded crop) and anything after them act in the normalised
        space, as on tensors."""
        try:
            with Image.open(self.paths[i]) as raw:
                img: Image.Image | torch.Tensor = raw.convert(self.mode)
        except OSError as exc:
            raise DDRError(f"cannot read image {self.paths[i]}: {exc}") from None
        x = None  # the normalised float image, once a value op needs it
        for op in self.ops:
            if x is None and isinstance(op, _GEOMETRIC):
                img = _geometric(op, img, gen, self.size)
            else:
                x = self._normalised(img) if x is None else x
                if isinstance(op, RandomResizedCrop):
                    top, left, h, w = rrc_boxes(x.shape[2], x.shape[3], 1, gen, op.scale, op.ratio)[0].tolist()
                    x = F.interpolate(x[:, :, top:top + h, left:left + w], size=op.size or self.size,
                                      mode="bilinear", align_corners=False, antialias=True)
                else:
                    x = op(x, gen)
        return (self._normalised(img) if x is None else x)[0]

    def _normalised(self, img: Image.Image | torch.Tensor) -> torch.Tensor:
        return normalise_uint8(_as_uint8(img), self.mean, self.std)

    def decode_item(self, item: tuple[Sequence[int], int], threads: int | None = None) -> torch.Tensor:
        """One batch: (image indices, the seed of its draws)."""
        idx, seed = item
        gen = torch.Generator().manual_seed(int(seed))
        return torch.stack([self.transformed(int(i), gen) for i in idx])

    def batches(self, perm: torch.Tensor, batch_size: int, workers: int | None = None,
                pin_memory: bool = False, gen: torch.Generator | None = None):
        """The transformed images of perm[0:bs], perm[bs:2bs], ...; one seed per batch drawn from `gen`."""
        if gen is None:
            raise ValueError("OriginalImages.batches needs the training's augmentation generator")
        order = [perm[i:i + batch_size].tolist() for i in range(0, len(perm), batch_size)]
        seeds = torch.randint(0, 2**62, (len(order),), generator=gen).tolist()
        return self.stream(list(zip(order, seeds)), workers, pin_memory)


_GEOMETRIC = (RandomResizedCrop, RandomHorizontalFlip, ShufflePatches)


def _as_uint8(img: Image.Image | torch.Tensor) -> torch.Tensor:
    """1 x C x H x W uint8."""
    if isinstance(img, torch.Tensor):
        return img
    t = torch.from_numpy(np.array(img, dtype=np.uint8))
    return (t[None] if t.ndim == 2 else t.permute(2, 0, 1))[None]


def _as_pil(img: Image.Image | torch.Tensor) -> Image.Image:
    if isinstance(img, Image.Image):
        return img
    arr = img[0].permute(1, 2, 0).numpy()
    return Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)


def _geometric(op, img: Image.Image | torch.Tensor, gen: torch.Generator, size: tuple[int, int]):
    """A crop, flip or patch shuffle of uint8 pixels, with the draws the tensor op makes for one image."""
    if isinstance(op, RandomResizedCrop):
        img = _as_pil(img)
        top, left, h, w = rrc_boxes(img.height, img.width, 1, gen, op.scale, op.ratio)[0].tolist()
        out_h, out_w = op.size or size
        return img.crop((left, top, left + w, top + h)).resize((out_w, out_h), Image.BILINEAR)
    if isinstance(op, RandomHorizontalFlip):
        flip = bool(torch.rand(1, generator=gen)[0] < op.p)
        return _as_pil(img).transpose(Image.FLIP_LEFT_RIGHT) if flip else img
    return op(_as_uint8(img), gen)  # patch shuffle: a permutation of pixel strips, any dtype


def original_images(data: RealData, ds: DistilledSet, augmentation: dict[str, Any] | None) -> OriginalImages | None:
    """Random baseline `ds` of `data` as its original files under a recipe's `augmentation`; None where its
    tensors are what DD-Ranking trained on too: a data set not read from an image folder, or an augmentation
    without a per-image RandomResizedCrop (the other per-image ops give the same images either way)."""
    per_image, batch_spec = split_per_image(augmentation)
    if not isinstance(data, FolderData) or ds.indices is None or not any(s["name"] == "rrc" for s in per_image):
        return None
    flat = [i for per_class in ds.indices for i in per_class]
    files = ds.files if ds.files is not None else data.train_files(flat)
    return OriginalImages([data.train_paths[i] for i in flat], [f["sha256"] for f in files], data.im_size,
                          "L" if data.channels == 1 else "RGB", data.mean, data.std, per_image, batch_spec)


def folder_originals(data: RealData, ds: DistilledSet, augmentation: dict[str, Any] | None) -> OriginalImages | None:
    """An image folder resized on load (`ds.files`, ddr.data.distilled) as its original files under a recipe's
    `augmentation`, cropped at full size as DD-Ranking's ImageFolder path did (deviation b2); None where the
    set was not resized or the recipe crops nothing per image."""
    per_image, batch_spec = split_per_image(augmentation)
    if ds.files is None or ds.indices is not None or not any(s["name"] == "rrc" for s in per_image):
        return None
    return OriginalImages([Path(f["path"]) for f in ds.files], [f["sha256"] for f in ds.files], data.im_size,
                          "L" if data.channels == 1 else "RGB", data.mean, data.std, per_image, batch_spec)


def training_digest(x, y: torch.Tensor, soft_targets: torch.Tensor | None = None) -> str:
    """The identity of a training set in cache keys: its tensors, or its originals and their transforms."""
    if isinstance(x, OriginalImages):
        return sha256_bytes(f"originals:{x.digest}:{tensor_sha256(y, soft_targets)}".encode())
    return tensor_sha256(x, y, soft_targets)
