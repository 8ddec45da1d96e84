"""DC-style VGG-11/13/16/19 with instance norm (GroupNorm(C, C)) or BatchNorm (reference 2.9).

As DC: 3x3 convs (padding 3 on the first conv of 1-channel inputs, DC's 28 -> 32 px trick), norm, ReLU,
2x2 max pools, classifier Linear(512 -> classes). DC's classifier only fits 32 px inputs (5 pools to
1x1); here a max pool is skipped when it would leave a map under 2 px with convs still to come
(instance norm over one pixel outputs a constant), and the features are adaptive-average-pooled to
1x1. At 32 px the network is exactly DC's; any other size works too (8x8 digits, 28, 64, ...).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ddr.errors import DDRError
from ddr.models.resnet import norm_layer

CFG = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class VGG(nn.Module):
    def __init__(self, channels: int, num_classes: int, im_size: tuple[int, int], depth: int = 11,
                 norm: str = "instancenorm"):
        super().__init__()
        if depth not in CFG:
            raise DDRError(f"VGG depth {depth} not available; valid: {', '.join(map(str, CFG))}")
        layers: list[nn.Module] = []
        cin, (h, w) = channels, im_size
        for i, v in enumerate(CFG[depth]):
            if v == "M":
                # never pool a map below 2 px while convs follow: instance norm on 1x1 maps is degenerate
                more_convs = any(c != "M" for c in CFG[depth][i + 1:])
                if min(h, w) >= (4 if more_convs else 2):
                    layers.append(nn.MaxPool2d(2, 2))
                    h, w = h // 2, w // 2
                continue
            pad = 3 if channels == 1 and i == 0 else 1
            layers += [nn.Conv2d(cin, v, 3, padding=pad), norm_layer(norm, v), nn.ReLU(inplace=True)]
            h, w = h + 2 * pad - 2, w + 2 * pad - 2
            cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))
