"""A content-addressed store of finished trainings.

A training's key is the sha256 of everything that determines its numbers (data digests, model, recipe,
LR, seed, device kind, engine version). Finished trainings are stored as one JSON file each, written
atomically, so an interrupted evaluation resumes without redoing them and the real-data reference is
trained once per (data set, model, recipe) and reused.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ddr.kernel.atomic import write_text_atomic
from ddr.kernel.digests import json_sha256
from ddr.train.cache_entry import seal, unseal

ENGINE_VERSION = 1  # bump when the engine changes in a way that can move a number


def training_key(spec: dict[str, Any]) -> str:
    return json_sha256({**spec, "engine": ENGINE_VERSION})


class TrainingCache:
    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root is not None else None

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The record stored under `key`, or None when there is none or it is damaged (wrong shape, a
        non-finite number, another key's entry, a record edited by hand): such an entry is retrained."""
        if self.root is None:
            return None
        path = self._path(key)
        try:
            entry = json.loads(path.read_text())
        except (FileNotFoundError, NotADirectoryError):
            return None
        except (OSError, ValueError):  # a directory, unreadable, bad JSON or bad UTF-8
            return None
        return unseal(entry, key)

    def put(self, key: str, record: dict[str, Any]) -> None:
        if self.root is None:
            return
        path = self._path(key)
        if path.is_dir() and not path.is_symlink():  # a damaged entry that is a folder: replace it too
            shutil.rmtree(path, ignore_errors=True)
        write_text_atomic(path, json.dumps(seal(record, key)))
