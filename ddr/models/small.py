"""The small DC-family baselines: MLP and LeNet."""
from __future__ import annotations

import torch
from torch import nn


class MLP(nn.Module):
    """Three fully connected layers of width 128 (DC's MLP)."""

    def __init__(self, channels: int, num_classes: int, im_size: tuple[int, int], width: int = 128):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(channels * im_size[0] * im_size[1], width), nn.ReLU(),
                                 nn.Linear(width, width), nn.ReLU(), nn.Linear(width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LeNet(nn.Module):
    """LeNet-5 shape with padded 5x5 convolutions, so that any input of at least 4 px fits (8x8 digits too)."""

    def __init__(self, channels: int, num_classes: int, im_size: tuple[int, int]):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        )
        h, w = im_size[0] // 4, im_size[1] // 4
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * h * w, 120), nn.ReLU(),
                                        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
