"""Student and teacher networks by name.

Names follow DD-Ranking's grammar `Family[-Depth][-Norm]`: `ConvNet-3` (instance norm, DC's default),
`ConvNet-3-BN`, `ConvNet-4-LN`, `ConvNet-3-NN` (no norm), `MLP`, `LeNet`. Keyword arguments from a
protocol's `model_args` (width, act, pool) refine the family's defaults.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from torch import nn

from ddr.errors import DDRError, unknown
from ddr.models.convnet import ConvNet
from ddr.models.small import MLP, LeNet

Builder = Callable[..., nn.Module]
_FAMILIES: dict[str, Builder] = {}
_NORM_SUFFIX = {"": "instancenorm", "BN": "batchnorm", "LN": "layernorm", "NN": "none", "IN": "instancenorm"}


def register_family(name: str) -> Callable[[Builder], Builder]:
    """Register a builder `fn(depth, norm_suffix, channels, num_classes, im_size, **kwargs)` for a family."""
    def deco(fn: Builder) -> Builder:
        if name in _FAMILIES:
            raise ValueError(f"model family {name!r} already registered")
        _FAMILIES[name] = fn
        return fn
    return deco


@register_family("ConvNet")
def _convnet(depth, suffix, channels, num_classes, im_size, **kw):
    return ConvNet(channels, num_classes, im_size, depth=depth or 3, norm=_NORM_SUFFIX[suffix], **kw)


@register_family("MLP")
def _mlp(depth, suffix, channels, num_classes, im_size, **kw):
    return MLP(channels, num_classes, im_size, **kw)


@register_family("LeNet")
def _lenet(depth, suffix, channels, num_classes, im_size, **kw):
    return LeNet(channels, num_classes, im_size, **kw)


_NAME = re.compile(r"^(?P<family>[A-Za-z]+)(?:-(?P<depth>\d+))?(?:-(?P<suffix>BN|LN|NN|IN))?$")


def list_models() -> list[str]:
    """Canonical example names (every depth works for the depth-taking families)."""
    names = []
    for fam in _FAMILIES:
        if fam == "ConvNet":
            names += [f"ConvNet-{d}{s}" for d in (1, 2, 3, 4, 5, 6) for s in ("", "-BN", "-LN", "-NN")]
        else:
            names.append(fam)
    return names


def parse_model_name(name: str) -> tuple[str, int | None, str]:
    m = _NAME.match(name)
    if not m or m.group("family") not in _FAMILIES:
        raise unknown("model", name, list_models())
    depth = int(m.group("depth")) if m.group("depth") else None
    if m.group("family") != "ConvNet" and (depth is not None or m.group("suffix")):
        raise unknown("model", name, list_models())
    return m.group("family"), depth, m.group("suffix") or ""


def build_model(name: str, channels: int, num_classes: int, im_size: tuple[int, int], **kwargs: Any) -> nn.Module:
    """Build a freshly initialised network (initialisation draws from torch's global RNG: seed it first)."""
    family, depth, suffix = parse_model_name(name)
    try:
        return _FAMILIES[family](depth, suffix, channels, num_classes, tuple(im_size), **kwargs)
    except TypeError as exc:
        raise DDRError(f"model {name}: bad model_args ({exc})") from None
