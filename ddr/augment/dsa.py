"""Differentiable Siamese Augmentation (DSA, Zhao & Bilen 2021) as DD-Ranking's evaluators use it.

DD-Ranking (reference 2.4) builds DSA with seed -1 and mode 'S': for every batch one operation group
out of `strategy` ('color_crop_cutout_flip_scale_rotate') is drawn uniformly and applied with
independent per-sample parameters. The 'color' group is brightness, then saturation, then contrast.
Pixels are in normalised (or ZCA) space, as in the reference.

Each operation is given twice: a deterministic kernel taking explicit per-sample parameters
(`scale(x, sx, sy)`, ...; neutral parameters give the identity) and a random op `rand_*(x, gen, ratio)`
that draws those parameters from `gen`. Every draw is made on the CPU generator and the parameters
are moved to x.device, so a seed fixes the output on any device.

Differences from DD-Ranking v0.2.0: its randomness came from the global RNG seeded from wall-clock
time (reference 6.2); the documented keys `prob_flip`, `ratio_*` were never read (6.1.10) - the keys
here are the ones its DSA class actually read, and unknown keys are refused.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor

from ddr.errors import DDRError

DEFAULT_STRATEGY = "color_crop_cutout_flip_scale_rotate"
GROUPS = ("color", "crop", "cutout", "flip", "scale", "rotate")


@dataclass(frozen=True)
class DSAParams:
    """DD-Ranking's DSA keys with the values every shipped evaluation config uses (reference 2.4)."""

    scale: float = 1.2
    rotate: float = 15.0
    flip: float = 0.5
    brightness: float = 1.0
    saturation: float = 2.0
    contrast: float = 0.5
    crop: float = 0.125
    cutout: float = 0.5
    strategy: str = DEFAULT_STRATEGY

    @classmethod
    def from_dict(cls, raw: dict | None) -> DSAParams:
        raw = dict(raw or {})
        valid = [f.name for f in fields(cls)]
        extra = sorted(set(raw) - set(valid))
        if extra:
            raise DDRError(f"dsa: unknown parameter '{extra[0]}'; valid: {', '.join(valid)}")
        params = cls(**raw)
        ops = params.strategy.split("_")
        bad = [o for o in ops if o not in GROUPS]
        if bad or not ops:
            raise DDRError(f"dsa: unknown strategy group '{bad[0] if bad else ''}'; valid: {', '.join(GROUPS)}")
        if params.scale < 1:
            raise DDRError(f"dsa: scale must be >= 1 (sx, sy ~ U(1/scale, scale)), got {params.scale}")
        return params


def _uniform(gen: torch.Generator, n: int, low: float, high: float) -> Tensor:
    return torch.rand(n, generator=gen) * (high - low) + low


# ---- deterministic kernels: per-sample parameters are 1-D tensors of length N ----

def _affine(x: Tensor, theta: Tensor) -> Tensor:
    theta = theta.to(device=x.device, dtype=x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=True)
    return F.grid_sample(x, grid, align_corners=True)  # bilinear, zero padding, as DSA


def scale(x: Tensor, sx: Tensor, sy: Tensor) -> Tensor:
    """Affine [[sx, 0, 0], [0, sy, 0]] per sample; sx = sy = 1 is the identity."""
    theta = torch.zeros(len(x), 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = sx, sy
    return _affine(x, theta)


def rotate(x: Tensor, angle_rad: Tensor) -> Tensor:
    """Affine [[cos, -sin, 0], [sin, cos, 0]] per sample; angle 0 is the identity."""
    c, s = torch.cos(angle_rad), torch.sin(angle_rad)
    theta = torch.stack([torch.stack([c, -s, torch.zeros_like(c)], 1),
                         torch.stack([s, c, torch.zeros_like(c)], 1)], 1)
    return _affine(x, theta)


def flip(x: Tensor, mask: Tensor) -> Tensor:
    """Horizontal flip of the samples where `mask` is true."""
    m = mask.to(x.device).view(-1, 1, 1, 1)
    return torch.where(m, x.flip(3), x)


def brightness(x: Tensor, delta: Tensor) -> Tensor:
    """x + delta per sample; delta 0 is the identity."""
    return x + delta.to(x.device, x.dtype).view(-1, 1, 1, 1)


def saturation(x: Tensor, factor: Tensor) -> Tensor:
    """m + (x - m) * factor with m the per-pixel channel mean; factor 1 is the identity."""
    m = x.mean(dim=1, keepdim=True)
    return (x - m) * factor.to(x.device, x.dtype).view(-1, 1, 1, 1) + m


def contrast(x: Tensor, factor: Tensor) -> Tensor:
    """m + (x - m) * factor with m the per-image mean; factor 1 is the identity."""
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - m) * factor.to(x.device, x.dtype).view(-1, 1, 1, 1) + m


def crop(x: Tensor, tx: Tensor, ty: Tensor) -> Tensor:
    """Integer translation: out[i, :, h, w] = x[i, :, h + tx_i, w + ty_i], zero outside the image
    (DSA's rand_crop: pad by one zero pixel and clamp). tx = ty = 0 is the identity."""
    n, _, h, w = x.shape
    dev = x.device
    rows = torch.arange(h, device=dev).view(1, h, 1) + tx.to(dev).view(-1, 1, 1) + 1
    cols = torch.arange(w, device=dev).view(1, 1, w) + ty.to(dev).view(-1, 1, 1) + 1
    rows, cols = rows.clamp(0, h + 1).expand(n, h, w), cols.clamp(0, w + 1).expand(n, h, w)
    batch = torch.arange(n, device=dev).view(-1, 1, 1).expand(n, h, w)
    padded = F.pad(x, [1, 1, 1, 1]).permute(0, 2, 3, 1)
    return padded[batch, rows, cols].permute(0, 3, 1, 2).contiguous()


def cutout(x: Tensor, cx: Tensor, cy: Tensor, size: tuple[int, int]) -> Tensor:
    """Zero a size[0] x size[1] box whose rows start at cx - size[0]//2 (cols likewise), clipped at the
    borders (DSA's rand_cutout). size (0, 0) is the identity."""
    n, _, h, w = x.shape
    dev = x.device
    r0 = (cx.to(dev) - size[0] // 2).view(-1, 1, 1)
    c0 = (cy.to(dev) - size[1] // 2).view(-1, 1, 1)
    rows = torch.arange(h, device=dev).view(1, h, 1)
    cols = torch.arange(w, device=dev).view(1, 1, w)
    inside = (rows >= r0) & (rows < r0 + size[0]) & (cols >= c0) & (cols < c0 + size[1])
    return x * (~inside).unsqueeze(1).to(x.dtype)


# ---- random ops: draw per-sample parameters from `gen` (CPU), DSA's distributions ----

def rand_scale(x: Tensor, gen: torch.Generator, ratio: float = 1.2) -> Tensor:
    n = len(x)
    sx, sy = _uniform(gen, n, 1.0 / ratio, ratio), _uniform(gen, n, 1.0 / ratio, ratio)
    return scale(x, sx, sy)


def rand_rotate(x: Tensor, gen: torch.Generator, ratio: float = 15.0) -> Tensor:
    angle = (torch.rand(len(x), generator=gen) - 0.5) * 2 * ratio / 180 * math.pi
    return rotate(x, angle)


def rand_flip(x: Tensor, gen: torch.Generator, prob: float = 0.5) -> Tensor:
    return flip(x, torch.rand(len(x), generator=gen) < prob)


def rand_brightness(x: Tensor, gen: torch.Generator, ratio: float = 1.0) -> Tensor:
    return brightness(x, (torch.rand(len(x), generator=gen) - 0.5) * ratio)


def rand_saturation(x: Tensor, gen: torch.Generator, ratio: float = 2.0) -> Tensor:
    return saturation(x, torch.rand(len(x), generator=gen) * ratio)


def rand_contrast(x: Tensor, gen: torch.Generator, ratio: float = 0.5) -> Tensor:
    return contrast(x, torch.rand(len(x), generator=gen) + ratio)


def rand_crop(x: Tensor, gen: torch.Generator, ratio: float = 0.125) -> Tensor:
    sx, sy = int(x.shape[2] * ratio + 0.5), int(x.shape[3] * ratio + 0.5)
    tx = torch.randint(-sx, sx + 1, (len(x),), generator=gen)
    ty = torch.randint(-sy, sy + 1, (len(x),), generator=gen)
    return crop(x, tx, ty)


def rand_cutout(x: Tensor, gen: torch.Generator, ratio: float = 0.5) -> Tensor:
    size = int(x.shape[2] * ratio + 0.5), int(x.shape[3] * ratio + 0.5)
    # DSA's centre range: [0, H] for even sizes, [0, H - 1] for odd ones
    cx = torch.randint(0, x.shape[2] + (1 - size[0] % 2), (len(x),), generator=gen)
    cy = torch.randint(0, x.shape[3] + (1 - size[1] % 2), (len(x),), generator=gen)
    return cutout(x, cx, cy, size)


def rand_color(x: Tensor, gen: torch.Generator, p: DSAParams = DSAParams()) -> Tensor:
    x = rand_brightness(x, gen, p.brightness)
    x = rand_saturation(x, gen, p.saturation)
    return rand_contrast(x, gen, p.contrast)


# each operation alone as an augmentation `op(x, gen)` at DD-Ranking's parameter (the 'color' group as one)
OPS = {"scale": rand_scale, "rotate": rand_rotate, "flip": rand_flip, "brightness": rand_brightness,
       "saturation": rand_saturation, "contrast": rand_contrast, "crop": rand_crop, "cutout": rand_cutout,
       "color": rand_color}


class DSA:
    """DD-Ranking's evaluation DSA: one group from `strategy` per batch (uniform), per-sample parameters."""

    def __init__(self, params: DSAParams | dict | None = None):
        self.params = params if isinstance(params, DSAParams) else DSAParams.from_dict(params)
        self.groups = tuple(self.params.strategy.split("_"))

    def apply_group(self, group: str, x: Tensor, gen: torch.Generator) -> Tensor:
        p = self.params
        if group == "color":
            return rand_color(x, gen, p)
        if group == "crop":
            return rand_crop(x, gen, p.crop)
        if group == "cutout":
            return rand_cutout(x, gen, p.cutout)
        if group == "flip":
            return rand_flip(x, gen, p.flip)
        if group == "scale":
            return rand_scale(x, gen, p.scale)
        return rand_rotate(x, gen, p.rotate)

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        group = self.groups[int(torch.randint(0, len(self.groups), (1,), generator=gen))]
        return self.apply_group(group, x, gen)

    def __repr__(self) -> str:
        return f"DSA({self.params})"
