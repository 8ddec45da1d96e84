"""Mixup and CutMix as batch augmentations, with optional label mixing.

DD-Ranking v0.2.0 never mixed labels (reference 2.4, defect 6.1.14): the image is mixed and the
target stays the first image's label, which is label noise with hard labels or stored soft labels
and is only consistent in mode M (the teacher relabels the mixed image). `mix_labels=False` (the
default) reproduces that behaviour; with `mix_labels=True` the caller mixes the targets with
`last_mix` (perm, lam) after each call, e.g. `ddr.losses.mix_hard_targets(y, C, perm, lam)` or
`lam * t + (1 - lam) * t[perm]` for soft vectors. The augmentation itself never touches labels, so
the call signature stays `aug(x, gen) -> x` for every augmentation.

lambda ~ Beta(a, a) is drawn with numpy from a seed drawn from `gen`, so it is fixed by `gen`'s seed
(torch's Beta sampler takes no generator).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

from ddr.errors import DDRError


class MixRecord(NamedTuple):
    """What the last call did: x_out = mix(x, x[perm]) with weight `lam` on x (area fraction for CutMix).
    Unpacks as `perm, lam = aug.last_mix`; `perm` is a CPU index tensor."""

    perm: Tensor
    lam: float

    def mix(self, targets: Tensor) -> Tensor:
        """lam * targets + (1 - lam) * targets[perm] for float target vectors (one-hot, soft, logits)."""
        if not targets.is_floating_point():
            raise DDRError("mix: integer labels must be turned into one-hot vectors first "
                           "(ddr.losses.mix_hard_targets)")
        return self.lam * targets + (1.0 - self.lam) * targets[self.perm.to(targets.device)]


def _beta(gen: torch.Generator, a: float) -> float:
    seed = int(torch.randint(0, 2**62, (1,), generator=gen))
    return float(np.random.default_rng(seed).beta(a, a))


class MixAugmentation:
    """Base: subclasses implement `_mix(x, gen) -> (x_out, perm, lam)`."""

    name = "mix"

    def __init__(self, mix_labels: bool = False):
        self.mix_labels = bool(mix_labels)
        self.last_mix: MixRecord | None = None

    def _mix(self, x: Tensor, gen: torch.Generator) -> tuple[Tensor, Tensor, float]:
        raise NotImplementedError

    def __call__(self, x: Tensor, gen: torch.Generator) -> Tensor:
        out, perm, lam = self._mix(x, gen)
        self.last_mix = MixRecord(perm, lam)
        return out


class Mixup(MixAugmentation):
    """x <- lam * x + (1 - lam) * x[perm], one lam ~ Beta(alpha, alpha) per batch (DD-Ranking key 'lambda')."""

    name = "mixup"

    def __init__(self, alpha: float = 0.8, mix_labels: bool = False):
        if alpha <= 0:
            raise DDRError(f"mixup: lambda (the Beta parameter) must be positive, got {alpha}")
        super().__init__(mix_labels)
        self.alpha = float(alpha)

    def _mix(self, x, gen):
        lam = _beta(gen, self.alpha)
        perm = torch.randperm(len(x), generator=gen)
        return lam * x + (1.0 - lam) * x[perm.to(x.device)], perm, lam

    def __repr__(self) -> str:
        return f"Mixup(lambda={self.alpha}, mix_labels={self.mix_labels})"


def cutmix_box(h: int, w: int, lam: float, cy: int, cx: int) -> tuple[int, int, int, int]:
    """SRe2L/DD-Ranking's rand_bbox: side fractions sqrt(1 - lam), centre (cy, cx), clipped to the image.
    Returns (r0, r1, c0, c1), half-open."""
    cut = math.sqrt(1.0 - lam)
    ch, cw = int(h * cut), int(w * cut)
    return (min(max(cy - ch // 2, 0), h), min(max(cy + ch // 2, 0), h),
            min(max(cx - cw // 2, 0), w), min(max(cx + cw // 2, 0), w))


class CutMix(MixAugmentation):
    """Paste the box of the permuted batch into each image; lam ~ Beta(beta, beta) per batch.

    `last_mix.lam` is the fraction of each image left unpasted (1 - box area / image area), the
    weight that makes mixed labels match the pixels (the standard CutMix correction). Unlike
    DD-Ranking, the input batch is not modified in place.
    """

    name = "cutmix"

    def __init__(self, beta: float = 1.0, mix_labels: bool = False):
        if beta <= 0:
            raise DDRError(f"cutmix: beta must be positive, got {beta}")
        super().__init__(mix_labels)
        self.beta = float(beta)

    def _mix(self, x, gen):
        h, w = x.shape[2], x.shape[3]
        lam = _beta(gen, self.beta)
        perm = torch.randperm(len(x), generator=gen)
        cy = int(torch.randint(0, h, (1,), generator=gen))
        cx = int(torch.randint(0, w, (1,), generator=gen))
        r0, r1, c0, c1 = cutmix_box(h, w, lam, cy, cx)
        out = x.clone()
        out[:, :, r0:r1, c0:c1] = x[perm.to(x.device)][:, :, r0:r1, c0:c1]
        area_lam = 1.0 - (r1 - r0) * (c1 - c0) / float(h * w)
        return out, perm, area_lam

    def __repr__(self) -> str:
        return f"CutMix(beta={self.beta}, mix_labels={self.mix_labels})"
