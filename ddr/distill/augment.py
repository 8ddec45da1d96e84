"""Siamese differentiable augmentation (a compact DSA, Zhao & Bilen 2021): one random affine transform
(scale, rotation, translation) per call, applied identically to a real and a synthetic batch, so that
matching happens under the same view and the gradient flows back to the synthetic pixels."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

DSA_SCALE = 0.2  # DSA's defaults: ratio_scale 1.2, ratio_rotate 15 degrees, ratio_crop_pad 0.125
DSA_ROTATE = 15.0
DSA_SHIFT = 0.125


def draw_affine(gen: torch.Generator) -> torch.Tensor:
    """One 2x3 affine matrix drawn from `gen`."""
    u = torch.rand(4, generator=gen, dtype=torch.float64) * 2 - 1
    sx = 1.0 + DSA_SCALE * float(u[0])
    theta = math.radians(DSA_ROTATE) * float(u[1])
    tx, ty = 2 * DSA_SHIFT * float(u[2]), 2 * DSA_SHIFT * float(u[3])
    c, s = math.cos(theta), math.sin(theta)
    return torch.tensor([[sx * c, -sx * s, tx], [sx * s, sx * c, ty]], dtype=torch.float32)


def apply_affine(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """`matrix`: 2x3 for the whole batch, or N x 2 x 3, one per image."""
    grid = F.affine_grid(matrix.to(x.device).expand(len(x), 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)
