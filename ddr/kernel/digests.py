"""Content digests: sha256 of bytes, files and JSON values, and the canonical JSON that is signed.

The JSON digests keep the two encodings ddr's identities were first written with (json.dumps's default
separators, and the compact ones), because a digest is part of cache keys, cell ids and seeds: changing
its encoding would move every recorded identity.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: str | Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file's bytes, read in 1 MiB chunks (md5 for DVC's digests, sha256 otherwise)."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def sha256_file(path: str | Path) -> str:
    return file_digest(path, "sha256")


def json_text(obj: Any, *, compact: bool = False) -> str:
    """Sorted-key JSON with non-JSON values as str(): the text a JSON digest hashes."""
    return json.dumps(obj, sort_keys=True, default=str, separators=(",", ":") if compact else None)


def json_sha256(obj: Any, *, compact: bool = False) -> str:
    """sha256 of `json_text(obj, compact=compact)`: the identity of a spec, protocol or cell."""
    return sha256_bytes(json_text(obj, compact=compact).encode())


def canonical_json(obj: Any) -> bytes:
    """Compact, sorted, UTF-8 JSON bytes: the payload a signature covers."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
