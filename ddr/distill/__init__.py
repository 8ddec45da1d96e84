"""Reference distillers: each returns a DistilledSet (class-major, normalised pixel space, hard labels)
with meta.json-ready `meta`, and is a pure function of (data set, ipc, seed, params) on CPU."""
from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ddr.data.distilled import DistilledSet
from ddr.data.random_baseline import random_baseline
from ddr.data.real_data import RealData
from ddr.distill.common import Device
from ddr.distill.dc import dc
from ddr.distill.dm import dm
from ddr.distill.herding import herding
from ddr.distill.kcenter import kcenter
from ddr.errors import DDRError
from ddr.kernel.registry import Registry


def random_selection(data: RealData, ipc: int, *, seed: int = 0, device: Device = None) -> DistilledSet:
    """The random baseline (ddr.data.random_baseline) under the distiller signature; method 'random'."""
    return random_baseline(data, ipc, seed)


Distiller = Callable[..., DistilledSet]
# A distiller's tunable parameters are its keyword-only arguments (distiller_params reads its signature).
DISTILLERS: Registry[Distiller] = Registry("distillation method")
for _name, _distiller in (("random", random_selection), ("herding", herding), ("kcenter", kcenter), ("dm", dm),
                          ("dc", dc)):
    DISTILLERS.register(_name, _distiller)


def distiller_params(method: str) -> dict[str, Any]:
    """The tunable parameters of a method and their defaults (None: chosen from data set and ipc)."""
    sig = inspect.signature(DISTILLERS.get(method))
    return {n: p.default for n, p in sig.parameters.items()
            if p.kind is p.KEYWORD_ONLY and n not in ("seed", "device", "features")}


def distill(method: str, data: RealData, ipc: int, seed: int = 0, device: Device = None, **params: Any) -> DistilledSet:
    """Run a registered distiller; unknown methods and parameters are refused with the valid ones named."""
    valid = distiller_params(method)
    bad = sorted(set(params) - set(valid))
    if bad:
        raise DDRError(f"{method}: unknown parameter {', '.join(repr(b) for b in bad)}; "
                       f"valid: {', '.join(valid) or '(none)'}")
    from ddr.data.streaming import StreamedData

    if isinstance(data, StreamedData) and method != "random":  # the distillers read the whole split at once
        raise DDRError(f"{method}: {data.name} is streamed from its files (above DDR_MAX_DATA_BYTES); the "
                       f"distillers need the training split in memory: raise the limit or use a smaller im_size")
    return DISTILLERS.get(method)(data, ipc, seed=seed, device=device, **params)


__all__ = ["DISTILLERS", "dc", "distill", "distiller_params", "dm", "herding", "kcenter", "random_selection"]
