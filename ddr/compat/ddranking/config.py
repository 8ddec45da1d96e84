"""DD-Ranking's `Config`: the evaluator settings of one YAML file (or a dict), read with `.get(key)`.

Unlike DD-Ranking 0.2.0, a missing key is not turned into None for the evaluator: an evaluator built from a
Config takes its own keyword default for every key the Config lacks (DD-Ranking's None crashed for several
keys, reference 6.6). Transforms stay data (a list of {name, args}); the evaluator maps them.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ddr.errors import DDRError


class Config:
    """`Config.from_file("IPC10.yaml")`, `Config({"dataset": "CIFAR10", ...})` or `Config("IPC10.yaml")`."""

    def __init__(self, config: Mapping[str, Any] | str | Path | None = None, *,
                 config_path: str | Path | None = None) -> None:
        if config is not None and config_path is not None:
            raise DDRError("Config: pass a mapping or a config_path, not both")
        if config_path is not None or isinstance(config, (str, Path)):
            config = _read_yaml(Path(config_path if config_path is not None else config))  # type: ignore[arg-type]
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise DDRError(f"Config: expected a mapping of DD-Ranking keys, got {type(config).__name__}")
        for key in config:
            if not isinstance(key, str):
                raise DDRError(f"Config: key {key!r} is not a string")
        self.config: dict[str, Any] = dict(config)

    @classmethod
    def from_file(cls, filepath: str | Path) -> Config:
        return cls(_read_yaml(Path(filepath)))

    def get(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    def keys(self) -> list[str]:
        return list(self.config)

    def __contains__(self, key: object) -> bool:
        return key in self.config

    def __iter__(self) -> Iterator[str]:
        return iter(self.config)

    def __repr__(self) -> str:
        return f"Config({self.config!r})"


def _read_yaml(path: Path) -> dict[str, Any]:
    from ddr.compat.ddranking_config import read_config  # the one reader of DD-Ranking config files

    return read_config(path)
