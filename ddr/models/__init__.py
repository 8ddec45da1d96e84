"""Student and teacher networks by name.

Names follow DD-Ranking's grammar `Family[-Depth][-Norm]`: `ConvNet-3` (instance norm, DC's default),
`ConvNet-3-BN`, `ConvNet-4-LN`, `ConvNet-3-NN` (no norm), `MLP`, `LeNet`, `AlexNet`, `VGG-11[-BN]`
(11/13/16/19), `ResNet-18[-BN]` (18/34/50, DC's CIFAR ResNet) and `ResNet-18-BN-tv` (torchvision's
ResNet with the small-input stem; DD-Ranking's `use_torchvision`). Keyword arguments from a
protocol's `model_args` (width, act, pool) refine the family's defaults.

`<torchvision name>-tv` (TORCHVISION_MODELS: `alexnet-tv`, `mobilenet_v2-tv`, `shufflenet_v2_x0_5-tv`,
`efficientnet_b0-tv`) builds torchvision.models.get_model(name, weights=None, num_classes=...): the
members of G-VBSM's and EDC's teacher ensembles. DD-Ranking silently used downloaded ImageNet weights
for them (reference 2.3); ddr never downloads, so their checkpoints are passed with --teacher. They are
ImageNet-resolution, 3-channel networks.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from ddr.errors import DDRError, unknown
from ddr.kernel.registry import Registry
from ddr.models.alexnet import AlexNet
from ddr.models.convnet import ConvNet
from ddr.models.resnet import DEPTHS as RESNET_DEPTHS
from ddr.models.resnet import ResNet, torchvision_resnet
from ddr.models.small import MLP, LeNet
from ddr.models.vgg import CFG as VGG_CFG
from ddr.models.vgg import VGG

Builder = Callable[..., nn.Module]


@dataclass(frozen=True)
class Family:
    """A model family's builder and the names it accepts.
    depths: None = any depth or none, () = no depth, a tuple = exactly one of those (required)."""

    build: Builder
    depths: tuple[int, ...] | None
    suffixes: tuple[str, ...]


FAMILIES: Registry[Family] = Registry("model family")
_NORM_SUFFIX = {"": "instancenorm", "BN": "batchnorm", "LN": "layernorm", "NN": "none", "IN": "instancenorm"}


def register_family(name: str, depths: tuple[int, ...] | None = (),
                    suffixes: tuple[str, ...] = ("",)) -> Callable[[Builder], Builder]:
    """Register a builder `fn(depth, norm_suffix, channels, num_classes, im_size, **kwargs)` for a family.
    `depths`: () takes no depth, None any depth (or none), a tuple exactly those; `suffixes`: the accepted
    name suffixes ('' = the family's default, 'BN', 'BN-tv', ...)."""
    def deco(fn: Builder) -> Builder:
        FAMILIES.register(name, Family(fn, depths, tuple(suffixes)))
        return fn
    return deco


@register_family("ConvNet", depths=None, suffixes=("", "BN", "LN", "NN", "IN"))
def _convnet(depth, suffix, channels, num_classes, im_size, **kw):
    return ConvNet(channels, num_classes, im_size, depth=depth or 3, norm=_NORM_SUFFIX[suffix], **kw)


@register_family("MLP")
def _mlp(depth, suffix, channels, num_classes, im_size, **kw):
    return MLP(channels, num_classes, im_size, **kw)


@register_family("LeNet")
def _lenet(depth, suffix, channels, num_classes, im_size, **kw):
    return LeNet(channels, num_classes, im_size, **kw)


@register_family("AlexNet")
def _alexnet(depth, suffix, channels, num_classes, im_size, **kw):
    return AlexNet(channels, num_classes, im_size, **kw)


@register_family("VGG", depths=tuple(VGG_CFG), suffixes=("", "BN", "IN"))
def _vgg(depth, suffix, channels, num_classes, im_size, **kw):
    return VGG(channels, num_classes, im_size, depth=depth, norm=_NORM_SUFFIX[suffix], **kw)


@register_family("ResNet", depths=tuple(RESNET_DEPTHS), suffixes=("", "BN", "IN", "BN-tv"))
def _resnet(depth, suffix, channels, num_classes, im_size, **kw):
    if suffix == "BN-tv":
        return torchvision_resnet(channels, num_classes, im_size, depth=depth, **kw)
    return ResNet(channels, num_classes, im_size, depth=depth, norm=_NORM_SUFFIX[suffix], **kw)


TORCHVISION_MODELS = ("alexnet", "mobilenet_v2", "shufflenet_v2_x0_5", "efficientnet_b0")


def _torchvision(name: str, channels: int, num_classes: int, im_size: tuple[int, int], **kw) -> nn.Module:
    import torchvision

    if channels != 3:
        raise DDRError(f"model {name}-tv takes 3-channel images, not {channels}")
    if kw:
        raise DDRError(f"model {name}-tv takes no model_args (got {', '.join(sorted(kw))})")
    return torchvision.models.get_model(name, weights=None, num_classes=num_classes)


_NAME = re.compile(r"^(?P<family>[A-Za-z]+)(?:-(?P<depth>\d+))?(?:-(?P<suffix>BN-tv|BN|LN|NN|IN))?$")


def list_models() -> list[str]:
    """Canonical example names (every depth works for the depth-taking families)."""
    names = []
    for fam, spec in FAMILIES.items():
        depths, suffixes = spec.depths, spec.suffixes
        if fam == "ConvNet":
            names += [f"ConvNet-{d}{s}" for d in (1, 2, 3, 4, 5, 6) for s in ("", "-BN", "-LN", "-NN")]
            continue
        stems = [f"{fam}-{d}" for d in depths] if depths else [fam]
        names += [f"{stem}-{s}" if s else stem for stem in stems for s in suffixes if s != "IN"]
    return names + [f"{n}-tv" for n in TORCHVISION_MODELS]


def parse_model_name(name: str) -> tuple[str, int | None, str]:
    if name.endswith("-tv") and name[:-3] in TORCHVISION_MODELS:
        return name[:-3], None, "tv"
    m = _NAME.match(name)
    if not m or m.group("family") not in FAMILIES:
        raise unknown("model", name, list_models())
    family, suffix = m.group("family"), m.group("suffix") or ""
    depth = int(m.group("depth")) if m.group("depth") else None
    depths, suffixes = FAMILIES.get(family).depths, FAMILIES.get(family).suffixes
    depth_ok = (depths is None) or (depth is None if depths == () else depth in depths)
    if not depth_ok or suffix not in suffixes:
        raise unknown("model", name, list_models())
    return family, depth, suffix


def build_model(name: str, channels: int, num_classes: int, im_size: tuple[int, int], **kwargs: Any) -> nn.Module:
    """Build a freshly initialised network (initialisation draws from torch's global RNG: seed it first)."""
    family, depth, suffix = parse_model_name(name)
    if suffix == "tv":
        return _torchvision(family, channels, num_classes, tuple(im_size), **kwargs)
    try:
        return FAMILIES.get(family).build(depth, suffix, channels, num_classes, tuple(im_size), **kwargs)
    except TypeError as exc:
        raise DDRError(f"model {name}: bad model_args ({exc})") from None
