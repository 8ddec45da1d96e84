"""A fixed, seeded feature space for the selection distillers (herding, k-center) and the networks the
synthesis distillers (DM, DC) sample: DC-style ConvNets sized to the image, randomly initialised."""
from __future__ import annotations

from contextlib import contextmanager
from collections.abc import Iterator

import torch
from torch import nn

from ddr.data.real_data import RealData
from ddr.models import build_model
from ddr.train.engine import resolve_device

EMBED_WIDTH = 64
EMBED_BATCH = 2048


def default_depth(im_size: tuple[int, int], max_depth: int = 3) -> int:
    """The deepest ConvNet (at most `max_depth`, DC's default 3) whose last pooled map is still >= 2x2:
    ConvNet-2 on 8x8 digits (8->4->2), ConvNet-3 on 32x32 CIFAR."""
    side, depth = min(im_size), 0
    while depth < max_depth and side // 2 >= 2:
        side //= 2
        depth += 1
    return max(depth, 1)


def default_width(im_size: tuple[int, int]) -> int:
    """The synthesis networks' width: DC/DM's 128 on 32x32 and up; 32 on small images such as 8x8 digits,
    the width of the digits protocol's student (and 4x cheaper per pass on a CPU)."""
    return 128 if min(im_size) >= 32 else 32


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global RNG for a block (build_model draws from it) without disturbing the caller's."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def random_convnet(data: RealData, seed: int, *, width: int = EMBED_WIDTH, depth: int | None = None,
                   device: torch.device | str | None = None) -> nn.Module:
    """A randomly initialised DC ConvNet (instance norm) for `data`, a pure function of `seed`."""
    depth = depth or default_depth(data.im_size)
    with seeded(seed):
        net = build_model(f"ConvNet-{depth}", data.channels, data.num_classes, data.im_size, width=width)
    return net.to(resolve_device(device) if not isinstance(device, torch.device) else device)


def feature_space_name(data: RealData, seed: int, width: int = EMBED_WIDTH, depth: int | None = None) -> str:
    return f"convnet-random-init:ConvNet-{depth or default_depth(data.im_size)}:w{width}:seed{seed}"


@torch.no_grad()
def embed(data: RealData, seed: int = 0, x: torch.Tensor | None = None, *, width: int = EMBED_WIDTH,
          depth: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Penultimate features (the flattened conv trunk) of a frozen random ConvNet, for `x`
    (default: the training images). Random-init ConvNet features separate digits far better than
    raw pixels, and fixing the seed keeps the selection a pure function of (data, ipc, seed)."""
    net = random_convnet(data, seed, width=width, depth=depth, device=device).eval()
    dev = next(net.parameters()).device
    x = data.x_train if x is None else x
    out = [net.features(x[i:i + EMBED_BATCH].to(dev)).flatten(1).cpu() for i in range(0, len(x), EMBED_BATCH)]
    return torch.cat(out)


def reinit(net: nn.Module, seed: int) -> nn.Module:
    """Draw fresh parameters in place (the same distribution as a new network): the synthesis
    distillers sample one random network per iteration without rebuilding it."""
    with seeded(seed):
        for m in net.modules():
            if m is not net and hasattr(m, "reset_parameters"):
                m.reset_parameters()
    return net


def class_means(features: torch.Tensor, owner: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Per-class mean rows of `features` (owner[i] = class of row i): num_classes x D."""
    onehot = torch.nn.functional.one_hot(owner, num_classes).to(features.dtype)
    return (onehot.T @ features) / onehot.sum(0).clamp_min(1).unsqueeze(1)
