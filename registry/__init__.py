"""ddr registry: signed, versioned, verifiable ranking releases.

A release is a folder ``releases/<version>/`` holding a ranking (JSON, CSV, Markdown, HTML), its
provenance, the source result.json files, and ``release.dsse.json``: a DSSE envelope of an in-toto
Statement v1 whose subjects are every other file of the release, signed with Ed25519. Each release
names the sha256 of the previous release's envelope, so removal, reordering and rollback are caught;
a signed timestamp, a verifier's trusted state and signed keyring updates add freshness, rollback and
keyring-swap protection. See docs/registry.md.
"""
from __future__ import annotations

REGISTRY_SCHEMA = "ddr.release/v1"
REGISTRY_SCHEMA_V2 = "ddr.release/v2"
# ranking.json v2 adds, per table, `unpaired_reason` (why rounds were not paired) and, per row, `same_set_as`
# (other methods of the table that are the same set); v3 renames `bootstrap` {resamples, ...} to
# `posterior_draws` {draws, ...}: it holds Student-t posterior draws. Older rankings still read
# (registry/ranking_record.py upgrade). Provenance v2 carries `posterior_draws` for v1's `bootstrap` likewise.
RANKING_SCHEMA = "ddr.ranking/v3"
PROVENANCE_SCHEMA = "ddr.provenance/v2"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://ddr.dev/registry/release/v1"
# Release format 2: same statement as format 1, but the registry also carries a signed timestamp
# (timestamp.dsse.json) that a verifier then requires, and index.html checks its own signed ranking.
PREDICATE_TYPE_V2 = "https://ddr.dev/registry/release/v2"
RELEASE_PREDICATE_TYPES = (PREDICATE_TYPE, PREDICATE_TYPE_V2)
TIMESTAMP_PREDICATE_TYPE = "https://ddr.dev/registry/timestamp/v1"
KEYRING_PREDICATE_TYPE = "https://ddr.dev/registry/keyring/v1"
PAGE_PREDICATE_TYPE = "https://ddr.dev/registry/page/v1"  # page format 1: rank, method, mean checked
# page format 2: the page also signs what it shows (registry/page/self_check.py page_view) and compares it all
PAGE_PREDICATE_TYPE_V2 = "https://ddr.dev/registry/page/v2"
REPRODUCTION_PREDICATE_TYPE = "https://ddr.dev/registry/reproduction/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
ENVELOPE_NAME = "release.dsse.json"
TIMESTAMP_NAME = "timestamp.dsse.json"  # in the releases folder, beside the release folders
ATTESTATIONS_DIR = "attestations"  # releases/attestations/<version>/*.dsse.json, outside any signed subject
