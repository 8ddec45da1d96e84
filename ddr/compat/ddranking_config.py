"""`ddr protocols import`: a DD-Ranking evaluation config (`<Method>/<Dataset>/IPC<k>.yaml` on its `eval`
branch) as a named, versioned ddr protocol file.

The keys are mapped by the one mapping of DD-Ranking settings (ddr.compat.ddranking_mapping), read as
v0.2.0 read a config file: a missing key is None, refused by name where that crashed v0.2.0. The file
states the `ddr` edition; what DD-Ranking 0.2.0 computed from the config is its `ddranking-0.2` edition
(`ddr eval ... --edition ddranking-0.2`).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddr.checks import number
from ddr.compat.ddranking_mapping import map_settings
from ddr.errors import DDRError


@dataclass
class Imported:
    """A DD-Ranking config as a ddr protocol: `protocol` (the YAML mapping, self-contained, the `ddr`
    edition), what became of each key of the config (`keys`: key -> text) and the notes."""

    protocol: dict[str, Any]
    keys: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_config(path: str | Path) -> dict[str, Any]:
    """A DD-Ranking YAML config, read strictly (a key given twice is refused, as in every ddr YAML)."""
    from ddr.yaml_input import load_yaml

    p = Path(path)
    if not p.is_file():
        raise DDRError(f"no such DD-Ranking config: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DDRError(f"DD-Ranking config {p}: cannot read it ({exc.__class__.__name__})") from None
    raw = load_yaml(text, f"DD-Ranking config {p}")
    if not isinstance(raw, dict):
        raise DDRError(f"DD-Ranking config {p}: not a YAML mapping of keys")
    return raw


def import_config(config: Mapping[str, Any] | str | Path, *, name: str, version: int = 1,
                  source: str | None = None) -> Imported:
    """The ddr protocol `name`@`version` a DD-Ranking config (a YAML file or its mapping) describes. Every key
    is mapped, recorded (run inputs, keys DD-Ranking ignores) or refused by name (DDRError)."""
    if isinstance(config, (str, Path)):
        source = source or Path(config).name
        config = read_config(config)
    if not isinstance(config, Mapping):
        raise DDRError("DD-Ranking config: not a mapping of keys")
    version = number(version, "version", low=1, integer=True)
    mapped = map_settings(config)
    proto = {"name": name, "version": version,
             "description": f"Imported from the DD-Ranking config {source or 'a mapping'} ({mapped.evaluator}); "
                            "run --edition ddranking-0.2 for what DD-Ranking 0.2.0 computed from it.",
             **mapped.protocol}
    return Imported(proto, mapped.keys, mapped.notes)
