"""Derived seeds: every random draw in ddr comes from a seed that is a pure function of what it is for.

DD-Ranking v0.2.0 seeded from wall-clock time and never recorded it (reference 2.11);
here the seed is a hash of the training's identity, so the same command repeats bit for bit on CPU.
"""
from __future__ import annotations

from typing import Any

from ddr.kernel.digests import json_sha256


def derive_seed(**parts: Any) -> int:
    """A 31-bit seed from named parts, independent of their order, e.g.
    derive_seed(protocol="digits-lrs-hard@1", dataset="digits", ipc=10, role="syn", round=0, lr=0.01)."""
    return int(json_sha256(parts, compact=True)[:8], 16) & 0x7FFFFFFF  # the digest's first 4 bytes, big-endian
