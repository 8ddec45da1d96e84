"""Content digests that match DVC's, so MLflow inputs, result.json and dvc.lock name data the same way."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ddr.kernel.digests import file_digest


def file_md5(path: Path) -> str:
    return file_digest(path, "md5")


def dvc_md5(path: str | Path) -> str:
    """DVC 3's md5 of a file, or of a directory ('<md5>.dir': the md5 of the sorted JSON list of
    {md5, relpath} entries, exactly as dvc-data's Tree.digest builds it)."""
    path = Path(path)
    if path.is_file():
        return file_md5(path)
    entries = [
        {"md5": file_md5(p), "relpath": p.relative_to(path).as_posix()}
        for p in path.rglob("*")
        if p.is_file()
    ]
    entries.sort(key=lambda e: e["relpath"])
    return hashlib.md5(json.dumps(entries, sort_keys=True).encode("utf-8")).hexdigest() + ".dir"


def tensor_sha256(*tensors, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    for t in tensors:
        if t is None:
            h.update(b"none")
            continue
        h.update(str(tuple(t.shape)).encode() + str(t.dtype).encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def tensors_sha256(*tensors) -> str:
    """sha256 over each tensor's shape and bytes (not its dtype): a real data set's or split's identity."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(str(tuple(t.shape)).encode())
        h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()
