"""A verifier's trusted state: what it has already verified, so that going back is detectable.

Per keyring file (by absolute path) it remembers the keyring version and content digest it
accepted, the newest release (head) it verified with that release's envelope sha256, and the
counter and issue time of the newest timestamp. JSON, written atomically, default location
``$DDR_STATE`` or ``$XDG_STATE_HOME/ddr/verifier-state.json`` (``~/.local/state/...``)::

    {"schema": "ddr.verifier-state/v1",
     "keyrings": {"/abs/keys/keyring.json": {"keyring": {"version": 2, "digest": "<sha256>"},
                                             "head": {"version": "1.2.0", "envelope": "<sha256>"},
                                             "timestamp": {"counter": 7, "issued_at": "<iso>"}}}}
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from ddr.errors import DDRError
from ddr.kernel.atomic import write_text_atomic
from registry.util import check_writable, dump_json, is_semver

STATE_SCHEMA = "ddr.verifier-state/v1"


def default_state_path() -> Path:
    if os.environ.get("DDR_STATE"):
        return Path(os.environ["DDR_STATE"])
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "ddr" / "verifier-state.json"


class TrustState:
    """The state file; ``entry(keyring_path)`` is the mutable record for one keyring."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_state_path()
        self.data: dict = {"schema": STATE_SCHEMA, "keyrings": {}}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise DDRError(f"verifier state {self.path} is not valid JSON: {e}") from None
            if not isinstance(data, dict) or data.get("schema") != STATE_SCHEMA or not isinstance(data.get("keyrings"), dict):
                raise DDRError(f"verifier state {self.path} is not a {STATE_SCHEMA} file")
            for ring, entry in data["keyrings"].items():
                _check_entry(entry, f"verifier state {self.path}: the entry of keyring {ring}")
            self.data = data
        check_writable(self.path, "verifier state")

    @staticmethod
    def key(keyring_path: str | Path) -> str:
        return str(Path(keyring_path).resolve())

    def entry(self, keyring_path: str | Path) -> dict:
        return dict(self.data["keyrings"].get(self.key(keyring_path), {}))

    def update(self, keyring_path: str | Path, entry: dict) -> None:
        """Record the entry and write the file atomically (a crash leaves the old state)."""
        self.data["keyrings"][self.key(keyring_path)] = entry
        try:
            write_text_atomic(self.path, dump_json(self.data))
        except OSError as e:
            raise DDRError(f"verifier state {self.path}: cannot write it ({e.strerror})") from None


def _check_entry(entry: object, where: str) -> None:
    """A state entry read back must have the shape this module writes; anything else is a damaged file."""
    shapes = {"keyring": {"version": int, "digest": str}, "head": {"version": str, "envelope": str},
              "timestamp": {"counter": int, "issued_at": str, "expires": str}}
    if not isinstance(entry, dict):
        raise DDRError(f"{where} is not a mapping")
    for part, fields in shapes.items():
        value = entry.get(part)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise DDRError(f"{where}: '{part}' is not a mapping")
        for name, kind in fields.items():
            v = value.get(name)
            if v is not None and (not isinstance(v, kind) or isinstance(v, bool)):
                raise DDRError(f"{where}: '{part}.{name}' is not a {kind.__name__}")
    version = (entry.get("head") or {}).get("version")
    if version is not None and not is_semver(version):
        raise DDRError(f"{where}: 'head.version' {version!r} is not a semantic version")
