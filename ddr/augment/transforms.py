"""Torchvision-style train transforms as batch augmentations on tensors (reference 2.4, 2.13).

The soft-label recipes of DD-Ranking (SRe2L, D4M, DWA, RDED, G-VBSM, EDC) load image folders through
a per-sample torchvision pipeline (RandomResizedCrop, RandomHorizontalFlip, RandomCrop(padding=4),
RDED/EDC's ShufflePatches, GaussianNoise) before the batch augmentation (CutMix/Mixup). ddr keeps
every set as a tensor on the device, so these become batch ops `op(x, gen) -> x` applied per sample,
with every parameter drawn from the CPU generator `gen` (a seed fixes the output on any device) and
then moved to x.device.

Differences from torchvision, all small and documented here:
- rrc: the crop box is drawn as torchvision's RandomResizedCrop.get_params (10 tries, then a centre
  crop with the ratio clamped), positions from uniform draws; the resize is a bilinear grid_sample
  (align_corners=False, no antialias), i.e. F.interpolate of the crop without antialiasing. Pixels are
  in the normalised space: bilinear interpolation commutes with the per-channel normalisation, so
  this equals cropping before Normalize.
- random_crop: the zero padding is zero in the tensor's (normalised) space, i.e. the data set's mean
  colour, where torchvision pads black before Normalize.
- gaussian_noise: sigma is in the tensor's space (no clipping).
- shuffle_patches: RDED/EDC's ShufflePatches(factor): cut the width into `factor` strips, shuffle,
  then the same for the height; one permutation per sample and axis.
"""
from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ddr.errors import DDRError


def _pair(v: Any, what: str) -> tuple[float, float]:
    try:
        a, b = (float(t) for t in v)
    except (TypeError, ValueError):
        raise DDRError(f"{what} must be a pair [low, high], got {v!r}") from None
    if not 0 < a <= b:
        raise DDRError(f"{what} must satisfy 0 < low <= high, got {v!r}")
    return a, b


def _size(v: Any) -> tuple[int, int] | None:
    if v is None:
        return None
    if isinstance(v, int):
        v = (v, v)
    try:
        h, w = (int(t) for t in v)
    except (TypeError, ValueError):
        raise DDRError(f"rrc: size must be an int or [H, W], got {v!r}") from None
    if h < 1 or w < 1:
        raise DDRError(f"rrc: size must be positive, got {v!r}")
    return h, w


def rrc_boxes(h: int, w: int, n: int, gen: torch.Generator, scale: tuple[float, float],
              ratio: tuple[float, float], tries: int = 10) -> Tensor:
    """n crop boxes (top, left, height, width) as torchvision's RandomResizedCrop.get_params draws them."""
    area = h * w
    frac = torch.rand(n, tries, generator=gen, dtype=torch.float64) * (scale[1] - scale[0]) + scale[0]
    lo, hi = math.log(ratio[0]), math.log(ratio[1])
    logr = torch.rand(n, tries, generator=gen, dtype=torch.float64) * (hi - lo) + lo
    ar = torch.exp(logr)
    cw = torch.round(torch.sqrt(area * frac * ar))
    ch = torch.round(torch.sqrt(area * frac / ar))
    ok = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
    pos = torch.rand(n, 2, generator=gen, dtype=torch.float64)
    first = torch.where(ok.any(1), ok.float().argmax(1), torch.full((n,), -1))
    # fallback (no valid try): torchvision's centre crop with the ratio clamped to the range
    in_ratio = w / h
    if in_ratio < ratio[0]:
        fw, fh = w, int(round(w / ratio[0]))
    elif in_ratio > ratio[1]:
        fh, fw = h, int(round(h * ratio[1]))
    else:
        fw, fh = w, h
    k = first.clamp(min=0)[:, None]
    bh = ch.gather(1, k).squeeze(1).long()
    bw = cw.gather(1, k).squeeze(1).long()
    top = torch.minimum(torch.floor(pos[:, 0] * (h - bh + 1)).long(), h - bh)
    left = torch.minimum(torch.floor(pos[:, 1] * (w - bw + 1)).long(), w - bw)
    boxes = torch.stack([top, left, bh, bw], dim=1)
    fallback = torch.tensor([(h - fh) // 2, (w - fw) // 2, fh, fw], dtype=torch.long)
    boxes[first < 0] = fallback
    return boxes


def crop_resize(x: Tensor, boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Crop each sample to its box (top, left, height, width) and resize bilinearly to `size`."""
    n, c, h, w = x.shape
    b = boxes.to(torch.float64)
    top, left, bh, bw = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0] = bw / w
    theta[:, 0, 2] = (2 * left + bw) / w - 1
    theta[:, 1, 1] = bh / h
    theta[:, 1, 2] = (2 * top + bh) / h - 1
    theta = theta.to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, [n, c, size[0], size[1]], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class RandomResizedCrop:
    name = "rrc"

    def __init__(self, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), size=None):
        self.scale = _pair(scale, "rrc: scale")
        if self.scale[1] > 1:
            raise DDRError(f"rrc: scale must lie in (0, 1], got {list(scale)}")
        self.ratio = _pair(ratio, "rrc: ratio")
        self.size = _size(size)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        h, w = x.shape[2], x.shape[3]
        boxes = rrc_boxes(h, w, len(x), gen, self.scale, self.ratio)
        return crop_resize(x, boxes, self.size or (h, w))

    def __repr__(self) -> str:
        return f"RandomResizedCrop(scale={self.scale}, ratio={self.ratio}, size={self.size})"


class RandomHorizontalFlip:
    name = "hflip"

    def __init__(self, p: float = 0.5):
        if not 0 <= float(p) <= 1:
            raise DDRError(f"hflip: p must lie in [0, 1], got {p}")
        self.p = float(p)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        flip = (torch.rand(len(x), generator=gen) < self.p).to(x.device)
        return torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)

    def __repr__(self) -> str:
        return f"RandomHorizontalFlip(p={self.p})"


class RandomCrop:
    """torchvision RandomCrop(size = input size, padding): zero-pad, then a uniform crop per sample."""

    name = "random_crop"

    def __init__(self, padding: int = 4):
        if int(padding) < 0:
            raise DDRError(f"random_crop: padding must be >= 0, got {padding}")
        self.padding = int(padding)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        p = self.padding
        if p == 0:
            return x
        n, c, h, w = x.shape
        off = torch.randint(0, 2 * p + 1, (n, 2), generator=gen)
        padded = F.pad(x, (p, p, p, p))
        rows = (off[:, 0:1] + torch.arange(h)).to(x.device)  # n x h
        cols = (off[:, 1:2] + torch.arange(w)).to(x.device)  # n x w
        idx = torch.arange(n, device=x.device)
        out = padded[idx[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # n x h x w x c
        return out.permute(0, 3, 1, 2).contiguous()

    def __repr__(self) -> str:
        return f"RandomCrop(padding={self.padding})"


def shuffle_axis(x: Tensor, factor: int, gen: torch.Generator, dim: int) -> Tensor:
    """Cut axis `dim` (2 = height, 3 = width) into `factor` strips (the last takes the remainder) and
    reorder them with one permutation per sample."""
    n, size = x.shape[0], x.shape[dim]
    perms = torch.argsort(torch.rand(n, factor, generator=gen), dim=1)
    step = size // factor
    if size % factor == 0:  # equal strips: one gather for the whole batch
        shape = list(x.shape)
        shape[dim:dim + 1] = [factor, step]
        strips = x.reshape(shape)
        idx = perms.to(x.device).view([n] + [1] * (dim - 1) + [factor] + [1] * (len(shape) - dim - 1))
        return torch.take_along_dim(strips, idx.expand_as(strips), dim=dim).reshape(x.shape)
    bounds = [(k * step, (k + 1) * step if k < factor - 1 else size) for k in range(factor)]
    out = torch.empty_like(x)
    for i in range(n):
        parts = [x[i].narrow(dim - 1, a, b - a) for a, b in (bounds[int(j)] for j in perms[i])]
        out[i] = torch.cat(parts, dim=dim - 1)
    return out


class ShufflePatches:
    """RDED/EDC's ShufflePatches(factor): shuffle `factor` vertical strips, then `factor` horizontal ones
    (the last strip takes the remainder). factor 1 is the identity."""

    name = "shuffle_patches"

    def __init__(self, factor: int = 2):
        if int(factor) < 1:
            raise DDRError(f"shuffle_patches: factor must be >= 1, got {factor}")
        self.factor = int(factor)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        if self.factor == 1:
            return x
        x = shuffle_axis(x, self.factor, gen, 3)
        return shuffle_axis(x, self.factor, gen, 2)

    def __repr__(self) -> str:
        return f"ShufflePatches(factor={self.factor})"


class GaussianNoise:
    """x + mean + sigma * N(0, 1), noise drawn on the CPU from `gen` (no clipping)."""

    name = "gaussian_noise"

    def __init__(self, sigma: float = 0.1, mean: float = 0.0):
        if float(sigma) < 0:
            raise DDRError(f"gaussian_noise: sigma must be >= 0, got {sigma}")
        self.sigma, self.mean = float(sigma), float(mean)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        noise = torch.randn(x.shape, generator=gen).to(device=x.device, dtype=x.dtype)
        return x + self.mean + self.sigma * noise

    def __repr__(self) -> str:
        return f"GaussianNoise(sigma={self.sigma}, mean={self.mean})"


# name -> (class, accepted keys besides 'name')
TRANSFORMS: dict[str, tuple[type, tuple[str, ...]]] = {
    "rrc": (RandomResizedCrop, ("scale", "ratio", "size")),
    "hflip": (RandomHorizontalFlip, ("p",)),
    "random_crop": (RandomCrop, ("padding",)),
    "shuffle_patches": (ShufflePatches, ("factor",)),
    "gaussian_noise": (GaussianNoise, ("sigma", "mean")),
}


class Sequence:
    """Ops applied in order. Exposes the mixing op's `last_mix` and `mix_labels` so the engine's label
    mixing works as for a bare Mixup/CutMix (at most one mixing op may mix labels)."""

    name = "sequence"

    def __init__(self, ops: list):
        self.ops = list(ops)
        mixers = [op for op in self.ops if hasattr(op, "last_mix")]
        if sum(bool(getattr(op, "mix_labels", False)) for op in mixers) > 1:
            raise DDRError("sequence: at most one mixing op (mixup, cutmix) may set mix_labels")
        mixing = [op for op in mixers if getattr(op, "mix_labels", False)] or mixers
        self._mixer = mixing[-1] if mixing else None

    @property
    def mix_labels(self) -> bool:
        return bool(getattr(self._mixer, "mix_labels", False))

    @property
    def last_mix(self):
        return getattr(self._mixer, "last_mix", None)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        for op in self.ops:
            x = op(x, gen)
        return x

    def __repr__(self) -> str:
        return f"Sequence({', '.join(map(repr, self.ops))})"


__all__ = ["GaussianNoise", "RandomCrop", "RandomHorizontalFlip", "RandomResizedCrop", "Sequence",
           "ShufflePatches", "TRANSFORMS", "crop_resize", "rrc_boxes"]
