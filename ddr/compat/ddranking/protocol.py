"""An evaluator's settings -> its ddr protocol: the one mapping of DD-Ranking settings
(ddr.compat.ddranking_mapping) with the evaluator's keyword defaults, named by a digest of what it trains,
so the same settings give the same name (and seeds, and cache hits) from a script or from
`ddr.evaluate(protocol=<its file>)`.
"""
from __future__ import annotations

from typing import Any

from ddr.compat.ddranking.keys import DEFAULTS
from ddr.compat.ddranking_mapping import Mapped, map_settings
from ddr.kernel.digests import json_sha256
from ddr.protocols import parse_protocol


def build_protocol(evaluator: str, given: dict[str, Any]) -> Mapped:
    """The ddr protocol of evaluator class `evaluator` with the keywords (or Config keys) `given`."""
    return map_settings(given, evaluator=evaluator, defaults=DEFAULTS[evaluator])


def named(mapped: Mapped) -> dict[str, Any]:
    """The protocol YAML mapping, named by a digest of everything it trains, checked as ddr checks any protocol."""
    raw = dict(mapped.protocol)
    digest = json_sha256(raw)[:10]
    out = {"name": f"ddranking-{mapped.kind}-{mapped.label}-{raw['dataset']}-{digest}", "version": 1,
           "description": f"DD-Ranking {mapped.evaluator} ({mapped.label} labels) settings, mapped by "
                          "ddr.compat.ddranking", **raw}
    parse_protocol(out, out["name"])
    return out
