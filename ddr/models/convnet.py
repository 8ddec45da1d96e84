"""DC-style ConvNet: D x [conv3x3(width) -> norm -> act -> pool], then a linear classifier (reference 2.9)."""
from __future__ import annotations

import torch
from torch import nn

from ddr.errors import DDRError

ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "leakyrelu": lambda: nn.LeakyReLU(0.01)}
POOLINGS = {"avgpooling": lambda: nn.AvgPool2d(2, 2), "maxpooling": lambda: nn.MaxPool2d(2, 2), "none": None}
NORMS = ("instancenorm", "batchnorm", "layernorm", "none")


def _norm(kind: str, width: int, hw: tuple[int, int]) -> nn.Module | None:
    if kind == "instancenorm":  # DC's "instance norm" is GroupNorm with one group per channel, affine
        return nn.GroupNorm(width, width, affine=True)
    if kind == "batchnorm":
        return nn.BatchNorm2d(width)
    if kind == "layernorm":
        return nn.LayerNorm([width, *hw], elementwise_affine=True)
    return None


class ConvNet(nn.Module):
    def __init__(self, channels: int, num_classes: int, im_size: tuple[int, int], depth: int = 3,
                 width: int = 128, norm: str = "instancenorm", act: str = "relu", pool: str = "avgpooling"):
        super().__init__()
        for value, allowed, what in ((norm, NORMS, "norm"), (act, ACTIVATIONS, "act"), (pool, POOLINGS, "pool")):
            if value not in allowed:
                raise DDRError(f"ConvNet: unknown {what} '{value}'; valid: {', '.join(allowed)}")
        layers: list[nn.Module] = []
        c, (h, w) = channels, im_size
        for d in range(depth):
            layers.append(nn.Conv2d(c, width, 3, padding=1))
            n = _norm(norm, width, (h, w))
            if n is not None:
                layers.append(n)
            layers.append(ACTIVATIONS[act]())
            if POOLINGS[pool] is not None:
                if h < 2 or w < 2:
                    raise DDRError(f"ConvNet-{depth} pools {depth} times: {im_size[0]}x{im_size[1]} inputs "
                                   f"allow at most {d} pooled layers")
                layers.append(POOLINGS[pool]())
                h, w = h // 2, w // 2
            c = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * h * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))
