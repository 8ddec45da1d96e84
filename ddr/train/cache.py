"""A content-addressed store of finished trainings.

A training's key is the sha256 of everything that determines its numbers (data digests, model, recipe,
LR, seed, device kind, engine version). Finished trainings are stored as one JSON file each, written
atomically, so an interrupted evaluation resumes without redoing them and the real-data reference is
trained once per (data set, model, recipe) and reused.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

ENGINE_VERSION = 1  # bump when the engine changes in a way that can move a number


def training_key(spec: dict[str, Any]) -> str:
    payload = json.dumps({**spec, "engine": ENGINE_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class TrainingCache:
    def __init__(self, root: str | Path | None):
        self.root = Path(root) if root is not None else None

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        if self.root is None:
            return None
        path = self._path(key)
        try:
            return json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None  # a damaged entry is retrained, never trusted

    def put(self, key: str, record: dict[str, Any]) -> None:
        if self.root is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            json.dump(record, f)
        os.replace(tmp, path)
