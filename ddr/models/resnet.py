"""ResNets: DC/DD-Ranking's CIFAR-style ResNet and torchvision's with a small-input stem (reference 2.9).

CIFAR-style (`ResNet-18`, `ResNet-18-BN`, 34, 50): 3x3 conv1 (stride 1, stride 2 from 64 px up, where
DD-Ranking used stride 2 at exactly 64 px), four stages of BasicBlock/Bottleneck, instance norm
(GroupNorm(C, C)) or BatchNorm. DD-Ranking ended with a fixed avg_pool2d(4), which only fits 32 and
64 px inputs (defect 6.1.12: the RDED ImageNet scripts request it at 224 px and crash); here the pool is
adaptive to 1x1, identical at 32/64 px and valid at any size; on inputs under 32 px a stage skips its
stride rather than shrink the map below 2 px (8x8 digits: 8 -> 8 -> 4 -> 2 -> 2).

torchvision (`ResNet-18-BN-tv`, 34, 50): torchvision.models.resnetXX (BatchNorm), randomly initialised
(never downloaded). For inputs <= 64 px conv1 := Conv3x3(stride 1, no bias) and maxpool := Identity as
DD-Ranking's `use_torchvision` path; conv1 is also replaced when the input is not 3-channel.
The torchvision variant is chosen by name (not a model_arg) so that it is visible in every cache key
and teacher path, and its state-dict keys (conv1, bn1, layer1.0..., fc) match DD-Ranking's teachers.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ddr.errors import DDRError

DEPTHS = {18: ("basic", (2, 2, 2, 2)), 34: ("basic", (3, 4, 6, 3)), 50: ("bottleneck", (3, 4, 6, 3))}


def norm_layer(kind: str, c: int) -> nn.Module:
    if kind == "instancenorm":
        return nn.GroupNorm(c, c, affine=True)
    if kind == "batchnorm":
        return nn.BatchNorm2d(c)
    raise DDRError(f"ResNet: unsupported norm '{kind}'; valid: instancenorm, batchnorm")


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin: int, planes: int, stride: int, norm: str):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = norm_layer(norm, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = norm_layer(norm, planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False), norm_layer(norm, planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, norm: str):
        super().__init__()
        out_c = planes * self.expansion
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = norm_layer(norm, planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = norm_layer(norm, planes)
        self.conv3 = nn.Conv2d(planes, out_c, 1, bias=False)
        self.bn3 = norm_layer(norm, out_c)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != out_c:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, out_c, 1, stride, bias=False), norm_layer(norm, out_c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        return F.relu(self.bn3(self.conv3(out)) + self.shortcut(x))


class ResNet(nn.Module):
    """DC-style CIFAR ResNet; `width` scales the stage widths (64, 128, 256, 512 at width 64)."""

    def __init__(self, channels: int, num_classes: int, im_size: tuple[int, int], depth: int = 18,
                 norm: str = "instancenorm", width: int = 64):
        super().__init__()
        if depth not in DEPTHS:
            raise DDRError(f"ResNet depth {depth} not available; valid: {', '.join(map(str, DEPTHS))}")
        kind, blocks = DEPTHS[depth]
        block = BasicBlock if kind == "basic" else Bottleneck
        stride = 2 if min(im_size) >= 64 else 1
        h = min(im_size) if stride == 1 else (min(im_size) + 1) // 2
        self.conv1 = nn.Conv2d(channels, width, 3, stride, 1, bias=False)
        self.bn1 = norm_layer(norm, width)
        cin, stages = width, []
        for i, n in enumerate(blocks):
            planes = width * 2 ** i
            # stages 2-4 halve the map, but never below 2 px (instance norm over one pixel is a constant);
            # at 32 and 64 px every stage strides, exactly as DC/DD-Ranking
            s = 2 if i > 0 and h >= 4 else 1
            h = (h + 1) // 2 if s == 2 else h
            layers = []
            for j in range(n):
                layers.append(block(cin, planes, s if j == 0 else 1, norm))
                cin = planes * block.expansion
            stages.append(nn.Sequential(*layers))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.classifier = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.classifier(F.adaptive_avg_pool2d(out, 1).flatten(1))


def torchvision_resnet(channels: int, num_classes: int, im_size: tuple[int, int], depth: int = 18) -> nn.Module:
    import torchvision

    if depth not in DEPTHS:
        raise DDRError(f"ResNet depth {depth} not available; valid: {', '.join(map(str, DEPTHS))}")
    net = getattr(torchvision.models, f"resnet{depth}")(weights=None, num_classes=num_classes)
    if max(im_size) <= 64:
        net.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        net.maxpool = nn.Identity()
    elif channels != 3:
        net.conv1 = nn.Conv2d(channels, 64, 7, 2, 3, bias=False)
    return net
