"""DC-style AlexNet (reference 2.9): conv5x5(128) pool, conv5x5(192) pool, conv3x3 256/192/192 pool, linear.

DC fixed the classifier input at 192 * 4 * 4 (32 px only); here it is computed from the input size,
which gives the same layer at 32 px. A pool is skipped once the map is 1 px, so 8x8 inputs work.
"""
from __future__ import annotations

import torch
from torch import nn


class AlexNet(nn.Module):
    def __init__(self, channels: int, num_classes: int, im_size: tuple[int, int]):
        super().__init__()
        h, w = im_size
        pad0 = 4 if channels == 1 else 2  # DC: 28 px one-channel inputs padded to the 32 px geometry
        h, w = h + 2 * pad0 - 4, w + 2 * pad0 - 4

        def pool() -> nn.Module:
            nonlocal h, w
            if h >= 2 and w >= 2:
                h, w = h // 2, w // 2
                return nn.MaxPool2d(2, 2)
            return nn.Identity()

        self.features = nn.Sequential(
            nn.Conv2d(channels, 128, 5, padding=pad0), nn.ReLU(inplace=True), pool(),
            nn.Conv2d(128, 192, 5, padding=2), nn.ReLU(inplace=True), pool(),
            nn.Conv2d(192, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 192, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(192, 192, 3, padding=1), nn.ReLU(inplace=True), pool(),
        )
        self.fc = nn.Linear(192 * h * w, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))
