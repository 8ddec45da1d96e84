"""ddr registry: signed, versioned, verifiable ranking releases.

A release is a folder ``releases/<version>/`` holding a ranking (JSON, CSV, Markdown, HTML), its
provenance, the source result.json files, and ``release.dsse.json``: a DSSE envelope of an in-toto
Statement v1 whose subjects are every other file of the release, signed with Ed25519. Each release
names the sha256 of the previous release's envelope, so removal, reordering and rollback are caught.
See docs/registry.md.
"""
from __future__ import annotations

REGISTRY_SCHEMA = "ddr.release/v1"
RANKING_SCHEMA = "ddr.ranking/v1"
PROVENANCE_SCHEMA = "ddr.provenance/v1"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://ddr.dev/registry/release/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
ENVELOPE_NAME = "release.dsse.json"
