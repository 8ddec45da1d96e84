"""Decoding image files to uint8 tensors at a target size: the one resize-and-crop rule that in-memory
folder sets (ddr.data.folders) and streamed ones (ddr.data.streaming) share, so both give the same pixels.

Resizing: shorter side to the target, bilinear (PIL, antialiased), then a centre crop; an image already at
the target size is used as is. crop_ratio < 1 is the ImageNet test transform (Resize 256 + CenterCrop 224).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ddr.errors import DDRError


def _resize_crop(img: Image.Image, size: tuple[int, int], crop_ratio: float = 1.0) -> Image.Image:
    h, w = size
    if crop_ratio != 1.0:
        return _eval_resize_crop(img, size, crop_ratio)
    if img.size == (w, h):
        return img
    scale = max(h / img.height, w / img.width)  # shorter side (relative to the target) to the target
    nw, nh = max(w, round(img.width * scale)), max(h, round(img.height * scale))
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - w) // 2, (nh - h) // 2
    return img.crop((left, top, left + w, top + h))


def _eval_resize_crop(img: Image.Image, size: tuple[int, int], crop_ratio: float) -> Image.Image:
    """torchvision's Resize(round(min(size) / crop_ratio)) + CenterCrop(size) on a PIL image: the methods'
    ImageNet test transform (Resize 256 + CenterCrop 224 at crop_ratio 0.875), with its integer rounding."""
    h, w = size
    short = round(min(h, w) / crop_ratio)
    if img.width <= img.height:
        nw, nh = short, int(short * img.height / img.width)
    else:
        nw, nh = int(short * img.width / img.height), short
    if (nw, nh) != img.size:
        img = img.resize((nw, nh), Image.BILINEAR)
    if nw < w or nh < h:  # torchvision pads a too-small image; resizing up keeps every pixel an image pixel
        return _resize_crop(img, size)
    top, left = int(round((nh - h) / 2.0)), int(round((nw - w) / 2.0))
    return img.crop((left, top, left + w, top + h))


def _read(path: Path, size: tuple[int, int], mode: str, crop_ratio: float = 1.0) -> np.ndarray:
    try:
        with Image.open(path) as img:
            arr = np.array(_resize_crop(img.convert(mode), size, crop_ratio), dtype=np.uint8)  # writable copy
    except OSError as exc:
        raise DDRError(f"cannot read image {path}: {exc}") from None
    return arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)


def read_images(paths: list[Path], size: tuple[int, int], mode: str = "RGB", threads: int | None = None,
                crop_ratio: float = 1.0) -> torch.Tensor:
    """Decode to a uint8 N x C x H x W tensor (threads: PIL releases the GIL while decoding). crop_ratio < 1:
    resize the shorter side to size / crop_ratio, then centre-crop (the ImageNet test transform)."""
    c = 1 if mode == "L" else 3
    out = torch.empty(len(paths), c, *size, dtype=torch.uint8)
    workers = threads or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(workers) as pool:
        for i, arr in enumerate(pool.map(lambda p: _read(p, size, mode, crop_ratio), paths)):
            out[i] = torch.from_numpy(arr)
    return out
